//! How every driver treats a connection: the numbers, written once.
//!
//! The three drivers (std, mio, smol) differ only in how they wait; what they wait *for* and how
//! long is decided here (quinn's habit: the runtime offers primitives, the policy is written
//! once above it). A driver that needs a different value says why beside its use.

use std::io;
use std::time::Duration;

/// How long a finished connection keeps reading (and dropping) what the peer still sends after
/// our FIN, so that closing with unread input (a refused request's body, pipelined requests
/// after `Connection: close`) does not send a reset that destroys the last response before the
/// peer reads it. Apache's lingering close waits 2 s (`MAX_SECS_TO_LINGER`); nginx's
/// `lingering_timeout` is 5 s between reads within a 30 s `lingering_time`.
pub const LINGER: Duration = Duration::from_secs(2);

/// The most bytes dropped while lingering; a peer that keeps sending past it is cut off.
pub const LINGER_BYTES: usize = 256 * 1024;

/// How long accepting pauses when the process or system is out of descriptors or memory: the
/// listener stays readable, so retrying at once would spin. (nginx disables accept events for
/// 500 ms on EMFILE; 100 ms gets back to serving sooner once descriptors free up.)
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A write that makes no progress for this long ends the connection: a client that stops
/// reading cannot hold its connection (and a thread, or a file) for ever. nginx's
/// `send_timeout` default, 60 s.
pub const WRITE_STALL: Duration = Duration::from_secs(60);

/// The receive buffer of a UDP service: the largest payload a datagram can carry (65,507 bytes
/// over IPv4, 65,527 over IPv6) fits, so nothing is ever truncated.
pub const DATAGRAM_BUFFER: usize = 65_536;

/// What an `accept` error means for the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptError {
    /// This one connection failed (the peer gave up, a signal): accept the next at once.
    Skip,
    /// Out of descriptors or memory: pause for [`ACCEPT_BACKOFF`], then try again.
    BackOff,
    /// Anything else: say it once, then back off as well.
    Unexpected,
}

/// Classify an `accept` error, the same way in every driver.
pub fn classify_accept_error(e: &io::Error) -> AcceptError {
    match e.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted => return AcceptError::Skip,
        _ => {}
    }
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux.
    match e.raw_os_error() {
        Some(24 | 23 | 105 | 12) => AcceptError::BackOff,
        _ => AcceptError::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_classified_once() {
        let kind = |k: io::ErrorKind| classify_accept_error(&io::Error::from(k));
        assert_eq!(kind(io::ErrorKind::ConnectionAborted), AcceptError::Skip);
        assert_eq!(kind(io::ErrorKind::Interrupted), AcceptError::Skip);
        let os = |n: i32| classify_accept_error(&io::Error::from_raw_os_error(n));
        assert_eq!(os(24), AcceptError::BackOff);
        assert_eq!(os(23), AcceptError::BackOff);
        assert_eq!(os(105), AcceptError::BackOff);
        assert_eq!(os(12), AcceptError::BackOff);
        assert_eq!(os(22), AcceptError::Unexpected);
    }
}
