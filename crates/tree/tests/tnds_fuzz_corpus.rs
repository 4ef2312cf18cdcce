//! Replays every file of `fuzz/corpus/tnds/` through the checks of the `tnds` fuzz target, as an
//! ordinary test on stable, so CI runs the corpus (seeds and crash regressions) without
//! cargo-fuzz or nightly. The checks are the fuzz crate's own, included from its source
//! (`fuzz/src/tnds.rs`): a decode error is fine, a panic (failed round trip) is a failure.
//! Some seeds must also decode, so that the corpus keeps exercising the round trips.

#[path = "../../../fuzz/src/tnds.rs"]
mod check;

use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/tnds");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn tnds_corpus() {
    let files = corpus();
    assert!(!files.is_empty(), "fuzz/corpus/tnds is empty");
    let mut decoded = 0;
    let failed: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let data = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let limits = omadm_tree::tnds::TndsLimits::default();
            if omadm_tree::tnds::decode(&data, &limits).is_ok() {
                decoded += 1;
            }
            let panic = std::panic::catch_unwind(|| check::tnds(&data)).err()?;
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Some(format!("{}: {why}", p.display()))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "tnds: {} of {} corpus files fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n\n")
    );
    assert!(decoded >= 8, "only {decoded} corpus files decode");
}
