//! Reading DMAcc accounts out of the device's tree (StdObj DMAcc, DIGEST.md §7.1): which account
//! a ServerID names, and the credentials its server uses toward the client (`SRVCRED`).
//! Shared by sessionless messages and notification handling.

use omadm_tree::{Caller, Tree};

/// One `AppAuth/<n>` entry with `AAuthLevel` = `SRVCRED`.
pub(crate) struct SrvCred {
    /// `AAuthName`.
    pub name: String,
    /// `AAuthSecret`.
    pub secret: String,
    /// `AAuthData`: the stored nonce.
    pub nonce: Vec<u8>,
}

/// A leaf read as the device (secrets and nonces are not readable by servers).
fn leaf(tree: &Tree, uri: &str) -> Option<Vec<u8>> {
    tree.get(Caller::Device, uri).ok().map(|v| v.data)
}

fn text(tree: &Tree, uri: &str) -> Option<String> {
    leaf(tree, uri).and_then(|b| String::from_utf8(b).ok())
}

/// Paths `./DMAcc/<X>` of every account whose ServerID is `server_id` (callers decide what
/// none or several mean).
pub(crate) fn accounts_for(tree: &Tree, server_id: &str) -> Vec<String> {
    let Ok((_, root)) = tree.resolve("./DMAcc") else {
        return Vec::new();
    };
    tree.children(root)
        .iter()
        .map(|&acc| tree.path_of(acc))
        .filter(|path| text(tree, &format!("{path}/ServerID")).as_deref() == Some(server_id))
        .collect()
}

/// Every `SRVCRED` AppAuth entry of the account at `account` (`./DMAcc/<X>`).
pub(crate) fn srv_creds(tree: &Tree, account: &str) -> Vec<SrvCred> {
    let Ok((_, root)) = tree.resolve(&format!("{account}/AppAuth")) else {
        return Vec::new();
    };
    tree.children(root)
        .iter()
        .map(|&id| tree.path_of(id))
        .filter(|p| {
            text(tree, &format!("{p}/AAuthLevel"))
                .is_some_and(|l| l.trim().eq_ignore_ascii_case("SRVCRED"))
        })
        .filter_map(|p| {
            Some(SrvCred {
                name: text(tree, &format!("{p}/AAuthName"))?,
                secret: text(tree, &format!("{p}/AAuthSecret"))?,
                nonce: leaf(tree, &format!("{p}/AAuthData")).unwrap_or_default(),
            })
        })
        .collect()
}
