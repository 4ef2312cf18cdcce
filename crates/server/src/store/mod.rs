//! Persistence: the [`Store`] trait and its SQLite ([`sqlite::SqliteStore`]) and PostgreSQL
//! ([`postgres::PgStore`]) implementations.
//!
//! Every incoming DM message is handled in one [`StoreTx`]: the device row is locked, the
//! session state and the device's pending commands are read, the engine runs, and its
//! [`Changes`] are written and committed together. A crash before the commit loses nothing (the
//! device resends the message); a crash after it records nothing twice (the next message sees the
//! new state). Session state lives in the store, so any server process can serve the next
//! message of a session.
//!
//! The SQL is kept portable: the two stores run the same statements on the same tables.

mod batch;
mod codec;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;

use crate::model::{
    AlertItem, AlertRecord, AuditEntry, ChildStatus, CommandSpec, CommandState, Device, NewDevice,
    QueuedCommand, ReportRecord, ResultItem, SessionRecord, Timestamp,
};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (connection, SQL, constraint other than the ones below).
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed at open.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A device with this id is already enrolled.
    #[error("device {0:?} is already enrolled")]
    DeviceExists(String),
    /// No such device.
    #[error("no device {0:?}")]
    NoDevice(String),
    /// A stored value does not decode (JSON column, enum text).
    #[error("stored {what} does not decode: {detail}")]
    Corrupt {
        /// Which column.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// Devices named for a campaign that are not enrolled (nothing was queued).
    #[error("no devices {0:?}")]
    UnknownDevices(Vec<String>),
    /// A statement on the DM messages' own connection of a SQLite file failed (see
    /// [`sqlite`]).
    #[error("database: {0}")]
    Sqlite(std::sync::Arc<rusqlite::Error>),
    /// A SQLite file's DM message got no answer from its connection (the store is closing), or
    /// the checkpoint thread could not start.
    #[error("the database writer has stopped")]
    WriterGone,
    /// A SQLite file's DM message ran in a transaction that was rolled back because a later
    /// message of it failed, and another process wrote to the file before it could be written
    /// again; nothing of it was written (see [`sqlite`]).
    #[error("another process wrote to the database while this message was being written again; nothing of it was written")]
    Interrupted,
    /// The work of a message panicked; its transaction was rolled back.
    #[error("handling the message panicked; nothing of it was written")]
    WorkPanicked,
    /// The database URL is not one this build supports.
    #[error("unsupported database URL {0:?} (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl(String),
}

/// The device fields a message changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceUpdate {
    /// New nonce for the device's next credentials.
    pub client_nonce: Option<Vec<u8>>,
    /// New nonce for the server's next credentials toward the device.
    pub server_nonce: Option<Vec<u8>>,
    /// DevInfo from package #1 (replaces the stored one).
    pub devinfo: Option<std::collections::BTreeMap<String, String>>,
    /// VerProto of the session.
    pub dm_version: Option<String>,
    /// When the message was processed.
    pub last_seen: Option<Timestamp>,
}

/// A change to one queued command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandUpdate {
    /// The command.
    pub id: i64,
    /// Its new state.
    pub state: CommandState,
    /// The status, when one came.
    pub status: Option<u16>,
    /// Results to store (replacing any stored), when they came.
    pub results: Option<Vec<ResultItem>>,
    /// Child statuses of an Atomic or Sequence, when they came.
    pub children: Option<Vec<ChildStatus>>,
    /// The session it was sent in, when it was sent.
    pub session_id: Option<String>,
}

/// An alert to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAlert {
    pub code: u16,
    pub correlator: Option<String>,
    pub items: Vec<AlertItem>,
}

/// An audit line to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAudit {
    pub device_id: Option<String>,
    pub session_id: Option<String>,
    pub event: String,
    pub detail: serde_json::Value,
}

/// Everything one message changes, written by [`StoreTx::apply`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Device fields.
    pub device: DeviceUpdate,
    /// The session after the message (inserted or replaced, keyed by device and session id).
    pub session: Option<SessionRecord>,
    /// Queue changes, in order.
    pub commands: Vec<CommandUpdate>,
    /// Alerts received.
    pub alerts: Vec<NewAlert>,
    /// Audit lines.
    pub audit: Vec<NewAudit>,
}

impl Changes {
    /// The session id the message's alerts are stored under: its session's, or empty.
    pub fn alert_session_id(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.session_id.as_str())
    }
}

/// A campaign: the same commands queued for a set of devices in one transaction (issue 7).
/// Each command it queued keeps its id (the `campaign_id` column of `commands`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Campaign {
    pub id: i64,
    pub created_at: Timestamp,
    /// The commands queued for every device, in order.
    pub specs: Vec<CommandSpec>,
    /// How many devices.
    pub devices: u64,
    /// How many commands were queued (devices × specs).
    pub commands: u64,
}

/// How many of a campaign's commands are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CampaignStates {
    pub queued: u64,
    pub sent: u64,
    pub done: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl CampaignStates {
    /// Adds `n` commands in `state`.
    pub fn add(&mut self, state: CommandState, n: u64) {
        let slot = match state {
            CommandState::Queued => &mut self.queued,
            CommandState::Sent => &mut self.sent,
            CommandState::Done => &mut self.done,
            CommandState::Failed => &mut self.failed,
            CommandState::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }
}

/// What the dashboard's device list shows of one device's activity.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeviceActivity {
    pub device_id: String,
    /// Commands waiting for the next session.
    pub queued: u64,
    /// Commands sent, with no Status yet.
    pub sent: u64,
    /// The last message of its latest session not yet over, if any.
    pub open_session_at: Option<Timestamp>,
}

/// Sessions and command outcomes in one minute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MinuteActivity {
    /// The minute's first second (Unix time, a multiple of 60).
    pub start: Timestamp,
    /// Sessions that started in it.
    pub sessions: u64,
    /// Commands answered with a 2xx status in it.
    pub done: u64,
    /// Commands that failed in it.
    pub failed: u64,
}

/// What [`Store::message`] read for a message before its work runs.
#[derive(Clone, Copy, Debug)]
pub struct MessageInput<'a> {
    /// The device, `None` when no device with this id is enrolled.
    pub device: Option<&'a Device>,
    /// The session with this id, when the device has one.
    pub session: Option<&'a SessionRecord>,
    /// The device's pending commands (see [`StoreTx::pending_commands`]).
    pub pending: &'a [QueuedCommand],
}

/// What the work of a message returns: the changes to write (`None`: write nothing) and a value
/// for the caller (the answer), handed back by [`Store::message`].
pub struct WorkOutput {
    pub changes: Option<Changes>,
    pub value: Box<dyn std::any::Any + Send>,
}

/// The work of one message: runs once, inside the message's transaction, on the reads of
/// [`MessageInput`]. It must not call the store (it may run on the store's own thread).
pub type MessageWork = Box<dyn FnOnce(MessageInput<'_>) -> WorkOutput + Send>;

/// What [`Store::message`] did.
pub struct MessageDone {
    /// Whether the device is enrolled.
    pub known: bool,
    /// Whether the session was already stored before this message.
    pub had_session: bool,
    /// The changes written (all of them for a known device, the audit lines only for an
    /// unknown one), `None` when the work returned none.
    pub changes: Option<Changes>,
    /// The work's value.
    pub value: Box<dyn std::any::Any + Send>,
}

/// Runs `work`, turning a panic into [`StoreError::WorkPanicked`] (the transaction is then
/// rolled back and the store's threads live on).
pub(crate) fn run_work(
    work: MessageWork,
    input: MessageInput<'_>,
) -> Result<WorkOutput, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(input)))
        .map_err(|_| StoreError::WorkPanicked)
}

/// [`Store::message`] through [`Store::begin`], one statement at a time.
pub(crate) async fn message_in_tx<S: Store + ?Sized>(
    store: &S,
    device_id: &str,
    session_id: &str,
    now: Timestamp,
    work: MessageWork,
) -> Result<MessageDone, StoreError> {
    let mut tx = store.begin().await?;
    let device = tx.device(device_id).await?;
    let (session, pending) = match &device {
        Some(_) => (
            tx.session(device_id, session_id).await?,
            tx.pending_commands(device_id).await?,
        ),
        None => (None, Vec::new()),
    };
    let input = MessageInput {
        device: device.as_ref(),
        session: session.as_ref(),
        pending: &pending,
    };
    let out = run_work(work, input)?;
    match (&device, &out.changes) {
        (Some(_), Some(changes)) => {
            tx.apply(device_id, changes, now).await?;
            tx.commit().await?;
        }
        (None, Some(changes)) => {
            drop(tx);
            for a in &changes.audit {
                store.audit(a, now).await?;
            }
        }
        (_, None) => drop(tx),
    }
    Ok(MessageDone {
        known: device.is_some(),
        had_session: session.is_some(),
        changes: out.changes,
        value: out.value,
    })
}

/// The server's storage. Implementations are cheap to share (`Arc<dyn Store>`).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Starts the transaction one DM message is handled in.
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError>;

    /// Handles one DM message in one transaction: reads the device and, when it is enrolled,
    /// the session `session_id` and the pending commands; runs `work` on them; writes the
    /// [`Changes`] it returns (for a device that is not enrolled only their audit lines) with
    /// `now`, and commits. When anything fails nothing of the message is written.
    ///
    /// This default runs it through [`Store::begin`], one statement at a time. The SQLite store
    /// of a file runs the whole of it on its writer thread, in one hand-off (issue 7).
    async fn message(
        &self,
        device_id: &str,
        session_id: &str,
        now: Timestamp,
        work: MessageWork,
    ) -> Result<MessageDone, StoreError> {
        message_in_tx(self, device_id, session_id, now, work).await
    }

    /// Enrolls a device (nonces empty, no DevInfo yet).
    async fn create_device(&self, d: &NewDevice, now: Timestamp) -> Result<Device, StoreError>;
    /// One device.
    async fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError>;
    /// Devices in id order, at most `limit`, after `after` when given.
    async fn devices(&self, after: Option<&str>, limit: u32) -> Result<Vec<Device>, StoreError>;
    /// Removes a device and everything recorded of it; false when there was none.
    async fn delete_device(&self, device_id: &str) -> Result<bool, StoreError>;

    /// Queues a command; its id.
    async fn enqueue(
        &self,
        device_id: &str,
        spec: &CommandSpec,
        now: Timestamp,
    ) -> Result<i64, StoreError>;
    /// One command of a device.
    async fn command(&self, device_id: &str, id: i64) -> Result<Option<QueuedCommand>, StoreError>;
    /// A device's commands, oldest first.
    async fn commands(&self, device_id: &str) -> Result<Vec<QueuedCommand>, StoreError>;
    /// Cancels a command still queued; false when it was not queued.
    async fn cancel_command(
        &self,
        device_id: &str,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Records a campaign and queues every spec, in order, for every device, all in one
    /// transaction: when a device is not enrolled nothing is written and the error is
    /// [`StoreError::UnknownDevices`] naming every such device.
    async fn create_campaign(
        &self,
        devices: &[String],
        specs: &[CommandSpec],
        now: Timestamp,
    ) -> Result<Campaign, StoreError>;
    /// One campaign.
    async fn campaign(&self, id: i64) -> Result<Option<Campaign>, StoreError>;
    /// Campaigns in id order, at most `limit`, after `after` when given.
    async fn campaigns(&self, after: Option<i64>, limit: u32) -> Result<Vec<Campaign>, StoreError>;
    /// How many of a campaign's commands are in each state now (commands of devices deleted
    /// since are gone from the counts).
    async fn campaign_states(&self, id: i64) -> Result<CampaignStates, StoreError>;
    /// Cancels a campaign's commands still queued; how many.
    async fn cancel_campaign(&self, id: i64, now: Timestamp) -> Result<u64, StoreError>;

    /// A device's alerts, oldest first.
    async fn alerts(&self, device_id: &str) -> Result<Vec<AlertRecord>, StoreError>;
    /// Records an authenticated sessionless report; its id.
    async fn add_report(
        &self,
        device_id: &str,
        items: &[AlertItem],
        now: Timestamp,
    ) -> Result<i64, StoreError>;
    /// A device's reports, oldest first.
    async fn reports(&self, device_id: &str) -> Result<Vec<ReportRecord>, StoreError>;
    /// A device's sessions, oldest first.
    async fn sessions(&self, device_id: &str) -> Result<Vec<SessionRecord>, StoreError>;
    /// Sets a device's nonces outside a session (after a notification or a report).
    /// Queue counts and open sessions of these devices (only those with something to show are
    /// listed), read [`batch::MAX_ROWS`] devices per statement.
    async fn device_activity(
        &self,
        device_ids: &[String],
    ) -> Result<Vec<DeviceActivity>, StoreError>;
    /// Per minute since `since`: sessions started, commands done and failed (minutes with none of
    /// these are left out), oldest first.
    async fn activity(&self, since: Timestamp) -> Result<Vec<MinuteActivity>, StoreError>;
    async fn set_nonces(
        &self,
        device_id: &str,
        client_nonce: Option<&[u8]>,
        server_nonce: Option<&[u8]>,
    ) -> Result<(), StoreError>;

    /// A server setting (the admin token, ...), `None` when never set.
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let _ = key;
        Ok(None)
    }
    /// Sets a server setting; when `only_if_absent`, keeps an existing value. The value now
    /// stored.
    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        only_if_absent: bool,
    ) -> Result<String, StoreError> {
        let _ = (key, only_if_absent);
        Ok(value.to_owned())
    }

    /// Appends to the audit log.
    async fn audit(&self, entry: &NewAudit, now: Timestamp) -> Result<(), StoreError>;
    /// The audit log (of one device when given): its latest `limit` lines, oldest first.
    async fn audit_log(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}

/// One message's transaction. Dropping it without [`StoreTx::commit`] rolls it back.
#[async_trait]
pub trait StoreTx: Send {
    /// The device, locked for the rest of the transaction (no other message of it runs
    /// meanwhile, in any process).
    async fn device(&mut self, device_id: &str) -> Result<Option<Device>, StoreError>;
    /// A session of the device.
    async fn session(
        &mut self,
        device_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StoreError>;
    /// The device's commands in state queued or sent, and those done with status 202 (an
    /// asynchronous Exec whose result a Generic Alert will bring), oldest first.
    async fn pending_commands(&mut self, device_id: &str)
        -> Result<Vec<QueuedCommand>, StoreError>;
    /// Writes `changes` for `device_id` (`now` stamps them).
    async fn apply(
        &mut self,
        device_id: &str,
        changes: &Changes,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Commits.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Opens the store a URL names: `sqlite://PATH` (created when missing, WAL), `sqlite::memory:`,
/// or `postgres://...` / `postgresql://...` (see [`postgres::PgStore::open`]).
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if postgres::is_postgres_url(url) {
        Ok(std::sync::Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
