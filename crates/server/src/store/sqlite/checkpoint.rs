//! WAL checkpoints of a SQLite file, off the DM messages' path.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that crosses the threshold: the WAL
//! and the database file are synced to disk there, while the DM connection, and so every DM
//! message, waits (tens of milliseconds for a 16 MiB WAL on this disk). Here the DM connection
//! does not checkpoint; after every [`EVERY`] messages a thread of its own does, in two steps:
//! first alongside the writes (the long part: syncing, copying every page written since the
//! last one), again while the pages written meanwhile are many (a large fleet writes pages
//! that seldom repeat), then, holding the DM connection so that nothing is written meanwhile,
//! once more for the few pages left. The WAL is then wholly copied, and SQLite starts
//! it again from the top on the next write instead of letting it grow.
//!
//! SQLite syncs the database file only in the pass that copies the WAL's last frame, the one
//! that holds the DM connection: that sync wrote every page the passes before it had copied,
//! and meanwhile the next frames piled up for the locked pass to copy (at 100,000 devices some
//! 5,000 scattered pages, 1,000 to 2,500 frames: 30 ms per checkpoint, up to 50, of a stalled
//! server, 8% of the session phase; issue 7, docs/performance.md, tenth pass). The thread
//! syncs the file itself after every unlocked pass, so that each pass, the locked one
//! included, syncs only the pages it copied, and the passes go on until one copies few frames
//! (now 1 to 5 ms per locked pass). SQLite's own sync still comes after the last copy: what a
//! crash or a power loss may lose is unchanged.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Mutex;

use crate::store::StoreError;

/// Messages between checkpoints: at about five WAL frames each, some 90 MiB of WAL.
///
/// Every checkpoint's passes each sync the WAL and the database file, the last pass holding
/// the DM connection (1 to 5 ms at 100,000 devices, every message waiting), and copy every
/// page written since the last checkpoint, once however often it was written meanwhile: the
/// fewer the checkpoints, the less of all three. 4,000 instead of 400 gave 11% more
/// sessions/s at 1,000 devices and 12% more at 100,000 (issue 7, docs/performance.md); the
/// price is the WAL file's size on disk and the time to read it again after a crash (under a
/// second).
pub const EVERY: u64 = 4000;

/// The DM connection's side: counts messages and wakes the thread. Dropping it ends the thread.
pub(super) struct Checkpointer {
    messages: AtomicU64,
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`. `hold` is the lock the DM connection
    /// is used under.
    pub(super) fn start<T: Send + 'static>(
        path: &Path,
        hold: Arc<Mutex<T>>,
    ) -> Result<Checkpointer, StoreError> {
        let db = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(Duration::from_secs(1))?;
        // Only to sync it: fsync writes the file's pages whichever descriptor wrote them.
        let file = File::open(path).map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
        let (wake, woken) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("omadm-sqlite-checkpoint".into())
            .spawn(move || run(&db, &file, &woken, &hold))
            .map_err(|_| StoreError::WriterGone)?;
        Ok(Checkpointer {
            messages: AtomicU64::new(0),
            wake,
        })
    }

    /// `n` more messages committed.
    pub(super) fn committed(&self, n: u64) {
        let before = self.messages.fetch_add(n, Ordering::Relaxed);
        if (before + n) / EVERY > before / EVERY {
            // Full: a checkpoint is already due, this one joins it.
            let _ = self.wake.try_send(());
        }
    }
}

/// Unlocked passes at most, before the one that holds the DM connection.
const PASSES: usize = 8;
/// WAL frames written during a pass that are few enough to copy holding the DM connection.
const FEW_FRAMES: i64 = 256;

fn run<T>(db: &Connection, file: &File, woken: &Receiver<()>, hold: &Mutex<T>) {
    while woken.recv().is_ok() {
        if let Err(e) = passes(db, file, hold) {
            tracing::warn!("WAL checkpoint: {e}");
        }
    }
}

/// Passes alongside the writes while they leave many frames behind (each copies what was
/// written during the one before: fewer pages each time; the database file synced after
/// each), then one holding the DM connection.
fn passes<T>(db: &Connection, file: &File, hold: &Mutex<T>) -> rusqlite::Result<()> {
    let mut frames = checkpoint(db)?;
    sync(file);
    for _ in 1..PASSES {
        let now = checkpoint(db)?;
        sync(file);
        let written = now - frames;
        frames = now;
        if written < FEW_FRAMES {
            break;
        }
    }
    let _held = hold.blocking_lock();
    checkpoint(db).map(drop)
}

/// Writes the pages the passes copied to the database file to disk, as SQLite's own sync of
/// the file would; a failure only leaves them to that sync.
fn sync(file: &File) {
    if let Err(e) = file.sync_data() {
        tracing::warn!("WAL checkpoint: syncing the database file: {e}");
    }
}

/// One passive checkpoint (it waits for no reader and no writer); the WAL's frames when it ran.
fn checkpoint(db: &Connection) -> rusqlite::Result<i64> {
    db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// The pages a connection wrote to the WAL reach the database file once [`EVERY`] messages
    /// were counted, by the thread, without the writer checkpointing.
    #[test]
    fn every_so_many_messages_the_wal_is_copied_into_the_database() {
        // As the store does before its first connection: SQLite takes its page cache only
        // before it initialises, and other tests of this binary open stores meanwhile.
        omadm_sqlite_pcache::install();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cp.db");
        let db = Connection::open(&path).unwrap();
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
             CREATE TABLE t (v BLOB NOT NULL);",
        )
        .unwrap();
        for _ in 0..500 {
            db.execute("INSERT INTO t (v) VALUES (zeroblob(2000))", [])
                .unwrap();
        }
        let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size() < 100_000, "nothing copied yet: {}", size());

        let cp = Checkpointer::start(&path, Arc::new(Mutex::new(()))).unwrap();
        cp.committed(EVERY - 1);
        std::thread::sleep(Duration::from_millis(50));
        assert!(size() < 100_000, "not due yet");
        cp.committed(1);
        let started = Instant::now();
        while size() < 1_000_000 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(size() >= 1_000_000, "copied: {} bytes", size());
    }
}
