//! # portline-core
//!
//! Sans-IO protocol state machines for portline: bytes in, events out, time passed in.
//!
//! Nothing in this crate touches the outside world. It never reads a clock, opens a socket or a
//! file, or spawns a thread; a frontend (blocking, event loop or async) does that and drives the
//! core through four kinds of method (quinn-proto's habit):
//!
//! * **inputs** (`receive(now, bytes)`, `receive_eof(now)`, `handle_timeout(now)`) hand the core
//!   what happened;
//! * **outputs** (`poll_event()`, `poll_timeout()`) say what the core made of it. After any input,
//!   drain `poll_event` until it returns something other than an event: [`http::Progress::NeedData`]
//!   (read more), [`http::Progress::Paused`] (send the current response first) or
//!   [`http::Progress::Closed`] (flush and close). Then arm a timer for `poll_timeout`;
//! * **commands** (`send_response`, `send_data`, `send_end`, ...) append bytes to a buffer the
//!   caller owns and writes to the socket;
//! * **getters** (`wants_read`, `is_closed`, ...) answer questions.
//!
//! Time is a [`Time`] on a clock whose origin the caller chooses, so tests run timeouts without
//! waiting. Errors are typed ([`http::Error`]): who is at fault, and for a peer's bad bytes the
//! status a server should answer with. A failed connection stays failed.
//!
//! Events own their data as [`bytes::Bytes`] slices of the receive buffer: a header name, a value
//! or a piece of body is never copied on the way out (`portline_core::bytes` re-exports the
//! crate). `poll_borrowed` gives the same events borrowing the buffer instead, with no
//! allocation and no reference count per message.
//!
//! ## Example: a server connection answers one request
//!
//! ```
//! use portline_core::Time;
//! use portline_core::http::{BodyLength, Config, Connection, Event, Progress, Response, Role};
//!
//! let now = Time::ZERO;
//! let mut conn = Connection::new(Role::Server, Config::default(), now);
//! conn.receive(now, b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
//!
//! let Ok(Progress::Event(Event::Request(req))) = conn.poll_event() else { panic!("no request") };
//! assert_eq!(&req.target[..], b"/hello");
//! assert!(req.keep_alive);
//! assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
//! // The next pipelined request waits until this response is sent.
//! assert_eq!(conn.poll_event(), Ok(Progress::Paused));
//!
//! let mut out = Vec::new();
//! let response = Response {
//!     status: 200,
//!     reason: "OK",
//!     headers: &[("Content-Type", b"text/plain")],
//!     body: BodyLength::Known(5),
//! };
//! conn.send_response(now, &response, &mut out).unwrap();
//! conn.send_data(now, b"hello", &mut out).unwrap();
//! conn.send_end(now).unwrap();
//! assert_eq!(
//!     out,
//!     b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\
//!       Connection: keep-alive\r\n\r\nhello"
//! );
//!
//! // Kept alive: the connection waits for the next request, and closes after 5 idle seconds.
//! assert_eq!(conn.poll_event(), Ok(Progress::NeedData));
//! let deadline = conn.poll_timeout().unwrap();
//! conn.handle_timeout(deadline);
//! assert_eq!(conn.poll_event(), Ok(Progress::Closed));
//! ```
//!
//! ## The loop, shown: examples to read in order
//!
//! They ship in the crate's `examples/` folder. Each runs as it stands (`cargo run -p
//! portline-core --example NAME -- 127.0.0.1:8080`), and the workspace's tests
//! (`tests/tests/examples.rs`) run each against a short script:
//!
//! 1. `examples/std_server.rs`: a blocking HTTP server over `std::net` driving
//!    [`http::Connection`] directly, in about 60 lines: read, `receive`, drain `poll_event`,
//!    answer, write, and the timer from `poll_timeout` (with the zero-timeout pitfall below).
//! 2. `examples/std_client.rs`: the client role: send a request, read the response.
//! 3. `examples/line_server.rs`: the line protocol: a [`line::Codec`] per connection.
//! 4. `examples/tokio-server/` in the repository: the same server on tokio, a runtime none of
//!    portline's own frontends use.
//!
//! **The zero-timeout pitfall.** `poll_timeout` may return a deadline that is already due (the
//! caller was slow, or time is coarse). `deadline.saturating_duration_since(now)` is then
//! `Duration::ZERO`, and `TcpStream::set_read_timeout(Some(Duration::ZERO))` is an error
//! (`InvalidInput`: std reserves zero). Call `handle_timeout(now)` at once instead of reading, as
//! the std example does; timer APIs that take an instant (tokio's `sleep_until`, mio's poll
//! timeout) accept a past deadline and need no special case.
//!
//! ## Modules
//!
//! * [`http`]: HTTP/1.0 (accepting HTTP/1.1 syntax), one [`http::Connection`] for both roles.
//! * [`line`](mod@line): the line protocol: a [`line::Codec`] (with a telnet layer) and the echo, discard,
//!   daytime, chargen and info services for TCP and UDP.
//! * [`inspect`]: run a connection over raw bytes and report its events (the `parse` tool).
//! * [`services`]: the `/etc/services` table (parser, built-in table, getservby* lookups).
//! * [`addr`]: `HOST:PORT` and `http://` URL descriptions (no DNS).
//!
//! ## Features
//!
//! * `http` (off by default): `http::interop`, conversions between the heads and the
//!   [`http`](https://docs.rs/http) crate's `Request<()>`/`Response<()>`, and from `http`
//!   messages to what `send_response`/`send_request` take. A `HeaderMap` loses the order of the
//!   fields, so the raw events stay the primary API.
//!
//! No other feature is public (`_fuzz` is the fuzz targets' and tests' own).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod addr;
#[cfg(feature = "_fuzz")]
#[doc(hidden)]
pub mod fuzz;
pub mod http;
pub mod inspect;
pub mod line;
pub mod services;
mod time;

pub use time::Time;

/// The crate's README, run as a doctest so that its example cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctest;

/// The `bytes` crate the events are made of ([`bytes::Bytes`] in [`http::Event::Data`], the
/// heads' fields and [`line::LineEvent::Line`]), re-exported so that an embedder's version
/// always matches.
pub use bytes;
