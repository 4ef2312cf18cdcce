//! The DMAcc account of the configured server as the client uses it: its address, its preferred
//! auth type and the client's own credentials toward the server (`CLCRED`, StdObj DMAcc,
//! DIGEST.md §7.1).

use omadm_security::cred::AuthScheme;
use omadm_tree::{Caller, Tree};

use super::AgentError;

/// One `AppAuth/<n>` entry with `AAuthLevel` = `CLCRED`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCred {
    /// `./DMAcc/<X>/AppAuth/<n>`.
    pub path: String,
    /// `AAuthType` as stored (`BASIC`, `DIGEST`, `HMAC`...).
    pub auth_type: String,
    /// The scheme `AAuthType` names, when it is one computed at DM level.
    pub scheme: Option<AuthScheme>,
    /// `AAuthName`: the client's name toward the server.
    pub name: String,
    /// `AAuthSecret`: the client's password.
    pub secret: String,
    /// `AAuthData`: the last nonce the server gave the client.
    pub nonce: Vec<u8>,
}

impl std::fmt::Debug for ClientCred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCred")
            .field("path", &self.path)
            .field("auth_type", &self.auth_type)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The account `./DMAcc/<X>` of one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// `./DMAcc/<X>`.
    pub path: String,
    /// `ServerID`.
    pub server_id: String,
    /// `AppAddr/<first>/Addr`, when there is one.
    pub addr: Option<String>,
    /// `AAuthPref`, when set and not empty.
    pub aauth_pref: Option<String>,
    /// Every `CLCRED` entry, in node order.
    pub client_creds: Vec<ClientCred>,
}

impl Account {
    /// The credentials the client should use: the `CLCRED` entry whose `AAuthType` is the
    /// account's `AAuthPref`, else the first one with a DM-level scheme (StdObj: an empty
    /// AAuthPref means "the last one negotiated", which a fresh client does not know).
    pub fn preferred_client_cred(&self) -> Option<&ClientCred> {
        let usable = || self.client_creds.iter().filter(|c| c.scheme.is_some());
        self.aauth_pref
            .as_deref()
            .and_then(|pref| {
                usable().find(|c| c.auth_type.trim().eq_ignore_ascii_case(pref.trim()))
            })
            .or_else(|| usable().next())
    }
}

fn leaf(tree: &Tree, uri: &str) -> Option<Vec<u8>> {
    tree.get(Caller::Device, uri).ok().map(|v| v.data)
}

fn text(tree: &Tree, uri: &str) -> Option<String> {
    leaf(tree, uri).and_then(|b| String::from_utf8(b).ok())
}

fn children(tree: &Tree, uri: &str) -> Vec<String> {
    match tree.resolve(uri) {
        Ok((_, id)) => tree.children(id).iter().map(|&c| tree.path_of(c)).collect(),
        Err(_) => Vec::new(),
    }
}

/// The one account whose ServerID is `server_id`.
pub fn find(tree: &Tree, server_id: &str) -> Result<Account, AgentError> {
    let mut found = crate::dmacc::accounts_for(tree, server_id);
    let path = match found.len() {
        0 => {
            return Err(AgentError::NoAccount {
                server_id: server_id.to_owned(),
            })
        }
        1 => found.remove(0),
        count => {
            return Err(AgentError::SeveralAccounts {
                server_id: server_id.to_owned(),
                count,
            })
        }
    };
    let addr = children(tree, &format!("{path}/AppAddr"))
        .first()
        .and_then(|a| text(tree, &format!("{a}/Addr")));
    let aauth_pref = text(tree, &format!("{path}/AAuthPref")).filter(|p| !p.trim().is_empty());
    let client_creds = children(tree, &format!("{path}/AppAuth"))
        .into_iter()
        .filter(|p| {
            text(tree, &format!("{p}/AAuthLevel"))
                .is_some_and(|l| l.trim().eq_ignore_ascii_case("CLCRED"))
        })
        .map(|p| {
            let auth_type = text(tree, &format!("{p}/AAuthType")).unwrap_or_default();
            ClientCred {
                scheme: AuthScheme::from_aauth_type(&auth_type),
                auth_type,
                name: text(tree, &format!("{p}/AAuthName")).unwrap_or_default(),
                secret: text(tree, &format!("{p}/AAuthSecret")).unwrap_or_default(),
                nonce: leaf(tree, &format!("{p}/AAuthData")).unwrap_or_default(),
                path: p,
            }
        })
        .collect();
    Ok(Account {
        path,
        server_id: server_id.to_owned(),
        addr,
        aauth_pref,
        client_creds,
    })
}
