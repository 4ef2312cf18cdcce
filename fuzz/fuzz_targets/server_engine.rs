#![no_main]

// The checks live in crates/server/tests/engine_fuzz_corpus.rs, which also replays the corpus
// on stable.
#[path = "../../crates/server/tests/engine_fuzz_corpus.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::server_engine(data));
