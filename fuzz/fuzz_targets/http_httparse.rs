#![no_main]
// The same bytes to a server connection and to httparse; heads must agree. Body: portline_core::fuzz::differential::httparse.
libfuzzer_sys::fuzz_target!(|data: &[u8]| portline_core::fuzz::differential::httparse(data));
