//! The file-server session driven in memory with raw request bytes: no sockets, no threads.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use portline_common::Session;
use portline_common::apps::http_server::{FileServer, FileServerOptions, HttpSession};

const PEER: &str = "127.0.0.1:50000";

fn server(root: &Path) -> FileServer {
    let mut opts = FileServerOptions::new(root.to_path_buf());
    opts.quiet = true;
    FileServer::new(opts).unwrap()
}

fn session(server: &FileServer) -> HttpSession {
    server.http_session(Instant::now(), PEER.parse::<SocketAddr>().unwrap())
}

/// Everything the session has to send now, in budget-sized calls.
fn drain(s: &mut HttpSession, budget: usize) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let mut out = Vec::new();
        s.poll_transmit(Instant::now(), &mut out, budget);
        if out.is_empty() {
            return all;
        }
        all.extend_from_slice(&out);
    }
}

/// Feed `request` (whole, or one byte at a time), then return the output.
fn exchange(server: &FileServer, request: &[u8], bytewise: bool) -> (Vec<u8>, HttpSession) {
    let mut s = session(server);
    let mut out = Vec::new();
    if bytewise {
        for b in request {
            s.receive(Instant::now(), std::slice::from_ref(b));
            out.extend(drain(&mut s, 64 * 1024));
        }
    } else {
        s.receive(Instant::now(), request);
        out.extend(drain(&mut s, 64 * 1024));
    }
    (out, s)
}

/// A parsed response: status, header fields, body.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Split `bytes` into responses, using Content-Length (the server always sends it) and
/// `no_body` for responses to HEAD.
fn parse(mut bytes: &[u8], no_body: bool) -> Vec<Resp> {
    let mut v = Vec::new();
    while !bytes.is_empty() {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head")
            + 4;
        let head = std::str::from_utf8(&bytes[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.0 "), "{status_line}");
        let status = status_line[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(": ").unwrap();
                (n.to_string(), v.to_string())
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let body_len = if no_body || status == 304 { 0 } else { len };
        let body = bytes[end..end + body_len].to_vec();
        bytes = &bytes[end + body_len..];
        v.push(Resp {
            status,
            headers,
            body,
        });
    }
    v
}

fn root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hello.txt"), "hello world\n").unwrap();
    std::fs::write(tmp.path().join("page.html"), "<p>hi</p>").unwrap();
    std::fs::write(tmp.path().join("empty.bin"), "").unwrap();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    std::fs::write(tmp.path().join("sub/<b>.txt"), "b").unwrap();
    std::fs::create_dir(tmp.path().join("site")).unwrap();
    std::fs::write(tmp.path().join("site/index.html"), "<h1>site</h1>").unwrap();
    tmp
}

#[test]
fn get_serves_files_with_type_length_date_and_server() {
    let tmp = root();
    let srv = server(tmp.path());
    for bytewise in [false, true] {
        let (out, s) = exchange(&srv, b"GET /hello.txt HTTP/1.0\r\n\r\n", bytewise);
        let r = &parse(&out, false)[0];
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"hello world\n");
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("content-length"), Some("12"));
        assert_eq!(r.header("server"), Some("portline/0.1"));
        let date = httpdate::parse_http_date(r.header("date").unwrap()).unwrap();
        let skew = SystemTime::now().duration_since(date).unwrap_or_default();
        assert!(skew < Duration::from_secs(5));
        assert!(r.header("last-modified").is_some());
        assert!(s.is_done(), "HTTP/1.0 without keep-alive closes");
    }
    let (out, _) = exchange(&srv, b"GET /page.html HTTP/1.0\r\n\r\n", false);
    assert_eq!(
        parse(&out, false)[0].header("content-type"),
        Some("text/html")
    );
    let (out, _) = exchange(&srv, b"GET /empty.bin HTTP/1.0\r\n\r\n", false);
    let r = &parse(&out, false)[0];
    assert_eq!((r.status, r.header("content-length")), (200, Some("0")));
}

#[test]
fn head_sends_the_head_only() {
    let tmp = root();
    let srv = server(tmp.path());
    let (out, _) = exchange(&srv, b"HEAD /hello.txt HTTP/1.0\r\n\r\n", false);
    assert!(out.ends_with(b"\r\n\r\n"), "no body after the head");
    let r = &parse(&out, true)[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("12"));
}

#[test]
fn other_methods_get_405_with_allow() {
    let tmp = root();
    let srv = server(tmp.path());
    for req in [
        &b"POST /hello.txt HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"[..],
        b"DELETE /hello.txt HTTP/1.0\r\n\r\n",
        b"OPTIONS * HTTP/1.0\r\n\r\n",
    ] {
        let (out, _) = exchange(&srv, req, false);
        let r = &parse(&out, false)[0];
        assert_eq!(r.status, 405, "{}", String::from_utf8_lossy(req));
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    // The file was not touched.
    assert_eq!(
        std::fs::read(tmp.path().join("hello.txt")).unwrap(),
        b"hello world\n"
    );
}

#[test]
fn if_modified_since_gives_304() {
    let tmp = root();
    let srv = server(tmp.path());
    let (out, _) = exchange(&srv, b"GET /hello.txt HTTP/1.0\r\n\r\n", false);
    let lm = parse(&out, false)[0]
        .header("last-modified")
        .unwrap()
        .to_string();
    let req = format!("GET /hello.txt HTTP/1.0\r\nIf-Modified-Since: {lm}\r\n\r\n");
    let (out, _) = exchange(&srv, req.as_bytes(), false);
    assert!(out.ends_with(b"\r\n\r\n"), "a 304 has no body");
    let r = &parse(&out, false)[0];
    assert_eq!(r.status, 304);
    assert_eq!(r.header("last-modified"), Some(lm.as_str()));
    // An older date, or an unparsable one, gets the file.
    for ims in ["Thu, 01 Jan 1970 00:00:00 GMT", "yesterday"] {
        let req = format!("GET /hello.txt HTTP/1.0\r\nIf-Modified-Since: {ims}\r\n\r\n");
        let (out, _) = exchange(&srv, req.as_bytes(), false);
        let r = &parse(&out, false)[0];
        assert_eq!(
            (r.status, &r.body[..]),
            (200, &b"hello world\n"[..]),
            "{ims}"
        );
    }
}

#[test]
fn errors_404_403_and_directory_handling() {
    let tmp = root();
    let srv = server(tmp.path());
    let status = |req: &[u8]| parse(&exchange(&srv, req, false).0, false)[0].status;
    assert_eq!(status(b"GET /missing HTTP/1.0\r\n\r\n"), 404);
    assert_eq!(status(b"GET /../etc/passwd HTTP/1.0\r\n\r\n"), 403);
    assert_eq!(
        status(b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n"),
        403
    );
    assert_eq!(
        status(b"GET /sub%2f..%2f..%2fetc%2fpasswd HTTP/1.0\r\n\r\n"),
        403
    );
    assert_eq!(status(b"GET /hello.txt%00 HTTP/1.0\r\n\r\n"), 403);

    let (out, _) = exchange(&srv, b"GET /sub HTTP/1.0\r\n\r\n", false);
    let r = &parse(&out, false)[0];
    assert_eq!((r.status, r.header("location")), (301, Some("/sub/")));

    let (out, _) = exchange(&srv, b"GET /sub/ HTTP/1.0\r\n\r\n", false);
    let r = &parse(&out, false)[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let page = String::from_utf8(r.body.clone()).unwrap();
    assert!(
        page.contains("<a href=\"%3Cb%3E.txt\">&lt;b&gt;.txt</a>"),
        "{page}"
    );

    let (out, _) = exchange(&srv, b"GET /site/ HTTP/1.0\r\n\r\n", false);
    assert_eq!(parse(&out, false)[0].body, b"<h1>site</h1>");
}

#[test]
fn protocol_errors_get_the_core_status_and_close() {
    let tmp = root();
    let srv = server(tmp.path());
    let cases: &[(&[u8], u16)] = &[
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET  / HTTP/1.0\r\n\r\n", 400),
        (b"G(T / HTTP/1.0\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\nBad Name: x\r\n\r\n", 400),
    ];
    for (req, want) in cases {
        let (out, s) = exchange(&srv, req, false);
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with(&format!("HTTP/1.0 {want} ")),
            "{}: {text}",
            String::from_utf8_lossy(req)
        );
        assert!(s.is_done(), "the connection closes after an error");
    }
    let long = format!("GET /{} HTTP/1.0\r\n\r\n", "a".repeat(9000));
    let (out, _) = exchange(&srv, long.as_bytes(), false);
    assert!(
        out.starts_with(b"HTTP/1.0 414 "),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn keep_alive_and_pipelining_answer_in_order() {
    let tmp = root();
    let srv = server(tmp.path());
    let req = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n\
HEAD /page.html HTTP/1.1\r\nHost: x\r\n\r\n\
GET /missing HTTP/1.1\r\nHost: x\r\n\r\n\
GET /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for bytewise in [false, true] {
        let (out, s) = exchange(&srv, req, bytewise);
        // HEAD's answer has no body: parse it by hand in sequence.
        let first = parse(
            &out[..out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4 + 12],
            false,
        );
        assert_eq!(first[0].status, 200);
        assert_eq!(first[0].header("connection"), Some("keep-alive"));
        let text = String::from_utf8_lossy(&out);
        let statuses: Vec<&str> = text
            .match_indices("HTTP/1.0 ")
            .map(|(i, _)| &text[i + 9..i + 12])
            .collect();
        assert_eq!(statuses, ["200", "200", "404", "200"], "{text}");
        assert!(text.ends_with("<p>hi</p>"));
        assert!(s.is_done(), "Connection: close ends it");
    }
}

#[test]
fn http09_gets_the_body_alone() {
    let tmp = root();
    let srv = server(tmp.path());
    let (out, s) = exchange(&srv, b"GET /hello.txt\r\n", false);
    assert_eq!(out, b"hello world\n");
    assert!(s.is_done());
}

#[test]
fn idle_keep_alive_connection_times_out() {
    let tmp = root();
    let mut opts = FileServerOptions::new(tmp.path().to_path_buf());
    opts.quiet = true;
    opts.config.limits.idle_timeout = Duration::from_millis(1);
    let srv = FileServer::new(opts).unwrap();
    let (out, mut s) = exchange(
        &srv,
        b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        false,
    );
    assert_eq!(parse(&out, false)[0].status, 200);
    assert!(!s.is_done());
    let deadline = s.poll_timeout().expect("an idle deadline");
    s.handle_timeout(deadline + Duration::from_millis(1));
    let _ = drain(&mut s, 1024);
    assert!(s.is_done());
}

/// A head that does not arrive in time gets no answer, as nginx answers none for
/// `client_header_timeout`, and the driver closes without lingering: nothing is owed.
#[test]
fn a_timed_out_head_closes_without_an_answer_or_a_linger() {
    let tmp = root();
    let srv = server(tmp.path());
    let mut s = session(&srv);
    s.receive(Instant::now(), b"GET /hel");
    assert!(drain(&mut s, 1024).is_empty());
    let deadline = s.poll_timeout().expect("a head deadline");
    assert!(s.lingers(), "lingers until the timer fires");
    s.handle_timeout(deadline + Duration::from_millis(1));
    let out = drain(&mut s, 1024);
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert!(s.is_done());
    assert!(!s.lingers());
}

/// Closed by the idle or first-byte timer: no linger either.
#[test]
fn idle_and_first_byte_timeouts_close_without_a_linger() {
    let tmp = root();
    let srv = server(tmp.path());
    let mut fresh = session(&srv);
    let deadline = fresh.poll_timeout().expect("a first-byte deadline");
    fresh.handle_timeout(deadline + Duration::from_millis(1));
    assert!(drain(&mut fresh, 1024).is_empty());
    assert!(fresh.is_done() && !fresh.lingers());

    let (out, mut kept) = exchange(&srv, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", false);
    assert_eq!(parse(&out, false)[0].status, 200);
    let deadline = kept.poll_timeout().expect("an idle deadline");
    kept.handle_timeout(deadline + Duration::from_millis(1));
    assert!(drain(&mut kept, 1024).is_empty());
    assert!(kept.is_done() && !kept.lingers());
}

/// An answer that closes the connection lingers, so that the client reads it.
#[test]
fn an_answer_that_closes_lingers() {
    let tmp = root();
    let srv = server(tmp.path());
    let (out, s) = exchange(&srv, b"GET /hello.txt HTTP/1.0\r\n\r\n", false);
    assert_eq!(parse(&out, false)[0].status, 200);
    assert!(s.is_done() && s.lingers());
}

/// A 1 GiB file streams through budget-sized calls: no call ever returns more than the budget
/// plus one response head, so memory stays bounded however large the file is.
#[test]
fn large_files_stream_within_the_budget() {
    const SIZE: u64 = 1 << 30;
    const BUDGET: usize = 64 * 1024;
    const HEAD_MAX: usize = 512;
    let tmp = root();
    let f = std::fs::File::create(tmp.path().join("huge.bin")).unwrap();
    f.set_len(SIZE).unwrap(); // sparse: no disk used
    let srv = server(tmp.path());
    let mut s = session(&srv);
    s.receive(Instant::now(), b"GET /huge.bin HTTP/1.0\r\n\r\n");
    let mut total = 0u64;
    let mut head_len = None;
    let mut largest = 0;
    let mut out = Vec::with_capacity(BUDGET + HEAD_MAX);
    loop {
        out.clear();
        s.poll_transmit(Instant::now(), &mut out, BUDGET);
        if out.is_empty() {
            break;
        }
        largest = largest.max(out.len());
        assert!(
            out.len() <= BUDGET + HEAD_MAX,
            "one call gave {} bytes",
            out.len()
        );
        if head_len.is_none() {
            let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            assert!(out.starts_with(b"HTTP/1.0 200 OK\r\n"));
            head_len = Some(end);
        }
        total += out.len() as u64;
    }
    assert_eq!(total, SIZE + head_len.unwrap() as u64);
    assert!(largest <= BUDGET + HEAD_MAX);
    assert!(
        out.capacity() <= BUDGET + HEAD_MAX,
        "the buffer never had to grow"
    );
    assert!(s.is_done());
}

/// A file whose modification time httpdate cannot render (before 1970) is served without
/// `Last-Modified` rather than panicking the server.
#[test]
fn unrepresentable_mtimes_get_no_last_modified() {
    let tmp = root();
    let old = std::fs::File::options()
        .write(true)
        .open(tmp.path().join("hello.txt"))
        .unwrap();
    old.set_modified(SystemTime::UNIX_EPOCH - Duration::from_secs(86_400))
        .unwrap();
    let srv = server(tmp.path());
    let (out, _) = exchange(&srv, b"GET /hello.txt HTTP/1.0\r\n\r\n", false);
    let r = &parse(&out, false)[0];
    assert_eq!((r.status, &r.body[..]), (200, &b"hello world\n"[..]));
    assert_eq!(r.header("last-modified"), None);
    // A file from after 1970 keeps its header, rendered as IMF-fixdate.
    let (out, _) = exchange(&srv, b"GET /page.html HTTP/1.0\r\n\r\n", false);
    let lm = parse(&out, false)[0]
        .header("last-modified")
        .map(str::to_string)
        .unwrap();
    let mtime = std::fs::metadata(tmp.path().join("page.html"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(lm, httpdate::fmt_http_date(mtime));
}

/// The pages the server writes itself: each says its status, and Content-Length matches.
#[test]
fn error_and_redirect_pages_name_their_status() {
    let tmp = root();
    let srv = server(tmp.path());
    let cases: &[(&[u8], u16, &str)] = &[
        (b"GET /missing HTTP/1.0\r\n\r\n", 404, "Not Found"),
        (b"GET /%2e%2e/x HTTP/1.0\r\n\r\n", 403, "Forbidden"),
        (b"GET ftp://x/ HTTP/1.0\r\n\r\n", 400, "Bad Request"),
        (b"GET /sub HTTP/1.0\r\n\r\n", 301, "Moved Permanently"),
        (b"PUT /x HTTP/1.0\r\n\r\n", 405, "Method Not Allowed"),
    ];
    for (req, status, reason) in cases {
        let (out, _) = exchange(&srv, req, false);
        let r = &parse(&out, false)[0];
        let want = format!(
            "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\
             <body><h1>{status} {reason}</h1></body></html>\n"
        );
        assert_eq!(r.status, *status);
        assert_eq!(String::from_utf8_lossy(&r.body), want);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(
            out.starts_with(format!("HTTP/1.0 {status} {reason}\r\n").as_bytes()),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// File chunks go through one reused buffer per thread: a small file after a large one, and
/// files read in odd-sized budgets, come out byte-exact, never with a stale tail.
#[test]
fn bodies_are_exact_whatever_was_read_before() {
    let tmp = root();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(tmp.path().join("big.bin"), &big).unwrap();
    let srv = server(tmp.path());
    for budget in [1, 7, 4096, 64 * 1024] {
        let mut s = session(&srv);
        s.receive(
            Instant::now(),
            b"GET /big.bin HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\n\r\nGET /big.bin HTTP/1.1\r\n\r\n",
        );
        let out = drain(&mut s, budget);
        let rs = parse(&out, false);
        assert_eq!(rs.len(), 3, "budget {budget}");
        assert!(rs[0].body == big, "budget {budget}");
        assert_eq!(rs[1].body, b"hello world\n", "budget {budget}");
        assert!(rs[2].body == big, "budget {budget}");
    }
}

/// Plays a sendfile driver: writes the head poll_transmit gives, then each offered file range
/// (read at its offset, as sendfile would), `step` bytes at a time; returns everything sent.
fn drive_zero_copy(s: &mut HttpSession, step: u64) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let mut sent = Vec::new();
    loop {
        let mut out = Vec::new();
        s.poll_transmit(Instant::now(), &mut out, 64 * 1024);
        sent.extend_from_slice(&out);
        let Some(range) = s.poll_sendfile() else {
            if out.is_empty() {
                return sent;
            }
            continue;
        };
        assert!(out.is_empty() || sent.ends_with(&out), "head first");
        let n = range.len.min(step);
        let mut buf = vec![0; n as usize];
        range.file.read_exact_at(&mut buf, range.offset).unwrap();
        sent.extend_from_slice(&buf);
        s.handle_sendfile(Instant::now(), n);
    }
}

/// With sendfile enabled, a large body is offered as file ranges (whole file or the asked
/// range, at the right offsets) instead of being copied; small ones are still copied; without
/// it (a TLS wrapper does not forward enable_sendfile) nothing is offered.
#[cfg(unix)]
#[test]
fn large_bodies_are_offered_for_sendfile_only_when_enabled() {
    let tmp = root();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(tmp.path().join("big.bin"), &data).unwrap();
    let srv = server(tmp.path());

    let cases: &[(&str, u16, std::ops::Range<usize>)] = &[
        ("", 200, 0..data.len()),
        ("Range: bytes=1000-250999\r\n", 206, 1000..251_000),
        ("Range: bytes=-200000\r\n", 206, 100_000..data.len()),
    ];
    for (range, status, want) in cases {
        let mut s = session(&srv);
        s.enable_sendfile();
        let request = format!("GET /big.bin HTTP/1.1\r\nHost: x\r\n{range}\r\n");
        s.receive(Instant::now(), request.as_bytes());
        let mut head = Vec::new();
        s.poll_transmit(Instant::now(), &mut head, 64 * 1024);
        let offered = s.poll_sendfile().map(|r| (r.offset, r.len));
        assert_eq!(
            offered,
            Some((want.start as u64, want.len() as u64)),
            "{range}"
        );
        assert!(head.ends_with(b"\r\n\r\n"), "only the head was copied");
        let mut all = head;
        all.extend(drive_zero_copy(&mut s, 70_001));
        let r = &parse(&all, false)[0];
        assert_eq!(r.status, *status);
        assert!(r.body == data[want.clone()], "{range}: body differs");
        assert!(!s.is_done(), "HTTP/1.1: kept alive");
        assert!(s.poll_sendfile().is_none());
    }

    // A small file is copied even with sendfile enabled.
    let mut s = session(&srv);
    s.enable_sendfile();
    s.receive(Instant::now(), b"GET /hello.txt HTTP/1.0\r\n\r\n");
    let out = drain(&mut s, 64 * 1024);
    assert!(out.ends_with(b"hello world\n"));
    assert!(s.is_done());

    // Not enabled: every byte comes through poll_transmit.
    let mut s = session(&srv);
    s.receive(Instant::now(), b"GET /big.bin HTTP/1.0\r\n\r\n");
    let out = drain(&mut s, 64 * 1024);
    assert!(s.poll_sendfile().is_none());
    assert!(parse(&out, false)[0].body == data);
}

/// A request the server refuses anyway is answered at its head: a body that is slow, or never
/// comes, is not waited for.
#[test]
fn a_refused_request_is_answered_before_its_body() {
    let tmp = root();
    let srv = server(tmp.path());
    for (request, status) in [
        (
            &b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"[..],
            405,
        ),
        (
            b"PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            405,
        ),
        (
            b"GET /missing HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
            404,
        ),
    ] {
        let (out, s) = exchange(&srv, request, false);
        let r = parse(&out, false);
        assert_eq!(r.len(), 1, "{}", String::from_utf8_lossy(&out));
        assert_eq!(r[0].status, status, "{}", String::from_utf8_lossy(request));
        assert_eq!(r[0].header("connection"), Some("keep-alive"));
        assert!(!s.is_done(), "the rest of the body is read and dropped");
    }
}

/// After the early answer, a body up to DISCARD_BODY is read and dropped and the connection
/// serves the next request; the body timer of the core runs meanwhile.
#[test]
fn a_short_body_after_an_early_answer_is_dropped_and_the_connection_kept() {
    let tmp = root();
    let srv = server(tmp.path());
    let body = vec![b'x'; 100_000];
    let head = format!(
        "POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (out, mut s) = exchange(&srv, head.as_bytes(), false);
    assert_eq!(parse(&out, false)[0].status, 405);
    let deadline = s
        .poll_timeout()
        .expect("the body timer runs while the body is read");
    assert!(
        deadline > Instant::now() + Duration::from_secs(50),
        "{deadline:?}"
    );
    for piece in body.chunks(4096) {
        s.receive(Instant::now(), piece);
        assert!(drain(&mut s, 64 * 1024).is_empty());
    }
    assert!(!s.is_done());
    s.receive(
        Instant::now(),
        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let r = parse(&drain(&mut s, 64 * 1024), false);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, 200);
    assert_eq!(r[0].body, b"hello world\n");
}

/// A declared body over DISCARD_BODY is not read: the answer says `Connection: close`, and
/// the session is done once it is out (the driver lingers). So is one behind
/// `Expect: 100-continue`, which the client may never send after a final answer.
#[test]
fn a_long_or_expected_body_makes_the_early_answer_close() {
    let tmp = root();
    let srv = server(tmp.path());
    for request in [
        &b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"[..],
        b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 262145\r\n\r\n",
        b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n",
    ] {
        let (out, s) = exchange(&srv, request, false);
        let r = parse(&out, false);
        assert_eq!(r[0].status, 405, "{}", String::from_utf8_lossy(request));
        assert_eq!(r[0].header("connection"), Some("close"));
        assert!(s.is_done(), "{}", String::from_utf8_lossy(request));
    }
    // At the bound, the body is still dropped and the connection kept.
    let (out, s) = exchange(
        &srv,
        b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n",
        false,
    );
    assert_eq!(
        parse(&out, false)[0].header("connection"),
        Some("keep-alive")
    );
    assert!(!s.is_done());
}

/// A chunked body has no declared length: it is dropped until it passes DISCARD_BODY, then
/// the connection is closed.
#[test]
fn a_chunked_body_past_the_discard_bound_closes() {
    let tmp = root();
    let srv = server(tmp.path());
    let (out, mut s) = exchange(
        &srv,
        b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        false,
    );
    assert_eq!(parse(&out, false)[0].status, 405);
    let chunk = format!("10000\r\n{}\r\n", "y".repeat(0x10000));
    for _ in 0..4 {
        s.receive(Instant::now(), chunk.as_bytes());
        assert!(drain(&mut s, 64 * 1024).is_empty());
        assert!(!s.is_done(), "256 KiB are dropped");
    }
    s.receive(Instant::now(), chunk.as_bytes());
    let _ = drain(&mut s, 64 * 1024);
    assert!(s.is_done(), "past 256 KiB the connection closes");
}

/// A body that stalls after its early answer: the body timeout closes the connection, with
/// no second answer.
#[test]
fn a_stalled_body_after_the_answer_closes_without_a_408() {
    let tmp = root();
    let mut opts = FileServerOptions::new(tmp.path().to_path_buf());
    opts.quiet = true;
    opts.config.limits.body_timeout = Duration::from_millis(1);
    let srv = FileServer::new(opts).unwrap();
    let (out, mut s) = exchange(
        &srv,
        b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        false,
    );
    assert_eq!(parse(&out, false)[0].status, 405);
    let deadline = s.poll_timeout().expect("a body deadline");
    s.handle_timeout(deadline + Duration::from_millis(1));
    assert!(drain(&mut s, 1024).is_empty(), "no 408 after the 405");
    assert!(s.is_done());
    assert!(s.lingers(), "the 405 may still be unread");
}

/// The same through the factory's session (which sleeps between requests), as drivers hold
/// it: a timed-out head ends it without an answer or a linger.
#[test]
fn the_factory_session_closes_a_timed_out_head_without_a_linger() {
    use portline_common::SessionFactory;
    let tmp = root();
    let srv = server(tmp.path());
    let peer = PEER.parse::<SocketAddr>().unwrap();
    let mut s = srv.session(Instant::now(), peer, peer);
    s.receive(Instant::now(), b"GET /hel");
    let mut out = Vec::new();
    s.poll_transmit(Instant::now(), &mut out, 1024);
    assert!(out.is_empty());
    let deadline = s.poll_timeout().expect("a head deadline");
    s.handle_timeout(deadline + Duration::from_millis(1));
    s.poll_transmit(Instant::now(), &mut out, 1024);
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert!(s.is_done());
    assert!(!s.lingers());
}
