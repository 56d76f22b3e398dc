//! HTTP head parsing: portline-core's connection against httparse, in the same criterion groups,
//! on the samples picohttpparser, httparse and llhttp benchmark. Run with
//!
//! ```text
//! cargo bench -p portline-benches --bench http -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! What is timed for portline is the whole path a frontend takes: `receive` (the bytes are copied
//! into the connection's buffer), then `poll_event` until the head event is out (resumable scan,
//! grammar validated with byte tables, framing fields interpreted, zero-copy `Bytes` slices
//! handed out). httparse parses the same bytes in place into a stack array of 16 headers. The
//! connection itself is created in the untimed setup, as httparse's header array is.
//!
//! Results and ratios: `benches/RESULTS.md`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use portline_core::Time;
use portline_core::http::{BodyLength, Config, Connection, Event, Poll, Request, Role};

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

/// A present-day browser GET (about 380 bytes).
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

/// A client connection that has sent a GET, ready to read its response.
fn client() -> Connection {
    let mut c = Connection::new(Role::Client, Config::default(), Time::ZERO);
    let req = Request {
        method: "GET",
        target: "/",
        headers: &[],
        body: BodyLength::Known(0),
        keep_alive: true,
    };
    let mut sink = Vec::new();
    c.send_request(Time::ZERO, &req, &mut sink)
        .expect("idle client");
    c.send_end(Time::ZERO, &mut sink).expect("empty body");
    c
}

fn portline_head(conn: &mut Connection, bytes: &[u8]) -> usize {
    conn.receive(Time::ZERO, bytes);
    match conn.poll_event() {
        Ok(Poll::Event(Event::Request(r))) => r.headers.len(),
        Ok(Poll::Event(Event::Response(r))) => r.headers.len(),
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
    let requests: [(&str, &[u8]); 3] = [
        ("request_720_kitty", KITTY),
        ("request_380_browser", BROWSER),
        ("request_68_short", SHORT),
    ];
    for (name, bytes) in requests {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("httparse", |b| {
            b.iter(|| httparse_request(black_box(bytes)))
        });
        g.bench_function("portline", |b| {
            b.iter_batched_ref(
                server,
                |conn| portline_head(conn, black_box(bytes)),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
    let mut g = c.benchmark_group("response_head");
    g.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    g.bench_function("httparse", |b| {
        b.iter(|| httparse_response(black_box(RESPONSE)))
    });
    g.bench_function("portline", |b| {
        b.iter_batched_ref(
            client,
            |conn| portline_head(conn, black_box(RESPONSE)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
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
        b.iter_batched_ref(
            server,
            |conn| portline_message(conn, black_box(&msg)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, heads, messages);
criterion_main!(benches);
