//! One TCP connection's bytes: steps 1–3 of the loop in docs/ARCHITECTURE.md for a non-blocking,
//! edge-triggered socket, shared by the server loop and the client.
//!
//! Readiness is edge-triggered, so the connection remembers whether the socket may still hold
//! input (`read_ready`, cleared by `WouldBlock`, or by a short read: every later arrival raises
//! a new edge, unless the peer's FIN or an error is already known to be queued) and whether
//! output is pending (the tail of `out` past `written`). [`Conn::drive`] then repeats read → `poll_transmit` → write until
//! nothing moves; it is safe to call at any time, so spurious wake-ups cost one `WouldBlock`.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

use mio::net::TcpStream;
use portline_common::driver::policy::{LINGER, LINGER_BYTES as LINGER_MAX, WRITE_STALL};
use portline_common::{Session, SocketFailure, TRANSMIT_BUDGET};

use crate::pool::BufPool;

/// Read → transmit → write rounds in one [`Conn::drive`] before it yields to other connections.
const MAX_ROUNDS: usize = 8;

/// Reads in one round, so that a fast sender cannot hold the loop.
const MAX_READS: usize = 4;

/// What [`Conn::drive`] left the connection as.
#[derive(Debug)]
pub(crate) enum Drive {
    /// Waiting for readiness or a deadline.
    Open,
    /// Could still progress, but gave other connections a turn: drive it again soon, without
    /// waiting for readiness.
    Yield,
    /// The session is done and its output is written (or, after the peer's end of stream,
    /// nothing can move it any more).
    Done,
    /// Finished lingering, the peer went away, or the session ended owing the peer nothing
    /// ([`Session::lingers`]): close without a word.
    Closed,
    /// A socket error.
    Failed(SocketFailure),
}

/// A connected socket, its unwritten output, and what is known of its readiness.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: TcpStream,
    /// Output; holds capacity only while a tail is unwritten (returned to the pool otherwise).
    out: Vec<u8>,
    /// How much of `out` is written.
    written: usize,
    /// The socket may hold input: set by readable events, cleared by `WouldBlock` or a short read.
    read_ready: bool,
    /// An event reported the peer's FIN or an error: read until 0 or the error, whatever the
    /// sizes of the reads before (no further edge will come for it).
    read_closed: bool,
    /// The peer's end of stream was read.
    eof: bool,
    /// Lingering after the session finished: until when, and how much was discarded.
    linger: Option<(Instant, usize)>,
    /// While a tail is unwritten: when it was made or last shrank. No progress for
    /// [`WRITE_STALL`] fails the connection (a client that stops reading cannot hold it).
    tail_since: Instant,
    /// A file range the session offers found the socket full: wait for writability.
    file_blocked: bool,
}

impl Conn {
    /// A new connection; it is read at once in case bytes arrived before registration.
    pub(crate) fn new(stream: TcpStream, now: Instant) -> Self {
        Conn {
            tail_since: now,
            stream,
            out: Vec::new(),
            written: 0,
            read_ready: true,
            read_closed: false,
            eof: false,
            linger: None,
            file_blocked: false,
        }
    }

    /// The socket, for (re)registration.
    pub(crate) fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// A readiness event said the socket may have input; `closed` when it also reported the
    /// peer's end of stream or an error.
    pub(crate) fn set_readable(&mut self, closed: bool) {
        self.read_ready = true;
        self.read_closed |= closed;
    }

    /// Whether output waits to be written (the only time writability is interesting).
    pub(crate) fn has_tail(&self) -> bool {
        self.written < self.out.len()
    }

    /// Whether anything waits for the socket to take it: an unwritten tail, or a file range
    /// that found the socket full (WRITABLE is registered only then).
    pub(crate) fn wants_write(&self) -> bool {
        self.has_tail() || self.file_blocked
    }

    /// After [`Drive::Open`]: whether the connection waits for the next readable edge with
    /// everything written, so that its session may give back its buffers
    /// ([`Session::release_idle`]; requests already in hand were served by `drive`).
    pub(crate) fn may_sleep(&self) -> bool {
        self.linger.is_none() && !self.read_ready && !self.wants_write()
    }

    /// Whether the peer's end of stream was read.
    pub(crate) fn saw_eof(&self) -> bool {
        self.eof
    }

    /// When this connection next needs [`Conn::drive`] without readiness.
    pub(crate) fn deadline(&self, session: &dyn Session) -> Option<Instant> {
        match self.linger {
            Some((until, _)) => Some(until),
            None if self.wants_write() => {
                let stall = self.tail_since + WRITE_STALL;
                Some(session.poll_timeout().map_or(stall, |t| t.min(stall)))
            }
            None => session.poll_timeout(),
        }
    }

    /// Half-close our side and wait (bounded) for the peer's end of stream, discarding input.
    pub(crate) fn start_linger(&mut self, now: Instant) {
        // An error here means the peer is gone already; lingering then ends at the next read.
        let _ = self.stream.shutdown(Shutdown::Write);
        self.linger = Some((now + LINGER, 0));
    }

    /// Give the output buffer back to the pool (the connection is closing).
    pub(crate) fn release(&mut self, pool: &mut BufPool) {
        pool.put(std::mem::take(&mut self.out));
        self.written = 0;
    }

    /// Move bytes: expired deadline, reads into `session`, its output to the socket, until
    /// nothing progresses or this connection has had its turn.
    pub(crate) fn drive(
        &mut self,
        session: &mut dyn Session,
        now: Instant,
        scratch: &mut [u8],
        pool: &mut BufPool,
    ) -> Drive {
        self.drive_checked(session, now, scratch, pool, true)
    }

    /// [`Conn::drive`], told whether the session's deadline may be due at `now`: with
    /// `false` (the caller knows it is later: the server's armed timer for the connection
    /// is, and it is never later than the session's deadline) the session is not asked.
    pub(crate) fn drive_checked(
        &mut self,
        session: &mut dyn Session,
        now: Instant,
        scratch: &mut [u8],
        pool: &mut BufPool,
        may_be_due: bool,
    ) -> Drive {
        if self.linger.is_some() {
            return self.drive_linger(now, scratch);
        }
        if self.wants_write() && now >= self.tail_since + WRITE_STALL {
            let stalled = io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer read nothing for {WRITE_STALL:?}"),
            );
            return Drive::Failed(SocketFailure::Write(stalled));
        }
        if may_be_due && session.poll_timeout().is_some_and(|t| t <= now) {
            session.handle_timeout(now);
        }
        for _ in 0..MAX_ROUNDS {
            let mut progress = false;

            // 1. Read until WouldBlock, end of stream, or the session has enough.
            let mut reads = 0;
            while self.read_ready && !self.eof && session.wants_read() && reads < MAX_READS {
                reads += 1;
                match self.stream.read(scratch) {
                    Ok(0) => {
                        self.eof = true;
                        session.receive_eof(now);
                        progress = true;
                    }
                    Ok(n) => {
                        session.receive(now, &scratch[..n]);
                        progress = true;
                        if n < scratch.len() && !self.read_closed {
                            // Drained: the next arrival raises a new edge. Saves a read(2)
                            // that would only say WouldBlock, once per request.
                            self.read_ready = false;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Drive::Failed(SocketFailure::Read(e)),
                }
            }

            // 2. Gather everything ready, up to one budget, into one buffer, only once the
            //    previous output is written: a slow reader stops the session being polled.
            if !self.has_tail() {
                self.fill(session, now, pool);
                if !self.file_blocked {
                    self.tail_since = now;
                }
            }

            // 3. Write; keep the unwritten tail.
            while self.has_tail() {
                match self.stream.write(&self.out[self.written..]) {
                    Ok(0) => {
                        return Drive::Failed(SocketFailure::Write(
                            io::ErrorKind::WriteZero.into(),
                        ));
                    }
                    Ok(n) => {
                        self.written += n;
                        self.tail_since = now;
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Drive::Failed(SocketFailure::Write(e)),
                }
            }
            // 3b. Then a file range the session offers, zero-copy, until the socket is full.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            if !self.has_tail() {
                match self.send_file(session, now) {
                    Ok(moved) => progress |= moved,
                    Err(e) => return Drive::Failed(SocketFailure::Write(e)),
                }
            }
            if !self.has_tail() && session.is_done() {
                // Poll once more with an empty buffer: it tells the session that its output
                // is written (the Session contract); a done session rarely has more.
                self.fill(session, now, pool);
                if !self.has_tail() {
                    self.release(pool);
                    // Owing the peer nothing (closed by its own timer): no linger.
                    return if session.lingers() {
                        Drive::Done
                    } else {
                        Drive::Closed
                    };
                }
                progress = true;
            } else if !self.has_tail() {
                self.release(pool);
            }
            if !progress {
                if self.eof && !self.wants_write() && session.poll_timeout().is_none() {
                    // End of stream read, nothing to send and no deadline: nothing can ever
                    // move this session again.
                    return Drive::Done;
                }
                // Waiting for the next edge: whether the session may now give back its
                // buffers is `may_sleep`, the caller's call (the server waits a turn).
                return Drive::Open;
            }
        }
        Drive::Yield
    }

    /// Send what [`Session::poll_sendfile`] offers with sendfile(2), a few steps at most (the
    /// rest on the next round: other connections get their turn); whether bytes moved.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn send_file(&mut self, session: &mut dyn Session, now: Instant) -> io::Result<bool> {
        use std::os::fd::AsFd;
        let was_blocked = std::mem::replace(&mut self.file_blocked, false);
        let mut moved = false;
        for _ in 0..MAX_READS {
            let Some(range) = session.poll_sendfile() else {
                break;
            };
            match portline_common::driver::session::sendfile(self.stream.as_fd(), &range) {
                Ok(n) => {
                    session.handle_sendfile(now, n);
                    self.tail_since = now;
                    moved = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // A peer that takes nothing for WRITE_STALL fails, as with a tail.
                    if !was_blocked && !moved {
                        self.tail_since = now;
                    }
                    self.file_blocked = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(moved)
    }

    /// Append ready output to `out` (from the pool) up to one budget.
    fn fill(&mut self, session: &mut dyn Session, now: Instant, pool: &mut BufPool) {
        if self.out.capacity() == 0 {
            self.out = pool.take();
        }
        self.out.clear();
        self.written = 0;
        loop {
            let room = TRANSMIT_BUDGET.saturating_sub(self.out.len());
            let before = self.out.len();
            if room == 0 {
                break;
            }
            session.poll_transmit(now, &mut self.out, room);
            if self.out.len() == before {
                break;
            }
        }
    }

    /// Discard input until the peer's end of stream, an error, the byte limit or the deadline.
    fn drive_linger(&mut self, now: Instant, scratch: &mut [u8]) -> Drive {
        let Some((until, mut discarded)) = self.linger else {
            return Drive::Open;
        };
        if now >= until {
            return Drive::Closed;
        }
        let mut reads = 0;
        while self.read_ready {
            if reads == MAX_READS * MAX_ROUNDS {
                self.linger = Some((until, discarded));
                return Drive::Yield;
            }
            reads += 1;
            match self.stream.read(scratch) {
                Ok(0) => return Drive::Closed,
                Ok(n) => {
                    discarded += n;
                    if discarded > LINGER_MAX {
                        return Drive::Closed;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Drive::Closed,
            }
        }
        self.linger = Some((until, discarded));
        Drive::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Counts what the driver does to it; sends `pending` bytes of `x`.
    #[derive(Default)]
    struct Probe {
        received: Vec<u8>,
        eofs: usize,
        polls: usize,
        pending: usize,
    }

    impl Session for Probe {
        fn receive(&mut self, _now: Instant, data: &[u8]) {
            self.received.extend_from_slice(data);
        }
        fn receive_eof(&mut self, _now: Instant) {
            self.eofs += 1;
        }
        fn handle_timeout(&mut self, _now: Instant) {}
        fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, budget: usize) {
            self.polls += 1;
            let n = self.pending.min(budget);
            out.resize(out.len() + n, b'x');
            self.pending -= n;
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
        fn wants_read(&self) -> bool {
            self.eofs == 0
        }
        fn is_done(&self) -> bool {
            self.eofs > 0 && self.pending == 0
        }
    }

    fn pair() -> (Conn, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        (Conn::new(TcpStream::from_std(ours), Instant::now()), peer)
    }

    #[test]
    fn spurious_wake_ups_do_nothing() {
        let (mut conn, _peer) = pair();
        let mut session = Probe::default();
        let mut pool = BufPool::default();
        let mut scratch = vec![0; 1024];
        for _ in 0..100 {
            conn.set_readable(false);
            let outcome = conn.drive(&mut session, Instant::now(), &mut scratch, &mut pool);
            assert!(matches!(outcome, Drive::Open), "{outcome:?}");
        }
        assert!(session.received.is_empty());
        assert_eq!(session.eofs, 0);
        assert!(!conn.has_tail());
        assert_eq!(conn.out.capacity(), 0, "an idle connection holds no buffer");
    }

    #[test]
    fn partial_writes_keep_the_tail_and_stop_polling() {
        let (mut conn, mut peer) = pair();
        let mut session = Probe::default();
        let mut pool = BufPool::default();
        let mut scratch = vec![0; 64 * 1024];
        // Ask for far more than the socket buffers hold, then read nothing.
        session.pending = 64 * 1024 * 1024;
        let mut outcome = conn.drive(&mut session, Instant::now(), &mut scratch, &mut pool);
        while matches!(outcome, Drive::Yield) {
            outcome = conn.drive(&mut session, Instant::now(), &mut scratch, &mut pool);
        }
        assert!(matches!(outcome, Drive::Open), "{outcome:?}");
        assert!(conn.has_tail(), "the socket is full: a tail is kept");
        let polls = session.polls;
        for _ in 0..10 {
            conn.set_readable(false);
            conn.drive(&mut session, Instant::now(), &mut scratch, &mut pool);
        }
        assert_eq!(
            session.polls, polls,
            "no poll_transmit while a tail is unwritten"
        );
        // The peer reads everything: the rest follows.
        let total = 64 * 1024 * 1024;
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0; 1 << 16];
            let mut n = 0;
            while n < total {
                let got = peer.read(&mut buf).unwrap();
                assert!(got > 0);
                n += got;
            }
            peer.write_all(b"bye").unwrap();
            peer.shutdown(std::net::Shutdown::Write).unwrap();
            n
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline, "did not finish");
            conn.set_readable(false);
            match conn.drive(&mut session, Instant::now(), &mut scratch, &mut pool) {
                Drive::Done => break,
                Drive::Open => std::thread::sleep(Duration::from_millis(1)),
                Drive::Yield => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(reader.join().unwrap(), total);
        assert_eq!(session.received, b"bye");
        assert_eq!(session.eofs, 1);
        assert!(conn.saw_eof());
    }

    #[test]
    fn a_peer_that_stops_reading_fails_the_connection_after_the_write_stall() {
        let (mut conn, _peer) = pair();
        let mut session = Probe::default();
        let mut pool = BufPool::default();
        let mut scratch = vec![0; 64 * 1024];
        session.pending = 64 * 1024 * 1024;
        let start = Instant::now();
        let mut outcome = conn.drive(&mut session, start, &mut scratch, &mut pool);
        while matches!(outcome, Drive::Yield) {
            outcome = conn.drive(&mut session, start, &mut scratch, &mut pool);
        }
        assert!(conn.has_tail());
        // The deadline is the stall, and nothing fails before it.
        let stall = conn
            .deadline(&session)
            .expect("a stall deadline while a tail waits");
        assert!(stall <= start + WRITE_STALL);
        let before = stall - Duration::from_millis(1);
        assert!(matches!(
            conn.drive(&mut session, before, &mut scratch, &mut pool),
            Drive::Open
        ));
        match conn.drive(&mut session, stall, &mut scratch, &mut pool) {
            Drive::Failed(SocketFailure::Write(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut),
            other => panic!("{other:?}"),
        }
    }
}
