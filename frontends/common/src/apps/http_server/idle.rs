//! A file-server session that holds almost nothing while it waits between requests: the
//! driver's [`Session::release_idle`] puts it to sleep as the core's [`Parked`] form (the
//! connection and its buffers are dropped), and the next input wakes it. An idle keep-alive
//! connection then costs this enum, about 48 bytes, instead of a whole [`HttpSession`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use portline_core::http::{Connection, Parked};

use super::{Body, HttpSession, Shared};
use crate::driver::clock;
use crate::driver::session::{FileRange, Session};

/// What the file server's factory hands out.
#[derive(Debug)]
pub(super) enum Resting {
    /// Serving a request, or holding input or output.
    Awake(Box<HttpSession>),
    /// Between requests, with nothing in hand: what it takes to resume.
    Asleep(Asleep),
}

/// A session asleep.
#[derive(Debug)]
pub(super) struct Asleep {
    shared: Arc<Shared>,
    peer: IpAddr,
    parked: Parked,
    sendfile: bool,
}

impl Resting {
    /// `session`, asleep at once when it waits for its first request (it then allocates
    /// nothing more until bytes arrive).
    pub(super) fn new(session: HttpSession) -> Resting {
        match asleep(&session) {
            Some(a) => Resting::Asleep(a),
            None => Resting::Awake(Box::new(session)),
        }
    }

    /// The session, woken if it slept.
    fn wake(&mut self, now: Instant) -> &mut HttpSession {
        if let Resting::Asleep(a) = self {
            let config = a.shared.config.clone();
            let conn = Connection::unpark(a.parked, config, clock::to_time(now));
            let session = HttpSession::with_conn(a.shared.clone(), a.peer, conn, a.sendfile);
            *self = Resting::Awake(Box::new(session));
        }
        match self {
            Resting::Awake(session) => session,
            Resting::Asleep(_) => unreachable!("woken just above"),
        }
    }
}

/// `session` asleep, if it waits between requests with nothing in hand.
fn asleep(session: &HttpSession) -> Option<Asleep> {
    let idle = !session.failed
        && session.discarded.is_none()
        && matches!(session.body, Body::None)
        && session.logged.is_empty();
    let parked = session.conn.park().filter(|_| idle)?;
    Some(Asleep {
        shared: session.shared.clone(),
        peer: session.peer,
        parked,
        sendfile: session.sendfile,
    })
}

impl Session for Resting {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        self.wake(now).receive(now, data);
    }

    fn receive_eof(&mut self, now: Instant) {
        self.wake(now).receive_eof(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if let Resting::Asleep(a) = self
            && a.parked
                .poll_timeout(&a.shared.config)
                .is_none_or(|due| clock::to_time(now) < due)
        {
            return;
        }
        self.wake(now).handle_timeout(now);
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        // Asleep: nothing to send and no log line waiting.
        if let Resting::Awake(session) = self {
            session.poll_transmit(now, out, budget);
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Resting::Awake(session) => session.poll_timeout(),
            Resting::Asleep(a) => a
                .parked
                .poll_timeout(&a.shared.config)
                .map(clock::to_instant),
        }
    }

    fn wants_read(&self) -> bool {
        match self {
            Resting::Awake(session) => session.wants_read(),
            Resting::Asleep(_) => true,
        }
    }

    fn is_done(&self) -> bool {
        match self {
            Resting::Awake(session) => session.is_done(),
            Resting::Asleep(_) => false,
        }
    }

    fn lingers(&self) -> bool {
        match self {
            Resting::Awake(session) => session.lingers(),
            Resting::Asleep(_) => true,
        }
    }

    fn waiting_since(&self) -> Option<Instant> {
        match self {
            Resting::Awake(session) => session.waiting_since(),
            Resting::Asleep(a) => Some(clock::to_instant(a.parked.waiting_since())),
        }
    }

    fn enable_sendfile(&mut self) {
        match self {
            Resting::Awake(session) => session.enable_sendfile(),
            Resting::Asleep(a) => a.sendfile = true,
        }
    }

    fn poll_sendfile(&self) -> Option<FileRange<'_>> {
        match self {
            Resting::Awake(session) => session.poll_sendfile(),
            Resting::Asleep(_) => None,
        }
    }

    fn handle_sendfile(&mut self, now: Instant, written: u64) {
        if let Resting::Awake(session) = self {
            session.handle_sendfile(now, written);
        }
    }

    fn release_idle(&mut self) {
        if let Resting::Awake(session) = self
            && let Some(a) = asleep(session)
        {
            *self = Resting::Asleep(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::http_server::{FileServer, FileServerOptions};
    use std::time::Duration;

    const GET: &[u8] = b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";

    /// Everything the session has to send now, then the empty poll that confirms it written.
    fn drain(s: &mut Resting, now: Instant) -> Vec<u8> {
        let mut all = Vec::new();
        loop {
            let mut out = Vec::new();
            s.poll_transmit(now, &mut out, 64 * 1024);
            if out.is_empty() {
                return all;
            }
            all.extend_from_slice(&out);
        }
    }

    /// A new session of a quiet file server over a folder holding `a.txt` ("hello"), and when
    /// it opened (the folder lives as long as the first element).
    fn session() -> (tempfile::TempDir, Instant, Resting) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "hello").unwrap();
        let mut opts = FileServerOptions::new(dir.path().to_path_buf());
        opts.quiet = true;
        let server = FileServer::new(opts).unwrap();
        let t0 = Instant::now();
        let s = Resting::new(server.http_session(t0, "127.0.0.1:5000".parse().unwrap()));
        (dir, t0, s)
    }

    fn body(reply: &[u8]) -> &[u8] {
        let at = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        &reply[at + 4..]
    }

    #[test]
    fn an_idle_keep_alive_session_sleeps_and_wakes_unchanged() {
        let (_dir, t0, mut s) = session();
        assert!(matches!(s, Resting::Asleep(_)), "a new connection sleeps");
        assert!(s.wants_read() && !s.is_done());
        assert_eq!(s.waiting_since(), Some(t0), "waiting since it opened");
        let first_deadline = s.poll_timeout().unwrap();

        let t1 = t0 + Duration::from_millis(10);
        s.receive(t1, GET);
        assert!(matches!(s, Resting::Awake(_)), "input wakes it");
        let reply = drain(&mut s, t1);
        assert!(reply.starts_with(b"HTTP/1.0 200 OK\r\n"), "{reply:?}");
        assert_eq!(body(&reply), b"hello");
        let deadline = s.poll_timeout().unwrap();
        assert!(
            deadline > t1 && deadline < first_deadline,
            "after the answer the idle timer (5 s from t1) replaced the first-byte timer (20 s from t0)"
        );

        s.release_idle();
        assert!(
            matches!(s, Resting::Asleep(_)),
            "idle with nothing in hand: asleep"
        );
        assert_eq!(
            s.poll_timeout(),
            Some(deadline),
            "asleep, the same deadline"
        );
        assert_eq!(
            s.waiting_since(),
            Some(t1),
            "asleep, waiting since its answer"
        );
        s.handle_timeout(deadline - Duration::from_millis(1));
        assert!(
            matches!(s, Resting::Asleep(_)),
            "an early timer does not wake it"
        );

        let t2 = t1 + Duration::from_millis(10);
        s.receive(t2, GET);
        let again = drain(&mut s, t2);
        assert!(again.starts_with(b"HTTP/1.0 200 OK\r\n"), "{again:?}");
        assert_eq!(body(&again), b"hello");

        // Half a request is in hand: it does not sleep, and it still waits since the answer.
        s.receive(t2 + Duration::from_millis(5), b"GET /a");
        assert!(drain(&mut s, t2).is_empty());
        s.release_idle();
        assert!(matches!(s, Resting::Awake(_)), "half a head is kept");
        assert_eq!(s.waiting_since(), Some(t2));
    }

    /// After a poll that found no whole request, the session does not ask its connection
    /// again until input or a timeout reaches it: what then arrives is still answered.
    #[test]
    fn input_after_an_empty_poll_is_answered() {
        let (_dir, t0, mut s) = session();
        // A head in three pieces, polled (and found wanting) after each of the first two.
        let (a, rest) = GET.split_at(5);
        let (b, c) = rest.split_at(10);
        s.receive(t0, a);
        assert!(drain(&mut s, t0).is_empty());
        s.receive(t0, b);
        assert!(drain(&mut s, t0).is_empty());
        assert!(drain(&mut s, t0).is_empty(), "asked again with nothing new");
        s.receive(t0, c);
        let reply = drain(&mut s, t0);
        assert_eq!(body(&reply), b"hello");
        // Two requests in one read: both answered.
        s.receive(t0, &[GET, GET].concat());
        let two = drain(&mut s, t0);
        assert_eq!(
            two.windows(5).filter(|w| w == b"hello").count(),
            2,
            "{two:?}"
        );
        // An end of stream after an empty poll closes it.
        assert!(drain(&mut s, t0).is_empty());
        s.receive_eof(t0);
        assert!(drain(&mut s, t0).is_empty());
        assert!(s.is_done(), "the end of stream reached the connection");
    }

    /// The idle timeout after an empty poll still closes the connection.
    #[test]
    fn a_timeout_after_an_empty_poll_closes() {
        let (_dir, t0, mut s) = session();
        s.receive(t0, b"GET /a");
        assert!(drain(&mut s, t0).is_empty());
        let due = s
            .poll_timeout()
            .expect("a deadline for the rest of the head");
        s.handle_timeout(due);
        drain(&mut s, due);
        assert!(s.is_done(), "the timeout reached the connection");
    }

    #[test]
    fn a_sleeping_session_still_times_out() {
        let (_dir, _, mut s) = session();
        let due = s.poll_timeout().expect("an idle deadline");
        s.handle_timeout(due);
        assert!(s.is_done(), "the idle timeout closes it");
        assert_eq!(s.poll_timeout(), None);
    }
}
