//! The DM session driver: runs one management session of the device in `DIR` against its server,
//! on top of the sans-IO session engine.
//!
//! PLACEHOLDER: the engine is being written; [`run_session`] answers
//! [`AgentError::SessionEngineUnavailable`] until it lands. What it will do, and what the rest of
//! the agent already provides for it:
//! 1. take the tree with [`DeviceDir::lock_tree`], create the nodes of Exec hooks
//!    ([`super::hooks::ensure_nodes`]) and build [`super::plugins`] for it;
//! 2. read the account ([`super::account::find`]) and the queued Generic Alerts
//!    ([`DeviceDir::queued_alerts`], sent with [`super::alerts::GenericAlert::to_command`]);
//! 3. exchange messages with [`super::transport::Transport::post`];
//! 4. [`super::TreeLock::save`] the tree, [`DeviceDir::remove_alerts`] those the server answered;
//! 5. before the process exits, wait for background jobs ([`DeviceDir::jobs`]).

use omadm_syncml::pkg0::{Initiator, UiMode};

use super::{AgentError, DeviceDir};
use crate::notification::SessionRequest;

/// Why a session starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionTrigger {
    /// Client-initiated (Alert 1201, DIGEST.md §2.5): by the user, a timer, or queued alerts.
    Client {
        /// The account's ServerID [default: `server_id` of `device.toml`].
        server_id: Option<String>,
    },
    /// Server-alerted by a verified package #0 (Alert 1200, DIGEST.md §4.1); the fields are those
    /// of [`SessionRequest`].
    Notification {
        /// The server identifier (= the account's ServerID).
        server_id: String,
        /// The `<X>` of the matching `./DMAcc/<X>`.
        account_node: String,
        /// §4.1: the SessionID to use, uppercase hex without leading zeros.
        session_id: String,
        /// §4.1: how the user is involved.
        ui_mode: UiMode,
        /// Who initiated the management action.
        initiator: Initiator,
        /// §4.1: only the zero nonce verified; the session must Chal to refresh nonces.
        resync: bool,
        /// DM 1.3 Requested-MO codes (empty for a 1.2 package).
        requested_mos: Vec<u16>,
    },
}

impl From<SessionRequest> for SessionTrigger {
    fn from(r: SessionRequest) -> SessionTrigger {
        SessionTrigger::Notification {
            server_id: r.server_id,
            account_node: r.account_node,
            session_id: r.session_id_text,
            ui_mode: r.ui_mode,
            initiator: r.initiator,
            resync: r.resync,
            requested_mos: r.requested_mos,
        }
    }
}

/// Runs one DM session of the device in `dir` (see the module doc). The future is `Send` so that
/// the push receiver can `tokio::spawn` it.
pub async fn run_session(dir: &DeviceDir, trigger: SessionTrigger) -> Result<(), AgentError> {
    let _ = (dir, trigger);
    Err(AgentError::SessionEngineUnavailable)
}
