//! Fuzz bodies, shared by `fuzz/` targets, tests and the corpus replay test. Hidden: not an API.

pub mod differential;
pub mod http;
pub mod line;
pub mod smuggle;
