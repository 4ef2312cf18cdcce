//! The server's sans-IO DM session engine: a function of (the device, the stored session state,
//! the incoming message, the device's pending commands, the clock) to (the answer, the new
//! session state, the queue changes, the alerts to record). No I/O inside: the HTTP layer
//! ([`crate::http`]) reads and writes the [`crate::store::Store`] around it in one transaction.
//!
//! ```text
//!   peek(cfg, body)                  device id + session id, to lock and load
//!   process_peeked(cfg, ctx, inbound, &peek, nonce) ──▶ Outbound { body, hmac, changes, session_over }
//! ```
//!
//! One module per concept: [`state`] (what a session remembers between messages), `auth`
//! (both directions of DM Protocol 1.3 §9), `build` (queued commands as SyncML), `pack`
//! (packages #2/#4 within MaxMsgSize, large objects in chunks, §7-§8), `client` (the client's
//! alerts and DevInfo), `matching` (Status and Results back to the queue), `answer` (headers,
//! encoding, signing), `session` (the flow of one message), `refuse` (unknown devices and
//! sessions) and `report` (Sessionless Reporting 1.3).

mod answer;
mod auth;
mod build;
mod client;
mod matching;
mod pack;
mod refuse;
mod report;
mod session;
pub mod sessionless;
pub mod state;

use omadm_syncml::{Encoding, Message};

use crate::model::{Device, QueuedCommand, SessionRecord, Timestamp};
use crate::store::Changes;

pub use report::{is_report, verify_report};
pub use state::SessionState;

/// How the server runs sessions.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The server's identifier: SyncHdr Source LocURI of its messages, the device's DMAcc
    /// ServerID.
    pub server_id: String,
    /// The largest message the server accepts (its MaxMsgSize).
    pub max_msg_size: u64,
    /// The largest object the server accepts (its MaxObjSize).
    pub max_obj_size: u64,
    /// The most messages one session may take before the server aborts it (1223).
    pub max_messages_per_session: u32,
    /// This replica's own DM address, sent as the SyncHdr RespURI of every answer (DM Protocol
    /// 1.3 §6.2: the client sends the rest of the session there), so that a session started
    /// through a load balancer stays on the replica that started it. `None`: no RespURI, the
    /// client keeps its account's address.
    pub resp_uri: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            server_id: "omadm".into(),
            max_msg_size: 64 * 1024,
            max_obj_size: 4 * 1024 * 1024,
            max_messages_per_session: 200,
            resp_uri: None,
        }
    }
}

/// Who sent a message and in which session: what the caller needs to lock and load before
/// [`process`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peek {
    /// SyncHdr Source LocURI: the device id.
    pub device_id: String,
    /// SyncHdr SessionID.
    pub session_id: String,
    /// SyncHdr MsgID.
    pub msg_id: String,
    /// The encoding of the body.
    pub encoding: Encoding,
    /// SyncHdr VerProto.
    pub ver_proto: String,
    /// The message itself (decoded once).
    pub message: Message,
}

/// A message from a device.
#[derive(Clone, Copy, Debug)]
pub struct Inbound<'a> {
    /// The HTTP body.
    pub body: &'a [u8],
    /// The HTTP `x-syncml-hmac` header.
    pub hmac: Option<&'a str>,
    /// The clock.
    pub now: Timestamp,
}

/// What the caller loaded for the message.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The device, `None` when no device with the SyncHdr Source is enrolled.
    pub device: Option<&'a Device>,
    /// The stored session with this SessionID, if any.
    pub session: Option<&'a SessionRecord>,
    /// The device's commands in state queued or sent, oldest first.
    pub pending: &'a [QueuedCommand],
}

/// The answer to a message, and what to store.
#[derive(Clone, Debug)]
pub struct Outbound {
    /// The answer's bytes (HTTP 200 body).
    pub body: Vec<u8>,
    /// Its Content-Type.
    pub content_type: String,
    /// Its `x-syncml-hmac` header, for an HMAC device.
    pub hmac: Option<String>,
    /// What to write in the message's transaction.
    pub changes: Changes,
    /// True when this answer ends the session.
    pub session_over: bool,
}

/// Why a body gets no SyncML answer at all (HTTP 4xx).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The body is not a SyncML message.
    #[error("not a SyncML DM message: {0}")]
    Decode(#[from] omadm_syncml::DecodeError),
    /// An answer could not be encoded.
    #[error("cannot encode the answer: {0}")]
    Encode(#[from] omadm_syncml::EncodeError),
    /// Not implemented yet (kept for callers written against the placeholder).
    #[error("the server session engine is not available yet")]
    Unavailable,
}

/// The decoder limits of the engine: the server's MaxMsgSize (with room to recognise a message
/// that is too large and refuse it in SyncML), and bounds on commands and items.
pub(crate) fn limits(cfg: &ServerConfig) -> omadm_syncml::Limits {
    let max = usize::try_from(cfg.max_msg_size).unwrap_or(usize::MAX);
    omadm_syncml::Limits {
        max_message_bytes: max.saturating_mul(2).max(64 * 1024),
        max_commands: 10_000,
        max_items: 20_000,
        ..omadm_syncml::Limits::default()
    }
}

/// Decodes a message (within the server's limits) far enough to know its device and session;
/// [`process_peeked`] then answers it without decoding it again.
pub fn peek(cfg: &ServerConfig, body: &[u8]) -> Result<Peek, EngineError> {
    let (message, encoding) = Message::decode_with(body, &limits(cfg))?;
    Ok(Peek {
        device_id: message.hdr.source.loc_uri.to_string(),
        session_id: message.hdr.session_id.to_string(),
        msg_id: message.hdr.msg_id.to_string(),
        encoding,
        ver_proto: message.hdr.ver_proto.to_string(),
        message,
    })
}

/// Answers one message of a session (DM Protocol 1.3 §6-§9). `nonce` draws the fresh nonces
/// the server issues in its challenges.
pub fn process(
    cfg: &ServerConfig,
    ctx: Context<'_>,
    inbound: Inbound<'_>,
    nonce: &mut dyn FnMut() -> Vec<u8>,
) -> Result<Outbound, EngineError> {
    let (msg, enc) = Message::decode_with(inbound.body, &limits(cfg))?;
    session::process(cfg, ctx, inbound, &msg, enc, nonce)
}

/// [`process`] for a message [`peek`] decoded already (`inbound.body` is its bytes: the HMAC and
/// the repeat check are over them).
pub fn process_peeked(
    cfg: &ServerConfig,
    ctx: Context<'_>,
    inbound: Inbound<'_>,
    peeked: &Peek,
    nonce: &mut dyn FnMut() -> Vec<u8>,
) -> Result<Outbound, EngineError> {
    session::process(cfg, ctx, inbound, &peeked.message, peeked.encoding, nonce)
}

/// The SyncML commands of `specs`, CmdIDs numbered from 1 (nested ones too, depth first): what a
/// sessionless command message carries.
pub fn commands_for(specs: &[crate::model::CommandSpec]) -> Vec<omadm_syncml::Command> {
    let mut next = 1u32;
    specs
        .iter()
        .map(|s| build::build(s, &mut next).cmd)
        .collect()
}
