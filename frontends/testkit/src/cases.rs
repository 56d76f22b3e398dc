//! The cases: what every runtime must do. Each is a function over the runtime's constructor
//! and can fail: it checks bytes, counts and times against a server of that runtime.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown as Half, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use portline_common::apps::get::output::Output;
use portline_common::apps::get::{GetOptions, GetSession};
use portline_common::apps::http_server::{FileServer, FileServerOptions};
use portline_common::{ClientError, Runtime, Session, Shutdown};

use crate::Make;
use crate::app::{Stats, TestFactory, UdpEcho, pattern};
use crate::harness::{
    IO_TIMEOUT, Server, eventually, options, read_all, read_line, read_stream, reset, send,
};

/// A server of [`TestFactory`] sessions, with a grace period of 5 s.
fn serve<R: Runtime + Send + 'static>(
    make: Make<R>,
    threads: usize,
    max_connections: usize,
    factory: TestFactory,
) -> Server {
    serve_with_grace(
        make,
        threads,
        max_connections,
        Duration::from_secs(5),
        factory,
    )
}

fn serve_with_grace<R: Runtime + Send + 'static>(
    make: Make<R>,
    threads: usize,
    max_connections: usize,
    grace: Duration,
    factory: TestFactory,
) -> Server {
    let stats = factory.stats.clone();
    let opts = options(threads, max_connections, grace);
    Server::tcp(make, opts, Arc::new(factory), stats)
}

/// 300 connections open at once, their requests interleaved: each gets its own answers.
pub fn many_concurrent_connections_each_get_their_own_answers<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    let mut server = serve(make, 4, 10_000, TestFactory::new());
    let mut conns: Vec<_> = (0..300).map(|_| server.connect()).collect();
    // Every connection is open at once; the rounds interleave their requests.
    for round in 0..5 {
        for (i, c) in conns.iter_mut().enumerate() {
            send(c, format!("conn {i} round {round}\n").as_bytes());
        }
    }
    for (i, c) in conns.into_iter().enumerate() {
        let mut reader = BufReader::new(c);
        for round in 0..5 {
            assert_eq!(read_line(&mut reader), format!("conn {i} round {round}\n"));
        }
    }
    eventually("all sessions closed", || server.stats.alive() == 0);
    assert_eq!(Stats::get(&server.stats.created), 300);
    server.stop().unwrap();
}

/// 2,000 lines and a large stream in one write: answered in order, input held back meanwhile.
pub fn pipelined_requests_are_answered_in_order<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut server = serve(make, 1, 100, TestFactory::new());
    let c = server.connect();
    let mut input = Vec::new();
    for i in 0..2_000 {
        input.extend_from_slice(format!("line {i}\n").as_bytes());
        if i == 1_000 {
            input.extend_from_slice(b"stream 100000\n");
        }
    }
    // One write with everything; the server answers in order, holding input it cannot parse yet.
    let writer = {
        let mut c = c.try_clone().unwrap();
        let input = input.clone();
        std::thread::spawn(move || c.write_all(&input))
    };
    let mut reader = BufReader::new(c.try_clone().unwrap());
    for i in 0..2_000 {
        assert_eq!(read_line(&mut reader), format!("line {i}\n"));
        if i == 1_000 {
            read_stream(&mut reader, 100_000);
        }
    }
    writer.join().unwrap().unwrap();
    c.shutdown(Half::Write).unwrap();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing after the answers: {rest:?}");
    server.stop().unwrap();
}

/// A reader that reads nothing: the session is no longer polled once the socket is full, so memory stays bounded; then every byte arrives.
pub fn a_slow_reader_stops_the_session_being_polled<R: Runtime + Send + 'static>(make: Make<R>) {
    const TOTAL: u64 = 64 * 1024 * 1024;
    let mut server = serve(make, 1, 100, TestFactory::new());
    let mut c = server.connect();
    send(&mut c, format!("stream {TOTAL}\n").as_bytes());
    // Read nothing: the server fills the socket buffers and must then stop producing.
    let stats = server.stats.clone();
    let mut last = (u64::MAX, u64::MAX);
    let mut stable_since = Instant::now();
    eventually("output stops growing while the reader stalls", || {
        let now = (Stats::get(&stats.polls), Stats::get(&stats.produced));
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
        now.1 > 0 && stable_since.elapsed() > Duration::from_millis(300)
    });
    let (polls, produced) = last;
    eprintln!("stalled reader: {produced} bytes produced in {polls} polls");
    // What was produced sits in the kernel's buffers plus at most one budget in the driver.
    assert!(
        produced < 16 * 1024 * 1024,
        "{produced} bytes produced for a reader that read nothing"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        Stats::get(&stats.polls),
        polls,
        "no poll_transmit while the tail is unwritten"
    );
    // Now read it all: the rest streams as the socket drains.
    read_stream(&mut c, TOTAL);
    assert_eq!(Stats::get(&stats.produced), TOTAL);
    c.shutdown(Half::Write).unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    server.stop().unwrap();
}

/// `nc -N`: write, half-close, read: every answer arrives, then the close.
pub fn half_close_flushes_the_replies_then_closes<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut server = serve(make, 1, 100, TestFactory::new());
    // Like `nc -N`: write, half-close, read to the end.
    let mut c = server.connect();
    send(&mut c, b"a\nb\nstream 300000\nlast, unterminated");
    c.shutdown(Half::Write).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got)
        .expect("the server closes after answering");
    assert_eq!(&got[..4], b"a\nb\n");
    let body = &got[4..4 + 300_000];
    assert!(
        body.iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(i as u64))
    );
    assert_eq!(&got[4 + 300_000..], b"last, unterminated");
    eventually("the session is dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}

/// Resets mid-response and mid-request: the other connections carry on.
pub fn a_peer_reset_mid_response_affects_no_other_connection<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    let mut server = serve(make, 2, 100, TestFactory::new());
    let mut other = server.connect();
    let mut other_reader = BufReader::new(other.try_clone().unwrap());
    send(&mut other, b"before\n");
    assert_eq!(read_line(&mut other_reader), "before\n");

    for _ in 0..5 {
        let mut victim = server.connect();
        send(&mut victim, b"stream 100000000\n");
        let mut buf = [0; 10_000];
        victim.read_exact(&mut buf).unwrap();
        // Close with unread data and SO_LINGER 0: the server sees a reset mid-write.
        reset(victim);
    }
    // Reset mid-request too: a line without its end.
    let mut half = server.connect();
    send(&mut half, b"no newline yet");
    reset(half);

    send(&mut other, b"after\n");
    assert_eq!(read_line(&mut other_reader), "after\n");
    eventually("the reset connections are closed", || {
        server.stats.alive() == 1
    });
    let fresh = server.connect();
    let mut fresh_reader = BufReader::new(fresh.try_clone().unwrap());
    send(&mut fresh_reader.get_mut().try_clone().unwrap(), b"fresh\n");
    assert_eq!(read_line(&mut fresh_reader), "fresh\n");
    drop(other);
    drop(other_reader);
    server.stop().unwrap();
}

/// Over `max_connections` (of connections that are not idle), the overload reply and a close; a slot frees when one closes.
pub fn max_connections_refuses_with_the_overload_reply<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut factory = TestFactory::new();
    factory.overload = Some(b"BUSY\n".to_vec());
    // One loop: each of N loops takes max/N of the limit (see portline_common::driver::admission).
    let mut server = serve(make, 1, 2, factory);
    let mut held: Vec<_> = (0..2)
        .map(|i| {
            let mut c = server.connect();
            send(&mut c, format!("hold {i}\n").as_bytes());
            let mut r = BufReader::new(c.try_clone().unwrap());
            assert_eq!(read_line(&mut r), format!("hold {i}\n"));
            c
        })
        .collect();
    let mut refused = server.connect();
    let mut got = Vec::new();
    refused.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"BUSY\n");
    assert_eq!(Stats::get(&server.stats.created), 2, "no session for it");

    // A slot frees when a connection closes.
    held.pop().unwrap().shutdown(Half::Both).unwrap();
    eventually("the closed one is released", || server.stats.alive() == 1);
    let mut again = server.connect();
    send(&mut again, b"welcome\n");
    let mut r = BufReader::new(again);
    assert_eq!(read_line(&mut r), "welcome\n");
    drop(held);
    server.stop().unwrap();
}

/// Each session's `poll_timeout` is armed and fired, one per connection.
pub fn session_deadlines_fire<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut factory = TestFactory::new();
    // Generous against a loaded machine: only a stall of 700 ms between pings could fail it.
    factory.idle = Some(Duration::from_millis(800));
    let mut server = serve(make, 1, 100, factory);
    let start = Instant::now();
    let mut quiet = server.connect();
    let mut busy = server.connect();
    let mut busy_reader = BufReader::new(busy.try_clone().unwrap());
    // The busy one keeps talking past the quiet one's deadline, moving its own deadline later.
    for i in 0..12 {
        send(&mut busy, format!("ping {i}\n").as_bytes());
        assert_eq!(read_line(&mut busy_reader), format!("ping {i}\n"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut got = Vec::new();
    quiet
        .read_to_end(&mut got)
        .expect("closed by its idle deadline");
    assert!(got.is_empty());
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(800),
        "closed early: {waited:?}"
    );
    // The busy one is still open, then times out in turn.
    send(&mut busy, b"still here\n");
    assert_eq!(read_line(&mut busy_reader), "still here\n");
    let mut rest = Vec::new();
    busy_reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    eventually("both sessions dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}

/// A connection waiting for input with its answers written has its session told to give back
/// its buffers (`Session::release_idle`) before the loop waits, after every answer, with no
/// other traffic to wake the loop (a driver may defer it while it has other work, never past
/// its wait).
pub fn an_idle_session_is_told_to_release_its_buffers<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut server = serve(make, 1, 100, TestFactory::new());
    let mut conn = server.connect();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let released = || Stats::get(&server.stats.released);
    for round in 0..3 {
        let before = released();
        send(&mut conn, format!("round {round}\n").as_bytes());
        assert_eq!(read_line(&mut reader), format!("round {round}\n"));
        eventually("release_idle once the answer is written", || {
            released() > before
        });
    }
    drop(reader);
    drop(conn);
    server.stop().unwrap();
}

/// Shutdown: idle connections close at once, accepting stops, the response in flight completes, then `serve_tcp` returns `Ok`.
pub fn shutdown_finishes_responses_in_flight_then_returns<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    const TOTAL: u64 = 32 * 1024 * 1024;
    let mut server = serve(make, 2, 100, TestFactory::new());
    let idle = server.connect();
    let mut busy = server.connect();
    send(&mut busy, format!("stream {TOTAL}\n").as_bytes());
    let mut first = [0; 1024];
    busy.read_exact(&mut first).unwrap();
    eventually("both connections accepted", || {
        Stats::get(&server.stats.created) == 2
    });

    server.shutdown.request();
    // The idle connection has nothing in flight: it is closed at once.
    let mut idle = idle;
    let mut got = Vec::new();
    idle.read_to_end(&mut got).unwrap();
    assert!(got.is_empty());
    // New connections are refused once the listeners are gone.
    eventually("the listener is closed", || {
        std::net::TcpStream::connect(server.addr).is_err()
    });
    // The response in flight completes, then the server closes it and returns.
    let mut rest = Vec::new();
    busy.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len() as u64 + 1024, TOTAL);
    server.stop().expect("serve_tcp returns Ok");
    assert_eq!(server.stats.alive(), 0);
}

/// Shutdown with a response that never ends: cut after the grace period, `Ok`.
pub fn shutdown_cuts_what_outlasts_the_grace_period<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut server = serve_with_grace(make, 1, 100, Duration::from_millis(300), TestFactory::new());
    let mut stalled = server.connect();
    send(&mut stalled, b"stream 1000000000\n");
    eventually("streaming started", || {
        Stats::get(&server.stats.produced) > 0
    });
    let start = Instant::now();
    server
        .stop()
        .expect("serve_tcp returns Ok after the grace period");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "returned before the grace period: {took:?}"
    );
    assert_eq!(server.stats.alive(), 0);
    drop(stalled);
}

/// Input a byte at a time gives the same answers.
pub fn byte_at_a_time_input_gives_the_same_answers<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut server = serve(make, 1, 100, TestFactory::new());
    let mut c = server.connect();
    c.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(c.try_clone().unwrap());
    for &b in b"one\ntwo\n" {
        c.write_all(&[b]).unwrap();
        c.flush().unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(read_line(&mut reader), "one\n");
    assert_eq!(read_line(&mut reader), "two\n");
    assert_eq!(Stats::get(&server.stats.bytes_received), 8);
    drop(reader);
    drop(c);
    eventually("closed", || server.stats.alive() == 0);
    server.stop().unwrap();
}

/// A session that ends with input unread: its last answer still arrives (a lingering close, not a reset).
pub fn closing_with_unread_input_still_delivers_the_last_answer<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    let mut server = serve(make, 1, 100, TestFactory::new());
    for _ in 0..5 {
        let mut c = server.connect();
        // `quit` ends the session with input still unread behind it: closing outright would
        // reset the connection and could destroy `bye` before the client reads it.
        let mut data = b"quit\n".to_vec();
        data.resize(100_000, b'z');
        send(&mut c, &data);
        let mut got = Vec::new();
        c.read_to_end(&mut got)
            .expect("an orderly end of stream, not a reset");
        assert_eq!(got, b"bye\n");
    }
    eventually("sessions dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}

/// UDP: each datagram answered, from the bound address, until shutdown.
pub fn udp_datagrams_are_answered_until_shutdown<R: Runtime + Send + 'static>(make: Make<R>) {
    let mut server = Server::udp(
        make,
        options(1, 1, Duration::from_secs(1)),
        Box::new(UdpEcho),
    );
    let addr = server.addr;
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut buf = [0; 2048];
    for i in 0..20 {
        let msg = format!("datagram {i}");
        client.send_to(msg.as_bytes(), addr).unwrap();
        let (n, from) = client.recv_from(&mut buf).unwrap();
        assert_eq!(from, addr);
        assert_eq!(&buf[..n], msg.as_bytes());
    }
    server.stop().expect("serve_udp returns Ok");
}

/// Sends a request line and collects the answer until the peer closes.
struct Collect {
    request: Vec<u8>,
    got: Vec<u8>,
    eof: bool,
}

impl Session for Collect {
    fn receive(&mut self, _now: Instant, data: &[u8]) {
        self.got.extend_from_slice(data);
    }
    fn receive_eof(&mut self, _now: Instant) {
        self.eof = true;
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>, budget: usize) {
        let n = self.request.len().min(budget);
        out.extend(self.request.drain(..n));
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn wants_read(&self) -> bool {
        !self.eof
    }
    fn is_done(&self) -> bool {
        self.eof
    }
}

/// `run_client`: a request larger than one budget goes out whole and the answer is read to the close.
pub fn run_client_sends_the_request_and_reads_to_the_end<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    // A plain blocking peer: answer each line upper-cased, then close after "bye".
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || -> io::Result<usize> {
        let (stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        let mut writer = stream.try_clone()?;
        let mut lines = 0;
        for line in BufReader::new(stream).lines() {
            let line = line?;
            writer.write_all(line.to_uppercase().as_bytes())?;
            writer.write_all(b"\n")?;
            lines += 1;
            if line == "bye" {
                break;
            }
        }
        Ok(lines)
    });
    // A request larger than one budget, so that it takes several writes.
    let mut request = Vec::new();
    for i in 0..20_000 {
        request.extend_from_slice(format!("line {i}\n").as_bytes());
    }
    request.extend_from_slice(b"bye\n");
    let expected = String::from_utf8(request.to_ascii_uppercase()).unwrap();
    let mut session = Collect {
        request,
        got: Vec::new(),
        eof: false,
    };
    let rt = make(Shutdown::new());
    rt.run_client(addr, IO_TIMEOUT, &mut session)
        .expect("the exchange completes");
    assert_eq!(peer.join().unwrap().unwrap(), 20_001);
    assert!(session.eof);
    assert_eq!(String::from_utf8(session.got).unwrap(), expected);
}

/// `run_client` to a closed port: a connect error.
pub fn run_client_reports_a_refused_connection_as_a_connect_error<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    // Bind then drop: nothing listens on that port now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut session = Collect {
        request: b"hello\n".to_vec(),
        got: Vec::new(),
        eof: false,
    };
    let rt = make(Shutdown::new());
    match rt.run_client(addr, IO_TIMEOUT, &mut session) {
        Err(ClientError::Connect(e)) => {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}")
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

/// `run_client` to a listener whose queue is full: a connect timeout, after the time given and not much later.
pub fn run_client_gives_up_connecting_after_the_timeout<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    // A listener that never accepts, its queue filled: further SYNs are dropped, so a connect
    // neither succeeds nor fails until the client's own timeout.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(s);
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut session = Collect {
        request: b"hello\n".to_vec(),
        got: Vec::new(),
        eof: false,
    };
    let rt = make(Shutdown::new());
    let start = Instant::now();
    let result = rt.run_client(addr, Duration::from_millis(300), &mut session);
    let took = start.elapsed();
    match result {
        Err(ClientError::Connect(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}"),
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < IO_TIMEOUT, "{took:?}");
    drop(fillers);
}

/// Two endless streams on a one-thread server, drained as fast as this side reads: a small
/// request is still answered meanwhile (a runtime that does not preempt must yield).
pub fn a_flooding_connection_does_not_starve_the_others_of_its_thread<
    R: Runtime + Send + 'static,
>(
    make: Make<R>,
) {
    let mut server = serve_with_grace(make, 1, 100, Duration::from_millis(200), TestFactory::new());
    // The floods outlast the small request (or 20 s), so it is served *during* them.
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let mut flood = server.connect();
            send(&mut flood, b"stream 1000000000000\n");
            let done = done.clone();
            std::thread::spawn(move || {
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
    eventually("the floods to start", || {
        Stats::get(&server.stats.produced) > 1 << 20
    });
    let start = Instant::now();
    let small = server.connect();
    let mut reader = BufReader::new(small.try_clone().unwrap());
    send(&mut small.try_clone().unwrap(), b"small\n");
    let reply = read_line(&mut reader);
    let took = start.elapsed();
    done.store(true, Ordering::SeqCst);
    assert_eq!(reply, "small\n");
    // A starved connection waits the floods' 20 s out; the read gives up after IO_TIMEOUT
    // (10 s) before that. A loaded 2-core machine took 5-8 s here, so the bound is that one.
    assert!(took < IO_TIMEOUT, "answered after {took:?}");
    for reader in readers {
        reader.join().unwrap();
    }
    drop((small, reader));
    eventually("every session dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}

/// A session that panics (a bug) loses its own connection only: the others on the same thread
/// or event loop, and new ones, are served on.
pub fn a_panicking_session_only_loses_its_own_connection<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    let mut server = serve(make, 1, 10, TestFactory::new());
    let steady = server.connect();
    let mut steady_reader = BufReader::new(steady.try_clone().unwrap());
    send(&mut steady.try_clone().unwrap(), b"one\n");
    assert_eq!(read_line(&mut steady_reader), "one\n");

    let mut doomed = server.connect();
    send(&mut doomed, b"boom\n");
    let mut rest = Vec::new();
    // Closed (FIN or reset), never a reply.
    let _ = doomed.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{rest:?}");

    send(&mut steady.try_clone().unwrap(), b"two\n");
    assert_eq!(read_line(&mut steady_reader), "two\n");
    let fresh = server.connect();
    let mut fresh_reader = BufReader::new(fresh.try_clone().unwrap());
    send(&mut fresh.try_clone().unwrap(), b"three\n");
    assert_eq!(read_line(&mut fresh_reader), "three\n");
    drop((steady, steady_reader, fresh, fresh_reader));
    eventually("every session dropped", || server.stats.alive() == 0);
    server.stop().unwrap();
}

// The file server over each runtime: the sessions of the binaries, not a test app.

/// A folder with `hello.txt` and a 3 MB `big.bin`; its bytes.
fn tree() -> (tempfile::TempDir, Vec<u8>) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hello.txt"), "hello world\n").unwrap();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(tmp.path().join("big.bin"), &big).unwrap();
    (tmp, big)
}

/// A file server of `root` (quiet), with `edit` applied to its options.
fn file_server<R: Runtime + Send + 'static>(
    make: Make<R>,
    root: &std::path::Path,
    max_connections: usize,
    edit: impl FnOnce(&mut FileServerOptions),
) -> Server {
    let mut o = FileServerOptions::new(root.to_path_buf());
    o.quiet = true;
    edit(&mut o);
    let factory = Arc::new(FileServer::new(o).unwrap());
    let opts = options(1, max_connections, Duration::from_secs(5));
    Server::tcp(make, opts, factory, Arc::default())
}

/// Read one response framed by Content-Length from a kept-alive connection.
fn read_response(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("a Content-Length")
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0; len];
    s.read_exact(&mut body).unwrap();
    (head, body)
}

/// `run_client` drives the `get` session: a 3 MB file arrives byte-exact; a closed port is a
/// connect error.
pub fn run_client_drives_a_get_session<R: Runtime + Send + 'static>(make: Make<R>) {
    #[derive(Clone)]
    struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let (tmp, big) = tree();
    let mut server = file_server(make, tmp.path(), 64, |_| {});
    let rt = make(Shutdown::new());
    let sink = Sink(Arc::default());
    let host = server.addr.to_string();
    let get = |output| {
        let opts = GetOptions::new("GET", "/big.bin", &host);
        GetSession::new(Instant::now(), opts, output).unwrap()
    };
    let mut session = get(Output::writer(Box::new(sink.clone())));
    rt.run_client(server.addr, IO_TIMEOUT, &mut session)
        .unwrap();
    assert_eq!(session.outcome().unwrap().as_ref().unwrap(), &200);
    assert!(*sink.0.lock().unwrap() == big, "the body is the file");

    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let mut session = get(Output::writer(Box::new(io::sink())));
    let err = rt.run_client(closed, IO_TIMEOUT, &mut session).unwrap_err();
    assert!(matches!(err, ClientError::Connect(_)), "{err}");
    server.stop().unwrap();
}

/// HTTP/1.1 keep-alive: three requests on one connection, each answered with its length.
pub fn the_file_server_keeps_connections_alive<R: Runtime + Send + 'static>(make: Make<R>) {
    let (tmp, _) = tree();
    let mut server = file_server(make, tmp.path(), 64, |_| {});
    let mut s = server.connect();
    for _ in 0..3 {
        send(&mut s, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        let (head, body) = read_response(&mut s);
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
        assert!(head.contains("Connection: keep-alive\r\n"), "{head}");
        assert_eq!(body, b"hello world\n");
    }
    server.stop().unwrap();
}

/// Full of busy connections (a body still to come), a new one gets the file server's 503; the
/// busy one is still answered.
pub fn the_file_server_answers_503_over_the_limit<R: Runtime + Send + 'static>(make: Make<R>) {
    let (tmp, _) = tree();
    let mut server = file_server(make, tmp.path(), 1, |_| {});
    let mut first = server.connect();
    send(&mut first, b"PUT /x HTTP/1.0\r\nContent-Length: 3\r\n\r\n");
    std::thread::sleep(Duration::from_millis(200));
    let resp = read_all(&server.connect());
    assert!(
        resp.starts_with(b"HTTP/1.0 503 "),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    send(&mut first, b"abc");
    let resp = read_all(&first);
    assert!(
        resp.starts_with(b"HTTP/1.0 405"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    server.stop().unwrap();
}

/// Full, with a connection that has sent nothing (waiting since it opened): it is closed to
/// admit the newcomer.
pub fn when_full_the_longest_waiting_connection_makes_room<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    let (tmp, _) = tree();
    let mut server = file_server(make, tmp.path(), 1, |_| {});
    let idle = server.connect();
    std::thread::sleep(Duration::from_millis(200));
    let mut second = server.connect();
    send(&mut second, b"GET /hello.txt HTTP/1.0\r\n\r\n");
    let resp = read_all(&second);
    assert!(
        resp.starts_with(b"HTTP/1.0 200 OK"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    assert!(read_all(&idle).is_empty(), "closed without a word");
    server.stop().unwrap();
}

/// The core's first-byte timeout, through the driver's timer: a silent connection is closed
/// after it, not before and not much later.
pub fn the_first_byte_timeout_closes_a_silent_connection<R: Runtime + Send + 'static>(
    make: Make<R>,
) {
    let (tmp, _) = tree();
    let mut server = file_server(make, tmp.path(), 64, |o| {
        o.config.limits.first_byte_timeout = Duration::from_millis(200);
    });
    let s = server.connect();
    let started = Instant::now();
    assert!(read_all(&s).is_empty(), "closed without a byte");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(150), "closed after {took:?}");
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    server.stop().unwrap();
}

/// A request refused at once, followed by bytes never read: the 400 still arrives (a close
/// with unread input would send a reset that can destroy it).
pub fn an_error_reply_survives_unread_input<R: Runtime + Send + 'static>(make: Make<R>) {
    let (tmp, _) = tree();
    let mut server = file_server(make, tmp.path(), 64, |_| {});
    for _ in 0..5 {
        let s = server.connect();
        let mut req = b"BAD REQUEST LINE\r\n\r\n".to_vec();
        req.extend(std::iter::repeat_n(b'x', 200_000));
        // From another thread: the server stops reading, so this may block until its close.
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = w.write_all(&req);
        });
        std::thread::sleep(Duration::from_millis(50));
        let mut resp = Vec::new();
        let r = (&s).read_to_end(&mut resp);
        assert!(
            resp.starts_with(b"HTTP/1.0 400 "),
            "{r:?}: {}",
            String::from_utf8_lossy(&resp)
        );
        drop(s);
        writer.join().unwrap();
    }
    server.stop().unwrap();
}
