//! The smol TCP server over loopback with test sessions: concurrency, pipelining, half-close,
//! back-pressure, resets, timeouts, `--max-connections`, shutdown.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use portline_common::{Session, SessionFactory, TRANSMIT_BUDGET};
use support::{
    EchoFactory, PATIENCE, Server, Stats, StreamFactory, options, round_trip, wait_until,
};

fn echo_server(max: usize, idle: Option<Duration>) -> (Server, Arc<Stats>) {
    let stats = Arc::new(Stats::default());
    let factory = Arc::new(EchoFactory {
        idle,
        stats: stats.clone(),
    });
    (
        Server::tcp(options(max, Duration::from_secs(2)), factory),
        stats,
    )
}

fn stream_server(grace: Duration) -> (Server, Arc<Stats>) {
    let stats = Arc::new(Stats::default());
    let factory = Arc::new(StreamFactory {
        stats: stats.clone(),
    });
    (Server::tcp(options(100, grace), factory), stats)
}

#[test]
fn concurrent_connections_each_get_their_own_replies() {
    let (server, stats) = echo_server(1000, None);
    let clients: Vec<_> = (0..64)
        .map(|c| {
            let mut stream = server.connect();
            thread::spawn(move || {
                for r in 0..20 {
                    let line = format!("client {c} round {r}\n");
                    assert_eq!(round_trip(&mut stream, line.as_bytes()), line.as_bytes());
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client thread");
    }
    assert_eq!(stats.made.load(Ordering::SeqCst), 64);
    stats.wait_all_dropped();
    let (result, _) = server.stop();
    result.expect("shutdown returns Ok");
}

#[test]
fn pipelined_lines_come_back_complete_and_in_order() {
    let (server, _stats) = echo_server(10, None);
    let mut stream = server.connect();
    let mut sent = Vec::new();
    for i in 0..5000 {
        sent.extend_from_slice(format!("line {i}\n").as_bytes());
    }
    // Everything at once, far more than one read or one transmit budget; read on another
    // thread meanwhile so neither side's buffers can fill up.
    let mut reader = stream.try_clone().unwrap();
    let expected = sent.len();
    let read = thread::spawn(move || {
        let mut back = vec![0; expected];
        reader.read_exact(&mut back).unwrap();
        back
    });
    stream.write_all(&sent).unwrap();
    assert_eq!(read.join().unwrap(), sent);
    server.stop().0.unwrap();
}

#[test]
fn half_close_flushes_replies_then_closes() {
    let (server, stats) = echo_server(10, None);
    let mut stream = server.connect();
    stream
        .write_all(b"hello\nworld without a line end")
        .unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    stream
        .read_to_end(&mut back)
        .expect("the server closes after the replies");
    assert_eq!(back, b"hello\nworld without a line end");
    stats.wait_all_dropped();
    server.stop().0.unwrap();
}

#[test]
fn slow_reader_stops_the_session_being_polled() {
    let (server, stats) = stream_server(Duration::from_millis(200));
    let mut stream = server.connect();
    stream.write_all(b"0\n").unwrap(); // endless
    // Not reading: the socket buffers fill, the write blocks, and production must stop.
    wait_until("the stream to start", || {
        stats.produced.load(Ordering::SeqCst) > 0
    });
    let mut stalled = 0;
    let mut last = 0;
    let start = Instant::now();
    while stalled < 3 {
        assert!(start.elapsed() < PATIENCE, "production never stalled");
        thread::sleep(Duration::from_millis(100));
        let now = stats.produced.load(Ordering::SeqCst);
        stalled = if now == last { stalled + 1 } else { 0 };
        last = now;
    }
    // What was produced is what the socket buffers hold, plus at most one budget in our hands.
    let buffers = tcp_buffer_max("tcp_rmem") + tcp_buffer_max("tcp_wmem");
    let slack = buffers + 2 * TRANSMIT_BUDGET as u64;
    assert!(
        last <= slack,
        "produced {last} bytes for a reader that read nothing (socket buffers: {buffers})"
    );

    // Now read 8 MiB: production resumes, and stays within the same distance of the reader.
    let mut buf = vec![0; 64 * 1024];
    let mut read = 0u64;
    while read < 8 * 1024 * 1024 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        assert!(buf[..n].iter().all(|&b| b == b'x'));
        read += n as u64;
        let produced = stats.produced.load(Ordering::SeqCst);
        assert!(
            produced <= read + slack,
            "produced {produced} bytes for a reader at {read}"
        );
    }
    let calls = stats.transmits.load(Ordering::SeqCst) as u64;
    let produced = stats.produced.load(Ordering::SeqCst);
    assert!(produced >= read);
    assert!(
        calls <= produced / TRANSMIT_BUDGET as u64 + 1,
        "{calls} poll_transmit calls for {produced} bytes"
    );
    drop(stream);
    stats.wait_all_dropped();
    server.stop().0.unwrap();
}

/// The largest buffer the kernel gives a TCP socket (the third number of
/// `/proc/sys/net/ipv4/tcp_rmem` or `tcp_wmem`); 32 MiB when unknown.
fn tcp_buffer_max(name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(32 << 20)
}

/// Closes `stream` with a reset (SO_LINGER 0) instead of a FIN.
fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

#[test]
fn a_reset_peer_affects_no_other_connection() {
    let (server, stats) = echo_server(100, None);
    let mut steady = server.connect();
    assert_eq!(round_trip(&mut steady, b"before\n"), b"before\n");

    // Reset mid-request (half a line, unread echo pending) and right after connecting.
    let mut mid = server.connect();
    mid.write_all(&[b'a'; 100_000]).unwrap();
    reset(mid);
    reset(server.connect());
    // Reset while the server is blocked writing a large reply.
    let (stream_srv, stream_stats) = stream_server(Duration::from_millis(200));
    let mut streaming = stream_srv.connect();
    streaming.write_all(b"0\n").unwrap();
    wait_until("the stream to start", || {
        stream_stats.produced.load(Ordering::SeqCst) > 0
    });
    reset(streaming);

    assert_eq!(round_trip(&mut steady, b"after\n"), b"after\n");
    let mut fresh = server.connect();
    assert_eq!(round_trip(&mut fresh, b"fresh\n"), b"fresh\n");
    drop(fresh);
    drop(steady);
    stats.wait_all_dropped();
    stream_stats.wait_all_dropped();
    server.stop().0.unwrap();
    stream_srv.stop().0.unwrap();
}

#[test]
fn the_session_deadline_fires() {
    let (server, stats) = echo_server(10, Some(Duration::from_millis(200)));
    let mut stream = server.connect();
    let start = Instant::now();
    assert_eq!(round_trip(&mut stream, b"ping\n"), b"ping\n");
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"bye\n");
    assert!(start.elapsed() >= Duration::from_millis(200));
    stats.wait_all_dropped();
    server.stop().0.unwrap();
}

#[test]
fn max_connections_refuses_with_the_overload_reply() {
    let (server, stats) = echo_server(2, None);
    let mut a = server.connect();
    let mut b = server.connect();
    assert_eq!(round_trip(&mut a, b"a\n"), b"a\n");
    assert_eq!(round_trip(&mut b, b"b\n"), b"b\n");

    let mut third = server.connect();
    let mut reply = Vec::new();
    third.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"busy\n");
    assert_eq!(stats.made.load(Ordering::SeqCst), 2);

    // A slot frees up once a connection closes.
    drop(a);
    wait_until("a slot to free up", || stats.open() < 2);
    let mut fourth = server.connect();
    assert_eq!(round_trip(&mut fourth, b"d\n"), b"d\n");
    assert_eq!(round_trip(&mut b, b"b\n"), b"b\n");
    server.stop().0.unwrap();
}

#[test]
fn shutdown_finishes_responses_in_flight_and_closes_idle_connections() {
    let (server, stats) = stream_server(Duration::from_secs(5));
    let addr = server.addr;
    let mut idle = server.connect();
    let mut busy = server.connect();
    let total = 4 * 1024 * 1024;
    busy.write_all(format!("{total}\n").as_bytes()).unwrap();
    wait_until("the stream to start", || {
        stats.produced.load(Ordering::SeqCst) > 0
    });
    wait_until("both sessions", || stats.made.load(Ordering::SeqCst) == 2);

    // The busy client reads slowly, on its own thread, while the server shuts down.
    let reader = thread::spawn(move || {
        let mut got = 0usize;
        let mut buf = vec![0; 256 * 1024];
        loop {
            let n = busy.read(&mut buf).unwrap();
            if n == 0 {
                return got;
            }
            got += n;
            thread::sleep(Duration::from_millis(5));
        }
    });
    let stopping = thread::spawn(move || server.stop());

    // The idle connection is closed at once.
    let mut nothing = Vec::new();
    idle.read_to_end(&mut nothing).unwrap();
    assert!(nothing.is_empty());

    assert_eq!(
        reader.join().unwrap(),
        total,
        "the response in flight is complete"
    );
    let (result, took) = stopping.join().unwrap();
    result.expect("shutdown returns Ok");
    assert!(
        took < Duration::from_secs(5),
        "no need for the grace period"
    );

    // Not accepting any more.
    let refused = TcpStream::connect(addr).map(|_| ()).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(stats.open(), 0);
}

#[test]
fn shutdown_cuts_connections_still_busy_after_the_grace_period() {
    let grace = Duration::from_millis(300);
    let (server, stats) = stream_server(grace);
    let mut stuck = server.connect();
    stuck.write_all(b"0\n").unwrap(); // endless, and never read
    wait_until("the stream to start", || {
        stats.produced.load(Ordering::SeqCst) > 0
    });
    let (result, took) = server.stop();
    result.expect("shutdown returns Ok after the grace period");
    assert!(
        took >= grace,
        "returned after {took:?}, before the grace period"
    );
    assert_eq!(stats.open(), 0, "the stuck session was dropped");
    // Its socket was closed: reading drains what was buffered, then ends.
    let mut buf = vec![0; 1 << 20];
    loop {
        match stuck.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[test]
fn a_flooding_connection_does_not_starve_the_others_of_its_thread() {
    let stats = Arc::new(Stats::default());
    let factory = Arc::new(StreamFactory {
        stats: stats.clone(),
    });
    let mut opts = options(100, Duration::from_millis(200));
    opts.threads = 1;
    let server = Server::tcp(opts, factory);
    // Two endless streams, each drained as fast as this side can read, until the small
    // request below is answered (or 20 s pass). The bound on the small request is generous
    // (this machine may be loaded); the floods outlast it, so it is served *during* them.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let mut flood = server.connect();
            flood.write_all(b"0\n").unwrap();
            let done = done.clone();
            thread::spawn(move || {
                let mut buf = vec![0; 1 << 20];
                let start = Instant::now();
                while !done.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(20) {
                    if flood.read(&mut buf).unwrap_or(0) == 0 {
                        break;
                    }
                }
            })
        })
        .collect();
    wait_until("the floods to start", || {
        stats.produced.load(Ordering::SeqCst) > 1 << 20
    });
    let start = Instant::now();
    let mut small = server.connect();
    small
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    small.write_all(b"10\n").unwrap();
    let mut reply = Vec::new();
    small
        .read_to_end(&mut reply)
        .expect("served while the floods run");
    done.store(true, Ordering::SeqCst);
    assert_eq!(reply, b"xxxxxxxxxx");
    assert!(start.elapsed() < Duration::from_secs(5));
    for reader in readers {
        reader.join().unwrap();
    }
    stats.wait_all_dropped();
    server.stop().0.unwrap();
}

/// Panics on any input: a bug in one session must not take the server down.
struct Boom;

impl Session for Boom {
    fn receive(&mut self, _now: Instant, _data: &[u8]) {
        panic!("test session bug (expected in this test)");
    }
    fn receive_eof(&mut self, _now: Instant) {}
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant, _out: &mut Vec<u8>, _budget: usize) {}
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn wants_read(&self) -> bool {
        true
    }
    fn is_done(&self) -> bool {
        false
    }
}

struct BoomOnPort {
    echo: EchoFactory,
    boom: std::sync::Mutex<bool>,
}

impl SessionFactory for BoomOnPort {
    fn session(
        &self,
        now: Instant,
        peer: std::net::SocketAddr,
        local: std::net::SocketAddr,
    ) -> Box<dyn Session> {
        let mut boom = self.boom.lock().unwrap();
        if std::mem::take(&mut *boom) {
            Box::new(Boom)
        } else {
            self.echo.session(now, peer, local)
        }
    }
}

#[test]
fn a_panicking_session_only_loses_its_own_connection() {
    let stats = Arc::new(Stats::default());
    let factory = Arc::new(BoomOnPort {
        echo: EchoFactory {
            idle: None,
            stats: stats.clone(),
        },
        boom: std::sync::Mutex::new(false),
    });
    let server = Server::tcp(options(10, Duration::from_secs(1)), factory.clone());
    let mut steady = server.connect();
    assert_eq!(round_trip(&mut steady, b"one\n"), b"one\n");

    *factory.boom.lock().unwrap() = true;
    let mut doomed = server.connect();
    doomed.write_all(b"boom\n").unwrap();
    let mut rest = Vec::new();
    // Closed (FIN or reset), never a reply.
    let _ = doomed.read_to_end(&mut rest);
    assert!(rest.is_empty());

    assert_eq!(round_trip(&mut steady, b"two\n"), b"two\n");
    let mut fresh = server.connect();
    assert_eq!(round_trip(&mut fresh, b"three\n"), b"three\n");
    drop((steady, fresh));
    stats.wait_all_dropped();
    server.stop().0.unwrap();
}
