//! The SQLite store: one file in WAL mode (or one in-memory database), migrations embedded.
//!
//! Writes are serialised twice: inside the process by an async gate that every write (a
//! [`StoreTx`] or a single-statement write) holds, so that waiting writers queue fairly and hold
//! no pooled connection; across processes by SQLite's own write lock, which a [`StoreTx`] takes
//! at once with `BEGIN IMMEDIATE` and other writers wait for up to [`BUSY_TIMEOUT`]. Reads never
//! wait (WAL).
//!
//! Holding a [`StoreTx`] while calling a write method of the same store (or `begin` again) on the
//! same task would wait for itself; the DM endpoint never does.
//!
//! The DM messages of a file do not use sqlx: they run on a connection of their own, with group
//! commit ([`writer`]), and their WAL is checkpointed by a thread ([`checkpoint`]).

mod campaign;
mod checkpoint;
mod direct;
mod rows;
mod tx;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::codec::{self, auth_type_text, map_constraint, state_text, to_json};
use super::{
    Campaign, CampaignStates, DeviceActivity, MessageDone, MessageWork, MinuteActivity, NewAudit,
    Store, StoreError, StoreTx,
};
use crate::model::{
    AlertItem, AlertRecord, AuditEntry, CommandSpec, CommandState, Device, NewDevice,
    QueuedCommand, ReportRecord, SessionRecord, Timestamp,
};

/// How long a writer waits for another process's write lock before failing with SQLITE_BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Pooled connections to a database file (readers run in parallel in WAL mode).
const FILE_CONNECTIONS: u32 = 8;

/// Each connection's page cache (`PRAGMA cache_size`; negative: KiB): 32 MiB instead of
/// SQLite's 2 MiB, so that the indexes a DM message walks stay in memory with 100,000 devices
/// (issue 7: a session no more than 10% slower than with 1,000). Pages are allocated as used.
const CACHE_SIZE: &str = "-32768";

/// The migrations, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite implementation of [`super::Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Held by every write of this process (see the module doc).
    writer: Arc<Mutex<()>>,
    /// File databases: the connection DM messages' transactions run on ([`writer`]).
    dm: Option<Arc<writer::Writer>>,
}

impl SqliteStore {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `sqlite://PATH` opens (creating when missing) a file in WAL mode with `synchronous=NORMAL`:
    /// a commit survives any crash of the process (SIGKILL included: the WAL is written before
    /// the commit returns), and the database is never corrupted; a power loss may drop the last
    /// commits, which the devices then send again. `sqlite://PATH?synchronous=full` also syncs
    /// the WAL on every commit (a commit survives a power loss), at a cost in messages per
    /// second that docs/performance.md measures. `sqlite::memory:`
    /// opens a fresh in-memory database behind one connection that is never closed, so every
    /// query sees the same data; it lives as long as the store.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        // Before any connection: SQLite takes a page cache only before it initialises.
        if omadm_sqlite_pcache::install() != omadm_sqlite_pcache::Installed::Yes {
            tracing::debug!("SQLite was initialised before the store: its page cache is unchanged");
        }
        // Then (registering a VFS initialises SQLite): a commit's WAL frames in one write.
        if omadm_sqlite_walbuf::install() != omadm_sqlite_walbuf::Installed::Yes {
            tracing::debug!("SQLite has no default VFS to wrap: WAL writes unchanged");
        }
        let (url, full_sync) = take_synchronous(url);
        let url = url.as_str();
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let in_memory = is_memory(url);
        let mut file = None;
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            let options = options
                .pragma("cache_size", CACHE_SIZE)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(if full_sync {
                    SqliteSynchronous::Full
                } else {
                    SqliteSynchronous::Normal
                });
            file = Some(options.get_filename().to_owned());
            // No test query before each acquire: on SQLite it is one more round trip to the
            // connection's thread per message, and a file connection does not go stale.
            SqlitePoolOptions::new()
                .max_connections(FILE_CONNECTIONS)
                .test_before_acquire(false)
                .connect_with(options)
                .await?
        };
        MIGRATOR.run(&pool).await?;
        let gate = Arc::new(Mutex::new(()));
        let dm = match file {
            Some(path) => Some(Arc::new(writer::Writer::open(
                &writer::WriterOptions {
                    path: &path,
                    full_sync,
                    cache_size: CACHE_SIZE,
                },
                Arc::clone(&gate),
            )?)),
            None => None,
        };
        Ok(SqliteStore {
            pool,
            writer: gate,
            dm,
        })
    }

    /// Closes every connection (waiting for the ones in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_gate(&self) -> OwnedMutexGuard<()> {
        Arc::clone(&self.writer).lock_owned().await
    }
}

/// Where a session's state is written (migration 0008): (its row's, the one for
/// `session_states`). A running session's is in `session_states` and its row's is empty; an
/// ended one's is in its row, and `session_states` has none.
fn split_state(s: &SessionRecord) -> (&[u8], Option<&[u8]>) {
    match s.ended_at {
        None => (&[], Some(&s.state)),
        Some(_) => (&s.state, None),
    }
}

/// Whether `url` names an in-memory database (`sqlite::memory:`, `sqlite://:memory:`,
/// `...?mode=memory`).
fn is_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (db, params) = rest.split_once('?').unwrap_or((rest, ""));
    db == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let gate = self.write_gate().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(tx::SqliteTx::new(tx, gate)))
    }

    /// A file database's messages run on its writer thread (group commit, one hand-off per
    /// message); an in-memory one's through [`Store::begin`].
    async fn message(
        &self,
        device_id: &str,
        session_id: &str,
        now: Timestamp,
        work: MessageWork,
    ) -> Result<MessageDone, StoreError> {
        match &self.dm {
            Some(w) => w.message(device_id, session_id, now, work).await,
            None => super::message_in_tx(self, device_id, session_id, now, work).await,
        }
    }

    async fn create_device(&self, d: &NewDevice, now: Timestamp) -> Result<Device, StoreError> {
        let device = codec::enrolled(d, now);
        let _gate = self.write_gate().await;
        sqlx::query(codec::INSERT_DEVICE)
            .bind(&device.device_id)
            .bind(auth_type_text(device.client_auth.type_))
            .bind(&device.client_auth.name)
            .bind(&device.client_auth.secret)
            .bind(&device.server_auth.name)
            .bind(&device.server_auth.secret)
            .bind(device.push_url.as_deref())
            .bind(device.client_nonce.as_slice())
            .bind(device.server_nonce.as_slice())
            .bind(to_json("devinfo", &device.devinfo)?)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|e| map_constraint(e, &d.device_id))?;
        Ok(device)
    }

    async fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        rows::fetch_device(&mut conn, device_id).await
    }

    async fn devices(&self, after: Option<&str>, limit: u32) -> Result<Vec<Device>, StoreError> {
        let rows = match after {
            Some(after) => {
                sqlx::query(codec::SELECT_DEVICES_AFTER)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(codec::SELECT_DEVICES)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        codec::all(&rows, codec::device)
    }

    /// Deletes the device; its commands, sessions, alerts and reports go with it (ON DELETE
    /// CASCADE). Audit lines stay.
    async fn delete_device(&self, device_id: &str) -> Result<bool, StoreError> {
        let _gate = self.write_gate().await;
        let done = sqlx::query(codec::DELETE_DEVICE)
            .bind(device_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn enqueue(
        &self,
        device_id: &str,
        spec: &CommandSpec,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let spec = to_json("spec", spec)?;
        let _gate = self.write_gate().await;
        let id: i64 = sqlx::query_scalar(codec::INSERT_COMMAND)
            .bind(device_id)
            .bind(spec)
            .bind(state_text(CommandState::Queued))
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| map_constraint(e, device_id))?;
        Ok(id)
    }

    async fn command(&self, device_id: &str, id: i64) -> Result<Option<QueuedCommand>, StoreError> {
        let row = sqlx::query(codec::SELECT_COMMAND)
            .bind(device_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(codec::command).transpose()
    }

    async fn commands(&self, device_id: &str) -> Result<Vec<QueuedCommand>, StoreError> {
        let rows = sqlx::query(codec::SELECT_COMMANDS)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        codec::all(&rows, codec::command)
    }

    async fn cancel_command(
        &self,
        device_id: &str,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let _gate = self.write_gate().await;
        let done = sqlx::query(codec::CANCEL_COMMAND)
            .bind(device_id)
            .bind(id)
            .bind(state_text(CommandState::Cancelled))
            .bind(now)
            .bind(state_text(CommandState::Queued))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// One transaction: every device checked, the campaign recorded, its commands queued.
    async fn create_campaign(
        &self,
        devices: &[String],
        specs: &[CommandSpec],
        now: Timestamp,
    ) -> Result<Campaign, StoreError> {
        let _gate = self.write_gate().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let c = campaign::create(&mut tx, devices, specs, now).await?;
        tx.commit().await?;
        Ok(c)
    }

    async fn campaign(&self, id: i64) -> Result<Option<Campaign>, StoreError> {
        let row = sqlx::query(codec::SELECT_CAMPAIGN)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(codec::campaign).transpose()
    }

    async fn campaigns(&self, after: Option<i64>, limit: u32) -> Result<Vec<Campaign>, StoreError> {
        let rows = sqlx::query(codec::SELECT_CAMPAIGNS)
            .bind(after.unwrap_or(0))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        codec::all(&rows, codec::campaign)
    }

    async fn campaign_states(&self, id: i64) -> Result<CampaignStates, StoreError> {
        let rows = sqlx::query(codec::CAMPAIGN_STATES)
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        codec::campaign_states(&rows)
    }

    async fn cancel_campaign(&self, id: i64, now: Timestamp) -> Result<u64, StoreError> {
        let _gate = self.write_gate().await;
        let done = sqlx::query(codec::CANCEL_CAMPAIGN)
            .bind(id)
            .bind(state_text(CommandState::Cancelled))
            .bind(now)
            .bind(state_text(CommandState::Queued))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn alerts(&self, device_id: &str) -> Result<Vec<AlertRecord>, StoreError> {
        let rows = sqlx::query(codec::SELECT_ALERTS)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        codec::all(&rows, codec::alert)
    }

    async fn add_report(
        &self,
        device_id: &str,
        items: &[AlertItem],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let items = to_json("items", items)?;
        let _gate = self.write_gate().await;
        let id: i64 = sqlx::query_scalar(codec::INSERT_REPORT)
            .bind(device_id)
            .bind(items)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| map_constraint(e, device_id))?;
        Ok(id)
    }

    async fn reports(&self, device_id: &str) -> Result<Vec<ReportRecord>, StoreError> {
        let rows = sqlx::query(codec::SELECT_REPORTS)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        codec::all(&rows, codec::report)
    }

    async fn sessions(&self, device_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(codec::SELECT_SESSIONS_SQLITE)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        codec::all(&rows, codec::session)
    }

    async fn device_activity(
        &self,
        device_ids: &[String],
    ) -> Result<Vec<DeviceActivity>, StoreError> {
        let (mut counts, mut open) = (Vec::new(), Vec::new());
        for ids in device_ids.chunks(super::batch::MAX_ROWS) {
            let sql = codec::queue_counts(ids.len());
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            counts.extend(q.fetch_all(&self.pool).await?);
            let sql = codec::open_sessions(ids.len());
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            open.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(codec::device_activity(counts, open))
    }

    async fn activity(&self, since: Timestamp) -> Result<Vec<MinuteActivity>, StoreError> {
        let sessions = sqlx::query_as(codec::SESSIONS_PER_MINUTE)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        let outcomes = sqlx::query_as(codec::OUTCOMES_PER_MINUTE)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        Ok(codec::minutes(sessions, outcomes))
    }

    async fn set_nonces(
        &self,
        device_id: &str,
        client_nonce: Option<&[u8]>,
        server_nonce: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let _gate = self.write_gate().await;
        let done = sqlx::query(codec::SET_NONCES)
            .bind(device_id)
            .bind(client_nonce)
            .bind(server_nonce)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoDevice(device_id.to_owned()));
        }
        Ok(())
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value = sqlx::query_scalar(codec::SELECT_SETTING)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        only_if_absent: bool,
    ) -> Result<String, StoreError> {
        let sql = if only_if_absent {
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
        } else {
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        };
        // One transaction, so that the value read back is the one this write left even when
        // another process sets it at the same moment.
        let _gate = self.write_gate().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(sql)
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        let stored: String = sqlx::query_scalar(codec::SELECT_SETTING)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn audit(&self, entry: &NewAudit, now: Timestamp) -> Result<(), StoreError> {
        let _gate = self.write_gate().await;
        let mut conn = self.pool.acquire().await?;
        tx::insert_audit(&mut conn, entry, now).await
    }

    /// The latest `limit` lines (of the device when given), oldest first.
    async fn audit_log(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::from(limit);
        let rows = match device_id {
            Some(d) => {
                sqlx::query(codec::SELECT_AUDIT_OF_DEVICE)
                    .bind(d)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(codec::SELECT_AUDIT)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        codec::all(&rows, codec::audit)
    }
}

/// Takes our own `synchronous=full|normal` parameter out of the URL (sqlx does not know it):
/// the URL without it, and whether it asked for `full`.
fn take_synchronous(url: &str) -> (String, bool) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), false);
    };
    let mut full = false;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("synchronous") => {
                full = v.eq_ignore_ascii_case("full");
                false
            }
            _ => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), full)
    } else {
        (format!("{base}?{}", rest.join("&")), full)
    }
}

#[cfg(test)]
mod sync_tests {
    use super::take_synchronous;

    #[test]
    fn synchronous_parameter_is_ours() {
        assert_eq!(
            take_synchronous("sqlite://a.db"),
            ("sqlite://a.db".into(), false)
        );
        assert_eq!(
            take_synchronous("sqlite://a.db?synchronous=full"),
            ("sqlite://a.db".into(), true)
        );
        assert_eq!(
            take_synchronous("sqlite://a.db?mode=rwc&synchronous=FULL"),
            ("sqlite://a.db?mode=rwc".into(), true)
        );
        assert_eq!(
            take_synchronous("sqlite://a.db?synchronous=normal"),
            ("sqlite://a.db".into(), false)
        );
    }
}

#[cfg(test)]
mod plan_tests {
    use super::{codec, SqliteStore};

    /// What SQLite plans for `sql`, one line per step.
    async fn plan(s: &SqliteStore, sql: &str) -> String {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(&s.pool)
                .await
                .unwrap();
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
    }

    /// The reads of pending commands walk the partial index that holds only them (migration
    /// 0007): a DM message's, without a sort, and the dashboard's queue counts.
    #[tokio::test]
    async fn pending_reads_use_the_pending_index() {
        let s = SqliteStore::open("sqlite::memory:").await.unwrap();
        let pending = plan(&s, codec::SELECT_PENDING_SQLITE).await;
        assert_eq!(
            pending,
            "SEARCH commands USING INDEX commands_pending (device_id=?)"
        );
        let counts = plan(&s, &codec::queue_counts(2)).await;
        assert!(
            counts.contains("SEARCH commands USING INDEX commands_pending (device_id=?)"),
            "{counts}"
        );
        let all = plan(&s, codec::SELECT_COMMANDS).await;
        assert!(
            all.contains("USING INDEX commands_device (device_id=?)"),
            "{all}"
        );
        assert!(!all.contains("TEMP B-TREE"), "{all}");
    }
}
