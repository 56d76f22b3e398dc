#![no_main]
// Bytes a server sent (chunked, read-until-close, ...), read by a client connection.
libfuzzer_sys::fuzz_target!(|data: &[u8]| portline_core::fuzz::http::client(data));
