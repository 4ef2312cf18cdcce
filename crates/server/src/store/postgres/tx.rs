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

use super::rows;
use crate::model::{Device, QueuedCommand, SessionRecord, Timestamp};
use crate::store::batch;
use crate::store::codec::{self, opt_to_json, state_text, to_json};
use crate::store::{Changes, CommandUpdate, DeviceUpdate, NewAlert, NewAudit, StoreError, StoreTx};

/// An open transaction. Dropping it rolls back (sqlx queues the ROLLBACK on the connection
/// before it returns to the pool), which also releases the device's row lock.
pub(super) struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// The device whose row [`StoreTx::device`] locked, if it found one: [`StoreTx::apply`]
    /// need not lock it again.
    locked: Option<String>,
}

impl PgTx {
    pub(super) fn new(tx: Transaction<'static, Postgres>) -> Self {
        PgTx { tx, locked: None }
    }
}

#[async_trait]
impl StoreTx for PgTx {
    /// The device, its row locked until the transaction ends.
    async fn device(&mut self, device_id: &str) -> Result<Option<Device>, StoreError> {
        let device = rows::lock_device(&mut self.tx, device_id).await?;
        if device.is_some() {
            self.locked = Some(device_id.to_owned());
        }
        Ok(device)
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
        rows::fetch_pending(&mut self.tx, device_id).await
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
        if self.locked.as_deref() != Some(device_id)
            && !rows::lock_device_exists(conn, device_id).await?
        {
            return Err(StoreError::NoDevice(device_id.to_owned()));
        }
        let session_id = changes.alert_session_id();
        for a in &changes.alerts {
            insert_alert(conn, device_id, session_id, a, now).await?;
        }
        if let Some(shape) = one_statement(changes) {
            return write_all(conn, device_id, changes, shape, now).await;
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
        for chunk in changes.audit.chunks(batch::MAX_ROWS) {
            insert_audits(conn, chunk, now).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// The shape of `changes` when [`write_all`] can write them (all but the alerts) in one
/// statement: the command updates name distinct commands, and no part needs more than one
/// statement's rows.
fn one_statement(changes: &Changes) -> Option<batch::WriteShape> {
    let fits = changes.commands.len() <= batch::MAX_ROWS
        && changes.audit.len() <= batch::MAX_ROWS
        && batch::distinct(&changes.commands);
    fits.then(|| batch::WriteShape {
        device: changes.device != DeviceUpdate::default(),
        session: changes.session.is_some(),
        commands: changes.commands.len(),
        audit: changes.audit.len(),
    })
}

/// Writes the device, session, command and audit changes in one round trip
/// ([`batch::message_writes_postgres`]): what [`update_device`], [`upsert_session`],
/// [`update_commands`] and [`insert_audits`] do, bound in the same order.
async fn write_all(
    conn: &mut PgConnection,
    device_id: &str,
    changes: &Changes,
    shape: batch::WriteShape,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(sql) =
        batch::message_writes_postgres(shape, codec::UPDATE_DEVICE, codec::UPSERT_SESSION)
    else {
        return Ok(());
    };
    let mut q = sqlx::query(&sql).bind(device_id).bind(now);
    if shape.device {
        q = bind_device(q, &changes.device)?;
    }
    if let Some(s) = &changes.session {
        q = bind_session(q, s);
    }
    for c in &changes.commands {
        q = bind_command(q, c)?;
    }
    for a in &changes.audit {
        q = bind_audit(q, a, now)?;
    }
    q.execute(&mut *conn).await?;
    Ok(())
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
    bind_device(sqlx::query(codec::UPDATE_DEVICE).bind(device_id), d)?
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A query binding an update's values as `$n..` (statements built by `sqlx::query`).
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds a device update's 5 fields ([`batch::DEVICE_BINDS`]), in `UPDATE_DEVICE`'s order.
fn bind_device<'q>(q: PgQuery<'q>, d: &'q DeviceUpdate) -> Result<PgQuery<'q>, StoreError> {
    Ok(q.bind(d.client_nonce.as_deref())
        .bind(d.server_nonce.as_deref())
        .bind(opt_to_json("devinfo", d.devinfo.as_ref())?)
        .bind(d.dm_version.as_deref())
        .bind(d.last_seen))
}

/// Binds a session's 7 fields after its device ([`batch::SESSION_BINDS`]), in
/// `UPSERT_SESSION`'s order.
fn bind_session<'q>(q: PgQuery<'q>, s: &'q SessionRecord) -> PgQuery<'q> {
    q.bind(&s.session_id)
        .bind(s.started_at)
        .bind(s.updated_at)
        .bind(s.ended_at)
        .bind(s.outcome.as_deref())
        .bind(i64::from(s.messages))
        .bind(s.state.as_slice())
}

/// Binds one command update's [`batch::COMMAND_COLUMNS`] values.
fn bind_command<'q>(q: PgQuery<'q>, c: &'q CommandUpdate) -> Result<PgQuery<'q>, StoreError> {
    Ok(q.bind(c.id)
        .bind(state_text(c.state))
        .bind(c.status.map(i32::from))
        .bind(opt_to_json("results", c.results.as_ref())?)
        .bind(opt_to_json("children", c.children.as_ref())?)
        .bind(c.session_id.as_deref()))
}

/// Binds one audit line's [`batch::AUDIT_COLUMNS`] values.
fn bind_audit<'q>(
    q: PgQuery<'q>,
    a: &'q NewAudit,
    now: Timestamp,
) -> Result<PgQuery<'q>, StoreError> {
    Ok(q.bind(now)
        .bind(a.device_id.as_deref())
        .bind(a.session_id.as_deref())
        .bind(&a.event)
        .bind(to_json("detail", &a.detail)?))
}

/// Inserts the session or replaces what changes in it (its `started_at` stays the first one).
async fn upsert_session(
    conn: &mut PgConnection,
    device_id: &str,
    s: &SessionRecord,
) -> Result<(), StoreError> {
    bind_session(sqlx::query(codec::UPSERT_SESSION).bind(device_id), s)
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
    bind_command(sqlx::query(codec::UPDATE_COMMAND).bind(device_id), c)?
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Updates distinct commands of the device in one statement, as [`update_command`] does each.
async fn update_commands(
    conn: &mut PgConnection,
    device_id: &str,
    cs: &[CommandUpdate],
    now: Timestamp,
) -> Result<(), StoreError> {
    let sql = batch::update_commands_postgres(cs.len());
    let mut q = sqlx::query(&sql).bind(device_id).bind(now);
    for c in cs {
        q = bind_command(q, c)?;
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

async fn insert_alert(
    conn: &mut PgConnection,
    device_id: &str,
    session_id: &str,
    a: &NewAlert,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(codec::INSERT_ALERT)
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

/// Appends audit lines in one statement.
async fn insert_audits(
    conn: &mut PgConnection,
    lines: &[NewAudit],
    now: Timestamp,
) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let sql = batch::insert_audit(lines.len());
    let mut q = sqlx::query(&sql);
    for a in lines {
        q = bind_audit(q, a, now)?;
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Appends one audit line (shared with [`crate::store::Store::audit`]).
pub(super) async fn insert_audit(
    conn: &mut PgConnection,
    a: &NewAudit,
    now: Timestamp,
) -> Result<(), StoreError> {
    bind_audit(sqlx::query(codec::INSERT_AUDIT), a, now)?
        .execute(&mut *conn)
        .await?;
    Ok(())
}
