//! Server-alerted sessions: the DM notification, package #0 (DIGEST.md §4.1, §4.2).
//!
//! [`NotificationHandler::handle`] turns a received package into a [`SessionRequest`] the agent
//! acts on, or a [`NotificationRejected`]. The checks, in order:
//! 1. decode the package ([`Notification::decode`]);
//! 2. its server identifier must be the `ServerID` of exactly one `./DMAcc/<X>`;
//! 3. the digest must verify with one of that account's `AppAuth` entries with `AAuthLevel` =
//!    `SRVCRED` (the server's credentials toward the client): `AAuthSecret` is the password,
//!    `AAuthData` the stored nonce. The digest names the server by the notification's server
//!    identifier, so `AAuthName` does not select the entry: every `SRVCRED` entry is tried;
//! 4. a session id already started for that server within [`DUPLICATE_WINDOW_SECS`] is ignored
//!    (§4.1: "same session id re-sent = same session; client need start only one").
//!
//! Nonce resynchronisation (§4.1): when only the special zero nonce verifies, the request says
//! `resync`; the session must then build its credentials on that nonce and both sides Chal to
//! refresh nonces.

use std::collections::VecDeque;

use omadm_security::notification::{verify_with_resync, NonceUsed, NotificationError};
use omadm_syncml::pkg0::{Initiator, Notification, NotificationType, Pkg0Error, UiMode};
use omadm_tree::Tree;

/// How long (seconds of the `now` clock) a started session id stays "the same session" for its
/// server: a re-sent notification inside this window is a [`NotificationRejected::Duplicate`].
/// Servers re-send package #0 while they wait for the client (SMS may be delayed or doubled); an
/// hour covers that, and the 16-bit id space is not reused by a server that quickly.
pub const DUPLICATE_WINDOW_SECS: u64 = 3600;

/// How many started (server, session id) pairs are remembered; the oldest is forgotten first.
pub const SEEN_CAPACITY: usize = 64;

/// Why a notification does not start a session. Nothing is recorded for a rejected package.
#[derive(Debug, thiserror::Error)]
pub enum NotificationRejected {
    /// The package does not decode (the error names the byte offset).
    #[error("malformed notification: {0}")]
    Malformed(#[source] Pkg0Error),
    /// No DMAcc has the notification's server identifier as its ServerID.
    #[error("no DMAcc account has ServerID {server_id:?}")]
    NoAccount {
        /// The notification's server identifier.
        server_id: String,
    },
    /// Several DMAcc accounts have this ServerID: the credential choice would be ambiguous.
    #[error("{count} DMAcc accounts have ServerID {server_id:?}")]
    SeveralAccounts {
        /// The notification's server identifier.
        server_id: String,
        /// How many accounts match.
        count: usize,
    },
    /// The account has no `SRVCRED` AppAuth entry to check the digest against.
    #[error("account {account} has no SRVCRED credentials")]
    NoServerCredentials {
        /// `./DMAcc/<X>`.
        account: String,
    },
    /// The digest matches neither the stored nonce nor the resynchronisation nonce.
    #[error("notification digest does not match the server credentials")]
    DigestMismatch,
    /// §4.1: this session id was already started for this server within the window.
    #[error("session {session_id} of {server_id:?} already started")]
    Duplicate {
        /// The server identifier.
        server_id: String,
        /// The session id as the SessionID element writes it (uppercase hex).
        session_id: String,
    },
}

/// A verified notification: the session the client should open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRequest {
    /// The server identifier (= the account's ServerID).
    pub server_id: String,
    /// The `<X>` name of the matching `./DMAcc/<X>`.
    pub account_node: String,
    /// §4.1: the SessionID element value, uppercase hex without leading zeros.
    pub session_id_text: String,
    /// How the user is involved, see [`SessionRequest::needs_user_consent`].
    pub ui_mode: UiMode,
    /// Who initiated the management action.
    pub initiator: Initiator,
    /// §4.1: only the zero nonce verified; the session must Chal to refresh nonces.
    pub resync: bool,
    /// DM 1.3 Requested-MO codes (empty for a 1.2 package).
    pub requested_mos: Vec<u16>,
}

impl SessionRequest {
    /// §4.1 ui-mode `11` user interaction: the user must accept before the client connects.
    /// Informative (`10`: show a message, then connect), background (`01`: silent) and not
    /// specified (`00`: the device's default, silent here) connect without asking.
    pub fn needs_user_consent(&self) -> bool {
        self.ui_mode == UiMode::UserInteraction
    }

    /// §4.1 ui-mode `10` informative: the user is told a session runs, but not asked.
    pub fn shows_message(&self) -> bool {
        self.ui_mode == UiMode::Informative
    }
}

/// One started session: server, session id, when, and the package #0 that started it.
#[derive(Clone, Debug)]
struct Seen {
    server_id: String,
    session_id: u16,
    at: u64,
    /// The exact bytes accepted: the same package again is a duplicate even after the session
    /// it started changed the nonce its digest was made with.
    bytes: Vec<u8>,
}

/// Verifies notifications and remembers the sessions they started (sans-IO: the caller gives
/// the clock as `now`, in seconds).
#[derive(Clone, Debug, Default)]
pub struct NotificationHandler {
    /// Recently started sessions, oldest first, at most [`SEEN_CAPACITY`].
    seen: VecDeque<Seen>,
}

impl NotificationHandler {
    /// A handler that has started no session yet.
    pub fn new() -> NotificationHandler {
        NotificationHandler::default()
    }

    /// Checks a received package #0 of the layout `kind` against `tree` (module doc) and, when it
    /// is accepted, records its session as started at `now`.
    pub fn handle(
        &mut self,
        tree: &Tree,
        bytes: &[u8],
        kind: NotificationType,
        now: u64,
    ) -> Result<SessionRequest, NotificationRejected> {
        let note = Notification::decode(bytes, kind).map_err(NotificationRejected::Malformed)?;
        let server_id = note.server_id();
        self.seen
            .retain(|s| now.saturating_sub(s.at) < DUPLICATE_WINDOW_SECS);
        // A package already accepted, byte for byte (a repeated SMS, a server's retry): ignored
        // before its digest is checked, since the session it started may have moved the nonce
        // on. Only bytes that verified once are remembered, so this admits nothing new.
        if self.seen.iter().any(|s| s.bytes == bytes) {
            return Err(NotificationRejected::Duplicate {
                server_id: server_id.to_owned(),
                session_id: note.session_id_text(),
            });
        }
        let account = find_account(tree, server_id)?;
        let creds = crate::dmacc::srv_creds(tree, &account);
        if creds.is_empty() {
            return Err(NotificationRejected::NoServerCredentials { account });
        }
        let mut best: Option<NonceUsed> = None;
        for cred in &creds {
            match verify_with_resync(kind, server_id, &cred.secret, &cred.nonce, bytes) {
                Ok(used) => {
                    best = Some(used);
                    if !used.is_resync() {
                        break;
                    }
                }
                Err(NotificationError::DigestMismatch) => {}
                Err(NotificationError::Malformed(e)) => {
                    return Err(NotificationRejected::Malformed(e))
                }
            }
        }
        let used = best.ok_or(NotificationRejected::DigestMismatch)?;
        let session_id = note.session_id();
        if self
            .seen
            .iter()
            .any(|s| s.server_id == server_id && s.session_id == session_id)
        {
            return Err(NotificationRejected::Duplicate {
                server_id: server_id.to_owned(),
                session_id: note.session_id_text(),
            });
        }
        if self.seen.len() >= SEEN_CAPACITY {
            self.seen.pop_front();
        }
        self.seen.push_back(Seen {
            server_id: server_id.to_owned(),
            session_id,
            at: now,
            bytes: bytes.to_vec(),
        });
        let requested_mos = match &note {
            Notification::V12(_) => Vec::new(),
            Notification::V13(n) => n.requested_mo.clone(),
        };
        Ok(SessionRequest {
            server_id: server_id.to_owned(),
            account_node: account.rsplit('/').next().unwrap_or_default().to_owned(),
            session_id_text: note.session_id_text(),
            ui_mode: note.ui_mode(),
            initiator: note.initiator(),
            resync: used.is_resync(),
            requested_mos,
        })
    }
}

impl NotificationHandler {
    /// Forgets the session `session_id` of `server_id` (its session failed to run, e.g. the
    /// server was unreachable), so that the server's retry of the notification starts it again.
    pub fn forget(&mut self, server_id: &str, session_id_text: &str) {
        self.seen.retain(|s| {
            !(s.server_id == server_id && format!("{:X}", s.session_id) == session_id_text)
        });
    }
}

/// The path `./DMAcc/<X>` of the one account whose ServerID is `server_id`.
fn find_account(tree: &Tree, server_id: &str) -> Result<String, NotificationRejected> {
    let mut found = crate::dmacc::accounts_for(tree, server_id);
    match found.len() {
        0 => Err(NotificationRejected::NoAccount {
            server_id: server_id.to_owned(),
        }),
        1 => Ok(found.remove(0)),
        count => Err(NotificationRejected::SeveralAccounts {
            server_id: server_id.to_owned(),
            count,
        }),
    }
}
