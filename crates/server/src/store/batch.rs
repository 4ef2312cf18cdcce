//! Multi-row statements for one message's writes (issue 7): its audit lines and command updates
//! each go to the database in one statement instead of one statement per row. Through sqlx
//! (PostgreSQL, SQLite in memory) every statement is a round trip (a network one, or to sqlx's
//! SQLite connection thread), so the number of statements per message is what the DM
//! endpoint's throughput is made of. A SQLite file's DM messages run their statements in
//! process instead ([`super::sqlite`]), where one UPDATE per command costs less than one
//! UPDATE ... FROM for all of them (which SQLite runs through a temporary table): those use
//! only [`insert_audit`]. On PostgreSQL a message's writes go further, all in one statement
//! ([`message_writes_postgres`]).

use crate::store::CommandUpdate;

/// The columns of one command update in [`update_commands_sqlite`] and
/// [`update_commands_postgres`], bound in this order after `$1` (device) and `$2` (now).
pub(super) const COMMAND_COLUMNS: usize = 6;
/// The columns of one audit line: at, device_id, session_id, event, detail.
pub(super) const AUDIT_COLUMNS: usize = 5;
/// `rows` tuples of `cols` placeholders numbered from `$first`: `($3, $4), ($5, $6)`.
/// `casts[i]`, when not empty, is appended to column i of the first tuple (PostgreSQL types a
/// VALUES list from its first row).
pub(super) fn values(first: usize, rows: usize, cols: usize, casts: &[&str]) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    let mut n = first;
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&n.to_string());
            if r == 0 {
                if let Some(cast) = casts.get(c).filter(|t| !t.is_empty()) {
                    s.push_str("::");
                    s.push_str(cast);
                }
            }
            n += 1;
        }
        s.push(')');
    }
    s
}

/// `rows` audit lines in one INSERT (both stores), [`AUDIT_COLUMNS`] binds per line.
pub(super) fn insert_audit(rows: usize) -> String {
    format!(
        "INSERT INTO audit (at, device_id, session_id, event, detail) VALUES {}",
        values(1, rows, AUDIT_COLUMNS, &[])
    )
}

/// The SET list both dialects share: what [`crate::store::codec::UPDATE_COMMAND`] does to one
/// command, with `v` the update's row and `t` the command's.
fn command_set(t: &str) -> String {
    format!(
        "state = v.state, status = COALESCE(v.status, {t}.status), \
         results = COALESCE(v.results, {t}.results), \
         children = COALESCE(v.children, {t}.children), \
         session_id = COALESCE(v.session_id, {t}.session_id), updated_at = $2"
    )
}

/// `rows` command updates of device `$1` at `$2` in one UPDATE (SQLite 3.33+, UPDATE FROM).
/// Only for updates naming distinct commands ([`distinct`]): one UPDATE changes a row once.
pub(super) fn update_commands_sqlite(rows: usize) -> String {
    format!(
        "WITH v(id, state, status, results, children, session_id) AS (VALUES {}) \
         UPDATE commands SET {} FROM v WHERE commands.device_id = $1 AND commands.id = v.id",
        values(3, rows, COMMAND_COLUMNS, &[]),
        command_set("commands")
    )
}

/// The same for PostgreSQL (typed VALUES).
pub(super) fn update_commands_postgres(rows: usize) -> String {
    format!(
        "UPDATE commands AS c SET {} FROM (VALUES {}) \
         AS v(id, state, status, results, children, session_id) \
         WHERE c.device_id = $1 AND c.id = v.id",
        command_set("c"),
        values(
            3,
            rows,
            COMMAND_COLUMNS,
            &["BIGINT", "TEXT", "INTEGER", "TEXT", "TEXT", "TEXT"]
        )
    )
}

/// The placeholders of `sql` renumbered for a larger statement: `$1` to `$keep` stay, and
/// `$(keep + i)` becomes `$(base + i - 1)`. A `$` not followed by a digit is left alone (the
/// statements given here have no string literals holding one).
pub(super) fn shift(sql: &str, keep: usize, base: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) if n > keep => out.push_str(&(base + n - keep - 1).to_string()),
            _ => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// What one DM message writes on PostgreSQL, as far as [`message_writes_postgres`] takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct WriteShape {
    /// The device row changes ([`crate::store::codec::UPDATE_DEVICE`], 5 binds after `$1`).
    pub device: bool,
    /// The session is upserted ([`crate::store::codec::UPSERT_SESSION`], 7 binds after `$1`).
    pub session: bool,
    /// Command updates, distinct ([`update_commands_postgres`], [`COMMAND_COLUMNS`] binds each).
    pub commands: usize,
    /// Audit lines ([`insert_audit`], [`AUDIT_COLUMNS`] binds each).
    pub audit: usize,
}

/// Binds of the device update and the session upsert after `$1`.
pub(super) const DEVICE_BINDS: usize = 5;
pub(super) const SESSION_BINDS: usize = 7;

/// A message's writes on PostgreSQL in one statement (one round trip instead of one per part):
/// each part but the last a data-modifying `WITH` query, which PostgreSQL runs exactly once
/// whether or not anything reads it. `$1` is the device, `$2` the time; then the parts' binds in
/// the order device, session, commands, audit. `None` when there is nothing to write. The
/// parts touch different tables (or distinct command rows), so sharing one snapshot changes
/// nothing.
pub(super) fn message_writes_postgres(
    shape: WriteShape,
    device_sql: &str,
    session_sql: &str,
) -> Option<String> {
    let mut parts = Vec::with_capacity(4);
    let mut next = 3;
    if shape.device {
        parts.push(shift(device_sql, 1, next));
        next += DEVICE_BINDS;
    }
    if shape.session {
        parts.push(shift(session_sql, 1, next));
        next += SESSION_BINDS;
    }
    if shape.commands > 0 {
        parts.push(shift(&update_commands_postgres(shape.commands), 2, next));
        next += shape.commands * COMMAND_COLUMNS;
    }
    if shape.audit > 0 {
        parts.push(shift(&insert_audit(shape.audit), 0, next));
    }
    let last = parts.pop()?;
    if parts.is_empty() {
        return Some(last);
    }
    let mut sql = String::from("WITH ");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("w{i} AS ({p})"));
    }
    sql.push(' ');
    sql.push_str(&last);
    Some(sql)
}

/// Whether every update names a different command (so that one UPDATE applies them all; when
/// one command changes twice in a message the updates run one by one, in order).
pub(super) fn distinct(updates: &[CommandUpdate]) -> bool {
    let mut ids: Vec<i64> = updates.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids.windows(2).all(|w| w[0] != w[1])
}

/// The most rows one statement carries: SQLite allows 32,766 parameters, PostgreSQL 65,535.
pub(super) const MAX_ROWS: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CommandState;

    #[test]
    fn values_number_the_placeholders_in_order() {
        assert_eq!(values(3, 2, 2, &[]), "($3, $4), ($5, $6)");
        assert_eq!(values(1, 2, 2, &["INT", ""]), "($1::INT, $2), ($3, $4)");
        assert_eq!(
            insert_audit(1),
            "INSERT INTO audit (at, device_id, session_id, event, detail) \
             VALUES ($1, $2, $3, $4, $5)"
        );
    }

    #[test]
    fn command_updates_bind_after_device_and_now() {
        let sql = update_commands_sqlite(2);
        assert!(sql.contains("VALUES ($3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14)"));
        let sql = update_commands_postgres(1);
        assert!(sql.contains("($3::BIGINT, $4::TEXT, $5::INTEGER, $6::TEXT, $7::TEXT, $8::TEXT)"));
    }

    #[test]
    fn shift_renumbers_the_placeholders_after_the_kept_ones() {
        assert_eq!(
            shift("a = $1, b = $2, c = $3", 1, 10),
            "a = $1, b = $10, c = $11"
        );
        assert_eq!(shift("($1, $2) $12 $", 0, 3), "($3, $4) $14 $");
        assert_eq!(shift("no placeholders", 2, 5), "no placeholders");
    }

    #[test]
    fn a_message_writes_in_one_statement_numbered_in_bind_order() {
        let shape = WriteShape {
            device: true,
            session: true,
            commands: 2,
            audit: 1,
        };
        let sql = message_writes_postgres(shape, "UPD $1 $2 $6", "UPS $1 $2 $8").unwrap();
        // Device binds $3..$7, session $8..$14, commands $15..$26, audit $27..$31.
        assert!(
            sql.starts_with(
                "WITH w0 AS (UPD $1 $3 $7), w1 AS (UPS $1 $8 $14), w2 AS (UPDATE commands"
            ),
            "{sql}"
        );
        assert!(sql.contains("($15::BIGINT, $16::TEXT, $17::INTEGER, $18::TEXT, $19::TEXT, $20::TEXT), ($21, $22, $23, $24, $25, $26)"), "{sql}");
        assert!(
            sql.contains("c.device_id = $1 AND c.id = v.id) INSERT INTO audit"),
            "{sql}"
        );
        assert!(sql.ends_with("VALUES ($27, $28, $29, $30, $31)"), "{sql}");
        // One part is the statement itself; nothing to write is no statement.
        let audit_only = WriteShape {
            device: false,
            session: false,
            commands: 0,
            audit: 1,
        };
        assert_eq!(
            message_writes_postgres(audit_only, "", "").unwrap(),
            "INSERT INTO audit (at, device_id, session_id, event, detail) VALUES ($3, $4, $5, $6, $7)"
        );
        let nothing = WriteShape {
            audit: 0,
            ..audit_only
        };
        assert_eq!(message_writes_postgres(nothing, "", ""), None);
    }

    #[test]
    fn repeated_commands_are_not_distinct() {
        let u = |id| CommandUpdate {
            id,
            state: CommandState::Sent,
            status: None,
            results: None,
            children: None,
            session_id: None,
        };
        assert!(distinct(&[u(1), u(2), u(3)]));
        assert!(!distinct(&[u(1), u(2), u(1)]));
        assert!(distinct(&[]));
    }
}
