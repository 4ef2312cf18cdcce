//! Failures of the device agent. Every error about a file names the file.

use std::path::PathBuf;

use omadm_tree::{PersistError, TreeError};

use super::transport::TransportError;
use crate::sessionless::ReportError;

/// What went wrong in the device agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Reading, writing, locking or renaming a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `tree.bin` does not load (corrupt, wrong version...).
    #[error("{}: {source}", .path.display())]
    TreeFile {
        /// `DIR/tree.bin`.
        path: PathBuf,
        /// Why it does not load.
        source: PersistError,
    },
    /// `device.toml` does not parse or holds a bad value.
    #[error("{}: {source}", .path.display())]
    Config {
        /// `DIR/device.toml`.
        path: PathBuf,
        /// The TOML error (with line and column).
        source: toml::de::Error,
    },
    /// `device.toml` could not be written out.
    #[error("{}: {source}", .path.display())]
    ConfigWrite {
        /// `DIR/device.toml`.
        path: PathBuf,
        /// The serializer's error.
        source: toml::ser::Error,
    },
    /// A JSON queue file (`alerts.json`, `tree-updates.json`) does not parse.
    #[error("{}: {source}", .path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// Another process or thread held a lock longer than we wait.
    #[error("{}: still locked after {waited_secs} s (another omadm device process?)", .path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited_secs: u64,
    },
    /// `omadm device init` on a directory that already holds a tree.
    #[error("{}: already exists (use --force to replace it)", .path.display())]
    Exists {
        /// `DIR/tree.bin`.
        path: PathBuf,
    },
    /// A tree operation failed (building the factory tree, applying a queued update).
    #[error("{uri}: {source}")]
    Tree {
        /// The node concerned.
        uri: String,
        /// The tree's error (with its DM status).
        source: TreeError,
    },
    /// A configured value is not usable.
    #[error("{}: {what}", .path.display())]
    BadConfig {
        /// `DIR/device.toml`.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// No `./DMAcc/<X>` has the configured ServerID.
    #[error("no DMAcc account has ServerID {server_id:?}")]
    NoAccount {
        /// The ServerID looked for.
        server_id: String,
    },
    /// Several `./DMAcc/<X>` have the configured ServerID.
    #[error("{count} DMAcc accounts have ServerID {server_id:?}")]
    SeveralAccounts {
        /// The ServerID looked for.
        server_id: String,
        /// How many accounts have it.
        count: usize,
    },
    /// The account has no usable `CLCRED` AppAuth entry.
    #[error("{account}: no CLCRED AppAuth entry with AAuthType BASIC, DIGEST or HMAC")]
    NoClientCredentials {
        /// `./DMAcc/<X>`.
        account: String,
    },
    /// HTTP transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The sessionless report could not be built.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A message could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(#[from] omadm_syncml::EncodeError),
    /// The `x-syncml-hmac` header could not be built.
    #[error("cannot build x-syncml-hmac: {0}")]
    Hmac(#[from] omadm_security::hmac_header::HeaderError),
    /// The session engine stopped the session (see [`SessionError`]).
    #[error("session failed")]
    Session(#[from] crate::session::SessionError),
    /// The server kept the session going past the bound; the client aborted it (1223).
    #[error("the server kept the session going for more than {max_messages} messages; aborted it (Alert 1223)")]
    SessionTooLong {
        /// The bound.
        max_messages: usize,
    },
    /// A blocking task of the agent panicked or was cancelled.
    #[error("agent task failed: {0}")]
    Task(String),
}

impl AgentError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> AgentError {
        AgentError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> AgentError {
        AgentError::Json {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn tree(uri: impl Into<String>, source: TreeError) -> AgentError {
        AgentError::Tree {
            uri: uri.into(),
            source,
        }
    }
}

/// `e` and its sources, joined with `: ` (what `anyhow`'s `{:#}` prints).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !out.ends_with(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}
