#![no_main]
// The hand-written head parser and the nom parser (obs-fold path) agree on every response head.
libfuzzer_sys::fuzz_target!(|data: &[u8]| portline_core::fuzz::http::grammars(data));
