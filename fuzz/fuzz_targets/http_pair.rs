#![no_main]
// Random operation sequences on a client core and a server core connected in memory.
libfuzzer_sys::fuzz_target!(|data: &[u8]| portline_core::fuzz::http::pair(data));
