//! # portline-core
//!
//! Sans-IO protocol state machines (model and runnable example: to be written with the HTTP core).
#![deny(missing_docs)]

pub mod http;
pub mod line;
pub mod services;
mod time;

pub use time::Time;
