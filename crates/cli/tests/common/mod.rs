//! What every end-to-end test of the `omadm` binary needs: unique temp paths and running the
//! real binary.
#![allow(dead_code)] // each test file uses a different part

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A path under the temp dir no other test (or test run) uses.
pub fn temp(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("omadm-cli-{}-{n}-{name}", std::process::id()))
}

/// A temp file, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// A fresh path with nothing written to it.
    pub fn empty(name: &str) -> TempFile {
        TempFile(temp(name))
    }

    /// A fresh file holding `contents`.
    pub fn with(name: &str, contents: &[u8]) -> TempFile {
        let t = TempFile::empty(name);
        std::fs::write(&t.0, contents).unwrap_or_else(|e| panic!("{}: {e}", t.0.display()));
        t
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("temp paths are UTF-8")
    }

    pub fn read(&self) -> Vec<u8> {
        std::fs::read(&self.0).unwrap_or_else(|e| panic!("{}: {e}", self.0.display()))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// Runs the built `omadm` with `args`, feeding `stdin` when given.
pub fn omadm(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_omadm"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn omadm");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("wait for omadm")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
