//! The layer under real SQLite traffic: page splits, rollbacks of growing transactions,
//! savepoints and a second connection, checked against a model and `PRAGMA integrity_check`.

use std::collections::BTreeMap;

use omadm_sqlite_pcache::{install, stats, Installed};
use rusqlite::{params, Connection};

/// A small deterministic generator (no input from outside, reproducible failures).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn open(path: &std::path::Path) -> Connection {
    let db = Connection::open(path).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -8192;",
    )
    .unwrap();
    db
}

fn check(db: &Connection, model: &BTreeMap<String, Vec<u8>>) {
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut stmt = db.prepare("SELECT k, v FROM t ORDER BY k").unwrap();
    let rows: BTreeMap<String, Vec<u8>> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), model.len());
    assert!(rows == *model, "table differs from the model");
}

#[test]
fn commits_rollbacks_and_savepoints_keep_the_database_intact() {
    assert_eq!(install(), Installed::Yes);
    assert_eq!(
        install(),
        Installed::Yes,
        "a second call answers the first's result"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut db = open(&path);
    let other = open(&path);
    db.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, v BLOB NOT NULL);",
    )
    .unwrap();
    let mut model = BTreeMap::new();
    let mut rng = Lcg(7);
    let insert = |db: &Connection, model: &mut BTreeMap<String, Vec<u8>>, rng: &mut Lcg| {
        let key = format!("{:016x}", rng.next());
        let len = 20 + (rng.next() % 600) as usize;
        let value = vec![(rng.next() % 251) as u8; len];
        db.execute(
            "INSERT OR REPLACE INTO t (k, v) VALUES (?1, ?2)",
            params![key, value],
        )
        .unwrap();
        model.insert(key, value);
    };
    let before = stats();
    for round in 0..300 {
        match round % 5 {
            // A committed transaction of random inserts: index and table pages split.
            0 | 1 => {
                let tx = db.transaction().unwrap();
                for _ in 0..40 {
                    insert(&tx, &mut model, &mut rng);
                }
                tx.commit().unwrap();
            }
            // A transaction that grows the file, rolled back: the pages past the old end must
            // leave the cache, or the next growth would reuse their stale contents.
            2 => {
                let mut scratch = model.clone();
                let tx = db.transaction().unwrap();
                for _ in 0..200 {
                    insert(&tx, &mut scratch, &mut rng);
                }
                tx.rollback().unwrap();
            }
            // Savepoints: one rolled back inside a committed transaction.
            3 => {
                let mut tx = db.transaction().unwrap();
                insert(&tx, &mut model, &mut rng);
                {
                    let mut sp = tx.savepoint().unwrap();
                    let mut scratch = model.clone();
                    for _ in 0..150 {
                        insert(&sp, &mut scratch, &mut rng);
                    }
                    sp.rollback().unwrap();
                }
                insert(&tx, &mut model, &mut rng);
                tx.commit().unwrap();
            }
            // Another connection writes: this one's cache must see it.
            _ => {
                for _ in 0..30 {
                    insert(&other, &mut model, &mut rng);
                }
                let gone: Vec<String> = model.keys().step_by(7).take(20).cloned().collect();
                for key in gone {
                    db.execute("DELETE FROM t WHERE k = ?1", params![key])
                        .unwrap();
                    model.remove(&key);
                }
            }
        }
        if round % 50 == 49 {
            check(&db, &model);
            check(&other, &model);
        }
    }
    check(&db, &model);
    check(&other, &model);
    let after = stats();
    assert!(
        after.skipped > before.skipped,
        "commits after page splits skip the walk: {after:?}"
    );
    assert!(
        after.passed > before.passed,
        "rollbacks of growing transactions still truncate: {after:?}"
    );
}
