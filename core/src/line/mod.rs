//! The line protocol (LINE.md): a codec, a telnet layer under it, and the classic line services
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
