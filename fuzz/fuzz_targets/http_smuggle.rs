#![no_main]
// Requests built from a grammar of smuggling-prone forms; framing must not depend on split or field order. Body: portline_core::fuzz::smuggle::requests.
libfuzzer_sys::fuzz_target!(|data: &[u8]| portline_core::fuzz::smuggle::requests(data));
