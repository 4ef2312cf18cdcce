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

mod rows;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use self::rows::{auth_type_text, state_text, to_json};
use super::{NewAudit, Store, StoreError, StoreTx};
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

/// A constraint failure as the error the trait promises for it.
fn map_constraint(e: sqlx::Error, device_id: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            ErrorKind::UniqueViolation => return StoreError::DeviceExists(device_id.to_owned()),
            ErrorKind::ForeignKeyViolation => return StoreError::NoDevice(device_id.to_owned()),
            _ => {}
        }
    }
    StoreError::Db(e)
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(tx::PgTx::new(tx)))
    }

    async fn create_device(&self, d: &NewDevice, now: Timestamp) -> Result<Device, StoreError> {
        let device = Device {
            device_id: d.device_id.clone(),
            client_auth: d.client_auth.clone(),
            server_auth: d.server_auth.clone(),
            push_url: d.push_url.clone(),
            client_nonce: Vec::new(),
            server_nonce: Vec::new(),
            devinfo: Default::default(),
            dm_version: None,
            created_at: now,
            last_seen: None,
        };
        sqlx::query(
            "INSERT INTO devices (device_id, client_auth_type, client_auth_name, \
             client_auth_secret, server_auth_name, server_auth_secret, push_url, client_nonce, \
             server_nonce, devinfo, dm_version, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL)",
        )
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
        let cols = rows::DEVICE_COLUMNS;
        let rows = match after {
            Some(after) => {
                let sql = format!(
                    "SELECT {cols} FROM devices WHERE device_id > $1 ORDER BY device_id LIMIT $2"
                );
                sqlx::query(&sql)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {cols} FROM devices ORDER BY device_id LIMIT $1");
                sqlx::query(&sql)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows::all(&rows, rows::device)
    }

    /// Deletes the device; its commands, sessions, alerts and reports go with it (ON DELETE
    /// CASCADE). Audit lines stay.
    async fn delete_device(&self, device_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM devices WHERE device_id = $1")
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
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO commands (device_id, spec, state, status, results, children, \
             session_id, created_at, updated_at) \
             VALUES ($1, $2, $3, NULL, '[]', '[]', NULL, $4, $4) RETURNING id",
        )
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
        let sql = format!(
            "SELECT {} FROM commands WHERE device_id = $1 AND id = $2",
            rows::COMMAND_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(device_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::command).transpose()
    }

    async fn commands(&self, device_id: &str) -> Result<Vec<QueuedCommand>, StoreError> {
        let sql = format!(
            "SELECT {} FROM commands WHERE device_id = $1 ORDER BY id",
            rows::COMMAND_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        rows::all(&rows, rows::command)
    }

    async fn cancel_command(
        &self,
        device_id: &str,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE commands SET state = $3, updated_at = $4 \
             WHERE device_id = $1 AND id = $2 AND state = $5",
        )
        .bind(device_id)
        .bind(id)
        .bind(state_text(CommandState::Cancelled))
        .bind(now)
        .bind(state_text(CommandState::Queued))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn alerts(&self, device_id: &str) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM alerts WHERE device_id = $1 ORDER BY id",
            rows::ALERT_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        rows::all(&rows, rows::alert)
    }

    async fn add_report(
        &self,
        device_id: &str,
        items: &[AlertItem],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let items = to_json("items", items)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reports (device_id, items, received_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(device_id)
        .bind(items)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| map_constraint(e, device_id))?;
        Ok(id)
    }

    async fn reports(&self, device_id: &str) -> Result<Vec<ReportRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM reports WHERE device_id = $1 ORDER BY id",
            rows::REPORT_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        rows::all(&rows, rows::report)
    }

    async fn sessions(&self, device_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM sessions WHERE device_id = $1 ORDER BY started_at, session_id",
            rows::SESSION_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        rows::all(&rows, rows::session)
    }

    async fn set_nonces(
        &self,
        device_id: &str,
        client_nonce: Option<&[u8]>,
        server_nonce: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE devices SET client_nonce = COALESCE($2, client_nonce), \
             server_nonce = COALESCE($3, server_nonce) WHERE device_id = $1",
        )
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
        let value = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
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
        let stored: String = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
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
        let cols = rows::AUDIT_COLUMNS;
        let limit = i64::from(limit);
        let rows = match device_id {
            Some(d) => {
                let sql = format!(
                    "SELECT {cols} FROM (SELECT {cols} FROM audit WHERE device_id = $1 \
                     ORDER BY id DESC LIMIT $2) AS latest ORDER BY id"
                );
                sqlx::query(&sql)
                    .bind(d)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!(
                    "SELECT {cols} FROM (SELECT {cols} FROM audit ORDER BY id DESC LIMIT $1) \
                     AS latest ORDER BY id"
                );
                sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?
            }
        };
        rows::all(&rows, rows::audit)
    }
}
