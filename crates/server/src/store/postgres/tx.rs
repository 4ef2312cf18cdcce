//! One DM message's transaction on PostgreSQL.
//!
//! A plain `BEGIN` (READ COMMITTED): the transaction's [`StoreTx::device`] locks the device's row
//! (`SELECT ... FOR NO KEY UPDATE`, see [`rows::LOCK`]), so a second message of the same device,
//! in this process or in another server process on the same database, waits in its own
//! `device()` until this transaction commits or rolls back, and then reads the committed row
//! (READ COMMITTED re-reads a row it waited for; every later statement sees the new snapshot).
//! Messages of other devices run in parallel. The other reads and writes are plain statements.
//! A waiting lock gives up after the store's `lock_timeout` (see [`super::LOCK_TIMEOUT`]).

use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, Transaction};

use super::rows::{self, state_text, to_json};
use crate::model::{CommandState, Device, QueuedCommand, SessionRecord, Timestamp};
use crate::store::{Changes, CommandUpdate, DeviceUpdate, NewAlert, NewAudit, StoreError, StoreTx};

/// An open transaction. Dropping it rolls back (sqlx queues the ROLLBACK on the connection
/// before it returns to the pool), which also releases the device's row lock.
pub(super) struct PgTx {
    tx: Transaction<'static, Postgres>,
}

impl PgTx {
    pub(super) fn new(tx: Transaction<'static, Postgres>) -> Self {
        PgTx { tx }
    }
}

#[async_trait]
impl StoreTx for PgTx {
    /// The device, its row locked until the transaction ends.
    async fn device(&mut self, device_id: &str) -> Result<Option<Device>, StoreError> {
        rows::lock_device(&mut self.tx, device_id).await
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

    /// Writes `changes`. The device's row is locked first (a no-op when [`StoreTx::device`]
    /// already did), so a transaction that skipped `device()` is serialised all the same.
    async fn apply(
        &mut self,
        device_id: &str,
        changes: &Changes,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let conn: &mut PgConnection = &mut self.tx;
        if !rows::lock_device_exists(conn, device_id).await? {
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
        self.tx.commit().await?;
        Ok(())
    }
}

/// Writes the fields that are `Some`; the others keep their stored value.
async fn update_device(
    conn: &mut PgConnection,
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
    conn: &mut PgConnection,
    device_id: &str,
    s: &SessionRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions \
         (device_id, session_id, started_at, updated_at, ended_at, outcome, messages, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (device_id, session_id) DO UPDATE SET \
         updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at, \
         outcome = EXCLUDED.outcome, messages = EXCLUDED.messages, state = EXCLUDED.state",
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
    conn: &mut PgConnection,
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
    .bind(c.status.map(i32::from))
    .bind(results)
    .bind(children)
    .bind(c.session_id.as_deref())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_alert(
    conn: &mut PgConnection,
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
    .bind(i32::from(a.code))
    .bind(a.correlator.as_deref())
    .bind(to_json("items", &a.items)?)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends one audit line (shared with [`crate::store::Store::audit`]).
pub(super) async fn insert_audit(
    conn: &mut PgConnection,
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
