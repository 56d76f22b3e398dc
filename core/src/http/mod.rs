//! HTTP/1.0 (tolerating HTTP/1.1 syntax) as a sans-IO connection state machine.
//!
//! One [`Connection`] type serves both roles ([`Role::Server`] and [`Role::Client`]). The rule for
//! callers (quinn-proto's): after any input (`receive`, `receive_eof`, `handle_timeout`, a
//! `send_*` command), drain [`Connection::poll_event`] until it returns something other than
//! [`Progress::Event`], then write what the `send_*` calls appended to your output buffer, then arm a
//! timer for [`Connection::poll_timeout`].

mod chunked;
mod config;
mod conn;
mod date;
mod error;
mod event;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod interop;
mod parse;
mod recv;
mod scan;
mod state;
mod write;

pub use config::{Config, Leniency, Limits};
pub use conn::{Connection, Parked};
pub use date::DateCache;
pub use error::{Error, ErrorKind, Fault};
pub use event::{
    Event, EventRef, Headers, HeadersRef, Progress, RequestHead, RequestRef, ResponseHead,
    ResponseRef, Version,
};
pub use state::Role;

/// For the grammar-agreement fuzz body (`fuzz::http::grammars`): both head grammars.
#[cfg(feature = "_fuzz")]
pub(crate) use parse::{HeadParser, ResponseOutcome, Rules, StartLine, parse_response, unfold};
pub use write::{BodyLength, Request, Response, canonical_reason};
