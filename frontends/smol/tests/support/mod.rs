//! Test sessions of our own and a server started in a thread, for the smol runtime's tests.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portline_common::driver::shutdown::Shutdown;
use portline_common::{DatagramService, Runtime, ServerOptions, Session, SessionFactory};
use portline_smol::SmolRuntime;

/// How long any single wait in these tests may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Counts of sessions made and dropped, shared by a factory and the test.
#[derive(Default)]
pub struct Stats {
    pub made: AtomicUsize,
    pub dropped: AtomicUsize,
    /// `poll_transmit` calls that produced bytes, and the bytes they produced.
    pub transmits: AtomicUsize,
    pub produced: AtomicU64,
}

impl Stats {
    pub fn open(&self) -> usize {
        self.made.load(Ordering::SeqCst) - self.dropped.load(Ordering::SeqCst)
    }

    /// Wait (bounded) until every session made so far was dropped.
    pub fn wait_all_dropped(&self) {
        wait_until("every session to be dropped", || self.open() == 0);
    }
}

/// Poll `cond` every 10 ms until it holds; fail the test after [`PATIENCE`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Echoes what it receives. Holds at most 64 KiB of input. With `idle`, says "bye\n" and
/// closes after that long without input.
pub struct Echo {
    input: Vec<u8>,
    eof: bool,
    idle: Option<Duration>,
    last: Instant,
    bye: bool,
    closed: bool,
    stats: Arc<Stats>,
}

impl Session for Echo {
    fn receive(&mut self, now: Instant, data: &[u8]) {
        self.input.extend_from_slice(data);
        self.last = now;
    }
    fn receive_eof(&mut self, _now: Instant) {
        self.eof = true;
    }
    fn handle_timeout(&mut self, now: Instant) {
        if let Some(idle) = self.idle {
            if !self.closed && now >= self.last + idle {
                self.bye = true;
                self.closed = true;
            }
        }
    }
    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, budget: usize) {
        let before = out.len();
        if self.bye {
            self.bye = false;
            out.extend_from_slice(b"bye\n");
        } else {
            let n = self.input.len().min(budget);
            out.extend(self.input.drain(..n));
        }
        if out.len() > before {
            self.stats.transmits.fetch_add(1, Ordering::SeqCst);
            self.stats
                .produced
                .fetch_add((out.len() - before) as u64, Ordering::SeqCst);
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        match self.idle {
            Some(idle) if !self.closed => Some(self.last + idle),
            _ => None,
        }
    }
    fn wants_read(&self) -> bool {
        !self.eof && !self.closed && self.input.len() < 64 * 1024
    }
    fn is_done(&self) -> bool {
        (self.eof || self.closed) && self.input.is_empty() && !self.bye
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stats.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Makes [`Echo`] sessions; refuses with "busy\n" over `--max-connections`.
pub struct EchoFactory {
    pub idle: Option<Duration>,
    pub stats: Arc<Stats>,
}

impl SessionFactory for EchoFactory {
    fn session(&self, now: Instant, _peer: SocketAddr, _local: SocketAddr) -> Box<dyn Session> {
        self.stats.made.fetch_add(1, Ordering::SeqCst);
        Box::new(Echo {
            input: Vec::new(),
            eof: false,
            idle: self.idle,
            last: now,
            bye: false,
            closed: false,
            stats: self.stats.clone(),
        })
    }
    fn overload_reply(&self) -> Option<Vec<u8>> {
        Some(b"busy\n".to_vec())
    }
}

/// Reads one line with a decimal byte count (0: without end), then streams that many bytes of
/// `x`, one budget per `poll_transmit` call, counting calls and bytes.
pub struct Stream {
    line: Vec<u8>,
    remaining: Option<u64>,
    endless: bool,
    stats: Arc<Stats>,
}

impl Session for Stream {
    fn receive(&mut self, _now: Instant, data: &[u8]) {
        if self.remaining.is_some() {
            return;
        }
        self.line.extend_from_slice(data);
        if let Some(end) = self.line.iter().position(|&b| b == b'\n') {
            let n: u64 = std::str::from_utf8(&self.line[..end])
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            self.endless = n == 0;
            self.remaining = Some(n);
        }
    }
    fn receive_eof(&mut self, _now: Instant) {}
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, budget: usize) {
        let Some(remaining) = self.remaining.as_mut() else {
            return;
        };
        let n = if self.endless {
            budget
        } else {
            (*remaining).min(budget as u64) as usize
        };
        if n == 0 {
            return;
        }
        out.resize(out.len() + n, b'x');
        *remaining = remaining.saturating_sub(n as u64);
        self.stats.transmits.fetch_add(1, Ordering::SeqCst);
        self.stats.produced.fetch_add(n as u64, Ordering::SeqCst);
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn wants_read(&self) -> bool {
        self.remaining.is_none() && self.line.len() < 64
    }
    fn is_done(&self) -> bool {
        (self.remaining == Some(0) && !self.endless) || self.line.len() >= 64
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stats.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Makes [`Stream`] sessions.
pub struct StreamFactory {
    pub stats: Arc<Stats>,
}

impl SessionFactory for StreamFactory {
    fn session(&self, _now: Instant, _peer: SocketAddr, _local: SocketAddr) -> Box<dyn Session> {
        self.stats.made.fetch_add(1, Ordering::SeqCst);
        Box::new(Stream {
            line: Vec::new(),
            remaining: None,
            endless: false,
            stats: self.stats.clone(),
        })
    }
}

/// Answers each datagram with "echo: " and the datagram; ignores the empty one.
pub struct UdpEcho;

impl DatagramService for UdpEcho {
    fn handle_datagram(
        &mut self,
        _now: Instant,
        _peer: SocketAddr,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        if data.is_empty() {
            return false;
        }
        out.extend_from_slice(b"echo: ");
        out.extend_from_slice(data);
        true
    }
}

/// A server running in its own thread.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: Shutdown,
    done: mpsc::Receiver<io::Result<()>>,
}

/// Options for a test server on 127.0.0.1:0.
pub fn options(max_connections: usize, grace: Duration) -> ServerOptions {
    ServerOptions {
        listen: "127.0.0.1:0".parse().expect("a valid address"),
        threads: 2,
        max_connections,
        grace,
    }
}

impl Server {
    /// Serve TCP with `factory` and wait for the ready address.
    pub fn tcp(opts: ServerOptions, factory: Arc<dyn SessionFactory>) -> Server {
        Self::start(move |rt, ready| rt.serve_tcp(&opts, factory, ready))
    }

    /// Serve UDP with `service` and wait for the ready address.
    pub fn udp(opts: ServerOptions, service: Box<dyn DatagramService>) -> Server {
        let service = Mutex::new(Some(service));
        Self::start(move |rt, ready| {
            let service = service.lock().unwrap().take().expect("started once");
            rt.serve_udp(&opts, service, ready)
        })
    }

    fn start(
        serve: impl FnOnce(&SmolRuntime, &mut dyn FnMut(SocketAddr)) -> io::Result<()> + Send + 'static,
    ) -> Server {
        let shutdown = Shutdown::new();
        let runtime = SmolRuntime::with_shutdown(shutdown.clone());
        let (ready_tx, ready_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        thread::spawn(move || {
            let result = serve(&runtime, &mut |addr| {
                let _ = ready_tx.send(addr);
            });
            let _ = done_tx.send(result);
        });
        let addr = ready_rx
            .recv_timeout(PATIENCE)
            .expect("the server reports its address");
        Server {
            addr,
            shutdown,
            done,
        }
    }

    /// Request shutdown and wait (bounded) for the server to return; also how long it took.
    pub fn stop(self) -> (io::Result<()>, Duration) {
        let start = Instant::now();
        self.shutdown.request();
        let result = self
            .done
            .recv_timeout(PATIENCE)
            .expect("the server returns after shutdown");
        (result, start.elapsed())
    }

    /// A connected client with a read timeout, so no test can hang on a read.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect to the test server");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        stream
    }
}

/// Write `line` and read back exactly as many bytes.
pub fn round_trip(stream: &mut TcpStream, line: &[u8]) -> Vec<u8> {
    stream.write_all(line).unwrap();
    let mut back = vec![0; line.len()];
    stream.read_exact(&mut back).unwrap();
    back
}
