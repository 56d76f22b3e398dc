//! [`portline_keepalive_fields`](portline_benches::http::portline_keepalive_fields) a given
//! number of times, for `valgrind --tool=callgrind`: a kept-alive server connection reads the
//! short request and answers it as the file server does (six fields and a length), so that
//! `send_response` has a real answer's fields to check and copy. A binary of its own, so that
//! `instructions.rs` stays as it was: in one binary with it, LTO no longer specialised that
//! example's `send_response` for the bare `200 OK`, and every count there moved.
//!
//! Usage: `instructions_answer SAMPLE ITERATIONS`, SAMPLE one of the request samples
//! (`benches/instructions.sh` runs it on `request_68_short`).

use std::hint::black_box;

use portline_benches::http::{self as h, SAMPLES};
use portline_core::http::Role;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, sample, n] = &args[..] else {
        eprintln!("usage: instructions_answer SAMPLE ITERATIONS");
        std::process::exit(64);
    };
    let n: usize = n.parse().expect("ITERATIONS is a number");
    let s = SAMPLES
        .iter()
        .find(|s| s.name == sample && s.role == Role::Server)
        .unwrap_or_else(|| panic!("unknown request sample {sample}"));
    let mut conn = h::connection(Role::Server);
    let mut sink = Vec::new();
    let mut total = 0usize;
    for _ in 0..n {
        total += h::portline_keepalive_fields(&mut conn, black_box(s.keepalive), &mut sink);
    }
    println!("{total}");
}
