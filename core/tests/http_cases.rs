//! Table-driven parser cases. Each case runs three ways (h11's habit): the whole input at once,
//! one byte at a time, and with trailing bytes after it that must be left alone. Every rejection
//! listed in docs/HTTP.md has a case that checks its status hint, and the server's `send_error` reply
//! is checked to carry that status. The whole and byte-at-a-time runs are repeated through
//! `poll_borrowed`, which must give the same events as `poll_event`.

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, Event, EventRef, HeadersRef, Progress, Request, Response, Role,
    Version,
};

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    role: Role,
    /// Client role: the method of the requests sent before the response bytes arrive.
    method: &'static str,
    input: &'static [u8],
    /// One line per event: `GET / 1.1 +ka Host:x`, `200 OK 1.1 Name:value` (`+raw` after the
    /// version when the body is delivered undecoded), `interim 100 Continue 1.1`,
    /// `switched 101 Switching Protocols 1.1`, `data:<text>`, `end`, `closed`
    /// (Progress::Closed), `error 400` / `error eof`.
    expect: &'static [&'static str],
    /// Whether the trailing-bytes run applies (not for bodies read until close or truncated
    /// input, where more bytes change the meaning).
    trail: bool,
    config: fn() -> Config,
}

const S: Case = Case {
    name: "",
    role: Role::Server,
    method: "GET",
    input: b"",
    expect: &[],
    trail: true,
    config: Config::default,
};
const C: Case = Case {
    role: Role::Client,
    ..S
};

fn strict_lf() -> Config {
    let mut c = Config::default();
    c.leniency.bare_lf = false;
    c
}
fn no_http09() -> Config {
    let mut c = Config::default();
    c.leniency.http09 = false;
    c
}
fn small_body() -> Config {
    let mut c = Config::default();
    c.limits.max_body = 4;
    c
}

const E400: &[&str] = &["error 400"];

fn cases() -> Vec<Case> {
    vec![
        // ----- accepted: server -----
        Case {
            name: "1.0 GET closes after the response",
            input: b"GET / HTTP/1.0\r\nHost: x\r\n\r\n",
            expect: &["GET / 1.0 Host:x", "end", "closed"],
            ..S
        },
        Case {
            name: "1.0 keep-alive",
            input: b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            expect: &["GET /a 1.0 +ka Connection:keep-alive", "end", "closed"],
            ..S
        },
        Case {
            name: "1.1 persists by default",
            input: b"GET /x?y=1 HTTP/1.1\r\nHost: h\r\n\r\n",
            expect: &["GET /x?y=1 1.1 +ka Host:h", "end", "closed"],
            ..S
        },
        Case {
            name: "1.1 Connection: close",
            input: b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n",
            expect: &["GET / 1.1 Connection:Close", "end", "closed"],
            ..S
        },
        Case {
            name: "pipelined 1.1 requests answered in order",
            input: b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
            expect: &["GET /1 1.1 +ka", "end", "GET /2 1.1 +ka", "end", "closed"],
            ..S
        },
        Case {
            name: "bytes after a closing message are never processed",
            input: b"GET /1 HTTP/1.0\r\n\r\nGARBAGE \x00\r\n\r\n",
            expect: &["GET /1 1.0", "end", "closed"],
            ..S
        },
        Case {
            name: "POST with Content-Length",
            input: b"POST /f HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            expect: &["POST /f 1.1 +ka Content-Length:5", "data:hello", "end", "closed"],
            ..S
        },
        Case {
            name: "equal repeated Content-Length",
            input: b"POST / HTTP/1.0\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
            expect: &["POST / 1.0 Content-Length:2 Content-Length:2", "data:ok", "end", "closed"],
            ..S
        },
        Case {
            name: "chunked request with extension and trailer",
            input: b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
            expect: &["POST / 1.1 +ka Transfer-Encoding:Chunked", "data:hello world", "end", "closed"],
            ..S
        },
        Case {
            name: "HTTP/0.9 simple request",
            input: b"GET /old\r\n",
            expect: &["GET /old 0.9", "end", "closed"],
            ..S
        },
        Case {
            name: "bare LF accepted by default",
            input: b"GET / HTTP/1.0\nHost: x\n\n",
            expect: &["GET / 1.0 Host:x", "end", "closed"],
            ..S
        },
        Case {
            name: "higher 1.x minor is 1.1",
            input: b"GET / HTTP/1.7\r\n\r\n",
            expect: &["GET / 1.1 +ka", "end", "closed"],
            ..S
        },
        Case {
            name: "OWS around values trimmed, empty value and obs-text kept",
            input: b"GET / HTTP/1.0\r\nA: \t x y \t\r\nB:\r\nC: caf\xc3\xa9\r\n\r\n",
            expect: &["GET / 1.0 A:x y B: C:caf\u{e9}", "end", "closed"],
            ..S
        },
        Case {
            name: "HEAD request",
            input: b"HEAD /h HTTP/1.1\r\n\r\n",
            expect: &["HEAD /h 1.1 +ka", "end", "closed"],
            ..S
        },
        // ----- rejected: server (docs/HTTP.md "Rejected by default") -----
        Case { name: "bare CR in request line", input: b"GET / HTTP/1.0\rX\r\n\r\n", expect: E400, ..S },
        Case { name: "bare CR in header value", input: b"GET / HTTP/1.0\r\nA: b\rc\r\n\r\n", expect: E400, ..S },
        Case { name: "bare CR in header name", input: b"GET / HTTP/1.0\r\nA\rB: c\r\n\r\n", expect: E400, ..S },
        Case { name: "NUL in header value", input: b"GET / HTTP/1.0\r\nA: b\0c\r\n\r\n", expect: E400, ..S },
        Case { name: "CTL in header value", input: b"GET / HTTP/1.0\r\nA: b\x01c\r\n\r\n", expect: E400, ..S },
        Case { name: "whitespace between name and colon", input: b"GET / HTTP/1.0\r\nHost : x\r\n\r\n", expect: E400, ..S },
        Case { name: "tab between name and colon", input: b"GET / HTTP/1.0\r\nHost\t: x\r\n\r\n", expect: E400, ..S },
        Case { name: "whitespace before the first header", input: b"GET / HTTP/1.1\r\n Host: x\r\n\r\n", expect: E400, ..S },
        Case { name: "obs-fold in a request", input: b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", expect: E400, ..S },
        Case { name: "empty header name", input: b"GET / HTTP/1.0\r\n: x\r\n\r\n", expect: E400, ..S },
        Case { name: "header line without colon", input: b"GET / HTTP/1.0\r\nHost x\r\n\r\n", expect: E400, ..S },
        Case { name: "non-tchar in header name", input: b"GET / HTTP/1.0\r\nHo(st: x\r\n\r\n", expect: E400, ..S },
        Case { name: "non-tchar in method", input: b"G(T / HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "two SPs after method", input: b"GET  / HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "two SPs before version", input: b"GET /  HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "HTAB as separator", input: b"GET\t/ HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "trailing SP after version", input: b"GET / HTTP/1.0 \r\n\r\n", expect: E400, ..S },
        Case { name: "leading SP", input: b" GET / HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "CTL in target", input: b"GET /a\x01b HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "DEL in target", input: b"GET /a\x7fb HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "SP in target", input: b"GET /a b HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "target over the limit (414)", input: long_target(), expect: &["error 414"], ..S },
        Case { name: "target over the head limit too (414)", input: huge_target(), expect: &["error 414"], ..S },
        Case { name: "Content-Length with sign", input: b"POST / HTTP/1.0\r\nContent-Length: +5\r\n\r\n", expect: E400, ..S },
        Case { name: "Content-Length negative", input: b"POST / HTTP/1.0\r\nContent-Length: -1\r\n\r\n", expect: E400, ..S },
        Case { name: "Content-Length hex", input: b"POST / HTTP/1.0\r\nContent-Length: 0x5\r\n\r\n", expect: E400, ..S },
        Case { name: "Content-Length junk", input: b"POST / HTTP/1.0\r\nContent-Length: 5a\r\n\r\n", expect: E400, ..S },
        Case { name: "Content-Length list", input: b"POST / HTTP/1.0\r\nContent-Length: 5, 5\r\n\r\n", expect: E400, ..S },
        Case { name: "Content-Length empty", input: b"POST / HTTP/1.0\r\nContent-Length:\r\n\r\n", expect: E400, ..S },
        Case { name: "Content-Length overflow", input: b"POST / HTTP/1.0\r\nContent-Length: 18446744073709551616\r\n\r\n", expect: E400, ..S },
        Case { name: "Content-Length twice, different", input: b"POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", expect: E400, ..S },
        Case { name: "Transfer-Encoding with Content-Length", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", expect: E400, ..S },
        Case { name: "Transfer-Encoding in HTTP/1.0", input: b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", expect: E400, ..S },
        Case { name: "Transfer-Encoding not ending in chunked", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", expect: E400, ..S },
        Case { name: "Transfer-Encoding gzip alone", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", expect: E400, ..S },
        Case { name: "Transfer-Encoding empty", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: ,\r\n\r\n", expect: E400, ..S },
        Case { name: "coding other than chunked (501)", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", expect: &["error 501"], ..S },
        Case { name: "chunk size line empty", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 400"], ..S },
        Case { name: "chunk size over 16 hex digits", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 400"], ..S },
        Case { name: "chunk size with sign", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+1\r\nx\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 400"], ..S },
        Case { name: "chunk size with 0x", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 400"], ..S },
        Case { name: "chunk size with junk", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1z\r\nx\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 400"], ..S },
        Case { name: "CTL in chunk extension", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\x01\r\nx\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 400"], ..S },
        Case { name: "chunk data not followed by CRLF", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "data:x", "error 400"], ..S },
        Case { name: "bare LF in chunk size line", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 400"], ..S },
        Case { name: "bare LF after chunk data", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "data:x", "error 400"], ..S },
        Case { name: "head over the limit (431)", input: huge_head(), expect: &["error 431"], ..S },
        Case { name: "too many header fields (431)", input: many_headers(), expect: &["error 431"], ..S },
        Case { name: "body over the limit (413)", input: b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello", expect: &["error 413"], config: small_body, ..S },
        Case { name: "chunked body over the limit (413)", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", expect: &["POST / 1.1 +ka Transfer-Encoding:chunked", "error 413"], config: small_body, ..S },
        Case { name: "HTTP/2.0 (505)", input: b"GET / HTTP/2.0\r\n\r\n", expect: &["error 505"], ..S },
        Case { name: "HTTP/0.9 spelled out (505)", input: b"GET / HTTP/0.9\r\n\r\n", expect: &["error 505"], ..S },
        Case { name: "version without minor", input: b"GET / HTTP/1\r\n\r\n", expect: E400, ..S },
        Case { name: "version with two-digit minor", input: b"GET / HTTP/1.10\r\n\r\n", expect: E400, ..S },
        Case { name: "lower-case version", input: b"GET / http/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "simple request other than GET", input: b"POST /\r\n", expect: E400, ..S },
        Case { name: "simple request refused when http09 is off", input: b"GET /\r\n", expect: E400, config: no_http09, ..S },
        Case { name: "bare LF refused when strict", input: b"GET / HTTP/1.0\nHost: x\n\n", expect: E400, config: strict_lf, ..S },
        Case { name: "stream ends inside a head", input: b"GET / HTTP/1.0\r\nHost", expect: &["error eof"], trail: false, ..S },
        Case { name: "stream ends inside a body", input: b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhel", expect: &["POST / 1.0 Content-Length:5", "data:hel", "error eof"], trail: false, ..S },
        // ----- client -----
        Case {
            name: "response with Content-Length",
            input: b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            expect: &["200 OK 1.0 Content-Length:5", "data:hello", "end", "closed"],
            ..C
        },
        Case {
            name: "kept-alive responses",
            input: b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nb",
            expect: &["200 OK 1.1 Content-Length:1", "data:a", "end", "404 Not Found 1.0 Connection:keep-alive Content-Length:1", "data:b", "end", "closed"],
            ..C
        },
        Case {
            name: "chunked response",
            input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            expect: &["200 OK 1.1 Transfer-Encoding:chunked", "data:abc", "end", "closed"],
            ..C
        },
        Case {
            name: "body read until close",
            input: b"HTTP/1.0 200 OK\r\n\r\nhello world",
            expect: &["200 OK 1.0", "data:hello world", "end", "closed"],
            trail: false,
            ..C
        },
        Case {
            name: "HEAD response has no body",
            method: "HEAD",
            input: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            expect: &["200 OK 1.1 Content-Length:5", "end", "closed"],
            ..C
        },
        Case {
            name: "204 and 304 have no body",
            input: b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
            expect: &["204 No Content 1.1", "end", "304 Not Modified 1.1 Content-Length:9", "end", "closed"],
            ..C
        },
        Case {
            name: "1xx heads are reported, then the final one",
            input: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            expect: &["interim 100 Continue 1.1", "200 OK 1.1 Content-Length:0", "end", "closed"],
            ..C
        },
        Case {
            name: "103 Early Hints is an interim event; the final response follows",
            input: b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            expect: &["interim 103 Early Hints 1.1 Link:</s.css>", "200 OK 1.1 Content-Length:2", "data:ok", "end", "closed"],
            ..C
        },
        Case {
            name: "101 ends HTTP: the bytes after it are not parsed",
            input: b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
            expect: &["switched 101 Switching Protocols 1.1 Upgrade:websocket", "closed"],
            ..C
        },
        Case {
            name: "obs-fold in a response is unfolded",
            input: b"HTTP/1.1 200 OK\r\nX: a\r\n \t b\r\nContent-Length: 0\r\n\r\n",
            expect: &["200 OK 1.1 X:a b Content-Length:0", "end", "closed"],
            ..C
        },
        Case {
            name: "empty reason phrase",
            input: b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\nHTTP/1.1 201\r\nContent-Length: 0\r\n\r\n",
            expect: &["200  1.1 Content-Length:0", "end", "201  1.1 Content-Length:0", "end", "closed"],
            ..C
        },
        Case { name: "status code too short", input: b"HTTP/1.1 20 OK\r\n\r\n", expect: E400, ..C },
        Case { name: "status code too long", input: b"HTTP/1.1 2000 OK\r\n\r\n", expect: E400, ..C },
        Case { name: "status code below 100", input: b"HTTP/1.1 099 X\r\n\r\n", expect: E400, ..C },
        Case { name: "response TE with CL", input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", expect: E400, ..C },
        Case { name: "response TE in 1.0", input: b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", expect: E400, ..C },
        Case { name: "response major version 2 (505)", input: b"HTTP/2.0 200 OK\r\n\r\n", expect: &["error 505"], ..C },
        Case { name: "response bare CR", input: b"HTTP/1.1 200 O\rK\r\n\r\n", expect: E400, ..C },
        Case { name: "response chunk without CRLF", input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab", expect: &["200 OK 1.1 Transfer-Encoding:chunked", "data:a", "error 400"], ..C },
        Case { name: "stream ends before the response", input: b"", expect: &["error eof"], trail: false, ..C },
    ]
}

/// The head of the chunked POST that the chunk-line cases share.
const CHUNKED: &str = "POST / 1.1 +ka Transfer-Encoding:chunked";

/// The rules of issue 8 part 1 (docs/HTTP.md), and one case for each class of request-smuggling
/// payload that differential testing of HTTP servers has found, each with its verdict.
fn conformance_cases() -> Vec<Case> {
    vec![
        // ----- empty lines before a start line (RFC 9112 2.2) -----
        Case {
            name: "empty lines before a request line are ignored",
            input: b"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            expect: &["GET / 1.1 +ka", "end", "closed"],
            ..S
        },
        Case {
            name: "the CRLF a client sends after a POST body is ignored",
            input: b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\nGET /2 HTTP/1.1\r\n\r\n",
            expect: &["POST / 1.1 +ka Content-Length:2", "data:ok", "end", "GET /2 1.1 +ka", "end", "closed"],
            ..S
        },
        Case {
            name: "a stream of only empty lines ends cleanly",
            input: b"\r\n\r\n",
            expect: &["closed"],
            ..S
        },
        Case {
            name: "a bare LF empty line is ignored where bare LF is allowed",
            input: b"\nGET / HTTP/1.0\r\n\r\n",
            expect: &["GET / 1.0", "end", "closed"],
            ..S
        },
        Case { name: "a bare LF empty line is refused when strict", input: b"\nGET / HTTP/1.0\r\n\r\n", expect: E400, config: strict_lf, ..S },
        Case { name: "a bare CR before a request line", input: b"\r GET / HTTP/1.0\r\n\r\n", expect: E400, ..S },
        Case { name: "endless empty lines end in 431", input: endless_crlf(), expect: &["error 431"], ..S },
        Case { name: "a long target after empty lines is still a 414", input: blank_then_huge_target(), expect: &["error 414"], ..S },
        Case {
            name: "empty lines before a status line are ignored",
            input: b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            expect: &["200 OK 1.1 Content-Length:0", "end", "closed"],
            ..C
        },
        Case {
            name: "an empty line between responses is ignored",
            input: b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\r\nHTTP/1.1 204 No Content\r\n\r\n",
            expect: &["200 OK 1.1 Content-Length:1", "data:a", "end", "204 No Content 1.1", "end", "closed"],
            ..C
        },
        Case {
            name: "empty lines after the last response, then the stream ends cleanly",
            input: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\r\n",
            expect: &["200 OK 1.1 Content-Length:0", "end", "closed"],
            ..C
        },
        // ----- Transfer-Encoding: only an exact final `chunked` means chunked -----
        Case { name: "TE `chunked,` is ambiguous", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE `,chunked` is ambiguous", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE `chunked ,` is ambiguous", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked ,\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE `chunked;` (a parameter without a name)", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked;\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE `chunked;q=1` (chunked with a parameter)", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE `chunked x` (junk after the coding)", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked x\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE `chunked, chunked`", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE sent twice, both chunked", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE sent twice, chunked then gzip", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE sent twice, gzip then chunked (501)", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", expect: &["error 501"], ..S },
        Case { name: "TE list with OWS around the comma (501)", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip , chunked\r\n\r\n0\r\n\r\n", expect: &["error 501"], ..S },
        Case { name: "TE unknown coding alone", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: foo\r\n\r\n", expect: E400, ..S },
        Case { name: "TE identity", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", expect: E400, ..S },
        Case { name: "TE empty value", input: b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", expect: E400, ..S },
        Case { name: "TE empty value on a GET", input: b"GET / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", expect: E400, ..S },
        Case { name: "TE with \\xa0 before the value", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE with \\xa0 after the value", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE with \\x85 after the value", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\x85\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE with \\xa0 before the colon", input: b"POST / HTTP/1.1\r\nTransfer-Encoding\xa0: chunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE with a vertical tab in the value", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "TE hidden by obs-fold", input: b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case {
            name: "TE in upper case is chunked",
            input: b"POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n",
            expect: &["POST / 1.1 +ka Transfer-Encoding:CHUNKED", "data:x", "end", "closed"],
            ..S
        },
        Case {
            name: "a name like TE that is not TE frames nothing",
            input: b"POST / HTTP/1.1\r\nTransfer_Encoding: chunked\r\nContent-Length: 1\r\n\r\nx",
            expect: &["POST / 1.1 +ka Transfer_Encoding:chunked Content-Length:1", "data:x", "end", "closed"],
            ..S
        },
        Case { name: "CL then TE", input: b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", expect: E400, ..S },
        Case { name: "CL with a disguised TE", input: b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: xchunked\r\n\r\nabc", expect: E400, ..S },
        // ----- response framing (RFC 9112 6.3) -----
        Case {
            name: "response TE gzip is read until close and delivered raw",
            input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
            expect: &["200 OK 1.1 +raw Transfer-Encoding:gzip", "data:abc", "end", "closed"],
            trail: false,
            ..C
        },
        Case {
            name: "response TE `gzip, chunked` is dechunked, gzip left",
            input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            expect: &["200 OK 1.1 +raw Transfer-Encoding:gzip, chunked", "data:abc", "end", "closed"],
            ..C
        },
        Case {
            name: "response TE `chunked,` is read until close",
            input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            expect: &["200 OK 1.1 +raw Transfer-Encoding:chunked,", "data:3\r\nabc\r\n0\r\n\r\n", "end", "closed"],
            trail: false,
            ..C
        },
        Case {
            name: "response TE `chunked;q=1` is read until close",
            input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
            expect: &["200 OK 1.1 +raw Transfer-Encoding:chunked;q=1", "data:0\r\n\r\n", "end", "closed"],
            trail: false,
            ..C
        },
        Case {
            name: "response TE `chunked, gzip` is read until close",
            input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxyz",
            expect: &["200 OK 1.1 +raw Transfer-Encoding:chunked, gzip", "data:xyz", "end", "closed"],
            trail: false,
            ..C
        },
        Case { name: "response TE `chunked, chunked`", input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", expect: E400, ..C },
        Case { name: "response empty TE on a HEAD response", method: "HEAD", input: b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", expect: E400, ..C },
        Case { name: "response empty TE on a 204", input: b"HTTP/1.1 204 No Content\r\nTransfer-Encoding:\r\n\r\n", expect: E400, ..C },
        // ----- chunk lines -----
        Case { name: "chunk extension `5;` without a name", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "whitespace before `;` in a chunk line", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na ;ab\r\n0123456789\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "whitespace after `;` in a chunk line", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na; ab\r\n0123456789\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "whitespace around `=` in a chunk extension", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a = b\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "whitespace after the chunk size", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "an unterminated quoted chunk extension value", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"b\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case {
            name: "chunk extensions: token and quoted-string values, one on the last chunk",
            input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b;c=\"d; \\\"e\\\"\";f\r\nx\r\n0;last\r\n\r\n",
            expect: &[CHUNKED, "data:x", "end", "closed"],
            ..S
        },
        Case { name: "CR in chunk-extension whitespace", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a\r\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "chunk line ending `\\rX`", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\rX\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "chunk data ending `\\rX`", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\rX0\r\n\r\n", expect: &[CHUNKED, "data:x", "error 400"], ..S },
        Case { name: "bare LF after the last chunk", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "chunk size with leading whitespace", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 1\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "chunk size negative", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "chunk size with an underscore", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        Case { name: "chunk size empty before an extension", input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;a\r\nx\r\n0\r\n\r\n", expect: &[CHUNKED, "error 400"], ..S },
        // ----- request-target forms (RFC 9112 3.2) -----
        Case { name: "target `l` is in no form", input: b"PUT l HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "target `4/` is in no form", input: b"GET 4/ HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "target `:` is in no form", input: b"GET : HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "target `\"` is in no form", input: b"GET \" HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "scheme without `//` is in no form", input: b"GET http:x HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case {
            name: "absolute-form target",
            input: b"GET http://example.org/a?b HTTP/1.1\r\n\r\n",
            expect: &["GET http://example.org/a?b 1.1 +ka", "end", "closed"],
            ..S
        },
        Case {
            name: "asterisk-form with OPTIONS",
            input: b"OPTIONS * HTTP/1.1\r\n\r\n",
            expect: &["OPTIONS * 1.1 +ka", "end", "closed"],
            ..S
        },
        Case { name: "asterisk-form with GET", input: b"GET * HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case {
            name: "authority-form with CONNECT",
            input: b"CONNECT example.org:443 HTTP/1.1\r\n\r\n",
            expect: &["CONNECT example.org:443 1.1 +ka", "end", "closed"],
            ..S
        },
        Case {
            name: "authority-form with an IPv6 literal",
            input: b"CONNECT [::1]:8080 HTTP/1.1\r\n\r\n",
            expect: &["CONNECT [::1]:8080 1.1 +ka", "end", "closed"],
            ..S
        },
        Case { name: "CONNECT with an origin-form target", input: b"CONNECT / HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "CONNECT without a port", input: b"CONNECT example.org HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "CONNECT with userinfo", input: b"CONNECT u@example.org:443 HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "authority-form with GET", input: b"GET example.org:443 HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case { name: "simple request with a target in no form", input: b"GET x\r\n", expect: E400, ..S },
        Case { name: "obs-text in the target", input: b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", expect: E400, ..S },
        Case {
            name: "obs-text in the target with the leniency on",
            input: b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
            expect: &["GET /caf\u{e9} 1.1 +ka", "end", "closed"],
            config: obs_text_target,
            ..S
        },
        // ----- smuggling classes, with their verdicts -----
        Case { name: "CL with an underscore", input: b"POST / HTTP/1.1\r\nContent-Length: 1_0\r\n\r\n", expect: E400, ..S },
        Case { name: "CL with a leading `+` and a space", input: b"POST / HTTP/1.1\r\nContent-Length: + 1\r\n\r\n", expect: E400, ..S },
        Case { name: "CL with \\xa0 after the digits", input: b"POST / HTTP/1.1\r\nContent-Length: 1\xa0\r\n\r\nx", expect: E400, ..S },
        Case { name: "CL twice, one empty", input: b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length:\r\n\r\nx", expect: E400, ..S },
        Case {
            name: "CL with leading zeros is its number",
            input: b"POST / HTTP/1.1\r\nContent-Length: 001\r\n\r\nx",
            expect: &["POST / 1.1 +ka Content-Length:001", "data:x", "end", "closed"],
            ..S
        },
        Case { name: "DEL in a header value", input: b"GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n", expect: E400, ..S },
        Case { name: "NUL in a header name", input: b"GET / HTTP/1.1\r\nA\0: b\r\n\r\n", expect: E400, ..S },
        Case { name: "bare CR ending a header line", input: b"GET / HTTP/1.1\r\nA: b\rC: d\r\n\r\n", expect: E400, ..S },
        Case { name: "bare CR ending the head", input: b"GET / HTTP/1.1\r\nA: b\r\n\rX", expect: E400, ..S },
        Case { name: "version with a two-digit major", input: b"GET / HTTP/11.1\r\n\r\n", expect: E400, ..S },
        Case { name: "version overflowing a u32", input: b"GET / HTTP/4294967297.1\r\n\r\n", expect: E400, ..S },
        Case { name: "version with a long minor", input: b"GET / HTTP/1.1111111111111111111\r\n\r\n", expect: E400, ..S },
        Case {
            name: "a pipelined request after an invalid one is never read",
            input: b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
            expect: E400,
            ..S
        },
        Case {
            name: "a request hidden in a chunked body stays body",
            input: b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n13\r\nGET /x HTTP/1.1\r\n\r\n\r\n0\r\n\r\n",
            expect: &[CHUNKED, "data:GET /x HTTP/1.1\r\n\r\n", "end", "closed"],
            ..S
        },
    ]
}

fn obs_text_target() -> Config {
    let mut c = Config::default();
    c.leniency.obs_text_target = true;
    c
}

fn blank_then_huge_target() -> &'static [u8] {
    let mut v = b"\r\n\r\n".to_vec();
    v.extend_from_slice(huge_target());
    v.leak()
}

fn endless_crlf() -> &'static [u8] {
    b"\r\n".repeat(9000).leak()
}

fn long_target() -> &'static [u8] {
    let mut v = b"GET /".to_vec();
    v.extend(std::iter::repeat_n(b'a', 9000));
    v.extend_from_slice(b" HTTP/1.0\r\n\r\n");
    v.leak()
}
fn huge_target() -> &'static [u8] {
    let mut v = b"GET /".to_vec();
    v.extend(std::iter::repeat_n(b'a', 20000));
    v.extend_from_slice(b" HTTP/1.0\r\n\r\n");
    v.leak()
}
fn huge_head() -> &'static [u8] {
    let mut v = b"GET / HTTP/1.0\r\n".to_vec();
    for i in 0..90 {
        v.extend_from_slice(format!("X-{i}: {}\r\n", "v".repeat(200)).as_bytes());
    }
    v.extend_from_slice(b"\r\n");
    v.leak()
}
fn many_headers() -> &'static [u8] {
    let mut v = b"GET / HTTP/1.0\r\n".to_vec();
    for i in 0..101 {
        v.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\n");
    v.leak()
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Whole,
    Bytewise,
    Trailing,
}

const SERVER_TRAIL: &[u8] = b"GET /next HTTP/1.1\r\nX: y";
const CLIENT_TRAIL: &[u8] = b"HTTP/1.1 200 OK\r\nX: y";

fn headers_summary(h: HeadersRef<'_>) -> String {
    h.iter()
        .map(|(n, v)| {
            format!(
                " {}:{}",
                String::from_utf8_lossy(n),
                String::from_utf8_lossy(v)
            )
        })
        .collect()
}

fn response_line(
    kind: &str,
    status: u16,
    reason: &[u8],
    version: Version,
    undecoded: bool,
    headers: HeadersRef<'_>,
) -> String {
    format!(
        "{kind}{status} {} {}{}{}",
        String::from_utf8_lossy(reason),
        version.as_str(),
        if undecoded { " +raw" } else { "" },
        headers_summary(headers)
    )
}

/// One event as the case table writes it (`data` is collected separately).
enum Seen {
    Data(Vec<u8>),
    Line(String),
}

fn describe(e: &Event) -> Seen {
    Seen::Line(match e {
        Event::Request(r) => format!(
            "{} {} {}{}{}",
            r.method_str(),
            String::from_utf8_lossy(&r.target),
            r.version.as_str(),
            if r.keep_alive { " +ka" } else { "" },
            headers_summary(r.headers.fields())
        ),
        Event::Response(r) => response_line(
            "",
            r.status,
            &r.reason,
            r.version,
            r.undecoded,
            r.headers.fields(),
        ),
        Event::Interim(r) => response_line(
            "interim ",
            r.status,
            &r.reason,
            r.version,
            r.undecoded,
            r.headers.fields(),
        ),
        Event::Switched(r) => response_line(
            "switched ",
            r.status,
            &r.reason,
            r.version,
            r.undecoded,
            r.headers.fields(),
        ),
        Event::EndOfMessage => "end".into(),
        Event::Data(d) => return Seen::Data(d.to_vec()),
    })
}

/// The borrowed event, written exactly as [`describe`] writes the owned one.
fn describe_ref(e: &EventRef<'_>) -> Seen {
    Seen::Line(match e {
        EventRef::Request(r) => format!(
            "{} {} {}{}{}",
            String::from_utf8_lossy(r.method),
            String::from_utf8_lossy(r.target),
            r.version.as_str(),
            if r.keep_alive { " +ka" } else { "" },
            headers_summary(r.headers)
        ),
        EventRef::Response(r) => {
            response_line("", r.status, r.reason, r.version, r.undecoded, r.headers)
        }
        EventRef::Interim(r) => response_line(
            "interim ",
            r.status,
            r.reason,
            r.version,
            r.undecoded,
            r.headers,
        ),
        EventRef::Switched(r) => response_line(
            "switched ",
            r.status,
            r.reason,
            r.version,
            r.undecoded,
            r.headers,
        ),
        EventRef::EndOfMessage => "end".into(),
        EventRef::Data(d) => return Seen::Data(d.to_vec()),
    })
}

struct Run {
    conn: Connection,
    /// Progress with `poll_borrowed` instead of `poll_event`.
    borrowed: bool,
    log: Vec<String>,
    data: Vec<u8>,
    out: Vec<u8>,
    stopped: bool,
}

impl Run {
    fn flush(&mut self) {
        if !self.data.is_empty() {
            self.log
                .push(format!("data:{}", String::from_utf8_lossy(&self.data)));
            self.data.clear();
        }
    }

    fn drain(&mut self) {
        let now = Time::ZERO;
        while !self.stopped {
            let polled = if self.borrowed {
                self.conn.poll_borrowed().map(|p| match p {
                    Progress::Event(e) => Progress::Event(describe_ref(&e)),
                    Progress::NeedData => Progress::NeedData,
                    Progress::Paused => Progress::Paused,
                    Progress::Closed => Progress::Closed,
                })
            } else {
                self.conn.poll_event().map(|p| match p {
                    Progress::Event(e) => Progress::Event(describe(&e)),
                    Progress::NeedData => Progress::NeedData,
                    Progress::Paused => Progress::Paused,
                    Progress::Closed => Progress::Closed,
                })
            };
            match polled {
                Ok(Progress::Event(Seen::Data(d))) => self.data.extend_from_slice(&d),
                Ok(Progress::Event(Seen::Line(line))) => {
                    self.flush();
                    let end = line == "end";
                    self.log.push(line);
                    if end && self.conn.role() == Role::Server {
                        let resp = Response {
                            status: 200,
                            reason: "OK",
                            headers: &[],
                            body: BodyLength::Known(2),
                        };
                        self.conn.send_response(now, &resp, &mut self.out).unwrap();
                        self.conn.send_data(now, b"ok", &mut self.out).unwrap();
                        self.conn.send_end(now).unwrap();
                    }
                }
                Ok(Progress::NeedData | Progress::Paused) => return,
                Ok(Progress::Closed) => {
                    self.flush();
                    self.log.push("closed".into());
                    self.stopped = true;
                }
                Err(e) => {
                    self.flush();
                    let status = e.status().map_or("eof".to_string(), |s| s.to_string());
                    self.log.push(format!("error {status} {}", e.message()));
                    // Errors are sticky.
                    assert_eq!(self.conn.poll_event(), Err(e.clone()));
                    if self.conn.role() == Role::Server {
                        let mut reply = Vec::new();
                        self.conn.send_error(now, &e, &mut reply).unwrap();
                        match e.status() {
                            Some(s) => assert!(
                                reply.starts_with(format!("HTTP/1.0 {s} ").as_bytes()),
                                "{}",
                                String::from_utf8_lossy(&reply)
                            ),
                            None => assert!(reply.is_empty()),
                        }
                        assert!(self.conn.is_closed());
                    }
                    self.stopped = true;
                }
            }
        }
    }
}

fn run(case: &Case, mode: Mode) -> (Vec<String>, Connection) {
    let (log, conn, _) = run_with(case, mode, false);
    (log, conn)
}

/// The events, the connection, and how many events came before the end of stream was fed.
fn run_with(case: &Case, mode: Mode, borrowed: bool) -> (Vec<String>, Connection, usize) {
    let now = Time::ZERO;
    let mut run = Run {
        conn: Connection::new(case.role, (case.config)(), now),
        borrowed,
        log: Vec::new(),
        data: Vec::new(),
        out: Vec::new(),
        stopped: false,
    };
    let mut input = case.input.to_vec();
    if case.role == Role::Client {
        let finals = case
            .expect
            .iter()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && !l.starts_with('1'))
            .count();
        let n = finals.max(1) + usize::from(mode == Mode::Trailing);
        for _ in 0..n {
            let req = Request {
                method: case.method,
                target: "/",
                headers: &[],
                body: BodyLength::Known(0),
                keep_alive: true,
            };
            run.conn.send_request(now, &req, &mut run.out).unwrap();
            run.conn.send_end(now).unwrap();
        }
    }
    if mode == Mode::Trailing {
        input.extend_from_slice(match case.role {
            Role::Server => SERVER_TRAIL,
            Role::Client => CLIENT_TRAIL,
        });
    }
    let step = if mode == Mode::Bytewise {
        1
    } else {
        input.len().max(1)
    };
    for chunk in input.chunks(step) {
        if run.stopped {
            break;
        }
        run.conn.receive(now, chunk);
        run.drain();
    }
    run.flush();
    let before_eof = run.log.len();
    if mode != Mode::Trailing && !run.stopped {
        run.conn.receive_eof(now);
        run.drain();
    }
    run.flush();
    (run.log, run.conn, before_eof)
}

fn matches(got: &[String], expect: &[&str]) -> bool {
    got.len() == expect.len()
        && got.iter().zip(expect).all(|(g, e)| {
            if e.starts_with("error ") {
                g.starts_with(&format!("{e} "))
            } else {
                g == e
            }
        })
}

#[test]
fn cases_whole_bytewise_and_with_trailing_bytes() {
    let mut failures = Vec::new();
    let mut all = cases();
    all.extend(conformance_cases());
    for case in &all {
        let (whole, _, before_eof) = run_with(case, Mode::Whole, false);
        if !matches(&whole, case.expect) {
            failures.push(format!(
                "{}: whole: got {whole:?}, want {:?}",
                case.name, case.expect
            ));
            continue;
        }
        let (bytewise, _) = run(case, Mode::Bytewise);
        if bytewise != whole {
            failures.push(format!(
                "{}: bytewise {bytewise:?} != whole {whole:?}",
                case.name
            ));
        }
        for mode in [Mode::Whole, Mode::Bytewise] {
            let (borrowed, _, _) = run_with(case, mode, true);
            if borrowed != whole {
                failures.push(format!(
                    "{}: poll_borrowed {mode:?} {borrowed:?} != poll_event {whole:?}",
                    case.name
                ));
            }
        }
        if !case.trail {
            continue;
        }
        let (trailing, conn) = run(case, Mode::Trailing);
        // Without the end of stream, what the peer's end caused does not happen.
        let want = whole[..before_eof].to_vec();
        if trailing != want {
            failures.push(format!("{}: trailing {trailing:?} != {want:?}", case.name));
        }
        let trail_len = match case.role {
            Role::Server => SERVER_TRAIL.len(),
            Role::Client => CLIENT_TRAIL.len(),
        };
        if !want.last().is_some_and(|l| l.starts_with("error")) && conn.buffered() < trail_len {
            failures.push(format!(
                "{}: trailing bytes were consumed ({} left)",
                case.name,
                conn.buffered()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn every_status_hint_is_exercised() {
    let mut all = cases();
    all.extend(conformance_cases());
    for status in ["400", "413", "414", "431", "501", "505", "eof"] {
        let want = format!("error {status}");
        assert!(
            all.iter().any(|c| c.expect.iter().any(|l| *l == want)),
            "no case for {want}"
        );
    }
}

#[test]
fn simple_request_answer_is_the_body_alone() {
    let now = Time::ZERO;
    let mut conn = Connection::new(Role::Server, Config::default(), now);
    conn.receive(now, b"GET /\r\n");
    let Ok(Progress::Event(Event::Request(r))) = conn.poll_event() else {
        panic!("no request")
    };
    assert_eq!(r.version, Version::Http09);
    assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
    let mut out = Vec::new();
    let resp = Response {
        status: 200,
        reason: "OK",
        headers: &[("Content-Type", b"text/html")],
        body: BodyLength::Unknown,
    };
    conn.send_response(now, &resp, &mut out).unwrap();
    conn.send_data(now, b"<p>hi</p>", &mut out).unwrap();
    conn.send_end(now).unwrap();
    assert_eq!(out, b"<p>hi</p>");
    assert_eq!(conn.poll_event(), Ok(Progress::Closed));
}

#[test]
fn head_response_writes_no_body_but_announces_the_length() {
    let now = Time::ZERO;
    let mut conn = Connection::new(Role::Server, Config::default(), now);
    conn.receive(now, b"HEAD / HTTP/1.0\r\n\r\n");
    assert!(matches!(
        conn.poll_event(),
        Ok(Progress::Event(Event::Request(_)))
    ));
    assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
    let mut out = Vec::new();
    let resp = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Known(3),
    };
    conn.send_response(now, &resp, &mut out).unwrap();
    conn.send_data(now, b"abc", &mut out).unwrap();
    conn.send_end(now).unwrap();
    assert_eq!(
        out,
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn unknown_length_response_closes_even_when_keep_alive_was_asked() {
    let now = Time::ZERO;
    let mut conn = Connection::new(Role::Server, Config::default(), now);
    conn.receive(now, b"GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    assert!(matches!(conn.poll_event(), Ok(Progress::Event(Event::Request(r))) if r.keep_alive));
    assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
    assert_eq!(conn.poll_event(), Ok(Progress::Paused));
    let mut out = Vec::new();
    let resp = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Unknown,
    };
    conn.send_response(now, &resp, &mut out).unwrap();
    conn.send_data(now, b"x", &mut out).unwrap();
    conn.send_end(now).unwrap();
    assert_eq!(out, b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nx");
    assert_eq!(conn.poll_event(), Ok(Progress::Closed));
}

#[test]
fn send_error_writes_a_minimal_reply() {
    let now = Time::ZERO;
    let mut conn = Connection::new(Role::Server, Config::default(), now);
    conn.receive(now, b"GET / HTTP/3.0\r\n\r\n");
    let err = conn.poll_event().unwrap_err();
    assert_eq!(err.status(), Some(505));
    let mut out = Vec::new();
    conn.send_error(now, &err, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("HTTP/1.0 505 HTTP Version Not Supported\r\n"),
        "{text}"
    );
    assert!(text.contains("Content-Type: text/plain\r\n"));
    assert!(text.contains("Connection: close\r\n\r\n505 "));
    assert!(conn.is_closed());
    assert!(!conn.wants_read());
}

#[test]
fn paused_input_stays_bounded() {
    let now = Time::ZERO;
    let config = Config::default();
    let max = config.limits.max_head;
    let mut conn = Connection::new(Role::Server, config, now);
    conn.receive(now, b"GET / HTTP/1.1\r\n\r\n");
    assert!(matches!(
        conn.poll_event(),
        Ok(Progress::Event(Event::Request(_)))
    ));
    assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
    let mut fed = 0;
    while conn.wants_read() {
        conn.receive(now, b"GET /more HTTP/1.1\r\n\r\n");
        fed += 1;
        assert_eq!(conn.poll_event(), Ok(Progress::Paused));
        assert!(fed < 10_000, "wants_read never turned false");
    }
    assert!(conn.buffered() <= max + 64);
}

#[test]
fn after_101_the_caller_takes_the_remaining_bytes_back() {
    let now = Time::ZERO;
    let mut conn = Connection::new(Role::Client, Config::default(), now);
    let mut out = Vec::new();
    let req = Request {
        method: "GET",
        target: "/chat",
        headers: &[("Upgrade", b"websocket")],
        body: BodyLength::Known(0),
        keep_alive: true,
    };
    conn.send_request(now, &req, &mut out).unwrap();
    conn.send_end(now).unwrap();
    conn.receive(
        now,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05he",
    );
    let Ok(Progress::Event(Event::Switched(head))) = conn.poll_event() else {
        panic!("no 101")
    };
    assert_eq!(head.status, 101);
    assert_eq!(conn.poll_event(), Ok(Progress::Closed));
    assert!(conn.is_closed());
    // Bytes that arrive later are kept for the caller too, never parsed as HTTP.
    conn.receive(now, b"llo");
    assert_eq!(conn.poll_event(), Ok(Progress::Closed));
    assert_eq!(&conn.take_remaining()[..], b"\x81\x05hello");
    assert_eq!(conn.buffered(), 0);
    assert!(conn.send_request(now, &req, &mut out).is_err());
}

#[test]
fn send_error_is_a_local_error_once_a_response_was_started() {
    let now = Time::ZERO;
    let mut conn = Connection::new(Role::Server, Config::default(), now);
    conn.receive(now, b"GET / HTTP/1.1\r\n\r\n");
    assert!(matches!(
        conn.poll_event(),
        Ok(Progress::Event(Event::Request(_)))
    ));
    let mut out = Vec::new();
    let ok = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Known(10),
    };
    conn.send_response(now, &ok, &mut out).unwrap();
    let written = out.len();
    // A peer error from another connection (errors are made by connections only).
    let mut other = Connection::new(Role::Server, Config::default(), now);
    other.receive(now, b"GET / HTTP/3.0\r\n\r\n");
    let peer_error = other.poll_event().unwrap_err();
    let e = conn.send_error(now, &peer_error, &mut out).unwrap_err();
    assert_eq!(e.kind(), portline_core::http::ErrorKind::LocalMisuse);
    assert_eq!(out.len(), written, "nothing after the started response");
    assert!(conn.is_closed());
    let mut client = Connection::new(Role::Client, Config::default(), now);
    assert!(client.send_error(now, &peer_error, &mut out).is_err());
}
