//! The PostgreSQL store: several `omadm server` processes share one database (issue 7), migrations
//! embedded.
//!
//! Nothing is serialised inside the process. A message's [`StoreTx`] locks its device's row (see
//! [`tx`]), so two messages of one device never run at once in any process, while messages of
//! different devices run in parallel, each on its own pooled connection. Every other write is one
//! statement (or, for settings, two that need no transaction), atomic on its own.
//!
//! Holding a [`StoreTx`] while calling, on the same task, a write of the same store that touches
//! the locked device row (`set_nonces`, `delete_device`) or beginning a second transaction for
//! the same device would wait for itself until [`LOCK_TIMEOUT`]; the DM endpoint never does.

mod campaign;
mod rows;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::codec::{self, auth_type_text, map_constraint, state_text, to_json};
use super::{
    Campaign, CampaignStates, DeviceActivity, MinuteActivity, NewAudit, Store, StoreError, StoreTx,
};
use crate::model::{
    AlertItem, AlertRecord, AuditEntry, CommandSpec, CommandState, Device, NewDevice,
    QueuedCommand, ReportRecord, SessionRecord, Timestamp,
};

/// How long a statement waits for a row lock (another message of the same device) before
/// failing, unless the URL sets `lock_timeout` itself. The SQLite store's busy timeout.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Pooled connections: one per message in flight, plus the REST API's reads and writes.
const CONNECTIONS: u32 = 16;

/// The migrations, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL implementation of [`super::Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PgStore {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// The URL is libpq's (`postgres://user:password@host:port/database?...`). Server settings
    /// given as `options=-c name=value` or `options[name]=value` apply to every connection; with
    /// `search_path` they put the store's tables in a schema of their own (which must exist).
    /// Concurrent opens of one database are safe: the migrator takes an advisory lock.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        if !is_postgres_url(url) {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        let mut options = PgConnectOptions::from_str(url)?;
        if !options
            .get_options()
            .is_some_and(|o| o.contains("lock_timeout"))
        {
            let ms = LOCK_TIMEOUT.as_millis();
            options = options.options([("lock_timeout", format!("{ms}ms"))]);
        }
        if options.get_application_name().is_none() {
            options = options.application_name("omadm");
        }
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// Closes every connection (waiting for the ones in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(tx::PgTx::new(tx)))
    }

    async fn create_device(&self, d: &NewDevice, now: Timestamp) -> Result<Device, StoreError> {
        let device = codec::enrolled(d, now);
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
        let mut tx = self.pool.begin().await?;
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
        let rows = sqlx::query(codec::SELECT_SESSIONS)
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
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING RETURNING value"
        } else {
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value RETURNING value"
        };
        let written: Option<String> = sqlx::query_scalar(sql)
            .bind(key)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(stored) = written {
            return Ok(stored);
        }
        // The key was set already (an insert racing with this one waited for it to commit, so
        // it is committed). Settings are never deleted, so it is still there.
        let stored: String = sqlx::query_scalar(codec::SELECT_SETTING)
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(stored)
    }

    async fn audit(&self, entry: &NewAudit, now: Timestamp) -> Result<(), StoreError> {
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

#[cfg(test)]
mod plan_tests {
    use sqlx::{Connection, PgConnection};

    use super::{codec, PgStore};

    /// The plan of a DM message's pending-commands read (`$1` bound) on a fresh schema of the
    /// test database, with sequential scans off: the tables are empty, and the question is which
    /// index the planner can use, not whether it would rather read a tiny table whole.
    #[tokio::test]
    async fn pending_read_uses_the_pending_index() {
        let Ok(base) = std::env::var("OMADM_TEST_POSTGRES_URL") else {
            eprintln!("OMADM_TEST_POSTGRES_URL not set: skipped");
            return;
        };
        let schema = format!("omadm_plan_{}", std::process::id());
        let mut admin = PgConnection::connect(&base).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options[search_path]={schema}");
        let plan = async {
            let store = PgStore::open(&url).await?;
            store.close().await;
            let mut conn = PgConnection::connect(&url).await?;
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut conn)
                .await?;
            let lines: Vec<String> =
                sqlx::query_scalar(&format!("EXPLAIN {}", codec::SELECT_PENDING))
                    .bind("dev-1")
                    .fetch_all(&mut conn)
                    .await?;
            conn.close().await?;
            Ok::<_, Box<dyn std::error::Error>>(lines.join("\n"))
        }
        .await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut admin)
            .await
            .unwrap();
        let plan = plan.unwrap();
        assert!(
            plan.contains("Index Scan using commands_pending on commands"),
            "{plan}"
        );
        assert!(!plan.contains("Sort"), "{plan}");
    }
}
