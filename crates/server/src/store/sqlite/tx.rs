//! One DM message's transaction on SQLite.
//!
//! It begins with `BEGIN IMMEDIATE`, which takes the database's write lock at once: no other
//! writer, in this process or another one on the same file, runs until it commits or rolls back.
//! That is coarser than a row lock but is what SQLite offers, and it satisfies
//! [`StoreTx::device`]'s promise that no other message of the device runs meanwhile. Readers
//! are not blocked (WAL): the REST API keeps answering from the last committed state.

use async_trait::async_trait;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::rows::{self, state_text, to_json};
use crate::model::{CommandState, Device, QueuedCommand, SessionRecord, Timestamp};
use crate::store::{Changes, CommandUpdate, DeviceUpdate, NewAlert, NewAudit, StoreError, StoreTx};

/// An open `BEGIN IMMEDIATE` transaction. Dropping it rolls back (sqlx queues the ROLLBACK on
/// the connection before it returns to the pool).
pub(super) struct SqliteTx {
    // Declared before the gate so that it is dropped (rolled back) first.
    tx: Transaction<'static, Sqlite>,
    _writer: OwnedMutexGuard<()>,
}

impl SqliteTx {
    pub(super) fn new(tx: Transaction<'static, Sqlite>, writer: OwnedMutexGuard<()>) -> Self {
        SqliteTx {
            tx,
            _writer: writer,
        }
    }
}

#[async_trait]
impl StoreTx for SqliteTx {
    /// The device. The whole database is already write-locked by `BEGIN IMMEDIATE`, so the
    /// device is too.
    async fn device(&mut self, device_id: &str) -> Result<Option<Device>, StoreError> {
        rows::fetch_device(&mut self.tx, device_id).await
    }

    async fn session(
        &mut self,
        device_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        rows::fetch_session(&mut self.tx, device_id, session_id).await
    }

    async fn pending_commands(
        &mut self,
        device_id: &str,
    ) -> Result<Vec<QueuedCommand>, StoreError> {
        let states = [CommandState::Queued, CommandState::Sent];
        rows::fetch_commands_in(&mut self.tx, device_id, states).await
    }

    async fn apply(
        &mut self,
        device_id: &str,
        changes: &Changes,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let conn: &mut SqliteConnection = &mut self.tx;
        if !rows::device_exists(conn, device_id).await? {
            return Err(StoreError::NoDevice(device_id.to_owned()));
        }
        update_device(conn, device_id, &changes.device).await?;
        if let Some(s) = &changes.session {
            upsert_session(conn, device_id, s).await?;
        }
        for c in &changes.commands {
            update_command(conn, device_id, c, now).await?;
        }
        let session_id = changes
            .session
            .as_ref()
            .map_or("", |s| s.session_id.as_str());
        for a in &changes.alerts {
            insert_alert(conn, device_id, session_id, a, now).await?;
        }
        for a in &changes.audit {
            insert_audit(conn, a, now).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let SqliteTx { tx, _writer } = *self;
        tx.commit().await?;
        Ok(())
    }
}

/// Writes the fields that are `Some`; the others keep their stored value.
async fn update_device(
    conn: &mut SqliteConnection,
    device_id: &str,
    d: &DeviceUpdate,
) -> Result<(), StoreError> {
    if *d == DeviceUpdate::default() {
        return Ok(());
    }
    let devinfo = d
        .devinfo
        .as_ref()
        .map(|m| to_json("devinfo", m))
        .transpose()?;
    sqlx::query(
        "UPDATE devices SET \
         client_nonce = COALESCE($2, client_nonce), \
         server_nonce = COALESCE($3, server_nonce), \
         devinfo = COALESCE($4, devinfo), \
         dm_version = COALESCE($5, dm_version), \
         last_seen = COALESCE($6, last_seen) \
         WHERE device_id = $1",
    )
    .bind(device_id)
    .bind(d.client_nonce.as_deref())
    .bind(d.server_nonce.as_deref())
    .bind(devinfo)
    .bind(d.dm_version.as_deref())
    .bind(d.last_seen)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts the session or replaces what changes in it (its `started_at` stays the first one).
async fn upsert_session(
    conn: &mut SqliteConnection,
    device_id: &str,
    s: &SessionRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions \
         (device_id, session_id, started_at, updated_at, ended_at, outcome, messages, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (device_id, session_id) DO UPDATE SET \
         updated_at = excluded.updated_at, ended_at = excluded.ended_at, \
         outcome = excluded.outcome, messages = excluded.messages, state = excluded.state",
    )
    .bind(device_id)
    .bind(&s.session_id)
    .bind(s.started_at)
    .bind(s.updated_at)
    .bind(s.ended_at)
    .bind(s.outcome.as_deref())
    .bind(i64::from(s.messages))
    .bind(s.state.as_slice())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Updates one command of the device. Status, results, children and session id keep their
/// stored value when the update has none; a command of another device is left alone.
async fn update_command(
    conn: &mut SqliteConnection,
    device_id: &str,
    c: &CommandUpdate,
    now: Timestamp,
) -> Result<(), StoreError> {
    let results = c
        .results
        .as_ref()
        .map(|r| to_json("results", r))
        .transpose()?;
    let children = c
        .children
        .as_ref()
        .map(|r| to_json("children", r))
        .transpose()?;
    sqlx::query(
        "UPDATE commands SET state = $3, status = COALESCE($4, status), \
         results = COALESCE($5, results), children = COALESCE($6, children), \
         session_id = COALESCE($7, session_id), updated_at = $8 \
         WHERE device_id = $1 AND id = $2",
    )
    .bind(device_id)
    .bind(c.id)
    .bind(state_text(c.state))
    .bind(c.status.map(i64::from))
    .bind(results)
    .bind(children)
    .bind(c.session_id.as_deref())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_alert(
    conn: &mut SqliteConnection,
    device_id: &str,
    session_id: &str,
    a: &NewAlert,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alerts (device_id, session_id, code, correlator, items, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(device_id)
    .bind(session_id)
    .bind(i64::from(a.code))
    .bind(a.correlator.as_deref())
    .bind(to_json("items", &a.items)?)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends one audit line (shared with [`crate::store::Store::audit`]).
pub(super) async fn insert_audit(
    conn: &mut SqliteConnection,
    a: &NewAudit,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (at, device_id, session_id, event, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(a.device_id.as_deref())
    .bind(a.session_id.as_deref())
    .bind(&a.event)
    .bind(to_json("detail", &a.detail)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
