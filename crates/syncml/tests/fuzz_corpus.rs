//! Replays every file of `fuzz/corpus/<target>/` through the checks of that fuzz target, as an
//! ordinary test on stable, so CI runs the corpus (seeds and crash regressions) without
//! cargo-fuzz or nightly. The checks are the fuzz crate's own, included from its source: a
//! decode error is fine, a panic (failed round trip, broken invariant) is a failure.

#[allow(dead_code)]
#[path = "../../../fuzz/src/lib.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn check_of(target: &str) -> fn(&[u8]) {
    match target {
        "wbxml_reader" => targets::wbxml_reader,
        "syncml_wbxml" => targets::syncml_wbxml,
        "syncml_xml" => targets::syncml_xml,
        t => panic!("no fuzz target {t}"),
    }
}

/// Runs the target's check on each file, catching panics: "path: panic message" per failure.
fn failures(target: &str, files: &[PathBuf]) -> Vec<String> {
    let check = check_of(target);
    files
        .iter()
        .filter_map(|p| {
            let data = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let panic = std::panic::catch_unwind(|| check(&data)).err()?;
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Some(format!("{}: {why}", p.display()))
        })
        .collect()
}

fn replay(target: &str) {
    // Crash regressions (fuzz/corpus/*/crash_*) replay with the rest and must pass.
    let files: Vec<PathBuf> = corpus(target);
    assert!(!files.is_empty(), "fuzz/corpus/{target} is empty");
    let failed = failures(target, &files);
    assert!(
        failed.is_empty(),
        "{target}: {} of {} corpus files fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n\n")
    );
}

#[test]
fn wbxml_reader_corpus() {
    replay("wbxml_reader");
}

#[test]
fn syncml_wbxml_corpus() {
    replay("syncml_wbxml");
}

#[test]
fn syncml_xml_corpus() {
    replay("syncml_xml");
}
