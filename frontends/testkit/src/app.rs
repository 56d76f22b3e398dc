//! The test app every case serves: a line echo session that can also stream a large body at
//! the pace of the reader, with counters the cases check (polls, bytes produced, sessions
//! alive), and a UDP echo.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use portline_common::{DatagramService, Session, SessionFactory};

/// What the sessions of one server did.
#[derive(Debug, Default)]
pub struct Stats {
    /// Sessions created.
    pub created: AtomicU64,
    /// Sessions dropped (their connection closed).
    pub dropped: AtomicU64,
    /// `poll_transmit` calls.
    pub polls: AtomicU64,
    /// Bytes produced by `poll_transmit`.
    pub produced: AtomicU64,
    /// Bytes given to `receive`.
    pub bytes_received: AtomicU64,
    /// `release_idle` calls.
    pub released: AtomicU64,
}

impl Stats {
    /// The value of one of the counters.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }
    /// Sessions made and not yet dropped.
    pub fn alive(&self) -> u64 {
        Self::get(&self.created) - Self::get(&self.dropped)
    }
}

/// The byte at offset `i` of a streamed body.
pub fn pattern(i: u64) -> u8 {
    (i % 251) as u8
}

/// Makes [`TestSession`]s: lines are echoed; `stream N` answers N [`pattern`] bytes, produced
/// only as they are polled; `quit` answers `bye` and ends the session; `boom` panics (a bug in
/// one session).
pub struct TestFactory {
    /// What the sessions did.
    pub stats: Arc<Stats>,
    /// Close a connection that has been quiet this long.
    pub idle: Option<Duration>,
    /// Sent to connections over `max_connections`.
    pub overload: Option<Vec<u8>>,
}

impl Default for TestFactory {
    fn default() -> Self {
        Self::new()
    }
}

impl TestFactory {
    /// No idle timeout, no overload reply.
    pub fn new() -> Self {
        TestFactory {
            stats: Arc::new(Stats::default()),
            idle: None,
            overload: None,
        }
    }
}

impl SessionFactory for TestFactory {
    fn session(&self, now: Instant, _peer: SocketAddr, _local: SocketAddr) -> Box<dyn Session> {
        self.stats.created.fetch_add(1, Ordering::SeqCst);
        Box::new(TestSession {
            stats: self.stats.clone(),
            input: Vec::new(),
            echo: Vec::new(),
            stream_left: 0,
            stream_offset: 0,
            eof: false,
            quit: false,
            timed_out: false,
            idle: self.idle,
            last_activity: now,
        })
    }

    fn overload_reply(&self) -> Option<Vec<u8>> {
        self.overload.clone()
    }
}

/// Lines are echoed; `stream N` answers N pattern bytes, produced only as they are polled.
pub struct TestSession {
    stats: Arc<Stats>,
    input: Vec<u8>,
    echo: Vec<u8>,
    stream_left: u64,
    stream_offset: u64,
    eof: bool,
    /// `quit` was received: answer `bye`, then read nothing more and be done.
    quit: bool,
    timed_out: bool,
    idle: Option<Duration>,
    last_activity: Instant,
}

/// Input held before the session stops wanting reads.
const INPUT_LIMIT: usize = 64 * 1024;

impl TestSession {
    fn parse(&mut self) {
        // Answer only once earlier answers are out, like a pipelined HTTP server.
        while self.stream_left == 0 && self.echo.is_empty() && !self.quit {
            let Some(end) = self.input.iter().position(|&b| b == b'\n') else {
                if self.eof && !self.input.is_empty() {
                    // An unterminated last line is echoed as it is.
                    self.echo = std::mem::take(&mut self.input);
                }
                return;
            };
            let line: Vec<u8> = self.input.drain(..=end).collect();
            if let Some(n) = line
                .strip_prefix(b"stream ")
                .and_then(|rest| std::str::from_utf8(rest).ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
            {
                self.stream_left = n;
                self.stream_offset = 0;
            } else if line == b"boom\n" {
                panic!("test session bug (expected in this test)");
            } else if line == b"quit\n" {
                self.quit = true;
                self.echo = b"bye\n".to_vec();
            } else {
                self.echo = line;
            }
        }
    }
}

impl Drop for TestSession {
    fn drop(&mut self) {
        self.stats.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl Session for TestSession {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        assert!(!self.eof, "receive after receive_eof");
        assert!(
            self.input.len() < INPUT_LIMIT,
            "receive while wants_read() was false"
        );
        self.stats
            .bytes_received
            .fetch_add(data.len() as u64, Ordering::SeqCst);
        self.last_activity = now;
        self.input.extend_from_slice(data);
        self.parse();
    }

    fn receive_eof(&mut self, _now: Instant) {
        self.eof = true;
        self.parse();
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self
            .idle
            .is_some_and(|idle| now >= self.last_activity + idle)
        {
            self.timed_out = true;
        }
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>, budget: usize) {
        self.stats.polls.fetch_add(1, Ordering::SeqCst);
        let before = out.len();
        if !self.echo.is_empty() {
            let n = self.echo.len().min(budget);
            out.extend(self.echo.drain(..n));
        } else if self.stream_left > 0 {
            let n = self.stream_left.min(budget as u64);
            out.extend((self.stream_offset..self.stream_offset + n).map(pattern));
            self.stream_offset += n;
            self.stream_left -= n;
        }
        let produced = out.len() - before;
        if produced > 0 {
            self.last_activity = now;
            self.stats
                .produced
                .fetch_add(produced as u64, Ordering::SeqCst);
        }
        self.parse();
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.timed_out {
            return None;
        }
        self.idle.map(|idle| self.last_activity + idle)
    }

    fn wants_read(&self) -> bool {
        !self.eof && !self.quit && self.input.len() < INPUT_LIMIT
    }

    fn release_idle(&mut self) {
        self.stats.released.fetch_add(1, Ordering::SeqCst);
    }

    fn is_done(&self) -> bool {
        self.timed_out
            || (self.quit && self.echo.is_empty())
            || (self.eof && self.echo.is_empty() && self.stream_left == 0 && self.input.is_empty())
    }
}

/// UDP echo: each datagram comes back as it came.
pub struct UdpEcho;

impl DatagramService for UdpEcho {
    fn handle_datagram(
        &mut self,
        _now: Instant,
        _peer: SocketAddr,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        out.extend_from_slice(data);
        true
    }
}
