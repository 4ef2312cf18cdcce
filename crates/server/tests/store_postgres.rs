//! The PostgreSQL store against a real server: the shared store suite plus what only PostgreSQL
//! has (row locks across pools, lock timeouts, schemas).
//!
//! Runs when `OMADM_TEST_POSTGRES_URL` names a database the tests may create schemas in (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`); otherwise every test prints a skip line and
//! passes. Each test works in a schema of its own (`options[search_path]=...` in the store's URL),
//! dropped at its end, so the tests run in parallel and again and again.

mod store_suite;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use omadm_server::store::postgres::PgStore;
use omadm_server::store::{self, Changes, DeviceUpdate, Store, StoreError};
use serde_json::json;
use sqlx::{Connection, PgConnection, Row};
use store_suite::*;

const URL_VAR: &str = "OMADM_TEST_POSTGRES_URL";

/// A schema of its own for one test, dropped when this is.
struct PgTestDb {
    base: String,
    schema: String,
}

impl PgTestDb {
    /// A fresh, empty schema; `None` (after printing why) when no server is configured.
    async fn new(test: &str) -> Option<PgTestDb> {
        let base = match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => url,
            _ => {
                eprintln!("skipped {test}: {URL_VAR} is not set");
                return None;
            }
        };
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "t_{}_{}_{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("connect {base}: {e}"));
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        Some(PgTestDb { base, schema })
    }

    /// The store's URL: the base URL with the schema as the search path.
    fn url(&self) -> String {
        self.url_with(&[])
    }

    /// The store's URL with more server settings.
    fn url_with(&self, settings: &[(&str, &str)]) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        // The application name marks the test's connections for the cleanup in `drop`.
        let mut url = format!(
            "{}{sep}options[search_path]={schema}&application_name={schema}",
            self.base,
            schema = self.schema
        );
        for (k, v) in settings {
            url.push_str(&format!("&options[{k}]={v}"));
        }
        url
    }

    /// A store on the schema, opened through [`store::open`] as `omadm server --db` does.
    async fn open(&self) -> Arc<dyn Store> {
        let url = self.url();
        match store::open(&url).await {
            Ok(s) => s,
            Err(e) => panic!("open {url}: {e}"),
        }
    }

    /// A connection outside the store, its search path on the schema.
    async fn raw(&self) -> PgConnection {
        PgConnection::connect(&self.url()).await.unwrap()
    }
}

impl Drop for PgTestDb {
    /// Drops the schema from a thread of its own (this may run in a panicking async test, on a
    /// runtime that cannot run the store's pending rollbacks any more: the test's connections
    /// are ended first, which also releases any lock an unfinished transaction holds).
    fn drop(&mut self) {
        let base = self.base.clone();
        let schema = self.schema.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&base).await?;
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1",
                )
                .bind(&schema)
                .execute(&mut conn)
                .await?;
                sqlx::query("SET lock_timeout = '10s'")
                    .execute(&mut conn)
                    .await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
            .map_err(std::io::Error::other)
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("could not drop schema {}: {done:?}", self.schema);
        }
    }
}

/// The test database, or return from the test (skipped).
macro_rules! pg {
    ($test:expr) => {
        match PgTestDb::new($test).await {
            Some(db) => db,
            None => return,
        }
    };
}

/// One suite test on a fresh store.
macro_rules! suite_test {
    ($name:ident) => {
        suite_test!($name, tokio::test);
    };
    ($name:ident, $($attr:tt)+) => {
        #[$($attr)+]
        async fn $name() {
            let db = pg!(stringify!($name));
            store_suite::$name(db.open().await).await;
        }
    };
}

suite_test!(enroll_duplicate_and_list);
suite_test!(delete_device_cascades_but_audit_stays);
suite_test!(enqueue_command_commands_order_and_cancel);
suite_test!(unknown_device_is_no_device);
suite_test!(tx_applies_and_commits);
suite_test!(alerts_without_a_session_have_an_empty_session_id);
suite_test!(dropped_tx_rolls_back);
suite_test!(
    many_concurrent_transactions_all_commit,
    tokio::test(flavor = "multi_thread", worker_threads = 4)
);
suite_test!(set_nonces_changes_only_the_given_ones);
suite_test!(reports_are_kept_per_device_oldest_first);
suite_test!(audit_log_filters_by_device_and_keeps_the_latest_lines);
suite_test!(settings_keep_the_first_value_when_asked);
suite_test!(campaign_queues_counts_and_cancels);
suite_test!(dashboard_activity_counts_by_device_and_minute);
suite_test!(pending_commands_are_queued_sent_and_accepted_in_order);
suite_test!(writes_of_every_shape_land);
suite_test!(command_updates_of_one_message);
suite_test!(message_reads_runs_and_writes);
suite_test!(session_state_is_read_back_through_its_life);
suite_test!(message_of_unknown_device_writes_audit_only);
suite_test!(
    concurrent_messages_see_each_other_and_a_panic_fails_alone,
    tokio::test(flavor = "multi_thread", worker_threads = 4)
);

#[tokio::test]
async fn undecodable_stored_values_are_corrupt() {
    let db = pg!("undecodable_stored_values_are_corrupt");
    let s = db.open().await;
    let mut conn = db.raw().await;
    let conn = tokio::sync::Mutex::new(&mut conn);
    store_suite::undecodable_stored_values_are_corrupt(s, async |sql: String| {
        let mut conn = conn.lock().await;
        sqlx::query(&sql).execute(&mut **conn).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_message_of_a_device_waits_in_one_store() {
    let db = pg!("second_message_of_a_device_waits_in_one_store");
    let s = db.open().await;
    second_message_waits_for_first_commit(s.clone(), s).await;
}

/// Two stores (two pools) on one database stand for two server processes: only the row lock
/// serialises them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_message_of_a_device_waits_across_stores() {
    let db = pg!("second_message_of_a_device_waits_across_stores");
    let a = db.open().await;
    let b = db.open().await;
    second_message_waits_for_first_commit(a, b).await;
}

/// The lock is the device's row, not the database: another device's message, queueing a command
/// or recording a report for the locked device go on; `set_nonces` on it waits for the commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_holds_only_the_device_row() {
    const QUICK: Duration = Duration::from_secs(2);
    let db = pg!("the_lock_holds_only_the_device_row");
    let s = db.open().await;
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.create_device(&new_device("dev-2"), 1).await.unwrap();

    let mut tx1 = s.begin().await.unwrap();
    assert!(tx1.device("dev-1").await.unwrap().is_some());

    let other = async {
        let mut tx2 = s.begin().await?;
        tx2.device("dev-2").await?;
        let changes = Changes {
            audit: vec![audit_line(Some("dev-2"), "other")],
            ..Changes::default()
        };
        tx2.apply("dev-2", &changes, 2).await?;
        tx2.commit().await
    };
    tokio::time::timeout(QUICK, other)
        .await
        .expect("another device's message does not wait")
        .unwrap();
    let id = tokio::time::timeout(QUICK, s.enqueue("dev-1", &get("./x"), 3))
        .await
        .expect("enqueue does not wait")
        .unwrap();
    tokio::time::timeout(QUICK, s.add_report("dev-1", &[item("1")], 3))
        .await
        .expect("add_report does not wait")
        .unwrap();
    tokio::time::timeout(QUICK, s.device("dev-1"))
        .await
        .expect("reads do not wait")
        .unwrap();

    let s2 = s.clone();
    let nonces = tokio::spawn(async move { s2.set_nonces("dev-1", Some(b"n"), None).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !nonces.is_finished(),
        "set_nonces did not wait for the lock"
    );
    // The transaction sees the command queued meanwhile (READ COMMITTED).
    let pending = tx1.pending_commands("dev-1").await.unwrap();
    assert_eq!(pending.iter().map(|c| c.id).collect::<Vec<_>>(), [id]);
    tx1.commit().await.unwrap();
    nonces.await.unwrap().unwrap();
    let dev = s.device("dev-1").await.unwrap().unwrap();
    assert_eq!(dev.client_nonce, b"n");
}

/// A message waiting for its device gives up after `lock_timeout` (set here in the URL, which
/// overrides the store's default) instead of hanging; the holder is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_message_times_out() {
    let db = pg!("a_waiting_message_times_out");
    let url = db.url_with(&[("lock_timeout", "200ms")]);
    let s: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.unwrap());
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let mut tx1 = s.begin().await.unwrap();
    tx1.device("dev-1").await.unwrap();

    let t0 = Instant::now();
    let mut tx2 = s.begin().await.unwrap();
    let e = tx2.device("dev-1").await.err();
    assert!(matches!(e, Some(StoreError::Db(_))), "{e:?}");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    drop(tx2);

    let changes = Changes {
        device: DeviceUpdate {
            last_seen: Some(5),
            ..DeviceUpdate::default()
        },
        ..Changes::default()
    };
    tx1.apply("dev-1", &changes, 5).await.unwrap();
    tx1.commit().await.unwrap();
    assert_eq!(s.device("dev-1").await.unwrap().unwrap().last_seen, Some(5));
}

#[tokio::test]
async fn reopen_keeps_data_and_migrations_are_idempotent() {
    let db = pg!("reopen_keeps_data_and_migrations_are_idempotent");
    let url = db.url();
    let id = {
        let s = PgStore::open(&url).await.unwrap();
        let id = write_before_reopen(&s).await;
        s.close().await;
        id
    };
    for _ in 0..2 {
        let s = PgStore::open(&url).await.unwrap();
        check_after_reopen(&s, id).await;
        s.close().await;
    }
    // Replicas starting together: the migrator's advisory lock lets one migrate.
    let (a, b) = tokio::join!(PgStore::open(&url), PgStore::open(&url));
    check_after_reopen(&a.unwrap(), id).await;
    check_after_reopen(&b.unwrap(), id).await;

    let mut conn = db.raw().await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(applied, 6, "each migration applied once");
    // Everything went into the test's schema.
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1",
    )
    .bind(&db.schema)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 9, "eight tables and _sqlx_migrations");
}

#[tokio::test]
async fn open_rejects_other_urls() {
    for url in ["sqlite::memory:", "mysql://x", "postgres-ish://x"] {
        let e = PgStore::open(url).await.err();
        assert!(matches!(e, Some(StoreError::UnsupportedUrl(_))), "{e:?}");
    }
    let e = store::open("mysql://x").await.err();
    assert!(matches!(e, Some(StoreError::UnsupportedUrl(_))), "{e:?}");
}

#[tokio::test]
async fn postgresql_scheme_is_accepted() {
    let db = pg!("postgresql_scheme_is_accepted");
    let Some(rest) = db.url().strip_prefix("postgres://").map(str::to_owned) else {
        eprintln!("skipped: {URL_VAR} does not start with postgres://");
        return;
    };
    let s = store::open(&format!("postgresql://{rest}")).await.unwrap();
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    assert!(s.device("dev-1").await.unwrap().is_some());
}

/// The columns hold what the SQLite store's hold: JSON text, enum names, bytes.
#[tokio::test]
async fn columns_hold_plain_json_and_bytes() {
    let db = pg!("columns_hold_plain_json_and_bytes");
    let s = db.open().await;
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.set_nonces("dev-1", Some(&[0, 159, 255]), None)
        .await
        .unwrap();
    s.enqueue("dev-1", &get("./DevInfo/Mod"), 2).await.unwrap();
    let mut conn = db.raw().await;
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
    let row = sqlx::query("SELECT client_nonce, server_nonce, devinfo FROM devices")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(row.get::<Vec<u8>, _>("client_nonce"), [0, 159, 255]);
    assert!(row.get::<Vec<u8>, _>("server_nonce").is_empty());
    assert_eq!(row.get::<String, _>("devinfo"), "{}");
}
