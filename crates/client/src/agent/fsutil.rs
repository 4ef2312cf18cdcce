//! Atomic file replacement and advisory locks.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::AgentError;

/// Replaces `path` with `bytes` so that a crash leaves the old content or the new, never a mix:
/// writes `<path>.tmp.<pid>.<n>`, fsyncs it, renames it over `path`, then fsyncs the directory
/// (skipped where a directory cannot be synced; the rename is still atomic).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AgentError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}.{n}", std::process::id()));
    let tmp = path.with_file_name(name);
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(AgentError::io(&tmp, e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(AgentError::io(path, e));
    }
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// An exclusive advisory lock (`flock`) on a lock file, released when dropped. Locks taken through
/// two different opens conflict even inside one process, so this serialises threads too.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

/// How often a busy lock is retried.
const POLL: Duration = Duration::from_millis(20);

impl FileLock {
    /// Takes the lock on `path` (created when absent), waiting at most `wait`.
    pub(crate) fn acquire(path: &Path, wait: Duration) -> Result<FileLock, AgentError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| AgentError::io(path, e))?;
        let start = Instant::now();
        loop {
            // Trait syntax: fs4's flock, not std's `File::try_lock` (newer than our MSRV).
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(fs4::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(POLL)
                }
                Err(fs4::TryLockError::WouldBlock) => {
                    return Err(AgentError::Locked {
                        path: PathBuf::from(path),
                        waited_secs: wait.as_secs(),
                    })
                }
                Err(fs4::TryLockError::Error(e)) => return Err(AgentError::io(path, e)),
            }
        }
    }
}

/// Reads `path`, `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, AgentError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AgentError::io(path, e)),
    }
}
