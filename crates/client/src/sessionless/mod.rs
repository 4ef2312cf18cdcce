//! Sessionless management (OMA DM Sessionless 1.3) and sessionless reporting (OMA DM Sessionless
//! Reporting 1.3).
//!
//! [`process_command_message`] takes a Sessionless Command Message a server pushed to the device
//! and applies it to the tree without any answer (§5.6: the client MUST NOT send a response);
//! what happened is returned and logged only. [`build_report_message`] builds the Sessionless
//! Report Message a client sends outside a session ([`report`]).
//!
//! The checks, all made before any command runs so that a rejected message leaves the tree as it
//! was:
//! 1. WBXML only (§5.2: "MUST be WBXML1.1, 1.2 or 1.3 encoded"); XML is rejected.
//! 2. SyncHdr Source LocURI = the ServerID of exactly one DMAcc (§5.6, DM-SM-C-004).
//! 3. Transport-neutral integrity (§5.5, §5.6): `x-syncml-hmac` with HMAC-SHA256 over the exact
//!    body. Credential choice: the account's `AppAuth` entry with `AAuthLevel` = `SRVCRED` (the
//!    server's credentials toward the client, the ones a client checks a server against;
//!    `CLCRED` is the client's own and proves nothing about the sender): its `AAuthName` must be
//!    the header's `username`, `AAuthSecret` is the password and `AAuthData` the nonce. Only
//!    `algorithm=SHA-256` (PROVISIONAL token, [`omadm_security::hmac_header`]) is accepted.
//!    This function always requires the header, whatever the transport. The XML-signature
//!    variant of the 2009 draft is NOT supported.
//! 4. §5.2: "The Final element MUST be used in the SyncBody" and "The GET command MUST NOT be
//!    included": a message without Final, or with a Get anywhere (inside Atomic/Sequence too),
//!    is rejected.
//! 5. Virtual URIs (§6.2.2, DM-SM-C-006) resolved to concrete paths (`virtual_uri`).
//!
//! Then the commands run through the [`Executor`] as the matching account's ServerID, so every
//! ACL decision uses it (DM-SM-C-005). Add of a TNDS object (XML or WBXML, DM-SM-C-002) to
//! `./Inbox` places the MO where the tree keeps it (DM-SM-C-003). Other commands are "processed
//! just like a normal DM message" (§5.6): Copy and Alert run as in a session; their statuses are
//! logged, never sent.

mod account;
pub mod report;
mod virtual_uri;

use omadm_security::hmac_header::HeaderError;
use omadm_syncml::{Command, DecodeError, Encoding, Message};
use omadm_tree::plugin::Plugins;
use omadm_tree::Tree;

use crate::Executor;

pub use report::{build_report_message, Report, ReportCred, ReportError};

/// Why a Sessionless Command Message was rejected. Nothing of a rejected message is applied.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    /// §5.2: the message must be WBXML encoded.
    #[error("sessionless command messages must be WBXML encoded, not XML")]
    NotWbxml,
    /// The bytes are neither WBXML nor XML, or the WBXML does not decode.
    #[error("undecodable message: {0}")]
    Decode(#[source] DecodeError),
    /// §5.6: no DMAcc has this ServerID (DM-SM-C-004).
    #[error("no DMAcc account has ServerID {server_id:?}")]
    NoAccount {
        /// SyncHdr Source LocURI.
        server_id: String,
    },
    /// §5.6: the ServerID must match only one DMAcc (DM-SM-C-004).
    #[error("{count} DMAcc accounts have ServerID {server_id:?}")]
    SeveralAccounts {
        /// SyncHdr Source LocURI.
        server_id: String,
        /// How many accounts match.
        count: usize,
    },
    /// §5.5: no `x-syncml-hmac` header came with the message.
    #[error("no x-syncml-hmac header")]
    MissingHmac,
    /// The `x-syncml-hmac` value does not parse.
    #[error("bad x-syncml-hmac header: {0}")]
    BadHmacHeader(#[source] HeaderError),
    /// §5.5: HMAC-SHA256 is required.
    #[error("x-syncml-hmac algorithm {algorithm} is not SHA-256")]
    WrongAlgorithm {
        /// The token of the algorithm used.
        algorithm: &'static str,
    },
    /// The account has no `SRVCRED` AppAuth entry to check the MAC against.
    #[error("account {account} has no SRVCRED credentials")]
    NoServerCredentials {
        /// `./DMAcc/<X>`.
        account: String,
    },
    /// The header's `username` is not the AAuthName of any SRVCRED entry of the account.
    #[error("x-syncml-hmac username {username:?} is not the account's SRVCRED AAuthName")]
    UnknownUser {
        /// The header's `username`.
        username: String,
    },
    /// §5.6: transport-neutral security failed.
    #[error("message MAC does not verify")]
    MacMismatch,
    /// §5.2: "The Final element MUST be used in the SyncBody for the message."
    #[error("SyncBody has no Final")]
    NoFinal,
    /// §5.2: "The GET command MUST NOT be included."
    #[error("Get command {cmd_id:?} is not allowed in a sessionless command message")]
    Get {
        /// The Get's CmdID.
        cmd_id: String,
    },
    /// §6.2.2: a virtual URI that names no instance or several (see `virtual_uri`).
    #[error("virtual URI {uri:?} names {instances} MO instances, not exactly one")]
    VirtualUri {
        /// The LocURI as sent.
        uri: String,
        /// How many instances it names.
        instances: usize,
    },
}

/// A Sessionless Command Message that was applied: the Status each command (or Item) got, for
/// logging only (§5.6: no response is sent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The ServerID the message ran as (the matching DMAcc's).
    pub server_id: String,
    /// (command, target URI, status code), in execution order; the URI is empty for a Status
    /// without TargetRef (Atomic, Sequence, Alert).
    pub statuses: Vec<(String, String, u16)>,
}

/// One decision about a Sessionless Command Message, for the device's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEntry {
    /// The message passed every check and runs as this ServerID.
    Accepted {
        /// The matching DMAcc's ServerID.
        server_id: String,
        /// `./DMAcc/<X>`.
        account: String,
    },
    /// One command (or Item) was applied with this status.
    Command {
        /// The command name.
        cmd: String,
        /// The target URI (concrete, after virtual URI resolution).
        uri: String,
        /// The status code it got.
        code: u16,
    },
    /// The message was rejected and nothing applied.
    Rejected {
        /// The [`Rejected`] reason, as text.
        reason: String,
    },
}

/// Processes a Sessionless Command Message (Sessionless 1.3 §5.6): `body` the message bytes as
/// received, `hmac_header` the `x-syncml-hmac` value that came with it. Applies it to `tree` or
/// rejects it whole (see the module doc for the checks); every decision is pushed to `log`.
pub fn process_command_message(
    tree: &mut Tree,
    plugins: &mut Plugins,
    body: &[u8],
    hmac_header: Option<&str>,
    log: &mut Vec<LogEntry>,
) -> Result<Applied, Rejected> {
    match check(tree, body, hmac_header) {
        Ok((msg, account)) => {
            log.push(LogEntry::Accepted {
                server_id: account.server_id.clone(),
                account: account.path.clone(),
            });
            let out = Executor::new(tree, plugins, &account.server_id, &msg.hdr.msg_id, 1)
                .execute_all(&msg.body.commands);
            let statuses = statuses(&out);
            log.extend(statuses.iter().map(|(cmd, uri, code)| LogEntry::Command {
                cmd: cmd.clone(),
                uri: uri.clone(),
                code: *code,
            }));
            Ok(Applied {
                server_id: account.server_id,
                statuses,
            })
        }
        Err(e) => {
            log.push(LogEntry::Rejected {
                reason: e.to_string(),
            });
            Err(e)
        }
    }
}

/// Every check of the module doc; the message with virtual URIs resolved, and its account.
fn check(
    tree: &Tree,
    body: &[u8],
    hmac_header: Option<&str>,
) -> Result<(Message, account::Account), Rejected> {
    match Encoding::detect(body).map_err(Rejected::Decode)? {
        Encoding::Xml => return Err(Rejected::NotWbxml),
        Encoding::Wbxml => {}
    }
    let mut msg = Message::from_wbxml(body).map_err(Rejected::Decode)?;
    let account = account::find(tree, &msg.hdr.source.loc_uri)?;
    account::authenticate(tree, &account, hmac_header, body)?;
    if !msg.body.final_ {
        return Err(Rejected::NoFinal);
    }
    if let Some(cmd_id) = find_get(&msg.body.commands) {
        return Err(Rejected::Get { cmd_id });
    }
    virtual_uri::resolve_all(tree, &mut msg.body.commands)?;
    Ok((msg, account))
}

/// The CmdID of the first Get, containers searched too.
fn find_get(cmds: &[Command]) -> Option<String> {
    cmds.iter().find_map(|c| match c {
        Command::Get(g) => Some(g.cmd_id.to_string()),
        Command::Atomic(c) | Command::Sequence(c) => find_get(&c.commands),
        _ => None,
    })
}

/// (Cmd, TargetRef, code) of each Status the executor answered with; one per TargetRef.
fn statuses(out: &[Command]) -> Vec<(String, String, u16)> {
    let mut v = Vec::new();
    for c in out {
        let Command::Status(s) = c else { continue };
        let code = s.data.trim().parse().unwrap_or(0);
        if s.target_refs.is_empty() {
            v.push((s.cmd.to_string(), String::new(), code));
        }
        for t in &s.target_refs {
            v.push((s.cmd.to_string(), t.to_string(), code));
        }
    }
    v
}
