//! Reading an input file (or stdin) and writing an output file atomically (or to stdout).

use std::fs;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The name `-` stands for stdin or stdout.
pub const STDIO: &str = "-";

/// An input read whole, with the name errors should give it.
pub struct Input {
    pub bytes: Vec<u8>,
    pub name: String,
}

/// Reads `path`, or stdin for `-`. Reads at most `max` bytes plus one, so that an oversized
/// input is refused without holding all of it.
pub fn read_input(path: &str, max: usize) -> Result<Input> {
    let name = if path == STDIO {
        "<stdin>".to_owned()
    } else {
        path.to_owned()
    };
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut bytes = Vec::new();
    let read = if path == STDIO {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.with_context(|| name.clone())?;
    if bytes.len() > max {
        bail!("{name}: larger than the limit of {max} bytes");
    }
    Ok(Input { bytes, name })
}

/// Where output goes.
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    /// `None` or `-` is stdout.
    pub fn from_arg(arg: Option<&str>) -> Output {
        match arg {
            None | Some(STDIO) => Output::Stdout,
            Some(p) => Output::File(PathBuf::from(p)),
        }
    }

    /// True when the output is a terminal (binary output there is refused).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Output::Stdout) && std::io::stdout().is_terminal()
    }

    /// Writes `bytes`. A file is written to `OUT.tmp` and renamed over `OUT`, so a failure
    /// never leaves a half-written file behind.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                match out.write_all(bytes).and_then(|()| out.flush()) {
                    // The reader went away (`omadm inspect big.xml | head`): not our failure.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    other => other.context("<stdout>"),
                }
            }
            Output::File(path) => {
                write_atomic(path, bytes).with_context(|| path.display().to_string())
            }
        }
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_path(path);
    let result = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmp_name_is_beside_the_output() {
        assert_eq!(
            tmp_path(Path::new("dir/out.xml")),
            PathBuf::from("dir/out.xml.tmp")
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_tmp() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("omadm-io-test-{}.bin", std::process::id()));
        fs::write(&path, b"old").ok();
        assert!(write_atomic(&path, b"new").is_ok());
        assert_eq!(fs::read(&path).ok().as_deref(), Some(&b"new"[..]));
        assert!(!tmp_path(&path).exists());
        fs::remove_file(&path).ok();
    }

    #[test]
    fn failed_write_leaves_nothing() {
        let path = std::env::temp_dir()
            .join(format!("omadm-io-missing-{}", std::process::id()))
            .join("out.xml");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(!path.exists());
    }
}
