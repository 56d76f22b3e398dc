//! HTTP head parsing: portline-core's connection against httparse, in the same criterion groups,
//! on the samples picohttpparser, httparse and llhttp benchmark. Run with
//!
//! ```text
//! cargo bench -p portline-benches --bench http -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! What is timed for portline is the whole path a frontend takes: `receive` (the bytes are copied
//! into the connection's buffer), then `poll_event` until the head event is out (resumable line
//! parser, grammar validated with byte tables, framing fields interpreted, zero-copy `Bytes`
//! slices handed out), then dropping the event. Two variants:
//! * `portline`: a fresh connection per head (created and dropped inside the timed loop, so
//!   its buffer allocation, the `Bytes` promotion and the span `Vec` are all counted);
//! * `portline_keepalive`: one kept-alive connection handles a whole exchange per iteration
//!   (the head, its end, and for a server writing the `200 OK` that lets the next request in; for
//!   a client writing the request first), which is the steady state of a busy connection.
//!
//! httparse parses the same bytes in place into a stack array of 16 headers.
//!
//! Results and ratios: `benches/RESULTS.md`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portline_core::Time;
use portline_core::http::{BodyLength, Config, Connection, Event, Poll, Request, Response, Role};

/// The 720-byte, 10-header request of picohttpparser's and httparse's benches.
const KITTY: &[u8] = b"\
GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral|padding=under256\r\n\r\n";

/// A present-day browser GET (400 bytes, 9 headers; the "about 380-byte" sample).
const BROWSER: &[u8] = b"\
GET /docs/guide/index.html?lang=en HTTP/1.1\r\n\
Host: www.example.org\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Connection: keep-alive\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Priority: u=0, i\r\n\r\n";

/// The short HTTP/1.0 request of httparse's bench (68 bytes).
const SHORT: &[u8] = b"\
GET / HTTP/1.0\r\n\
Host: example.com\r\n\
Cookie: session=60; user_id=1\r\n\r\n";

/// A typical response head from a file server.
const RESPONSE: &[u8] = b"\
HTTP/1.1 200 OK\r\n\
Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
Server: portline\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Last-Modified: Tue, 20 Oct 2015 11:02:31 GMT\r\n\
Content-Length: 1234\r\n\
Connection: keep-alive\r\n\r\n";

fn server() -> Connection {
    Connection::new(Role::Server, Config::default(), Time::ZERO)
}

const GET: Request<'static> = Request {
    method: "GET",
    target: "/",
    headers: &[],
    body: BodyLength::Known(0),
    keep_alive: true,
};

/// The keep-alive client asks with HEAD, so that the response head is the whole response.
const HEAD: Request<'static> = Request {
    method: "HEAD",
    ..GET
};

const OK: Response<'static> = Response {
    status: 200,
    reason: "OK",
    headers: &[],
    body: BodyLength::Known(0),
};

/// A fresh connection reads one head.
fn portline_fresh(role: Role, bytes: &[u8], sink: &mut Vec<u8>) -> usize {
    let mut conn = Connection::new(role, Config::default(), Time::ZERO);
    if role == Role::Client {
        sink.clear();
        conn.send_request(Time::ZERO, &GET, sink).expect("idle");
        conn.send_end(Time::ZERO, sink).expect("empty body");
    }
    portline_head(&mut conn, bytes)
}

/// One exchange on a kept-alive connection: the head and its end, plus what the other side of
/// the exchange writes (the server's response; the client's request before the response).
fn portline_keepalive(conn: &mut Connection, bytes: &[u8], sink: &mut Vec<u8>) -> usize {
    sink.clear();
    if conn.role() == Role::Client {
        conn.send_request(Time::ZERO, &HEAD, sink).expect("idle");
        conn.send_end(Time::ZERO, sink).expect("empty body");
    }
    let n = portline_head(conn, bytes);
    assert_eq!(conn.poll_event(), Ok(Poll::Event(Event::EndOfMessage)));
    if conn.role() == Role::Server {
        conn.send_response(Time::ZERO, &OK, sink).expect("in order");
        conn.send_end(Time::ZERO, sink).expect("empty body");
    }
    n
}

fn portline_head(conn: &mut Connection, bytes: &[u8]) -> usize {
    conn.receive(Time::ZERO, bytes);
    match conn.poll_event() {
        Ok(Poll::Event(Event::Request(r))) => black_box(r).headers.len(),
        Ok(Poll::Event(Event::Response(r))) => black_box(r).headers.len(),
        other => panic!("no head: {other:?}"),
    }
}

fn httparse_request(bytes: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n + req.headers.len(),
        other => panic!("httparse: {other:?}"),
    }
}

fn httparse_response(bytes: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n + resp.headers.len(),
        other => panic!("httparse: {other:?}"),
    }
}

fn heads(c: &mut Criterion) {
    // The last column: whether the sample keeps a connection alive (the short request is
    // HTTP/1.0 without keep-alive, so its connection closes after one exchange).
    let samples: [(&str, Role, &[u8], bool); 4] = [
        ("request_720_kitty", Role::Server, KITTY, true),
        ("request_380_browser", Role::Server, BROWSER, true),
        ("request_68_short", Role::Server, SHORT, false),
        ("response_head", Role::Client, RESPONSE, true),
    ];
    for (name, role, bytes, persistent) in samples {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("httparse", |b| match role {
            Role::Server => b.iter(|| httparse_request(black_box(bytes))),
            Role::Client => b.iter(|| httparse_response(black_box(bytes))),
        });
        let mut sink = Vec::new();
        g.bench_function("portline", |b| {
            b.iter(|| portline_fresh(role, black_box(bytes), &mut sink))
        });
        if persistent {
            let mut conn = Connection::new(role, Config::default(), Time::ZERO);
            g.bench_function("portline_keepalive", |b| {
                b.iter(|| portline_keepalive(&mut conn, black_box(bytes), &mut sink))
            });
        }
        g.finish();
    }
}

/// A POST with a chunked body: 16 chunks of 256 bytes.
fn chunked_message() -> Vec<u8> {
    let mut m = b"POST /upload HTTP/1.1\r\nHost: example.org\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for i in 0..16u8 {
        m.extend_from_slice(b"100\r\n");
        m.extend(std::iter::repeat_n(b'a' + i, 256));
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"0\r\n\r\n");
    m
}

/// httparse for the head, then its `parse_chunk_size` for each chunk; returns the body length.
fn httparse_message(bytes: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(mut pos)) = req.parse(bytes) else {
        panic!("head")
    };
    let mut body = 0;
    loop {
        let Ok(httparse::Status::Complete((n, size))) = httparse::parse_chunk_size(&bytes[pos..])
        else {
            panic!("chunk size")
        };
        pos += n;
        if size == 0 {
            // No trailers in the sample: the final CRLF.
            assert_eq!(&bytes[pos..pos + 2], b"\r\n");
            return body;
        }
        let size = size as usize;
        body += black_box(&bytes[pos..pos + size]).len();
        pos += size;
        assert_eq!(&bytes[pos..pos + 2], b"\r\n");
        pos += 2;
    }
}

fn portline_message(conn: &mut Connection, bytes: &[u8]) -> usize {
    conn.receive(Time::ZERO, bytes);
    let mut body = 0;
    loop {
        match conn.poll_event() {
            Ok(Poll::Event(Event::Data(d))) => body += black_box(d).len(),
            Ok(Poll::Event(Event::EndOfMessage)) => return body,
            Ok(Poll::Event(_)) => {}
            other => panic!("{other:?}"),
        }
    }
}

fn messages(c: &mut Criterion) {
    let msg = chunked_message();
    let mut g = c.benchmark_group("message_chunked_4k");
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("httparse", |b| b.iter(|| httparse_message(black_box(&msg))));
    g.bench_function("portline", |b| {
        b.iter(|| portline_message(&mut server(), black_box(&msg)))
    });
    g.finish();
}

criterion_group!(benches, heads, messages);
criterion_main!(benches);
