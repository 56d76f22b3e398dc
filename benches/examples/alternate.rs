//! Times the contenders of `benches/src/http.rs` in one process, in turn, batch after batch, so
//! that whatever else the machine is doing falls on all of them alike. Criterion runs one
//! contender after the other, and `instructions` one per process; on a shared VM both let the
//! load of a few seconds decide a ratio. This gives, per contender, the fastest and the median
//! batch (nanoseconds per iteration) and each as a ratio to httparse's:
//!
//! ```text
//! cargo build --profile bench -p portline-benches --example alternate
//! target/release/examples/alternate SAMPLE [BATCH] [ROUNDS]
//! ```
//!
//! SAMPLE is one of the head samples or `chunked`; BATCH iterations per batch (default 5,000),
//! ROUNDS batches of each contender (default 400). For `chunked`, two more rows show what the
//! fresh connection's copies cost on their own, outside portline's code:
//! * `copy`: one exact allocation and the copy of the message, as a fresh connection's first
//!   `receive` makes (`BytesMut::from`), then the drop;
//! * `moves`: the 15 moves of 256 bytes that join the sample's chunks into one `Data` event
//!   (`copy_within` over each chunk's framing), on a buffer holding the message.

use std::hint::black_box;
use std::time::Instant;

use bytes::BytesMut;
use portline_benches::http::{self as h, SAMPLES};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number = |i: usize, default: usize| match args.get(i).map(|n| n.parse()) {
        None => default,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => usage(),
    };
    let (Some(sample), batch, rounds) = (args.get(1), number(2, 5_000), number(3, 400)) else {
        usage()
    };
    let mut sink = Vec::new();
    let rows: Vec<(&str, Vec<f64>)> = if sample == "chunked" {
        let msg = h::chunked_message();
        let mut scratch = msg.clone();
        run(
            batch,
            rounds,
            &mut [
                ("httparse", &mut || h::httparse_message(black_box(&msg))),
                ("portline", &mut || h::portline_message(black_box(&msg))),
                ("copy", &mut || {
                    let b = BytesMut::from(black_box(&msg[..]));
                    black_box(&b).len()
                }),
                ("moves", &mut || join_moves(black_box(&mut scratch))),
            ],
        )
    } else {
        let Some(s) = SAMPLES.iter().find(|s| s.name == sample) else {
            let names: Vec<_> = SAMPLES.iter().map(|s| s.name).collect();
            eprintln!(
                "unknown sample {sample}: one of {}, chunked",
                names.join(", ")
            );
            std::process::exit(64);
        };
        let mut conn = h::connection(s.role);
        let mut fresh_sink = Vec::new();
        run(
            batch,
            rounds,
            &mut [
                ("httparse", &mut || {
                    h::httparse_head(s.role, black_box(s.bytes))
                }),
                ("portline", &mut || {
                    h::portline_fresh(s.role, black_box(s.bytes), &mut fresh_sink)
                }),
                ("portline_keepalive", &mut || {
                    h::portline_keepalive(&mut conn, black_box(s.keepalive), &mut sink)
                }),
            ],
        )
    };
    let (h_min, h_med) = (rows[0].1[0], rows[0].1[rounds / 2]);
    println!("{sample} (batches of {batch}, {rounds} of each, ns per iteration)");
    for (name, t) in &rows {
        let (min, med) = (t[0], t[rounds / 2]);
        println!(
            "  {name:<20} min {min:8.1} ({:.2})   median {med:8.1} ({:.2})",
            min / h_min,
            med / h_med
        );
    }
}

fn usage() -> ! {
    eprintln!("usage: alternate SAMPLE [BATCH] [ROUNDS] (BATCH and ROUNDS above 0)");
    std::process::exit(64);
}

/// `rounds` batches of `batch` iterations of each contender, in turn; each contender's batch
/// times per iteration, sorted.
fn run<'a>(
    batch: usize,
    rounds: usize,
    contenders: &mut [(&'a str, &mut dyn FnMut() -> usize)],
) -> Vec<(&'a str, Vec<f64>)> {
    let mut times = vec![Vec::with_capacity(rounds); contenders.len()];
    let mut total = 0;
    for _ in 0..rounds {
        for ((_, f), t) in contenders.iter_mut().zip(&mut times) {
            let start = Instant::now();
            for _ in 0..batch {
                total += f();
            }
            t.push(start.elapsed().as_nanos() as f64 / batch as f64);
        }
    }
    black_box(total);
    let names = contenders.iter().map(|(n, _)| *n);
    names
        .zip(times)
        .map(|(n, mut t)| {
            t.sort_by(f64::total_cmp);
            (n, t)
        })
        .collect()
}

/// The moves of the chunk join on the sample ([`h::CHUNKS`] chunks of [`h::CHUNK`] bytes, each
/// after the CRLF that ends the data before it and its size line): each chunk after the first
/// moves back over all the framing before it.
fn join_moves(m: &mut [u8]) -> usize {
    let framing = 2 + h::CHUNK_SIZE_LINE.len();
    let first = h::CHUNKED_HEAD.len() + h::CHUNK_SIZE_LINE.len();
    let (mut w, mut r) = (first + h::CHUNK, first + h::CHUNK + framing);
    for _ in 1..h::CHUNKS {
        m.copy_within(r..r + h::CHUNK, w);
        w += h::CHUNK;
        r += h::CHUNK + framing;
    }
    w
}
