//! The DMAcc account a session runs under (StdObj DMAcc, DIGEST.md §7.1): the server's address,
//! the client's credentials toward it (`CLCRED`) and the server's toward the client (`SRVCRED`),
//! with their nonces (`AAuthData`), read from the device's tree and written back at the end.

use omadm_security::cred::AuthScheme;
use omadm_tree::format::NodeFormat;
use omadm_tree::{Caller, Tree};

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

fn text(tree: &Tree, uri: &str) -> Option<String> {
    tree.get(Caller::Device, uri)
        .ok()
        .and_then(|v| String::from_utf8(v.data).ok())
        .map(|s| s.trim().to_owned())
}

fn children(tree: &Tree, uri: &str) -> Vec<String> {
    match tree.resolve(uri) {
        Ok((_, id)) => tree.children(id).iter().map(|&c| tree.path_of(c)).collect(),
        Err(_) => Vec::new(),
    }
}

fn credential(tree: &Tree, path: &str) -> Credential {
    let scheme = text(tree, &format!("{path}/AAuthType"))
        .as_deref()
        .and_then(AuthScheme::from_aauth_type);
    Credential {
        path: path.to_owned(),
        scheme,
        name: text(tree, &format!("{path}/AAuthName")).unwrap_or_default(),
        secret: text(tree, &format!("{path}/AAuthSecret")).unwrap_or_default(),
        nonce: tree
            .get(Caller::Device, &format!("{path}/AAuthData"))
            .map(|v| v.data)
            .unwrap_or_default(),
    }
}

impl Account {
    /// Reads the one account whose ServerID is `server_id`.
    pub fn read(tree: &Tree, server_id: &str) -> Result<Account, SessionError> {
        let mut found = dmacc::accounts_for(tree, server_id);
        let base = match found.len() {
            0 => {
                return Err(SessionError::NoAccount {
                    server_id: server_id.to_owned(),
                })
            }
            1 => found.remove(0),
            n => {
                return Err(SessionError::SeveralAccounts {
                    server_id: server_id.to_owned(),
                    count: n,
                })
            }
        };
        let addr = children(tree, &format!("{base}/AppAddr"))
            .iter()
            .find_map(|a| text(tree, &format!("{a}/Addr")))
            .ok_or(SessionError::NoAddress {
                account: base.clone(),
            })?;
        let mut client = None;
        let mut server = None;
        for auth in children(tree, &format!("{base}/AppAuth")) {
            let level = text(tree, &format!("{auth}/AAuthLevel")).unwrap_or_default();
            let slot = if level.eq_ignore_ascii_case("CLCRED") {
                &mut client
            } else if level.eq_ignore_ascii_case("SRVCRED") {
                &mut server
            } else {
                continue;
            };
            // The first entry of a level wins; AAuthPref is only a hint of the server's wish.
            if slot.is_none() {
                *slot = Some(credential(tree, &auth));
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
