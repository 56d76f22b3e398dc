//! The `get` client session: the request it writes, and how it reads every kind of response,
//! against raw bytes and against the file-server session in memory (a client-server pair).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use portline_common::Session;
use portline_common::apps::get::output::Output;
use portline_common::apps::get::{Exit, GetOptions, GetSession, Stage, exit_status};
use portline_common::apps::http_server::{FileServer, FileServerOptions};

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
    GetOptions::new(method, target, "localhost:8080")
}

/// The options of a test, made again for each run (the body is a one-shot reader).
fn client_with(opts: impl Fn() -> GetOptions) -> (GetSession, Sink) {
    let sink = Sink::default();
    let s = GetSession::new(
        Instant::now(),
        opts(),
        Output::writer(Box::new(sink.clone())),
    )
    .unwrap();
    (s, sink)
}

fn client(opts: GetOptions) -> (GetSession, Sink) {
    let once = std::cell::Cell::new(Some(opts));
    client_with(|| once.take().expect("one session per options"))
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
    let mut opts = options("PUT", "/up?x=1").with_body(b"abc".to_vec());
    opts.headers.push(("X-Test".into(), "yes".into()));
    let (mut s, _) = client(opts);
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
    let (mut s, _) = client(opts);
    let req = String::from_utf8(request_bytes(&mut s)).unwrap();
    assert_eq!(req.matches("ost: ").count(), 1, "{req}");
    assert!(req.contains("host: other\r\n"));
}

/// Feed a raw response (whole, and one byte at a time), then end of stream.
/// How a run ended (the status, or the failing stage) and what it printed.
type Run = (Option<Result<u16, Stage>>, Vec<u8>, Option<Exit>);

fn run_raw(response: &[u8], opts: impl Fn() -> GetOptions) -> Vec<Run> {
    let mut results = Vec::new();
    for bytewise in [false, true] {
        let (mut s, sink) = client_with(&opts);
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
        let exit = s.outcome().and_then(|r| r.as_ref().err()).map(|f| f.exit);
        results.push((outcome, sink.bytes(), exit));
    }
    assert_eq!(results[0], results[1], "split input gives the same result");
    results
}

#[test]
fn reads_every_body_framing() {
    let get = || options("GET", "/");
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
        let r = run_raw(resp, get);
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
    let opts = || {
        let mut o = options("GET", "/");
        o.include = true;
        o
    };
    let r = run_raw(
        b"HTTP/1.0 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi",
        opts,
    );
    assert_eq!(
        String::from_utf8_lossy(&r[0].1),
        "HTTP/1.0 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi"
    );
}

#[test]
fn head_requests_expect_no_body() {
    let r = run_raw(b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n", || {
        options("HEAD", "/")
    });
    assert_eq!(r[0].0, Some(Ok(200)));
}

#[test]
fn failures_name_their_stage() {
    let get = || options("GET", "/");
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
        let r = run_raw(resp, get);
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
        (304, 0),
        (404, 4),
        (405, 4),
        (500, 5),
        (503, 5),
        (600, Exit::Malformed.code()),
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
        let (mut c, sink) = client(options(method, target));
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

/// A silent server: by default `get` gives up after the read timeout (5 minutes, simulated),
/// and `--max-time` ends it sooner; both are a timeout (exit 12), never a hang.
#[test]
fn a_silent_server_ends_in_a_timeout_not_a_hang() {
    let start = Instant::now();
    let (mut s, _) = client(options("GET", "/"));
    let _ = request_bytes(&mut s);
    let deadline = s.poll_timeout().expect("a deadline while waiting");
    assert!(
        deadline <= start + std::time::Duration::from_secs(301),
        "no read timeout within 5 minutes"
    );
    s.handle_timeout(deadline);
    let failure = s.outcome().unwrap().as_ref().unwrap_err();
    assert_eq!(failure.exit, Exit::Timeout);
    assert!(failure.message.contains("read timeout"), "{failure}");

    let mut opts = options("GET", "/");
    opts.deadline = Some(start + std::time::Duration::from_secs(2));
    let (mut s, _) = client(opts);
    let _ = request_bytes(&mut s);
    // Bytes keep coming, but the whole transfer is over its time.
    s.receive(Instant::now(), b"HTTP/1.0 200 OK\r\n\r\nsome");
    let deadline = s.poll_timeout().unwrap();
    assert!(deadline <= start + std::time::Duration::from_secs(2));
    s.handle_timeout(deadline);
    assert_eq!(
        s.outcome().unwrap().as_ref().unwrap_err().exit,
        Exit::Timeout
    );
}

/// Where the body goes, by status, for -f, -L and -C -; `Some(..)` is what was written.
#[test]
fn the_head_decides_where_the_body_goes() {
    struct Case {
        name: &'static str,
        response: &'static [u8],
        fail: bool,
        follow: bool,
        resume_from: u64,
        want: Result<u16, Exit>,
        written: &'static [u8],
    }
    let base = Case {
        name: "",
        response: b"",
        fail: false,
        follow: false,
        resume_from: 0,
        want: Ok(200),
        written: b"",
    };
    let cases = [
        Case {
            name: "a 404 without -f is output",
            response: b"HTTP/1.0 404 Not Found\r\nContent-Length: 4\r\n\r\ngone",
            want: Ok(404),
            written: b"gone",
            ..base
        },
        Case {
            name: "a 404 with -f is not",
            response: b"HTTP/1.0 404 Not Found\r\nContent-Length: 4\r\n\r\ngone",
            fail: true,
            want: Ok(404),
            ..base
        },
        Case {
            name: "a redirect followed is not output",
            response: b"HTTP/1.0 302 Found\r\nLocation: /x\r\nContent-Length: 5\r\n\r\nmoved",
            follow: true,
            want: Ok(302),
            ..base
        },
        Case {
            name: "a redirect not followed is",
            response: b"HTTP/1.0 302 Found\r\nLocation: /x\r\nContent-Length: 5\r\n\r\nmoved",
            want: Ok(302),
            written: b"moved",
            ..base
        },
        Case {
            name: "a 206 continuing the file is appended",
            response: b"HTTP/1.0 206 Partial Content\r\nContent-Range: bytes 4-7/8\r\n\r\n4567",
            resume_from: 4,
            want: Ok(206),
            written: b"4567",
            ..base
        },
        Case {
            name: "a 206 from elsewhere is a resume error",
            response: b"HTTP/1.0 206 Partial Content\r\nContent-Range: bytes 0-7/8\r\n\r\n01234567",
            resume_from: 4,
            want: Err(Exit::Resume),
            ..base
        },
        Case {
            name: "a 416 for the file's length: complete",
            response: b"HTTP/1.0 416 Range Not Satisfiable\r\nContent-Range: bytes */4\r\n\r\n",
            resume_from: 4,
            want: Ok(416),
            ..base
        },
        Case {
            name: "a 416 for another length: not resumable",
            response: b"HTTP/1.0 416 Range Not Satisfiable\r\nContent-Range: bytes */3\r\n\r\n",
            resume_from: 4,
            want: Err(Exit::Resume),
            ..base
        },
        Case {
            name: "a 200 to a range: the whole body",
            response: b"HTTP/1.0 200 OK\r\nContent-Length: 8\r\n\r\n01234567",
            resume_from: 4,
            want: Ok(200),
            written: b"01234567",
            ..base
        },
        Case {
            name: "an error page never lands in a resumed file",
            response: b"HTTP/1.0 500 Oops\r\nContent-Length: 4\r\n\r\noops",
            resume_from: 4,
            want: Ok(500),
            ..base
        },
    ];
    for case in cases {
        let r = run_raw(case.response, || {
            let mut o = options("GET", "/");
            o.fail = case.fail;
            o.follow = case.follow;
            o.resume_from = case.resume_from;
            o
        });
        let got = match r[0].0 {
            Some(Ok(status)) => Ok(status),
            Some(Err(_)) => Err(r[0].2.expect("a failure has an exit status")),
            None => panic!("{}: no outcome", case.name),
        };
        assert_eq!(got, case.want, "{}", case.name);
        assert_eq!(&r[0].1[..], case.written, "{}", case.name);
    }
}

/// `--compressed`: a gzip body is decoded; a body that is not gzip is a decode error (15).
#[test]
fn compressed_bodies_are_decoded_or_fail_with_15() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"decoded text").unwrap();
    let gz = gz.finish().unwrap();
    let mut good = b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    good.extend_from_slice(&gz);
    let compressed = || {
        let mut o = options("GET", "/");
        o.compressed = true;
        o
    };
    let r = run_raw(&good, compressed);
    assert_eq!(r[0].0, Some(Ok(200)));
    assert_eq!(r[0].1, b"decoded text");
    // Without --compressed the bytes are kept as they came.
    let r = run_raw(&good, || options("GET", "/"));
    assert_eq!(r[0].1, gz);

    let (mut s, _) = client(compressed());
    let _ = request_bytes(&mut s);
    s.receive(
        Instant::now(),
        b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\nthis is not gzip",
    );
    s.receive_eof(Instant::now());
    assert_eq!(
        s.outcome().unwrap().as_ref().unwrap_err().exit,
        Exit::Decode
    );
}

/// A streamed body: the head, then the body in budget-sized pieces, every byte once.
#[test]
fn request_bodies_stream_in_budget_sized_pieces() {
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let (mut s, _) = client(options("PUT", "/up").with_body(body.clone()));
    let mut all = Vec::new();
    loop {
        let mut out = Vec::new();
        s.poll_transmit(Instant::now(), &mut out, 4096);
        if out.is_empty() {
            break;
        }
        assert!(out.len() <= 4096, "{} bytes in one piece", out.len());
        all.extend_from_slice(&out);
    }
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(String::from_utf8_lossy(&all[..split]).contains("Content-Length: 200000\r\n"));
    assert!(all[split..] == body[..], "the body differs");
}
