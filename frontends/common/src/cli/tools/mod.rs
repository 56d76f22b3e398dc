//! Tools that need no runtime: they read tables and the system, print, and exit.

pub mod info;
pub mod netstat;
pub mod parse;
pub mod services;
pub(crate) mod table;
