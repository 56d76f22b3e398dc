//! Line framing throughput: portline's `line::Codec` against tokio-util's `LinesCodec` (with a
//! max length, as a server must) and against a raw `memchr` scan of the same bytes (the ceiling:
//! finding the LFs and nothing else).
//!
//! Run: `cargo bench -p portline-benches --bench line -- --warm-up-time 1 --measurement-time 3`
//!
//! Each sample frames about 1 MiB of CRLF-terminated lines, fed in 64 KiB reads as a socket
//! loop would; every line is passed to `black_box` so no framer can skip work.
#![allow(missing_docs)] // criterion_main! generates an undocumented `main`

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portline_core::line::{Codec, Config, LineEvent, TelnetMode};
use tokio_util::codec::{Decoder, LinesCodec};

const READ: usize = 64 * 1024;
const MAX_LINE: usize = 8 * 1024;

/// About 1 MiB of printable lines whose lengths vary around `mean` (±25%), CRLF-terminated.
/// Deterministic (xorshift), so every run frames the same bytes.
fn sample(mean: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut out = Vec::with_capacity(1 << 20);
    while out.len() < 1 << 20 {
        let len = mean * 3 / 4 + (next() as usize) % (mean / 2 + 1);
        for _ in 0..len {
            out.push(b' ' + (next() % 95) as u8);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn portline_owned(data: &[u8]) -> usize {
    let mut codec = Codec::new(Config {
        max_line: MAX_LINE,
        telnet: TelnetMode::Off,
    });
    let mut n = 0;
    for read in data.chunks(READ) {
        codec.receive(read);
        while let Some(event) = codec.poll_event() {
            if let LineEvent::Line(line) = event {
                n += black_box(line).len();
            }
        }
    }
    n
}

/// Owned lines from reads that are already `Bytes` (a frontend reading into a `BytesMut` and
/// freezing it): lines are slices of the reads, not copies.
fn portline_bytes(reads: &[Bytes]) -> usize {
    let mut codec = Codec::new(Config {
        max_line: MAX_LINE,
        telnet: TelnetMode::Off,
    });
    let mut n = 0;
    for read in reads {
        codec.receive_bytes(read.clone());
        while let Some(event) = codec.poll_event() {
            if let LineEvent::Line(line) = event {
                n += black_box(line).len();
            }
        }
    }
    n
}

fn portline_borrowed(data: &[u8]) -> usize {
    let mut codec = Codec::new(Config {
        max_line: MAX_LINE,
        telnet: TelnetMode::Off,
    });
    let mut n = 0;
    for read in data.chunks(READ) {
        codec.receive(read);
        while let Some(event) = codec.poll_borrowed() {
            if let LineEvent::Line(line) = event {
                n += black_box(line).len();
            }
        }
    }
    n
}

fn portline_direct(data: &[u8]) -> usize {
    let mut codec = Codec::new(Config {
        max_line: MAX_LINE,
        telnet: TelnetMode::Off,
    });
    let mut n = 0;
    for read in data.chunks(READ) {
        codec.receive_with(read, |event| {
            if let LineEvent::Line(line) = event {
                n += black_box(line).len();
            }
        });
    }
    n
}

fn tokio_lines(data: &[u8]) -> usize {
    let mut codec = LinesCodec::new_with_max_length(MAX_LINE);
    let mut buf = BytesMut::new();
    let mut n = 0;
    for read in data.chunks(READ) {
        buf.extend_from_slice(read);
        while let Some(line) = codec.decode(&mut buf).expect("no line is over the limit") {
            n += black_box(line).len();
        }
    }
    n
}

/// The ceiling: find every LF and hand out the line between them, nothing else (no CR check,
/// no limit, no buffering across reads since the whole buffer is in memory).
fn raw_memchr(data: &[u8]) -> usize {
    let mut n = 0;
    let mut start = 0;
    for lf in memchr::memchr_iter(b'\n', data) {
        n += black_box(&data[start..lf]).len();
        start = lf + 1;
    }
    n
}

fn framing(c: &mut Criterion) {
    for (name, mean) in [("short_40B", 40), ("long_1KiB", 1024)] {
        let data = sample(mean);
        // Every framer sees the same lines (LinesCodec and portline strip the CR; the raw scan
        // keeps it, one byte per line).
        let lines = memchr::memchr_iter(b'\n', &data).count();
        // The same reads as `Bytes`, made once outside the measurement (a frontend gets them
        // from its read buffer for free).
        let reads: Vec<Bytes> = data.chunks(READ).map(Bytes::copy_from_slice).collect();
        assert_eq!(portline_bytes(&reads), tokio_lines(&data));
        assert_eq!(portline_owned(&data), tokio_lines(&data));
        assert_eq!(portline_borrowed(&data), tokio_lines(&data));
        assert_eq!(portline_direct(&data), tokio_lines(&data));
        assert_eq!(raw_memchr(&data), tokio_lines(&data) + lines);

        let mut group = c.benchmark_group(format!("line_framing/{name}"));
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function("portline_codec", |b| {
            b.iter(|| portline_owned(black_box(&data)))
        });
        group.bench_function("portline_codec_receive_bytes", |b| {
            b.iter(|| portline_bytes(black_box(&reads)))
        });
        group.bench_function("portline_codec_borrowed", |b| {
            b.iter(|| portline_borrowed(black_box(&data)))
        });
        group.bench_function("portline_codec_receive_with", |b| {
            b.iter(|| portline_direct(black_box(&data)))
        });
        group.bench_function("tokio_util_lines_codec", |b| {
            b.iter(|| tokio_lines(black_box(&data)))
        });
        group.bench_function("raw_memchr", |b| b.iter(|| raw_memchr(black_box(&data))));
        group.finish();
    }
}

criterion_group!(benches, framing);
criterion_main!(benches);
