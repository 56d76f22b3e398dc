//! HTTP head parsing: portline-core's connection against httparse, in the same criterion groups,
//! on the samples picohttpparser, httparse and llhttp benchmark. Run with
//!
//! ```text
//! cargo bench -p portline-benches --bench http -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! The samples and contenders live in `benches/src/http.rs` (the instruction counter in
//! `benches/examples/instructions.rs` runs the same functions). What is timed for portline is
//! the whole path a frontend takes: `receive` (the bytes are copied into the connection's
//! buffer), then polling until the head event is out, then dropping the event:
//! * `portline`: a fresh connection per head, created and dropped inside the timed loop (its
//!   buffer and span storage are allocated and freed every time), borrowed events;
//! * `portline_keepalive`: one kept-alive connection handles a whole exchange per iteration
//!   (the head, its end, and for a server writing the `200 OK` that lets the next request in;
//!   for a client writing the request first), borrowed events (`poll_borrowed`): the steady
//!   state of a busy server. The 68-byte request is HTTP/1.0 without keep-alive, so this
//!   contender reads its HTTP/1.1 form (same length);
//! * `portline_keepalive_owned`: the same with owned `Bytes` events (`poll_event`).
//!
//! httparse parses the same bytes in place into a stack array of 16 headers.
//!
//! `trickle_720_kitty/{1,16}`: the 720-byte request arriving 1 or 16 bytes at a time; portline
//! parses each piece once as it arrives, httparse (as its callers use it) parses the growing
//! buffer again after each piece.
//!
//! Results and ratios: `benches/RESULTS.md`.
#![allow(missing_docs)] // criterion_main! generates an undocumented `main`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portline_benches::http::{self as h, KITTY, SAMPLES};
use portline_core::http::Role;

fn heads(c: &mut Criterion) {
    for s in &SAMPLES {
        let mut g = c.benchmark_group(s.name);
        g.throughput(Throughput::Bytes(s.bytes.len() as u64));
        g.bench_function("httparse", |b| {
            b.iter(|| h::httparse_head(s.role, black_box(s.bytes)))
        });
        let mut sink = Vec::new();
        g.bench_function("portline", |b| {
            b.iter(|| h::portline_fresh(s.role, black_box(s.bytes), &mut sink))
        });
        let mut conn = h::connection(s.role);
        g.bench_function("portline_keepalive", |b| {
            b.iter(|| h::portline_keepalive(&mut conn, black_box(s.keepalive), &mut sink))
        });
        let mut conn = h::connection(s.role);
        g.bench_function("portline_keepalive_owned", |b| {
            b.iter(|| h::portline_keepalive_owned(&mut conn, black_box(s.keepalive), &mut sink))
        });
        g.finish();
    }
}

/// The kept-alive short request answered with the file server's six fields and a length
/// (`portline_keepalive_fields`): `send_response` with a real answer's fields.
fn answer(c: &mut Criterion) {
    let mut g = c.benchmark_group("answer_6_fields");
    let mut conn = h::connection(Role::Server);
    let mut sink = Vec::new();
    g.bench_function("portline_keepalive", |b| {
        b.iter(|| h::portline_keepalive_fields(&mut conn, black_box(h::SHORT_11), &mut sink))
    });
    g.finish();
}

fn trickle(c: &mut Criterion) {
    for piece in [1, 16] {
        let mut g = c.benchmark_group(format!("trickle_720_kitty/{piece}"));
        g.throughput(Throughput::Bytes(KITTY.len() as u64));
        let mut buf = Vec::new();
        g.bench_function("httparse", |b| {
            b.iter(|| h::httparse_trickle(&mut buf, black_box(KITTY), piece))
        });
        let mut conn = h::connection(Role::Server);
        let mut sink = Vec::new();
        g.bench_function("portline_keepalive", |b| {
            b.iter(|| h::portline_trickle(&mut conn, black_box(KITTY), piece, &mut sink))
        });
        g.finish();
    }
}

fn messages(c: &mut Criterion) {
    let msg = h::chunked_message();
    let mut g = c.benchmark_group("message_chunked_4k");
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("httparse", |b| {
        b.iter(|| h::httparse_message(black_box(&msg)))
    });
    g.bench_function("portline", |b| {
        b.iter(|| h::portline_message(black_box(&msg)))
    });
    g.finish();
}

criterion_group!(benches, heads, answer, trickle, messages);
criterion_main!(benches);
