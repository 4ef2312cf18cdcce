//! A DM message's reads and writes on the DM messages' own connection (rusqlite, synchronous,
//! see [`super::writer`]): the same statements as [`super::tx`] runs through sqlx, parsed once
//! and kept in the connection's statement cache, and taken from it once per batch of messages
//! ([`Batch`]), not once per use: a look-up hashes and compares the statement's whole text, and
//! putting it back resets it again (rusqlite's cache: 3% of the server's instructions under
//! load, callgrind, issue 7).

use std::borrow::Cow;
use std::sync::Arc;

use std::collections::HashMap;

use rusqlite::types::{ToSql, ValueRef};
use rusqlite::{CachedStatement, Connection, Row, Statement};

use crate::model::{Device, QueuedCommand, SessionRecord, Timestamp};
use crate::store::batch;
use crate::store::codec::{self, corrupt, opt_to_json, state_text, to_json, Columns};
use crate::store::{Changes, CommandUpdate, DeviceUpdate, NewAudit, StoreError};

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

/// The statements a message runs that are the same every time.
#[derive(Clone, Copy, Debug)]
enum Fixed {
    Device,
    Session,
    Pending,
    UpdateDevice,
    UpsertSession,
    UpsertSessionState,
    DeleteSessionState,
    UpdateCommand,
    InsertAlert,
}

const FIXED: usize = 9;

impl Fixed {
    const ALL: [Fixed; FIXED] = [
        Fixed::Device,
        Fixed::Session,
        Fixed::Pending,
        Fixed::UpdateDevice,
        Fixed::UpsertSession,
        Fixed::UpsertSessionState,
        Fixed::DeleteSessionState,
        Fixed::UpdateCommand,
        Fixed::InsertAlert,
    ];

    fn shared_sql(self) -> &'static str {
        match self {
            Fixed::Device => codec::SELECT_DEVICE,
            Fixed::Session => codec::SELECT_SESSION_SQLITE,
            Fixed::Pending => codec::SELECT_PENDING_SQLITE,
            Fixed::UpdateDevice => codec::UPDATE_DEVICE,
            Fixed::UpsertSession => codec::UPSERT_SESSION,
            Fixed::UpsertSessionState => codec::UPSERT_SESSION_STATE,
            Fixed::DeleteSessionState => codec::DELETE_SESSION_STATE,
            Fixed::UpdateCommand => codec::UPDATE_COMMAND,
            Fixed::InsertAlert => codec::INSERT_ALERT,
        }
    }
}

/// A message's statements, as SQLite reads them (`?N`), with the column names of those that
/// return rows: the shared decoding reads columns by name, and a look-up here is cheaper than
/// SQLite's (which asks for each name again and compares without case).
pub(super) struct Statements {
    sql: [String; FIXED],
    /// Per statement, its column names (none for those that return no rows).
    names: [Vec<String>; FIXED],
    /// The multi-row audit inserts, per row count (at most [`KEEP_ROWS`] kept).
    insert_audit: HashMap<usize, String>,
}

/// The transaction control statements.
#[derive(Clone, Copy, Debug)]
pub(super) enum Control {
    Begin,
    Commit,
    Rollback,
    Savepoint,
    Release,
    RollbackTo,
}

impl Control {
    fn sql(self) -> &'static str {
        match self {
            Control::Begin => "BEGIN IMMEDIATE",
            Control::Commit => "COMMIT",
            Control::Rollback => "ROLLBACK",
            Control::Savepoint => "SAVEPOINT message",
            Control::Release => "RELEASE message",
            Control::RollbackTo => "ROLLBACK TO message",
        }
    }
}

/// Multi-row statements kept, at most.
const KEEP_ROWS: usize = 64;
/// Statements the connection keeps parsed: the fixed ones and the multi-row ones of the usual
/// row counts.
pub(super) const STATEMENT_CACHE: usize = 64;

impl Statements {
    /// Checks every statement against the schema (parsing it into the connection's cache).
    pub(super) fn prepare(conn: &Connection) -> Result<Statements, StoreError> {
        for c in [
            Control::Begin,
            Control::Commit,
            Control::Rollback,
            Control::Savepoint,
            Control::Release,
            Control::RollbackTo,
        ] {
            conn.prepare_cached(c.sql())?;
        }
        let mut sql: [String; FIXED] = Default::default();
        let mut names: [Vec<String>; FIXED] = Default::default();
        for f in Fixed::ALL {
            let text = numbered(f.shared_sql()).into_owned();
            names[f as usize] = conn
                .prepare_cached(&text)?
                .column_names()
                .into_iter()
                .map(str::to_owned)
                .collect();
            sql[f as usize] = text;
        }
        Ok(Statements {
            sql,
            names,
            insert_audit: HashMap::new(),
        })
    }
}

/// Runs a transaction control statement.
pub(super) fn control(conn: &Connection, c: Control) -> Result<(), StoreError> {
    conn.prepare_cached(c.sql())?.raw_execute()?;
    Ok(())
}

/// `PRAGMA data_version`: it differs between two reads on one connection when another
/// connection committed in between (the connection's own commits do not change it).
pub(super) fn data_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))?)
}

/// `sql` with `OR FAIL` after the verb of `clause` (`UPDATE t` or `INSERT INTO t`). A
/// statement that may change several rows and fail halfway (a constraint, with the default
/// `ABORT`) makes SQLite copy every page it changes into a statement journal first, to undo
/// its earlier rows on failure: 2.8% of the server's CPU for the multi-row writes of a
/// message (issue 7, perf; now its audit lines). With `OR FAIL` a failing statement leaves its
/// earlier rows and needs no journal; here that is safe because a failed message is rolled
/// back whole, with its transaction or its savepoint ([`super::writer`]).
fn or_fail(sql: &str, clause: &str) -> String {
    let verb = clause.split(' ').next().unwrap_or(clause);
    let or_fail = clause.replacen(verb, &format!("{verb} OR FAIL"), 1);
    debug_assert!(sql.contains(clause), "{clause:?} in {sql:?}");
    sql.replacen(clause, &or_fail, 1)
}

/// The text of the statement of `rows` rows from `kept`, written on first use; `kept` is
/// emptied when it would grow past [`KEEP_ROWS`] statements.
fn rows_statement(
    kept: &mut HashMap<usize, String>,
    rows: usize,
    sql: impl FnOnce(usize) -> String,
) -> &str {
    if !kept.contains_key(&rows) && kept.len() >= KEEP_ROWS {
        kept.clear();
    }
    kept.entry(rows)
        .or_insert_with(|| numbered(&sql(rows)).into_owned())
}

/// The statements of one batch of messages (one transaction, or the part of it between two
/// awaits), each taken from the connection's cache on first use and put back when the batch
/// is dropped. Each is reset after every use (`raw_execute`, or its rows dropped).
pub(super) struct Batch<'s, 'c> {
    conn: &'c Connection,
    sql: &'s mut Statements,
    fixed: [Option<CachedStatement<'c>>; FIXED],
    /// Multi-row audit inserts taken so far, with their row count.
    audit: Vec<(usize, CachedStatement<'c>)>,
}

impl<'s, 'c> Batch<'s, 'c> {
    pub(super) fn new(conn: &'c Connection, sql: &'s mut Statements) -> Batch<'s, 'c> {
        Batch {
            conn,
            sql,
            fixed: Default::default(),
            audit: Vec::new(),
        }
    }

    fn bound(&mut self, f: Fixed) -> Result<Bound<'_, 'c>, StoreError> {
        let i = f as usize;
        let stmt = match &mut self.fixed[i] {
            Some(stmt) => stmt,
            slot @ None => slot.insert(self.conn.prepare_cached(&self.sql.sql[i])?),
        };
        Ok(Bound {
            stmt,
            names: &self.sql.names[i],
            next: 1,
        })
    }

    /// The audit insert of `rows` rows.
    fn audit_rows(&mut self, rows: usize) -> Result<Bound<'_, 'c>, StoreError> {
        let i = match self.audit.iter().position(|(n, _)| *n == rows) {
            Some(i) => i,
            None => {
                let text = rows_statement(&mut self.sql.insert_audit, rows, |n| {
                    or_fail(&batch::insert_audit(n), "INSERT INTO audit")
                });
                let stmt = self.conn.prepare_cached(text)?;
                self.audit.push((rows, stmt));
                self.audit.len() - 1
            }
        };
        Ok(Bound {
            stmt: &mut self.audit[i].1,
            names: &[],
            next: 1,
        })
    }
}

/// A statement and the next parameter to bind.
struct Bound<'b, 'c> {
    stmt: &'b mut Statement<'c>,
    /// The column names, for statements that return rows.
    names: &'b [String],
    next: usize,
}

impl Bound<'_, '_> {
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
            out.push(decode(&RowColumns::new(row, self.names))?);
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
            Some(row) => decode(&RowColumns::new(row, self.names)).map(Some),
            None => Ok(None),
        }
    }
}

/// A rusqlite row as the shared decoding reads it.
struct RowColumns<'r, 's> {
    row: &'r Row<'s>,
    names: &'r [String],
    /// Where the next column is looked for first: the decoders read the columns in the order
    /// the statements list them, so a look-up is one comparison instead of a scan (−1.1% of
    /// the server's instructions under load, callgrind).
    next: std::cell::Cell<usize>,
}

impl<'r, 's> RowColumns<'r, 's> {
    fn new(row: &'r Row<'s>, names: &'r [String]) -> RowColumns<'r, 's> {
        RowColumns {
            row,
            names,
            next: std::cell::Cell::new(0),
        }
    }

    fn value(&self, name: &'static str) -> Result<ValueRef<'_>, StoreError> {
        let hint = self.next.get();
        let i = match self.names.get(hint) {
            Some(n) if n == name => hint,
            _ => self
                .names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| corrupt(name, "no such column"))?,
        };
        self.next.set(i + 1);
        self.row.get_ref(i).map_err(|e| corrupt(name, e))
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

impl Batch<'_, '_> {
    pub(super) fn device(&mut self, device_id: &str) -> Result<Option<Device>, StoreError> {
        self.bound(Fixed::Device)?
            .bind(device_id)?
            .first(|r| codec::device(r))
    }

    pub(super) fn session(
        &mut self,
        device_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.bound(Fixed::Session)?
            .bind(device_id)?
            .bind(session_id)?
            .first(|r| codec::session(r))
    }

    /// The device's commands queued or sent, and those done with 202, oldest first.
    pub(super) fn pending(&mut self, device_id: &str) -> Result<Vec<QueuedCommand>, StoreError> {
        self.bound(Fixed::Pending)?
            .bind(device_id)?
            .all(|r| codec::command(r))
    }

    /// Writes a known device's changes (as [`super::tx`]'s `apply` does).
    pub(super) fn apply(
        &mut self,
        device_id: &str,
        changes: &Changes,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_device(device_id, &changes.device)?;
        if let Some(s) = &changes.session {
            let (row, running) = super::split_state(s);
            self.bound(Fixed::UpsertSession)?
                .bind(device_id)?
                .bind(&s.session_id)?
                .bind(s.started_at)?
                .bind(s.updated_at)?
                .bind(s.ended_at)?
                .bind(s.outcome.as_deref())?
                .bind(i64::from(s.messages))?
                .bind(row)?
                .execute()?;
            match running {
                Some(state) => self
                    .bound(Fixed::UpsertSessionState)?
                    .bind(device_id)?
                    .bind(&s.session_id)?
                    .bind(state)?
                    .execute()?,
                None => self
                    .bound(Fixed::DeleteSessionState)?
                    .bind(device_id)?
                    .bind(&s.session_id)?
                    .execute()?,
            };
        }
        // One statement per command: in process, cheaper than one UPDATE ... FROM for all of
        // them, which SQLite runs through a temporary table (4% of the server's instructions
        // under load; batch.rs keeps the multi-row form for PostgreSQL's round trips).
        for c in &changes.commands {
            self.update_command(device_id, c, now)?;
        }
        let session_id = changes.alert_session_id();
        for a in &changes.alerts {
            self.bound(Fixed::InsertAlert)?
                .bind(device_id)?
                .bind(session_id)?
                .bind(i64::from(a.code))?
                .bind(a.correlator.as_deref())?
                .bind(to_json("items", &a.items)?)?
                .bind(now)?
                .execute()?;
        }
        self.audit(&changes.audit, now)
    }

    fn update_device(&mut self, device_id: &str, d: &DeviceUpdate) -> Result<(), StoreError> {
        if *d == DeviceUpdate::default() {
            return Ok(());
        }
        self.bound(Fixed::UpdateDevice)?
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
        &mut self,
        device_id: &str,
        c: &CommandUpdate,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.bound(Fixed::UpdateCommand)?
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

    /// Appends audit lines, [`batch::MAX_ROWS`] per statement.
    pub(super) fn audit(&mut self, lines: &[NewAudit], now: Timestamp) -> Result<(), StoreError> {
        for chunk in lines.chunks(batch::MAX_ROWS) {
            let mut q = self.audit_rows(chunk.len())?;
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
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn multi_row_writes_say_or_fail() {
        use super::{batch, or_fail};
        let update = or_fail("UPDATE commands SET state = $1", "UPDATE commands");
        assert_eq!(update, "UPDATE OR FAIL commands SET state = $1");
        let insert = or_fail(&batch::insert_audit(2), "INSERT INTO audit");
        assert!(
            insert.starts_with("INSERT OR FAIL INTO audit ("),
            "{insert}"
        );
    }

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
