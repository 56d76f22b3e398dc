//! Hostile and unusual clients: path traversal in several encodings, resets, half-closes,
//! garbage, stalled heads, pipelining, protocol errors with their statuses, timeouts, and
//! shutdown on SIGTERM/SIGINT. A misbehaving client must not disturb a good one, and the server
//! must give its file descriptors back.

use portline_tests::*;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// Closes with RST instead of FIN (SO_LINGER 0).
fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER");
    drop(stream);
}

/// Waits until the server's fd count is at most `limit`; returns the last count.
fn wait_fds(server: &Server, limit: usize, timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let n = server.fd_count();
        if n <= limit || Instant::now() >= deadline {
            return n;
        }
        sleep_ms(50);
    }
}

/// A kept-alive connection that must keep working while others misbehave.
struct GoodClient {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl GoodClient {
    fn new(server: &Server) -> GoodClient {
        let stream = connect(server.addr());
        let reader = BufReader::new(stream.try_clone().unwrap());
        GoodClient { stream, reader }
    }

    #[track_caller]
    fn check(&mut self, when: &str) {
        self.stream
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap_or_else(|e| panic!("good client, {when}: write: {e}"));
        let resp = read_response(&mut self.reader, false)
            .unwrap_or_else(|e| panic!("good client, {when}: {e}"));
        assert_eq!(resp.status, 200, "good client, {when}");
        assert_eq!(resp.body, HELLO, "good client, {when}");
    }
}

const TRAVERSALS: &[&str] = &[
    "/../secret.txt",
    "/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/tree/../../secret.txt",
    "/tree/%2e%2e/%2e%2e/secret.txt",
    "/tree/..%2f..%2fsecret.txt",
    "/.%2e/secret.txt",
    "//../secret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/%252e%252e/secret.txt",
    "/secret.txt%00",
    "/hello.txt%00/../../secret.txt",
    "/%00../secret.txt",
    "/escape.txt",
    "/escape_dir/secret.txt",
    "/escape_dir/root/hello.txt/../../secret.txt",
    "/tree/../escape.txt",
];

matrix!(
    path_traversal,
    hostile_clients,
    pipelining,
    http10_persistence,
    protocol_errors,
    timeouts,
    sigterm_graceful,
    sigint_exit,
    large_file_memory_bound,
    max_connections,
    slowloris_does_not_starve_real_clients,
    emfile_backoff,
    ipv6_loopback,
    request_bodies_framing,
    concurrent_chaos,
    header_timeout_counts_from_first_byte,
    many_slow_readers
);

/// No encoding of `..`, NUL or symlink reads a byte outside the root: 403 or 404 each time.
fn path_traversal(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let mut wrong = Vec::new();
    for path in TRAVERSALS {
        let out = run(
            Command::new("curl")
                .args([
                    "-s",
                    "-S",
                    "--max-time",
                    "10",
                    "--path-as-is",
                    "-o",
                    "-",
                    "-w",
                    "\n%{http_code}",
                ])
                .arg(format!("http://{}{}", server.addr(), path)),
            PEER_TIMEOUT,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains(SECRET_MARKER),
            "{path} returned the secret file:\n{text}"
        );
        let status = text.rsplit('\n').next().unwrap_or_default().to_string();
        if status != "403" && status != "404" {
            wrong.push(format!("{path} -> {status}"));
        }
    }
    // Raw requests curl would not send: no leading slash, absolute-form, backslashes.
    for target in [
        "../secret.txt",
        "http://x/../secret.txt",
        "/.%2e/.%2e/secret.txt",
    ] {
        let resp = exchange(
            server.addr(),
            format!("GET {target} HTTP/1.0\r\n\r\n").as_bytes(),
        );
        assert!(
            !String::from_utf8_lossy(&resp.body).contains(SECRET_MARKER),
            "{target} returned the secret"
        );
        if ![400, 403, 404].contains(&resp.status) {
            wrong.push(format!("{target} -> {}", resp.status));
        }
    }
    assert!(
        wrong.is_empty(),
        "traversal attempts not refused with 403/404: {wrong:?}"
    );
    // The server still serves normal files afterwards.
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
    // Dot segments that stay inside the root are normalised (RFC 3986 remove_dot_segments), as
    // nginx does, rather than refused.
    for path in [
        "/tree/../hello.txt",
        "/tree/sub/%2e%2e/../hello.txt",
        "/./hello.txt",
    ] {
        let resp = exchange(
            server.addr(),
            format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes(),
        );
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.body, HELLO, "{path}");
    }
}

/// Resets mid-request and mid-response, half-closes, garbage, a stalled head: a concurrent
/// kept-alive client is unaffected and the fd count returns near its baseline.
fn hostile_clients(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let mut good = GoodClient::new(&server);
    good.check("at start");
    let baseline = server.fd_count();

    // Reset in the middle of a request head.
    for _ in 0..20 {
        let mut s = connect(server.addr());
        s.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Partial: ")
            .unwrap();
        reset(s);
    }
    good.check("after resets mid-request");

    // Reset in the middle of a 4 MiB response.
    for _ in 0..10 {
        let mut s = connect(server.addr());
        s.write_all(b"GET /big.bin HTTP/1.0\r\n\r\n").unwrap();
        let mut buf = [0u8; 4096];
        s.read_exact(&mut buf).unwrap();
        reset(s);
    }
    good.check("after resets mid-response");

    // Half-close after a request: the answer still comes, then the server closes.
    for _ in 0..5 {
        let mut s = connect(server.addr());
        s.write_all(b"GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut reader = BufReader::new(s);
        let resp = read_response(&mut reader, false).expect("answer after half-close");
        assert_eq!(resp.status, 200);
        assert!(
            resp.body == fx.data,
            "half-closed client got a different body"
        );
        let mut rest = Vec::new();
        reader
            .read_to_end(&mut rest)
            .expect("server closes after the half-close");
        assert!(rest.is_empty(), "{} bytes after the response", rest.len());
    }
    good.check("after half-closes");

    // Garbage: the server answers 400 (or just closes), never hangs.
    for (i, junk) in [
        pseudo_random(3000, 9),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nBad\x00Header: y\r\n\r\n".to_vec(),
        b"\r\n\r\n\r\n\r\nGARBAGE\r\n\r\n".to_vec(),
    ]
    .iter()
    .enumerate()
    {
        let mut s = connect(server.addr());
        let _ = s.write_all(junk);
        let _ = s.shutdown(Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        if !out.is_empty() {
            let text = String::from_utf8_lossy(&out);
            assert!(
                text.starts_with("HTTP/1.0 4") || text.starts_with("HTTP/1.0 5"),
                "garbage {i} got: {text:?}"
            );
        }
    }
    good.check("after garbage");

    // A stalled head: the good client is served while it hangs.
    let mut stalled = connect(server.addr());
    stalled
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    good.check("while another head is stalled");
    // Many idle connections at once.
    let idle: Vec<TcpStream> = (0..50).map(|_| connect(server.addr())).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.fd_count() < baseline + 40 && Instant::now() < deadline {
        sleep_ms(20);
    }
    good.check("with 50 idle connections");
    let peak = server.fd_count();
    assert!(
        peak >= baseline + 40,
        "idle connections not accepted? {peak} fds (baseline {baseline})"
    );
    drop(idle);
    reset(stalled);

    // Everything we opened is closed: the server gives the descriptors back.
    let after = wait_fds(&server, baseline + 2, Duration::from_secs(10));
    assert!(
        after <= baseline + 2,
        "fd leak: {after} open, baseline {baseline} (peak {peak})"
    );
    good.check("at the end");
}

/// Three pipelined requests in one write are answered in order; bytes after a request that
/// ends the connection are not processed.
fn pipelining(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let mut s = connect(server.addr());
    s.write_all(
        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /data.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /tree/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let first = read_response(&mut reader, false).unwrap();
    assert_eq!((first.status, first.body.as_slice()), (200, HELLO));
    let second = read_response(&mut reader, true).unwrap();
    assert_eq!(second.status, 200);
    assert_eq!(second.header("content-length"), Some("102400"));
    let third = read_response(&mut reader, false).unwrap();
    assert_eq!(
        (third.status, third.body.as_slice()),
        (200, &b"file a\n"[..])
    );
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(
        rest.is_empty(),
        "answered after Connection: close: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

/// HTTP/1.0 persistence rules: without keep-alive the server closes; with it, the response
/// says so and the connection stays usable.
fn http10_persistence(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let mut s = connect(server.addr());
    s.write_all(b"GET /hello.txt HTTP/1.0\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let resp = read_response(&mut reader, false).unwrap();
    assert_eq!(resp.version, "HTTP/1.0");
    assert_ne!(
        resp.header("connection")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("keep-alive")
    );
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());

    let mut s = connect(server.addr());
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for _ in 0..3 {
        s.write_all(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let resp = read_response(&mut reader, false).unwrap();
        assert_eq!(resp.body, HELLO);
        assert!(
            resp.header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")),
            "{:?}",
            resp.headers
        );
    }
}

/// The core's error statuses reach the wire: 505, 400, 414, 431, 501.
fn protocol_errors(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let long_target = format!("GET /{} HTTP/1.0\r\n\r\n", "a".repeat(9000));
    let big_head = format!("GET / HTTP/1.0\r\n{}\r\n", "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(250));
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"GET / HTTP/2.0\r\n\r\n".to_vec(), 505),
        (b"GET / HTTP/1.0\r\nBad Header: x\r\n\r\n".to_vec(), 400),
        (b"GET  / HTTP/1.0\r\n\r\n".to_vec(), 400),
        (
            b"GET / HTTP/1.0\r\nContent-Length: 1x\r\n\r\n".to_vec(),
            400,
        ),
        (long_target.into_bytes(), 414),
        (big_head.into_bytes(), 431),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
            501,
        ),
    ];
    for (request, want) in cases {
        let resp = exchange(server.addr(), &request);
        let shown = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
        assert_eq!(resp.status, want, "{shown:?}");
        assert_eq!(resp.version, "HTTP/1.0");
    }
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
}

/// --idle-timeout and --header-timeout close connections that stop talking.
fn timeouts(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--idle-timeout", "1", "--header-timeout", "1"]);
    let mut idle = connect(server.addr());
    let mut reader = BufReader::new(idle.try_clone().unwrap());
    idle.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut reader, false).unwrap().body, HELLO);
    let mut slow = connect(server.addr());
    slow.write_all(b"GET /hello.txt HTTP/1.1\r\n").unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .expect("idle connection closed by the server");
    let idle_closed = started.elapsed();
    let mut out = Vec::new();
    let _ = slow.read_to_end(&mut out);
    let head_closed = started.elapsed();
    assert!(
        idle_closed < Duration::from_secs(4),
        "idle close after {idle_closed:?}"
    );
    assert!(
        head_closed < Duration::from_secs(4),
        "stalled head closed after {head_closed:?}"
    );
    // Closed without an answer, as nginx closes a head past `client_header_timeout`, and
    // logged as nginx logs it: 408, no bytes ("-", as the common log format writes none).
    assert!(out.is_empty(), "{:?}", String::from_utf8_lossy(&out));
    let timed_out = server.wait_log(1, Duration::from_secs(5), |l| l.ends_with("\" 408 -"));
    assert_eq!(timed_out.len(), 1, "{:?}", server.log());
    // And closed at once, not in a lingering close (which would read and drop these bytes for
    // 2 s): the server's socket is gone, so a byte sent now is answered by a reset, and a
    // write soon after fails.
    assert!(
        reset_within(&mut slow, Duration::from_secs(1)),
        "the timed-out connection still accepts bytes: a lingering close"
    );
    // Same for the idle connection closed by its timer.
    assert!(
        reset_within(&mut idle, Duration::from_secs(1)),
        "the idle connection still accepts bytes: a lingering close"
    );
}

/// Whether writing to `stream` (closed by the server) fails within `limit`: a byte every 20 ms
/// until one write errs (the reset of a closed socket), or the time is up.
fn reset_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if stream.write_all(b"x").is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// SIGTERM: a response in flight finishes, an idle kept-alive connection does not hold the
/// server up, new connections are refused, exit status 0.
fn sigterm_graceful(fe: Frontend) {
    let fx = Fixture::new();
    let mut server = fe.serve_http(&fx.root);
    let mut idle = connect(server.addr());
    let mut idle_reader = BufReader::new(idle.try_clone().unwrap());
    idle.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut idle_reader, false).unwrap().body, HELLO);

    let mut busy = connect(server.addr());
    busy.write_all(b"GET /big.bin HTTP/1.0\r\n\r\n").unwrap();
    let mut first = vec![0u8; 1024];
    busy.read_exact(&mut first).unwrap();
    server.signal("TERM");
    sleep_ms(300);
    let mut rest = Vec::new();
    busy.read_to_end(&mut rest)
        .expect("the in-flight response continues");
    first.extend_from_slice(&rest);
    let split = first
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head")
        + 4;
    assert!(
        first[split..] == fx.big[..],
        "in-flight response cut: {} of {} body bytes",
        first.len() - split,
        fx.big.len()
    );
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("server still running 10 s after SIGTERM");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        TcpStream::connect(server.addr()).is_err(),
        "still accepting after exit"
    );
}

/// SIGINT: exit status 0, promptly, when idle.
fn sigint_exit(fe: Frontend) {
    let fx = Fixture::new();
    let mut server = fe.serve_http(&fx.root);
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
    server.signal("INT");
    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("server still running 5 s after SIGINT");
    assert!(status.success(), "exit status after SIGINT: {status}");
    let mut line = fe.serve_line("echo");
    line.signal("TERM");
    let status = line
        .wait_exit(Duration::from_secs(5))
        .expect("line server still running 5 s after SIGTERM");
    assert!(
        status.success(),
        "line server exit status after SIGTERM: {status}"
    );
}

/// A 1 GiB file to a slow reader, then to a fast one: the server's memory stays within a few
/// MiB of where it started (large files stream in bounded chunks).
fn large_file_memory_bound(fe: Frontend) {
    let fx = Fixture::new();
    let huge = std::fs::File::create(fx.root.join("huge.bin")).unwrap();
    huge.set_len(1 << 30).unwrap(); // sparse: no disk space used
    drop(huge);
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    assert_eq!(get(server.addr(), "/data.bin").body, fx.data);
    let baseline = server.rss_kib();
    let mut slow = connect(server.addr());
    slow.write_all(b"GET /huge.bin HTTP/1.0\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 1 << 20];
    slow.read_exact(&mut buf).unwrap();
    sleep_ms(700);
    let stalled = server.rss_kib();
    // Now read 256 MiB as fast as we can.
    let mut total = 0usize;
    while total < 256 << 20 {
        let n = slow.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {total} bytes");
        total += n;
    }
    let streaming = server.rss_kib();
    reset(slow);
    eprintln!("RSS KiB: baseline {baseline}, slow reader {stalled}, after 256 MiB {streaming}");
    let budget = 32 * 1024;
    assert!(
        stalled <= baseline + budget && streaming <= baseline + budget,
        "RSS grew: baseline {baseline} KiB, slow reader {stalled} KiB, after 256 MiB {streaming} KiB"
    );
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
}

/// --max-connections 2, both taken by idle keep-alive connections: a third is admitted by
/// closing the one that has waited longest for a request (and the log says so). That is not
/// the oldest connection: the oldest was answered last, so it counts from that answer (a busy
/// keep-alive client between two requests is not the one to close). With both slots busy (request heads in,
/// bodies still to come to `--echo`, which needs them; the file server answers at the head and
/// only drops the rest, which is not busy), a third gets a 503 or waits, and is never served
/// meanwhile. (One thread: portline-mio evicts within the event loop that accepted, see
/// `admission`.)
fn max_connections(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--max-connections", "2", "--threads", "1"]);
    let mut first = GoodClient::new(&server);
    first.check("first of two");
    let mut second = GoodClient::new(&server);
    second.check("second of two");
    first.check("first again, answered last");
    // A connection counts as idle once its server side waits for input again, a moment after
    // the client has read its response: give the server that moment (CI once raced it).
    sleep_ms(500);
    let resp = get(server.addr(), "/hello.txt");
    assert_eq!(
        resp.status, 200,
        "a third connection is served by evicting an idle one"
    );
    let logged = server.wait_log(1, Duration::from_secs(5), |l| {
        l.contains("waiting longest for a request")
    });
    assert_eq!(
        logged.len(),
        1,
        "the eviction is logged once: {:?}",
        server.log()
    );
    // The second (idle since its answer, before the first's second answer) was closed; the
    // oldest, first, is still served.
    second
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = second.reader.read_to_end(&mut rest);
    assert!(rest.is_empty(), "evicted connection got {rest:?}");
    first.check("after the eviction");
    drop(first);

    // Busy: heads announcing bodies that never come hold both slots of a server that reads
    // bodies.
    let server = fe.serve_echo_with(&["--max-connections", "2", "--threads", "1"]);
    let busy: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = connect(server.addr());
            s.write_all(b"PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    sleep_ms(300);
    let mut third = connect(server.addr());
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let _ = third.write_all(b"GET /hello.txt HTTP/1.0\r\n\r\n");
    let mut out = Vec::new();
    let early = third.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    match early {
        Ok(_) | Err(_) if text.starts_with("HTTP/1.0 503") => eprintln!("over the limit: 503"),
        Ok(_) if text.is_empty() => eprintln!("over the limit: closed without a reply"),
        Err(e)
            if out.is_empty()
                && matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
        {
            eprintln!("over the limit: waiting in the backlog");
        }
        other => panic!("third connection with both slots busy: {other:?} {text:?}"),
    }
    drop(busy);
}

/// Slowloris at --max-connections 20: 40 clients that each send a partial head and then a byte
/// now and then. Well-behaved clients are still served every time (the slow connection waiting longest
/// is closed to admit them) instead of getting 503s.
fn slowloris_does_not_starve_real_clients(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(
        &fx.root,
        &[
            "--quiet",
            "--max-connections",
            "20",
            "--header-timeout",
            "30",
        ],
    );
    let mut slow: Vec<TcpStream> = Vec::new();
    for i in 0..40 {
        let mut s = connect(server.addr());
        let _ = s.write_all(format!("GET /hello.txt HTTP/1.1\r\nX-Slow-{i}: ").as_bytes());
        slow.push(s);
    }
    for round in 0..20 {
        for s in &mut slow {
            let _ = s.write_all(b"a");
        }
        let resp = get(server.addr(), "/hello.txt");
        assert_eq!(resp.status, 200, "round {round}: a real client was refused");
        assert_eq!(resp.body, HELLO);
        // Slow clients that were closed reconnect, as an attacker would.
        for (i, s) in slow.iter_mut().enumerate() {
            if s.write_all(b"b").is_err() {
                *s = connect(server.addr());
                let _ = s.write_all(format!("GET / HTTP/1.1\r\nX-Again-{i}: ").as_bytes());
            }
        }
    }
}

/// Out of file descriptors (ulimit -n 64, 100 connections, and a --max-connections above what
/// fits, since the default would stop at 16): the server backs off instead of spinning on
/// accept, and serves again once connections close.
fn emfile_backoff(fe: Frontend) {
    let fx = Fixture::new();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(fe.bin())
        .args([
            "serve",
            "http",
            "--quiet",
            "--max-connections",
            "1000",
            "--listen",
            "127.0.0.1:0",
            "--root",
        ])
        .arg(&fx.root);
    let server = Server::start_command(fe, cmd, "http");
    let held: Vec<TcpStream> = (0..100).map(|_| connect(server.addr())).collect();
    sleep_ms(300);
    let before = server.cpu_ticks();
    sleep_ms(1000);
    let used = server.cpu_ticks() - before;
    eprintln!("CPU ticks in 1 s while out of fds: {used}");
    assert!(
        used <= 50,
        "the server used {used} ticks of CPU in 1 s while out of fds (spinning?)"
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = connect(server.addr());
        let _ = s.write_all(b"GET /hello.txt HTTP/1.0\r\n\r\n");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        if out.ends_with(HELLO) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not serving again after the fds came back: {:?}",
            String::from_utf8_lossy(&out)
        );
        sleep_ms(200);
    }
}

/// Listening on [::1]:0: the ready line has the bracketed address and requests work.
fn ipv6_loopback(fe: Frontend) {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("notice: no IPv6 loopback on this machine; test skipped");
        return;
    }
    let fx = Fixture::new();
    let root = fx.root.to_str().unwrap();
    let server = Server::start(
        fe,
        &["serve", "http", "--listen", "[::1]:0", "--root", root],
        "http",
    );
    assert!(server.addr().is_ipv6());
    let resp = get(server.addr(), "/hello.txt");
    assert_eq!((resp.status, resp.body.as_slice()), (200, HELLO));
    let line = Server::start(
        fe,
        &["serve", "line", "--listen", "[::1]:0", "--service", "echo"],
        "tcp",
    );
    let mut s = connect(line.addr());
    s.write_all(b"six\n").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut s), b"six\n");
}

/// Request bodies (Content-Length and chunked) are read past, so the next request on the
/// connection is parsed from the right place.
fn request_bodies_framing(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let mut s = connect(server.addr());
    s.write_all(
        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\nGET /data.bin HTTP/1.1\r\n\r\n\
          GET /tree/a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nGET /\r\n10\r\nsecret.txt HTTP/\r\n0\r\n\r\n\
          GET /site/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let bodies: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let r =
                read_response(&mut reader, false).unwrap_or_else(|e| panic!("response {i}: {e}"));
            assert_eq!(r.status, 200, "response {i}");
            r.body
        })
        .collect();
    assert_eq!(
        bodies,
        [HELLO.to_vec(), b"file a\n".to_vec(), INDEX_HTML.to_vec()]
    );
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

/// Six threads mixing good keep-alive clients with resets, garbage and half-closes at once:
/// every good request is answered correctly, and the descriptors all come back.
fn concurrent_chaos(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
    let baseline = server.fd_count();
    let addr = server.addr();
    let data = std::sync::Arc::new(fx.data.clone());
    let workers: Vec<_> = (0..6)
        .map(|t| {
            let data = std::sync::Arc::clone(&data);
            std::thread::spawn(move || {
                for i in 0..40 {
                    match (t * 31 + i * 7) % 5 {
                        0 => {
                            let mut s = connect(addr);
                            let mut r = BufReader::new(s.try_clone().unwrap());
                            for path in ["/hello.txt", "/data.bin", "/hello.txt"] {
                                s.write_all(
                                    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
                                )
                                .unwrap();
                                let resp = read_response(&mut r, false)
                                    .unwrap_or_else(|e| panic!("thread {t} iteration {i}: {e}"));
                                let want: &[u8] = if path == "/hello.txt" { HELLO } else { &data };
                                assert!(
                                    resp.status == 200 && resp.body == want,
                                    "thread {t} iteration {i}: {path} wrong"
                                );
                            }
                        }
                        1 => {
                            let mut s = connect(addr);
                            s.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                                .unwrap();
                            let mut buf = vec![0u8; 10_000];
                            s.read_exact(&mut buf).unwrap();
                            reset(s);
                        }
                        2 => {
                            let mut s = connect(addr);
                            let _ = s.write_all(&pseudo_random(500, (t * 100 + i) as u64));
                            drop(s);
                        }
                        3 => {
                            let mut s = connect(addr);
                            s.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                                .unwrap();
                            s.shutdown(Shutdown::Write).unwrap();
                            let resp = read_response(&mut BufReader::new(s), false).unwrap();
                            assert_eq!(
                                resp.body, HELLO,
                                "thread {t} iteration {i}: half-closed client"
                            );
                        }
                        _ => {
                            let mut s = connect(addr);
                            s.write_all(b"GET /data.bin HTTP/1.1\r\nHo").unwrap();
                            reset(s);
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join()
            .expect("a chaos worker failed (see its panic above)");
    }
    let after = wait_fds(&server, baseline + 2, Duration::from_secs(10));
    assert!(
        after <= baseline + 2,
        "fd leak after the chaos: {after} open, baseline {baseline}"
    );
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
}

/// A head trickled one byte every 200 ms is cut off by --header-timeout counted from its first
/// byte (not reset by each byte that arrives).
fn header_timeout_counts_from_first_byte(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--header-timeout", "1", "--idle-timeout", "5"]);
    let mut s = connect(server.addr());
    let started = Instant::now();
    let request =
        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut cut_after = None;
    for byte in request {
        if s.write_all(&[*byte]).is_err() {
            cut_after = Some(started.elapsed());
            break;
        }
        sleep_ms(200);
        if started.elapsed() > Duration::from_secs(6) {
            break;
        }
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let closed = cut_after.unwrap_or(started.elapsed());
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.contains("Hello from portline"),
        "a head trickled over {closed:?} was served despite --header-timeout 1"
    );
    assert!(
        closed < Duration::from_secs(4),
        "the trickled head was cut only after {closed:?}"
    );
}

/// 40 clients each ask for 4 MiB and never read: the server's memory stays bounded and a
/// good client is served meanwhile; when they go, their descriptors come back.
fn many_slow_readers(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http_with(&fx.root, &["--quiet"]);
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
    let baseline_fds = server.fd_count();
    let baseline_rss = server.rss_kib();
    let stalled: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = connect(server.addr());
            s.write_all(b"GET /big.bin HTTP/1.0\r\n\r\n").unwrap();
            s
        })
        .collect();
    sleep_ms(1000);
    let mut good = GoodClient::new(&server);
    good.check("with 40 stalled readers");
    let rss = server.rss_kib();
    assert!(
        rss <= baseline_rss + 48 * 1024,
        "RSS {baseline_rss} -> {rss} KiB with 40 readers of 4 MiB that do not read"
    );
    for s in stalled {
        reset(s);
    }
    drop(good);
    let after = wait_fds(&server, baseline_fds + 2, Duration::from_secs(10));
    assert!(
        after <= baseline_fds + 2,
        "fd leak: {after} open, baseline {baseline_fds}"
    );
}
