#![no_main]

// The checks live in src/hmac_header.rs, outside the crate's lib (see that file).
#[path = "../src/hmac_header.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
