use rusqlite::Connection;

use super::*;

/// The layer's counters (`stats`) are the process's: a test that reads them would count the
/// writes of the tests running beside it. Each test holds this for its whole run.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn connect(path: &std::path::Path) -> Connection {
    assert_eq!(install(), Installed::Yes);
    let c = Connection::open(path).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .unwrap();
    c
}

/// Inserts rows `keys` with value `v`.
fn insert(c: &Connection, keys: std::ops::Range<i64>, v: &[u8]) {
    for k in keys {
        c.execute(
            "INSERT INTO t (k, v) VALUES (?1, ?2)",
            rusqlite::params![k, v],
        )
        .unwrap();
    }
}

/// One integer that `sql` selects.
fn int(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |row| row.get(0)).unwrap()
}

/// `PRAGMA integrity_check` finds nothing wrong.
fn assert_intact(c: &Connection) {
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// The WAL's frames on disk, as another process would read them: (page, commit) of each frame
/// of the current generation (salts of the header).
fn frames_on_disk(wal: &std::path::Path) -> Vec<(u32, bool)> {
    let data = std::fs::read(wal).unwrap();
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let page = be(&data[8..12]) as usize;
    let salts = &data[16..24];
    let mut out = Vec::new();
    let mut off = 32;
    while off + FRAME_HEADER + page <= data.len() {
        let h = &data[off..off + FRAME_HEADER];
        if &h[8..16] != salts {
            break;
        }
        out.push((be(&h[0..4]), be(&h[4..8]) != 0));
        off += FRAME_HEADER + page;
    }
    out
}

#[test]
fn a_commit_is_in_the_file_when_it_returns_and_other_connections_see_it() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let w = connect(&path);
    w.execute_batch(
        "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);",
    )
    .unwrap();
    let r = Connection::open(&path).unwrap();
    let before = stats();
    for i in 0..50 {
        let tx = w.unchecked_transaction().unwrap();
        // Enough rows to change several pages per commit.
        for j in 0..40 {
            tx.execute(
                "INSERT INTO t (k, v) VALUES (?1, ?2)",
                rusqlite::params![i * 1000 + j, "x".repeat(200)],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        // On disk now: the last frame of the WAL is a commit frame.
        let frames = frames_on_disk(&dir.path().join("t.db-wal"));
        assert!(frames.last().is_some_and(|f| f.1), "commit {i} not on disk");
        assert_eq!(int(&r, "SELECT count(*) FROM t"), (i + 1) * 40);
    }
    let after = stats();
    let writes = after.writes - before.writes;
    let flushes = after.flushes - before.flushes;
    // Several frames (two writes each) per commit, one write to the file.
    assert!(writes >= 50 * 4, "{writes}");
    assert!(flushes * 3 < writes, "{flushes} file writes for {writes}");
    // Every commit released the WAL write lock through the layer (what drops uncommitted
    // gathered frames).
    assert!(after.write_ends - before.write_ends >= 50);
}

#[test]
fn a_transaction_larger_than_the_gathering_and_a_rollback_after_a_spill() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let w = connect(&path);
    // A small cache makes SQLite spill pages into the WAL before the commit.
    w.execute_batch(
        "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 10; \
         CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);",
    )
    .unwrap();
    let r = Connection::open(&path).unwrap();
    let blob = vec![7u8; 3000];
    let tx = w.unchecked_transaction().unwrap();
    insert(&tx, 0..1000, &blob);
    tx.rollback().unwrap();
    assert_eq!(int(&r, "SELECT count(*) FROM t"), 0);
    let tx = w.unchecked_transaction().unwrap();
    insert(&tx, 0..1000, &blob);
    tx.commit().unwrap();
    let (n, sum): (i64, i64) = r
        .query_row("SELECT count(*), sum(length(v)) FROM t", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!((n, sum), (1000, 3_000_000));
    // A checkpoint copies it all into the database file; a fresh connection reads it back.
    w.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(w);
    let again = Connection::open(&path).unwrap();
    assert_intact(&again);
    assert_eq!(int(&again, "SELECT count(*) FROM t"), 1000);
}

#[test]
fn frames_gathered_by_a_transaction_rolled_back_are_never_written_over_another_s_commit() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let a = connect(&path);
    a.execute_batch(
        "PRAGMA wal_autocheckpoint = 0; \
         CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB); \
         INSERT INTO t (k, v) VALUES (0, zeroblob(10));",
    )
    .unwrap();
    let b = connect(&path);
    b.execute_batch("PRAGMA wal_autocheckpoint = 0;").unwrap();
    // A spills frames of a large transaction into the WAL (gathered), then rolls back.
    a.execute_batch("PRAGMA cache_size = 10;").unwrap();
    let blob = vec![1u8; 3000];
    let tx = a.unchecked_transaction().unwrap();
    insert(&tx, 1..200, &blob);
    // One large value last: its overflow pages spill as they fill and are not read again.
    tx.execute("INSERT INTO t (k, v) VALUES (500, randomblob(400000))", [])
        .unwrap();
    tx.rollback().unwrap();
    // SQLite reads pages back from the WAL while rolling back, which writes what was
    // gathered, still under the write lock; whatever is left is dropped when the lock is
    // released (`the_end_of_a_write_transaction_drops_what_was_not_committed`).
    // B commits where A's frames were.
    let mine = vec![2u8; 3000];
    // As many frames as A spilled, and more: B's commits cover every offset A gathered at.
    let tx = b.unchecked_transaction().unwrap();
    insert(&tx, 1000..1400, &mine);
    tx.commit().unwrap();
    // A reads B's rows (its WAL handle must not write what it gathered now).
    let (n, sum): (i64, i64) = a
        .query_row("SELECT count(*), sum(length(v)) FROM t", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!((n, sum), (401, 10 + 400 * 3000));
    let bad: i64 = b
        .query_row(
            "SELECT count(*) FROM t WHERE k >= 1000 AND v <> ?1",
            [&mine],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(bad, 0);
    for c in [&a, &b] {
        assert_intact(c);
    }
    // And a fresh connection (recovery from the files) agrees.
    drop(a);
    drop(b);
    let c = Connection::open(&path).unwrap();
    assert_eq!(int(&c, "SELECT count(*) FROM t"), 401);
}

#[test]
fn the_end_of_a_write_transaction_drops_what_was_not_committed() {
    let _serial = serial();
    // Two WALs with gathered frames, of two databases; the write lock of one is released.
    let mut files: Vec<Wrapped> = ["/x/a.db", "/x/b.db"]
        .iter()
        .map(|db| Wrapped {
            // SAFETY: a plain C struct of one pointer; null is its "not open" value.
            base: unsafe { std::mem::zeroed() },
            state: Box::into_raw(Box::new(Gather {
                offset: 32,
                bytes: vec![1; 4120],
                commit_header: false,
            })),
            db: Box::into_raw(Box::new((*db).to_owned())),
        })
        .collect();
    let ptrs: Vec<*mut Wrapped> = files.iter_mut().map(|f| f as *mut Wrapped).collect();
    for &p in &ptrs {
        start_gathering(p);
    }
    let before = stats().discards;
    // SAFETY: the files are this test's own, on this thread.
    unsafe { write_transaction_ended("/x/a.db") };
    let pending = |p: *mut Wrapped| unsafe { (*(*p).state).bytes.len() };
    assert_eq!(pending(ptrs[0]), 0, "a.db's uncommitted frames dropped");
    assert_eq!(pending(ptrs[1]), 4120, "b.db's left alone");
    assert!(stats().discards > before);
    assert!(!gathering().contains(&(ptrs[0] as usize)));
    assert!(gathering().contains(&(ptrs[1] as usize)));
    for &p in &ptrs {
        stop_gathering(p);
        // SAFETY: allocated above with Box::into_raw, freed once.
        unsafe {
            drop(Box::from_raw((*p).state));
            drop(Box::from_raw((*p).db));
        }
    }
}
