//! What the caller asks the connection to send.

/// How long a body will be; the writer picks the framing from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// Exactly this many bytes (`Content-Length`). Sending more or fewer is a local error.
    Known(u64),
    /// Unknown: the body ends when the connection closes (HTTP/1.0 close-delimited). The
    /// connection will not be kept alive.
    Unknown,
}

/// A response for the server role to send. The connection adds `Content-Length` (from
/// [`BodyLength::Known`]) and `Connection: keep-alive` when the connection persists; the caller
/// adds everything else (`Date`, `Server`, `Content-Type`, ...).
#[derive(Debug, Clone)]
pub struct Response<'a> {
    /// The status code, 100..=999.
    pub status: u16,
    /// The reason phrase, e.g. `"OK"`.
    pub reason: &'a str,
    /// Header fields other than `Content-Length`, `Transfer-Encoding` and `Connection`.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body's length. For a HEAD request (and 1xx, 204, 304) no body bytes are sent, but a
    /// `Known` length is still announced as `Content-Length`.
    pub body: BodyLength,
}

/// A request for the client role to send. Written as `HTTP/1.0`.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The method, e.g. `"GET"`.
    pub method: &'a str,
    /// The request target, e.g. `"/index.html"`.
    pub target: &'a str,
    /// Header fields other than `Content-Length` and `Connection` (give `Host` here).
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body's length (`Known(0)` for none).
    pub body: BodyLength,
    /// Ask the server to keep the connection open (`Connection: keep-alive`).
    pub keep_alive: bool,
}

/// The usual reason phrase for `status` (RFC 9110 15), or `""` for codes it does not define.
/// Handy for [`Response::reason`].
pub fn canonical_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

// ----- the writer's helpers (crate-private) -----

use super::error::{Error, ErrorKind, Fault};
use super::parse::{FIELD_VALUE, TCHAR};

/// Appends `n` in decimal (`itoa`). Out of line: the one-digit lengths most heads carry are
/// written by [`head_end`] itself, and inlined there this made every caller save more registers.
#[inline(never)]
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `HTTP/1.0 <status> <reason>` CRLF. The fixed part is composed on the stack and appended
/// at once (each append is a capacity check and a copy).
pub(crate) fn status_line(out: &mut Vec<u8>, status: u16, reason: &str) {
    if (status, reason) == (200, "OK") {
        out.extend_from_slice(b"HTTP/1.0 200 OK\r\n");
        return;
    }
    // 100..=999: three digits (checked by the caller).
    let d = |k: u16| b'0' + (status / k % 10) as u8;
    out.extend_from_slice(&[
        b'H',
        b'T',
        b'T',
        b'P',
        b'/',
        b'1',
        b'.',
        b'0',
        b' ',
        d(100),
        d(10),
        d(1),
        b' ',
    ]);
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `<method> <target> HTTP/1.0` CRLF. The common methods and the version are appended as
/// text of a length known here (a few moves); only the target is a copy of unknown length.
#[inline]
pub(crate) fn request_line(out: &mut Vec<u8>, method: &str, target: &str) {
    match method {
        "GET" => out.extend_from_slice(b"GET "),
        "HEAD" => out.extend_from_slice(b"HEAD "),
        "POST" => out.extend_from_slice(b"POST "),
        _ => {
            out.extend_from_slice(method.as_bytes());
            out.push(b' ');
        }
    }
    push_short(out, target.as_bytes());
    out.extend_from_slice(b" HTTP/1.0\r\n");
}

/// Appends `b`, which is usually short (a request target): up to sixteen bytes as two appends
/// of a length known here that overlap (the first one cut back to where the second starts),
/// a few moves where `extend_from_slice` of a length known only at run time is a `memcpy`
/// call; longer ones are copied.
#[inline(always)]
fn push_short(out: &mut Vec<u8>, b: &[u8]) {
    /// The first and last `N` bytes of `b` (`N <= b.len() <= 2 * N`).
    macro_rules! overlapping {
        ($n:literal) => {
            if let (Some(first), Some(last)) = (b.first_chunk::<$n>(), b.last_chunk::<$n>()) {
                let end = out.len() + b.len();
                out.extend_from_slice(first);
                out.truncate(end - $n);
                out.extend_from_slice(last);
                return;
            }
        };
    }
    match b.len() {
        0 => {}
        1 => out.push(b[0]),
        2..=3 => overlapping!(2),
        4..=7 => overlapping!(4),
        8..=16 => overlapping!(8),
        _ => out.extend_from_slice(b),
    }
}

/// The `Connection` field that ends a head the connection writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionField {
    /// None (a request that does not ask to persist).
    Absent,
    /// `Connection: keep-alive`.
    KeepAlive,
    /// `Connection: close`.
    Close,
}

/// The end of a head: `Content-Length: <n>` CRLF when `length` is given, the `Connection`
/// field, and the blank line. A one-digit length (`0` above all: every answer without a body)
/// is patched into one constant of the whole end, so the end is one append of a length known
/// here (a few moves); a longer one is two appends around the digits. Each arm has its own
/// constant: one shared append of the chosen text would be a `memcpy` call.
#[inline]
pub(crate) fn head_end(out: &mut Vec<u8>, length: Option<u64>, connection: ConnectionField) {
    /// Appends `text` with its byte 16 (just after `Content-Length: `) replaced by `digit`.
    macro_rules! with_digit {
        ($text:literal, $digit:expr) => {{
            let mut text = *$text;
            text[16] = $digit;
            out.extend_from_slice(&text);
        }};
    }
    match length {
        Some(n) if n < 10 => {
            let digit = b'0' + n as u8;
            match connection {
                ConnectionField::Absent => with_digit!(b"Content-Length: 0\r\n\r\n", digit),
                ConnectionField::KeepAlive => with_digit!(
                    b"Content-Length: 0\r\nConnection: keep-alive\r\n\r\n",
                    digit
                ),
                ConnectionField::Close => {
                    with_digit!(b"Content-Length: 0\r\nConnection: close\r\n\r\n", digit)
                }
            }
        }
        Some(n) => {
            out.extend_from_slice(b"Content-Length: ");
            push_u64(out, n);
            match connection {
                ConnectionField::Absent => out.extend_from_slice(b"\r\n\r\n"),
                ConnectionField::KeepAlive => {
                    out.extend_from_slice(b"\r\nConnection: keep-alive\r\n\r\n");
                }
                ConnectionField::Close => out.extend_from_slice(b"\r\nConnection: close\r\n\r\n"),
            }
        }
        None => match connection {
            ConnectionField::Absent => out.extend_from_slice(b"\r\n"),
            ConnectionField::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n\r\n"),
            ConnectionField::Close => out.extend_from_slice(b"Connection: close\r\n\r\n"),
        },
    }
}

/// `name: value` CRLF for each field, each checked as it is written: names must be tokens,
/// values clean, and the framing fields are the connection's to write (`Content-Length` and
/// `Connection`; `Transfer-Encoding` too in a `response`). One pass over the fields: each name
/// is looked at once, and the names servers and clients send most (`Date`, `Content-Type`, ...
/// see [`known_name`]) are written with their `": "` as one append of a length known here (no
/// check byte by byte, no comparison with the reserved names, no copy call). On an error `out`
/// may hold part of the head: the caller truncates it. An empty list returns before the
/// call (the loop's entry saves six registers).
#[inline(always)]
pub(crate) fn fields(
    out: &mut Vec<u8>,
    headers: &[(&str, &[u8])],
    response: bool,
) -> Result<(), Error> {
    if headers.is_empty() {
        return Ok(());
    }
    some_fields(out, headers, response)
}

/// [`fields`] for a list that is not empty.
fn some_fields(out: &mut Vec<u8>, headers: &[(&str, &[u8])], response: bool) -> Result<(), Error> {
    for &(name, value) in headers {
        if !known_name(out, name) {
            other_name(out, name.as_bytes(), response)?;
        }
        check_value(value)?;
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    Ok(())
}

/// Appends `name: ` when `name` is one of the field names written most (exactly as spelt
/// here), and says whether it was: each is a token and none is a framing field, so it needs no
/// check. Found by its length first, then compared whole (a few word compares); each arm
/// appends a constant, a few moves.
#[inline(always)]
fn known_name(out: &mut Vec<u8>, name: &str) -> bool {
    macro_rules! known {
        ($($len:literal => [$($name:literal),+])+) => {
            match name.len() {
                $($len => match name {
                    $($name => out.extend_from_slice(concat!($name, ": ").as_bytes()),)+
                    _ => return false,
                },)+
                _ => return false,
            }
        };
    }
    // Each length is checked against its names' lengths by `known_names_are_tokens`.
    known! {
        4 => ["Date", "ETag", "Vary", "Host"]
        5 => ["Allow"]
        6 => ["Server", "Accept"]
        7 => ["Expires"]
        8 => ["Location"]
        10 => ["Set-Cookie", "User-Agent"]
        12 => ["Content-Type"]
        13 => ["Last-Modified", "Accept-Ranges", "Cache-Control", "Content-Range"]
        16 => ["Content-Encoding"]
    }
    true
}

/// [`fields`] for a name [`known_name`] does not know: checked byte by byte, compared with the
/// framing fields, and copied.
fn other_name(out: &mut Vec<u8>, name: &[u8], response: bool) -> Result<(), Error> {
    if name.is_empty() || !name.iter().all(|&b| TCHAR[b as usize]) {
        return Err(misuse("invalid header name"));
    }
    let reserved = name.eq_ignore_ascii_case(b"content-length")
        || name.eq_ignore_ascii_case(b"connection")
        || (response && name.eq_ignore_ascii_case(b"transfer-encoding"));
    if reserved {
        return Err(misuse(
            "Content-Length, Transfer-Encoding and Connection are written by the connection",
        ));
    }
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    Ok(())
}

const fn misuse(message: &'static str) -> Error {
    Error::new(ErrorKind::LocalMisuse, Fault::Local, message)
}

/// A reason phrase or field value must not break the framing (no CR, LF, NUL or other CTL).
/// This runs over every field of every head written, so it looks at eight bytes at a time
/// (see [`clean`]); a value with an HTAB or obs-text is looked at again through the table.
pub(crate) fn check_value(v: &[u8]) -> Result<(), Error> {
    if clean(v) || v.iter().all(|&b| FIELD_VALUE[b as usize]) {
        Ok(())
    } else {
        Err(misuse("control byte in a header value or reason"))
    }
}

/// True when no byte of `v` is below 0x20, DEL, or one of the obs-text bytes that lose their
/// top bit into those (0x80-0x9f, 0xff): then every byte is in [`FIELD_VALUE`]. False says only
/// that the table must decide (HTAB and those obs-text bytes are in it). The test of
/// [`class_prefix`](super::parse::class_prefix) on a `u64`, but with one answer for the whole
/// value: the flags of each word are or-ed together and tested once, the last word overlaps
/// the one before it instead of a byte-by-byte tail, and a value of 4-7 bytes is two
/// overlapping halves, one of 1-3 bytes its first, middle and last byte (which cover it).
#[inline]
fn clean(v: &[u8]) -> bool {
    const LO: u64 = u64::from_le_bytes([0x01; 8]);
    const HI: u64 = u64::from_le_bytes([0x80; 8]);
    const LOW7: u64 = u64::from_le_bytes([0x7f; 8]);
    // Bit 7 of each byte: set when the byte (top bit cleared) is below 0x20 or is 0x7f.
    let flags = |x: u64| {
        let m = x & LOW7;
        (!(m + LO * 0x60) | (m + LO)) & HI
    };
    let n = v.len();
    let word = |at: usize| u64::from_le_bytes(v[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| u32::from_le_bytes(v[at..at + 4].try_into().expect("4 bytes"));
    let hits = if n >= 8 {
        v.chunks_exact(8).fold(flags(word(n - 8)), |acc, w| {
            acc | flags(u64::from_le_bytes(w.try_into().expect("8 bytes")))
        })
    } else if n >= 4 {
        flags(u64::from(half(0)) | u64::from(half(n - 4)) << 32)
    } else if n > 0 {
        // The other five bytes are a letter, which is not flagged.
        flags(u64::from_le_bytes([
            v[0],
            v[n / 2],
            v[n - 1],
            b'a',
            b'a',
            b'a',
            b'a',
            b'a',
        ]))
    } else {
        0
    };
    hits == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-bytes-at-a-time check says what the byte table says, for every byte at every
    /// position of a word, of the overlapping last word, and of the short forms.
    #[test]
    fn check_value_agrees_with_the_byte_table() {
        for len in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 29] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert_eq!(
                        check_value(&v).is_ok(),
                        FIELD_VALUE[b as usize],
                        "byte {b:#04x} at {at} of {len}"
                    );
                }
            }
        }
        // The word test alone says yes to the usual values, so they skip the table.
        for v in [
            "",
            "a",
            "OK",
            "gzip",
            "bytes",
            "portline",
            "text/plain; charset=utf-8",
        ] {
            assert!(clean(v.as_bytes()), "{v}");
        }
        assert!(check_value(b"").is_ok());
        assert!(check_value(b"\"fe000098f71e-18ed0c472b278e74-d\"").is_ok());
        assert!(check_value(b"text/plain\tx \x80\xff").is_ok());
    }

    /// Every name [`known_name`] writes without a check is a token that is not a framing field,
    /// sits under its own length, and comes out as the general path writes it; other spellings
    /// take the general path.
    #[test]
    fn known_names_are_tokens() {
        let known = [
            "Date",
            "ETag",
            "Vary",
            "Host",
            "Allow",
            "Server",
            "Accept",
            "Expires",
            "Location",
            "Set-Cookie",
            "User-Agent",
            "Content-Type",
            "Last-Modified",
            "Accept-Ranges",
            "Cache-Control",
            "Content-Range",
            "Content-Encoding",
        ];
        for name in known {
            let mut out = Vec::new();
            assert!(known_name(&mut out, name), "{name}");
            assert_eq!(out, format!("{name}: ").as_bytes());
            let mut general = Vec::new();
            other_name(&mut general, name.as_bytes(), true).expect("a token, not reserved");
            assert_eq!(out, general);
            let lower = name.to_ascii_lowercase();
            assert!(!known_name(&mut Vec::new(), &lower), "{lower}");
        }
        for name in ["", "Dat", "Datex", "Content-Length", "Connection", "X-Date"] {
            assert!(!known_name(&mut Vec::new(), name), "{name}");
        }
    }

    /// Fields come out as `name: value` CRLF; a bad name or value, or a framing field, is an
    /// error whichever path its name takes.
    #[test]
    fn fields_match_the_formatted_text_and_refuse_what_check_refused() {
        let good: &[(&str, &[u8])] = &[
            ("Date", b"Tue, 01 Dec 2026 10:00:00 GMT"),
            ("X-Custom", b"a b\tc"),
            ("content-type", b"text/plain"),
            ("ETag", b"\"x\""),
        ];
        let mut out = b"HTTP/1.0 200 OK\r\n".to_vec();
        fields(&mut out, good, true).unwrap();
        let mut text = String::from("HTTP/1.0 200 OK\r\n");
        for (n, v) in good {
            text += &format!("{n}: {}\r\n", String::from_utf8_lossy(v));
        }
        assert_eq!(out, text.as_bytes());
        let bad: &[(&str, &[u8])] = &[
            ("Date", b"a\r\nb"),
            ("X-Custom", b"\0"),
            ("Bad Name", b"x"),
            ("", b"x"),
            ("Content-Length", b"1"),
            ("connection", b"close"),
            ("Transfer-Encoding", b"chunked"),
        ];
        for field in bad {
            assert!(
                fields(&mut Vec::new(), &[*field], true).is_err(),
                "{field:?}"
            );
        }
        // A request may carry Transfer-Encoding (portline writes none itself).
        assert!(fields(&mut Vec::new(), &[("Transfer-Encoding", b"gzip")], false).is_ok());
        assert!(fields(&mut Vec::new(), &[("Content-Length", b"1")], false).is_err());
    }

    #[test]
    fn request_line_matches_the_formatted_text() {
        for method in ["GET", "HEAD", "POST", "PUT", "X"] {
            for target in ["/", "/a?b", "*"] {
                let mut out = Vec::new();
                request_line(&mut out, method, target);
                assert_eq!(out, format!("{method} {target} HTTP/1.0\r\n").as_bytes());
            }
        }
        // Every length of target `push_short` splits differently, after a head already begun
        // (so that its cut-back is relative to where the target starts).
        let long: String = (0..40).map(|i| char::from(b'a' + i % 26)).collect();
        for len in 0..=long.len() {
            let target = &long[..len];
            let mut out = b"x".to_vec();
            request_line(&mut out, "GET", target);
            assert_eq!(out, format!("xGET {target} HTTP/1.0\r\n").as_bytes());
        }
    }

    #[test]
    fn status_line_and_head_end_match_the_formatted_text() {
        for status in [100, 101, 200, 204, 304, 404, 505, 999] {
            for reason in ["OK", "", "Not Found"] {
                let mut out = Vec::new();
                status_line(&mut out, status, reason);
                assert_eq!(out, format!("HTTP/1.0 {status} {reason}\r\n").as_bytes());
            }
        }
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            420,
            1234,
            10u64.pow(19) - 1,
            10u64.pow(19),
            u64::MAX,
        ] {
            let mut out = b"x".to_vec();
            push_u64(&mut out, n);
            assert_eq!(out, format!("x{n}").as_bytes());
        }
        for n in [0, 1, 9, 10, 99, 1234, u64::MAX] {
            let mut out = Vec::new();
            head_end(&mut out, Some(n), ConnectionField::Absent);
            assert_eq!(out, format!("Content-Length: {n}\r\n\r\n").as_bytes());
        }
        for (field, text) in [
            (ConnectionField::Absent, ""),
            (ConnectionField::KeepAlive, "Connection: keep-alive\r\n"),
            (ConnectionField::Close, "Connection: close\r\n"),
        ] {
            let mut out = Vec::new();
            head_end(&mut out, None, field);
            assert_eq!(out, format!("{text}\r\n").as_bytes());
            out.clear();
            for n in [7, 1234] {
                out.clear();
                head_end(&mut out, Some(n), field);
                assert_eq!(out, format!("Content-Length: {n}\r\n{text}\r\n").as_bytes());
            }
        }
    }
}
