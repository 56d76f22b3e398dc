//! How far a run of head bytes stays in a byte class: the inner loops of the head parser.
//!
//! Two scans cover most of a head's bytes: field values (and the request target) with
//! [`class_prefix`], field names (and the method) with [`token_prefix`]. Both look at many bytes
//! at once and consult the `[bool; 256]` table only for the few bytes a cheap test flags, so the
//! table stays the one definition of each class and the fast test only has to be conservative
//! (flag every byte outside the class, and perhaps some inside it).
//!
//! On x86 and x86-64 with SSE2 (every x86-64 CPU: it is in the baseline target) sixteen bytes
//! are tested at a time with SSE2 instructions, called through `safe_arch`'s safe wrappers
//! (`unsafe` stays forbidden in this crate); the bytes after the last whole block are one more
//! block, overlapping the one before. Elsewhere, and for a run shorter than sixteen bytes, eight
//! bytes are tested at a time on a `u64` (SWAR), or a field name one byte at a time. Either way,
//! which bytes are in the class is decided by the table: the tests below check each fast path
//! against it, for every byte value at every position.
//!
//! In fuzz builds (`cfg(fuzzing)`, set by cargo-fuzz) the scans, `sse2::first_outside` and
//! the head parser's quick paths that are inlined at several places are kept out of line
//! instead. Each inlined copy gets its own coverage counters, so the fuzzer counted the same
//! scan a dozen times over and spent its bookkeeping on copies. Out of line, http_httparse
//! covers 872 edges instead of 1,169 on one corpus, and runs 12-23 % more executions per
//! second (benches/RESULTS.md, "Fuzzing"). The code is the same; only where it sits changes.

use super::parse::TCHAR;

/// The length of the prefix of `v` whose bytes are all in `class`.
///
/// `class` must hold every byte from `below` to 0x7e and no byte below `below` but HTAB, and
/// either all of %x80-FF (obs-text) or none of it, with `class[0x80]` telling which: true of
/// [`FIELD_VALUE`](super::parse::FIELD_VALUE) with `below` 0x20, of
/// [`TARGET`](super::parse::TARGET) and [`TARGET_OBS_TEXT`](super::parse::TARGET_OBS_TEXT) with
/// 0x21. The fast test flags every byte below `below`, DEL, and %x80-FF when the class has no
/// obs-text; flagged bytes are looked up in `class`, lowest first, and the first one outside it
/// ends the prefix (HTAB is passed over).
#[cfg_attr(not(fuzzing), inline(always))]
#[cfg_attr(fuzzing, inline(never))]
pub(crate) fn class_prefix(v: &[u8], below: u8, class: &[bool; 256]) -> usize {
    #[cfg(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))]
    {
        sse2::class_prefix(v, below, class)
    }
    #[cfg(not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    )))]
    {
        class_prefix_swar(v, below, class)
    }
}

/// The length of the prefix of `v` that is `tchar` ([`TCHAR`], RFC 9110 5.6.2): a field name
/// or a method, up to the byte that ends it.
#[cfg_attr(not(fuzzing), inline(always))]
#[cfg_attr(fuzzing, inline(never))]
pub(crate) fn token_prefix(v: &[u8]) -> usize {
    #[cfg(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))]
    {
        sse2::token_prefix(v)
    }
    #[cfg(not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    )))]
    {
        token_prefix_bytes(v)
    }
}

/// [`token_prefix`] one byte at a time.
#[inline(always)]
fn token_prefix_bytes(v: &[u8]) -> usize {
    v.iter()
        .position(|&b| !TCHAR[b as usize])
        .unwrap_or(v.len())
}

/// [`class_prefix`] eight bytes at a time on a `u64`. With the top bit of each byte cleared
/// (`m`, so no carry crosses a byte), bit 7 of `m + (0x80 - below)` is set exactly when
/// `m >= below`, and bit 7 of `m + 1` exactly when `m == 0x7f`. A byte is flagged when the first
/// is clear or the second set: every byte below `below`, DEL, and (having lost their top bit) a
/// few obs-text bytes; for a class without obs-text, every byte with its top bit set too.
#[inline(always)]
pub(crate) fn class_prefix_swar(v: &[u8], below: u8, class: &[bool; 256]) -> usize {
    const LO: u64 = u64::from_le_bytes([0x01; 8]);
    const HI: u64 = u64::from_le_bytes([0x80; 8]);
    const LOW7: u64 = u64::from_le_bytes([0x7f; 8]);
    let ge = LO * u64::from(0x80 - below);
    let high = if class[0x80] { 0 } else { HI };
    let flags = |x: u64| {
        let m = x & LOW7;
        (!(m + ge) | (m + LO) | (x & high)) & HI
    };
    let mut i = 0;
    let mut words = v.chunks_exact(8);
    for w in &mut words {
        // One 8-byte load: `chunks_exact` gives exactly eight bytes.
        let mut hits = flags(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        while hits != 0 {
            let j = i + (hits.trailing_zeros() / 8) as usize;
            if !class[v[j] as usize] {
                return j;
            }
            hits &= hits - 1;
        }
        i += 8;
    }
    let tail = words.remainder();
    i + tail
        .iter()
        .position(|&b| !class[b as usize])
        .unwrap_or(tail.len())
}

#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse2"
))]
mod sse2 {
    use safe_arch::{
        bitand_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_gt_mask_i8_m128i,
        cmp_lt_mask_i8_m128i, load_unaligned_m128i, m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };

    use super::TCHAR;

    /// Sixteen bytes from the front of `b`, which is exactly that long (a block `split_first_chunk`
    /// split off, or the last sixteen bytes).
    #[inline(always)]
    fn load(b: &[u8]) -> m128i {
        load_unaligned_m128i(b.try_into().expect("16 bytes"))
    }

    /// Looks up the flagged bytes of the block at `at` (bit `k` of `hits` for byte `at + k`),
    /// lowest first: the first one outside `class` ends the prefix.
    #[cfg_attr(not(fuzzing), inline(always))]
    #[cfg_attr(fuzzing, inline(never))]
    fn first_outside(v: &[u8], at: usize, mut hits: u32, class: &[bool; 256]) -> Option<usize> {
        while hits != 0 {
            let j = at + hits.trailing_zeros() as usize;
            if !class[v[j] as usize] {
                return Some(j);
            }
            hits &= hits - 1;
        }
        None
    }

    /// The prefix of `v` in `class`, sixteen bytes at a time: `flags` gives a block's candidate
    /// bytes (bit `k` for byte `k`), which are looked up in `class`. The bytes after the last
    /// whole block are taken as the last sixteen bytes of `v`, overlapping the block before,
    /// with the flags of the bytes already checked shifted out; only a `v` shorter than sixteen
    /// bytes goes to `short`.
    #[inline(always)]
    fn scan(
        v: &[u8],
        class: &[bool; 256],
        flags: impl Fn(&[u8]) -> u32,
        short: impl FnOnce(&[u8]) -> usize,
    ) -> usize {
        // The first block on its own: most names and values end in it, before the loop's
        // set-up.
        let Some((first, mut rest)) = v.split_first_chunk::<16>() else {
            return short(v);
        };
        if let Some(j) = first_outside(v, 0, flags(first), class) {
            return j;
        }
        let mut i = 16;
        while let Some((b, r)) = rest.split_first_chunk::<16>() {
            if let Some(j) = first_outside(v, i, flags(b), class) {
                return j;
            }
            i += 16;
            rest = r;
        }
        if i == v.len() {
            i
        } else {
            let hits = flags(&v[v.len() - 16..]) >> (i + 16 - v.len());
            first_outside(v, i, hits, class).unwrap_or(v.len())
        }
    }

    /// [`super::class_prefix`]. A byte is flagged when it is DEL, or below `below`: compared as
    /// unsigned (`min(x, below - 1) == x`) for a class with obs-text, as signed (`x < below`,
    /// which also takes in %x80-FF, negative as `i8`) for one without.
    #[inline(always)]
    pub(super) fn class_prefix(v: &[u8], below: u8, class: &[bool; 256]) -> usize {
        let obs_text = class[0x80];
        let under = set_splat_i8_m128i(below.wrapping_sub(1) as i8);
        let limit = set_splat_i8_m128i(below as i8);
        let del = set_splat_i8_m128i(0x7f);
        let flags = |b: &[u8]| {
            let x = load(b);
            let low = if obs_text {
                cmp_eq_mask_i8_m128i(min_u8_m128i(x, under), x)
            } else {
                cmp_lt_mask_i8_m128i(x, limit)
            };
            move_mask_i8_m128i(bitor_m128i(low, cmp_eq_mask_i8_m128i(x, del))) as u32
        };
        scan(v, class, flags, |v| {
            super::class_prefix_swar(v, below, class)
        })
    }

    /// [`super::token_prefix`]. Every byte that is neither a letter nor a hyphen is flagged
    /// (`x | 0x20` outside `a..=z`, compared as signed so that %x80-FF are outside too), and
    /// looked up in [`TCHAR`]: in a field name that is the colon and the odd digit.
    #[inline(always)]
    pub(super) fn token_prefix(v: &[u8]) -> usize {
        let case = set_splat_i8_m128i(0x20);
        let before_a = set_splat_i8_m128i(b'a' as i8 - 1);
        let after_z = set_splat_i8_m128i(b'z' as i8 + 1);
        let hyphen = set_splat_i8_m128i(b'-' as i8);
        let flags = |b: &[u8]| {
            let x = load(b);
            let y = bitor_m128i(x, case);
            let letters = bitand_m128i(
                cmp_gt_mask_i8_m128i(y, before_a),
                cmp_lt_mask_i8_m128i(y, after_z),
            );
            let common = bitor_m128i(letters, cmp_eq_mask_i8_m128i(x, hyphen));
            !(move_mask_i8_m128i(common) as u32) & 0xffff
        };
        scan(v, &TCHAR, flags, super::token_prefix_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::{FIELD_VALUE, TARGET, TARGET_OBS_TEXT};
    use super::*;

    const CLASSES: [(u8, &[bool; 256]); 3] = [
        (0x20, &FIELD_VALUE),
        (0x21, &TARGET),
        (0x21, &TARGET_OBS_TEXT),
    ];

    fn naive(v: &[u8], class: &[bool; 256]) -> usize {
        v.iter()
            .position(|&b| !class[b as usize])
            .unwrap_or(v.len())
    }

    /// Every scan against the table, on `v`: both class scans in every class, and the token one.
    fn check(v: &[u8]) {
        for (below, class) in CLASSES {
            let want = naive(v, class);
            assert_eq!(class_prefix(v, below, class), want, "{v:?}");
            assert_eq!(class_prefix_swar(v, below, class), want, "{v:?}");
        }
        assert_eq!(token_prefix(v), naive(v, &TCHAR), "{v:?}");
        assert_eq!(token_prefix_bytes(v), naive(v, &TCHAR), "{v:?}");
    }

    /// Every byte value at every position of blocks of every length up to three of the widest
    /// step, with an allowed byte of each kind (HTAB, a hyphen, a digit, obs-text) before it and
    /// a second candidate after it, so that the flagged bytes passed over and the lowest flag
    /// are both exercised.
    #[test]
    fn every_byte_at_every_position() {
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48] {
            for at in 0..len {
                for b in 0..=255u8 {
                    for before in [b'\t', b'-', b'7', 0xc3] {
                        let mut v = vec![b'k'; len];
                        if at >= 2 {
                            v[at - 2] = before;
                        }
                        v[at] = b;
                        if at + 3 < len {
                            v[at + 3] = b':';
                        }
                        check(&v);
                    }
                }
            }
        }
    }

    #[test]
    fn random_bytes_near_the_class_edges() {
        // xorshift: deterministic, biased towards the bytes around the class edges.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 70) as usize;
            let v: Vec<u8> = (0..len)
                .map(|i| {
                    let r = (x >> (i % 56)) as u8 ^ (i as u8).wrapping_mul(29);
                    match r % 16 {
                        0 => [0, 9, 0x1f, 0x20, 0x21, 0x7e, 0x7f, 0x80][(r / 16 % 8) as usize],
                        1 => {
                            [b'@', b'[', b'`', b'{', b'/', b':', b'-', 0xff][(r / 16 % 8) as usize]
                        }
                        _ => b'a' + r % 26,
                    }
                })
                .collect();
            check(&v);
        }
    }

    #[test]
    fn a_field_line_splits_where_the_grammar_says() {
        let line = b"Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\nHost: x\r\n\r\n";
        assert_eq!(token_prefix(line), 15);
        assert_eq!(class_prefix(&line[17..], 0x20, &FIELD_VALUE), 23);
        assert_eq!(token_prefix(b"GET /"), 3);
    }
}
