//! Fuzz bodies, shared by `fuzz/` targets, tests and the corpus replay test. Hidden: not an API.

pub mod http;
pub mod line;
