//! The app layer every portline frontend shares: the command line, the file server, the GET
//! client, the line services wiring, and the tools (services, info, netstat, parse).
//!
//! A frontend implements [`Runtime`] (sockets and a loop) and its `main` is
//! `std::process::exit(portline_common::main(MyRuntime))`. Everything a runtime drives is a
//! [`Session`] (one TCP connection) made by a [`SessionFactory`], or a [`DatagramService`]:
//!
//! - [`http_server`]: the file server (paths mapped by [`files`], access log by [`log`]);
//! - [`get`]: the HTTP client of `get`;
//! - [`line_service`]: the line services;
//! - [`tools`]: `services`, `info`, `netstat`, `parse`, which need no runtime.

pub mod addr;
pub mod app;
pub mod cli;
pub mod clock;
pub mod files;
pub mod get;
pub mod http_server;
pub mod line_service;
pub mod log;
pub mod runtime;
pub mod session;
pub mod shutdown;
pub mod tools;

pub use app::{main, main_from, ready_line};
pub use runtime::{ClientError, Runtime, ServerOptions};
pub use session::{DatagramService, Session, SessionFactory, TRANSMIT_BUDGET};
pub use shutdown::Shutdown;
