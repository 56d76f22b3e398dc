//! The head grammar: byte classes, and the `nom` parsers for the request line, the status line
//! and header fields, driven line by line by a resumable [`HeadParser`].
//!
//! A head is parsed in one pass as its lines arrive: `memchr` finds each line's LF, the line is
//! validated by `nom` combinators whose inner loops are `[bool; 256]` table lookups (or, for the
//! long runs of name, target and field-value bytes, the same classes checked sixteen or eight
//! bytes at a time by [`super::scan`]), and each field is recorded as a span. When more bytes arrive the parser resumes at the first
//! incomplete line: a head that trickles in is never re-scanned from its first byte, and there is
//! no allocation per field (one `Vec` of spans per head).

use nom::IResult;
use nom::bytes::complete::{take_while_m_n, take_while1};
use nom::character::complete::char;

use super::error::{Error, ErrorKind, Fault};
use super::event::Version;
pub(crate) use super::scan::class_prefix;
use super::scan::token_prefix;

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
/// rejected (docs/HTTP.md).
pub(crate) static FIELD_VALUE: [bool; 256] =
    byte_table!(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));

/// The request target (RFC 9112 3.2 builds it from RFC 3986 characters, all of them VCHAR):
/// `VCHAR = %x21-7E`. SP, CTL, DEL and bytes >= 0x80 are rejected (docs/HTTP.md).
pub(crate) static TARGET: [bool; 256] = byte_table!(|b| b > 0x20 && b < 0x7f);

/// [`TARGET`] plus obs-text (`%x80-FF`), raw UTF-8 that some clients send: only with
/// `Leniency::obs_text_target`.
pub(crate) static TARGET_OBS_TEXT: [bool; 256] = byte_table!(|b| b > 0x20 && b != 0x7f);

/// RFC 3986 3.1: `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (after its first byte).
static SCHEME: [bool; 256] =
    byte_table!(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));

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

// ----- what the parsers report -----

/// The fields that decide framing and persistence, gathered while the head is parsed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Framing {
    /// The value of `Content-Length` (equal repeats allowed).
    pub content_length: Option<u64>,
    /// A `Transfer-Encoding` field was present.
    pub te_present: bool,
    /// The last element of the combined list is exactly `chunked`, without parameters.
    pub te_chunked_final: bool,
    /// `chunked` (with or without parameters) appeared.
    pub te_chunked_seen: bool,
    /// `chunked` (with or without parameters) appeared more than once.
    pub te_chunked_twice: bool,
    /// An element other than an exact `chunked` appeared: a coding portline does not decode.
    pub te_other: bool,
    /// The list had an empty element (`chunked,`, `,chunked`) or an element that is not
    /// `transfer-coding`: different parsers read it differently.
    pub te_malformed: bool,
    /// `Connection: close` was present.
    pub close: bool,
    /// `Connection: keep-alive` was present.
    pub keep_alive: bool,
}

/// What the first line of a head said; spans index the head's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartLine {
    /// A request line (`version` is `Http09` for a Simple-Request).
    Request {
        method: (usize, usize),
        target: (usize, usize),
        version: Version,
    },
    /// A status line.
    Status {
        version: Version,
        status: u16,
        reason: (usize, usize),
    },
}

impl StartLine {
    /// The same line with its spans moved `by` bytes later.
    fn shifted(self, by: usize) -> StartLine {
        match self {
            StartLine::Request {
                method,
                target,
                version,
            } => StartLine::Request {
                method: (method.0 + by, method.1 + by),
                target: (target.0 + by, target.1 + by),
                version,
            },
            StartLine::Status {
                version,
                status,
                reason,
            } => StartLine::Status {
                version,
                status,
                reason: (reason.0 + by, reason.1 + by),
            },
        }
    }
}

/// A complete head: its length and its first line. The rest of what was parsed stays in the
/// parser until the next head starts ([`HeadParser::spans`], [`HeadParser::framing`],
/// [`HeadParser::folded`], [`HeadParser::blank`]), so that the quick whole head and the general
/// loop's hand on as little as they can where they meet.
#[derive(Debug)]
pub(crate) struct Head {
    /// Bytes of the head, the blank line included.
    pub len: usize,
    pub start: StartLine,
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
/// (Eight fixed positions, so it is checked directly rather than with a chain of combinators.)
fn http_version(i: &[u8]) -> R<'_, (u8, u8)> {
    match i {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, rest @ ..]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Ok((rest, (major - b'0', minor - b'0')))
        }
        _ => Err(nom::Err::Error(())),
    }
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

/// `request-target`: the bytes up to the next SP that are in `class` ([`TARGET`] or
/// [`TARGET_OBS_TEXT`]).
fn target<'a>(i: &'a [u8], class: &[bool; 256]) -> R<'a, &'a [u8]> {
    let end = memchr::memchr(b' ', i).unwrap_or(i.len());
    let n = class_prefix(&i[..end], 0x21, class);
    Ok((&i[n..], &i[..n]))
}

/// The four forms of `request-target` (RFC 9112 3.2), each allowed only where the RFC allows it:
/// ```text
/// origin-form    = absolute-path [ "?" query ]          ; any method but CONNECT
/// absolute-form  = absolute-URI                         ; any method but CONNECT
/// asterisk-form  = "*"                                  ; OPTIONS only
/// authority-form = uri-host ":" port                    ; CONNECT only
/// ```
/// The absolute form is recognised by `scheme "://"` (as llhttp does); the bytes after it, like
/// those of the other forms, are only held to the target's byte class.
pub(crate) fn target_form(method: &[u8], target: &[u8]) -> Result<(), Error> {
    if method == b"CONNECT" {
        return authority_form(target);
    }
    match target {
        [b'/', ..] => Ok(()),
        [b'*'] if method == b"OPTIONS" => Ok(()),
        [b'*'] => Err(bad("asterisk-form target with a method other than OPTIONS")),
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            let n = rest.iter().take_while(|&&b| SCHEME[b as usize]).count();
            if rest[n..].starts_with(b"://") {
                Ok(())
            } else {
                Err(bad("request target in none of the forms of RFC 9112 3.2"))
            }
        }
        _ => Err(bad("request target in none of the forms of RFC 9112 3.2")),
    }
}

/// `authority-form = uri-host ":" port` (RFC 9112 3.2.3): a host (a bracketed IP literal, or
/// bytes without `/ ? # @ [ ] :`), a colon and at least one digit.
fn authority_form(target: &[u8]) -> Result<(), Error> {
    let err = bad("CONNECT target not in authority-form (host:port)");
    let colon = memchr::memrchr(b':', target).ok_or(err.clone())?;
    let (host, port) = (&target[..colon], &target[colon + 1..]);
    if port.is_empty() || !port.iter().all(u8::is_ascii_digit) {
        return Err(err);
    }
    let reg_name = |h: &[u8]| {
        !h.is_empty()
            && !h
                .iter()
                .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'[' | b']' | b':'))
    };
    let ok = match host {
        [b'[', inner @ .., b']'] => {
            !inner.is_empty() && !inner.iter().any(|b| matches!(b, b'[' | b']' | b'/' | b'@'))
        }
        _ => reg_name(host),
    };
    if ok { Ok(()) } else { Err(err) }
}

/// `field-value` (untrimmed): the bytes in [`FIELD_VALUE`].
fn field_value(i: &[u8]) -> R<'_, &[u8]> {
    let n = class_prefix(i, 0x20, &FIELD_VALUE);
    Ok((&i[n..], &i[..n]))
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
fn request_line<'a>(line: &'a [u8], class: &[bool; 256]) -> Result<RequestLine<'a>, Error> {
    let (rest, method) = token(line).map_err(|_| line_error(line, "invalid method"))?;
    let (rest, _) = sp(rest).map_err(|_| {
        if rest.first().is_some_and(|&b| is_ows(b)) {
            bad("request line parts not separated by one SP")
        } else {
            line_error(line, "invalid method")
        }
    })?;
    let (rest, target) = target(rest, class).map_err(|_| bad("invalid request target"))?;
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
    let (left, reason) = field_value(rest).map_err(|_| bad("invalid reason phrase"))?;
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
    let (left, value) = field_value(rest).map_err(|_| bad("invalid header value"))?;
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
    if v.len() <= 19 {
        // At most 19 digits cannot overflow a u64: no checked arithmetic per digit. Two digits
        // a step.
        let mut n: u64 = 0;
        let mut pairs = v.chunks_exact(2);
        for p in &mut pairs {
            let (a, b) = (p[0].wrapping_sub(b'0'), p[1].wrapping_sub(b'0'));
            if a.max(b) > 9 {
                return Err(bad("Content-Length is not plain digits"));
            }
            n = n * 100 + u64::from(a) * 10 + u64::from(b);
        }
        if let &[c] = pairs.remainder() {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return Err(bad("Content-Length is not plain digits"));
            }
            n = n * 10 + u64::from(d);
        }
        return Ok(n);
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

/// `a` equals `lit` ignoring ASCII case, for a `lit` of lowercase letters and `-` and an `a`
/// with no CR (true of tokens and of field values, both checked before): `| 0x20` lowercases a
/// letter and changes no other byte of such an `a` into a letter or `-` (only CR, 0x0d, would
/// become `-`). No branch per byte, so a known length compiles to a few word compares.
#[inline]
fn eq_lower(a: &[u8], lit: &[u8]) -> bool {
    a.len() == lit.len()
        && a.iter()
            .zip(lit)
            .fold(0, |acc, (&x, &l)| acc | ((x | 0x20) ^ l))
            == 0
}

/// The fields that decide framing and persistence.
#[derive(Debug, Clone, Copy)]
enum FramingField {
    ContentLength,
    TransferEncoding,
    Connection,
}

/// Which framing field `name` is, if any: recognised by length first, so most fields cost one
/// comparison, and inlined, so they cost no call either.
#[inline(always)]
fn framing_field(name: &[u8]) -> Option<FramingField> {
    match name.len() {
        14 if eq_lower(name, b"content-length") => Some(FramingField::ContentLength),
        17 if eq_lower(name, b"transfer-encoding") => Some(FramingField::TransferEncoding),
        10 if eq_lower(name, b"connection") => Some(FramingField::Connection),
        _ => None,
    }
}

impl Framing {
    /// Looks at one field.
    #[inline]
    fn field(&mut self, name: &[u8], value: &[u8]) -> Result<(), Error> {
        match framing_field(name) {
            Some(f) => self.framing_value(f, value),
            None => Ok(()),
        }
    }

    /// The value of a framing field. Inlined into the field loops: out of line, its result came
    /// back through memory and the loop reloaded its SSE2 constants after each call (kept-alive
    /// response head 1,736 -> 1,694 instructions).
    #[inline(always)]
    fn framing_value(&mut self, field: FramingField, value: &[u8]) -> Result<(), Error> {
        match field {
            FramingField::ContentLength => {
                let n = content_length(value)?;
                match self.content_length {
                    Some(old) if old != n => {
                        return Err(bad("conflicting Content-Length values"));
                    }
                    _ => self.content_length = Some(n),
                }
            }
            FramingField::TransferEncoding => {
                // An error whether or not a body follows, in both directions (docs/HTTP.md).
                if value.is_empty() {
                    return Err(bad("empty Transfer-Encoding"));
                }
                // The usual value, `chunked` alone: what `transfer_codings` concludes from a
                // list of that one element, without walking it.
                if eq_lower(value, b"chunked") {
                    self.te_present = true;
                    self.te_chunked_twice |= self.te_chunked_seen;
                    self.te_chunked_seen = true;
                    self.te_chunked_final = true;
                    return Ok(());
                }
                self.transfer_codings(value);
            }
            FramingField::Connection => {
                // The usual values are one option: no list to split.
                if eq_lower(value, b"keep-alive") {
                    self.keep_alive = true;
                    return Ok(());
                }
                if eq_lower(value, b"close") {
                    self.close = true;
                    return Ok(());
                }
                self.connection_options(value);
            }
        }
        Ok(())
    }

    /// A `Connection` value that is a list: each option looked at. Out of line, like
    /// [`Self::transfer_codings`], so that the field loops `framing_value` is inlined into stay small.
    #[inline(never)]
    fn connection_options(&mut self, value: &[u8]) {
        for opt in list_items(value) {
            if eq_lower(opt, b"close") {
                self.close = true;
            } else if eq_lower(opt, b"keep-alive") {
                self.keep_alive = true;
            }
        }
    }
}

impl Framing {
    /// One `Transfer-Encoding` field value (trimmed), added to what earlier ones said. The
    /// combined list is the fields' values joined by commas (RFC 9110 5.3), and each element must
    /// be (RFC 9112 6.1, RFC 9110 10.1.4):
    /// ```text
    /// transfer-coding    = token *( OWS ";" OWS transfer-parameter )
    /// transfer-parameter = token BWS "=" BWS ( token / quoted-string )
    /// ```
    /// RFC 9110 5.6.1 lets a recipient skip empty elements, but `chunked,` and `,chunked` are
    /// framed differently by different parsers, so an empty element marks the list malformed.
    #[inline(never)]
    fn transfer_codings(&mut self, v: &[u8]) {
        self.te_present = true;
        let ows = |v: &[u8], i: usize| i + v[i..].iter().take_while(|&&b| is_ows(b)).count();
        let tok =
            |v: &[u8], i: usize| i + v[i..].iter().take_while(|&&b| TCHAR[b as usize]).count();
        let mut i = 0;
        loop {
            let start = ows(v, i);
            let end = tok(v, start);
            if end == start {
                self.te_malformed = true;
                self.te_chunked_final = false;
                return;
            }
            let name = &v[start..end];
            i = end;
            let mut params = false;
            loop {
                let semi = ows(v, i);
                if v.get(semi) != Some(&b';') {
                    break;
                }
                params = true;
                let p = ows(v, semi + 1);
                let p_end = tok(v, p);
                let eq = ows(v, p_end);
                if p_end == p || v.get(eq) != Some(&b'=') {
                    self.te_malformed = true;
                    self.te_chunked_final = false;
                    return;
                }
                let val = ows(v, eq + 1);
                let val_end = match v.get(val) {
                    Some(b'"') => quoted_string(&v[val..]).map(|n| val + n),
                    _ => Some(tok(v, val)).filter(|&e| e > val),
                };
                let Some(val_end) = val_end else {
                    self.te_malformed = true;
                    self.te_chunked_final = false;
                    return;
                };
                i = val_end;
            }
            let is_chunked = eq_lower(name, b"chunked");
            self.te_chunked_twice |= is_chunked && self.te_chunked_seen;
            self.te_chunked_seen |= is_chunked;
            self.te_chunked_final = is_chunked && !params;
            if !self.te_chunked_final {
                self.te_other = true;
            }
            i = ows(v, i);
            match v.get(i) {
                None => return,
                Some(b',') => i += 1,
                Some(_) => {
                    self.te_malformed = true;
                    self.te_chunked_final = false;
                    return;
                }
            }
        }
    }
}

/// What a response's `Transfer-Encoding` makes of its body (RFC 9112 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseCoding {
    /// The list ends in `chunked`: decode it. `undecoded`: codings before it are left applied.
    Chunked { undecoded: bool },
    /// Anything else: read until close, deliver the bytes as they came.
    UntilClose,
}

impl Framing {
    /// A request with `Transfer-Encoding` (RFC 9112 6.1, 6.3): only a list whose last element is
    /// exactly `chunked` frames a body; any other list is a 400, since a request has no other
    /// way to end (docs/HTTP.md). Codings before `chunked` are not decoded: 501.
    pub(crate) fn request_coding(&self) -> Result<(), Error> {
        if self.te_malformed {
            Err(bad(
                "Transfer-Encoding list malformed or with an empty element",
            ))
        } else if !self.te_chunked_final {
            Err(bad("Transfer-Encoding does not end in chunked"))
        } else if self.te_chunked_twice {
            Err(bad("chunked applied more than once"))
        } else if self.te_other {
            Err(peer(
                ErrorKind::UnsupportedCoding,
                "transfer coding other than chunked",
            ))
        } else {
            Ok(())
        }
    }

    /// A response with `Transfer-Encoding` and a body (RFC 9112 6.3): chunked when the list ends
    /// in exactly `chunked`, else read until close; `chunked` twice is an error.
    pub(crate) fn response_coding(&self) -> Result<ResponseCoding, Error> {
        if self.te_chunked_twice {
            Err(bad("chunked applied more than once"))
        } else if self.te_chunked_final && !self.te_malformed {
            Ok(ResponseCoding::Chunked {
                undecoded: self.te_other,
            })
        } else {
            Ok(ResponseCoding::UntilClose)
        }
    }
}

/// `quoted-string` at the front of `v` (RFC 9110 5.6.4); its length, quotes included.
/// ```text
/// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
/// qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
/// quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
/// ```
pub(crate) fn quoted_string(v: &[u8]) -> Option<usize> {
    if v.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    loop {
        match *v.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => {
                let b = *v.get(i + 1)?;
                if !FIELD_VALUE[b as usize] {
                    return None;
                }
                i += 2;
            }
            b if FIELD_VALUE[b as usize] => i += 1,
            _ => return None,
        }
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

/// The rules a head is parsed by (from `Config` and the role).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// A request head (server role), else a response head.
    pub request: bool,
    pub bare_lf: bool,
    pub http09: bool,
    /// Accept obs-text (bytes >= 0x80) in the request target.
    pub obs_text_target: bool,
    pub max_head: usize,
    pub max_headers: usize,
    pub max_target: usize,
}

impl Rules {
    fn target_class(&self) -> &'static [bool; 256] {
        if self.obs_text_target {
            &TARGET_OBS_TEXT
        } else {
            &TARGET
        }
    }
}

/// How many field spans [`Spans`] holds inline.
const INLINE_SPANS: usize = 16;

/// Field spans, inline up to [`INLINE_SPANS`] (see [`HeadParser`]), then in a `Vec`. Not a
/// `SmallVec`: that one asks whether it has spilled at every `push` and every `len`, and its
/// `clear` walks the elements; here `len` is a plain field and a push is one compare (the
/// inline slot is there, or not). Once a head has more fields, all of them move to `heap`,
/// which a kept-alive connection keeps for its next large head.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// How many spans there are: in `inline` up to [`INLINE_SPANS`], else all in `heap`.
    len: usize,
    inline: [[u32; 4]; INLINE_SPANS],
    heap: Vec<[u32; 4]>,
}

impl Spans {
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.len = 0;
    }

    #[inline(always)]
    fn push(&mut self, span: [u32; 4]) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = span,
            None => self.push_heap(span),
        }
        self.len += 1;
    }

    /// A push past the inline spans: the first one moves them to `heap`.
    #[cold]
    #[inline(never)]
    fn push_heap(&mut self, span: [u32; 4]) {
        if self.len == INLINE_SPANS {
            self.heap.clear();
            self.heap.extend_from_slice(&self.inline);
        }
        self.heap.push(span);
    }

    #[inline(always)]
    fn as_slice(&self) -> &[[u32; 4]] {
        match self.inline.get(..self.len) {
            Some(s) => s,
            None => &self.heap,
        }
    }
}

/// Parses a head line by line as it arrives, resuming where it stopped.
///
/// The first line (and, in a response, every line after an obs-fold) is taken whole: `memchr`
/// finds its LF, resuming the search where it stopped, and the `nom` grammar checks it. Field
/// lines, the bulk of a head, are checked as their bytes arrive: the name against [`TCHAR`] up to
/// the colon, the value against [`FIELD_VALUE`] up to CR or LF (both sixteen bytes at a time
/// where SSE2 is there, [`super::scan`]), so a field line that trickles in is not re-read. Only the first
/// `max_head` bytes are ever looked at, so whether a head fails as malformed (400) or as too
/// large (431) does not depend on how its bytes were split.
#[derive(Debug, Default)]
pub(crate) struct HeadParser {
    /// `(name_start, name_end, value_start, value_end)` of each field of the head being
    /// parsed, or of the last one finished until the next starts. Stored inline up to 16
    /// fields (httparse's bench array, the usual browser request), so that a new connection
    /// does not allocate for them; a head with more spills to the heap once, and a kept-alive
    /// connection keeps that storage.
    spans: Spans,
    /// Start of the current line (offset from the head's first byte).
    line: usize,
    /// Bytes of the current line already searched or checked.
    pos: usize,
    /// The colon of the current field line, once its name is checked.
    colon: Option<usize>,
    start: Option<StartLine>,
    framing: Framing,
    folded: bool,
    /// Bytes of empty lines before the start line.
    blank: usize,
}

/// What one field-line step found.
enum LineStep {
    /// The line is not complete yet.
    Incomplete,
    /// A field was recorded.
    Field,
    /// The blank line: the head ends at this offset.
    End(usize),
    /// A response's obs-fold line starts here.
    Fold,
}

impl HeadParser {
    /// The field spans of the head being parsed, or of the last head finished.
    pub(crate) fn spans(&self) -> &[[u32; 4]] {
        self.spans.as_slice()
    }

    /// The framing fields of the head being parsed, or of the last head finished.
    pub(crate) fn framing(&self) -> &Framing {
        &self.framing
    }

    /// The last head finished was a response with obs-fold lines: unfold it and parse it
    /// again ([`unfold`], [`parse_response`]).
    pub(crate) fn folded(&self) -> bool {
        self.folded
    }

    /// Bytes of empty lines before the start line of the last head finished (RFC 9112 2.2),
    /// part of its length.
    pub(crate) fn blank(&self) -> usize {
        self.blank
    }

    /// Replaces the spans of the last head finished (by those of its unfolded copy).
    pub(crate) fn set_spans(&mut self, spans: &[[u32; 4]]) {
        self.spans.clear();
        for &span in spans {
            self.spans.push(span);
        }
    }

    /// Parses what has arrived of the head at the front of `buf` and was not parsed yet. Returns
    /// the head once its end is found; the parser is then ready for the next head.
    ///
    /// A head of which nothing was parsed yet is tried whole first, in line: the quick first
    /// line, then [`Self::common_lines`] up to the blank line, with the first line kept in a
    /// local rather than in the parser. Anything else (the head incomplete, a line the quick
    /// paths leave, a head resumed) goes to the general loop, out of line: with it in line its
    /// hoisted set-up was paid by every head (kept-alive short request 1,043 -> 1,016
    /// instructions, response 1,952 -> 1,931; a head that trickles in pays one more call per
    /// poll, trickle16 17,408 -> 20,156).
    #[inline(always)]
    pub(crate) fn advance(&mut self, buf: &[u8], rules: &Rules) -> Result<Option<Head>, Error> {
        if self.start.is_none() && self.pos == 0 {
            // Nothing of this head parsed yet: the usual head, whole, in one pass. The last
            // head's leftovers are dropped after the first line's call (which does not touch
            // them; the general loop drops them itself): the field loop then starts from a
            // span count it knows is zero, not one loaded again after the call.
            let view = &buf[..buf.len().min(rules.max_head)];
            if let Some((start, next)) = quick_start_line(view, rules) {
                self.begin_head();
                self.blank = 0;
                match self.common_lines(buf, view, rules, next)? {
                    Ok(len) => {
                        return Ok(Some(Head { len, start }));
                    }
                    Err(line) => {
                        self.start = Some(start);
                        self.line = line;
                        self.pos = line;
                    }
                }
            }
        }
        self.advance_general(buf, rules)
    }

    /// Forgets what the last head left in the parser for its caller (its spans are no longer
    /// lent out). Its empty lines before the start line are counted again where they are
    /// skipped.
    #[inline(always)]
    fn begin_head(&mut self) {
        self.spans.clear();
        self.framing = Framing::default();
        self.folded = false;
    }

    /// [`Self::advance`] past its quick whole head: a head that arrives in pieces, has empty
    /// lines before it, or has a line the quick paths do not take. The field lines are taken
    /// here; the first line (and the lines skipped after an obs-fold) by
    /// [`Self::start_step`], out of line: in line, the set-up LLVM hoisted out of this loop for
    /// them (the target's class, the version rules, ...) was paid at every call, and a head
    /// that trickles in makes one call per piece.
    #[inline(never)]
    fn advance_general(&mut self, buf: &[u8], rules: &Rules) -> Result<Option<Head>, Error> {
        let view = &buf[..buf.len().min(rules.max_head)];
        if self.start.is_none() {
            self.begin_head();
        }
        loop {
            if self.start.is_some() && !self.folded {
                if self.pos == self.line && self.colon.is_none() {
                    match self.common_lines_outlined(buf, view, rules)? {
                        Ok(len) => return Ok(Some(self.finish(len))),
                        Err(line) => {
                            self.line = line;
                            self.pos = line;
                        }
                    }
                }
                match self.field_step(buf, view, rules)? {
                    LineStep::Incomplete => return incomplete(buf, rules),
                    LineStep::Field => continue,
                    LineStep::End(len) => return Ok(Some(self.finish(len))),
                    LineStep::Fold => {
                        self.folded = true;
                        continue;
                    }
                }
            }
            if let Some(done) = self.start_step(buf, view, rules)? {
                return Ok(done);
            }
        }
    }

    /// One step of [`Self::advance_general`] outside the field lines: the empty lines before
    /// the first line, the first line, or a line after an obs-fold. `Some`: what `advance`
    /// returns; `None`: go on.
    #[inline(never)]
    fn start_step(
        &mut self,
        buf: &[u8],
        view: &[u8],
        rules: &Rules,
    ) -> Result<Option<Option<Head>>, Error> {
        if self.start.is_none() && self.pos == self.line {
            // RFC 9112 2.2: empty lines before the start line are ignored. They stay part of
            // the head, so they count toward its limit (an endless stream of them is a 431).
            loop {
                match view.get(self.line) {
                    Some(b'\r') => match view.get(self.line + 1) {
                        Some(b'\n') => self.line += 2,
                        Some(_) => return Err(bad("bare CR in head")),
                        None => {
                            self.pos = self.line;
                            return incomplete(buf, rules).map(Some);
                        }
                    },
                    Some(b'\n') if rules.bare_lf => self.line += 1,
                    Some(b'\n') => return Err(bad("bare LF line ending")),
                    _ => break,
                }
            }
            self.pos = self.line;
            self.blank = self.line;
            if let Some((start, next)) = quick_start_line_outlined(&view[self.line..], rules) {
                self.start = Some(start.shifted(self.line));
                self.line += next;
                self.pos = self.line;
                return Ok(None);
            }
        }
        let Some(off) = memchr::memchr(b'\n', &view[self.pos..]) else {
            self.pos = view.len();
            return incomplete(buf, rules).map(Some);
        };
        let lf = self.pos + off;
        let line = &buf[self.line..lf];
        self.line = lf + 1;
        self.pos = lf + 1;
        let line = match line.strip_suffix(b"\r") {
            Some(l) => l,
            None if rules.bare_lf => line,
            None => return Err(bad("bare LF line ending")),
        };
        if self.start.is_some() {
            // Skipping the lines after an obs-fold: the head is parsed again unfolded.
            if line.is_empty() {
                return Ok(Some(Some(self.finish(lf + 1))));
            }
            return Ok(None);
        }
        let start = if rules.request {
            start_of_request(buf, line, rules)?
        } else {
            start_of_response(buf, line)?
        };
        self.start = Some(start);
        if let StartLine::Request {
            version: Version::Http09,
            ..
        } = start
        {
            return Ok(Some(Some(self.finish(lf + 1))));
        }
        Ok(None)
    }

    /// The common case, in one tight loop: complete field lines `token ":" OWS field-value
    /// CRLF` (the bulk of every head) from `line` on are recorded exactly as
    /// [`Self::field_step`] would record them, with the position kept in a local. It stops at
    /// the first line that is anything else (incomplete, the blank line, obs-fold, bare LF, a
    /// byte outside its class, the field limit) and returns where that line starts (`Err`);
    /// `field_step` then takes that line and reports it.
    ///
    /// When it stops at the blank line `CRLF`, the head is complete: it returns the head's
    /// length (`Ok`), which is where `field_step` would have found the end too.
    ///
    /// The fields that fit the inline spans are recorded by one copy of the loop, with the
    /// field limit and the slots as one bound; a head with more goes on in a second copy that
    /// pushes onto the heap.
    #[cfg_attr(not(fuzzing), inline(always))]
    #[cfg_attr(fuzzing, inline(never))]
    fn common_lines(
        &mut self,
        buf: &[u8],
        view: &[u8],
        rules: &Rules,
        line: usize,
    ) -> Result<Result<usize, usize>, Error> {
        match self.common_lines_by::<false>(buf, view, rules, line)? {
            Err(line) if self.spans.len == INLINE_SPANS && rules.max_headers > INLINE_SPANS => {
                self.common_lines_by::<true>(buf, view, rules, line)
            }
            done => Ok(done),
        }
    }

    /// [`Self::common_lines`] from the current line, for the general loop: out of line, so
    /// that its set-up is not hoisted into the loop's entry (paid at every poll of a head that
    /// trickles in, most of which are in the middle of a line).
    #[inline(never)]
    fn common_lines_outlined(
        &mut self,
        buf: &[u8],
        view: &[u8],
        rules: &Rules,
    ) -> Result<Result<usize, usize>, Error> {
        self.common_lines(buf, view, rules, self.line)
    }

    /// [`Self::common_lines`] into the inline spans (`HEAP` false) or past them.
    #[inline(always)]
    fn common_lines_by<const HEAP: bool>(
        &mut self,
        buf: &[u8],
        view: &[u8],
        rules: &Rules,
        mut line: usize,
    ) -> Result<Result<usize, usize>, Error> {
        let mut n = self.spans.len;
        let limit = if HEAP {
            rules.max_headers
        } else {
            rules.max_headers.min(INLINE_SPANS)
        };
        loop {
            let name_len = token_prefix(&view[line..]);
            let colon = line + name_len;
            if name_len == 0 {
                if view[line..].starts_with(b"\r\n") {
                    self.spans.len = n;
                    return Ok(Ok(line + 2));
                }
                break;
            }
            // Usually exactly one SP before the value: the colon and it as one compare.
            let mut vs = if view.get(colon..colon + 2) == Some(b": ") {
                colon + 2
            } else if view.get(colon) == Some(&b':') {
                colon + 1
            } else {
                break;
            };
            // Leading OWS is rare: one compare (no byte at or below SP) passes over its loop.
            if view.get(vs).is_some_and(|&b| b <= b' ') {
                while view.get(vs).is_some_and(|&b| is_ows(b)) {
                    vs += 1;
                }
            }
            let ve = vs + class_prefix(&view[vs..], 0x20, &FIELD_VALUE);
            // The value's last byte with the CRLF after it, as the end of the view up to the LF
            // (one bounds check, and no `ve - 1 <= ve + 2` test as with a range from `ve - 1`;
            // `ve` is past the colon, so the last byte is in the line): trailing OWS is rare.
            let Some(&[.., last, cr, lf]) = view.get(..ve + 2) else {
                break;
            };
            // The CRLF as one 16-bit compare (matched in the pattern, LLVM compared it a byte
            // at a time).
            if u16::from_le_bytes([cr, lf]) != u16::from_le_bytes(*b"\r\n") {
                break;
            }
            if n >= limit {
                break;
            }
            let mut end = ve;
            // `last` is in the value's class, where only SP and HTAB are at or below SP.
            if last <= b' ' {
                while end > vs && is_ows(view[end - 1]) {
                    end -= 1;
                }
            }
            if let Some(f) = framing_field(&buf[line..colon]) {
                self.framing.framing_value(f, &buf[vs..end])?;
            }
            let span = [line as u32, colon as u32, vs as u32, end as u32];
            if HEAP {
                self.spans.len = n;
                self.spans.push_heap(span);
            } else {
                self.spans.inline[n] = span;
            }
            n += 1;
            line = ve + 2;
        }
        self.spans.len = n;
        Ok(Err(line))
    }

    /// Checks the current field line as far as it has arrived (`view` is `buf` cut at the head
    /// limit).
    #[inline]
    fn field_step(&mut self, buf: &[u8], view: &[u8], rules: &Rules) -> Result<LineStep, Error> {
        if self.pos == self.line {
            let Some(&b) = view.get(self.line) else {
                return Ok(LineStep::Incomplete);
            };
            match b {
                b'\r' => {
                    return match view.get(self.line + 1) {
                        None => Ok(LineStep::Incomplete),
                        Some(b'\n') => Ok(LineStep::End(self.line + 2)),
                        Some(_) => Err(bad("bare CR in head")),
                    };
                }
                b'\n' if rules.bare_lf => return Ok(LineStep::End(self.line + 1)),
                b'\n' => return Err(bad("bare LF line ending")),
                b' ' | b'\t' => {
                    if self.spans.is_empty() {
                        return Err(bad("whitespace before the first header"));
                    }
                    if rules.request {
                        return Err(bad("obs-fold continuation line"));
                    }
                    return Ok(LineStep::Fold);
                }
                b':' => return Err(bad("empty header name")),
                _ => {}
            }
        }
        let colon = match self.colon {
            Some(c) => c,
            None => {
                // field-name = token, then ":" with no whitespace before it.
                let i = self.pos + token_prefix(&view[self.pos..]);
                if i == view.len() {
                    self.pos = i;
                    return Ok(LineStep::Incomplete);
                }
                match view[i] {
                    b':' => {}
                    b' ' | b'\t' => return Err(bad("whitespace after header name")),
                    b'\r' => {
                        return match view.get(i + 1) {
                            None => {
                                self.pos = i;
                                Ok(LineStep::Incomplete)
                            }
                            Some(b'\n') => Err(bad("header line without colon")),
                            Some(_) => Err(bad("bare CR in head")),
                        };
                    }
                    b'\n' => return Err(bad("header line without colon")),
                    _ => return Err(bad("invalid byte in header name")),
                }
                self.colon = Some(i);
                self.pos = i + 1;
                i
            }
        };
        let i = self.pos + class_prefix(&view[self.pos..], 0x20, &FIELD_VALUE);
        let (value_end, next) = match view.get(i) {
            None => {
                self.pos = i;
                return Ok(LineStep::Incomplete);
            }
            Some(b'\r') => match view.get(i + 1) {
                None => {
                    self.pos = i;
                    return Ok(LineStep::Incomplete);
                }
                Some(b'\n') => (i, i + 2),
                Some(_) => return Err(bad("bare CR in head")),
            },
            Some(b'\n') if rules.bare_lf => (i, i + 1),
            Some(b'\n') => return Err(bad("bare LF line ending")),
            Some(0) => return Err(bad("NUL, CR or LF in header value")),
            Some(_) => return Err(bad("control byte in header value")),
        };
        if self.spans.len() == rules.max_headers {
            return Err(peer(ErrorKind::HeadTooLarge, "too many header fields"));
        }
        let name = &buf[self.line..colon];
        let value = trim_ows(&buf[colon + 1..value_end]);
        self.framing.field(name, value)?;
        let vs = offset(buf, value);
        self.spans.push([
            self.line as u32,
            colon as u32,
            vs as u32,
            (vs + value.len()) as u32,
        ]);
        self.line = next;
        self.pos = next;
        self.colon = None;
        Ok(LineStep::Field)
    }

    /// The head ends at `len`: the parser is ready for the next one, and keeps the spans.
    fn finish(&mut self, len: usize) -> Head {
        let head = Head {
            len,
            start: self
                .start
                .take()
                .expect("the first line is parsed before the head can end"),
        };
        self.line = 0;
        self.pos = 0;
        self.colon = None;
        head
    }

    /// True when everything in `buf` is empty lines before a start line, or nothing, perhaps
    /// followed by the CR of one more (once [`Self::advance`] has seen it): the stream is between
    /// messages.
    pub(crate) fn only_empty_lines(&self, buf: &[u8]) -> bool {
        self.start.is_none() && matches!(buf.get(self.line..), Some(b"" | b"\r"))
    }
}

/// The common first line, checked in one pass from the first byte with no search for its LF
/// first: `token SP target SP HTTP/1.d CRLF` for a request, `HTTP/1.d SP ddd SP reason CRLF` for
/// a response, within the limits. Anything else (incomplete, a bare LF, an error, HTTP/0.9,
/// another major version, a missing reason) returns `None`, and the general path takes the line
/// and reports it. When this accepts a line the general path accepts it too, with the same
/// spans: the bytes before the CRLF hold no LF, so it is the line the general path would take.
#[inline(always)]
fn quick_start_line(view: &[u8], rules: &Rules) -> Option<(StartLine, usize)> {
    if rules.request {
        if rules.obs_text_target {
            quick_request_line::<true>(view, rules.max_target)
        } else {
            quick_request_line::<false>(view, rules.max_target)
        }
    } else {
        quick_status_line(view)
    }
}

/// [`quick_start_line`] for the general loop: out of line, as it was before the quick whole head
/// took the usual heads (in line there, it made the general loop's set-up longer: trickle1
/// +2.3 %).
#[inline(never)]
fn quick_start_line_outlined(view: &[u8], rules: &Rules) -> Option<(StartLine, usize)> {
    quick_start_line(view, rules)
}

/// [`quick_start_line`] of a request: out of line (in line, its target scan's constants and
/// registers weighed on the field loop after it: kept-alive kitty +80). One copy for each
/// target class (`OBS_TEXT`: `Leniency::obs_text_target`), chosen by the
/// caller, so that each holds one scan of the target, not both (1 instruction per request).
#[inline(never)]
fn quick_request_line<const OBS_TEXT: bool>(
    view: &[u8],
    max_target: usize,
) -> Option<(StartLine, usize)> {
    // The usual method, compared as one word with its SP.
    let m = if view.starts_with(b"GET ") {
        3
    } else {
        let m = view.iter().position(|&b| !TCHAR[b as usize])?;
        // Only the origin-form of a method other than CONNECT; the general path checks
        // the rest.
        if m == 0 || view[m] != b' ' || &view[..m] == b"CONNECT" {
            return None;
        }
        m
    };
    let t0 = m + 1;
    let class = if OBS_TEXT { &TARGET_OBS_TEXT } else { &TARGET };
    let t1 = t0 + class_prefix(&view[t0..], 0x21, class);
    if view.get(t0) != Some(&b'/') || t1 - t0 > max_target {
        return None;
    }
    // Compared as whole arrays (a word compare), not byte by byte.
    let tail: &[u8; 11] = view[t1..].get(..11)?.try_into().ok()?;
    let (fixed, minor, crlf) = (&tail[..8], tail[8], &tail[9..]);
    if fixed != b" HTTP/1." || crlf != b"\r\n" {
        return None;
    }
    let version = match minor {
        b'0' => Version::Http10,
        b'1'..=b'9' => Version::Http11,
        _ => return None,
    };
    let start = StartLine::Request {
        method: (0, m),
        target: (t0, t1),
        version,
    };
    Some((start, t1 + 11))
}

/// [`quick_start_line`] of a response: in line (its reason scan shares the field values'
/// constants).
#[cfg_attr(not(fuzzing), inline(always))]
#[cfg_attr(fuzzing, inline(never))]
fn quick_status_line(view: &[u8]) -> Option<(StartLine, usize)> {
    let line: &[u8; 13] = view.get(..13)?.try_into().ok()?;
    // `HTTP/1.` as one word compare, the minor version's byte masked off.
    let word = u64::from_le_bytes(line[..8].try_into().expect("8 bytes"));
    if word & 0x00ff_ffff_ffff_ffff != u64::from_le_bytes(*b"HTTP/1.\0") {
        return None;
    }
    let [
        minor,
        b' ',
        d0 @ b'1'..=b'9',
        d1 @ b'0'..=b'9',
        d2 @ b'0'..=b'9',
        b' ',
    ] = line[7..]
    else {
        return None;
    };
    let version = match minor {
        b'0' => Version::Http10,
        b'1'..=b'9' => Version::Http11,
        _ => return None,
    };
    // The three digits' values at once: `b'0'` (48) times 111 off the weighted sum.
    let status = u16::from(d0) * 100 + u16::from(d1) * 10 + u16::from(d2) - 48 * 111;
    let r = 13 + class_prefix(&view[13..], 0x20, &FIELD_VALUE);
    if !view.get(r..)?.starts_with(b"\r\n") {
        return None;
    }
    let start = StartLine::Status {
        version,
        status,
        reason: (13, r),
    };
    Some((start, r + 2))
}

/// No end of head yet: too large once more than `max_head` bytes are buffered.
fn incomplete(buf: &[u8], rules: &Rules) -> Result<Option<Head>, Error> {
    if buf.len() > rules.max_head {
        Err(too_large(buf, rules))
    } else {
        Ok(None)
    }
}

fn start_of_request(head: &[u8], line: &[u8], rules: &Rules) -> Result<StartLine, Error> {
    if line.is_empty() {
        return Err(bad("empty request line"));
    }
    let (method, target, version) = request_line(line, rules.target_class())?;
    if target.len() > rules.max_target {
        return Err(peer(ErrorKind::TargetTooLong, "request target too long"));
    }
    target_form(method, target)?;
    let version = match version {
        Some((major, minor)) => version_of(major, minor)?,
        None if !rules.http09 => return Err(bad("HTTP/0.9 request not accepted")),
        None if method != b"GET" => {
            return Err(bad("HTTP/0.9 request with a method other than GET"));
        }
        None => Version::Http09,
    };
    Ok(StartLine::Request {
        method: (offset(head, method), offset(head, method) + method.len()),
        target: (offset(head, target), offset(head, target) + target.len()),
        version,
    })
}

fn start_of_response(head: &[u8], line: &[u8]) -> Result<StartLine, Error> {
    let (major, minor, status, reason) = status_line(line)?;
    Ok(StartLine::Status {
        version: version_of(major, minor)?,
        status,
        reason: (offset(head, reason), offset(head, reason) + reason.len()),
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

/// When a head outgrows `max_head`: 414 if the request target alone is already over
/// `max_target` in the first line (or what has arrived of it), else 431. Looks only at the first
/// `max_head + 1` bytes, so the answer does not depend on how the bytes were split.
fn too_large(buf: &[u8], rules: &Rules) -> Error {
    let prefix = &buf[..buf.len().min(rules.max_head + 1)];
    // After the empty lines that may come before the request line.
    let blank = prefix
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(prefix.len());
    let prefix = &prefix[blank..];
    if rules.request {
        let line_end = memchr::memchr(b'\n', prefix).unwrap_or(prefix.len());
        let line = &prefix[..line_end];
        if let Some(sp1) = memchr::memchr(b' ', line) {
            let rest = &line[sp1 + 1..];
            let target_len = memchr::memchr(b' ', rest).unwrap_or(rest.len());
            if target_len > rules.max_target {
                return peer(ErrorKind::TargetTooLong, "request target too long");
            }
        }
    }
    peer(ErrorKind::HeadTooLarge, "head too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        request: true,
        bare_lf: true,
        http09: true,
        obs_text_target: false,
        max_head: 1024,
        max_headers: 10,
        max_target: 100,
    };

    #[test]
    fn parser_resumes_and_finds_the_blank_line() {
        let msg = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
        let mut p = HeadParser::default();
        for end in 0..msg.len() {
            match p.advance(&msg[..end], &RULES).unwrap() {
                None => assert!(end < 27, "at {end}"),
                Some(head) => {
                    assert_eq!((end, head.len, p.spans().len()), (27, 27, 1));
                    return;
                }
            }
        }
        panic!("never found");
    }

    /// Found by fuzzing: empty lines and the CR of another arriving together left the search
    /// position behind the line start.
    #[test]
    fn empty_lines_then_a_lone_cr_resume_at_the_cr() {
        for rules in [
            RULES,
            Rules {
                request: false,
                ..RULES
            },
        ] {
            let mut p = HeadParser::default();
            assert!(p.advance(b"\r\n\n\r", &rules).unwrap().is_none());
            assert!(p.only_empty_lines(b"\r\n\n\r"));
            let msg: &[u8] = if rules.request {
                b"\r\n\n\r\nGET / HTTP/1.1\r\n\r\n"
            } else {
                b"\r\n\n\r\nHTTP/1.1 200 OK\r\n\r\n"
            };
            let head = p.advance(msg, &rules).unwrap().unwrap();
            assert_eq!((head.len, p.blank()), (msg.len(), 5));
        }
    }

    #[test]
    fn simple_request_ends_at_first_line() {
        let mut p = HeadParser::default();
        let head = p.advance(b"GET /x\r\nmore", &RULES).unwrap().unwrap();
        assert_eq!(head.len, 8);
        let rules = Rules {
            request: false,
            ..RULES
        };
        let head = p
            .advance(b"HTTP/1.0 200 OK\r\n\r\n", &rules)
            .unwrap()
            .unwrap();
        assert_eq!(head.len, 19);
    }

    /// The quick first-line check never accepts what the general path would not, and agrees on
    /// what it accepts: every one-byte change of a few lines, both roles.
    #[test]
    fn quick_start_line_agrees_with_the_general_path() {
        let lines: [&[u8]; 4] = [
            b"GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n",
            b"M-x / HTTP/1.0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n",
            b"HTTP/1.0 404 Not \tFound\r\n\r\n",
        ];
        let swaps = [
            0u8, b'\t', b'\n', b'\r', b' ', b'0', b'1', b'2', b'9', b'/', b':', b'H', 0x7f, 0x80,
        ];
        let mut checked = 0;
        for line in lines {
            for at in 0..line.len() {
                for b in swaps {
                    let mut v = line.to_vec();
                    v[at] = b;
                    for request in [true, false] {
                        for max_target in [100, 3] {
                            let rules = Rules {
                                request,
                                max_target,
                                ..RULES
                            };
                            let Some((start, next)) = quick_start_line(&v, &rules) else {
                                continue;
                            };
                            // Starting at `pos` 1 skips the quick check.
                            let mut slow = HeadParser {
                                pos: 1,
                                ..HeadParser::default()
                            };
                            let slow_start = match slow.advance(&v, &rules) {
                                Ok(Some(head)) => Some(head.start),
                                _ => slow.start,
                            };
                            assert_eq!(slow_start, Some(start), "{v:?}");
                            assert_eq!(v[next - 1], b'\n', "{v:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// The tight loop over complete field lines (`common_lines`, taken when a whole head is
    /// there) records what the line-at-a-time path (`field_step`, the only one taken when bytes
    /// arrive one at a time) records, and stops wherever that path would report an error: every
    /// one-byte change of a few heads, both roles.
    #[test]
    fn common_lines_agree_with_the_line_at_a_time_path() {
        let heads: [&[u8]; 3] = [
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nA:\t b c \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /x HTTP/1.0\r\nX-Y: \x80z\r\nKeep-Alive: 1\r\n\r\n",
        ];
        let swaps = [
            0u8, b'\t', b'\n', b'\r', b' ', b':', b'a', b',', b'0', 0x7f, 0x80, 0xff,
        ];
        let outcome = |p: &mut HeadParser, v: &[u8], rules: &Rules| match p.advance(v, rules) {
            Ok(Some(h)) => Ok(Some((
                h.len,
                p.spans().to_vec(),
                format!("{:?}", p.framing()),
            ))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        let mut checked = 0;
        for head in heads {
            for at in 0..head.len() {
                for b in swaps {
                    let mut v = head.to_vec();
                    v[at] = b;
                    for request in [true, false] {
                        let rules = Rules { request, ..RULES };
                        let whole = outcome(&mut HeadParser::default(), &v, &rules);
                        let mut p = HeadParser::default();
                        let mut bytewise = Ok(None);
                        for end in 1..=v.len() {
                            bytewise = outcome(&mut p, &v[..end], &rules);
                            if !matches!(bytewise, Ok(None)) {
                                break;
                            }
                        }
                        assert_eq!(whole, bytewise, "{:?}", String::from_utf8_lossy(&v));
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    /// The unchecked path (up to 19 digits) and the checked one agree with `u64::from_str`
    /// around the boundaries; every non-digit is refused.
    #[test]
    fn content_length_reads_plain_digits_up_to_u64_max() {
        for v in [
            "0",
            "7",
            "1234",
            "9999999999999999999",
            "10000000000000000000",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "00000000000000000000001",
        ] {
            assert_eq!(
                content_length(v.as_bytes()).ok(),
                v.parse::<u64>().ok(),
                "{v}"
            );
        }
        for v in ["", "+1", "-1", "1 ", "0x1", "1_0", "１", "12a"] {
            assert!(content_length(v.as_bytes()).is_err(), "{v}");
        }
        for b in 0..=255u8 {
            assert_eq!(content_length(&[b]).is_ok(), b.is_ascii_digit(), "{b}");
            // In either digit of a pair, and in the odd last digit.
            for at in 0..3 {
                let mut v = *b"123";
                v[at] = b;
                assert_eq!(content_length(&v).is_ok(), b.is_ascii_digit(), "{v:?}");
            }
        }
        for v in ["12", "123", "12345", "1000000", "0987654321"] {
            assert_eq!(
                content_length(v.as_bytes()).ok(),
                v.parse::<u64>().ok(),
                "{v}"
            );
        }
    }

    #[test]
    fn eq_lower_is_eq_ignore_ascii_case_on_crless_bytes() {
        for lit in [&b"content-length"[..], b"keep-alive", b"close", b"chunked"] {
            for at in 0..lit.len() {
                for b in 0..=255u8 {
                    if b == b'\r' {
                        continue;
                    }
                    let mut v = lit.to_vec();
                    v[at] = b;
                    assert_eq!(eq_lower(&v, lit), v.eq_ignore_ascii_case(lit), "{v:?}");
                }
            }
            assert!(!eq_lower(&lit[1..], lit));
        }
    }

    #[test]
    fn tables_quote_the_grammar() {
        assert!(TCHAR[b'!' as usize] && !TCHAR[b':' as usize] && !TCHAR[b' ' as usize]);
        assert!(FIELD_VALUE[b'\t' as usize] && !FIELD_VALUE[0] && !FIELD_VALUE[b'\r' as usize]);
        assert!(FIELD_VALUE[0x80] && !FIELD_VALUE[0x7f]);
        assert!(!TARGET[b' ' as usize] && TARGET[b'/' as usize] && !TARGET[0x7f]);
        assert!(!TARGET[0x80] && TARGET_OBS_TEXT[0x80] && !TARGET_OBS_TEXT[0x7f]);
    }

    /// The quick `chunked` of `framing_value` concludes what the list walk does, after any
    /// earlier `Transfer-Encoding` fields.
    #[test]
    fn transfer_encoding_chunked_alone_agrees_with_the_list_walk() {
        let earlier: [&[&[u8]]; 6] = [
            &[],
            &[b"chunked"],
            &[b"gzip"],
            &[b"chunked,"],
            &[b"x;y=z"],
            &[b"gzip", b"ChUnKeD"],
        ];
        for before in earlier {
            for last in [&b"chunked"[..], b"CHUNKED", b"Chunked"] {
                let mut quick = Framing::default();
                let mut walk = Framing::default();
                for &v in before.iter().chain([&last]) {
                    quick
                        .framing_value(FramingField::TransferEncoding, v)
                        .unwrap();
                    walk.transfer_codings(v);
                }
                assert_eq!(format!("{quick:?}"), format!("{walk:?}"), "{before:?}");
            }
        }
    }

    /// A head with more fields than the inline spans: the quick loop stops at the last inline
    /// slot and the line-at-a-time path takes the rest, with the same spans, whole or resumed.
    #[test]
    fn a_head_past_the_inline_spans() {
        let mut msg = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..40 {
            msg.extend_from_slice(format!("X-{i}: v{i}\r\n").as_bytes());
        }
        msg.extend_from_slice(b"\r\n");
        let check = |p: &HeadParser| {
            assert_eq!(p.spans().len(), 40);
            for (i, &[ns, ne, vs, ve]) in p.spans().iter().enumerate() {
                assert_eq!(&msg[ns as usize..ne as usize], format!("X-{i}").as_bytes());
                assert_eq!(&msg[vs as usize..ve as usize], format!("v{i}").as_bytes());
            }
        };
        let rules = Rules {
            max_headers: 100,
            ..RULES
        };
        let mut p = HeadParser::default();
        let head = p.advance(&msg, &rules).unwrap().unwrap();
        assert_eq!(head.len, msg.len());
        check(&p);
        // The same head again on the same parser (kept alive), then in two pieces.
        assert_eq!(p.advance(&msg, &rules).unwrap().unwrap().len, msg.len());
        check(&p);
        let mut p = HeadParser::default();
        assert!(p.advance(&msg[..100], &rules).unwrap().is_none());
        assert_eq!(p.advance(&msg, &rules).unwrap().unwrap().len, msg.len());
        check(&p);
        // The field limit still counts every field.
        let rules = Rules {
            max_headers: 39,
            ..RULES
        };
        let e = HeadParser::default().advance(&msg, &rules).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HeadTooLarge);
    }

    /// Past the inline spans everything moves to the heap once; a clear starts inline again.
    #[test]
    fn spans_spill_and_come_back_inline() {
        let mut s = Spans::default();
        for round in 0..3u32 {
            let n = [40u32, 3, 17][round as usize];
            s.clear();
            assert!(s.is_empty());
            for i in 0..n {
                s.push([i, round, i + 1, i + 2]);
            }
            let want: Vec<[u32; 4]> = (0..n).map(|i| [i, round, i + 1, i + 2]).collect();
            assert_eq!((s.len(), s.as_slice()), (n as usize, &want[..]));
        }
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
