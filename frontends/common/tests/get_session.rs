//! The `get` client session: the request it writes, and how it reads every kind of response,
//! against raw bytes and against the file-server session in memory (a client-server pair).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use portline_common::Session;
use portline_common::get::{GetOptions, GetSession, Stage, exit_status};
use portline_common::http_server::{FileServer, FileServerOptions};

/// A `Write` whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

fn options(method: &str, target: &str) -> GetOptions {
    GetOptions {
        method: method.into(),
        target: target.into(),
        host: "localhost:8080".into(),
        headers: Vec::new(),
        data: None,
        include: false,
        verbose: false,
    }
}

fn client(opts: &GetOptions) -> (GetSession, Sink) {
    let sink = Sink::default();
    let s = GetSession::new(Instant::now(), opts, Box::new(sink.clone()), false).unwrap();
    (s, sink)
}

fn request_bytes(s: &mut GetSession) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let before = out.len();
        s.poll_transmit(Instant::now(), &mut out, 64 * 1024);
        if out.len() == before {
            return out;
        }
    }
}

#[test]
fn writes_an_http10_request_with_host_and_user_agent() {
    let mut opts = options("PUT", "/up?x=1");
    opts.headers.push(("X-Test".into(), "yes".into()));
    opts.data = Some(b"abc".to_vec());
    let (mut s, _) = client(&opts);
    let req = String::from_utf8(request_bytes(&mut s)).unwrap();
    assert!(req.starts_with("PUT /up?x=1 HTTP/1.0\r\n"), "{req}");
    for field in [
        "Host: localhost:8080\r\n",
        "User-Agent: portline/0.1\r\n",
        "X-Test: yes\r\n",
        "Content-Length: 3\r\n",
    ] {
        assert!(req.contains(field), "{field:?} missing in {req}");
    }
    assert!(req.ends_with("\r\n\r\nabc"), "{req}");

    // -H replaces the defaults instead of doubling them.
    let mut opts = options("GET", "/");
    opts.headers.push(("host".into(), "other".into()));
    let (mut s, _) = client(&opts);
    let req = String::from_utf8(request_bytes(&mut s)).unwrap();
    assert_eq!(req.matches("ost: ").count(), 1, "{req}");
    assert!(req.contains("host: other\r\n"));
}

/// Feed a raw response (whole, and one byte at a time), then end of stream.
/// How a run ended (the status, or the failing stage) and what it printed.
type Run = (Option<Result<u16, Stage>>, Vec<u8>);

fn run_raw(response: &[u8], opts: &GetOptions) -> Vec<Run> {
    let mut results = Vec::new();
    for bytewise in [false, true] {
        let (mut s, sink) = client(opts);
        let _ = request_bytes(&mut s);
        if bytewise {
            for b in response {
                if s.is_done() {
                    break;
                }
                s.receive(Instant::now(), std::slice::from_ref(b));
            }
        } else {
            s.receive(Instant::now(), response);
        }
        if !s.is_done() {
            s.receive_eof(Instant::now());
        }
        assert!(s.is_done());
        let outcome = s
            .outcome()
            .map(|r| r.as_ref().map(|s| *s).map_err(|f| f.stage));
        results.push((outcome, sink.bytes()));
    }
    assert_eq!(results[0], results[1], "split input gives the same result");
    results
}

#[test]
fn reads_every_body_framing() {
    let get = options("GET", "/");
    let cases: &[(&[u8], u16, &[u8])] = &[
        (b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, b"hello"),
        (b"HTTP/1.0 200 OK\r\n\r\nclose-delimited body", 200, b"close-delimited body"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            200,
            b"hello world",
        ),
        (b"HTTP/1.0 404 Not Found\r\nContent-Length: 4\r\n\r\ngone", 404, b"gone"),
        (b"HTTP/1.0 204 No Content\r\n\r\n", 204, b""),
        (b"HTTP/1.0 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", 302, b""),
        (b"HTTP/1.0 200 OK\nContent-Length: 2\n\nok", 200, b"ok"),
    ];
    for (resp, status, body) in cases {
        let r = run_raw(resp, &get);
        assert_eq!(
            r[0].0,
            Some(Ok(*status)),
            "{}",
            String::from_utf8_lossy(resp)
        );
        assert_eq!(&r[0].1[..], *body, "{}", String::from_utf8_lossy(resp));
    }
}

#[test]
fn include_prints_the_head_first() {
    let mut opts = options("GET", "/");
    opts.include = true;
    let r = run_raw(
        b"HTTP/1.0 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi",
        &opts,
    );
    assert_eq!(
        String::from_utf8_lossy(&r[0].1),
        "HTTP/1.0 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi"
    );
}

#[test]
fn head_requests_expect_no_body() {
    let opts = options("HEAD", "/");
    let r = run_raw(b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n", &opts);
    assert_eq!(r[0].0, Some(Ok(200)));
}

#[test]
fn failures_name_their_stage() {
    let get = options("GET", "/");
    let cases: &[(&[u8], Stage)] = &[
        (b"", Stage::StatusLine),
        (b"HTTP/1.0 20", Stage::StatusLine),
        (b"HTTX/1.0 200 OK\r\n\r\n", Stage::StatusLine),
        (b"HTTP/1.0 200 OK\r\nNo colon here\r\n\r\n", Stage::Headers),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 1", Stage::Headers),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            Stage::Body,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            Stage::Body,
        ),
    ];
    for (resp, stage) in cases {
        let r = run_raw(resp, &get);
        assert_eq!(
            r[0].0,
            Some(Err(*stage)),
            "{}",
            String::from_utf8_lossy(resp)
        );
    }
}

#[test]
fn exit_statuses_follow_cli_md() {
    let cases = [
        (100, 0),
        (200, 0),
        (204, 0),
        (301, 3),
        (304, 3),
        (404, 4),
        (405, 4),
        (500, 5),
        (503, 5),
        (600, 1),
    ];
    for (status, code) in cases {
        assert_eq!(exit_status(status), code, "{status}");
    }
}

/// The client and the server sessions talk in memory: what `get` prints is the file.
#[test]
fn client_and_server_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(tmp.path().join("data.bin"), &content).unwrap();
    let mut sopts = FileServerOptions::new(tmp.path().to_path_buf());
    sopts.quiet = true;
    let srv = FileServer::new(sopts).unwrap();
    let peer = "127.0.0.1:40000".parse().unwrap();

    for (method, target, want_status, want_body) in [
        ("GET", "/data.bin", 200, &content[..]),
        ("HEAD", "/data.bin", 200, &b""[..]),
        ("GET", "/nothing", 404, &b""[..]),
    ] {
        let (mut c, sink) = client(&options(method, target));
        let mut s = srv.http_session(Instant::now(), peer);
        let mut rounds = 0;
        while !c.is_done() {
            rounds += 1;
            assert!(rounds < 10_000, "no progress");
            let mut buf = Vec::new();
            c.poll_transmit(Instant::now(), &mut buf, 4096);
            if !buf.is_empty() {
                s.receive(Instant::now(), &buf);
            }
            let mut buf = Vec::new();
            s.poll_transmit(Instant::now(), &mut buf, 4096);
            if !buf.is_empty() {
                c.receive(Instant::now(), &buf);
            } else if s.is_done() {
                c.receive_eof(Instant::now());
            }
        }
        let status = c.outcome().unwrap().as_ref().map(|s| *s).unwrap();
        assert_eq!(status, want_status, "{method} {target}");
        if want_status == 200 {
            assert_eq!(sink.bytes(), want_body, "{method} {target}");
        }
    }
}
