//! The line fuzz bodies run on their committed seed corpora and on random inputs, so that a
//! plain `cargo test --features _fuzz` exercises the same invariants as `cargo fuzz`.
#![cfg(feature = "_fuzz")]
// Reading the corpus files is test-side I/O; core/src stays pure.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::Path;

use portline_core::fuzz::line;
use proptest::prelude::*;

/// Every file of `fuzz/corpus/<target>`; fails if the directory is missing or empty.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_file() {
            files.push(std::fs::read(&path).expect("corpus file"));
        }
    }
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn seed_corpora() {
    for input in corpus("line_codec") {
        line::codec(&input);
    }
    for input in corpus("line_telnet") {
        line::telnet(&input);
    }
    for input in corpus("line_info") {
        line::info(&input);
    }
}

/// Bytes biased towards the interesting ones: LF, CR, NUL, IAC and the telnet commands.
fn interesting() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => any::<u8>(),
        2 => Just(b'\n'),
        2 => Just(b'\r'),
        1 => Just(0u8),
        2 => Just(0xffu8),
        2 => 0xf0u8..=0xfe,
        2 => b'a'..=b'z',
        1 => Just(b' '),
    ];
    proptest::collection::vec(byte, 0..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn codec_body(max_line in 0u8..40, mode in any::<u8>(), seed in any::<u8>(), stream in interesting()) {
        let mut input = vec![max_line, mode, seed];
        input.extend_from_slice(&stream);
        line::codec(&input);
    }

    #[test]
    fn telnet_body(seed in any::<u8>(), stream in interesting()) {
        let mut input = vec![seed];
        input.extend_from_slice(&stream);
        line::telnet(&input);
    }

    #[test]
    fn info_body(max_line in 0u8..80, seed in any::<u8>(), budget in any::<u8>(), stream in interesting()) {
        let mut input = vec![max_line, seed, budget];
        input.extend_from_slice(&stream);
        line::info(&input);
    }
}
