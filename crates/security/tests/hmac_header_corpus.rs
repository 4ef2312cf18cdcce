//! Replays fuzz/corpus/hmac_header on stable with the fuzz target's own checks, included from
//! the fuzz crate's source.

#[path = "../../../fuzz/src/hmac_header.rs"]
mod checks;

#[test]
fn hmac_header_corpus() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/hmac_header");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("corpus dir") {
        let p = e.expect("entry").path();
        checks::check(&std::fs::read(&p).expect("read"));
        n += 1;
    }
    assert!(n > 0, "empty corpus");
}
