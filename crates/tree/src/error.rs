//! Failures of tree operations, each with the DM status code the command answers with.

use crate::acl::AclError;
use crate::uri::UriError;

/// A tree operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The URI is malformed, too long or too deep, or names an unsupported query.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// An ACL was malformed, or denied the operation.
    #[error(transparent)]
    Acl(#[from] AclError),
    /// 404: no node at the URI.
    #[error("{uri}: no such node")]
    NotFound {
        /// The URI.
        uri: String,
    },
    /// 418: Add of a node that exists, or a rename onto a sibling's name.
    #[error("{uri}: a node with this name already exists")]
    AlreadyExists {
        /// The URI.
        uri: String,
    },
    /// 405: the command is not allowed on this node (permanent node, leaf as parent, root...).
    #[error("{uri}: {why}")]
    NotAllowed {
        /// The URI.
        uri: String,
        /// Which rule forbids it.
        why: &'static str,
    },
    /// 406: an optional feature the tree does not support (property, list kind).
    #[error("{uri}: {what} is not supported")]
    NotSupported {
        /// The URI.
        uri: String,
        /// What.
        what: &'static str,
    },
    /// 415: the value does not match the node's Format.
    #[error("{uri}: value is not valid for Format {format}")]
    BadValue {
        /// The URI.
        uri: String,
        /// The Format.
        format: &'static str,
    },
    /// 400: a virtual URI with the `x` selector names several MO instances where one is needed.
    #[error("{uri}: names {count} MO instances; name the instance instead of x")]
    Ambiguous {
        /// The URI.
        uri: String,
        /// How many instances it names.
        count: usize,
    },
    /// 500: a transaction call out of order (commit without begin...).
    #[error("transaction: {0}")]
    Transaction(&'static str),
}

impl TreeError {
    /// The DM status code (DM RepPro, DIGEST.md §2.4).
    pub fn status(&self) -> u16 {
        match self {
            TreeError::Uri(e) => e.status(),
            TreeError::Acl(e) => e.status(),
            TreeError::NotFound { .. } => 404,
            TreeError::AlreadyExists { .. } => 418,
            TreeError::NotAllowed { .. } => 405,
            TreeError::NotSupported { .. } => 406,
            TreeError::BadValue { .. } => 415,
            TreeError::Ambiguous { .. } => 400,
            TreeError::Transaction(_) => 500,
        }
    }
}
