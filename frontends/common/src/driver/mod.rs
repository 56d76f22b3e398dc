//! The contract between a runtime and what it drives: [`session::Session`], [`runtime::Runtime`],
//! and the connection policy every driver applies, written once.

pub mod admission;
pub mod clock;
pub mod dial;
pub mod fdlimit;
pub mod listen;
pub mod policy;
pub mod runtime;
pub mod session;
pub mod shutdown;
