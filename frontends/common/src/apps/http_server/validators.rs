//! Validators and conditional requests (RFC 9110 §8.8, §13): the file server's strong ETag, the
//! order in which the preconditions are evaluated (§13.2.2), and `If-Range` (§13.1.5).
//!
//! | header | compared | outcome when it does not hold |
//! |---|---|---|
//! | `If-Match` | strong, `*` matches any file | 412 |
//! | `If-Unmodified-Since` (only without `If-Match`) | `Last-Modified` <= date | 412 |
//! | `If-None-Match` | weak, `*` matches any file | 304 for GET and HEAD |
//! | `If-Modified-Since` (only without `If-None-Match`) | `Last-Modified` > date | 304 |
//!
//! A date that does not parse is ignored (the header then does not apply), as nginx does.

use std::fs::Metadata;
use std::time::SystemTime;

use portline_core::http::{Headers, HeadersRef};

/// Read access to request header fields (the core's [`Headers`]; a slice of pairs in tests).
pub(crate) trait Fields {
    /// The first value of `name` (case-insensitive).
    fn first(&self, name: &str) -> Option<&[u8]>;
    /// Whether `f` holds for any value of `name`, over every line it came on.
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool;
}

impl Fields for Headers {
    fn first(&self, name: &str) -> Option<&[u8]> {
        self.get(name)
    }
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.get_all(name).any(f)
    }
}

impl Fields for HeadersRef<'_> {
    fn first(&self, name: &str) -> Option<&[u8]> {
        self.get(name)
    }
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .any(|(_, v)| f(v))
    }
}

impl Fields for [(&str, &[u8])] {
    fn first(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .any(|(_, v)| f(v))
    }
}

/// Which of the request fields the file server reads a request has, found in one pass over
/// its head: a field it lacks (most requests have none of the conditional ones, and tools
/// such as wrk send no `Accept-Encoding` either) is then not looked for by name, once per
/// name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Present(u16);

impl Present {
    pub(crate) const ACCEPT_ENCODING: u16 = 1;
    pub(crate) const EXPECT: u16 = 1 << 1;
    pub(crate) const RANGE: u16 = 1 << 2;
    pub(crate) const IF_RANGE: u16 = 1 << 3;
    pub(crate) const IF_MATCH: u16 = 1 << 4;
    pub(crate) const IF_NONE_MATCH: u16 = 1 << 5;
    pub(crate) const IF_MODIFIED_SINCE: u16 = 1 << 6;
    pub(crate) const IF_UNMODIFIED_SINCE: u16 = 1 << 7;
    /// The four preconditions [`evaluate`] reads.
    pub(crate) const PRECONDITIONS: u16 =
        Self::IF_MATCH | Self::IF_NONE_MATCH | Self::IF_MODIFIED_SINCE | Self::IF_UNMODIFIED_SINCE;

    /// The fields of `names` (compared case-insensitively, as [`Headers::get`] does).
    pub(crate) fn of<'a>(names: impl IntoIterator<Item = &'a [u8]>) -> Present {
        Present(names.into_iter().fold(0, |bits, name| bits | bit_of(name)))
    }

    /// Whether any of the fields `bits` is present.
    pub(crate) fn any(self, bits: u16) -> bool {
        self.0 & bits != 0
    }
}

/// The [`Present`] bit of the field `name`, or 0: its length picks the one name it can be.
fn bit_of(name: &[u8]) -> u16 {
    let (known, bit) = match name.len() {
        5 => ("range", Present::RANGE),
        6 => ("expect", Present::EXPECT),
        8 if name[3].eq_ignore_ascii_case(&b'm') => ("if-match", Present::IF_MATCH),
        8 => ("if-range", Present::IF_RANGE),
        13 => ("if-none-match", Present::IF_NONE_MATCH),
        15 => ("accept-encoding", Present::ACCEPT_ENCODING),
        17 => ("if-modified-since", Present::IF_MODIFIED_SINCE),
        19 => ("if-unmodified-since", Present::IF_UNMODIFIED_SINCE),
        _ => return 0,
    };
    if name.eq_ignore_ascii_case(known.as_bytes()) {
        bit
    } else {
        0
    }
}

/// A short header value rendered on the stack (an ETag or a `Content-Range`).
#[derive(Clone, Copy)]
pub(crate) struct Text {
    buf: [u8; 72],
    len: u8,
}

impl Text {
    /// Render `args`; `None` if it does not fit (it always does for the values written here).
    pub(crate) fn format(args: std::fmt::Arguments<'_>) -> Option<Text> {
        use std::io::Write as _;
        let mut buf = [0u8; 72];
        let mut w = &mut buf[..];
        w.write_fmt(args).ok()?;
        let len = 72 - w.len();
        Some(Text {
            buf,
            len: u8::try_from(len).ok()?,
        })
    }

    /// The rendered bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_bytes().escape_ascii().to_string())
    }
}

/// The strong ETag of a file, from its identity (device and inode), its change time to the
/// nanosecond and its size: `"ino-ctime-size"` in hex. nginx uses modification time and size
/// (`"mtime-size"`); the inode and ctime added here also change when a file is replaced by
/// another with the same size and mtime (`cp -p`, `touch -d`), which a strong validator must
/// notice. Without Unix metadata, the modification time stands in.
pub(crate) fn etag(meta: &Metadata) -> Text {
    #[cfg(unix)]
    let (id, changed) = {
        use std::os::unix::fs::MetadataExt;
        let changed = i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec());
        (meta.ino() ^ meta.dev().rotate_left(32), changed)
    };
    #[cfg(not(unix))]
    let (id, changed) = (
        0u64,
        meta.modified()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128),
    );
    Text::format(format_args!(
        "\"{id:x}-{:x}-{:x}\"",
        changed.max(0),
        meta.len()
    ))
    .expect("at most 2 + 16 + 1 + 32 + 1 + 16 bytes")
}

/// Whole seconds since the epoch (HTTP dates have no finer precision).
pub(crate) fn unix_secs(t: SystemTime) -> Option<u64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// What the preconditions of a request say about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Answer normally.
    Proceed,
    /// 304 Not Modified (GET and HEAD).
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Whether any member of a list of entity-tags (`"a", W/"b"`, over every line the header came
/// on) is `*` or satisfies `matches`. A malformed member matches nothing.
fn any_tag(headers: &(impl Fields + ?Sized), name: &str, matches: &dyn Fn(&[u8]) -> bool) -> bool {
    headers.any_value(name, &mut |v| {
        v.split(|&b| b == b',')
            .map(<[u8]>::trim_ascii)
            .any(|t| t == b"*" || matches(t))
    })
}

/// `(weak, opaque-tag with its quotes)` of an entity-tag, or `None` if malformed
/// (`entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`, RFC 9110 §8.8.3).
fn split_tag(tag: &[u8]) -> Option<(bool, &[u8])> {
    let (weak, opaque) = match tag.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, tag),
    };
    let ok = opaque.len() >= 2
        && opaque[0] == b'"'
        && opaque[opaque.len() - 1] == b'"'
        && opaque[1..opaque.len() - 1]
            .iter()
            .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80);
    ok.then_some((weak, opaque))
}

/// Strong comparison: both strong and the same opaque tag (RFC 9110 §8.8.3.2).
fn strong_match(theirs: &[u8], ours: &[u8]) -> bool {
    matches!(split_tag(theirs), Some((false, t)) if t == ours)
}

/// Weak comparison: the same opaque tag, either may be weak.
fn weak_match(theirs: &[u8], ours: &[u8]) -> bool {
    matches!(split_tag(theirs), Some((_, t)) if t == ours)
}

fn header_date(headers: &(impl Fields + ?Sized), name: &str) -> Option<u64> {
    let v = std::str::from_utf8(headers.first(name)?).ok()?;
    httpdate::parse_http_date(v).ok().and_then(unix_secs)
}

/// Evaluate the preconditions of a GET or HEAD of an existing file whose strong ETag is
/// `etag` and whose modification time is `modified` (seconds), in RFC 9110 §13.2.2's order.
pub(crate) fn evaluate(
    headers: &(impl Fields + ?Sized),
    etag: &[u8],
    modified: Option<u64>,
) -> Precondition {
    // 1. If-Match, else 2. If-Unmodified-Since.
    if headers.first("if-match").is_some() {
        if !any_tag(headers, "if-match", &|t| strong_match(t, etag)) {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(m)) = (header_date(headers, "if-unmodified-since"), modified)
        && m > since
    {
        return Precondition::Failed;
    }
    // 3. If-None-Match, else 4. If-Modified-Since.
    if headers.first("if-none-match").is_some() {
        if any_tag(headers, "if-none-match", &|t| weak_match(t, etag)) {
            return Precondition::NotModified;
        }
    } else if let (Some(since), Some(m)) = (header_date(headers, "if-modified-since"), modified)
        && m <= since
    {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

/// Whether a `Range` may be honoured given `If-Range` (RFC 9110 §13.1.5): no `If-Range`, or
/// one that names the current representation: its strong ETag, or exactly its
/// `Last-Modified` date. Otherwise the whole file is sent (200).
pub(crate) fn if_range_holds(
    headers: &(impl Fields + ?Sized),
    etag: &[u8],
    modified: Option<u64>,
) -> bool {
    let Some(value) = headers.first("if-range") else {
        return true;
    };
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return strong_match(value, etag);
    }
    let date = std::str::from_utf8(value)
        .ok()
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(unix_secs);
    matches!((date, modified), (Some(d), Some(m)) if d == m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_fields_are_found_by_name_in_any_case() {
        let known: &[(&str, u16)] = &[
            ("accept-encoding", Present::ACCEPT_ENCODING),
            ("expect", Present::EXPECT),
            ("range", Present::RANGE),
            ("if-range", Present::IF_RANGE),
            ("if-match", Present::IF_MATCH),
            ("if-none-match", Present::IF_NONE_MATCH),
            ("if-modified-since", Present::IF_MODIFIED_SINCE),
            ("if-unmodified-since", Present::IF_UNMODIFIED_SINCE),
        ];
        for (name, bit) in known {
            for spelled in [name.to_string(), name.to_uppercase(), capitalised(name)] {
                let present = Present::of([spelled.as_bytes()]);
                assert_eq!(present, Present(*bit), "{spelled}");
                assert!(present.any(*bit));
            }
        }
        let others: &[&str] = &[
            "",
            "host",
            "ranges",
            "rangE2",
            "expects",
            "if-matcH!",
            "if_match",
            "if-rangf",
            "if-mange",
            "accept",
            "accept-language",
            "if-modified-sinc",
            "x-if-none-match",
            "if-unmodified-sincf",
            "user-agent",
            "connection",
        ];
        for name in others {
            assert_eq!(Present::of([name.as_bytes()]), Present(0), "{name}");
        }
        let all = Present::of(known.iter().map(|(n, _)| n.as_bytes()));
        assert!(all.any(Present::PRECONDITIONS) && all.any(Present::EXPECT));
        assert!(!Present::of([&b"host"[..], b"if-range"]).any(Present::PRECONDITIONS));
    }

    fn capitalised(name: &str) -> String {
        name.split('-')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect::<Vec<_>>()
            .join("-")
    }

    const ETAG: &[u8] = b"\"1f-2a-3\"";
    /// Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT.
    const MODIFIED: u64 = 784_111_777;
    const BEFORE: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
    const SAME: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const AFTER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";

    fn eval(fields: &[(&str, &str)]) -> Precondition {
        let fields: Vec<(&str, &[u8])> = fields.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        evaluate(&fields[..], ETAG, Some(MODIFIED))
    }

    #[test]
    fn preconditions_in_rfc_9110_order() {
        use Precondition::*;
        let cases: &[(&[(&str, &str)], Precondition)] = &[
            (&[], Proceed),
            // If-None-Match: weak comparison, lists, several lines, `*`.
            (&[("If-None-Match", "\"1f-2a-3\"")], NotModified),
            (&[("If-None-Match", "W/\"1f-2a-3\"")], NotModified),
            (&[("If-None-Match", "\"x\", W/\"1f-2a-3\"")], NotModified),
            (
                &[("If-None-Match", "\"x\""), ("if-none-match", "\"1f-2a-3\"")],
                NotModified,
            ),
            (&[("If-None-Match", "*")], NotModified),
            (&[("If-None-Match", "\"x\", \"y\"")], Proceed),
            (&[("If-None-Match", "1f-2a-3")], Proceed),
            // If-Modified-Since.
            (&[("If-Modified-Since", SAME)], NotModified),
            (&[("If-Modified-Since", AFTER)], NotModified),
            (&[("If-Modified-Since", BEFORE)], Proceed),
            (&[("If-Modified-Since", "yesterday")], Proceed),
            // If-None-Match takes precedence over If-Modified-Since, both ways.
            (
                &[("If-None-Match", "\"x\""), ("If-Modified-Since", AFTER)],
                Proceed,
            ),
            (
                &[
                    ("If-None-Match", "\"1f-2a-3\""),
                    ("If-Modified-Since", BEFORE),
                ],
                NotModified,
            ),
            // If-Match: strong comparison, `*`.
            (&[("If-Match", "\"1f-2a-3\"")], Proceed),
            (&[("If-Match", "\"x\", \"1f-2a-3\"")], Proceed),
            (&[("If-Match", "*")], Proceed),
            (&[("If-Match", "W/\"1f-2a-3\"")], Failed),
            (&[("If-Match", "\"x\"")], Failed),
            // If-Unmodified-Since, ignored when If-Match is present.
            (&[("If-Unmodified-Since", SAME)], Proceed),
            (&[("If-Unmodified-Since", BEFORE)], Failed),
            (&[("If-Unmodified-Since", "garbage")], Proceed),
            (
                &[("If-Match", "*"), ("If-Unmodified-Since", BEFORE)],
                Proceed,
            ),
            // 412 is decided before 304.
            (&[("If-Match", "\"x\""), ("If-None-Match", "*")], Failed),
        ];
        for (fields, want) in cases {
            assert_eq!(eval(fields), *want, "{fields:?}");
        }
    }

    #[test]
    fn if_range_needs_the_strong_etag_or_the_exact_date() {
        let holds = |v: Option<&str>| {
            let fields: Vec<(&str, &[u8])> =
                v.map(|v| ("If-Range", v.as_bytes())).into_iter().collect();
            if_range_holds(&fields[..], ETAG, Some(MODIFIED))
        };
        assert!(holds(None));
        assert!(holds(Some("\"1f-2a-3\"")));
        assert!(holds(Some(SAME)));
        assert!(!holds(Some("W/\"1f-2a-3\"")));
        assert!(!holds(Some("\"other\"")));
        assert!(!holds(Some(BEFORE)));
        assert!(!holds(Some(AFTER)));
        assert!(!holds(Some("not a date")));
    }

    #[test]
    fn etags_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "one").unwrap();
        let first = etag(&std::fs::metadata(&path).unwrap());
        let again = etag(&std::fs::metadata(&path).unwrap());
        assert_eq!(first.as_bytes(), again.as_bytes());
        assert!(split_tag(first.as_bytes()).is_some_and(|(weak, _)| !weak));
        // Same size, rewritten: the change time moves (or, within one clock tick, the inode
        // of a replacement differs).
        let other = dir.path().join("g");
        std::fs::write(&other, "two").unwrap();
        std::fs::rename(&other, &path).unwrap();
        let replaced = etag(&std::fs::metadata(&path).unwrap());
        assert_ne!(first.as_bytes(), replaced.as_bytes());
        std::fs::write(&path, "three").unwrap();
        let longer = etag(&std::fs::metadata(&path).unwrap());
        assert_ne!(replaced.as_bytes(), longer.as_bytes());
    }
}
