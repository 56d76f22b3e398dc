//! Runs one contender of `benches/src/http.rs` a given number of times, for
//! `valgrind --tool=callgrind` (instruction counts are steadier than times on a shared machine).
//! The count per iteration is the difference between two runs divided by the difference of
//! their iteration counts, which cancels start-up and set-up:
//!
//! ```text
//! cargo build --profile bench -p portline-benches --example instructions
//! bash benches/instructions.sh        # every sample and contender, both counts, the table
//! ```
//!
//! Usage: `instructions SAMPLE CONTENDER ITERATIONS`, with SAMPLE one of the head samples,
//! `trickle1`, `trickle16` or `chunked`, and CONTENDER `httparse`, `portline`,
//! `portline_keepalive` or `portline_keepalive_owned`.

use std::hint::black_box;

use portline_benches::http::{self as h, KITTY, SAMPLES};
use portline_core::http::Role;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, sample, contender, n] = &args[..] else {
        eprintln!("usage: instructions SAMPLE CONTENDER ITERATIONS");
        std::process::exit(64);
    };
    let n: usize = n.parse().expect("ITERATIONS is a number");
    let mut sink = Vec::new();
    let mut total = 0usize;
    // The contender is chosen once, before its loop: a `match` on its name inside the loop
    // compared the name at every iteration, and counted that into every contender, unequally
    // (19 instructions per iteration for `portline_keepalive`, 7 for `httparse`).
    match (sample.as_str(), contender.as_str()) {
        ("chunked", c) => {
            let msg = h::chunked_message();
            total += match c {
                "httparse" => times(n, || h::httparse_message(black_box(&msg))),
                "portline" => times(n, || h::portline_message(black_box(&msg))),
                _ => panic!("unknown contender {c}"),
            };
        }
        (t @ ("trickle1" | "trickle16"), c) => {
            let piece = if t == "trickle1" { 1 } else { 16 };
            let mut conn = h::connection(Role::Server);
            let mut buf = Vec::new();
            total += match c {
                "httparse" => times(n, || h::httparse_trickle(&mut buf, black_box(KITTY), piece)),
                "portline_keepalive" => times(n, || {
                    h::portline_trickle(&mut conn, black_box(KITTY), piece, &mut sink)
                }),
                _ => panic!("unknown contender {c}"),
            };
        }
        (name, c) => {
            let s = SAMPLES
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("unknown sample {name}"));
            let mut conn = h::connection(s.role);
            total += match c {
                "httparse" => times(n, || h::httparse_head(s.role, black_box(s.bytes))),
                "portline" => times(n, || {
                    h::portline_fresh(s.role, black_box(s.bytes), &mut sink)
                }),
                "portline_keepalive" => times(n, || {
                    h::portline_keepalive(&mut conn, black_box(s.keepalive), &mut sink)
                }),
                "portline_keepalive_owned" => times(n, || {
                    h::portline_keepalive_owned(&mut conn, black_box(s.keepalive), &mut sink)
                }),
                _ => panic!("unknown contender {c}"),
            };
        }
    }
    println!("{total}");
}

/// The sum of `n` runs of `f` (generic, so that each contender is inlined into its own loop).
fn times(n: usize, mut f: impl FnMut() -> usize) -> usize {
    (0..n).map(|_| f()).sum()
}
