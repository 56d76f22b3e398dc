//! The std runtime in-process on 127.0.0.1:0: real sockets, bounded waits, every thread and
//! server stopped before the test ends.

use std::io::{Read, Write};
use std::net::{Shutdown as Half, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portline_common::apps::get::output::Output;
use portline_common::apps::get::{GetOptions, GetSession};
use portline_common::apps::http_server::{FileServer, FileServerOptions};
use portline_common::driver::shutdown::Shutdown;
use portline_common::{DatagramService, Runtime, ServerOptions, SessionFactory};
use portline_std::StdRuntime;

const WAIT: Duration = Duration::from_secs(10);

fn opts(max_connections: usize) -> ServerOptions {
    ServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        threads: 1,
        max_connections,
        grace: Duration::from_secs(5),
    }
}

/// A running server: its address, its shutdown flag, its thread.
struct Running {
    addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn stop(mut self) -> std::io::Result<()> {
        self.shutdown.request();
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shutdown.request();
            let _ = t.join();
        }
    }
}

fn start_tcp(factory: Arc<dyn SessionFactory>, max_connections: usize) -> Running {
    let shutdown = Shutdown::new();
    let rt = StdRuntime::with_shutdown(shutdown.clone());
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        rt.serve_tcp(&opts(max_connections), factory, &mut |a| {
            tx.send(a).unwrap();
        })
    });
    let addr = rx.recv_timeout(WAIT).expect("the server is ready");
    Running {
        addr,
        shutdown,
        thread: Some(thread),
    }
}

fn file_server(root: &std::path::Path) -> Arc<FileServer> {
    let mut o = FileServerOptions::new(root.to_path_buf());
    o.quiet = true;
    Arc::new(FileServer::new(o).unwrap())
}

fn tree() -> (tempfile::TempDir, Vec<u8>) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hello.txt"), "hello world\n").unwrap();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(tmp.path().join("big.bin"), &big).unwrap();
    (tmp, big)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s
}

/// Read until the peer closes.
fn read_all(mut s: &TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    v
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
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0; len];
    s.read_exact(&mut body).unwrap();
    (head, body)
}

fn body_of(response: &[u8]) -> &[u8] {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    &response[end..]
}

#[test]
fn serves_files_byte_exact_and_stops_cleanly() {
    let (tmp, big) = tree();
    let server = start_tcp(file_server(tmp.path()), 64);
    let s = connect(server.addr);
    (&s).write_all(b"GET /big.bin HTTP/1.0\r\n\r\n").unwrap();
    let resp = read_all(&s);
    assert!(resp.starts_with(b"HTTP/1.0 200 OK\r\n"));
    assert!(body_of(&resp) == &big[..], "the body is the file");
    server.stop().unwrap();
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let (tmp, _) = tree();
    let server = start_tcp(file_server(tmp.path()), 64);
    let mut s = connect(server.addr);
    for _ in 0..3 {
        s.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (head, body) = read_response(&mut s);
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
        assert!(head.contains("Connection: keep-alive\r\n"), "{head}");
        assert_eq!(body, b"hello world\n");
    }
    server.stop().unwrap();
}

/// nc -N: the request, then a half-close; the response still arrives in full.
#[test]
fn half_close_after_the_request_still_gets_the_response() {
    let (tmp, big) = tree();
    let server = start_tcp(file_server(tmp.path()), 64);
    let s = connect(server.addr);
    (&s).write_all(b"GET /big.bin HTTP/1.0\n\n").unwrap();
    s.shutdown(Half::Write).unwrap();
    let resp = read_all(&s);
    assert!(body_of(&resp) == &big[..]);
    server.stop().unwrap();
}

/// A reader slower than the server: write_all waits, the bytes arrive whole and in order.
#[test]
fn a_slow_reader_gets_every_byte() {
    let (tmp, big) = tree();
    let server = start_tcp(file_server(tmp.path()), 64);
    let mut s = connect(server.addr);
    s.write_all(b"GET /big.bin HTTP/1.0\r\n\r\n").unwrap();
    let mut resp = Vec::new();
    let mut buf = [0u8; 7919];
    let mut reads = 0;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        resp.extend_from_slice(&buf[..n]);
        reads += 1;
        if reads % 64 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert!(body_of(&resp) == &big[..]);
    server.stop().unwrap();
}

#[test]
fn over_max_connections_gets_the_overload_reply() {
    let (tmp, _) = tree();
    let server = start_tcp(file_server(tmp.path()), 1);
    // The first connection is busy: a head announcing a body that has not come yet.
    let first = connect(server.addr);
    (&first)
        .write_all(b"PUT /x HTTP/1.0\r\nContent-Length: 3\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let second = connect(server.addr);
    let resp = read_all(&second);
    assert!(
        resp.starts_with(b"HTTP/1.0 503 "),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    // The first one is still answered.
    (&first).write_all(b"abc").unwrap();
    let resp = read_all(&first);
    assert!(
        resp.starts_with(b"HTTP/1.0 405"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    server.stop().unwrap();
}

#[test]
fn when_full_the_oldest_idle_connection_makes_room() {
    let (tmp, _) = tree();
    let server = start_tcp(file_server(tmp.path()), 1);
    let idle = connect(server.addr);
    std::thread::sleep(Duration::from_millis(200));
    let second = connect(server.addr);
    (&second)
        .write_all(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        .unwrap();
    let resp = read_all(&second);
    assert!(
        resp.starts_with(b"HTTP/1.0 200 OK"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    assert!(
        read_all(&idle).is_empty(),
        "the idle one was closed without a word"
    );
    server.stop().unwrap();
}

/// Shutdown while a large response is in flight: accepting stops, the response completes,
/// serve_tcp returns Ok.
#[test]
fn shutdown_finishes_responses_in_flight() {
    let (tmp, big) = tree();
    let server = start_tcp(file_server(tmp.path()), 64);
    let addr = server.addr;
    let mut s = connect(addr);
    s.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 1024];
    s.read_exact(&mut first).unwrap();
    let shutdown = server.shutdown.clone();
    shutdown.request();
    // Accepting has stopped (the connection is refused, or accepted by the backlog and closed
    // without an answer).
    std::thread::sleep(Duration::from_millis(100));
    if let Ok(late) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        late.set_read_timeout(Some(WAIT)).unwrap();
        let _ = (&late).write_all(b"GET /hello.txt HTTP/1.0\r\n\r\n");
        let mut v = Vec::new();
        let _ = (&late).read_to_end(&mut v);
        assert!(v.is_empty(), "a connection after shutdown is not served");
    }
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    let mut resp = first.to_vec();
    resp.extend_from_slice(&rest);
    assert!(
        body_of(&resp) == &big[..],
        "the response in flight completed"
    );
    let started = Instant::now();
    server.stop().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn run_client_drives_a_get_session() {
    let (tmp, big) = tree();
    let server = start_tcp(file_server(tmp.path()), 64);
    let rt = StdRuntime::with_shutdown(Shutdown::new());
    let sink = Arc::new(std::sync::Mutex::new(Vec::new()));
    struct W(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let host = server.addr.to_string();
    let opts = || GetOptions::new("GET", "/big.bin", &host);
    let mut session = GetSession::new(
        Instant::now(),
        opts(),
        Output::writer(Box::new(W(sink.clone()))),
    )
    .unwrap();
    rt.run_client(server.addr, WAIT, &mut session).unwrap();
    assert_eq!(session.outcome().unwrap().as_ref().unwrap(), &200);
    assert!(*sink.lock().unwrap() == big);

    // A refused connection is a connect error.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut session = GetSession::new(
        Instant::now(),
        opts(),
        Output::writer(Box::new(std::io::sink())),
    )
    .unwrap();
    let err = rt.run_client(closed, WAIT, &mut session).unwrap_err();
    assert!(err.to_string().starts_with("connect: "), "{err}");
    server.stop().unwrap();
}

/// Echoes each datagram upper-cased (a test service, so the test checks the runtime only).
struct Upper;

impl DatagramService for Upper {
    fn handle_datagram(
        &mut self,
        _now: Instant,
        _peer: SocketAddr,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        out.extend(data.iter().map(u8::to_ascii_uppercase));
        !data.is_empty()
    }
}

#[test]
fn udp_serve_answers_datagrams_and_stops() {
    let shutdown = Shutdown::new();
    let rt = StdRuntime::with_shutdown(shutdown.clone());
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        rt.serve_udp(&opts(1), Box::new(Upper), &mut |a| tx.send(a).unwrap())
    });
    let addr: SocketAddr = rx.recv_timeout(WAIT).unwrap();
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(WAIT)).unwrap();
    for msg in [&b"hello"[..], b"second datagram"] {
        c.send_to(msg, addr).unwrap();
        let mut buf = [0u8; 100];
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!(from, addr);
        assert_eq!(&buf[..n], &msg.to_ascii_uppercase()[..]);
    }
    shutdown.request();
    thread.join().unwrap().unwrap();
}

/// A session that never finishes reading: the first-byte timeout of the core is what closes a
/// silent connection, through the read timeout the driver sets from poll_timeout.
#[test]
fn idle_connections_are_closed_by_the_session_deadline() {
    let (tmp, _) = tree();
    let mut o = FileServerOptions::new(tmp.path().to_path_buf());
    o.quiet = true;
    o.config.limits.first_byte_timeout = Duration::from_millis(200);
    let server = start_tcp(Arc::new(FileServer::new(o).unwrap()), 64);
    let s = connect(server.addr);
    let started = Instant::now();
    assert!(read_all(&s).is_empty(), "closed without a byte");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(150), "closed after {took:?}");
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    server.stop().unwrap();
}

/// Sessions other than HTTP go through the same driver: a line service over TCP.
#[test]
fn line_service_over_tcp() {
    use portline_common::apps::line_service::{LineOptions, ServiceKind, tcp_factory};
    let server = start_tcp(
        tcp_factory(&LineOptions {
            service: ServiceKind::Echo,
            telnet: false,
            max_line: 8192,
        }),
        64,
    );
    let s = connect(server.addr);
    (&s).write_all(b"one\r\ntwo\n").unwrap();
    s.shutdown(Half::Write).unwrap();
    let got = read_all(&s);
    assert_eq!(
        got, b"one\r\ntwo\n",
        "echo sends back exactly the bytes (RFC 862)"
    );
    server.stop().unwrap();
}

/// A request the server rejects at once, followed by bytes it never reads: the error reply
/// must still arrive (a close with unread input would send a reset that can destroy it).
#[test]
fn an_error_reply_survives_unread_input() {
    let (tmp, _) = tree();
    let server = start_tcp(file_server(tmp.path()), 64);
    for _ in 0..5 {
        let s = connect(server.addr);
        let mut req = b"BAD REQUEST LINE\r\n\r\n".to_vec();
        req.extend(std::iter::repeat_n(b'x', 200_000));
        // Written from another thread: the server stops reading, so this may block until
        // the server's close.
        let w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = (&w).write_all(&req);
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
