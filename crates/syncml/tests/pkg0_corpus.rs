//! The checks of the `pkg0` fuzz target (included by `fuzz/fuzz_targets/pkg0.rs`), and, as a test on
//! stable, their replay over every file of `fuzz/corpus/pkg0/`. A decode error is fine; a panic
//! (failed round trip) is a failure.

use omadm_syncml::pkg0::{Notification12, Notification13};
use omadm_syncml::push::{decode_wdp_udh, WspPush};

/// Package #0 and WAP push parsers never panic; what decodes re-encodes and decodes the same.
pub fn pkg0(data: &[u8]) {
    if let Ok(n) = Notification12::decode(data) {
        let bytes = n.encode().expect("a decoded 1.2 notification encodes");
        assert_eq!(bytes, data, "1.2 re-encoding is exact");
    }
    let _ = Notification12::split(data);
    if let Ok(n) = Notification13::decode(data) {
        let bytes = n.encode().expect("a decoded 1.3 notification encodes");
        let again = Notification13::decode(&bytes).expect("re-encoded 1.3 decodes");
        assert_eq!(again, n);
        let (trigger, _) = Notification13::split(&bytes).expect("re-encoded 1.3 splits");
        assert_eq!(trigger, n.trigger_bytes().expect("trigger").as_slice());
    }
    let _ = Notification13::split(data);
    if let Ok(p) = WspPush::decode(data) {
        if let Ok(bytes) = p.encode() {
            assert_eq!(WspPush::decode(&bytes).expect("re-encoded push decodes"), p);
        }
    }
    if let Ok((_, at)) = decode_wdp_udh(data) {
        assert!(at <= data.len());
    }
}

#[cfg(test)]
#[test]
fn pkg0_corpus_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/pkg0");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let path = entry.expect("corpus entry").path();
        if path.is_file() {
            pkg0(&std::fs::read(&path).expect("corpus file"));
            n += 1;
        }
    }
    assert!(n >= 5, "corpus has {n} files");
}
