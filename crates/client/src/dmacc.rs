//! Reading DMAcc accounts out of the device's tree (StdObj DMAcc, DIGEST.md §7.1): which account
//! a ServerID names, and the credentials its server uses toward the client (`SRVCRED`).
//! Shared by sessionless messages and notification handling.

use omadm_tree::{Caller, NodeId, Tree};

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
    account_ids(tree, server_id)
        .into_iter()
        .map(|acc| tree.path_of(acc))
        .collect()
}

/// [`accounts_for`] as node ids.
pub(crate) fn account_ids(tree: &Tree, server_id: &str) -> Vec<NodeId> {
    let Ok((_, root)) = tree.resolve("./DMAcc") else {
        return Vec::new();
    };
    tree.children(root)
        .iter()
        .copied()
        .filter(|&acc| {
            child_value(tree, acc, "ServerID").is_some_and(|b| b == server_id.as_bytes())
        })
        .collect()
}

/// The value of the child `name` of `parent` as the device reads it (`None`: no such child).
pub(crate) fn child_value(tree: &Tree, parent: NodeId, name: &str) -> Option<Vec<u8>> {
    tree.child(parent, name)
        .map(|id| tree.device_value(id).data)
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
