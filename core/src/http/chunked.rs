//! The chunked transfer coding (RFC 9112 7.1), decoded out of the receive buffer.
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! trailer-section = *( field-line CRLF )
//! ```
//! Strict on purpose (docs/HTTP.md): a chunk-size line that is empty, longer than 16 hex digits, signed,
//! `0x`-prefixed or followed by junk or whitespace, an extension that is not `;` token
//! [ `=` token / quoted-string ] with no whitespace (BWS is where parsers disagree), chunk data not
//! followed by CRLF, and a bare LF or bare CR anywhere in the framing are all 400.

use bytes::{Buf, BytesMut};

use super::error::{Error, ErrorKind};
use super::parse::{FIELD_VALUE, TCHAR, bad, field_line, is_ows, peer, quoted_string};

/// The longest chunk-size line (size, extensions and CRLF) accepted.
const MAX_SIZE_LINE: usize = 4096;

/// Where the decoder is in the chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chunked {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data; this many bytes are left.
    Data(u64),
    /// Chunk data ended; CRLF must follow.
    DataEnd,
    /// After the last chunk: trailer fields until a blank line. `seen` counts their bytes.
    Trailers { seen: usize },
    /// The body is complete.
    Done,
}

/// What one step of the decoder produced.
#[derive(Debug)]
pub(crate) enum ChunkPoll {
    /// Body bytes: the first `data` bytes of the buffer, followed by `framing` bytes of chunk
    /// framing that were read and must be dropped with them. Left in the buffer, so that a
    /// borrowed event is a slice of it (no `Bytes`, no allocation), and an owned one splits them
    /// off.
    Data { data: usize, framing: usize },
    /// The body is complete (trailers consumed).
    End,
    /// More bytes are needed.
    NeedData,
}

/// `chunk-size [ chunk-ext ]` without the line ending.
fn size_line(line: &[u8]) -> Result<u64, Error> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(if line.is_empty() {
            bad("empty chunk size")
        } else {
            bad("invalid chunk size")
        });
    }
    if digits > 16 {
        return Err(bad("chunk size over 16 hex digits"));
    }
    let size = line[..digits].iter().fold(0u64, |n, &d| {
        // At most 16 hex digits: fits in a u64.
        (n << 4) | u64::from((d as char).to_digit(16).unwrap_or(0))
    });
    chunk_ext(&line[digits..])?;
    Ok(size)
}

/// `chunk-ext` after the size, held to the grammar without its BWS (docs/HTTP.md):
/// ```text
/// chunk-ext = *( ";" chunk-ext-name [ "=" chunk-ext-val ] )
/// chunk-ext-name = token
/// chunk-ext-val  = token / quoted-string
/// ```
/// Whitespace around `;` or `=` is where parsers disagree about where a chunk line ends (a
/// request-smuggling vector), so it is rejected, as are a `;` with no name after it and CTLs.
fn chunk_ext(mut ext: &[u8]) -> Result<(), Error> {
    let token = |v: &[u8]| v.iter().take_while(|&&b| TCHAR[b as usize]).count();
    while let Some((&b, rest)) = ext.split_first() {
        if b != b';' {
            return Err(ext_error(ext, "junk after chunk size"));
        }
        let n = token(rest);
        if n == 0 {
            return Err(match rest.first() {
                None => bad("chunk extension without a name"),
                Some(_) => ext_error(rest, "invalid chunk extension name"),
            });
        }
        ext = &rest[n..];
        if let Some(value) = ext.strip_prefix(b"=") {
            let m = match value.first() {
                Some(b'"') => quoted_string(value).unwrap_or(0),
                _ => token(value),
            };
            if m == 0 {
                return Err(ext_error(value, "invalid chunk extension value"));
            }
            ext = &value[m..];
        }
    }
    Ok(())
}

/// The error for a chunk line that fails its grammar at `at`: whitespace and CTLs named.
fn ext_error(at: &[u8], fallback: &'static str) -> Error {
    match at.first() {
        Some(&b) if is_ows(b) => bad("whitespace in chunk line"),
        Some(b'\r') => bad("bare CR in chunk line"),
        Some(&b) if !FIELD_VALUE[b as usize] => bad("control byte in chunk extension"),
        _ => bad(fallback),
    }
}

/// The value of each hex digit (`HEXDIG`, either case); 0xff for every other byte.
static HEX: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The common chunk-size line, `1*16HEXDIG CRLF` with no extension, read in one pass: the size
/// and the line's length. Anything else (`None`) goes through [`crlf_line`] and [`size_line`],
/// which accept this form with the same size and report everything else. One table lookup per
/// digit; with the longest such line (18 bytes) there, no length check per digit either.
#[inline(always)]
fn quick_size(buf: &[u8]) -> Option<(u64, usize)> {
    let Some(line) = buf.first_chunk::<18>() else {
        return quick_size_short(buf);
    };
    let mut size: u64 = 0;
    let mut i = 0;
    // At most 16 digits: a 17th is not CR, so the line is left to the general path.
    while i < 16 {
        let d = HEX[line[i] as usize];
        if d == 0xff {
            break;
        }
        size = (size << 4) | u64::from(d);
        i += 1;
    }
    // CR and LF as one 16-bit compare.
    if i > 0 && u16::from_le_bytes([line[i], line[i + 1]]) == u16::from_le_bytes(*b"\r\n") {
        Some((size, i + 2))
    } else {
        None
    }
}

/// [`quick_size`] for fewer than 18 bytes (the end of what has arrived).
#[inline(never)]
fn quick_size_short(buf: &[u8]) -> Option<(u64, usize)> {
    let mut size: u64 = 0;
    let mut i = 0;
    while i < 16 {
        let d = HEX[*buf.get(i)? as usize];
        if d == 0xff {
            break;
        }
        size = (size << 4) | u64::from(d);
        i += 1;
    }
    if i > 0 && buf.get(i..i + 2)? == b"\r\n" {
        Some((size, i + 2))
    } else {
        None
    }
}

/// The next CRLF-terminated line at the front of `buf` (without CRLF) and its full length.
fn crlf_line(buf: &[u8], limit: usize, too_long: Error) -> Result<Option<(&[u8], usize)>, Error> {
    match memchr::memchr(b'\n', buf) {
        Some(lf) => {
            if lf + 1 > limit {
                return Err(too_long);
            }
            match buf[..lf].strip_suffix(b"\r") {
                Some(line) => Ok(Some((line, lf + 1))),
                None => Err(bad("bare LF in chunked framing")),
            }
        }
        None if buf.len() >= limit => Err(too_long),
        None => Ok(None),
    }
}

impl Chunked {
    /// Decodes from the front of `buf`, consuming framing bytes, until it can report data, the
    /// end, or that it needs more. `max_trailers` bounds the trailer section (431 above it);
    /// `declared` adds up the chunk sizes announced so far, which may not exceed `max_body` (413,
    /// reported at the size line so that the outcome does not depend on how bytes were split).
    pub(crate) fn poll(
        &mut self,
        buf: &mut BytesMut,
        max_trailers: usize,
        declared: &mut u64,
        max_body: u64,
    ) -> Result<ChunkPoll, Error> {
        loop {
            match self {
                Chunked::Size => {
                    let (size, len) = match quick_size(buf) {
                        Some(quick) => quick,
                        None => {
                            let too_long = bad("chunk size line too long");
                            let Some((line, len)) = crlf_line(buf, MAX_SIZE_LINE, too_long)? else {
                                return Ok(ChunkPoll::NeedData);
                            };
                            (size_line(line)?, len)
                        }
                    };
                    *declared = declared.saturating_add(size);
                    if *declared > max_body {
                        return Err(peer(ErrorKind::BodyTooLarge, "body too large"));
                    }
                    buf.advance(len);
                    *self = if size == 0 {
                        Chunked::Trailers { seen: 0 }
                    } else {
                        Chunked::Data(size)
                    };
                }
                Chunked::Data(left) => {
                    if buf.is_empty() {
                        return Ok(ChunkPoll::NeedData);
                    }
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                    *left -= n as u64;
                    if *left != 0 {
                        return Ok(ChunkPoll::Data {
                            data: n,
                            framing: 0,
                        });
                    }
                    *self = Chunked::DataEnd;
                    let (data, framing) = self.coalesce(buf, n, declared, max_body);
                    return Ok(ChunkPoll::Data { data, framing });
                }
                Chunked::DataEnd => match buf.first() {
                    None => return Ok(ChunkPoll::NeedData),
                    Some(b'\r') => match buf.get(1) {
                        None => return Ok(ChunkPoll::NeedData),
                        Some(b'\n') => {
                            buf.advance(2);
                            *self = Chunked::Size;
                        }
                        Some(_) => return Err(bad("chunk data not followed by CRLF")),
                    },
                    Some(b'\n') => return Err(bad("bare LF in chunked framing")),
                    Some(_) => return Err(bad("chunk data not followed by CRLF")),
                },
                Chunked::Trailers { seen } => {
                    let limit = max_trailers.saturating_sub(*seen).max(2);
                    let too_long = peer(ErrorKind::HeadTooLarge, "trailer section too large");
                    let Some((line, len)) = crlf_line(buf, limit, too_long)? else {
                        return Ok(ChunkPoll::NeedData);
                    };
                    if line.is_empty() {
                        buf.advance(len);
                        *self = Chunked::Done;
                        return Ok(ChunkPoll::End);
                    }
                    if is_ows(line[0]) {
                        return Err(bad("obs-fold continuation line"));
                    }
                    field_line(line)?;
                    *seen += len;
                    buf.advance(len);
                }
                Chunked::Done => return Ok(ChunkPoll::End),
            }
        }
    }
}

impl Chunked {
    /// After a chunk's data ends at `buf[..n]`, joins the data of the complete chunks that follow
    /// onto it, moving each over the framing before it (`copy_within`), so that one `Data` event
    /// carries them all. Only framing that is valid and complete is consumed: anything else (an
    /// error, a size over `max_body`, a line not yet complete, a last chunk with trailers or
    /// without its blank line yet) stops the join and is left at the front of the buffer for the
    /// next [`Chunked::poll`], which then reports it exactly as without the join. The last chunk
    /// followed by the blank line (no trailers) is consumed too, and the decoder is then `Done`:
    /// the body is complete. Returns how many data bytes are now at the front of `buf`, and how
    /// many framing bytes follow them that were consumed.
    fn coalesce(
        &mut self,
        buf: &mut BytesMut,
        n: usize,
        declared: &mut u64,
        max_body: u64,
    ) -> (usize, usize) {
        let buf: &mut [u8] = buf;
        let (mut w, mut r) = (n, n);
        // What the body limit still allows: `declared` is within it (`poll` checked the size
        // line before this chunk's data), so it comes back as `max_body - room`.
        debug_assert!(*declared <= max_body);
        let mut room = max_body.saturating_sub(*declared);
        loop {
            let rest = &buf[r..];
            // `len`: the chunk's framing, from the CRLF that ends the data before it.
            let (size, len) = match rest.first_chunk::<20>().and_then(quick_frame) {
                Some(quick) => quick,
                // The usual end of a body, as the last bytes that arrived: the last chunk and
                // the blank line (no trailers), without the general path.
                None if rest.starts_with(b"\r\n0\r\n\r\n") => (0, 5),
                None => match frame(rest) {
                    Some(framed) => framed,
                    None => break,
                },
            };
            if size == 0 {
                // The last chunk with no trailers (its blank line already here): the body is
                // complete, and its end is reported by the next poll without decoding again.
                if rest[len..].starts_with(b"\r\n") {
                    r += len + 2;
                    *self = Chunked::Done;
                }
                break;
            }
            if size > room {
                break;
            }
            room -= size;
            r += len;
            let left = buf.len() - r;
            if size > left as u64 {
                // A chunk not all here yet: its start joins, the rest is read as data.
                buf.copy_within(r.., w);
                w += left;
                r += left;
                *self = Chunked::Data(size - left as u64);
                break;
            }
            let m = size as usize;
            buf.copy_within(r..r + m, w);
            w += m;
            r += m;
        }
        *declared = max_body - room;
        (w, r - w)
    }
}

/// The usual framing between two chunks' data, `CRLF 1*16HEXDIG CRLF`, from the 20 bytes that
/// hold the longest of it: the next chunk's size and the framing's length.
#[inline(always)]
fn quick_frame(f: &[u8; 20]) -> Option<(u64, usize)> {
    let (crlf, line) = f.split_at(2);
    if crlf != b"\r\n" {
        return None;
    }
    let (size, len) = quick_size(line)?;
    Some((size, 2 + len))
}

/// [`quick_frame`] for everything else (extensions, the end of what has arrived): `None` when
/// the framing is not valid and complete.
#[inline(never)]
fn frame(rest: &[u8]) -> Option<(u64, usize)> {
    let line = rest.strip_prefix(b"\r\n")?;
    let (size, len) = match quick_size(line) {
        Some(quick) => quick,
        None => {
            let Ok(Some((line, len))) = crlf_line(line, MAX_SIZE_LINE, bad("")) else {
                return None;
            };
            (size_line(line).ok()?, len)
        }
    };
    Some((size, 2 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8]) -> Result<Vec<u8>, Error> {
        let mut buf = BytesMut::from(input);
        let mut c = Chunked::Size;
        let mut out = Vec::new();
        loop {
            match c.poll(&mut buf, 1024, &mut 0, u64::MAX)? {
                ChunkPoll::Data { data, framing } => {
                    out.extend_from_slice(&buf[..data]);
                    buf.advance(data + framing);
                }
                ChunkPoll::End => return Ok(out),
                ChunkPoll::NeedData => return Err(bad("incomplete")),
            }
        }
    }

    #[test]
    fn decodes_with_extensions_and_trailers() {
        let body = decode(b"5;a=b\r\nhello\r\n1\r\n!\r\n0\r\nX: y\r\n\r\n").unwrap();
        assert_eq!(body, b"hello!");
    }

    /// Every poll result until the end, an error or a need for data.
    fn polls(input: &[u8], max_body: u64) -> (Vec<Vec<u8>>, Result<ChunkPoll, Error>) {
        let mut buf = BytesMut::from(input);
        let (mut c, mut declared, mut data) = (Chunked::Size, 0, Vec::new());
        loop {
            match c.poll(&mut buf, 1024, &mut declared, max_body) {
                Ok(ChunkPoll::Data { data: n, framing }) => {
                    data.push(buf[..n].to_vec());
                    buf.advance(n + framing);
                }
                other => return (data, other),
            }
        }
    }

    /// The first poll of `input`, which must be data: its (data, framing) and the state after.
    fn first_data(input: &[u8]) -> ((usize, usize), Chunked) {
        let mut buf = BytesMut::from(input);
        let mut c = Chunked::Size;
        match c.poll(&mut buf, 1024, &mut 0, u64::MAX) {
            Ok(ChunkPoll::Data { data, framing }) => ((data, framing), c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn complete_chunks_are_joined_and_what_stops_the_join_is_reported_after() {
        let (data, end) = polls(b"5\r\nhello\r\n1;x\r\n!\r\n3\r\nabc\r\n0\r\n\r\n", u64::MAX);
        assert_eq!(data, [b"hello!abc".to_vec()]);
        assert!(matches!(end, Ok(ChunkPoll::End)));
        // The last chunk and the blank line are read with the data: the decoder is done.
        assert_eq!(
            first_data(b"2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"),
            ((3, 12), Chunked::Done)
        );
        assert_eq!(
            first_data(b"2\r\nab\r\n0;x=y\r\n\r\n"),
            ((2, 11), Chunked::Done)
        );
        // With trailers, or without the blank line yet, it stops at the last chunk.
        for rest in [&b"0\r\nT: 1\r\n\r\n"[..], b"0\r\n", b"0\r\n\r", b"0;x\r\n"] {
            let input = [&b"2\r\nab\r\n"[..], rest].concat();
            assert_eq!(first_data(&input), ((2, 0), Chunked::DataEnd), "{rest:?}");
        }
        // A partial chunk joins what is there and stays in its data state.
        let (data, end) = polls(b"2\r\nab\r\n4\r\ncd", u64::MAX);
        assert_eq!(data, [b"abcd".to_vec()]);
        assert!(matches!(end, Ok(ChunkPoll::NeedData)));
        // Bad framing after good data: the data first, then the error.
        let (data, end) = polls(b"2\r\nab\r\n1\r\nc\r\nzz\r\n", u64::MAX);
        assert_eq!(data, [b"abc".to_vec()]);
        assert_eq!(end.unwrap_err().status(), Some(400));
        let (data, end) = polls(b"2\r\nab\r\n1\r\ncX", u64::MAX);
        assert_eq!(data, [b"abc".to_vec()]);
        assert_eq!(end.unwrap_err().status(), Some(400));
        // Over the body limit: the chunks under it, then 413.
        let (data, end) = polls(b"2\r\nab\r\n1\r\nc\r\n1\r\nd\r\n", 3);
        assert_eq!(data, [b"abc".to_vec()]);
        assert_eq!(end.unwrap_err().status(), Some(413));
    }

    /// Whatever the quick size check accepts, the general path accepts with the same size and
    /// length: every line of up to 18 bytes over a small alphabet.
    #[test]
    fn quick_size_agrees_with_the_general_path() {
        let alphabet = b"0aF9g\r\n; ";
        let mut accepted = 0;
        for len in 0..=18usize {
            for seed in 0..2000u64 {
                let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ len as u64;
                let v: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Mostly hex digits, so that long sizes occur.
                        if x % 4 != 0 {
                            b"0aF9"[(x >> 8) as usize % 4]
                        } else {
                            alphabet[(x >> 8) as usize % alphabet.len()]
                        }
                    })
                    .chain(*b"\r\n")
                    .collect();
                if let Some((size, n)) = quick_size(&v) {
                    let (line, m) = crlf_line(&v, MAX_SIZE_LINE, bad("")).unwrap().unwrap();
                    assert_eq!((size_line(line).unwrap(), m), (size, n), "{v:?}");
                    accepted += 1;
                }
            }
        }
        assert!(accepted > 1000, "{accepted}");
        assert_eq!(quick_size(b"ffffffffffffffff\r\n"), Some((u64::MAX, 18)));
        assert_eq!(quick_size(b"10000000000000000\r\n"), None);
        assert_eq!(quick_size(b"\r\n"), None);
    }

    /// Decodes `input` fed in pieces of `piece` bytes: the data, then what follows the body
    /// (`Ok`) or the error's status (`Err`; `Err(None)` when the input ends inside the body).
    fn fed(input: &[u8], piece: usize, max_body: u64) -> (Vec<u8>, Result<Vec<u8>, Option<u16>>) {
        let mut buf = BytesMut::new();
        let (mut c, mut declared, mut data) = (Chunked::Size, 0, Vec::new());
        let mut pieces = input.chunks(piece);
        loop {
            match c.poll(&mut buf, 64, &mut declared, max_body) {
                Ok(ChunkPoll::Data { data: n, framing }) => {
                    data.extend_from_slice(&buf[..n]);
                    buf.advance(n + framing);
                }
                Ok(ChunkPoll::End) => {
                    let mut rest = buf.to_vec();
                    rest.extend(pieces.flatten());
                    return (data, Ok(rest));
                }
                Ok(ChunkPoll::NeedData) => match pieces.next() {
                    Some(p) => buf.extend_from_slice(p),
                    None => return (data, Err(None)),
                },
                Err(e) => return (data, Err(e.status())),
            }
        }
    }

    /// The join (everything buffered at once) and byte-by-byte decoding agree on the data, the
    /// bytes after the body and every error, over chunked bodies built from pieces that take
    /// each path of the join: sizes of one to sixteen digits, extensions, the last chunk with
    /// and without trailers, bytes after the body, damaged framing, the body limit.
    #[test]
    fn the_join_agrees_with_decoding_byte_by_byte() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..3000 {
            let mut input = Vec::new();
            for _ in 0..next(6) {
                let size = [0, 1, 3, 16, 17, 255, 256][next(7) as usize] as usize;
                let size = size.max(1);
                match next(4) {
                    0 => input.extend_from_slice(format!("{size:x}").as_bytes()),
                    1 => input.extend_from_slice(format!("{size:016X}").as_bytes()),
                    2 => input.extend_from_slice(format!("{size:x};ext=\"v\"").as_bytes()),
                    _ => input.extend_from_slice(format!("{size:03x}").as_bytes()),
                }
                input.extend_from_slice(b"\r\n");
                input.extend((0..size).map(|i| b'a' + (i % 26) as u8));
                input.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(
                [
                    &b"0\r\n\r\n"[..],
                    b"0\r\n\r\nGET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
                    b"0;x\r\n\r\n",
                    b"0\r\nT: 1\r\n\r\n",
                    b"00\r\n\r\n",
                    b"0\r\n",
                ][next(6) as usize],
            );
            if next(4) == 0 {
                let at = next(input.len() as u64) as usize;
                input[at] = b"\r\n; x0"[next(6) as usize];
            }
            let max_body = [u64::MAX, 300, 1000][next(3) as usize];
            let whole = fed(&input, input.len(), max_body);
            for piece in [1, 7] {
                assert_eq!(fed(&input, piece, max_body), whole, "{piece}: {input:?}");
            }
        }
    }

    #[test]
    fn rejects_bad_sizes() {
        for bad_input in [
            &b"\r\n"[..],
            b"+5\r\nhello\r\n0\r\n\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"11111111111111111\r\n",
            b"5 x\r\n",
            b"5;a\x01\r\n",
            b"5\nhello\r\n",
            b"5\r\nhelloX",
        ] {
            let e = decode(bad_input).unwrap_err();
            assert_eq!(e.status(), Some(400), "{bad_input:?}: {e}");
        }
    }
}
