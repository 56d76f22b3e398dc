//! A test app for the mio runtime: a line echo session that can also stream a large body at the
//! pace of the reader, with counters the tests check (polls, bytes produced, sessions alive).

#![allow(dead_code)] // each test binary uses part of it

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portline_common::{DatagramService, Runtime, ServerOptions, Session, SessionFactory, Shutdown};
use portline_mio::MioRuntime;

/// Every blocking call of a test gives up after this.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

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
}

impl Stats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }
    pub fn alive(&self) -> u64 {
        Self::get(&self.created) - Self::get(&self.dropped)
    }
}

/// The byte at offset `i` of a streamed body.
pub fn pattern(i: u64) -> u8 {
    (i % 251) as u8
}

/// The test factory.
pub struct TestFactory {
    pub stats: Arc<Stats>,
    /// Close a connection that has been quiet this long.
    pub idle: Option<Duration>,
    /// Sent to connections over `max_connections`.
    pub overload: Option<Vec<u8>>,
}

impl TestFactory {
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
struct TestSession {
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

    fn is_done(&self) -> bool {
        self.timed_out
            || (self.quit && self.echo.is_empty())
            || (self.eof && self.echo.is_empty() && self.stream_left == 0 && self.input.is_empty())
    }
}

/// UDP echo.
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

/// A UDP echo server running on a thread until `shutdown` is requested.
pub struct UdpServer {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub thread: JoinHandle<io::Result<()>>,
}

impl UdpServer {
    /// Serve [`UdpEcho`] on 127.0.0.1:0 with one loop; returns once the address is known.
    pub fn start() -> UdpServer {
        let shutdown = Shutdown::new();
        let rt = MioRuntime::with_shutdown(shutdown.clone());
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let opts = ServerOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                threads: 1,
                max_connections: 1,
                grace: Duration::from_secs(1),
            };
            rt.serve_udp(&opts, Box::new(UdpEcho), &mut |a| tx.send(a).unwrap())
        });
        let addr = rx.recv_timeout(IO_TIMEOUT).unwrap();
        UdpServer {
            addr,
            shutdown,
            thread,
        }
    }
}

/// A server running on a thread.
pub struct Server {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub stats: Arc<Stats>,
    pub handle: Option<JoinHandle<io::Result<()>>>,
}

impl Server {
    pub fn start(threads: usize, max_connections: usize, factory: TestFactory) -> Server {
        Self::start_with_grace(threads, max_connections, Duration::from_secs(5), factory)
    }

    pub fn start_with_grace(
        threads: usize,
        max_connections: usize,
        grace: Duration,
        factory: TestFactory,
    ) -> Server {
        let shutdown = Shutdown::new();
        let stats = factory.stats.clone();
        let (tx, rx) = mpsc::channel();
        let rt = MioRuntime::with_shutdown(shutdown.clone());
        let opts = ServerOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            threads,
            max_connections,
            grace,
        };
        let handle = std::thread::spawn(move || {
            rt.serve_tcp(&opts, Arc::new(factory), &mut |addr| {
                tx.send(addr).unwrap();
            })
        });
        let addr = rx
            .recv_timeout(IO_TIMEOUT)
            .expect("the server reports its address");
        assert_ne!(addr.port(), 0, "ready gives the real port");
        Server {
            addr,
            shutdown,
            stats,
            handle: Some(handle),
        }
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        s
    }

    /// Request shutdown and wait (bounded) for `serve_tcp` to return.
    pub fn stop(&mut self) -> io::Result<()> {
        self.shutdown.request();
        let handle = self.handle.take().expect("stopped once");
        let deadline = Instant::now() + IO_TIMEOUT;
        while !handle.is_finished() {
            assert!(Instant::now() < deadline, "serve_tcp did not return");
            std::thread::sleep(Duration::from_millis(10));
        }
        handle.join().expect("the server thread did not panic")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.handle.is_some() {
            self.shutdown.request();
        }
    }
}

/// Wait (bounded) until `cond` holds.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + IO_TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Read one line.
pub fn read_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read a line");
    line
}

/// Read exactly `n` streamed bytes and check them against the pattern.
pub fn read_stream(stream: &mut impl Read, n: u64) {
    let mut buf = vec![0; 64 * 1024];
    let mut offset = 0u64;
    while offset < n {
        let want = buf.len().min((n - offset) as usize);
        let got = stream.read(&mut buf[..want]).expect("read the stream");
        assert!(got > 0, "stream ended at {offset} of {n}");
        for (i, &b) in buf[..got].iter().enumerate() {
            assert_eq!(b, pattern(offset + i as u64), "byte {}", offset + i as u64);
        }
        offset += got as u64;
    }
}

/// Write all of `data`.
pub fn send(stream: &mut TcpStream, data: &[u8]) {
    stream.write_all(data).expect("write");
}
