//! The access log: one line per request on stderr in Common Log Format, as Apache and nginx write
//! it: `127.0.0.1 - - [26/Nov/2026:06:15:53 +0000] "GET / HTTP/1.1" 200 1234`.
//!
//! Behind a balancer the peer is the balancer. With `--log-forwarded` each line also names the
//! client the request's `X-Forwarded-For` field says it came from, after the CLF fields and
//! marked as such: `... 200 1234 forwarded-for=203.0.113.7` ([`Forwarded`]). The peer stays
//! first: the field is whatever the client and the proxies on the way wrote, so it is logged,
//! never used for anything else.

use std::cell::RefCell;
use std::io::Write as _;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::SystemTime;

use portline_core::http::{RequestHead, Version};

/// The CLF timestamp of `t` in UTC: `26/Nov/2026:06:15:53 +0000`.
pub fn clf_time(t: SystemTime) -> String {
    let mut buf = Vec::with_capacity(26);
    write_clf_time(&mut buf, &httpdate::fmt_http_date(t));
    String::from_utf8_lossy(&buf).into_owned()
}

/// Append the CLF timestamp for an IMF-fixdate (`Thu, 26 Nov 2026 06:15:53 GMT`, as in a
/// `Date` header): the same fields in another order, `26/Nov/2026:06:15:53 +0000`. Anything
/// else is appended as it is.
fn write_clf_time(buf: &mut Vec<u8>, imf: &str) {
    // The fixed layout every `Date` value this server writes has: four slices, no search.
    let b = imf.as_bytes();
    if let [
        _,
        _,
        _,
        b',',
        b' ',
        d0,
        d1,
        b' ',
        m0,
        m1,
        m2,
        b' ',
        y0,
        y1,
        y2,
        y3,
        b' ',
        hms @ ..,
        b' ',
        b'G',
        b'M',
        b'T',
    ] = b
        && hms.len() == 8
    {
        let mut out = [0u8; 26];
        out[..3].copy_from_slice(&[*d0, *d1, b'/']);
        out[3..7].copy_from_slice(&[*m0, *m1, *m2, b'/']);
        out[7..12].copy_from_slice(&[*y0, *y1, *y2, *y3, b':']);
        out[12..20].copy_from_slice(hms);
        out[20..].copy_from_slice(b" +0000");
        buf.extend_from_slice(&out);
        return;
    }
    let mut f = imf.split_ascii_whitespace().skip(1);
    match (f.next(), f.next(), f.next(), f.next()) {
        (Some(day), Some(month), Some(year), Some(hms)) => {
            for (part, sep) in [(day, "/"), (month, "/"), (year, ":"), (hms, " +0000")] {
                buf.extend_from_slice(part.as_bytes());
                buf.extend_from_slice(sep.as_bytes());
            }
        }
        _ => buf.extend_from_slice(imf.as_bytes()),
    }
}

/// The request line as it goes between the quotes of a log line: bytes outside printable ASCII,
/// `"` and `\` escaped as `\xHH` (as Apache does), so a request cannot forge log lines.
pub fn request_line(method: &str, target: &[u8], version: Option<&str>) -> String {
    let mut buf = Vec::with_capacity(method.len() + target.len() + 10);
    write_request_line(&mut buf, method, target, version);
    // Only printable ASCII and escapes were written.
    String::from_utf8_lossy(&buf).into_owned()
}

fn write_request_line(buf: &mut Vec<u8>, method: &str, target: &[u8], version: Option<&str>) {
    escape_into(buf, method.as_bytes());
    buf.push(b' ');
    escape_into(buf, target);
    if let Some(v) = version {
        buf.extend_from_slice(b" HTTP/");
        buf.extend_from_slice(v.as_bytes());
    }
}

fn escape_into(buf: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            buf.push(b);
        } else {
            buf.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        }
    }
}

/// What `--log-forwarded` adds to an access-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// `--log-forwarded` is off: nothing is added.
    NotLogged,
    /// On, but the request has no `X-Forwarded-For`, or its left-most entry is not an address
    /// (a refusal before any request, `unknown`, an obfuscated name, garbage): `forwarded-for=-`.
    Unknown,
    /// On, and the left-most entry names this client: `forwarded-for=IP`.
    Client(IpAddr),
}

impl Forwarded {
    /// What to log for a request whose first `X-Forwarded-For` field is `value`, when
    /// `enabled` (`--log-forwarded`).
    pub fn from_field(enabled: bool, value: Option<&[u8]>) -> Forwarded {
        if !enabled {
            return Forwarded::NotLogged;
        }
        match value.and_then(forwarded_client) {
            Some(ip) => Forwarded::Client(ip),
            None => Forwarded::Unknown,
        }
    }

    fn write_to(self, buf: &mut Vec<u8>) {
        let _ = match self {
            Forwarded::NotLogged => Ok(()),
            Forwarded::Unknown => write!(buf, " forwarded-for=-"),
            Forwarded::Client(ip) => write!(buf, " forwarded-for={ip}"),
        };
    }
}

/// The original client an `X-Forwarded-For` value names: its left-most entry
/// (`X-Forwarded-For: client, proxy1, proxy2`, each proxy appending the address it received
/// the request from, as nginx's `$proxy_add_x_forwarded_for` does), when that entry is an IP
/// address: `203.0.113.7`, `2001:db8::1`, or either with a port as some balancers write it
/// (`203.0.113.7:41234`, `[2001:db8::1]:41234`, `[2001:db8::1]`). Spaces and tabs around it
/// are ignored. Anything else is `None`, never a guess: a field with several lines counts by
/// its first, as the lines join left to right (RFC 9110, 5.3).
///
/// Left-most is the client as far as the whole chain can tell, and anyone can write it: nginx's
/// realip module, which trusts the field for access control, takes the right-most untrusted
/// entry instead (`real_ip_recursive`). This is for reading logs only.
pub fn forwarded_client(value: &[u8]) -> Option<IpAddr> {
    let first = value.split(|&b| b == b',').next()?;
    let text = std::str::from_utf8(first).ok()?.trim_matches([' ', '\t']);
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    let bracketed = text.strip_prefix('[')?.strip_suffix(']')?;
    bracketed
        .parse::<Ipv6Addr>()
        .ok()
        .map(|ip| IpAddr::V6(ip).to_canonical())
}

/// One access-log entry, written by [`emit_entry`] without allocating per request.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The client's address.
    pub peer: IpAddr,
    /// When, as an IMF-fixdate (the response's `Date` value, which is cached per second).
    pub date: &'a str,
    /// Method, target and version (`None` for HTTP/0.9) of the request; `None` for a request
    /// that could not be parsed (written `-`).
    pub request: Option<(&'a str, &'a [u8], Option<&'a str>)>,
    /// The status sent.
    pub status: u16,
    /// The body length sent, `None` for none (written `-`).
    pub bytes: Option<u64>,
    /// The client named by `X-Forwarded-For`, with `--log-forwarded`.
    pub forwarded: Forwarded,
}

impl<'a> Entry<'a> {
    /// The entry of an answer to `head` (`None`: a request that could not be parsed), its
    /// client taken from `X-Forwarded-For` when `log_forwarded` (`--log-forwarded`).
    pub fn for_request(
        peer: IpAddr,
        date: &'a str,
        head: Option<&'a RequestHead>,
        status: u16,
        bytes: Option<u64>,
        log_forwarded: bool,
    ) -> Self {
        Entry {
            peer,
            date,
            request: head.map(|h| {
                let version = (h.version != Version::Http09).then(|| h.version.as_str());
                (h.method_str(), &h.target[..], version)
            }),
            status,
            bytes,
            forwarded: Forwarded::from_field(
                log_forwarded,
                head.and_then(|h| h.headers.get("x-forwarded-for")),
            ),
        }
    }

    /// Append the line, with its newline, to `buf`. The numbers (by `itoa`) and an IPv4 peer
    /// are written without `core::fmt` (which cost a third of an answer's instructions with the
    /// log on: most of a line's).
    pub fn write_to(&self, buf: &mut Vec<u8>) {
        write_ip(buf, self.peer);
        buf.extend_from_slice(b" - - [");
        write_clf_time(buf, self.date);
        buf.extend_from_slice(b"] \"");
        match self.request {
            Some((method, target, version)) => write_request_line(buf, method, target, version),
            None => buf.push(b'-'),
        }
        buf.extend_from_slice(b"\" ");
        buf.extend_from_slice(itoa::Buffer::new().format(self.status).as_bytes());
        match self.bytes {
            Some(n) if n > 0 => {
                buf.push(b' ');
                buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            }
            _ => buf.extend_from_slice(b" -"),
        }
        self.forwarded.write_to(buf);
        buf.push(b'\n');
    }
}

/// Append `ip` as `Display` writes it: an IPv4 address digit by digit, an IPv6 one (rare on
/// the hot path, and with its `::` compression rules) through `Display`.
fn write_ip(buf: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            // Rendered on the stack, appended at once (a copy per octet cost more than its
            // digits).
            let mut out = [0u8; 15];
            let mut len = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out[len] = b'.';
                    len += 1;
                }
                if octet >= 100 {
                    out[len] = b'0' + octet / 100;
                    len += 1;
                }
                if octet >= 10 {
                    out[len] = b'0' + octet / 10 % 10;
                    len += 1;
                }
                out[len] = b'0' + octet % 10;
                len += 1;
            }
            buf.extend_from_slice(&out[..len]);
        }
        IpAddr::V6(v6) => {
            let _ = write!(buf, "{v6}");
        }
    }
}

/// How many bytes of lines a batching thread holds before it writes them without waiting for
/// [`flush`]: 32 KiB, a few hundred lines (nginx's `access_log ... buffer=` takes a size too,
/// 64 KiB by default when one is asked for without a size).
const HELD_MAX: usize = 32 * 1024;

thread_local! {
    /// The line being written: one buffer per thread, reused for every line.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// While this thread batches ([`Batch`]), the lines not yet written.
    static HELD: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Batching of this thread's log lines, from [`batch`] until it is dropped: lines are held and
/// written together by [`flush`], by the next line written with [`emit`] (so that lines keep
/// their order), when 32 KiB are held, and when the `Batch` is dropped (also when
/// the thread unwinds). An event loop flushes before it waits, so that a line is written in
/// the same loop turn as its answer, in one `write(2)` with the turn's other lines instead of
/// one each.
#[must_use = "batching ends when the Batch is dropped"]
pub struct Batch(());

/// One write of `bytes` to stderr (in tests, to the thread's capture if it set one).
fn write_stderr(bytes: &[u8]) {
    #[cfg(test)]
    if tests::CAPTURE.with_borrow_mut(|c| c.as_mut().map(|c| c.extend_from_slice(bytes)).is_some())
    {
        return;
    }
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// Start batching this thread's log lines; see [`Batch`].
pub fn batch() -> Batch {
    HELD.with_borrow_mut(|held| *held = Some(held.take().unwrap_or_default()));
    Batch(())
}

impl Drop for Batch {
    fn drop(&mut self) {
        flush();
        HELD.with_borrow_mut(|held| *held = None);
    }
}

/// Write the lines this thread holds ([`Batch`]) in one write; nothing if it holds none.
pub fn flush() {
    HELD.with_borrow_mut(|held| {
        if let Some(buf) = held
            && !buf.is_empty()
        {
            write_stderr(buf);
            buf.clear();
            // A burst of long lines need not stay allocated.
            if buf.capacity() > 2 * HELD_MAX {
                *buf = Vec::new();
            }
        }
    });
}

/// Write `entry` to stderr as one line, in one write (lines from several threads do not
/// interleave), rendered into a per-thread buffer rather than fresh Strings; while the thread
/// batches ([`Batch`]), appended to the lines it holds instead.
pub fn emit_entry(entry: &Entry<'_>) {
    let held = HELD.with_borrow_mut(|held| match held {
        Some(buf) => {
            entry.write_to(buf);
            Some(buf.len())
        }
        None => None,
    });
    match held {
        Some(len) if len >= HELD_MAX => flush(),
        Some(_) => {}
        None => LINE.with_borrow_mut(|buf| {
            buf.clear();
            entry.write_to(buf);
            write_stderr(buf);
            // A long target (up to the core's limit, escaped) need not stay allocated.
            if buf.capacity() > 64 * 1024 {
                *buf = Vec::new();
            }
        }),
    }
}

/// One access-log line (without the newline). `bytes` is the body length sent, `None` for none
/// (written `-`).
pub fn access_line(
    peer: IpAddr,
    when: SystemTime,
    request: &str,
    status: u16,
    bytes: Option<u64>,
) -> String {
    let size = match bytes {
        Some(n) if n > 0 => n.to_string(),
        _ => "-".to_string(),
    };
    format!(
        "{peer} - - [{}] \"{request}\" {status} {size}",
        clf_time(when)
    )
}

/// Write one line to stderr (in one write, so lines from several threads do not interleave),
/// after the lines this thread holds ([`Batch`]), so that lines keep their order.
pub fn emit(line: &str) {
    flush();
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    write_stderr(buf.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_a_common_log_format_line() {
        // 2026-11-26T06:15:53Z
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_673_753);
        assert_eq!(clf_time(t), "26/Nov/2026:06:15:53 +0000");
        let line = access_line(
            "127.0.0.1".parse().unwrap(),
            t,
            &request_line("GET", b"/", Some("1.1")),
            200,
            Some(1234),
        );
        assert_eq!(
            line,
            "127.0.0.1 - - [26/Nov/2026:06:15:53 +0000] \"GET / HTTP/1.1\" 200 1234"
        );
    }

    #[test]
    fn escapes_quotes_and_control_bytes() {
        assert_eq!(
            request_line("GET", b"/a\"b\\c\n\xff", None),
            "GET /a\\x22b\\x5cc\\x0a\\xff"
        );
        let line = access_line(
            "::1".parse().unwrap(),
            SystemTime::UNIX_EPOCH,
            "HEAD /x HTTP/1.0",
            304,
            None,
        );
        assert!(line.ends_with("\"HEAD /x HTTP/1.0\" 304 -"), "{line}");
        assert!(line.starts_with("::1 - - [01/Jan/1970:00:00:00 +0000]"));
    }

    /// The allocation-free writer gives exactly the line the String-building helpers give.
    #[test]
    fn entries_render_as_access_lines() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_673_753);
        let date = httpdate::fmt_http_date(t);
        type Request<'a> = Option<(&'a str, &'a [u8], Option<&'a str>)>;
        let requests: [Request<'_>; 4] = [
            Some(("GET", b"/hello.txt", Some("1.1"))),
            Some(("GET", b"/", None)),
            Some(("HEAD", b"/a\"b\\c\n\xff\x00\x7f", Some("1.0"))),
            None,
        ];
        let peers: [IpAddr; 5] = [
            "192.168.0.1".parse().unwrap(),
            "0.9.10.255".parse().unwrap(),
            "100.99.1.0".parse().unwrap(),
            "::1".parse().unwrap(),
            "::ffff:10.0.0.1".parse().unwrap(),
        ];
        for request in requests {
            for peer in peers {
                for (status, bytes) in [
                    (200, Some(13)),
                    (200, Some(0)),
                    (304, None),
                    (404, Some(u64::MAX)),
                    (408, Some(1)),
                    (100, Some(10)),
                    (599, Some(1_000_000_007)),
                ] {
                    let entry = Entry {
                        peer,
                        date: &date,
                        request,
                        status,
                        bytes,
                        forwarded: Forwarded::NotLogged,
                    };
                    let mut buf = b"kept".to_vec();
                    entry.write_to(&mut buf);
                    let quoted = match request {
                        Some((m, target, v)) => request_line(m, target, v),
                        None => "-".to_string(),
                    };
                    let want = access_line(peer, t, &quoted, status, bytes);
                    assert_eq!(String::from_utf8(buf).unwrap(), format!("kept{want}\n"));
                }
            }
        }
    }

    #[test]
    fn every_byte_outside_printable_ascii_is_escaped_as_hex() {
        let all: Vec<u8> = (0..=255).collect();
        let line = request_line("GET", &all, None);
        let mut want = String::from("GET ");
        for b in all {
            if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
                want.push(char::from(b));
            } else {
                want.push_str(&format!("\\x{b:02x}"));
            }
        }
        assert_eq!(line, want);
    }

    #[test]
    fn clf_time_reorders_an_imf_fixdate_or_keeps_other_text() {
        let mut buf = Vec::new();
        write_clf_time(&mut buf, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(buf, b"06/Nov/1994:08:49:37 +0000");
        // Off the fixed layout, the fields are found by whitespace.
        buf.clear();
        write_clf_time(&mut buf, "Sun, 6 Nov 1994 08:49:37 GMT");
        assert_eq!(buf, b"6/Nov/1994:08:49:37 +0000");
        buf.clear();
        write_clf_time(&mut buf, "Sun, 06 Nov 1994 08:49:37 UTC");
        assert_eq!(buf, b"06/Nov/1994:08:49:37 +0000");
        buf.clear();
        write_clf_time(&mut buf, "soon");
        assert_eq!(buf, b"soon");
    }

    #[test]
    fn the_forwarded_client_is_the_left_most_address() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let cases: &[(&[u8], Option<IpAddr>)] = &[
            (b"203.0.113.7", ip("203.0.113.7")),
            (b"  203.0.113.7\t", ip("203.0.113.7")),
            (b"203.0.113.7, 10.0.0.1, 10.0.0.2", ip("203.0.113.7")),
            (b"203.0.113.7,10.0.0.1", ip("203.0.113.7")),
            (b"2001:db8::1, 10.0.0.1", ip("2001:db8::1")),
            (b"[2001:db8::1]", ip("2001:db8::1")),
            (b"[2001:db8::1]:41234", ip("2001:db8::1")),
            (b"203.0.113.7:41234", ip("203.0.113.7")),
            (b"::ffff:203.0.113.7", ip("203.0.113.7")),
            // Garbage, names and empty entries are not addresses: nothing is guessed.
            (b"", None),
            (b" ", None),
            (b", 203.0.113.7", None),
            (b"unknown, 203.0.113.7", None),
            (b"_hidden", None),
            (b"example.com", None),
            (b"203.0.113.7 10.0.0.1", None),
            (b"203.0.113.256", None),
            (b"[203.0.113.7]", None),
            (b"2001:db8::1:41234:x", None),
            (b"\xff203.0.113.7", None),
            (b"203.0.113.7\r\n127.0.0.1 - - [", None),
        ];
        for (value, want) in cases {
            assert_eq!(
                forwarded_client(value),
                *want,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
    }

    thread_local! {
        /// Where this thread's stderr writes go, when set.
        pub(super) static CAPTURE: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    }

    /// What this thread has held, and what it has written since the last call.
    fn held_and_written() -> (Option<Vec<u8>>, Vec<u8>) {
        let held = HELD.with_borrow(|h| h.clone());
        let written = CAPTURE.with_borrow_mut(|c| std::mem::take(c.as_mut().unwrap()));
        (held, written)
    }

    #[test]
    fn a_batching_thread_writes_its_lines_together_and_in_order() {
        // A thread of its own, so that its thread-locals start unset.
        std::thread::spawn(|| {
            CAPTURE.with_borrow_mut(|c| *c = Some(Vec::new()));
            let date = "Thu, 26 Nov 2026 06:15:53 GMT";
            let entry = Entry {
                peer: "10.0.0.5".parse().unwrap(),
                date,
                request: Some(("GET", b"/", Some("1.0"))),
                status: 200,
                bytes: Some(13),
                forwarded: Forwarded::NotLogged,
            };
            let mut line = Vec::new();
            entry.write_to(&mut line);
            // Not batching: each line is written at once.
            emit_entry(&entry);
            assert_eq!(held_and_written(), (None, line.clone()));

            let batch = batch();
            emit_entry(&entry);
            emit_entry(&entry);
            let two = [&line[..], &line[..]].concat();
            assert_eq!(held_and_written(), (Some(two.clone()), Vec::new()));
            flush();
            assert_eq!(held_and_written(), (Some(Vec::new()), two));
            flush();
            assert_eq!(held_and_written(), (Some(Vec::new()), Vec::new()));

            // A message is written after the lines held before it.
            emit_entry(&entry);
            emit("a message");
            let want = [&line[..], b"a message\n"].concat();
            assert_eq!(held_and_written(), (Some(Vec::new()), want));

            // Past HELD_MAX bytes, the lines held are written without waiting for a flush.
            let fit = (HELD_MAX - 1) / line.len();
            for _ in 0..fit {
                emit_entry(&entry);
            }
            assert_eq!(held_and_written(), (Some(line.repeat(fit)), Vec::new()));
            emit_entry(&entry);
            assert_eq!(held_and_written(), (Some(Vec::new()), line.repeat(fit + 1)));

            // Ending the batch writes what is held, and lines are written at once again.
            emit_entry(&entry);
            drop(batch);
            assert_eq!(held_and_written(), (None, line.clone()));
            emit_entry(&entry);
            assert_eq!(held_and_written(), (None, line));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_forwarded_client_is_marked_at_the_end_of_the_line() {
        let date = "Thu, 26 Nov 2026 06:15:53 GMT";
        let line = |forwarded| {
            let mut buf = Vec::new();
            Entry {
                peer: "10.0.0.5".parse().unwrap(),
                date,
                request: Some(("GET", b"/", Some("1.0"))),
                status: 200,
                bytes: Some(13),
                forwarded,
            }
            .write_to(&mut buf);
            String::from_utf8(buf).unwrap()
        };
        let clf = "10.0.0.5 - - [26/Nov/2026:06:15:53 +0000] \"GET / HTTP/1.0\" 200 13";
        let xff: &[u8] = b"2001:db8::7, 10.0.0.5";
        assert_eq!(
            line(Forwarded::from_field(false, Some(xff))),
            format!("{clf}\n")
        );
        assert_eq!(
            line(Forwarded::from_field(true, Some(xff))),
            format!("{clf} forwarded-for=2001:db8::7\n")
        );
        assert_eq!(
            line(Forwarded::from_field(true, Some(b"garbage"))),
            format!("{clf} forwarded-for=-\n")
        );
        assert_eq!(
            line(Forwarded::from_field(true, None)),
            format!("{clf} forwarded-for=-\n")
        );
    }
}
