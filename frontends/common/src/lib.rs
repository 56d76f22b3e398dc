//! The app layer every portline frontend shares: the command line, the file server, the GET
//! client, the line services wiring, and the tools (services, info, netstat, parse).
//!
//! A frontend implements [`Runtime`] (sockets and a loop) and its `main` is
//! `std::process::exit(portline_common::main(MyRuntime))`.

pub mod runtime;
pub mod session;
pub mod shutdown;

pub use runtime::{ClientError, Runtime, ServerOptions};
pub use session::{DatagramService, Session, SessionFactory, TRANSMIT_BUDGET};
pub mod line_service;
pub mod tools;
