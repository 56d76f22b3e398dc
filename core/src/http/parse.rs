//! The head grammar: byte classes, the resumable end-of-head scan, and the `nom` parsers for the
//! request line, the status line and header fields.
//!
//! Parsing a head is two passes over bytes that are already in memory:
//! 1. [`HeadScan`] finds where the head ends with `memchr` (one call per line), resuming where it
//!    stopped when more bytes arrive, so a head that trickles in is not re-scanned.
//! 2. Once the whole head is there, [`parse_request`] / [`parse_response`] validate it line by line
//!    with `nom` combinators whose inner loops are `[bool; 256]` table lookups, and record spans
//!    (no allocation per field; one `Vec` of spans per head).

use nom::IResult;
use nom::bytes::complete::{tag, take_while, take_while_m_n, take_while1};
use nom::character::complete::char;

use super::error::{Error, ErrorKind, Fault};
use super::event::Version;

// ----- byte classes -----

/// Builds a `[bool; 256]` byte class at compile time from a predicate on `b: u8`.
macro_rules! byte_table {
    (|$b:ident| $e:expr) => {{
        let mut t = [false; 256];
        let mut i = 0usize;
        while i < 256 {
            let $b = i as u8;
            t[i] = $e;
            i += 1;
        }
        t
    }};
}

/// RFC 9110 5.6.2:
/// ```text
/// token = 1*tchar
/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
///         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
/// ```
pub(crate) static TCHAR: [bool; 256] = byte_table!(|b| matches!(b,
    b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
    b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z'));

/// RFC 9110 5.5 (and the status line's reason phrase, RFC 9112 4, which has the same class):
/// ```text
/// field-value   = *field-content
/// field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
/// field-vchar   = VCHAR / obs-text
/// reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
/// obs-text      = %x80-FF
/// ```
/// So: HTAB, SP, %x21-7E and %x80-FF. Every other CTL, DEL, and in particular NUL, CR and LF, is
/// rejected (HTTP.md).
pub(crate) static FIELD_VALUE: [bool; 256] =
    byte_table!(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));

/// The request target (RFC 9112 3.2 builds it from RFC 3986 characters): HTTP.md rejects SP, CTL
/// and DEL; obs-text (%x80-FF) is tolerated as raw UTF-8 that some clients send.
pub(crate) static TARGET: [bool; 256] = byte_table!(|b| b > 0x20 && b != 0x7f);

/// RFC 9110 5.6.3: `OWS = *( SP / HTAB )`.
#[inline]
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

// ----- errors -----

pub(crate) const fn bad(message: &'static str) -> Error {
    Error::new(ErrorKind::BadSyntax, Fault::Peer, message)
}

pub(crate) const fn peer(kind: ErrorKind, message: &'static str) -> Error {
    Error::new(kind, Fault::Peer, message)
}

type R<'a, T> = IResult<&'a [u8], T, ()>;

// ----- the resumable end-of-head scan -----

/// Where the end-of-head search stopped, so that the next call continues from there.
#[derive(Debug, Default, Clone)]
pub(crate) struct HeadScan {
    /// Bytes of the buffer already searched for LF.
    pos: usize,
    /// The index of the last LF seen (the end of the previous line).
    last_lf: Option<usize>,
}

impl HeadScan {
    /// Forget the progress (a new head starts at the front of the buffer).
    pub(crate) fn reset(&mut self) {
        self.pos = 0;
        self.last_lf = None;
    }

    /// Searches `buf` (which starts with the head) for the end of the head and returns its length
    /// (the blank line included). `simple_first_line` says whether a first line with fewer than
    /// two spaces ends the head on its own (a server reading a possible HTTP/0.9 Simple-Request,
    /// or a garbage line that will be rejected anyway). An empty first line always ends the head
    /// (it is then rejected by the parser).
    pub(crate) fn scan(&mut self, buf: &[u8], simple_first_line: bool) -> Option<usize> {
        while let Some(off) = memchr::memchr(b'\n', &buf[self.pos..]) {
            let lf = self.pos + off;
            self.pos = lf + 1;
            let line_start = self.last_lf.map_or(0, |p| p + 1);
            let line = &buf[line_start..lf];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                return Some(lf + 1);
            }
            if self.last_lf.is_none()
                && simple_first_line
                && memchr::memchr_iter(b' ', line).nth(1).is_none()
            {
                return Some(lf + 1);
            }
            self.last_lf = Some(lf);
        }
        self.pos = buf.len();
        None
    }
}

// ----- what the parsers report -----

/// The fields that decide framing and persistence, gathered while the head is parsed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Framing {
    /// The value of `Content-Length` (equal repeats allowed).
    pub content_length: Option<u64>,
    /// A `Transfer-Encoding` field was present.
    pub te_present: bool,
    /// The last transfer coding is `chunked`.
    pub te_last_chunked: bool,
    /// `chunked` appeared other than as the last coding.
    pub te_chunked_not_last: bool,
    /// A coding other than `chunked` appeared.
    pub te_other: bool,
    /// The list had no coding at all.
    pub te_empty: bool,
    /// `Connection: close` was present.
    pub close: bool,
    /// `Connection: keep-alive` was present.
    pub keep_alive: bool,
}

/// A parsed request head: spans index the head's bytes.
#[derive(Debug)]
pub(crate) struct ParsedRequest {
    pub method: (usize, usize),
    pub target: (usize, usize),
    pub version: Version,
    pub spans: Vec<[u32; 4]>,
    pub framing: Framing,
}

/// A parsed status line and headers.
#[derive(Debug)]
pub(crate) struct ParsedResponse {
    pub version: Version,
    pub status: u16,
    pub reason: (usize, usize),
    pub spans: Vec<[u32; 4]>,
    pub framing: Framing,
}

/// A response head with obs-fold lines must be unfolded into a fresh buffer and parsed again.
pub(crate) enum ResponseOutcome {
    Parsed(ParsedResponse),
    NeedsUnfold,
}

#[inline]
fn offset(head: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - head.as_ptr() as usize
}

// ----- nom grammar -----

/// `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` (RFC 9112 2.3); `HTTP-name = %s"HTTP"`.
fn http_version(i: &[u8]) -> R<'_, (u8, u8)> {
    let (i, _) = tag(&b"HTTP/"[..])(i)?;
    let (i, major) = take_while_m_n(1, 1, |b: u8| b.is_ascii_digit())(i)?;
    let (i, _) = char('.')(i)?;
    let (i, minor) = take_while_m_n(1, 1, |b: u8| b.is_ascii_digit())(i)?;
    Ok((i, (major[0] - b'0', minor[0] - b'0')))
}

fn version_of(major: u8, minor: u8) -> Result<Version, Error> {
    match (major, minor) {
        (1, 0) => Ok(Version::Http10),
        (1, _) => Ok(Version::Http11),
        _ => Err(peer(
            ErrorKind::UnsupportedVersion,
            "unsupported HTTP major version",
        )),
    }
}

fn token(i: &[u8]) -> R<'_, &[u8]> {
    take_while1(|b: u8| TCHAR[b as usize])(i)
}

fn sp(i: &[u8]) -> R<'_, char> {
    char(' ')(i)
}

/// Splits `head[start..]` at the next LF: the line without its line ending, and the index after
/// the LF. A missing CR before the LF is an error unless bare LF is allowed.
#[inline]
fn next_line(head: &[u8], start: usize, bare_lf: bool) -> Result<(&[u8], usize), Error> {
    let lf = match memchr::memchr(b'\n', &head[start..]) {
        Some(off) => start + off,
        None => return Err(bad("head line without LF")),
    };
    let line = &head[start..lf];
    match line.strip_suffix(b"\r") {
        Some(l) => Ok((l, lf + 1)),
        None if bare_lf => Ok((line, lf + 1)),
        None => Err(bad("bare LF line ending")),
    }
}

/// A line that failed its grammar: name the most useful cause.
fn line_error(line: &[u8], fallback: &'static str) -> Error {
    if memchr::memchr(b'\r', line).is_some() {
        bad("bare CR in head")
    } else {
        bad(fallback)
    }
}

/// Method, target, and `(major, minor)` (`None` for a Simple-Request).
type RequestLine<'a> = (&'a [u8], &'a [u8], Option<(u8, u8)>);

/// `request-line = method SP request-target SP HTTP-version` (RFC 9112 3), or the HTTP/0.9
/// `Simple-Request = "GET" SP Request-URI CRLF` (RFC 1945 4.1).
fn request_line(line: &[u8]) -> Result<RequestLine<'_>, Error> {
    let (rest, method) = token(line).map_err(|_| line_error(line, "invalid method"))?;
    let (rest, _) = sp(rest).map_err(|_| {
        if rest.first().is_some_and(|&b| is_ows(b)) {
            bad("request line parts not separated by one SP")
        } else {
            line_error(line, "invalid method")
        }
    })?;
    let (rest, target) = take_while(|b: u8| TARGET[b as usize])(rest)
        .map_err(|_: nom::Err<()>| bad("invalid request target"))?;
    if target.is_empty() {
        return Err(if rest.first() == Some(&b' ') {
            bad("request line parts not separated by one SP")
        } else {
            line_error(line, "empty request target")
        });
    }
    if rest.is_empty() {
        return Ok((method, target, None));
    }
    let (rest, _) = sp(rest).map_err(|_| line_error(line, "invalid byte in request target"))?;
    let (rest, version) = http_version(rest).map_err(|_| {
        if rest.first().is_some_and(|&b| is_ows(b)) {
            bad("request line parts not separated by one SP")
        } else {
            line_error(line, "invalid HTTP version")
        }
    })?;
    if !rest.is_empty() {
        return Err(line_error(line, "junk after HTTP version"));
    }
    Ok((method, target, Some(version)))
}

/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 4); a missing
/// final SP before an empty reason is tolerated.
fn status_line(line: &[u8]) -> Result<(u8, u8, u16, &[u8]), Error> {
    let (rest, (major, minor)) =
        http_version(line).map_err(|_| line_error(line, "invalid status line"))?;
    let (rest, _) = sp(rest).map_err(|_| line_error(line, "invalid status line"))?;
    let (rest, code) = take_while_m_n(3, 3, |b: u8| b.is_ascii_digit())(rest)
        .map_err(|_: nom::Err<()>| line_error(line, "invalid status code"))?;
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    if status < 100 {
        return Err(bad("invalid status code"));
    }
    if rest.is_empty() {
        return Ok((major, minor, status, rest));
    }
    let (rest, _) = sp(rest).map_err(|_| line_error(line, "invalid status code"))?;
    let (left, reason) = take_while(|b: u8| FIELD_VALUE[b as usize])(rest)
        .map_err(|_: nom::Err<()>| bad("invalid reason phrase"))?;
    if !left.is_empty() {
        return Err(line_error(line, "invalid byte in reason phrase"));
    }
    Ok((major, minor, status, reason))
}

/// `field-line = field-name ":" OWS field-value OWS` (RFC 9112 5); returns name and trimmed value.
#[inline]
pub(crate) fn field_line(line: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let (rest, name) = match token(line) {
        Ok(v) => v,
        Err(_) => {
            return Err(match line.first() {
                Some(b':') => bad("empty header name"),
                _ if memchr::memchr(b':', line).is_none() => {
                    line_error(line, "header line without colon")
                }
                _ => line_error(line, "invalid byte in header name"),
            });
        }
    };
    let (rest, _) = char::<_, ()>(':')(rest).map_err(|_| match rest.first() {
        Some(&b) if is_ows(b) => match rest.iter().find(|&&b| !is_ows(b)) {
            Some(b':') => bad("whitespace between header name and colon"),
            _ if memchr::memchr(b':', rest).is_none() => bad("header line without colon"),
            _ => line_error(line, "invalid byte in header name"),
        },
        None => bad("header line without colon"),
        _ if memchr::memchr(b':', rest).is_none() => line_error(line, "header line without colon"),
        _ => line_error(line, "invalid byte in header name"),
    })?;
    let (left, value) = take_while(|b: u8| FIELD_VALUE[b as usize])(rest)
        .map_err(|_: nom::Err<()>| bad("invalid header value"))?;
    if let Some(&b) = left.first() {
        return Err(match b {
            b'\r' => bad("bare CR in head"),
            0 | b'\n' => bad("NUL, CR or LF in header value"),
            _ => bad("control byte in header value"),
        });
    }
    Ok((name, trim_ows(value)))
}

#[inline]
pub(crate) fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if is_ows(*first) {
            v = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = v {
        if is_ows(*last) {
            v = rest;
        } else {
            break;
        }
    }
    v
}

/// Each comma-separated element of a list field (RFC 9110 5.6.1), trimmed, empties skipped.
pub(crate) fn list_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// `Content-Length = 1*DIGIT` (RFC 9110 8.6): plain digits only, no sign, no list, no overflow.
fn content_length(v: &[u8]) -> Result<u64, Error> {
    if v.is_empty() {
        return Err(bad("empty Content-Length"));
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return Err(bad("Content-Length is not plain digits"));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(bad("Content-Length overflows"))?;
    }
    Ok(n)
}

impl Framing {
    /// Looks at one field: the three that decide framing and persistence are recognised by length
    /// first, so most fields cost one comparison.
    #[inline]
    fn field(&mut self, name: &[u8], value: &[u8]) -> Result<(), Error> {
        match name.len() {
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let n = content_length(value)?;
                match self.content_length {
                    Some(old) if old != n => {
                        return Err(bad("conflicting Content-Length values"));
                    }
                    _ => self.content_length = Some(n),
                }
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                self.te_present = true;
                let mut any = false;
                for coding in list_items(value) {
                    any = true;
                    let name = trim_ows(coding.split(|&b| b == b';').next().unwrap_or(coding));
                    if self.te_last_chunked {
                        self.te_chunked_not_last = true;
                    }
                    self.te_last_chunked = name.eq_ignore_ascii_case(b"chunked");
                    if !self.te_last_chunked {
                        self.te_other = true;
                    }
                }
                if !any {
                    self.te_empty = true;
                }
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for opt in list_items(value) {
                    if opt.eq_ignore_ascii_case(b"close") {
                        self.close = true;
                    } else if opt.eq_ignore_ascii_case(b"keep-alive") {
                        self.keep_alive = true;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Parses the header section `head[start..]` (which ends with the blank line). `obs_fold`:
/// `None` rejects continuation lines (requests), `Some(flag)` sets `flag` and stops at the first one
/// (responses, which are then unfolded and parsed again).
fn fields(
    head: &[u8],
    mut pos: usize,
    bare_lf: bool,
    max_headers: usize,
    spans: &mut Vec<[u32; 4]>,
    framing: &mut Framing,
    mut obs_fold: Option<&mut bool>,
) -> Result<(), Error> {
    let mut first = true;
    loop {
        let (line, next) = next_line(head, pos, bare_lf)?;
        if line.is_empty() {
            return Ok(());
        }
        if is_ows(line[0]) {
            if first {
                return Err(bad("whitespace before the first header"));
            }
            match obs_fold.as_deref_mut() {
                Some(flag) => {
                    *flag = true;
                    return Ok(());
                }
                None => return Err(bad("obs-fold continuation line")),
            }
        }
        first = false;
        let (name, value) = field_line(line)?;
        if spans.len() == max_headers {
            return Err(peer(ErrorKind::HeadTooLarge, "too many header fields"));
        }
        framing.field(name, value)?;
        let ns = offset(head, name);
        let vs = offset(head, value);
        spans.push([
            ns as u32,
            (ns + name.len()) as u32,
            vs as u32,
            (vs + value.len()) as u32,
        ]);
        pos = next;
    }
}

/// Parses a complete request head (as delimited by [`HeadScan::scan`] with
/// `simple_first_line = true`).
pub(crate) fn parse_request(
    head: &[u8],
    bare_lf: bool,
    http09: bool,
    max_headers: usize,
    max_target: usize,
) -> Result<ParsedRequest, Error> {
    let (line, next) = next_line(head, 0, bare_lf)?;
    if line.is_empty() {
        return Err(bad("empty request line"));
    }
    let (method, target, version) = request_line(line)?;
    if target.len() > max_target {
        return Err(peer(ErrorKind::TargetTooLong, "request target too long"));
    }
    let method_span = (offset(head, method), offset(head, method) + method.len());
    let target_span = (offset(head, target), offset(head, target) + target.len());
    let mut framing = Framing::default();
    let Some((major, minor)) = version else {
        if !http09 {
            return Err(bad("HTTP/0.9 request not accepted"));
        }
        if method != b"GET" {
            return Err(bad("HTTP/0.9 request with a method other than GET"));
        }
        return Ok(ParsedRequest {
            method: method_span,
            target: target_span,
            version: Version::Http09,
            spans: Vec::new(),
            framing,
        });
    };
    let version = version_of(major, minor)?;
    let mut spans = Vec::with_capacity(16);
    fields(
        head,
        next,
        bare_lf,
        max_headers,
        &mut spans,
        &mut framing,
        None,
    )?;
    Ok(ParsedRequest {
        method: method_span,
        target: target_span,
        version,
        spans,
        framing,
    })
}

/// Parses a complete response head.
pub(crate) fn parse_response(
    head: &[u8],
    bare_lf: bool,
    max_headers: usize,
) -> Result<ResponseOutcome, Error> {
    let (line, next) = next_line(head, 0, bare_lf)?;
    let (major, minor, status, reason) = status_line(line)?;
    let version = version_of(major, minor)?;
    let reason_span = (offset(head, reason), offset(head, reason) + reason.len());
    let mut framing = Framing::default();
    let mut spans = Vec::with_capacity(16);
    let mut folded = false;
    fields(
        head,
        next,
        bare_lf,
        max_headers,
        &mut spans,
        &mut framing,
        Some(&mut folded),
    )?;
    if folded {
        return Ok(ResponseOutcome::NeedsUnfold);
    }
    Ok(ResponseOutcome::Parsed(ParsedResponse {
        version,
        status,
        reason: reason_span,
        spans,
        framing,
    }))
}

/// Copies a response head with every obs-fold (`CRLF 1*(SP / HTAB)` after the first field line)
/// replaced by one SP (RFC 9112 5.2). Line endings are otherwise kept.
pub(crate) fn unfold(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    let mut pos = 0;
    let mut first_line = true;
    while pos < head.len() {
        let end = memchr::memchr(b'\n', &head[pos..]).map_or(head.len(), |o| pos + o + 1);
        let line = &head[pos..end];
        if !first_line && line.first().is_some_and(|&b| is_ows(b)) {
            // Drop the previous line ending and the leading whitespace; join with one SP.
            while matches!(out.last(), Some(b'\n' | b'\r')) {
                out.pop();
            }
            out.push(b' ');
            out.extend_from_slice(trim_ows_start(line));
        } else {
            out.extend_from_slice(line);
        }
        first_line = false;
        pos = end;
    }
    out
}

fn trim_ows_start(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if is_ows(*first) {
            v = rest;
        } else {
            break;
        }
    }
    v
}

/// When a head outgrows `max_head` before its end is found: 414 if the request target alone is
/// already over `max_target` in the first line (or what has arrived of it), else 431. Looks only
/// at `prefix` (the first `max_head + 1` bytes), so the answer does not depend on how the bytes
/// were split.
pub(crate) fn too_large(prefix: &[u8], request: bool, max_target: usize) -> Error {
    if request {
        let line_end = memchr::memchr(b'\n', prefix).unwrap_or(prefix.len());
        let line = &prefix[..line_end];
        if let Some(sp1) = memchr::memchr(b' ', line) {
            let rest = &line[sp1 + 1..];
            let target_len = memchr::memchr(b' ', rest).unwrap_or(rest.len());
            if target_len > max_target {
                return peer(ErrorKind::TargetTooLong, "request target too long");
            }
        }
    }
    peer(ErrorKind::HeadTooLarge, "head too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_resumes_and_finds_the_blank_line() {
        let msg = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
        let mut s = HeadScan::default();
        for end in 0..msg.len() {
            let found = s.scan(&msg[..end], true);
            if end < 27 {
                assert_eq!(found, None, "at {end}");
            } else {
                assert_eq!(found, Some(27));
                return;
            }
        }
        panic!("never found");
    }

    #[test]
    fn simple_request_ends_at_first_line() {
        let mut s = HeadScan::default();
        assert_eq!(s.scan(b"GET /x\r\nmore", true), Some(8));
        let mut s = HeadScan::default();
        assert_eq!(s.scan(b"HTTP/1.0 200 OK\r\n\r\n", false), Some(19));
    }

    #[test]
    fn tables_quote_the_grammar() {
        assert!(TCHAR[b'!' as usize] && !TCHAR[b':' as usize] && !TCHAR[b' ' as usize]);
        assert!(FIELD_VALUE[b'\t' as usize] && !FIELD_VALUE[0] && !FIELD_VALUE[b'\r' as usize]);
        assert!(FIELD_VALUE[0x80] && !FIELD_VALUE[0x7f]);
        assert!(!TARGET[b' ' as usize] && TARGET[b'/' as usize] && !TARGET[0x7f]);
    }

    #[test]
    fn unfold_joins_with_one_space() {
        let h = b"HTTP/1.1 200 OK\r\nA: b\r\n  c\r\nD: e\r\n\r\n";
        assert_eq!(
            unfold(h),
            b"HTTP/1.1 200 OK\r\nA: b c\r\nD: e\r\n\r\n".to_vec()
        );
    }
}
