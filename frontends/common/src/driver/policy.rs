//! How every driver treats a connection: the numbers, written once.
//!
//! The three drivers (std, mio, smol) differ only in how they wait; what they wait *for* and how
//! long is decided here (quinn's habit: the runtime offers primitives, the policy is written
//! once above it). A driver that needs a different value says why beside its use.

use std::any::Any;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::cli::message;

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

/// Whether a blocking read with a timeout only came back empty-handed: the timeout passed
/// (`WouldBlock` on Linux, `TimedOut` elsewhere) or a signal interrupted it. The caller checks
/// its deadlines and reads again; any other error is the connection's end.
pub fn read_came_back_empty(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
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

/// A server's record of its accept failures, shared by its accept loops (portline-mio runs
/// one per thread): each run of the same failure is said once, as one warning, not once per
/// retry every [`ACCEPT_BACKOFF`]; a run ends when an accept succeeds that was begun after
/// the run's last failure.
///
/// That last condition matters with several loops: loop A's accept may take the last
/// descriptor while loop B's accept fails for want of it. If A's success were counted after
/// B's failure, it would end a run that had just begun, and the next failure would be said
/// again (CI saw exactly that once). So each loop notes [`AcceptFailures::attempt`] before it
/// calls `accept`, and a success counts only if no failure was recorded since.
#[derive(Debug, Default)]
pub struct AcceptFailures {
    /// The failures recorded so far (the high 32 bits, wrapping) and the OS error code of the
    /// failure already said (the low 32 bits: 0 for none, `u32::MAX` for one without a code).
    state: AtomicU64,
}

/// What [`AcceptFailures`] had recorded when an accept began; give it to
/// [`AcceptFailures::succeeded`] if that accept succeeds.
#[derive(Debug, Clone, Copy)]
pub struct AcceptAttempt(u64);

/// The low half of [`AcceptFailures`]'s state: the code said.
const SAID: u64 = 0xFFFF_FFFF;

impl AcceptFailures {
    /// No failure said yet.
    pub const fn new() -> Self {
        AcceptFailures {
            state: AtomicU64::new(0),
        }
    }

    /// Note, just before calling `accept`, what has been recorded so far (one relaxed load).
    pub fn attempt(&self) -> AcceptAttempt {
        AcceptAttempt(self.state.load(Ordering::Relaxed))
    }

    /// An accept failed with `e`: what to do ([`classify_accept_error`]). The first
    /// [`AcceptError::BackOff`] or [`AcceptError::Unexpected`] of a run is said on stderr:
    /// `warning: accept: Too many open files; new connections wait in the backlog, accepting
    /// again every 100ms (said once until an accept succeeds)`.
    pub fn failed(&self, e: &io::Error) -> AcceptError {
        let (class, say) = self.record(e);
        if say {
            message::warning("accept", accept_failure(e));
        }
        class
    }

    /// [`AcceptFailures::failed`] without the saying: the class, and whether to say it.
    fn record(&self, e: &io::Error) -> (AcceptError, bool) {
        let class = classify_accept_error(e);
        if class == AcceptError::Skip {
            return (class, false);
        }
        // The code as 32 bits: 0 is kept for "none", so a failure without one is u32::MAX.
        let code = e.raw_os_error().filter(|&c| c != 0).unwrap_or(-1) as u32 as u64;
        let counted = |state: u64| (state & !SAID).wrapping_add(1 << 32) | code;
        let before = self
            .state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| Some(counted(s)))
            .unwrap_or_else(|s| s);
        // Loops failing together: the one that records first says it.
        (class, before & SAID != code)
    }

    /// The accept begun at `attempt` succeeded: a run of failures, if one was under way then
    /// and none was recorded since, is over. Nothing to do (no write) when there was none.
    pub fn succeeded(&self, attempt: AcceptAttempt) {
        if attempt.0 & SAID != 0 {
            // Fails, and rightly so, if another loop recorded a failure meanwhile.
            let _ = self.state.compare_exchange(
                attempt.0,
                attempt.0 & !SAID,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }
}

/// The cause in [`AcceptFailures::failed`]'s warning.
fn accept_failure(e: &io::Error) -> String {
    format!(
        "{e}; new connections wait in the backlog, accepting again every {ACCEPT_BACKOFF:?} \
         (said once until an accept succeeds)"
    )
}

/// Say that a session panicked (a bug in the app, never the peer's doing): one warning naming
/// the connection's peer (when the socket still knows it) and the panic's message. The
/// driver then resets that connection (see [`reset_on_close`]) and serves the others on, the
/// way a thread (portline-std) or a task (portline-smol) of its own would isolate it.
pub fn session_panicked(peer: Option<SocketAddr>, payload: &(dyn Any + Send)) {
    let (subject, cause) = panic_report(peer, payload);
    message::warning(subject, cause);
}

/// The subject and cause of [`session_panicked`]'s warning.
fn panic_report(peer: Option<SocketAddr>, payload: &(dyn Any + Send)) -> (String, String) {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    let subject = peer.map_or_else(|| "a connection".to_string(), |p| message::addr(p, None));
    let cause = format!(
        "the session panicked (a bug: {what}); this connection was reset, the others carry on"
    );
    (subject, cause)
}

/// Make the socket's close a reset (`SO_LINGER` 0): after a panic the answer in flight is cut
/// short, and a FIN could pass a truncated close-delimited body off as complete.
pub fn reset_on_close<'s>(socket: impl Into<socket2::SockRef<'s>>) {
    // Best effort: a socket that refuses is closed with a FIN instead.
    let _ = socket.into().set_linger(Some(Duration::ZERO));
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

    #[test]
    fn a_timed_out_or_interrupted_read_is_read_again_and_nothing_else() {
        let empty = |k: io::ErrorKind| read_came_back_empty(&io::Error::from(k));
        assert!(empty(io::ErrorKind::WouldBlock));
        assert!(empty(io::ErrorKind::TimedOut));
        assert!(empty(io::ErrorKind::Interrupted));
        assert!(!empty(io::ErrorKind::ConnectionReset));
        assert!(!empty(io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn a_run_of_accept_failures_is_said_once() {
        let failures = AcceptFailures::new();
        let emfile = io::Error::from_raw_os_error(24);
        let enfile = io::Error::from_raw_os_error(23);
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        let odd = io::Error::other("odd");
        assert_eq!(failures.record(&emfile), (AcceptError::BackOff, true));
        assert_eq!(failures.record(&emfile), (AcceptError::BackOff, false));
        assert_eq!(failures.record(&aborted), (AcceptError::Skip, false));
        assert_eq!(failures.record(&emfile), (AcceptError::BackOff, false));
        // Another failure is said, once.
        assert_eq!(failures.record(&enfile), (AcceptError::BackOff, true));
        assert_eq!(failures.record(&enfile), (AcceptError::BackOff, false));
        // A success ends the run: the next failure is said again.
        failures.succeeded(failures.attempt());
        assert_eq!(failures.record(&enfile), (AcceptError::BackOff, true));
        // A success whose accept began before the latest failure (another loop's) does not
        // end the run that failure belongs to.
        failures.succeeded(failures.attempt());
        let begun = failures.attempt();
        assert_eq!(failures.record(&emfile), (AcceptError::BackOff, true));
        failures.succeeded(begun);
        assert_eq!(failures.record(&emfile), (AcceptError::BackOff, false));
        // Nor does one begun in a run, once another failure was recorded meanwhile.
        let begun = failures.attempt();
        assert_eq!(failures.record(&emfile), (AcceptError::BackOff, false));
        failures.succeeded(begun);
        assert_eq!(failures.record(&emfile), (AcceptError::BackOff, false));
        failures.succeeded(failures.attempt());
        assert_eq!(failures.record(&odd), (AcceptError::Unexpected, true));
        assert_eq!(failures.record(&odd), (AcceptError::Unexpected, false));
        assert_eq!(
            accept_failure(&emfile),
            "Too many open files (os error 24); new connections wait in the backlog, \
             accepting again every 100ms (said once until an accept succeeds)"
        );
    }

    #[test]
    fn a_panic_is_reported_with_its_peer_and_message() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let text: Box<dyn Any + Send> = Box::new("index out of bounds");
        let (subject, cause) = panic_report(Some(peer), text.as_ref());
        assert_eq!(subject, "127.0.0.1:5000 (IPv4)");
        assert_eq!(
            cause,
            "the session panicked (a bug: index out of bounds); this connection was reset, \
             the others carry on"
        );
        let formatted: Box<dyn Any + Send> = Box::new(format!("bad {}", 1));
        let (subject, cause) = panic_report(None, formatted.as_ref());
        assert_eq!(subject, "a connection");
        assert!(cause.contains("(a bug: bad 1)"), "{cause}");
        let other: Box<dyn Any + Send> = Box::new(7u8);
        assert!(
            panic_report(None, other.as_ref())
                .1
                .contains("(a bug: no message)")
        );
    }
}
