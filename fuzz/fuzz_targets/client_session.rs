#![no_main]

// The checks live in crates/client/tests/session_fuzz_corpus.rs, which also replays the corpus
// on stable.
#[path = "../../crates/client/tests/session_fuzz_corpus.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::client_session(data));
