//! What the server keeps about devices, their command queues and what they report: the records
//! the [`crate::store::Store`] persists and the REST API shows.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

/// How a device authenticates to the server (its DMAcc CLCRED, DM Protocol 1.3 §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuthType {
    /// `syncml:auth-basic`.
    Basic,
    /// `syncml:auth-md5`, with server-issued nonces.
    Digest,
    /// `x-syncml-hmac` (HMAC-MD5 in DM 1.2, HMAC-SHA256 in DM 1.3).
    Hmac,
}

/// A device's credentials toward the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuth {
    /// The scheme the server requires.
    #[serde(rename = "type")]
    pub type_: ClientAuthType,
    /// The device's user name (CLCRED AAuthName).
    pub name: String,
    /// Its password (CLCRED AAuthSecret).
    pub secret: String,
}

/// The server's credentials toward a device (the device's SRVCRED).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerAuth {
    /// SRVCRED AAuthName.
    pub name: String,
    /// SRVCRED AAuthSecret.
    pub secret: String,
}

/// What enrolls a device (`POST /api/v1/devices`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDevice {
    /// DevInfo/DevId: the SyncHdr Source LocURI the device sends.
    pub device_id: String,
    /// How it authenticates.
    pub client_auth: ClientAuth,
    /// How the server authenticates to it.
    pub server_auth: ServerAuth,
    /// Where package #0, sessionless messages and bootstraps are pushed over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_url: Option<String>,
}

/// An enrolled device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// DevInfo/DevId.
    pub device_id: String,
    /// How it authenticates.
    pub client_auth: ClientAuth,
    /// How the server authenticates to it.
    pub server_auth: ServerAuth,
    /// Push address.
    pub push_url: Option<String>,
    /// The nonce the device must use in its next MD5 digest or HMAC (the server's last
    /// NextNonce to it, DM Protocol 1.3 §9.1).
    pub client_nonce: Vec<u8>,
    /// The nonce the server must use in its next digest or HMAC toward the device (the device's
    /// last NextNonce to the server).
    pub server_nonce: Vec<u8>,
    /// The DevInfo the device last sent in package #1 (leaf name → value).
    pub devinfo: std::collections::BTreeMap<String, String>,
    /// VerProto of its last session (`DM/1.1`, `DM/1.2`, `DM/1.3`).
    pub dm_version: Option<String>,
    /// When enrolled.
    pub created_at: Timestamp,
    /// When a message of it was last processed.
    pub last_seen: Option<Timestamp>,
}

/// What a queued command asks (`POST /api/v1/devices/{id}/commands`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandSpec {
    /// `Get`, `Add`, `Replace`, `Delete`, `Exec`, `Copy`, `Alert`, `Atomic` or `Sequence`.
    pub op: Op,
    /// Target LocURI (all but Atomic and Sequence; for Alert, the code's Item target if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Source LocURI (Copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Item Data (for Alert 1100-1104: the text; for other Alerts, the Data of the Item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Meta Format (`chr`, `int`, `b64`, `node`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Meta Type (a MIME type).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Alert: the alert code (1100-1104 user interaction, or another).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Alert 1100-1104: the options Item (`MINDT=10&MAXDT=30&DR=1...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
    /// Alert 1103/1104: the choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Exec: the Correlator to echo in the asynchronous result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlator: Option<String>,
    /// Atomic and Sequence: the commands inside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandSpec>,
}

/// The operations a queued command can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Get,
    Add,
    Replace,
    Delete,
    Exec,
    Copy,
    Alert,
    Atomic,
    Sequence,
}

/// Where a queued command is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandState {
    /// Waiting for the device's next session.
    Queued,
    /// Sent in a session; no Status yet.
    Sent,
    /// Answered with a 2xx Status.
    Done,
    /// Answered with another Status, or its session ended before the Status came.
    Failed,
    /// Withdrawn before it was sent.
    Cancelled,
}

/// One Item of a Results (or a user interaction answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultItem {
    /// Source LocURI.
    pub source: Option<String>,
    /// Meta Format.
    pub format: Option<String>,
    /// Meta Type.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Data (base64 when Format is `b64`, as sent).
    pub data: Option<String>,
}

/// The Status of one command inside an Atomic or Sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildStatus {
    /// Position in `commands` (depth-first for nested containers).
    pub index: usize,
    /// The DM status code.
    pub status: u16,
}

/// A command in a device's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedCommand {
    /// Unique in the store, increasing in queue order.
    pub id: i64,
    /// The device.
    pub device_id: String,
    /// What it asks.
    pub spec: CommandSpec,
    /// Where it is.
    pub state: CommandState,
    /// The DM status code the device answered.
    pub status: Option<u16>,
    /// Its Results (Get), reassembled when chunked.
    pub results: Vec<ResultItem>,
    /// Statuses of the commands inside an Atomic or Sequence.
    pub children: Vec<ChildStatus>,
    /// The session it was sent in.
    pub session_id: Option<String>,
    /// When queued.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Timestamp,
}

/// An alert a device sent (Generic Alert 1226, tree-change 1227/1228, requested MOs 1229, or
/// any client event alert).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub id: i64,
    pub device_id: String,
    pub session_id: String,
    /// The alert code.
    pub code: u16,
    pub correlator: Option<String>,
    /// One per Item.
    pub items: Vec<AlertItem>,
    pub received_at: Timestamp,
}

/// One Item of an alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertItem {
    pub source: Option<String>,
    pub target: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub format: Option<String>,
    pub mark: Option<String>,
    pub data: Option<String>,
}

/// A sessionless report (Alert 1230, OMA DM Sessionless Reporting 1.3) that authenticated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub id: i64,
    pub device_id: String,
    pub items: Vec<AlertItem>,
    pub received_at: Timestamp,
}

/// A DM session as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub device_id: String,
    /// The SessionID (as sent, hex text).
    pub session_id: String,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the session is over.
    pub ended_at: Option<Timestamp>,
    /// `completed`, `aborted_by_client`, `aborted_by_server`, `auth_failed`, ... once over.
    pub outcome: Option<String>,
    /// Messages received from the device.
    pub messages: u32,
    /// The engine's state between messages ([`crate::engine::SessionState`] serialized);
    /// once the session is over, only what answers a repeat of its last message.
    #[serde(skip)]
    pub state: Vec<u8>,
}

/// One line of the append-only audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub device_id: Option<String>,
    pub session_id: Option<String>,
    /// What happened (`enrolled`, `command.queued`, `command.sent`, `command.status`,
    /// `auth.failed`, ...).
    pub event: String,
    /// Details as JSON.
    pub detail: serde_json::Value,
}
