//! A server of the runtime under test on a thread of its own, and the bounded waits and reads
//! every case uses: no case can hang, and every server is stopped before its case ends.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portline_common::{DatagramService, Runtime, ServerOptions, SessionFactory, Shutdown};

use crate::Make;
use crate::app::{Stats, pattern};

/// Every blocking call of a case gives up after this.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Options for a test server on 127.0.0.1:0.
pub fn options(threads: usize, max_connections: usize, grace: Duration) -> ServerOptions {
    ServerOptions {
        listen: "127.0.0.1:0".parse().expect("a valid address"),
        threads,
        max_connections,
        grace,
    }
}

/// A server running on a thread until [`Server::stop`] (or its drop).
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The flag that stops it.
    pub shutdown: Shutdown,
    /// What its sessions did (for servers of [`crate::app::TestFactory`]).
    pub stats: Arc<Stats>,
    handle: Option<JoinHandle<io::Result<()>>>,
}

impl Server {
    /// Serve TCP with `factory` on a runtime made by `make`; returns once the address is known.
    pub fn tcp<R: Runtime + Send + 'static>(
        make: Make<R>,
        opts: ServerOptions,
        factory: Arc<dyn SessionFactory>,
        stats: Arc<Stats>,
    ) -> Server {
        Self::start(make, stats, move |rt, ready| {
            rt.serve_tcp(&opts, factory, ready)
        })
    }

    /// Serve UDP with `service`; returns once the address is known.
    pub fn udp<R: Runtime + Send + 'static>(
        make: Make<R>,
        opts: ServerOptions,
        service: Box<dyn DatagramService>,
    ) -> Server {
        Self::start(make, Arc::default(), move |rt, ready| {
            rt.serve_udp(&opts, service, ready)
        })
    }

    fn start<R: Runtime + Send + 'static>(
        make: Make<R>,
        stats: Arc<Stats>,
        serve: impl FnOnce(&R, &mut dyn FnMut(SocketAddr)) -> io::Result<()> + Send + 'static,
    ) -> Server {
        let shutdown = Shutdown::new();
        let rt = make(shutdown.clone());
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            serve(&rt, &mut |addr| {
                let _ = tx.send(addr);
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

    /// A connected client with read and write timeouts, so that no case hangs on it.
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        s
    }

    /// Request shutdown and wait (bounded) for the server to return; its result.
    pub fn stop(&mut self) -> io::Result<()> {
        self.shutdown.request();
        let handle = self.handle.take().expect("stopped once");
        eventually("the server to return", || handle.is_finished());
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

/// Wait (bounded by [`IO_TIMEOUT`]) until `cond` holds.
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

/// Read exactly `n` streamed bytes and check them against the [`pattern`].
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

/// Read until the peer closes.
pub fn read_all(mut stream: &TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    stream.read_to_end(&mut v).expect("read to the end");
    v
}

/// Close `stream` with a reset (SO_LINGER 0) instead of a FIN.
pub fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}
