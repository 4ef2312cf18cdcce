//! Access control lists (TND 1.2 "ACL", DIGEST.md §5.4): the value type with its grammar, and the
//! rules that decide access (module `rules`, re-exported here).
//!
//! Choices where the specifications are silent (each pinned by a test):
//! - **Status of a malformed ACL** (a `Replace ?prop=ACL` value, a TNDS `<ACL>`): 400 (Bad
//!   request). The DM guidance table for Replace lists 405, but 405 tells the server the command is
//!   not allowed on the node, which would be wrong for a value it merely misspelt.
//! - **Repeated commands** (`Get=a&Get=b`): merged into one entry (`Get=a+b`). The grammar does not
//!   forbid the repetition and the union is its only sensible meaning. Repeated ids are dropped.
//! - **Order**: entries keep the order in which their command first appeared, and ids the order in
//!   which they first appeared, so the specification's example prints back identically and
//!   `parse(print(acl)) == acl`. Equality is therefore structural: `Get=*&Add=*` and
//!   `Add=*&Get=*` grant the same rights but are different values.
//! - **No whitespace anywhere**: the grammar has none; `Get = *` fails on `Get ` (unknown command).

mod rules;

use std::fmt;

use compact_str::CompactString;

pub use rules::{
    acl_for_new_node, check, default_root_acl, effective, may_replace_acl, revoke_from_root,
    validate_root_acl,
};

/// A command an ACL grants (TND §5.4 `command`). There is no Copy right: Copy needs the
/// equivalent Get/Add/Replace/Delete rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclCommand {
    /// `Add`.
    Add,
    /// `Delete`.
    Delete,
    /// `Exec`.
    Exec,
    /// `Get`.
    Get,
    /// `Replace`.
    Replace,
}

impl AclCommand {
    /// Every command, in specification order.
    pub const ALL: [AclCommand; 5] = [
        AclCommand::Add,
        AclCommand::Delete,
        AclCommand::Exec,
        AclCommand::Get,
        AclCommand::Replace,
    ];

    /// The name as the grammar spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AclCommand::Add => "Add",
            AclCommand::Delete => "Delete",
            AclCommand::Exec => "Exec",
            AclCommand::Get => "Get",
            AclCommand::Replace => "Replace",
        }
    }

    /// The command named `s` (exact, case-sensitive spelling).
    pub fn from_name(s: &str) -> Option<AclCommand> {
        AclCommand::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for AclCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a right is granted to (TND §5.4 `server-id`): the DMAcc ServerID of the authenticated
/// session, or `*` for any server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerId {
    /// `*`: any server.
    Any,
    /// One ServerID. Must satisfy [`ServerId::is_valid_name`] to be stored in an [`Acl`].
    Named(CompactString),
}

impl ServerId {
    /// TND §5.4: a named server id is one or more printable characters other than `=`, `&`, `*`,
    /// `+` and whitespace. A DMAcc ServerID failing this cannot appear in any ACL.
    pub fn is_valid_name(s: &str) -> bool {
        !s.is_empty() && s.chars().all(is_id_char)
    }

    /// `*` or the ServerID.
    pub fn as_str(&self) -> &str {
        match self {
            ServerId::Any => "*",
            ServerId::Named(n) => n,
        }
    }

    /// Whether this entry admits `server`.
    pub fn admits(&self, server: &str) -> bool {
        match self {
            ServerId::Any => true,
            ServerId::Named(n) => n == server,
        }
    }
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ServerId {
    type Err = AclError;
    /// `*` or a valid name ([`ServerId::is_valid_name`]); otherwise [`AclError::InvalidServerId`].
    fn from_str(s: &str) -> Result<Self, AclError> {
        match s {
            "*" => Ok(ServerId::Any),
            _ if ServerId::is_valid_name(s) => Ok(ServerId::Named(s.into())),
            _ => Err(AclError::InvalidServerId(s.into())),
        }
    }
}

fn is_id_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !matches!(c, '=' | '&' | '*' | '+')
}

/// What is wrong at the offset of an [`AclError::Syntax`] (TND §5.4 grammar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclSyntax {
    /// An empty `acl-entry` (leading, trailing or doubled `&`).
    EmptyEntry,
    /// An entry without `=`.
    MissingEquals,
    /// A command other than Add, Delete, Exec, Get, Replace (case-sensitive).
    UnknownCommand,
    /// `Cmd=` with no server id: "a command with no ids must not appear".
    NoServerIds,
    /// An empty server id (leading, trailing or doubled `+`).
    EmptyServerId,
    /// A character not allowed in a server id: `=`, `&`, `*` (other than a lone `*`), `+`,
    /// whitespace or a control character.
    InvalidChar(char),
}

impl fmt::Display for AclSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AclSyntax::EmptyEntry => f.write_str("empty entry"),
            AclSyntax::MissingEquals => f.write_str("entry without '='"),
            AclSyntax::UnknownCommand => f.write_str("unknown command"),
            AclSyntax::NoServerIds => f.write_str("command without server ids"),
            AclSyntax::EmptyServerId => f.write_str("empty server id"),
            AclSyntax::InvalidChar(c) => write!(f, "character {c:?} not allowed in a server id"),
        }
    }
}

/// An ACL value or decision failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// 400: the value does not follow the TND §5.4 grammar; `offset` is the byte offset of the
    /// offending entry, id or character.
    #[error("ACL syntax error at byte {offset}: {kind}")]
    Syntax {
        /// Byte offset in the value.
        offset: usize,
        /// What is wrong there.
        kind: AclSyntax,
    },
    /// 400: a server id that cannot be stored in an ACL (see [`ServerId::is_valid_name`]).
    #[error("invalid server id {0:?}")]
    InvalidServerId(CompactString),
    /// 425, TND §5.4: the effective ACL does not grant the command to the server.
    #[error("{command} not permitted to server {server:?}")]
    PermissionDenied {
        /// The command refused.
        command: AclCommand,
        /// The ServerID of the session.
        server: CompactString,
    },
    /// 405, TND §5.4: the root ACL must always have a value.
    #[error("the root ACL must not be empty")]
    RootAclEmpty,
    /// 405, TND §5.4: the root's Add right must stay `*`.
    #[error("the root ACL must keep Add=*")]
    RootAddNotAny,
}

impl AclError {
    /// The DM status code (DIGEST.md §2.4): 400 malformed, 425 denied, 405 root rules.
    pub fn status(&self) -> u16 {
        match self {
            AclError::Syntax { .. } | AclError::InvalidServerId(_) => 400,
            AclError::PermissionDenied { .. } => 425,
            AclError::RootAclEmpty | AclError::RootAddNotAny => 405,
        }
    }
}

/// An ACL (TND §5.4): for each command, the servers it is granted to. Entries and ids keep the
/// order of their first appearance; no command has an empty id list; no id appears twice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Acl {
    entries: Vec<(AclCommand, Vec<ServerId>)>,
}

impl Acl {
    /// Whether the ACL grants nothing: such a node inherits (see [`effective`]). TND §5.4: Get of
    /// an empty ACL returns empty Data, never the inherited value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// TND §5.4: whether `server` may run `cmd` under this ACL. A `*` entry admits every server,
    /// whatever named ids sit beside it. An empty ACL permits nothing; apply it to the
    /// [`effective`] ACL.
    pub fn permits(&self, cmd: AclCommand, server: &str) -> bool {
        self.ids(cmd).iter().any(|id| id.admits(server))
    }

    /// The ids `cmd` is granted to (empty if the command does not appear).
    pub fn ids(&self, cmd: AclCommand) -> &[ServerId] {
        self.entries
            .iter()
            .find(|(c, _)| *c == cmd)
            .map_or(&[], |(_, ids)| ids.as_slice())
    }

    /// The entries in order.
    pub fn entries(&self) -> impl Iterator<Item = (AclCommand, &[ServerId])> {
        self.entries.iter().map(|(c, ids)| (*c, ids.as_slice()))
    }

    /// Grants `cmd` to `id` (no effect if already granted). A named id that cannot be written in
    /// an ACL is refused ([`AclError::InvalidServerId`]).
    pub fn grant(&mut self, cmd: AclCommand, id: ServerId) -> Result<(), AclError> {
        if let ServerId::Named(n) = &id {
            if !ServerId::is_valid_name(n) {
                return Err(AclError::InvalidServerId(n.clone()));
            }
        }
        self.push(cmd, id);
        Ok(())
    }

    fn push(&mut self, cmd: AclCommand, id: ServerId) {
        match self.entries.iter_mut().find(|(c, _)| *c == cmd) {
            Some((_, ids)) => {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            None => self.entries.push((cmd, vec![id])),
        }
    }

    /// TND §5.4 (deleting a server id): removes `server` from every command; a command left with
    /// no ids is removed. `*` entries stay. For the root ACL use [`revoke_from_root`].
    pub fn revoke_server(&mut self, server: &str) {
        for (_, ids) in &mut self.entries {
            ids.retain(|id| !matches!(id, ServerId::Named(n) if n == server));
        }
        self.entries.retain(|(_, ids)| !ids.is_empty());
    }

    /// Removes `server` everywhere; commands left empty get `*`.
    pub(crate) fn revoke_server_keep_commands(&mut self, server: &str) {
        for (_, ids) in &mut self.entries {
            ids.retain(|id| !matches!(id, ServerId::Named(n) if n == server));
            if ids.is_empty() {
                ids.push(ServerId::Any);
            }
        }
    }
}

impl std::str::FromStr for Acl {
    type Err = AclError;
    /// TND §5.4 grammar: `cmd=id+id&cmd=…`; the empty string is the empty ACL. Repeated commands
    /// merge, repeated ids are dropped (see the module documentation).
    fn from_str(s: &str) -> Result<Self, AclError> {
        let mut acl = Acl::default();
        if s.is_empty() {
            return Ok(acl);
        }
        let err = |offset, kind| AclError::Syntax { offset, kind };
        let mut start = 0;
        for entry in s.split('&') {
            let entry_at = start;
            start += entry.len() + 1;
            if entry.is_empty() {
                return Err(err(entry_at, AclSyntax::EmptyEntry));
            }
            let Some((name, ids)) = entry.split_once('=') else {
                return Err(err(entry_at, AclSyntax::MissingEquals));
            };
            let Some(cmd) = AclCommand::from_name(name) else {
                return Err(err(entry_at, AclSyntax::UnknownCommand));
            };
            let mut at = entry_at + name.len() + 1;
            if ids.is_empty() {
                return Err(err(at, AclSyntax::NoServerIds));
            }
            for id in ids.split('+') {
                if id.is_empty() {
                    return Err(err(at, AclSyntax::EmptyServerId));
                }
                if id == "*" {
                    acl.push(cmd, ServerId::Any);
                } else if let Some((i, c)) = id.char_indices().find(|&(_, c)| !is_id_char(c)) {
                    return Err(err(at + i, AclSyntax::InvalidChar(c)));
                } else {
                    acl.push(cmd, ServerId::Named(id.into()));
                }
                at += id.len() + 1;
            }
        }
        Ok(acl)
    }
}

impl fmt::Display for Acl {
    /// Entries and ids in the order of their first appearance.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (cmd, ids)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            write!(f, "{cmd}=")?;
            for (j, id) in ids.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                f.write_str(id.as_str())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
