//! The command line, `main`, the tools that need no runtime, and the messages on stderr.

pub mod addr;
pub mod app;
pub mod args;
pub mod message;
pub mod meta;
pub mod tools;
