#![no_main]

// The checks live in crates/syncml/tests/pkg0_corpus.rs, which also replays the corpus on stable.
#[path = "../../crates/syncml/tests/pkg0_corpus.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::pkg0(data));
