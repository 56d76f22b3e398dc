//! `Range: bytes=...` (RFC 9110 §14.1.2): which part of a file to send.
//!
//! One range gets 206 with that part; a set no member of which overlaps the file gets 416; a
//! set of several ranges gets the whole file (200), which RFC 9110 §14.2 allows ("a server MAY
//! ignore the Range header field") and which is what clients that resume (curl `-C -`,
//! wget `-c`, browsers seeking media) never notice, since they ask for one range. A header
//! that does not parse, or another unit than `bytes`, is ignored; so are ranges of an empty
//! file (nginx does the same).

/// What to send of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ranged {
    /// The whole file (200).
    Whole,
    /// Bytes `first..=last` (206).
    Part {
        /// The first byte's offset.
        first: u64,
        /// The last byte's offset (inclusive, below the length).
        last: u64,
    },
    /// No range overlaps the file (416).
    Unsatisfiable,
}

/// One `range-spec`: `first-last`, `first-` or `-suffix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    From(u64, Option<u64>),
    Suffix(u64),
}

fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn spec(s: &[u8]) -> Option<Spec> {
    let dash = s.iter().position(|&b| b == b'-')?;
    let (a, b) = (&s[..dash], &s[dash + 1..]);
    if a.is_empty() {
        return Some(Spec::Suffix(digits(b)?));
    }
    let first = digits(a)?;
    if b.is_empty() {
        return Some(Spec::From(first, None));
    }
    let last = digits(b)?;
    (last >= first).then_some(Spec::From(first, Some(last)))
}

impl Spec {
    /// The bytes it selects of a file of `len > 0` bytes, if any.
    fn within(self, len: u64) -> Option<(u64, u64)> {
        match self {
            Spec::From(first, _) if first >= len => None,
            Spec::From(first, last) => Some((first, last.map_or(len - 1, |l| l.min(len - 1)))),
            Spec::Suffix(0) => None,
            Spec::Suffix(n) => Some((len - n.min(len), len - 1)),
        }
    }
}

/// What a `Range` header value asks of a file of `len` bytes.
pub(crate) fn parse(value: &[u8], len: u64) -> Ranged {
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return Ranged::Whole;
    };
    if !value[..eq].trim_ascii().eq_ignore_ascii_case(b"bytes") || len == 0 {
        return Ranged::Whole;
    }
    let mut count = 0usize;
    let mut only = None;
    let mut satisfiable = false;
    for member in value[eq + 1..].split(|&b| b == b',') {
        let member = member.trim_ascii();
        if member.is_empty() {
            // RFC 9110 §5.6.1: empty list elements are allowed and ignored.
            continue;
        }
        let Some(spec) = spec(member) else {
            return Ranged::Whole;
        };
        count += 1;
        let part = spec.within(len);
        satisfiable |= part.is_some();
        only = part;
    }
    match (count, satisfiable, only) {
        (0, _, _) => Ranged::Whole,
        (_, false, _) => Ranged::Unsatisfiable,
        (1, _, Some((first, last))) => Ranged::Part { first, last },
        _ => Ranged::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_a_100_byte_file() {
        let part = |first, last| Ranged::Part { first, last };
        let cases: &[(&str, Ranged)] = &[
            ("bytes=0-0", part(0, 0)),
            ("bytes=0-99", part(0, 99)),
            ("bytes=10-19", part(10, 19)),
            ("bytes=90-200", part(90, 99)),
            ("bytes=90-", part(90, 99)),
            ("bytes=0-", part(0, 99)),
            ("bytes=-10", part(90, 99)),
            ("bytes=-100", part(0, 99)),
            ("bytes=-500", part(0, 99)),
            ("BYTES = 5-6", part(5, 6)),
            ("bytes= 5-6 ,", part(5, 6)),
            ("bytes=100-", Ranged::Unsatisfiable),
            ("bytes=100-200", Ranged::Unsatisfiable),
            ("bytes=-0", Ranged::Unsatisfiable),
            ("bytes=100-,200-300", Ranged::Unsatisfiable),
            ("bytes=0-1,5-6", Ranged::Whole),
            ("bytes=0-1,100-", Ranged::Whole),
            ("bytes=5-4", Ranged::Whole),
            ("bytes=a-b", Ranged::Whole),
            ("bytes=1", Ranged::Whole),
            ("bytes=--1", Ranged::Whole),
            ("bytes=+1-2", Ranged::Whole),
            ("bytes=", Ranged::Whole),
            ("items=0-1", Ranged::Whole),
            ("0-1", Ranged::Whole),
            ("bytes=99999999999999999999-", Ranged::Whole),
        ];
        for (value, want) in cases {
            assert_eq!(parse(value.as_bytes(), 100), *want, "{value}");
        }
    }

    #[test]
    fn an_empty_file_ignores_ranges() {
        for value in ["bytes=0-0", "bytes=-1", "bytes=5-"] {
            assert_eq!(parse(value.as_bytes(), 0), Ranged::Whole, "{value}");
        }
    }

    #[test]
    fn huge_offsets_do_not_overflow() {
        let max = u64::MAX;
        assert_eq!(
            parse(b"bytes=0-9999999999999999999", max),
            Ranged::Part {
                first: 0,
                last: 9_999_999_999_999_999_999
            }
        );
        assert_eq!(
            parse(b"bytes=-9999999999999999999", 10),
            Ranged::Part { first: 0, last: 9 }
        );
    }
}
