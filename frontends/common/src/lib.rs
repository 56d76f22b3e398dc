//! What every portline frontend shares, in three parts:
//!
//! - [`driver`]: the contract between a runtime and everything it drives. A frontend implements
//!   [`Runtime`] (sockets and a loop) and moves bytes for [`Session`]s (one TCP connection each,
//!   made by a [`SessionFactory`]) and [`DatagramService`]s; the policy every driver applies
//!   (timeouts, linger, admission when full, the connection limit, listening, shutdown) is
//!   written there once.
//! - [`apps`]: what the sessions do: the file server ([`apps::http_server`], with
//!   [`apps::files`] and the access log [`apps::log`]), `serve http --echo` ([`apps::echo`]),
//!   the `get` client ([`apps::get`]), the line services ([`apps::line_service`]), the
//!   interactive client ([`apps::connect`]), the load generator ([`apps::bench`]), and TLS for
//!   any of them ([`apps::tls`], a session wrapped around a session, so that no runtime needs
//!   code of its own for it).
//! - [`cli`]: the command line ([`cli::args`]) and `main` ([`cli::app`]), the tools that need
//!   no runtime (`services`, `info`, `netstat`, `parse`: [`cli::tools`]), `--version`,
//!   `completions` and `manpage` ([`cli::meta`]), and the one format of every error, warning
//!   and note on stderr ([`cli::message`]).
//!
//! A frontend's `main` is `std::process::exit(portline_common::main(MyRuntime))`.
//!
//! A runtime only moves bytes. Here a test plays the runtime for one file-server connection,
//! in memory:
//!
//! ```
//! use std::time::Instant;
//! use portline_common::apps::http_server::{FileServer, FileServerOptions};
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

pub mod apps;
pub mod cli;
pub mod driver;

pub use cli::app::{main, main_from, ready_line};
pub use driver::runtime::{ClientError, Runtime, ServerOptions, SocketFailure};
pub use driver::session::{DatagramService, FileRange, Session, SessionFactory, TRANSMIT_BUDGET};
pub use driver::shutdown::Shutdown;
