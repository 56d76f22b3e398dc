//! HTTP head parsing: the samples, portline's contenders and httparse's, shared by the criterion
//! bench (`benches/benches/http.rs`) and the instruction counter
//! (`benches/examples/instructions.rs`).

use std::hint::black_box;

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, Event, EventRef, Progress, Request, Response, Role,
};

/// The 720-byte, 10-header request of picohttpparser's and httparse's benches.
pub const KITTY: &[u8] = b"\
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
pub const BROWSER: &[u8] = b"\
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
pub const SHORT: &[u8] = b"\
GET / HTTP/1.0\r\n\
Host: example.com\r\n\
Cookie: session=60; user_id=1\r\n\r\n";

/// The short request as HTTP/1.1, so that a connection can be kept alive for it.
pub const SHORT_11: &[u8] = b"\
GET / HTTP/1.1\r\n\
Host: example.com\r\n\
Cookie: session=60; user_id=1\r\n\r\n";

/// A typical response head from a file server.
pub const RESPONSE: &[u8] = b"\
HTTP/1.1 200 OK\r\n\
Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
Server: portline\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Last-Modified: Tue, 20 Oct 2015 11:02:31 GMT\r\n\
Content-Length: 1234\r\n\
Connection: keep-alive\r\n\r\n";

/// A head sample: its group name, the role that reads it, its bytes, and the bytes the
/// kept-alive contender reads (the same, or the HTTP/1.1 form of an HTTP/1.0 request).
pub struct Sample {
    /// The criterion group.
    pub name: &'static str,
    /// `Server` reads a request, `Client` a response.
    pub role: Role,
    /// What httparse and the fresh connection parse.
    pub bytes: &'static [u8],
    /// What the kept-alive connection parses.
    pub keepalive: &'static [u8],
}

/// Every head sample.
pub const SAMPLES: [Sample; 4] = [
    Sample {
        name: "request_720_kitty",
        role: Role::Server,
        bytes: KITTY,
        keepalive: KITTY,
    },
    Sample {
        name: "request_380_browser",
        role: Role::Server,
        bytes: BROWSER,
        keepalive: BROWSER,
    },
    Sample {
        name: "request_68_short",
        role: Role::Server,
        bytes: SHORT,
        keepalive: SHORT_11,
    },
    Sample {
        name: "response_head",
        role: Role::Client,
        bytes: RESPONSE,
        keepalive: RESPONSE,
    },
];

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

/// A new connection in `role` with the default configuration.
pub fn connection(role: Role) -> Connection {
    Connection::new(role, Config::default(), Time::ZERO)
}

/// A fresh connection reads one head (borrowed event). A client first writes its request.
pub fn portline_fresh(role: Role, bytes: &[u8], sink: &mut Vec<u8>) -> usize {
    let mut conn = connection(role);
    if role == Role::Client {
        sink.clear();
        conn.send_request(Time::ZERO, &GET, sink).expect("idle");
        conn.send_end(Time::ZERO).expect("empty body");
    }
    conn.receive(Time::ZERO, bytes);
    head_len(conn.poll_borrowed())
}

/// The head's field count. The event is passed to `black_box` by reference, where the poll
/// left it: whole, as a caller could read any of it, but not copied again first (by value, it
/// was a copy of its 72 bytes per head that no caller makes).
fn head_len(p: Result<Progress<EventRef<'_>>, portline_core::http::Error>) -> usize {
    match &p {
        Ok(Progress::Event(EventRef::Request(r))) => black_box(r).headers.len(),
        Ok(Progress::Event(EventRef::Response(r))) => black_box(r).headers.len(),
        other => panic!("no head: {other:?}"),
    }
}

/// One exchange on a kept-alive connection, the way a server (or client) runs: the head and
/// its end as borrowed events, plus what the other side of the exchange writes (the server's
/// `200 OK`, which lets the next request in; the client's HEAD request, written first).
pub fn portline_keepalive(conn: &mut Connection, bytes: &[u8], sink: &mut Vec<u8>) -> usize {
    sink.clear();
    let client = conn.role() == Role::Client;
    if client {
        conn.send_request(Time::ZERO, &HEAD, sink).expect("idle");
        conn.send_end(Time::ZERO).expect("empty body");
    }
    conn.receive(Time::ZERO, bytes);
    let n = head_len(conn.poll_borrowed());
    assert!(matches!(
        conn.poll_borrowed(),
        Ok(Progress::Event(EventRef::EndOfMessage))
    ));
    if !client {
        conn.send_response(Time::ZERO, &OK, sink).expect("in order");
        conn.send_end(Time::ZERO).expect("empty body");
    }
    n
}

/// The fields portline's file server sends with a small file besides `Content-Length` and
/// `Connection` (frontends/common `http_server.rs`: Date, Server, Content-Type,
/// Last-Modified, ETag, Accept-Ranges), with values of the usual lengths.
pub const FILE_FIELDS: [(&str, &[u8]); 6] = [
    ("Date", b"Tue, 01 Dec 2026 10:00:00 GMT"),
    ("Server", b"portline"),
    ("Content-Type", b"text/plain; charset=utf-8"),
    ("Last-Modified", b"Mon, 30 Nov 2026 21:13:07 GMT"),
    ("ETag", b"\"6941c2d3-1a4\""),
    ("Accept-Ranges", b"bytes"),
];

/// The length of the file the [`portline_keepalive_fields`] answer announces.
const FILE_LEN: u64 = 420;

/// [`portline_keepalive`] for a server answering as the file server does: [`FILE_FIELDS`] and
/// a 420-byte body written by the caller itself (sendfile), so that only the head is
/// portline's work. This is what `send_response` costs with the fields a real answer carries
/// (the bare `200 OK` of the other contenders has none). The response goes through
/// `black_box`, as a server's answer is known only at run time: with constants, LTO folded the
/// length into its digits and specialised the writer for this one list of fields.
pub fn portline_keepalive_fields(conn: &mut Connection, bytes: &[u8], sink: &mut Vec<u8>) -> usize {
    sink.clear();
    conn.receive(Time::ZERO, bytes);
    let n = head_len(conn.poll_borrowed());
    assert!(matches!(
        conn.poll_borrowed(),
        Ok(Progress::Event(EventRef::EndOfMessage))
    ));
    let len = black_box(FILE_LEN);
    let ok = Response {
        status: 200,
        reason: "OK",
        headers: &FILE_FIELDS,
        body: BodyLength::Known(len),
    };
    conn.send_response(Time::ZERO, black_box(&ok), sink)
        .expect("in order");
    conn.send_data_written(Time::ZERO, len).expect("declared");
    conn.send_end(Time::ZERO).expect("complete");
    n + sink.len()
}

/// [`portline_keepalive`] with owned events (`poll_event`: the head split off as `Bytes`).
pub fn portline_keepalive_owned(conn: &mut Connection, bytes: &[u8], sink: &mut Vec<u8>) -> usize {
    sink.clear();
    let client = conn.role() == Role::Client;
    if client {
        conn.send_request(Time::ZERO, &HEAD, sink).expect("idle");
        conn.send_end(Time::ZERO).expect("empty body");
    }
    conn.receive(Time::ZERO, bytes);
    let n = match conn.poll_event() {
        Ok(Progress::Event(Event::Request(r))) => black_box(r).headers.len(),
        Ok(Progress::Event(Event::Response(r))) => black_box(r).headers.len(),
        other => panic!("no head: {other:?}"),
    };
    assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
    if !client {
        conn.send_response(Time::ZERO, &OK, sink).expect("in order");
        conn.send_end(Time::ZERO).expect("empty body");
    }
    n
}

/// httparse parses a request in place into a stack array of 16 headers.
pub fn httparse_request(bytes: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n + req.headers.len(),
        other => panic!("httparse: {other:?}"),
    }
}

/// httparse parses a response in place into a stack array of 16 headers.
pub fn httparse_response(bytes: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n + resp.headers.len(),
        other => panic!("httparse: {other:?}"),
    }
}

/// httparse for the sample's role.
pub fn httparse_head(role: Role, bytes: &[u8]) -> usize {
    match role {
        Role::Server => httparse_request(bytes),
        Role::Client => httparse_response(bytes),
    }
}

/// A kept-alive connection reads the 720-byte request arriving in pieces of `piece` bytes,
/// polling after each (the bytes are fed through `receive`, so each byte is parsed once).
pub fn portline_trickle(
    conn: &mut Connection,
    bytes: &[u8],
    piece: usize,
    sink: &mut Vec<u8>,
) -> usize {
    sink.clear();
    let mut pieces = bytes.chunks(piece);
    let n = loop {
        let Some(p) = pieces.next() else {
            panic!("no head")
        };
        conn.receive(Time::ZERO, p);
        match conn.poll_borrowed() {
            Ok(Progress::NeedData) => {}
            other => break head_len(other),
        }
    };
    assert!(matches!(
        conn.poll_borrowed(),
        Ok(Progress::Event(EventRef::EndOfMessage))
    ));
    conn.send_response(Time::ZERO, &OK, sink).expect("in order");
    conn.send_end(Time::ZERO).expect("empty body");
    n
}

/// How callers of a stateless parser handle a head arriving in pieces: append each piece to a
/// buffer and parse the whole buffer again until it is complete.
pub fn httparse_trickle(buf: &mut Vec<u8>, bytes: &[u8], piece: usize) -> usize {
    buf.clear();
    for p in bytes.chunks(piece) {
        buf.extend_from_slice(p);
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => return n + req.headers.len(),
            Ok(httparse::Status::Partial) => {}
            Err(e) => panic!("httparse: {e:?}"),
        }
    }
    panic!("no head")
}

/// The head of [`chunked_message`].
pub const CHUNKED_HEAD: &[u8] = b"POST /upload HTTP/1.1\r\nHost: example.org\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

/// How many chunks [`chunked_message`] has, each of [`CHUNK`] bytes.
pub const CHUNKS: usize = 16;

/// The size of each chunk of [`chunked_message`].
pub const CHUNK: usize = 256;

/// Each chunk's size line in [`chunked_message`]: [`CHUNK`] in hex.
pub const CHUNK_SIZE_LINE: &[u8] = b"100\r\n";

/// A POST with a chunked body: [`CHUNKS`] chunks of [`CHUNK`] bytes.
pub fn chunked_message() -> Vec<u8> {
    let mut m = CHUNKED_HEAD.to_vec();
    for i in 0..CHUNKS as u8 {
        m.extend_from_slice(CHUNK_SIZE_LINE);
        m.extend(std::iter::repeat_n(b'a' + i, CHUNK));
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"0\r\n\r\n");
    m
}

/// httparse for the head, then its `parse_chunk_size` for each chunk; returns the body length.
pub fn httparse_message(bytes: &[u8]) -> usize {
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

/// A fresh server connection reads the whole chunked message; returns the body length.
pub fn portline_message(bytes: &[u8]) -> usize {
    let mut conn = connection(Role::Server);
    conn.receive(Time::ZERO, bytes);
    let mut body = 0;
    loop {
        match conn.poll_borrowed() {
            Ok(Progress::Event(EventRef::Data(d))) => body += black_box(d).len(),
            Ok(Progress::Event(EventRef::EndOfMessage)) => return body,
            Ok(Progress::Event(_)) => {}
            other => panic!("{other:?}"),
        }
    }
}
