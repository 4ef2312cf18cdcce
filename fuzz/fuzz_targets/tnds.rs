#![no_main]

// The checks live in src/tnds.rs, outside the crate's lib (see that file).
#[path = "../src/tnds.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::tnds(data));
