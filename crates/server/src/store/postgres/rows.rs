//! PostgreSQL rows as the shared decoding reads them ([`codec::Columns`]), and the reads the
//! store and its transactions share. The stored texts (enum names, JSON) are the SQLite store's,
//! so data moves between the two.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row};

use crate::model::{Device, QueuedCommand, SessionRecord};
use crate::store::codec::{self, corrupt, Columns};
use crate::store::StoreError;

fn col<'r, T>(row: &'r PgRow, name: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name).map_err(|e| corrupt(name, e))
}

/// INTEGER columns are `i32`, BIGINT ones `i64`; TEXT and BYTEA as on SQLite.
impl Columns for PgRow {
    fn text(&self, name: &'static str) -> Result<String, StoreError> {
        col(self, name)
    }
    fn opt_text(&self, name: &'static str) -> Result<Option<String>, StoreError> {
        col(self, name)
    }
    fn int(&self, name: &'static str) -> Result<i64, StoreError> {
        col(self, name)
    }
    fn opt_int(&self, name: &'static str) -> Result<Option<i64>, StoreError> {
        col(self, name)
    }
    fn small_int(&self, name: &'static str) -> Result<i64, StoreError> {
        col::<i32>(self, name).map(i64::from)
    }
    fn opt_small_int(&self, name: &'static str) -> Result<Option<i64>, StoreError> {
        Ok(col::<Option<i32>>(self, name)?.map(i64::from))
    }
    fn bytes(&self, name: &'static str) -> Result<Vec<u8>, StoreError> {
        Ok(col::<Option<Vec<u8>>>(self, name)?.unwrap_or_default())
    }
}

/// One device, on any connection (pooled or inside a transaction).
pub(super) async fn fetch_device(
    conn: &mut PgConnection,
    device_id: &str,
) -> Result<Option<Device>, StoreError> {
    let row = sqlx::query(codec::SELECT_DEVICE)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(codec::device).transpose()
}

/// One device, its row locked until the transaction `conn` is in ends (see [`super::tx`]).
pub(super) async fn lock_device(
    conn: &mut PgConnection,
    device_id: &str,
) -> Result<Option<Device>, StoreError> {
    let sql = format!("{} {LOCK}", codec::SELECT_DEVICE);
    let row = sqlx::query(&sql)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(codec::device).transpose()
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
    let row = sqlx::query(codec::SELECT_SESSION)
        .bind(device_id)
        .bind(session_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(codec::session).transpose()
}

/// A device's pending commands, oldest first (see [`codec::SELECT_PENDING`]).
pub(super) async fn fetch_pending(
    conn: &mut PgConnection,
    device_id: &str,
) -> Result<Vec<QueuedCommand>, StoreError> {
    let rows = sqlx::query(codec::SELECT_PENDING)
        .bind(device_id)
        .fetch_all(&mut *conn)
        .await?;
    codec::all(&rows, codec::command)
}

/// Whether a device is enrolled; when it is, its row is locked as by [`lock_device`].
pub(super) async fn lock_device_exists(
    conn: &mut PgConnection,
    device_id: &str,
) -> Result<bool, StoreError> {
    let sql = format!("{} {LOCK}", codec::DEVICE_EXISTS);
    let row = sqlx::query(&sql)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}
