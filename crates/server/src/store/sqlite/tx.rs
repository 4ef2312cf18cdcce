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

use super::rows;
use crate::model::{Device, QueuedCommand, SessionRecord, Timestamp};
use crate::store::batch;
use crate::store::codec::{self, opt_to_json, state_text, to_json};
use crate::store::{Changes, CommandUpdate, DeviceUpdate, NewAlert, NewAudit, StoreError, StoreTx};

/// An open `BEGIN IMMEDIATE` transaction on a pooled connection. Dropping it rolls back: sqlx
/// queues the ROLLBACK before the connection returns to the pool. (The DM endpoint's messages on
/// a file database run on the writer thread instead, [`super::writer`].)
pub(super) struct SqliteTx {
    /// `None` once committed.
    tx: Option<Transaction<'static, Sqlite>>,
    /// Held until the transaction ends.
    _writer: OwnedMutexGuard<()>,
    /// The device [`StoreTx::device`] found in this transaction: under the write lock it cannot
    /// have gone since, so [`StoreTx::apply`] need not look again.
    found: Option<String>,
}

impl SqliteTx {
    pub(super) fn new(tx: Transaction<'static, Sqlite>, writer: OwnedMutexGuard<()>) -> Self {
        SqliteTx {
            tx: Some(tx),
            _writer: writer,
            found: None,
        }
    }

    fn conn(&mut self) -> Result<&mut SqliteConnection, StoreError> {
        match &mut self.tx {
            Some(tx) => Ok(&mut **tx),
            // Only commit takes the transaction, and it consumes it.
            None => Err(StoreError::Db(sqlx::Error::PoolClosed)),
        }
    }
}

#[async_trait]
impl StoreTx for SqliteTx {
    /// The device. The whole database is already write-locked by `BEGIN IMMEDIATE`, so the
    /// device is too.
    async fn device(&mut self, device_id: &str) -> Result<Option<Device>, StoreError> {
        let d = rows::fetch_device(self.conn()?, device_id).await?;
        self.found = d.as_ref().map(|d| d.device_id.clone());
        Ok(d)
    }

    async fn session(
        &mut self,
        device_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        rows::fetch_session(self.conn()?, device_id, session_id).await
    }

    async fn pending_commands(
        &mut self,
        device_id: &str,
    ) -> Result<Vec<QueuedCommand>, StoreError> {
        rows::fetch_pending(self.conn()?, device_id).await
    }

    async fn apply(
        &mut self,
        device_id: &str,
        changes: &Changes,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let known = self.found.as_deref() == Some(device_id);
        let conn = self.conn()?;
        if !known && !rows::device_exists(conn, device_id).await? {
            return Err(StoreError::NoDevice(device_id.to_owned()));
        }
        update_device(conn, device_id, &changes.device).await?;
        if let Some(s) = &changes.session {
            upsert_session(conn, device_id, s).await?;
        }
        if changes.commands.len() > 1 && batch::distinct(&changes.commands) {
            for chunk in changes.commands.chunks(batch::MAX_ROWS) {
                update_commands(conn, device_id, chunk, now).await?;
            }
        } else {
            for c in &changes.commands {
                update_command(conn, device_id, c, now).await?;
            }
        }
        let session_id = changes.alert_session_id();
        for a in &changes.alerts {
            insert_alert(conn, device_id, session_id, a, now).await?;
        }
        for chunk in changes.audit.chunks(batch::MAX_ROWS) {
            insert_audits(conn, chunk, now).await?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
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
    let devinfo = opt_to_json("devinfo", d.devinfo.as_ref())?;
    sqlx::query(codec::UPDATE_DEVICE)
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
    let (row, running) = super::split_state(s);
    sqlx::query(codec::UPSERT_SESSION)
        .bind(device_id)
        .bind(&s.session_id)
        .bind(s.started_at)
        .bind(s.updated_at)
        .bind(s.ended_at)
        .bind(s.outcome.as_deref())
        .bind(i64::from(s.messages))
        .bind(row)
        .execute(&mut *conn)
        .await?;
    let state = match running {
        Some(state) => sqlx::query(codec::UPSERT_SESSION_STATE)
            .bind(device_id)
            .bind(&s.session_id)
            .bind(state),
        None => sqlx::query(codec::DELETE_SESSION_STATE)
            .bind(device_id)
            .bind(&s.session_id),
    };
    state.execute(&mut *conn).await?;
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
    let results = opt_to_json("results", c.results.as_ref())?;
    let children = opt_to_json("children", c.children.as_ref())?;
    sqlx::query(codec::UPDATE_COMMAND)
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

/// Updates distinct commands of the device in one statement, as [`update_command`] does each.
async fn update_commands(
    conn: &mut SqliteConnection,
    device_id: &str,
    cs: &[CommandUpdate],
    now: Timestamp,
) -> Result<(), StoreError> {
    let sql = batch::update_commands_sqlite(cs.len());
    let mut q = sqlx::query(&sql).bind(device_id).bind(now);
    for c in cs {
        q = q
            .bind(c.id)
            .bind(state_text(c.state))
            .bind(c.status.map(i64::from))
            .bind(opt_to_json("results", c.results.as_ref())?)
            .bind(opt_to_json("children", c.children.as_ref())?)
            .bind(c.session_id.as_deref());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

async fn insert_alert(
    conn: &mut SqliteConnection,
    device_id: &str,
    session_id: &str,
    a: &NewAlert,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(codec::INSERT_ALERT)
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

/// Appends audit lines in one statement.
async fn insert_audits(
    conn: &mut SqliteConnection,
    lines: &[NewAudit],
    now: Timestamp,
) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let sql = batch::insert_audit(lines.len());
    let mut q = sqlx::query(&sql);
    for a in lines {
        q = q
            .bind(now)
            .bind(a.device_id.as_deref())
            .bind(a.session_id.as_deref())
            .bind(&a.event)
            .bind(to_json("detail", &a.detail)?);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Appends one audit line (shared with [`crate::store::Store::audit`]).
pub(super) async fn insert_audit(
    conn: &mut SqliteConnection,
    a: &NewAudit,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(codec::INSERT_AUDIT)
        .bind(now)
        .bind(a.device_id.as_deref())
        .bind(a.session_id.as_deref())
        .bind(&a.event)
        .bind(to_json("detail", &a.detail)?)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
