//! The line protocol (docs/LINE.md): a codec, a telnet layer under it, and the classic line services
//! as pure state machines.
//!
//! - [`Codec`]: LF or CRLF framing with a length limit; [`LineEvent`]s out. Optionally runs the
//!   [`Telnet`] filter underneath ([`TelnetMode`]).
//! - Services (`echo`, `discard`, `daytime`, `chargen`, `info`): [`TcpService`] for a stream,
//!   [`UdpService`] for datagrams. What they need from the world (host name and addresses, the
//!   services table) comes in a [`World`]; wall-clock time is an argument.
//!
//! Like the HTTP connection, nothing here does I/O: `receive` bytes in, `poll_*` events and bytes
//! to write out. After any input, drain every `poll_*` until it is empty.
//!
//! ## Which codec calls to use
//!
//! All of them give the same events for the same bytes, however the input is split (property
//! tests and the fuzz bodies check it); they differ in what is copied and who owns the lines:
//!
//! | input | output | lines are | cost per line |
//! |---|---|---|---|
//! | [`Codec::receive`] | [`Codec::poll_event`] | owned [`bytes::Bytes`] of the codec's buffer | a copy of the read, a reference count |
//! | [`Codec::receive_bytes`] | [`Codec::poll_event`] | owned slices of the caller's `Bytes` | a reference count |
//! | [`Codec::receive`] | [`Codec::poll_borrowed`] | borrowed until the next call | a copy of the read |
//! | [`Codec::receive_with`] | a callback | borrowed from the read itself | nothing |
//!
//! `benches/RESULTS.md` has the figures. The services use `poll_borrowed`: they turn every line
//! into a reply at once.
//!
//! ## Example: the info service over TCP
//!
//! ```
//! use std::sync::Arc;
//! use std::time::SystemTime;
//! use portline_core::line::{Config, ServiceKind, TcpService, World};
//! use portline_core::services::Services;
//!
//! let world = Arc::new(World {
//!     hostname: "box".into(),
//!     addresses: vec!["192.0.2.1".parse().unwrap()],
//!     services: Services::builtin(),
//! });
//! let wall = SystemTime::UNIX_EPOCH;
//! let mut session = TcpService::new(ServiceKind::Info, world, Config::default());
//! session.on_connect(wall);
//! session.receive(wall, b"SERVICE 22\r\nQUIT\r\n");
//! let mut out = Vec::new();
//! session.poll_transmit(&mut out, 64 * 1024);
//! assert_eq!(out, b"220 box portline info service ready\r\n250 ssh\r\n221 bye\r\n");
//! assert!(session.is_done());
//! ```

mod codec;
mod info;
mod service;
pub mod telnet;

pub use codec::{Codec, Config, DEFAULT_MAX_LINE, LineEvent, TelnetMode, encode_line};
pub use service::{
    MAX_PENDING, ServiceKind, TcpService, UDP_REFUSED_PORTS, UdpConfig, UdpService, UnknownService,
    World, daytime_text,
};
pub use telnet::Telnet;
