//! The SQLite store against real databases: files in a temporary directory (WAL) and
//! `sqlite::memory:`: the shared store suite plus what only SQLite has (separate memory
//! databases, WAL mode and foreign keys, two stores on one file).

mod store_suite;

use std::sync::Arc;

use omadm_server::store::sqlite::SqliteStore;
use omadm_server::store::{self, Changes, DeviceUpdate, Store, StoreError};
use serde_json::json;
use sqlx::{Connection, Row};
use store_suite::*;

const MEMORY: &str = "sqlite::memory:";

fn file_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("omadm.db").display())
}

async fn open(url: &str) -> Arc<dyn Store> {
    match store::open(url).await {
        Ok(s) => s,
        Err(e) => panic!("open {url}: {e}"),
    }
}

/// One suite test as a test of its own, on a fresh in-memory database (`memory`) or a fresh file
/// in a temporary directory (`file`).
macro_rules! suite_test {
    ($test:ident = $suite:ident on memory $(, $($attr:tt)+)?) => {
        #[tokio::test $(($($attr)+))?]
        async fn $test() {
            store_suite::$suite(open(MEMORY).await).await;
        }
    };
    ($test:ident = $suite:ident on file $(, $($attr:tt)+)?) => {
        #[tokio::test $(($($attr)+))?]
        async fn $test() {
            let dir = tempfile::tempdir().unwrap();
            store_suite::$suite(open(&file_url(&dir)).await).await;
        }
    };
}

suite_test!(enroll_duplicate_and_list_with_paging_in_memory = enroll_duplicate_and_list on memory);
suite_test!(enroll_duplicate_and_list_with_paging_in_a_file = enroll_duplicate_and_list on file);
suite_test!(delete_device_cascades_but_audit_stays = delete_device_cascades_but_audit_stays on file);
suite_test!(
    enqueue_command_commands_order_and_cancel = enqueue_command_commands_order_and_cancel on memory
);
suite_test!(unknown_device_is_no_device = unknown_device_is_no_device on memory);
suite_test!(tx_reads_applies_and_commits_in_a_file = tx_applies_and_commits on file);
suite_test!(tx_reads_applies_and_commits_in_memory = tx_applies_and_commits on memory);
suite_test!(
    alerts_without_a_session_have_an_empty_session_id =
        alerts_without_a_session_have_an_empty_session_id on memory
);
suite_test!(tx_dropped_without_commit_rolls_back_in_a_file = dropped_tx_rolls_back on file);
suite_test!(tx_dropped_without_commit_rolls_back_in_memory = dropped_tx_rolls_back on memory);
suite_test!(
    many_concurrent_transactions_all_commit = many_concurrent_transactions_all_commit on file,
    flavor = "multi_thread", worker_threads = 4
);
suite_test!(
    set_nonces_changes_only_the_given_ones = set_nonces_changes_only_the_given_ones on memory
);
suite_test!(
    reports_are_kept_per_device_oldest_first = reports_are_kept_per_device_oldest_first on memory
);
suite_test!(
    audit_log_filters_by_device_and_keeps_the_latest_lines =
        audit_log_filters_by_device_and_keeps_the_latest_lines on memory
);
suite_test!(campaign_queues_counts_and_cancels = campaign_queues_counts_and_cancels on file);
suite_test!(writes_of_every_shape_land = writes_of_every_shape_land on file);
suite_test!(writes_of_every_shape_land_in_memory = writes_of_every_shape_land on memory);
suite_test!(command_updates_of_one_message = command_updates_of_one_message on file);
suite_test!(command_updates_of_one_message_in_memory = command_updates_of_one_message on memory);
suite_test!(
    pending_commands_are_queued_sent_and_accepted_in_order =
        pending_commands_are_queued_sent_and_accepted_in_order on file
);
suite_test!(
    dashboard_activity_counts_by_device_and_minute =
        dashboard_activity_counts_by_device_and_minute on file
);
suite_test!(
    settings_keep_the_first_value_when_asked = settings_keep_the_first_value_when_asked on memory
);

#[tokio::test]
async fn memory_databases_are_separate() {
    let a = open(MEMORY).await;
    let b = open(MEMORY).await;
    a.create_device(&new_device("dev-1"), 1).await.unwrap();
    assert!(b.device("dev-1").await.unwrap().is_none());
    assert!(a.device("dev-1").await.unwrap().is_some());
}

#[tokio::test]
async fn open_rejects_other_urls() {
    let e = store::open("mysql://localhost/omadm").await.err();
    assert!(matches!(e, Some(StoreError::UnsupportedUrl(_))), "{e:?}");
    let e = SqliteStore::open("mysql://x").await.err();
    assert!(matches!(e, Some(StoreError::UnsupportedUrl(_))), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_begin_is_serialised_in_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&file_url(&dir)).await;
    second_message_waits_for_first_commit(s.clone(), s).await;
}

/// Two stores on one file stand for two server processes: only SQLite's lock (BEGIN IMMEDIATE
/// and the busy timeout) serialises them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_begin_is_serialised_across_stores_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let a = open(&url).await;
    let b = open(&url).await;
    second_message_waits_for_first_commit(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_begin_is_serialised_in_memory() {
    let s = open(MEMORY).await;
    second_message_waits_for_first_commit(s.clone(), s).await;
}

#[tokio::test]
async fn reopen_keeps_data_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let id = {
        let s = SqliteStore::open(&url).await.unwrap();
        let id = write_before_reopen(&s).await;
        s.close().await;
        id
    };
    for _ in 0..2 {
        let s = SqliteStore::open(&url).await.unwrap();
        check_after_reopen(&s, id).await;
        s.close().await;
    }
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(applied, 8, "each migration applied once");
}

#[tokio::test]
async fn file_database_is_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let s = SqliteStore::open(&url).await.unwrap();
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    assert!(dir.path().join("omadm.db-wal").exists());
    // WAL is a property of the file: a plain connection sees it.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // The cascade of delete_device needs foreign keys on in the store's connections.
    s.enqueue("dev-1", &get("./x"), 2).await.unwrap();
    s.delete_device("dev-1").await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM commands")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn undecodable_stored_values_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let s = open(&url).await;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let conn = tokio::sync::Mutex::new(&mut conn);
    store_suite::undecodable_stored_values_are_corrupt(s, async |sql: String| {
        let mut conn = conn.lock().await;
        sqlx::query(&sql).execute(&mut **conn).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn json_columns_hold_plain_json() {
    // The REST API and the PostgreSQL store read these columns as JSON text.
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let s = open(&url).await;
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.enqueue("dev-1", &get("./DevInfo/Mod"), 2).await.unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let row = sqlx::query("SELECT spec, state, results, children FROM commands")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let spec: String = row.get("spec");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&spec).unwrap(),
        json!({"op": "Get", "target": "./DevInfo/Mod"})
    );
    assert_eq!(row.get::<String, _>("state"), "queued");
    assert_eq!(row.get::<String, _>("results"), "[]");
    assert_eq!(row.get::<String, _>("children"), "[]");
}

suite_test!(message_reads_runs_and_writes_in_a_file = message_reads_runs_and_writes on file);
suite_test!(message_reads_runs_and_writes_in_memory = message_reads_runs_and_writes on memory);
suite_test!(
    session_state_is_read_back_through_its_life_in_a_file =
        session_state_is_read_back_through_its_life on file
);
suite_test!(
    session_state_is_read_back_through_its_life_in_memory =
        session_state_is_read_back_through_its_life on memory
);
suite_test!(
    message_of_unknown_device_writes_audit_only_in_a_file =
        message_of_unknown_device_writes_audit_only on file
);
suite_test!(
    message_of_unknown_device_writes_audit_only_in_memory =
        message_of_unknown_device_writes_audit_only on memory
);
suite_test!(
    concurrent_messages_see_each_other_and_a_panic_fails_alone_in_a_file =
        concurrent_messages_see_each_other_and_a_panic_fails_alone on file,
    flavor = "multi_thread", worker_threads = 4
);
suite_test!(
    concurrent_messages_see_each_other_and_a_panic_fails_alone_in_memory =
        concurrent_messages_see_each_other_and_a_panic_fails_alone on memory,
    flavor = "multi_thread", worker_threads = 4
);

/// The writer thread's group commit: when one message's writes fail halfway (here a trigger
/// refuses its audit line, after its device update ran), its savepoint is rolled back and the
/// other messages of the same transaction commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_failing_in_a_group_commit_is_rolled_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let s = open(&url).await;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON audit WHEN NEW.event = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for d in 0..20 {
        s.create_device(&new_device(&format!("dev-{d}")), 1)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for d in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let device = format!("dev-{d}");
            let event = if d == 7 { "boom" } else { "fine" };
            let changes = Changes {
                device: DeviceUpdate {
                    client_nonce: Some(b"changed".to_vec()),
                    ..DeviceUpdate::default()
                },
                audit: vec![store_suite::audit_line(Some(&device), event)],
                ..Changes::default()
            };
            store_suite::message(&*s, &device, 5, move |_| (Some(changes), ()))
                .await
                .map(|_| ())
        }));
    }
    for (d, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap();
        let dev = s.device(&format!("dev-{d}")).await.unwrap().unwrap();
        if d == 7 {
            let e = r.expect_err("the refused message fails");
            assert!(e.to_string().contains("boom refused"), "{e}");
            assert!(
                dev.client_nonce.is_empty(),
                "dev-7's device update rolled back"
            );
        } else {
            r.unwrap();
            assert_eq!(dev.client_nonce, b"changed");
        }
    }
    assert_eq!(s.audit_log(None, 100).await.unwrap().len(), 19);
}

/// Two stores on one file stand for two server processes: their DM connections take SQLite's
/// write lock in turn (a busy lock is waited for asleep and tried again), and every message
/// reads what the messages before it wrote, whichever store ran them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_of_two_stores_on_one_file_are_serialised() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let stores = [open(&url).await, open(&url).await];
    stores[0]
        .create_device(&new_device("dev-1"), 1)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..60u32 {
        let s = stores[i as usize % 2].clone();
        tasks.push(tokio::spawn(async move {
            store_suite::message(&*s, "dev-1", i64::from(i), |input| {
                let n = input.session.map_or(0, |s| s.messages);
                let changes = Changes {
                    session: Some(session("1F", n + 1, b"x", None)),
                    ..Changes::default()
                };
                (Some(changes), ())
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let sessions = stores[1].sessions("dev-1").await.unwrap();
    assert_eq!(sessions[0].messages, 60);
}

/// A message whose task is dropped while it waits for the DM connection (its HTTP request went
/// away) is not run later on behalf of nobody; the other waiting messages are.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_dropped_while_waiting_is_not_run() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let other = open(&url).await; // another process on the file
    let s = open(&url).await;
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    // The other process holds the write lock: this store's messages wait for it.
    let mut held = other.begin().await.unwrap();
    held.device("dev-1").await.unwrap();

    let ran = |flag: Arc<AtomicBool>| {
        move |_: omadm_server::store::MessageInput<'_>| {
            flag.store(true, Ordering::SeqCst);
            (None::<Changes>, ())
        }
    };
    let first_ran = Arc::new(AtomicBool::new(false));
    let dropped_ran = Arc::new(AtomicBool::new(false));
    let first = {
        let (s, f) = (s.clone(), ran(first_ran.clone()));
        tokio::spawn(async move { store_suite::message(&*s, "dev-1", 2, f).await.map(drop) })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let dropped = {
        let (s, f) = (s.clone(), ran(dropped_ran.clone()));
        tokio::spawn(async move { store_suite::message(&*s, "dev-1", 3, f).await.map(drop) })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    dropped.abort();
    assert!(dropped.await.unwrap_err().is_cancelled());
    held.commit().await.unwrap();

    tokio::time::timeout(Duration::from_secs(10), first)
        .await
        .expect("the first message ends once the lock is free")
        .unwrap()
        .unwrap();
    assert!(first_ran.load(Ordering::SeqCst));
    assert!(
        !dropped_ran.load(Ordering::SeqCst),
        "the dropped message was run"
    );
}

/// A database at `url` with the schema as of the migrations before `first_missing` (a copy of
/// them, run by sqlx), open for the test to fill.
async fn database_before(
    dir: &tempfile::TempDir,
    url: &str,
    first_missing: &str,
) -> sqlx::SqliteConnection {
    let before = dir
        .path()
        .join(format!("migrations-before-{first_missing}"));
    std::fs::create_dir(&before).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for e in std::fs::read_dir(&all).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < first_missing {
            std::fs::copy(&p, before.join(&name)).unwrap();
        }
    }
    let opts = url
        .parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::migrate::Migrator::new(before.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    conn
}

/// The names of the indexes on `table`.
/// Device `dev-1`, written as a database before the migration under test holds it.
async fn insert_dev_1(conn: &mut sqlx::SqliteConnection) {
    sqlx::query(
        "INSERT INTO devices (device_id, client_auth_type, client_auth_name, \
         client_auth_secret, server_auth_name, server_auth_secret, client_nonce, \
         server_nonce, devinfo, created_at) \
         VALUES ('dev-1', 'basic', 'u', 'p', 's', 'sp', x'00', x'00', '{}', 1)",
    )
    .execute(conn)
    .await
    .unwrap();
}

async fn indexes(conn: &mut sqlx::SqliteConnection, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name",
    )
    .bind(table)
    .fetch_all(conn)
    .await
    .unwrap()
}

/// Migration 0006 on a database that has audit lines: they keep their ids, the table is no
/// longer AUTOINCREMENT (no `sqlite_sequence` row to rewrite on every insert), and new lines
/// still get larger ids.
#[tokio::test]
async fn audit_lines_keep_their_ids_across_migration_0006() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    {
        let mut conn = database_before(&dir, &url, "0006").await;
        for (id, event) in [(7, "old.a"), (9, "old.b")] {
            sqlx::query("INSERT INTO audit (id, at, device_id, event, detail) VALUES (?, 1, 'dev-1', ?, '{}')")
                .bind(id)
                .bind(event)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn.close().await.unwrap();
    }
    let s = open(&url).await;
    s.audit(&audit_line(Some("dev-1"), "new.c"), 2)
        .await
        .unwrap();
    let log = s.audit_log(Some("dev-1"), 10).await.unwrap();
    let got: Vec<(i64, &str)> = log.iter().map(|a| (a.id, a.event.as_str())).collect();
    assert_eq!(got, [(7, "old.a"), (9, "old.b"), (10, "new.c")]);
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let sql: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!sql.contains("AUTOINCREMENT"), "{sql}");
    let index: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'audit_device'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(index, 1);
}

/// Migration 0007 puts the commands a DM message reads (queued, sent, done with 202) in a
/// partial index of their own: the commands of an upgraded database read as before, by both
/// of the store's paths (a DM message's own connection and a transaction of the pool).
#[tokio::test]
async fn pending_commands_read_the_same_across_migration_0007() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    {
        let mut conn = database_before(&dir, &url, "0007").await;
        insert_dev_1(&mut conn).await;
        let rows = [
            (1, "done", Some(200)),
            (2, "sent", None),
            (3, "done", Some(202)),
            (4, "failed", Some(404)),
            (5, "queued", None),
            (6, "cancelled", None),
            (7, "done", Some(202)),
        ];
        for (id, state, status) in rows {
            sqlx::query(
                "INSERT INTO commands (id, device_id, spec, state, status, results, children, \
                 created_at, updated_at) VALUES (?, 'dev-1', ?, ?, ?, '[]', '[]', 1, 1)",
            )
            .bind(id)
            .bind(format!(r#"{{"op":"Get","target":"./N{id}"}}"#))
            .bind(state)
            .bind(status)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        conn.close().await.unwrap();
    }
    let s = open(&url).await;
    assert_eq!(pending_ids(&*s, "dev-1").await, [2, 3, 5, 7]);
    let all = command_ids(&*s, "dev-1").await;
    assert_eq!(all, [1, 2, 3, 4, 5, 6, 7]);

    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    assert_eq!(
        indexes(&mut conn, "commands").await,
        ["commands_campaign", "commands_device", "commands_pending"]
    );
}

/// Where SQLite keeps a session's state (migration 0008): a running session's in
/// `session_states`, its `sessions` row's empty; an ended session's in its row, and no
/// `session_states` row left.
#[tokio::test]
async fn a_running_sessions_state_is_apart_from_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    let s = open(&url).await;
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for (n, (state, ended)) in [(b"running", None), (b"settled", Some(9))]
        .into_iter()
        .enumerate()
    {
        let mut tx = s.begin().await.unwrap();
        let changes = Changes {
            session: Some(session("1F", n as u32 + 1, state, ended)),
            ..Changes::default()
        };
        tx.apply("dev-1", &changes, 5).await.unwrap();
        tx.commit().await.unwrap();
        let row: Vec<u8> = sqlx::query_scalar("SELECT state FROM sessions")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let apart: Vec<Vec<u8>> = sqlx::query_scalar("SELECT state FROM session_states")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        match ended {
            None => assert_eq!((row, apart), (vec![], vec![state.to_vec()])),
            Some(_) => assert_eq!((row, apart), (state.to_vec(), vec![])),
        }
    }
}

/// Migration 0008 on a database with a running and an ended session: the running one's state
/// moves to `session_states`, the ended one's stays in its row, and both read as before.
#[tokio::test]
async fn session_states_read_the_same_across_migration_0008() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(&dir);
    {
        let mut conn = database_before(&dir, &url, "0008").await;
        insert_dev_1(&mut conn).await;
        for (id, ended, state) in [("A", None, "running"), ("B", Some(7), "settled")] {
            sqlx::query(
                "INSERT INTO sessions (device_id, session_id, started_at, updated_at, \
                 ended_at, outcome, messages, state) VALUES ('dev-1', ?, 1, 2, ?, NULL, 1, ?)",
            )
            .bind(id)
            .bind(ended)
            .bind(state.as_bytes())
            .execute(&mut conn)
            .await
            .unwrap();
        }
        conn.close().await.unwrap();
    }
    let s = open(&url).await;
    let mut tx = s.begin().await.unwrap();
    for (id, state) in [("A", "running"), ("B", "settled")] {
        let r = tx.session("dev-1", id).await.unwrap().expect("kept");
        assert_eq!(r.state, state.as_bytes(), "session {id}");
    }
    drop(tx);
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT session_id, state FROM sessions ORDER BY session_id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            ("A".to_owned(), vec![]),
            ("B".to_owned(), b"settled".to_vec())
        ]
    );
    let apart: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT session_id, state FROM session_states")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(apart, [("A".to_owned(), b"running".to_vec())]);
}
