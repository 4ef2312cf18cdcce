//! A DM message's reads and writes on the writer thread's own connection (rusqlite, synchronous):
//! the same statements as [`super::tx`] runs through sqlx, prepared once and cached.

use std::borrow::Cow;
use std::sync::Arc;

use rusqlite::types::{ToSql, ValueRef};
use rusqlite::{CachedStatement, Connection, Row};

use crate::model::{CommandState, Device, QueuedCommand, SessionRecord, Timestamp};
use crate::store::batch;
use crate::store::codec::{self, corrupt, opt_to_json, state_text, to_json, Columns};
use crate::store::{Changes, CommandUpdate, DeviceUpdate, NewAlert, NewAudit, StoreError};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(Arc::new(e))
    }
}

/// The shared statements number their parameters `$1`, `$2`, ... as PostgreSQL does; SQLite
/// reads `$1` as a *named* parameter and numbers names in order of appearance, so they become
/// `?1`, `?2`, ..., which SQLite numbers as written.
fn numbered(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A cached statement and the next parameter to bind.
struct Bound<'c> {
    stmt: CachedStatement<'c>,
    next: usize,
}

impl<'c> Bound<'c> {
    fn prepare(conn: &'c Connection, sql: &str) -> Result<Bound<'c>, StoreError> {
        Ok(Bound {
            stmt: conn.prepare_cached(&numbered(sql))?,
            next: 1,
        })
    }

    fn bind<T: ToSql>(&mut self, v: T) -> Result<&mut Self, StoreError> {
        self.stmt.raw_bind_parameter(self.next, v)?;
        self.next += 1;
        Ok(self)
    }

    fn execute(&mut self) -> Result<usize, StoreError> {
        Ok(self.stmt.raw_execute()?)
    }

    /// Every row, decoded.
    fn all<T>(
        &mut self,
        decode: impl Fn(&RowColumns<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut rows = self.stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(decode(&RowColumns(row))?);
        }
        Ok(out)
    }

    /// The first row, decoded.
    fn first<T>(
        &mut self,
        decode: impl Fn(&RowColumns<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut rows = self.stmt.raw_query();
        match rows.next()? {
            Some(row) => decode(&RowColumns(row)).map(Some),
            None => Ok(None),
        }
    }
}

/// A rusqlite row as the shared decoding reads it.
struct RowColumns<'r, 's>(&'r Row<'s>);

impl RowColumns<'_, '_> {
    fn value(&self, name: &'static str) -> Result<ValueRef<'_>, StoreError> {
        self.0.get_ref(name).map_err(|e| corrupt(name, e))
    }

    fn opt_int_of(&self, name: &'static str) -> Result<Option<i64>, StoreError> {
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(corrupt(
                name,
                format!("{:?} is not an integer", other.data_type()),
            )),
        }
    }
}

impl Columns for RowColumns<'_, '_> {
    fn text(&self, name: &'static str) -> Result<String, StoreError> {
        self.opt_text(name)?
            .ok_or_else(|| corrupt(name, "NULL where text is required"))
    }
    fn opt_text(&self, name: &'static str) -> Result<Option<String>, StoreError> {
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(|t| Some(t.to_owned()))
                .map_err(|e| corrupt(name, e)),
            other => Err(corrupt(
                name,
                format!("{:?} is not text", other.data_type()),
            )),
        }
    }
    fn int(&self, name: &'static str) -> Result<i64, StoreError> {
        self.opt_int_of(name)?
            .ok_or_else(|| corrupt(name, "NULL where an integer is required"))
    }
    fn opt_int(&self, name: &'static str) -> Result<Option<i64>, StoreError> {
        self.opt_int_of(name)
    }
    fn small_int(&self, name: &'static str) -> Result<i64, StoreError> {
        self.int(name)
    }
    fn opt_small_int(&self, name: &'static str) -> Result<Option<i64>, StoreError> {
        self.opt_int_of(name)
    }
    fn bytes(&self, name: &'static str) -> Result<Vec<u8>, StoreError> {
        match self.value(name)? {
            ValueRef::Null => Ok(Vec::new()),
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            other => Err(corrupt(
                name,
                format!("{:?} is not a blob", other.data_type()),
            )),
        }
    }
}

pub(super) fn device(conn: &Connection, device_id: &str) -> Result<Option<Device>, StoreError> {
    Bound::prepare(conn, codec::SELECT_DEVICE)?
        .bind(device_id)?
        .first(|r| codec::device(r))
}

pub(super) fn session(
    conn: &Connection,
    device_id: &str,
    session_id: &str,
) -> Result<Option<SessionRecord>, StoreError> {
    Bound::prepare(conn, codec::SELECT_SESSION)?
        .bind(device_id)?
        .bind(session_id)?
        .first(|r| codec::session(r))
}

/// The device's commands queued or sent, and those done with 202, oldest first.
pub(super) fn pending(
    conn: &Connection,
    device_id: &str,
) -> Result<Vec<QueuedCommand>, StoreError> {
    Bound::prepare(conn, codec::SELECT_COMMANDS_IN)?
        .bind(device_id)?
        .bind(state_text(CommandState::Queued))?
        .bind(state_text(CommandState::Sent))?
        .all(|r| codec::command(r))
}

/// Writes a known device's changes (as [`super::tx`]'s `apply` does).
pub(super) fn apply(
    conn: &Connection,
    device_id: &str,
    changes: &Changes,
    now: Timestamp,
) -> Result<(), StoreError> {
    update_device(conn, device_id, &changes.device)?;
    if let Some(s) = &changes.session {
        Bound::prepare(conn, codec::UPSERT_SESSION)?
            .bind(device_id)?
            .bind(&s.session_id)?
            .bind(s.started_at)?
            .bind(s.updated_at)?
            .bind(s.ended_at)?
            .bind(s.outcome.as_deref())?
            .bind(i64::from(s.messages))?
            .bind(s.state.as_slice())?
            .execute()?;
    }
    if changes.commands.len() > 1 && batch::distinct(&changes.commands) {
        for chunk in changes.commands.chunks(batch::MAX_ROWS) {
            update_commands(conn, device_id, chunk, now)?;
        }
    } else {
        for c in &changes.commands {
            update_command(conn, device_id, c, now)?;
        }
    }
    let session_id = changes
        .session
        .as_ref()
        .map_or("", |s| s.session_id.as_str());
    for a in &changes.alerts {
        insert_alert(conn, device_id, session_id, a, now)?;
    }
    audit(conn, &changes.audit, now)
}

fn update_device(conn: &Connection, device_id: &str, d: &DeviceUpdate) -> Result<(), StoreError> {
    if *d == DeviceUpdate::default() {
        return Ok(());
    }
    Bound::prepare(conn, codec::UPDATE_DEVICE)?
        .bind(device_id)?
        .bind(d.client_nonce.as_deref())?
        .bind(d.server_nonce.as_deref())?
        .bind(opt_to_json("devinfo", d.devinfo.as_ref())?)?
        .bind(d.dm_version.as_deref())?
        .bind(d.last_seen)?
        .execute()?;
    Ok(())
}

fn update_command(
    conn: &Connection,
    device_id: &str,
    c: &CommandUpdate,
    now: Timestamp,
) -> Result<(), StoreError> {
    Bound::prepare(conn, codec::UPDATE_COMMAND)?
        .bind(device_id)?
        .bind(c.id)?
        .bind(state_text(c.state))?
        .bind(c.status.map(i64::from))?
        .bind(opt_to_json("results", c.results.as_ref())?)?
        .bind(opt_to_json("children", c.children.as_ref())?)?
        .bind(c.session_id.as_deref())?
        .bind(now)?
        .execute()?;
    Ok(())
}

/// Distinct commands of the device in one statement.
fn update_commands(
    conn: &Connection,
    device_id: &str,
    cs: &[CommandUpdate],
    now: Timestamp,
) -> Result<(), StoreError> {
    let sql = batch::update_commands_sqlite(cs.len());
    let mut q = Bound::prepare(conn, &sql)?;
    q.bind(device_id)?.bind(now)?;
    for c in cs {
        q.bind(c.id)?
            .bind(state_text(c.state))?
            .bind(c.status.map(i64::from))?
            .bind(opt_to_json("results", c.results.as_ref())?)?
            .bind(opt_to_json("children", c.children.as_ref())?)?
            .bind(c.session_id.as_deref())?;
    }
    q.execute()?;
    Ok(())
}

fn insert_alert(
    conn: &Connection,
    device_id: &str,
    session_id: &str,
    a: &NewAlert,
    now: Timestamp,
) -> Result<(), StoreError> {
    Bound::prepare(conn, codec::INSERT_ALERT)?
        .bind(device_id)?
        .bind(session_id)?
        .bind(i64::from(a.code))?
        .bind(a.correlator.as_deref())?
        .bind(to_json("items", &a.items)?)?
        .bind(now)?
        .execute()?;
    Ok(())
}

/// Appends audit lines, [`batch::MAX_ROWS`] per statement.
pub(super) fn audit(
    conn: &Connection,
    lines: &[NewAudit],
    now: Timestamp,
) -> Result<(), StoreError> {
    for chunk in lines.chunks(batch::MAX_ROWS) {
        let sql = batch::insert_audit(chunk.len());
        let mut q = Bound::prepare(conn, &sql)?;
        for a in chunk {
            q.bind(now)?
                .bind(a.device_id.as_deref())?
                .bind(a.session_id.as_deref())?
                .bind(&a.event)?
                .bind(to_json("detail", &a.detail)?)?;
        }
        q.execute()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn dollar_parameters_become_numbered_ones() {
        assert_eq!(
            numbered("UPDATE t SET a = $2 WHERE b = $1 AND c = $10"),
            "UPDATE t SET a = ?2 WHERE b = ?1 AND c = ?10"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
        assert_eq!(numbered("SELECT '$' || $1"), "SELECT '$' || ?1");
    }
}
