//! Rows to records and back on PostgreSQL: the column lists, decoding that never panics on stored
//! data (a bad value is [`StoreError::Corrupt`]), and the reads the store and its transactions
//! share. The stored texts (enum names, JSON) are the SQLite store's, so data moves between the two.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row};

use crate::model::{
    AlertRecord, AuditEntry, ClientAuth, ClientAuthType, CommandState, Device, QueuedCommand,
    ReportRecord, ServerAuth, SessionRecord,
};
use crate::store::StoreError;

pub(super) const DEVICE_COLUMNS: &str = "device_id, client_auth_type, client_auth_name, \
     client_auth_secret, server_auth_name, server_auth_secret, push_url, client_nonce, \
     server_nonce, devinfo, dm_version, created_at, last_seen";

pub(super) const COMMAND_COLUMNS: &str = "id, device_id, spec, state, status, results, children, \
     session_id, created_at, updated_at";

pub(super) const SESSION_COLUMNS: &str =
    "device_id, session_id, started_at, updated_at, ended_at, outcome, messages, state";

pub(super) const ALERT_COLUMNS: &str =
    "id, device_id, session_id, code, correlator, items, received_at";

pub(super) const REPORT_COLUMNS: &str = "id, device_id, items, received_at";

pub(super) const AUDIT_COLUMNS: &str = "id, at, device_id, session_id, event, detail";

/// The text a [`ClientAuthType`] is stored as (its serde name).
pub(super) fn auth_type_text(t: ClientAuthType) -> &'static str {
    match t {
        ClientAuthType::Basic => "basic",
        ClientAuthType::Digest => "digest",
        ClientAuthType::Hmac => "hmac",
    }
}

fn auth_type_from(text: &str) -> Result<ClientAuthType, StoreError> {
    match text {
        "basic" => Ok(ClientAuthType::Basic),
        "digest" => Ok(ClientAuthType::Digest),
        "hmac" => Ok(ClientAuthType::Hmac),
        other => Err(corrupt("client_auth_type", other)),
    }
}

/// The text a [`CommandState`] is stored as (its serde name).
pub(super) fn state_text(s: CommandState) -> &'static str {
    match s {
        CommandState::Queued => "queued",
        CommandState::Sent => "sent",
        CommandState::Done => "done",
        CommandState::Failed => "failed",
        CommandState::Cancelled => "cancelled",
    }
}

fn state_from(text: &str) -> Result<CommandState, StoreError> {
    match text {
        "queued" => Ok(CommandState::Queued),
        "sent" => Ok(CommandState::Sent),
        "done" => Ok(CommandState::Done),
        "failed" => Ok(CommandState::Failed),
        "cancelled" => Ok(CommandState::Cancelled),
        other => Err(corrupt("state", other)),
    }
}

fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

/// A value as the JSON text of its column. The model types always serialize; the error path
/// exists only so that nothing here panics.
pub(super) fn to_json<T: Serialize + ?Sized>(
    what: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(what, format_args!("cannot encode: {e}")))
}

fn col<'r, T>(row: &'r PgRow, name: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name).map_err(|e| corrupt(name, e))
}

fn json_col<T: DeserializeOwned>(row: &PgRow, name: &'static str) -> Result<T, StoreError> {
    let text: String = col(row, name)?;
    serde_json::from_str(&text).map_err(|e| corrupt(name, e))
}

/// An integer column `S` (INTEGER is `i32`, BIGINT `i64`) as `T`, out of range being corrupt.
fn int_col<S, T>(row: &PgRow, name: &'static str) -> Result<T, StoreError>
where
    S: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + Copy + std::fmt::Display,
    T: TryFrom<S>,
{
    let v: S = col(row, name)?;
    T::try_from(v).map_err(|_| corrupt(name, format_args!("{v} is out of range")))
}

fn opt_int_col<S, T>(row: &PgRow, name: &'static str) -> Result<Option<T>, StoreError>
where
    S: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + Copy + std::fmt::Display,
    T: TryFrom<S>,
{
    match col::<Option<S>>(row, name)? {
        None => Ok(None),
        Some(v) => T::try_from(v)
            .map(Some)
            .map_err(|_| corrupt(name, format_args!("{v} is out of range"))),
    }
}

/// A BYTEA column; NULL reads as empty.
fn bytes_col(row: &PgRow, name: &'static str) -> Result<Vec<u8>, StoreError> {
    Ok(col::<Option<Vec<u8>>>(row, name)?.unwrap_or_default())
}

pub(super) fn device(row: &PgRow) -> Result<Device, StoreError> {
    let auth_type: String = col(row, "client_auth_type")?;
    Ok(Device {
        device_id: col(row, "device_id")?,
        client_auth: ClientAuth {
            type_: auth_type_from(&auth_type)?,
            name: col(row, "client_auth_name")?,
            secret: col(row, "client_auth_secret")?,
        },
        server_auth: ServerAuth {
            name: col(row, "server_auth_name")?,
            secret: col(row, "server_auth_secret")?,
        },
        push_url: col(row, "push_url")?,
        client_nonce: bytes_col(row, "client_nonce")?,
        server_nonce: bytes_col(row, "server_nonce")?,
        devinfo: json_col(row, "devinfo")?,
        dm_version: col(row, "dm_version")?,
        created_at: col(row, "created_at")?,
        last_seen: col(row, "last_seen")?,
    })
}

pub(super) fn command(row: &PgRow) -> Result<QueuedCommand, StoreError> {
    let state: String = col(row, "state")?;
    Ok(QueuedCommand {
        id: col(row, "id")?,
        device_id: col(row, "device_id")?,
        spec: json_col(row, "spec")?,
        state: state_from(&state)?,
        status: opt_int_col::<i32, _>(row, "status")?,
        results: json_col(row, "results")?,
        children: json_col(row, "children")?,
        session_id: col(row, "session_id")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

pub(super) fn session(row: &PgRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        device_id: col(row, "device_id")?,
        session_id: col(row, "session_id")?,
        started_at: col(row, "started_at")?,
        updated_at: col(row, "updated_at")?,
        ended_at: col(row, "ended_at")?,
        outcome: col(row, "outcome")?,
        messages: int_col::<i64, _>(row, "messages")?,
        state: bytes_col(row, "state")?,
    })
}

pub(super) fn alert(row: &PgRow) -> Result<AlertRecord, StoreError> {
    Ok(AlertRecord {
        id: col(row, "id")?,
        device_id: col(row, "device_id")?,
        session_id: col(row, "session_id")?,
        code: int_col::<i32, _>(row, "code")?,
        correlator: col(row, "correlator")?,
        items: json_col(row, "items")?,
        received_at: col(row, "received_at")?,
    })
}

pub(super) fn report(row: &PgRow) -> Result<ReportRecord, StoreError> {
    Ok(ReportRecord {
        id: col(row, "id")?,
        device_id: col(row, "device_id")?,
        items: json_col(row, "items")?,
        received_at: col(row, "received_at")?,
    })
}

pub(super) fn audit(row: &PgRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: col(row, "id")?,
        at: col(row, "at")?,
        device_id: col(row, "device_id")?,
        session_id: col(row, "session_id")?,
        event: col(row, "event")?,
        detail: json_col(row, "detail")?,
    })
}

/// Decodes every row with `f`.
pub(super) fn all<T>(
    rows: &[PgRow],
    f: fn(&PgRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

/// One device, on any connection (pooled or inside a transaction).
pub(super) async fn fetch_device(
    conn: &mut PgConnection,
    device_id: &str,
) -> Result<Option<Device>, StoreError> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = $1");
    let row = sqlx::query(&sql)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(device).transpose()
}

/// One device, its row locked until the transaction `conn` is in ends (see [`super::tx`]).
pub(super) async fn lock_device(
    conn: &mut PgConnection,
    device_id: &str,
) -> Result<Option<Device>, StoreError> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = $1 {LOCK}");
    let row = sqlx::query(&sql)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(device).transpose()
}

/// The row lock a message's transaction takes on its device. `NO KEY UPDATE` excludes every
/// other message of the device (and `set_nonces`, `delete_device`) like `FOR UPDATE`, but not the
/// `KEY SHARE` lock a foreign key check takes, so the REST API can still queue commands and
/// record reports for the device meanwhile.
pub(super) const LOCK: &str = "FOR NO KEY UPDATE";

/// One session of a device.
pub(super) async fn fetch_session(
    conn: &mut PgConnection,
    device_id: &str,
    session_id: &str,
) -> Result<Option<SessionRecord>, StoreError> {
    let sql =
        format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE device_id = $1 AND session_id = $2");
    let row = sqlx::query(&sql)
        .bind(device_id)
        .bind(session_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(session).transpose()
}

/// A device's commands in the given states, oldest first.
pub(super) async fn fetch_commands_in(
    conn: &mut PgConnection,
    device_id: &str,
    states: [CommandState; 2],
) -> Result<Vec<QueuedCommand>, StoreError> {
    let sql = format!(
        "SELECT {COMMAND_COLUMNS} FROM commands \
         WHERE device_id = $1 AND (state IN ($2, $3) OR (state = 'done' AND status = 202)) \
         ORDER BY id"
    );
    let rows = sqlx::query(&sql)
        .bind(device_id)
        .bind(state_text(states[0]))
        .bind(state_text(states[1]))
        .fetch_all(&mut *conn)
        .await?;
    all(&rows, command)
}

/// Whether a device is enrolled; when it is, its row is locked as by [`lock_device`].
pub(super) async fn lock_device_exists(
    conn: &mut PgConnection,
    device_id: &str,
) -> Result<bool, StoreError> {
    let sql = format!("SELECT 1 FROM devices WHERE device_id = $1 {LOCK}");
    let row = sqlx::query(&sql)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}
