//! The app layer every portline frontend shares: the command line, the file server, the GET
//! client, the line services wiring, and the tools (services, info, netstat, parse).
//!
//! A frontend implements [`Runtime`] (sockets and a loop) and its `main` is
//! `std::process::exit(portline_common::main(MyRuntime))`. Everything a runtime drives is a
//! [`Session`] (one TCP connection) made by a [`SessionFactory`], or a [`DatagramService`]:
//!
//! - [`http_server`]: the file server (paths mapped by [`files`], access log by [`log`]);
//! - [`echo`]: `serve http --echo`, which answers every request with what the core parsed;
//! - [`get`]: the HTTP client of `get`;
//! - [`line_service`]: the line services;
//! - [`bench`](mod@bench): the HTTP load generator of `bench`;
//! - [`tls`]: TLS for any of them (HTTPS, `serve line --tls`, `connect --tls`), a session
//!   wrapped around a session, so that no runtime needs code of its own for it;
//! - [`tools`]: `services`, `info`, `netstat`, `parse`, which need no runtime;
//! - [`meta`]: `--version`, `completions` and `manpage`;
//! - [`message`]: the one format of every error, warning and note on stderr.
//!
//! A runtime only moves bytes. Here a test plays the runtime for one file-server connection,
//! in memory:
//!
//! ```
//! use std::time::Instant;
//! use portline_common::http_server::{FileServer, FileServerOptions};
//! use portline_common::{Session, SessionFactory, TRANSMIT_BUDGET};
//!
//! let root = tempfile::tempdir().unwrap();
//! std::fs::write(root.path().join("hello.txt"), "hello\n").unwrap();
//! let mut options = FileServerOptions::new(root.path().into());
//! options.quiet = true;
//! let server = FileServer::new(options).unwrap();
//!
//! let (peer, local) = ("127.0.0.1:5000".parse().unwrap(), "127.0.0.1:8080".parse().unwrap());
//! let mut session = server.session(Instant::now(), peer, local);
//! session.receive(Instant::now(), b"GET /hello.txt HTTP/1.0\r\n\r\n"); // bytes read
//! let mut out = Vec::new();
//! session.poll_transmit(Instant::now(), &mut out, TRANSMIT_BUDGET); // bytes to write
//! assert!(out.starts_with(b"HTTP/1.0 200 OK\r\n"));
//! assert!(out.ends_with(b"\r\n\r\nhello\n"));
//! assert!(session.is_done()); // HTTP/1.0 without keep-alive: close once written
//! ```

pub mod addr;
pub mod admission;
pub mod app;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod connect;
pub mod echo;
pub mod fdlimit;
pub mod files;
pub mod get;
pub mod http_server;
pub mod line_service;
pub mod listen;
pub mod log;
pub mod message;
pub mod meta;
pub mod policy;
pub mod runtime;
pub mod session;
pub mod shutdown;
pub mod tls;
pub mod tools;

pub use app::{main, main_from, ready_line};
pub use runtime::{ClientError, Runtime, ServerOptions};
pub use session::{DatagramService, FileRange, Session, SessionFactory, TRANSMIT_BUDGET};
pub use shutdown::Shutdown;
