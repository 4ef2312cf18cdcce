//! What the SQLite and PostgreSQL stores share, independent of the database: the SQL they both
//! run (the schema is the same, see `migrations/`), the texts enums and JSON are stored as, and
//! decoding rows into records without ever panicking on stored data (a bad value is
//! [`StoreError::Corrupt`]). Each store reads its own row type through [`Columns`].

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::error::ErrorKind;

use crate::model::{
    AlertRecord, AuditEntry, ClientAuth, ClientAuthType, CommandState, Device, NewDevice,
    QueuedCommand, ReportRecord, ServerAuth, SessionRecord, Timestamp,
};
use crate::store::{Campaign, CampaignStates, StoreError};

// The column lists, as macros so that the statements below can be `concat!`ed constants.
macro_rules! device_columns {
    () => {
        "device_id, client_auth_type, client_auth_name, client_auth_secret, server_auth_name, \
         server_auth_secret, push_url, client_nonce, server_nonce, devinfo, dm_version, \
         created_at, last_seen"
    };
}
macro_rules! command_columns {
    () => {
        "id, device_id, spec, state, status, results, children, session_id, created_at, \
         updated_at"
    };
}
macro_rules! session_columns {
    () => {
        "device_id, session_id, started_at, updated_at, ended_at, outcome, messages, state"
    };
}
macro_rules! alert_columns {
    () => {
        "id, device_id, session_id, code, correlator, items, received_at"
    };
}
macro_rules! report_columns {
    () => {
        "id, device_id, items, received_at"
    };
}
macro_rules! audit_columns {
    () => {
        "id, at, device_id, session_id, event, detail"
    };
}

/// One device by id.
pub(super) const SELECT_DEVICE: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM devices WHERE device_id = $1"
);
/// Whether a device is enrolled (a row when it is).
pub(super) const DEVICE_EXISTS: &str = "SELECT 1 FROM devices WHERE device_id = $1";
/// A page of devices after `$1`, at most `$2`.
pub(super) const SELECT_DEVICES_AFTER: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM devices WHERE device_id > $1 ORDER BY device_id LIMIT $2"
);
/// The first page of devices, at most `$1`.
pub(super) const SELECT_DEVICES: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM devices ORDER BY device_id LIMIT $1"
);
/// A new device (no DM version, never seen): binds the columns but those two, in order.
pub(super) const INSERT_DEVICE: &str = concat!(
    "INSERT INTO devices (",
    device_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL)"
);
pub(super) const DELETE_DEVICE: &str = "DELETE FROM devices WHERE device_id = $1";
pub(super) const SET_NONCES: &str =
    "UPDATE devices SET client_nonce = COALESCE($2, client_nonce), \
     server_nonce = COALESCE($3, server_nonce) WHERE device_id = $1";
/// Writes the fields that are not NULL; the others keep their stored value.
pub(super) const UPDATE_DEVICE: &str = "UPDATE devices SET \
     client_nonce = COALESCE($2, client_nonce), \
     server_nonce = COALESCE($3, server_nonce), \
     devinfo = COALESCE($4, devinfo), \
     dm_version = COALESCE($5, dm_version), \
     last_seen = COALESCE($6, last_seen) \
     WHERE device_id = $1";

/// A queued command; its id is returned.
pub(super) const INSERT_COMMAND: &str =
    "INSERT INTO commands (device_id, spec, state, status, results, children, \
     session_id, created_at, updated_at) \
     VALUES ($1, $2, $3, NULL, '[]', '[]', NULL, $4, $4) RETURNING id";
pub(super) const SELECT_COMMAND: &str = concat!(
    "SELECT ",
    command_columns!(),
    " FROM commands WHERE device_id = $1 AND id = $2"
);
pub(super) const SELECT_COMMANDS: &str = concat!(
    "SELECT ",
    command_columns!(),
    " FROM commands WHERE device_id = $1 ORDER BY id"
);
/// The commands a DM message reads: queued, sent, and those the device accepted for later (done
/// with 202). The partial index `commands_pending` (SQLite's migration 0007, PostgreSQL's 0006)
/// has this WHERE clause word for word, which is what lets both databases use it.
macro_rules! pending_where {
    () => {
        "(state IN ('queued', 'sent') OR (state = 'done' AND status = 202))"
    };
}
/// A device's pending commands ([`pending_where!`]), oldest first, on PostgreSQL: one scan of
/// the partial index that holds only them (`commands_pending`, its migration 0006), which the
/// planner takes because this WHERE clause implies the index's.
pub(super) const SELECT_PENDING: &str = concat!(
    "SELECT ",
    command_columns!(),
    " FROM commands WHERE device_id = $1 AND ",
    pending_where!(),
    " ORDER BY id"
);
/// The same on SQLite: one walk of the partial index of its migration 0007. `INDEXED BY` makes
/// preparing it fail, instead of running slowly, if the index and this statement ever disagree.
pub(super) const SELECT_PENDING_SQLITE: &str = concat!(
    "SELECT ",
    command_columns!(),
    " FROM commands INDEXED BY commands_pending WHERE device_id = $1 AND ",
    pending_where!(),
    " ORDER BY id"
);
/// Cancels command `$2` of device `$1` (state `$3`, at `$4`) if it is still in state `$5`.
pub(super) const CANCEL_COMMAND: &str = "UPDATE commands SET state = $3, updated_at = $4 \
     WHERE device_id = $1 AND id = $2 AND state = $5";
/// Status, results, children and session id keep their stored value when NULL; a command of
/// another device is left alone.
pub(super) const UPDATE_COMMAND: &str =
    "UPDATE commands SET state = $3, status = COALESCE($4, status), \
     results = COALESCE($5, results), children = COALESCE($6, children), \
     session_id = COALESCE($7, session_id), updated_at = $8 \
     WHERE device_id = $1 AND id = $2";

/// A campaign; its id is returned.
pub(super) const INSERT_CAMPAIGN: &str =
    "INSERT INTO campaigns (created_at, specs, devices, commands) VALUES ($1, $2, $3, $4) \
     RETURNING id";
pub(super) const SELECT_CAMPAIGN: &str =
    "SELECT id, created_at, specs, devices, commands FROM campaigns WHERE id = $1";
/// A page of campaigns after `$1` (0 for the first), at most `$2`.
pub(super) const SELECT_CAMPAIGNS: &str = "SELECT id, created_at, specs, devices, commands \
     FROM campaigns WHERE id > $1 ORDER BY id LIMIT $2";
/// A command queued by campaign `$5`.
pub(super) const INSERT_CAMPAIGN_COMMAND: &str =
    "INSERT INTO commands (device_id, spec, state, status, results, children, \
     session_id, created_at, updated_at, campaign_id) \
     VALUES ($1, $2, $3, NULL, '[]', '[]', NULL, $4, $4, $5)";
/// Campaign `$1`'s commands counted per state.
pub(super) const CAMPAIGN_STATES: &str =
    "SELECT state, COUNT(*) AS n FROM commands WHERE campaign_id = $1 GROUP BY state";
/// Cancels campaign `$1`'s commands (state `$2`, at `$3`) still in state `$4`.
pub(super) const CANCEL_CAMPAIGN: &str = "UPDATE commands SET state = $2, updated_at = $3 \
     WHERE campaign_id = $1 AND state = $4";

pub(super) const SELECT_SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE device_id = $1 AND session_id = $2"
);
/// SQLite's session columns: a running session's state is in `session_states` (migration
/// 0008), its row's is empty.
macro_rules! sqlite_session_select {
    () => {
        "SELECT device_id, session_id, started_at, updated_at, ended_at, outcome, messages, \
         COALESCE((SELECT t.state FROM session_states t WHERE t.device_id = s.device_id \
         AND t.session_id = s.session_id), s.state) AS state FROM sessions s "
    };
}
/// [`SELECT_SESSION`] for SQLite.
pub(super) const SELECT_SESSION_SQLITE: &str = concat!(
    sqlite_session_select!(),
    "WHERE s.device_id = $1 AND s.session_id = $2"
);
/// [`SELECT_SESSIONS`] for SQLite.
pub(super) const SELECT_SESSIONS_SQLITE: &str = concat!(
    sqlite_session_select!(),
    "WHERE s.device_id = $1 ORDER BY s.started_at, s.session_id"
);
/// SQLite: a running session's state (`$3`).
pub(super) const UPSERT_SESSION_STATE: &str =
    "INSERT INTO session_states (device_id, session_id, state) VALUES ($1, $2, $3) \
     ON CONFLICT (device_id, session_id) DO UPDATE SET state = excluded.state";
/// SQLite: the session is over, its state is in its row.
pub(super) const DELETE_SESSION_STATE: &str =
    "DELETE FROM session_states WHERE device_id = $1 AND session_id = $2";
pub(super) const SELECT_SESSIONS: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE device_id = $1 ORDER BY started_at, session_id"
);
/// Inserts the session or replaces what changes in it (its `started_at` stays the first one).
pub(super) const UPSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (",
    session_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (device_id, session_id) DO UPDATE SET \
     updated_at = excluded.updated_at, ended_at = excluded.ended_at, \
     outcome = excluded.outcome, messages = excluded.messages, state = excluded.state"
);

pub(super) const SELECT_ALERTS: &str = concat!(
    "SELECT ",
    alert_columns!(),
    " FROM alerts WHERE device_id = $1 ORDER BY id"
);
pub(super) const INSERT_ALERT: &str =
    "INSERT INTO alerts (device_id, session_id, code, correlator, items, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// A report; its id is returned.
pub(super) const INSERT_REPORT: &str =
    "INSERT INTO reports (device_id, items, received_at) VALUES ($1, $2, $3) RETURNING id";
pub(super) const SELECT_REPORTS: &str = concat!(
    "SELECT ",
    report_columns!(),
    " FROM reports WHERE device_id = $1 ORDER BY id"
);

/// Commands queued or sent, per device and state, of the `n` devices bound as `$1..$n` (through
/// the pending commands, which both databases keep in an index of their own).
pub(super) fn queue_counts(n: usize) -> String {
    format!(
        "SELECT device_id, state, COUNT(*) FROM commands \
         WHERE device_id IN (VALUES {}) AND {} AND state <> 'done' \
         GROUP BY device_id, state",
        super::batch::values(1, n, 1, &[]),
        pending_where!()
    )
}
/// The latest activity of each open session of the `n` devices bound as `$1..$n`.
pub(super) fn open_sessions(n: usize) -> String {
    format!(
        "SELECT device_id, MAX(updated_at) FROM sessions \
         WHERE device_id IN (VALUES {}) AND ended_at IS NULL GROUP BY device_id",
        super::batch::values(1, n, 1, &[])
    )
}
/// Sessions started per minute (minute number = seconds / 60) since `$1`.
pub(super) const SESSIONS_PER_MINUTE: &str = "SELECT started_at / 60, COUNT(*) FROM sessions \
     WHERE started_at >= $1 GROUP BY started_at / 60";
/// Commands answered per minute and final state (done, failed) since `$1`.
pub(super) const OUTCOMES_PER_MINUTE: &str = "SELECT updated_at / 60, state, COUNT(*) \
     FROM commands WHERE updated_at >= $1 AND state IN ('done', 'failed') \
     GROUP BY updated_at / 60, state";

pub(super) const SELECT_SETTING: &str = "SELECT value FROM settings WHERE name = $1";

pub(super) const INSERT_AUDIT: &str =
    "INSERT INTO audit (at, device_id, session_id, event, detail) VALUES ($1, $2, $3, $4, $5)";
/// The latest `$2` lines of device `$1`, oldest first.
pub(super) const SELECT_AUDIT_OF_DEVICE: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM (SELECT ",
    audit_columns!(),
    " FROM audit WHERE device_id = $1 ORDER BY id DESC LIMIT $2) AS latest ORDER BY id"
);
/// The latest `$1` lines, oldest first.
pub(super) const SELECT_AUDIT: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM (SELECT ",
    audit_columns!(),
    " FROM audit ORDER BY id DESC LIMIT $1) AS latest ORDER BY id"
);

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

pub(super) fn state_from(text: &str) -> Result<CommandState, StoreError> {
    match text {
        "queued" => Ok(CommandState::Queued),
        "sent" => Ok(CommandState::Sent),
        "done" => Ok(CommandState::Done),
        "failed" => Ok(CommandState::Failed),
        "cancelled" => Ok(CommandState::Cancelled),
        other => Err(corrupt("state", other)),
    }
}

/// A column that does not decode.
pub(super) fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
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

/// Each value that is there as JSON text.
pub(super) fn opt_to_json<T: Serialize>(
    what: &'static str,
    value: Option<&T>,
) -> Result<Option<String>, StoreError> {
    value.map(|v| to_json(what, v)).transpose()
}

fn from_json<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// An integer as the narrower type of its field, out of range being corrupt.
fn narrow<T: TryFrom<i64>>(what: &'static str, v: i64) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| corrupt(what, format_args!("{v} is out of range")))
}

/// A new device as enrolled at `now` (what [`INSERT_DEVICE`] stores).
pub(super) fn enrolled(d: &NewDevice, now: Timestamp) -> Device {
    Device {
        device_id: d.device_id.clone(),
        client_auth: d.client_auth.clone(),
        server_auth: d.server_auth.clone(),
        push_url: d.push_url.clone(),
        client_nonce: Vec::new(),
        server_nonce: Vec::new(),
        devinfo: Default::default(),
        dm_version: None,
        created_at: now,
        last_seen: None,
    }
}

/// A constraint failure as the error the store trait promises for it.
pub(super) fn map_constraint(e: sqlx::Error, device_id: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            ErrorKind::UniqueViolation => return StoreError::DeviceExists(device_id.to_owned()),
            ErrorKind::ForeignKeyViolation => return StoreError::NoDevice(device_id.to_owned()),
            _ => {}
        }
    }
    StoreError::Db(e)
}

/// The columns of one row, read by name; a value that does not decode is
/// [`StoreError::Corrupt`] naming the column.
pub(super) trait Columns {
    fn text(&self, name: &'static str) -> Result<String, StoreError>;
    fn opt_text(&self, name: &'static str) -> Result<Option<String>, StoreError>;
    /// A BIGINT column.
    fn int(&self, name: &'static str) -> Result<i64, StoreError>;
    fn opt_int(&self, name: &'static str) -> Result<Option<i64>, StoreError>;
    /// An INTEGER column (32 bits on PostgreSQL), widened.
    fn small_int(&self, name: &'static str) -> Result<i64, StoreError>;
    fn opt_small_int(&self, name: &'static str) -> Result<Option<i64>, StoreError>;
    /// A BLOB/BYTEA column; NULL reads as empty.
    fn bytes(&self, name: &'static str) -> Result<Vec<u8>, StoreError>;

    /// A JSON text column.
    fn json<T: DeserializeOwned>(&self, name: &'static str) -> Result<T, StoreError> {
        from_json(name, &self.text(name)?)
    }
}

pub(super) fn device(row: &impl Columns) -> Result<Device, StoreError> {
    Ok(Device {
        device_id: row.text("device_id")?,
        client_auth: ClientAuth {
            type_: auth_type_from(&row.text("client_auth_type")?)?,
            name: row.text("client_auth_name")?,
            secret: row.text("client_auth_secret")?,
        },
        server_auth: ServerAuth {
            name: row.text("server_auth_name")?,
            secret: row.text("server_auth_secret")?,
        },
        push_url: row.opt_text("push_url")?,
        client_nonce: row.bytes("client_nonce")?,
        server_nonce: row.bytes("server_nonce")?,
        devinfo: row.json("devinfo")?,
        dm_version: row.opt_text("dm_version")?,
        created_at: row.int("created_at")?,
        last_seen: row.opt_int("last_seen")?,
    })
}

pub(super) fn command(row: &impl Columns) -> Result<QueuedCommand, StoreError> {
    Ok(QueuedCommand {
        id: row.int("id")?,
        device_id: row.text("device_id")?,
        spec: row.json("spec")?,
        state: state_from(&row.text("state")?)?,
        status: row
            .opt_small_int("status")?
            .map(|v| narrow("status", v))
            .transpose()?,
        results: row.json("results")?,
        children: row.json("children")?,
        session_id: row.opt_text("session_id")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(super) fn campaign(row: &impl Columns) -> Result<Campaign, StoreError> {
    Ok(Campaign {
        id: row.int("id")?,
        created_at: row.int("created_at")?,
        specs: row.json("specs")?,
        devices: narrow("devices", row.int("devices")?)?,
        commands: narrow("commands", row.int("commands")?)?,
    })
}

/// The rows of [`CAMPAIGN_STATES`] added up.
pub(super) fn campaign_states<R: Columns>(rows: &[R]) -> Result<CampaignStates, StoreError> {
    let mut states = CampaignStates::default();
    for row in rows {
        let n = narrow("n", row.int("n")?)?;
        states.add(state_from(&row.text("state")?)?, n);
    }
    Ok(states)
}

/// A campaign's counts as stored (BIGINT).
pub(super) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn session(row: &impl Columns) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        device_id: row.text("device_id")?,
        session_id: row.text("session_id")?,
        started_at: row.int("started_at")?,
        updated_at: row.int("updated_at")?,
        ended_at: row.opt_int("ended_at")?,
        outcome: row.opt_text("outcome")?,
        messages: narrow("messages", row.int("messages")?)?,
        state: row.bytes("state")?,
    })
}

pub(super) fn alert(row: &impl Columns) -> Result<AlertRecord, StoreError> {
    Ok(AlertRecord {
        id: row.int("id")?,
        device_id: row.text("device_id")?,
        session_id: row.text("session_id")?,
        code: narrow("code", row.small_int("code")?)?,
        correlator: row.opt_text("correlator")?,
        items: row.json("items")?,
        received_at: row.int("received_at")?,
    })
}

pub(super) fn report(row: &impl Columns) -> Result<ReportRecord, StoreError> {
    Ok(ReportRecord {
        id: row.int("id")?,
        device_id: row.text("device_id")?,
        items: row.json("items")?,
        received_at: row.int("received_at")?,
    })
}

pub(super) fn audit(row: &impl Columns) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.int("id")?,
        at: row.int("at")?,
        device_id: row.opt_text("device_id")?,
        session_id: row.opt_text("session_id")?,
        event: row.text("event")?,
        detail: row.json("detail")?,
    })
}

/// Decodes every row with `f`.
pub(super) fn all<R, T>(
    rows: &[R],
    f: fn(&R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

/// Folds [`QUEUE_COUNTS`] and [`OPEN_SESSIONS`] rows into one [`DeviceActivity`] per device.
pub(super) fn device_activity(
    counts: Vec<(String, String, i64)>,
    open: Vec<(String, i64)>,
) -> Vec<super::DeviceActivity> {
    let mut by_id = std::collections::BTreeMap::<String, super::DeviceActivity>::new();
    for (id, state, n) in counts {
        let a = by_id.entry(id).or_default();
        let n = u64::try_from(n).unwrap_or(0);
        match state.as_str() {
            "queued" => a.queued = n,
            "sent" => a.sent = n,
            _ => {}
        }
    }
    for (id, at) in open {
        by_id.entry(id).or_default().open_session_at = Some(at);
    }
    by_id
        .into_iter()
        .map(|(device_id, a)| super::DeviceActivity { device_id, ..a })
        .collect()
}

/// Folds [`SESSIONS_PER_MINUTE`] and [`OUTCOMES_PER_MINUTE`] rows into minutes, oldest first.
pub(super) fn minutes(
    sessions: Vec<(i64, i64)>,
    outcomes: Vec<(i64, String, i64)>,
) -> Vec<super::MinuteActivity> {
    let mut by_minute = std::collections::BTreeMap::<i64, super::MinuteActivity>::new();
    for (minute, n) in sessions {
        let e = by_minute.entry(minute).or_default();
        e.start = minute.saturating_mul(60);
        e.sessions = u64::try_from(n).unwrap_or(0);
    }
    for (minute, state, n) in outcomes {
        let e = by_minute.entry(minute).or_default();
        e.start = minute.saturating_mul(60);
        let n = u64::try_from(n).unwrap_or(0);
        match state.as_str() {
            "done" => e.done = n,
            "failed" => e.failed = n,
            _ => {}
        }
    }
    by_minute.into_values().collect()
}
