//! Replays every committed fuzz corpus file through the fuzz bodies, so that `cargo test` checks
//! the same invariants as the fuzzers on the seeds and on every crash input saved in the corpora.
//! (Core's dev-dependencies turn on the hidden `_fuzz` feature for tests.)
// Reading the corpus files is test-side I/O; core/src stays pure.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::Path;

use portline_core::fuzz;

/// A fuzz body: one input, panics on a broken invariant.
type Body = fn(&[u8]);

/// Corpus directory (under `fuzz/corpus/`) and the body its target runs.
const TARGETS: &[(&str, Body)] = &[
    ("http_server", fuzz::http::server),
    ("http_client", fuzz::http::client),
    ("http_pair", fuzz::http::pair),
    ("http_grammar", fuzz::http::grammars),
    ("http_httparse", fuzz::differential::httparse),
    ("http_smuggle", fuzz::smuggle::requests),
];

#[test]
fn every_http_corpus_file_passes_its_fuzz_body() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (target, body) in TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(files.len() >= 10, "{target}: only {} seeds", files.len());
        for path in files {
            let data = std::fs::read(&path).expect("corpus file");
            let result = std::panic::catch_unwind(|| body(&data));
            assert!(result.is_ok(), "{target}: {} failed", path.display());
        }
    }
}
