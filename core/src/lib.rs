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
//!   drain `poll_event` until it returns something other than an event: [`http::Poll::NeedData`]
//!   (read more), [`http::Poll::Paused`] (send the current response first) or
//!   [`http::Poll::Closed`] (flush and close). Then arm a timer for `poll_timeout`;
//! * **commands** (`send_response`, `send_data`, `send_end`, ...) append bytes to a buffer the
//!   caller owns and writes to the socket;
//! * **getters** (`wants_read`, `is_closed`, ...) answer questions.
//!
//! Time is a [`Time`] on a clock whose origin the caller chooses, so tests run timeouts without
//! waiting. Errors are typed ([`http::Error`]): who is at fault, and for a peer's bad bytes the
//! status a server should answer with. A failed connection stays failed.
//!
//! Events own their data as [`bytes::Bytes`] slices of the receive buffer: a header name, a value
//! or a piece of body is never copied on the way out.
//!
//! ## Example: a server connection answers one request
//!
//! ```
//! use portline_core::Time;
//! use portline_core::http::{BodyLength, Config, Connection, Event, Poll, Response, Role};
//!
//! let now = Time::ZERO;
//! let mut conn = Connection::new(Role::Server, Config::default(), now);
//! conn.receive(now, b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
//!
//! let Ok(Poll::Event(Event::Request(req))) = conn.poll_event() else { panic!("no request") };
//! assert_eq!(&req.target[..], b"/hello");
//! assert!(req.keep_alive);
//! assert_eq!(conn.poll_event(), Ok(Poll::Event(Event::EndOfMessage)));
//! // The next pipelined request waits until this response is sent.
//! assert_eq!(conn.poll_event(), Ok(Poll::Paused));
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
//! conn.send_end(now, &mut out).unwrap();
//! assert_eq!(
//!     out,
//!     b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\
//!       Connection: keep-alive\r\n\r\nhello"
//! );
//!
//! // Kept alive: the connection waits for the next request, and closes after 5 idle seconds.
//! assert_eq!(conn.poll_event(), Ok(Poll::NeedData));
//! let deadline = conn.poll_timeout().unwrap();
//! conn.handle_timeout(deadline);
//! assert_eq!(conn.poll_event(), Ok(Poll::Closed));
//! ```
//!
//! ## Modules
//!
//! * [`http`]: HTTP/1.0 (accepting HTTP/1.1 syntax), one [`http::Connection`] for both roles.
//! * [`line`](mod@line): the line protocol: a [`line::Codec`] (with a telnet layer) and the echo, discard,
//!   daytime, chargen and info services for TCP and UDP.
//! * [`inspect`]: run a connection over raw bytes and report its events (the `parse` tool).
//! * [`services`]: the `/etc/services` table (parser, built-in table, getservby* lookups).
//! * [`addr`]: `HOST:PORT` and `http://` URL descriptions (no DNS).
#![deny(missing_docs)]

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
