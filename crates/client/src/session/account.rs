//! The DMAcc account a session runs under (StdObj DMAcc, DIGEST.md §7.1): the server's address,
//! the client's credentials toward it (`CLCRED`) and the server's toward the client (`SRVCRED`),
//! with their nonces (`AAuthData`), read from the device's tree and written back at the end.

use omadm_security::cred::AuthScheme;
use omadm_tree::format::NodeFormat;
use omadm_tree::{Caller, NodeId, Tree};

use super::SessionError;
use crate::dmacc;

/// One AppAuth entry (CLCRED or SRVCRED) as the engine uses it.
#[derive(Clone)]
pub(crate) struct Credential {
    /// `./DMAcc/<X>/AppAuth/<n>`: where `AAuthData` is written back.
    pub path: String,
    /// AAuthType as a scheme; `None` when the type is one the engine does not compute
    /// (HTTP-BASIC, X509...): the side then sends no Cred.
    pub scheme: Option<AuthScheme>,
    /// AAuthName.
    pub name: String,
    /// AAuthSecret.
    pub secret: String,
    /// AAuthData: the stored nonce.
    pub nonce: Vec<u8>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("path", &self.path)
            .field("scheme", &self.scheme)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The account of one server.
#[derive(Clone, Debug)]
pub(crate) struct Account {
    /// The first `AppAddr/<n>/Addr`: the URI package #1 goes to.
    pub addr: String,
    /// `CLCRED`, when configured.
    pub client: Option<Credential>,
    /// `SRVCRED`, when configured.
    pub server: Option<Credential>,
}

/// The child `name` of `parent` as trimmed text. Nodes are found by name from their parent's
/// id: no URI is formatted, parsed and walked from the root for each leaf.
fn text(tree: &Tree, parent: NodeId, name: &str) -> Option<String> {
    dmacc::child_value(tree, parent, name)
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.trim().to_owned())
}

/// The children of `parent`'s child `name` (none when it is missing or a leaf).
fn children<'t>(tree: &'t Tree, parent: NodeId, name: &str) -> &'t [NodeId] {
    match tree.child(parent, name) {
        Some(id) => tree.children(id),
        None => &[],
    }
}

fn credential(tree: &Tree, id: NodeId) -> Credential {
    let scheme = text(tree, id, "AAuthType")
        .as_deref()
        .and_then(AuthScheme::from_aauth_type);
    Credential {
        path: tree.path_of(id),
        scheme,
        name: text(tree, id, "AAuthName").unwrap_or_default(),
        secret: text(tree, id, "AAuthSecret").unwrap_or_default(),
        nonce: dmacc::child_value(tree, id, "AAuthData").unwrap_or_default(),
    }
}

impl Account {
    /// Reads the one account whose ServerID is `server_id`.
    pub fn read(tree: &Tree, server_id: &str) -> Result<Account, SessionError> {
        let found = dmacc::account_ids(tree, server_id);
        let base = match found.as_slice() {
            [] => {
                return Err(SessionError::NoAccount {
                    server_id: server_id.to_owned(),
                })
            }
            [one] => *one,
            more => {
                return Err(SessionError::SeveralAccounts {
                    server_id: server_id.to_owned(),
                    count: more.len(),
                })
            }
        };
        let addr = children(tree, base, "AppAddr")
            .iter()
            .find_map(|&a| text(tree, a, "Addr"))
            .ok_or_else(|| SessionError::NoAddress {
                account: tree.path_of(base),
            })?;
        let mut client = None;
        let mut server = None;
        for &auth in children(tree, base, "AppAuth") {
            let level = text(tree, auth, "AAuthLevel").unwrap_or_default();
            let slot = if level.eq_ignore_ascii_case("CLCRED") {
                &mut client
            } else if level.eq_ignore_ascii_case("SRVCRED") {
                &mut server
            } else {
                continue;
            };
            // The first entry of a level wins; AAuthPref is only a hint of the server's wish.
            if slot.is_none() {
                *slot = Some(credential(tree, auth));
            }
        }
        Ok(Account {
            addr,
            client,
            server,
        })
    }
}

/// Writes a nonce into `<cred>/AAuthData` as the device (DIGEST.md §3.3: kept for the next
/// session). Creates the leaf when the account had none.
pub(crate) fn store_nonce(tree: &mut Tree, cred_path: &str, nonce: &[u8]) -> Result<(), u16> {
    let uri = format!("{cred_path}/AAuthData");
    let res = match tree.resolve(&uri) {
        Ok(_) => tree.replace(Caller::Device, &uri, None, None, nonce),
        Err(_) => tree
            .add(Caller::Device, &uri, NodeFormat::Bin, None, nonce)
            .map(|_| ()),
    };
    res.map_err(|e| e.status())
}
