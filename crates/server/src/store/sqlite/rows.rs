//! SQLite rows as the shared decoding reads them ([`codec::Columns`]), and the reads the store
//! and its transactions share.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection};

use crate::model::{Device, QueuedCommand, SessionRecord};
use crate::store::codec::{self, corrupt, Columns};
use crate::store::StoreError;

fn col<'r, T>(row: &'r SqliteRow, name: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(name).map_err(|e| corrupt(name, e))
}

/// SQLite has one INTEGER type (64 bits) and one TEXT type.
impl Columns for SqliteRow {
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
        col(self, name)
    }
    fn opt_small_int(&self, name: &'static str) -> Result<Option<i64>, StoreError> {
        col(self, name)
    }
    fn bytes(&self, name: &'static str) -> Result<Vec<u8>, StoreError> {
        Ok(col::<Option<Vec<u8>>>(self, name)?.unwrap_or_default())
    }
}

/// One device, on any connection (pooled or inside a transaction).
pub(super) async fn fetch_device(
    conn: &mut SqliteConnection,
    device_id: &str,
) -> Result<Option<Device>, StoreError> {
    let row = sqlx::query(codec::SELECT_DEVICE)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(codec::device).transpose()
}

/// One session of a device.
pub(super) async fn fetch_session(
    conn: &mut SqliteConnection,
    device_id: &str,
    session_id: &str,
) -> Result<Option<SessionRecord>, StoreError> {
    let row = sqlx::query(codec::SELECT_SESSION_SQLITE)
        .bind(device_id)
        .bind(session_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(codec::session).transpose()
}

/// A device's pending commands (queued, sent, accepted for later), oldest first.
pub(super) async fn fetch_pending(
    conn: &mut SqliteConnection,
    device_id: &str,
) -> Result<Vec<QueuedCommand>, StoreError> {
    let rows = sqlx::query(codec::SELECT_PENDING_SQLITE)
        .bind(device_id)
        .fetch_all(&mut *conn)
        .await?;
    codec::all(&rows, codec::command)
}

/// Whether a device is enrolled.
pub(super) async fn device_exists(
    conn: &mut SqliteConnection,
    device_id: &str,
) -> Result<bool, StoreError> {
    let row = sqlx::query(codec::DEVICE_EXISTS)
        .bind(device_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}
