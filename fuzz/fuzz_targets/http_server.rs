#![no_main]
// Bytes a client sent, read by a server connection. Body: portline_core::fuzz::http::server.
libfuzzer_sys::fuzz_target!(|data: &[u8]| portline_core::fuzz::http::server(data));
