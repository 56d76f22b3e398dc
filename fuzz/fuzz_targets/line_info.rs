#![no_main]
// The body lives in core (portline_core::fuzz::line), shared with the tests.
libfuzzer_sys::fuzz_target!(|data: &[u8]| portline_core::fuzz::line::info(data));
