//! `--compressed`: undo the response's `Content-Encoding` as the body streams in.
//!
//! The codings are curl's: `gzip` (and its alias `x-gzip`), `deflate` (the zlib format of
//! RFC 9110 §8.4.1.2; like curl, a raw deflate stream without the zlib header, which some
//! servers send, is accepted too), `br`, and `identity`. A field may list several (`gzip, br`: gzip applied
//! first), undone in reverse order; like curl, at most [`MAX_LAYERS`] of them. Each layer decodes
//! into a buffer of its own that is drained after every input chunk, so a decode error is told
//! apart from a failure to write the output, and memory stays bounded by one chunk's expansion.

use std::io::{self, Write};

/// The most codings stacked in one response (curl's `MAX_ENCODE_STACK` is 5).
pub const MAX_LAYERS: usize = 5;

/// The `Accept-Encoding` value sent with `--compressed`.
pub const ACCEPT_ENCODING: &str = "br, gzip, deflate";

/// The brotli decoder's internal buffer.
const BROTLI_BUFFER: usize = 16 * 1024;

enum Layer {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    /// `deflate` before its first two bytes tell zlib from raw deflate.
    DeflateStart(Vec<u8>),
    Deflate(flate2::write::ZlibDecoder<Vec<u8>>),
    RawDeflate(flate2::write::DeflateDecoder<Vec<u8>>),
    Brotli(Box<brotli::DecompressorWriter<Vec<u8>>>),
}

impl Layer {
    fn new(coding: &str) -> Option<Layer> {
        Some(match coding {
            "gzip" | "x-gzip" => Layer::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            "deflate" => Layer::DeflateStart(Vec::new()),
            "br" => Layer::Brotli(Box::new(brotli::DecompressorWriter::new(
                Vec::new(),
                BROTLI_BUFFER,
            ))),
            _ => return None,
        })
    }

    fn write(&mut self, input: &[u8]) -> io::Result<()> {
        match self {
            Layer::Gzip(d) => d.write_all(input),
            Layer::DeflateStart(start) => {
                start.extend_from_slice(input);
                if start.len() >= 2 {
                    self.start_deflate()?;
                }
                Ok(())
            }
            Layer::Deflate(d) => d.write_all(input),
            Layer::RawDeflate(d) => d.write_all(input),
            Layer::Brotli(d) => d.write_all(input),
        }
    }

    /// Pick zlib or raw deflate from the first bytes (RFC 1950 §2.2: method 8, a window of at
    /// most 32 KiB, and a header that is a multiple of 31), and feed it what came so far.
    fn start_deflate(&mut self) -> io::Result<()> {
        let Layer::DeflateStart(start) = self else {
            return Ok(());
        };
        let start = std::mem::take(start);
        let zlib = start.len() >= 2
            && start[0] & 0x0f == 8
            && start[0] >> 4 <= 7
            && (u16::from(start[0]) << 8 | u16::from(start[1])) % 31 == 0;
        *self = if zlib {
            Layer::Deflate(flate2::write::ZlibDecoder::new(Vec::new()))
        } else {
            Layer::RawDeflate(flate2::write::DeflateDecoder::new(Vec::new()))
        };
        self.write(&start)
    }

    /// End of input: a stream cut short is an error.
    fn finish(&mut self) -> io::Result<()> {
        self.start_deflate()?;
        match self {
            Layer::Gzip(d) => d.try_finish(),
            Layer::DeflateStart(_) => Ok(()),
            Layer::Deflate(d) => d.try_finish(),
            Layer::RawDeflate(d) => d.try_finish(),
            Layer::Brotli(d) => d.close(),
        }
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(match self {
            Layer::Gzip(d) => d.get_mut(),
            Layer::DeflateStart(_) => return Vec::new(),
            Layer::Deflate(d) => d.get_mut(),
            Layer::RawDeflate(d) => d.get_mut(),
            Layer::Brotli(d) => d.get_mut(),
        })
    }
}

/// Why decoding stopped.
#[derive(Debug)]
pub enum DecodeError {
    /// The body is not valid in its coding (exit 15).
    Corrupt(String),
    /// Writing the decoded bytes failed (exit 14).
    Write(io::Error),
}

/// The decoders for one response, in decoding order.
pub struct Decoder {
    layers: Vec<Layer>,
    names: String,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("codings", &self.names)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// The decoder for a `Content-Encoding` value: `Ok(None)` when there is nothing to undo,
    /// an error naming a coding it does not know.
    pub fn for_content_encoding(value: &[u8]) -> Result<Option<Decoder>, String> {
        let text = String::from_utf8_lossy(value).to_ascii_lowercase();
        let codings: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "identity")
            .collect();
        if codings.is_empty() {
            return Ok(None);
        }
        if codings.len() > MAX_LAYERS {
            return Err(format!(
                "more than {MAX_LAYERS} content codings stacked: {text}"
            ));
        }
        let mut layers = Vec::with_capacity(codings.len());
        for coding in codings.iter().rev() {
            layers.push(Layer::new(coding).ok_or_else(|| {
                format!("unknown content coding `{coding}` (known: gzip, deflate, br)")
            })?);
        }
        Ok(Some(Decoder {
            layers,
            names: codings.join(", "),
        }))
    }

    /// Decode `input` and hand every decoded byte to `out`.
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), DecodeError> {
        self.pass(Some(input), out)
    }

    /// The body has ended: flush the decoders; a coding left unfinished is an error.
    pub fn finish(
        &mut self,
        out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), DecodeError> {
        self.pass(None, out)
    }

    fn pass(
        &mut self,
        input: Option<&[u8]>,
        out: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), DecodeError> {
        let names = &self.names;
        let corrupt = |e: io::Error| DecodeError::Corrupt(format!("{names}: {e}"));
        let mut carry: Vec<u8> = input.map(<[u8]>::to_vec).unwrap_or_default();
        for layer in &mut self.layers {
            if !carry.is_empty() {
                layer.write(&carry).map_err(corrupt)?;
            }
            if input.is_none() {
                layer.finish().map_err(corrupt)?;
            }
            carry = layer.take();
        }
        if carry.is_empty() {
            return Ok(());
        }
        out(&carry).map_err(DecodeError::Write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(data).unwrap();
        }
        out
    }

    /// Decode `body` whole and in 7-byte pieces; both must agree.
    fn decode(coding: &str, body: &[u8]) -> Result<Vec<u8>, String> {
        let mut results = Vec::new();
        for piece in [body.len().max(1), 7] {
            let mut d = Decoder::for_content_encoding(coding.as_bytes())?.expect("a decoder");
            let mut out = Vec::new();
            let mut sink = |b: &[u8]| {
                out.extend_from_slice(b);
                Ok(())
            };
            let mut r = Ok(());
            for chunk in body.chunks(piece) {
                r = d.decode(chunk, &mut sink);
                if r.is_err() {
                    break;
                }
            }
            if r.is_ok() {
                r = d.finish(&mut sink);
            }
            results.push(r.map(|()| out).map_err(|e| format!("{e:?}")));
        }
        assert_eq!(
            results[0].is_ok(),
            results[1].is_ok(),
            "split input decodes alike"
        );
        results.swap_remove(0)
    }

    #[test]
    fn every_known_coding_round_trips() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 97) as u8).collect();
        assert_eq!(decode("gzip", &gzip(&data)).unwrap(), data);
        assert_eq!(decode("x-gzip", &gzip(&data)).unwrap(), data);
        assert_eq!(decode("deflate", &zlib(&data)).unwrap(), data);
        assert_eq!(decode("deflate", &raw_deflate(&data)).unwrap(), data);
        assert_eq!(decode("br", &brotli(&data)).unwrap(), data);
        // gzip first, then br: undone br first.
        assert_eq!(decode("gzip, br", &brotli(&gzip(&data))).unwrap(), data);
        assert_eq!(decode("Identity, GZIP", &gzip(&data)).unwrap(), data);
        for small in [&b"hi"[..], b"some bytes"] {
            assert_eq!(decode("gzip", &gzip(small)).unwrap(), small);
            assert_eq!(decode("deflate", &zlib(small)).unwrap(), small);
            assert_eq!(decode("deflate", &raw_deflate(small)).unwrap(), small);
            assert_eq!(decode("br", &brotli(small)).unwrap(), small);
        }
    }

    #[test]
    fn identity_or_nothing_needs_no_decoder() {
        assert!(
            Decoder::for_content_encoding(b"identity")
                .unwrap()
                .is_none()
        );
        assert!(Decoder::for_content_encoding(b"").unwrap().is_none());
    }

    #[test]
    fn corrupt_or_cut_bodies_are_decode_errors() {
        let data = b"hello hello hello hello hello".repeat(100);
        let gz = gzip(&data);
        for (coding, body) in [
            ("gzip", b"not gzip at all".to_vec()),
            ("gzip", gz[..gz.len() / 2].to_vec()),
            ("deflate", b"\x00\x01\x02garbage".to_vec()),
            ("br", brotli(&data)[..10].to_vec()),
            ("br", b"\xff\xff\xff\xff not brotli".to_vec()),
        ] {
            let r = decode(coding, &body);
            assert!(
                r.as_ref().is_err_and(|e| e.contains("Corrupt")),
                "{coding}: {r:?}"
            );
        }
    }

    #[test]
    fn unknown_or_too_many_codings_are_refused() {
        assert!(Decoder::for_content_encoding(b"zstd").is_err());
        assert!(Decoder::for_content_encoding(b"gzip, gzip, gzip, gzip, gzip, gzip").is_err());
    }

    #[test]
    fn an_output_failure_is_not_a_decode_error() {
        let mut d = Decoder::for_content_encoding(b"gzip").unwrap().unwrap();
        let mut broken = |_: &[u8]| Err(io::ErrorKind::BrokenPipe.into());
        let r = d
            .decode(&gzip(b"some bytes"), &mut broken)
            .and_then(|()| d.finish(&mut broken));
        assert!(matches!(r, Err(DecodeError::Write(_))), "{r:?}");
    }
}
