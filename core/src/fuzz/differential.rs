//! Differential fuzzing of the request head against `httparse` (issue 8 part 4).
//!
//! The same bytes go to a server [`Connection`] and to `httparse::Request::parse`. Where both come
//! to a verdict on a complete head (accepted, or rejected), they must agree on accept/reject and,
//! when both accept, on the method, the target, the version, the header list (names and trimmed
//! values, in order) and where the head ends. Where one accepts and the other rejects, the
//! difference must be one of the `RULES`: each is a deliberate decision written in
//! docs/HTTP.md, recognised by what it is, never by silence. A verdict of "need more bytes" from
//! either side is not compared (one parser may reject a line early that the other reads to its
//! end first), except that a head one side takes as complete must not be incomplete to the other.

use crate::Time;
use crate::http::{
    Config, Connection, Error, ErrorKind, Event, Progress, RequestHead, Role, Version,
};

/// Header slots given to httparse; portline's `max_headers` is set to the same, so that "too
/// many" is a rejection on both sides.
const MAX_HEADERS: usize = 32;

/// What httparse said, reduced to what the rules look at.
#[derive(Debug)]
enum Theirs<'a> {
    /// A complete head of this many bytes.
    Complete {
        len: usize,
        req: httparse::Request<'a, 'a>,
    },
    Partial,
    Rejected(httparse::Error),
}

/// What portline said.
#[derive(Debug)]
enum Ours {
    /// A request head; `len` bytes of the input were the head.
    Accepted {
        head: RequestHead,
        len: usize,
    },
    NeedData,
    Rejected(Error),
}

/// A known, documented difference: its name, and whether it explains this pair of verdicts.
type Rule = (&'static str, fn(&Ours, &Theirs<'_>, &[u8]) -> bool);

/// Every difference the target tolerates. Each recognises its own case narrowly: a difference it
/// does not describe is still a failure.
const RULES: &[Rule] = &[
    // docs/HTTP.md "Versions": an HTTP/0.9 Simple-Request (`GET /path` CRLF) is served;
    // httparse has no HTTP/0.9 and rejects the line.
    ("http09-simple-request", |ours, theirs, _| {
        matches!(ours, Ours::Accepted { head, .. } if head.version == Version::Http09)
            && matches!(theirs, Theirs::Rejected(_) | Theirs::Partial)
    }),
    // docs/HTTP.md "Versions": `HTTP/1.2`..`HTTP/1.9` are read as 1.1 (RFC 9110 2.5); httparse
    // takes only 1.0 and 1.1.
    ("higher-1x-minor", |ours, theirs, data| {
        matches!(ours, Ours::Accepted { head, .. } if head.version == Version::Http11)
            && matches!(theirs, Theirs::Rejected(httparse::Error::Version))
            && first_line(data).is_some_and(|l| {
                matches!(
                    l,
                    [.., b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'2'..=b'9']
                )
            })
    }),
    // docs/HTTP.md "Start lines": a target must be in one of the four forms of RFC 9112 3.2;
    // httparse checks only the target's bytes.
    ("request-target-form", |ours, theirs, _| {
        matches!(theirs, Theirs::Complete { .. })
            && rejected_with(
                ours,
                &[
                    "request target in none of the forms of RFC 9112 3.2",
                    "asterisk-form target with a method other than OPTIONS",
                    "CONNECT target not in authority-form (host:port)",
                ],
            )
    }),
    // docs/HTTP.md "Rejected by default": a target byte >= 0x80 is a 400 unless
    // `Leniency::obs_text_target`; httparse takes any UTF-8 target.
    ("obs-text-in-target", |ours, theirs, _| {
        matches!(theirs, Theirs::Complete { req, .. }
            if req.path.is_some_and(|p| p.bytes().any(|b| b >= 0x80)))
            && rejected_with(
                ours,
                &["invalid byte in request target", "empty request target"],
            )
    }),
    // docs/HTTP.md "Body framing" and "Rejected by default": Content-Length and
    // Transfer-Encoding are checked while the head is read (forms, conflicts, the list rules);
    // httparse returns fields without reading them.
    ("framing-fields-checked", |ours, theirs, _| {
        matches!(theirs, Theirs::Complete { req, .. } if req.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("content-length")
                || h.name.eq_ignore_ascii_case("transfer-encoding")
        })) && (rejected_with(
            ours,
            &[
                "empty Content-Length",
                "Content-Length is not plain digits",
                "Content-Length overflows",
                "conflicting Content-Length values",
                "Transfer-Encoding in an HTTP/1.0 message",
                "Transfer-Encoding together with Content-Length",
                "empty Transfer-Encoding",
                "Transfer-Encoding list malformed or with an empty element",
                "Transfer-Encoding does not end in chunked",
                "chunked applied more than once",
            ],
        ) || matches!(ours, Ours::Rejected(e) if e.kind() == ErrorKind::UnsupportedCoding))
    }),
];

fn rejected_with(ours: &Ours, messages: &[&str]) -> bool {
    matches!(ours, Ours::Rejected(e) if messages.contains(&e.message()))
}

/// The first line after any empty lines, without its line ending.
fn first_line(data: &[u8]) -> Option<&[u8]> {
    let start = data.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let rest = &data[start..];
    let end = memchr::memchr(b'\n', rest)?;
    Some(rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]))
}

fn ours(data: &[u8]) -> Ours {
    let mut config = Config::default();
    // Limits out of the way (fuzz inputs are far smaller), except the header count, which
    // matches httparse's slots.
    config.limits.max_head = 1 << 20;
    config.limits.max_target = 1 << 20;
    config.limits.max_headers = MAX_HEADERS;
    let mut conn = Connection::new(Role::Server, config, Time::ZERO);
    conn.receive(Time::ZERO, data);
    match conn.poll_event() {
        Ok(Progress::Event(Event::Request(head))) => Ours::Accepted {
            head,
            len: data.len() - conn.buffered(),
        },
        Ok(Progress::NeedData) => Ours::NeedData,
        Err(e) => Ours::Rejected(e),
        Ok(other) => panic!("first poll of a server gave {other:?}"),
    }
}

fn theirs<'a>(data: &'a [u8], slots: &'a mut [httparse::Header<'a>]) -> Theirs<'a> {
    let mut req = httparse::Request::new(slots);
    match req.parse(data) {
        Ok(httparse::Status::Complete(len)) => Theirs::Complete { len, req },
        Ok(httparse::Status::Partial) => Theirs::Partial,
        Err(e) => Theirs::Rejected(e),
    }
}

/// The fuzz body: `data` is what a client sent.
pub fn httparse(data: &[u8]) {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let theirs = theirs(data, &mut slots);
    let ours = ours(data);
    if let Some(why) = verdict(&ours, &theirs, data) {
        panic!("portline and httparse disagree ({why}):\n ours {ours:?}\n theirs {theirs:?}");
    }
}

/// `None` when the two agree or a rule explains the difference, else what differs.
fn verdict(ours: &Ours, theirs: &Theirs<'_>, data: &[u8]) -> Option<&'static str> {
    let agree = match (ours, theirs) {
        (Ours::Accepted { head, len }, Theirs::Complete { len: n, req }) => {
            return same_head(head, *len, req, *n);
        }
        (Ours::Rejected(_), Theirs::Rejected(_)) => true,
        // One wants more bytes while the other rejected: not both complete.
        (Ours::NeedData, Theirs::Rejected(_)) | (Ours::Rejected(_), Theirs::Partial) => true,
        (Ours::NeedData, Theirs::Partial) => true,
        // A head complete to one side and incomplete to the other, or accepted by one and
        // rejected by the other.
        _ => false,
    };
    if agree || RULES.iter().any(|(_, applies)| applies(ours, theirs, data)) {
        None
    } else {
        Some("verdict")
    }
}

fn same_head(
    head: &RequestHead,
    len: usize,
    req: &httparse::Request<'_, '_>,
    n: usize,
) -> Option<&'static str> {
    if len != n {
        return Some("head length");
    }
    if req.method.map(str::as_bytes) != Some(&head.method[..]) {
        return Some("method");
    }
    if req.path.map(str::as_bytes) != Some(&head.target[..]) {
        return Some("target");
    }
    let version = match req.version {
        Some(0) => Version::Http10,
        _ => Version::Http11,
    };
    if version != head.version {
        return Some("version");
    }
    if req.headers.len() != head.headers.len()
        || !req
            .headers
            .iter()
            .zip(head.headers.iter())
            .all(|(h, (name, value))| h.name.as_bytes() == name && h.value == value)
    {
        return Some("header list");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule fires on the difference it names (so renaming a message breaks this test, not
    /// the rule), and a difference no rule names is still reported.
    #[test]
    fn each_rule_explains_its_difference_and_only_its_own() {
        let cases: [(&str, &[u8]); 7] = [
            ("http09-simple-request", b"GET /x\r\n"),
            ("higher-1x-minor", b"GET / HTTP/1.7\r\n\r\n"),
            ("request-target-form", b"GET x HTTP/1.1\r\n\r\n"),
            ("request-target-form", b"CONNECT / HTTP/1.1\r\n\r\n"),
            ("obs-text-in-target", b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n"),
            (
                "framing-fields-checked",
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n",
            ),
            (
                "framing-fields-checked",
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            ),
        ];
        for (rule, data) in cases {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let theirs = theirs(data, &mut slots);
            let ours = ours(data);
            let fired: Vec<_> = RULES
                .iter()
                .filter(|(_, applies)| applies(&ours, &theirs, data))
                .map(|(name, _)| *name)
                .collect();
            assert_eq!(fired, [rule], "{:?}", String::from_utf8_lossy(data));
            // Without the rules it is a disagreement.
            let base = matches!(
                (&ours, &theirs),
                (Ours::Rejected(_), Theirs::Rejected(_))
                    | (Ours::Accepted { .. }, Theirs::Complete { .. })
            );
            assert!(!base, "{rule}: not a difference");
        }
    }

    #[test]
    fn agreeing_heads_pass_and_a_different_head_is_caught() {
        httparse(b"GET /a?b HTTP/1.1\r\nHost: x\r\nA:  b c \t\r\n\r\nbody");
        httparse(b"\r\n\nPOST / HTTP/1.0\nContent-Length: 1\n\nx");
        httparse(b"GET / HTTP/1.1\r\nA\0: b\r\n\r\n");
        let data = b"GET / HTTP/1.1\r\nA: b\r\n\r\n";
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let theirs = theirs(data, &mut slots);
        let Ours::Accepted { head, len } = ours(b"GET / HTTP/1.1\r\nA: c\r\n\r\n") else {
            panic!("accepted")
        };
        let Theirs::Complete { req, len: n } = &theirs else {
            panic!("complete")
        };
        assert_eq!(same_head(&head, len, req, *n), Some("header list"));
    }
}
