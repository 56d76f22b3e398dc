//! TLS (HTTPS, `serve line --tls`, `connect --tls`) as one sans-IO layer over rustls.
//!
//! A [`TlsSession`] is a [`Session`](crate::Session) wrapped around another one: the driver
//! gives it ciphertext and takes ciphertext, the inner session sees plaintext. rustls works on
//! in-memory buffers only (`read_tls` from a slice, `write_tls` into a `Vec`), so the three
//! drivers run TLS connections with the loop they already have and no line of their own.
//!
//! - [`layer`]: the session wrapper;
//! - [`client`]: trust anchors (bundled Mozilla roots, the system store, `--cacert`), `-k`,
//!   and the `-v` description of a handshake;
//! - [`server`]: certificate and key files or a self-signed pair, and [`TlsFactory`], which
//!   wraps any session factory;
//! - [`failure`]: why a handshake failed, in words, and its exit status (10 or 11).
//!
//! The crypto provider is `ring`: it builds with a C compiler alone.
//!
//! A client and a server layer talking in memory, no sockets:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//! use portline_common::apps::tls::{client, server, TlsSession};
//! use portline_common::{Session, TRANSMIT_BUDGET};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let cert = server::ServerCert::SelfSigned(dir.path().join("cert.pem"));
//! let server_config = server::server_config(&cert, &[]).unwrap();
//! let client_config = client::client_config(&client::ClientTlsOptions {
//!     cacert: vec![dir.path().join("cert.pem")],
//!     ..Default::default()
//! })
//! .unwrap();
//!
//! // The inner sessions: anything that implements Session; here a byte collector each.
//! # struct Bytes { got: Vec<u8>, send: Vec<u8> }
//! # impl Session for Bytes {
//! #     fn receive(&mut self, _: Instant, d: &[u8]) { self.got.extend_from_slice(d) }
//! #     fn receive_eof(&mut self, _: Instant) {}
//! #     fn handle_timeout(&mut self, _: Instant) {}
//! #     fn poll_transmit(&mut self, _: Instant, out: &mut Vec<u8>, _: usize) { out.append(&mut self.send) }
//! #     fn poll_timeout(&self) -> Option<Instant> { None }
//! #     fn wants_read(&self) -> bool { true }
//! #     fn is_done(&self) -> bool { false }
//! # }
//! let now = Instant::now();
//! let hello = Bytes { got: vec![], send: b"hello".to_vec() };
//! let mut c = client::session(&client_config, "localhost", hello, false).unwrap();
//! let conn = rustls::ServerConnection::new(server_config).unwrap();
//! let make = |_| Bytes { got: vec![], send: vec![] };
//! let mut s = TlsSession::server(now, conn, make, Duration::from_secs(10), None);
//! for _ in 0..4 {
//!     let mut wire = Vec::new();
//!     c.poll_transmit(now, &mut wire, TRANSMIT_BUDGET);
//!     s.receive(now, &wire);
//!     wire.clear();
//!     s.poll_transmit(now, &mut wire, TRANSMIT_BUDGET);
//!     c.receive(now, &wire);
//! }
//! assert!(c.failure().is_none() && c.is_established());
//! assert_eq!(s.inner().unwrap().got, b"hello");
//! ```

pub mod cli;
pub mod client;
pub mod connect;
pub mod failure;
pub mod layer;
pub mod server;

pub use failure::{TlsFailure, TlsFailureKind};
pub use layer::TlsSession;
pub use server::TlsFactory;
