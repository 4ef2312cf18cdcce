//! The TND §5.4 rules that turn ACL values into decisions.

use super::{Acl, AclCommand, AclError, ServerId};

/// TND §5.4 inheritance: the ACL in force for a node is its own if non-empty, else the nearest
/// ancestor's non-empty ACL, whole (no per-command merging). Pass the node's ACL, then its
/// parent's, up to the root. `None` only if every ACL given is empty (the root's never is).
pub fn effective<'a>(own_then_ancestors: impl IntoIterator<Item = &'a Acl>) -> Option<&'a Acl> {
    own_then_ancestors.into_iter().find(|a| !a.is_empty())
}

/// TND §5.4: runs `cmd` for `server` under the node's [`effective`] ACL, or answers 425.
pub fn check(effective: &Acl, cmd: AclCommand, server: &str) -> Result<(), AclError> {
    if effective.permits(cmd, server) {
        Ok(())
    } else {
        Err(AclError::PermissionDenied {
            command: cmd,
            server: server.into(),
        })
    }
}

/// TND §5.4, who may Replace `?prop=ACL`: on an interior node, a server with Replace in the
/// node's ACL; on a leaf, the leaf's own Replace right does **not** suffice; on either, Replace in
/// the parent's ACL suffices (a parent owner takes over a child in two steps). The root has no
/// parent: only its own Replace right counts.
pub fn may_replace_acl(
    node_is_leaf: bool,
    node_effective: &Acl,
    parent_effective: Option<&Acl>,
    server: &str,
) -> bool {
    let by_parent = parent_effective.is_some_and(|p| p.permits(AclCommand::Replace, server));
    let by_node = !node_is_leaf && node_effective.permits(AclCommand::Replace, server);
    by_parent || by_node
}

/// TND §5.4, ACL of a node created by Add (or implicitly, as a missing ancestor): empty, so it
/// inherits — except an **interior** node added by a server **without** Replace on the parent,
/// which gets `Add=<server>&Delete=<server>&Replace=<server>` so its creator can manage it.
///
/// A `server` that cannot be written in an ACL ([`ServerId::is_valid_name`]) gets the empty ACL:
/// refuse such ServerIDs when the DMAcc is accepted.
pub fn acl_for_new_node(is_interior: bool, parent_effective: &Acl, server: &str) -> Acl {
    let mut acl = Acl::default();
    if is_interior
        && !parent_effective.permits(AclCommand::Replace, server)
        && ServerId::is_valid_name(server)
    {
        for cmd in [AclCommand::Add, AclCommand::Delete, AclCommand::Replace] {
            acl.push(cmd, ServerId::Named(server.into()));
        }
    }
    acl
}

/// TND §5.4: the root ACL must always have a value (405 otherwise) and its Add right must stay
/// `*` (405 otherwise; `Add=*+srv` still grants Add to all and is accepted).
pub fn validate_root_acl(new: &Acl) -> Result<(), AclError> {
    if new.is_empty() {
        return Err(AclError::RootAclEmpty);
    }
    if !new.ids(AclCommand::Add).contains(&ServerId::Any) {
        return Err(AclError::RootAddNotAny);
    }
    Ok(())
}

/// TND §5.4: the default root ACL, `Add=*&Get=*`.
pub fn default_root_acl() -> Acl {
    let mut acl = Acl::default();
    acl.push(AclCommand::Add, ServerId::Any);
    acl.push(AclCommand::Get, ServerId::Any);
    acl
}

/// TND §5.4, deleting a server id from the whole tree, at the root: removes it from every
/// command, and a root command left without ids becomes `*` (so the root ACL never empties).
/// Other nodes use [`Acl::revoke_server`].
pub fn revoke_from_root(root: &mut Acl, server: &str) {
    root.revoke_server_keep_commands(server);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(s: &str) -> Acl {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn tnd_acl_inherits_only_when_empty() {
        let (own, parent, root) = (acl("Get=a"), acl("Get=b&Replace=b"), default_root_acl());
        let empty = Acl::default();
        assert_eq!(effective([&own, &parent, &root]), Some(&own));
        assert_eq!(effective([&empty, &parent, &root]), Some(&parent));
        assert_eq!(effective([&empty, &empty, &root]), Some(&root));
        assert_eq!(effective([&empty]), None);
    }

    #[test]
    fn tnd_acl_no_per_command_merging() {
        // The node grants only Get; the parent's Replace does not leak in.
        let (own, parent) = (acl("Get=a"), acl("Replace=a"));
        let eff = effective([&own, &parent]).unwrap_or(&parent);
        assert!(eff.permits(AclCommand::Get, "a"));
        assert!(!eff.permits(AclCommand::Replace, "a"));
    }

    #[test]
    fn tnd_acl_check_denied_is_425() {
        let a = acl("Get=a");
        assert_eq!(check(&a, AclCommand::Get, "a"), Ok(()));
        let e = check(&a, AclCommand::Get, "b");
        assert_eq!(
            e,
            Err(AclError::PermissionDenied {
                command: AclCommand::Get,
                server: "b".into()
            })
        );
        assert_eq!(e.map_err(|e| e.status()), Err(425));
        assert_eq!(
            check(&Acl::default(), AclCommand::Get, "a").map_err(|e| e.status()),
            Err(425)
        );
    }

    #[test]
    fn tnd_acl_replace_acl_interior_needs_own_replace() {
        let node = acl("Replace=a&Get=b");
        assert!(may_replace_acl(false, &node, Some(&acl("Get=*")), "a"));
        assert!(!may_replace_acl(false, &node, Some(&acl("Get=*")), "b"));
    }

    #[test]
    fn tnd_acl_replace_acl_leaf_own_replace_insufficient() {
        let leaf = acl("Replace=a");
        assert!(!may_replace_acl(true, &leaf, Some(&acl("Get=*")), "a"));
    }

    #[test]
    fn tnd_acl_replace_acl_parent_replace_suffices() {
        let parent = acl("Replace=p");
        assert!(may_replace_acl(true, &acl("Get=a"), Some(&parent), "p"));
        assert!(may_replace_acl(false, &acl("Get=a"), Some(&parent), "p"));
        assert!(may_replace_acl(
            true,
            &acl("Get=a"),
            Some(&acl("Replace=*")),
            "anyone"
        ));
    }

    #[test]
    fn tnd_acl_replace_root_acl_needs_root_replace() {
        assert!(!may_replace_acl(false, &default_root_acl(), None, "a"));
        assert!(may_replace_acl(false, &acl("Add=*&Replace=a"), None, "a"));
    }

    #[test]
    fn tnd_acl_new_node_inherits() {
        let parent = acl("Add=a&Replace=a");
        assert!(acl_for_new_node(true, &parent, "a").is_empty());
        assert!(acl_for_new_node(false, &parent, "a").is_empty());
        assert!(acl_for_new_node(false, &acl("Add=b"), "b").is_empty());
    }

    #[test]
    fn tnd_acl_new_interior_without_parent_replace_gets_add_delete_replace() {
        let got = acl_for_new_node(true, &acl("Add=*&Get=*"), "srv");
        assert_eq!(got.to_string(), "Add=srv&Delete=srv&Replace=srv");
    }

    #[test]
    fn tnd_acl_new_node_unwritable_server_id_inherits() {
        assert!(acl_for_new_node(true, &acl("Add=*"), "has space").is_empty());
    }

    #[test]
    fn tnd_acl_root_never_empty_405() {
        let e = validate_root_acl(&Acl::default());
        assert_eq!(e, Err(AclError::RootAclEmpty));
        assert_eq!(e.map_err(|e| e.status()), Err(405));
    }

    #[test]
    fn tnd_acl_root_add_stays_star_405() {
        for bad in ["Get=*", "Add=a&Get=*"] {
            let e = validate_root_acl(&acl(bad));
            assert_eq!(e, Err(AclError::RootAddNotAny), "{bad}");
            assert_eq!(e.map_err(|e| e.status()), Err(405));
        }
        assert_eq!(validate_root_acl(&acl("Add=*&Replace=a")), Ok(()));
        assert_eq!(validate_root_acl(&acl("Add=*+a")), Ok(()));
    }

    #[test]
    fn tnd_acl_default_root_is_add_get_any() {
        let root = default_root_acl();
        assert_eq!(root.to_string(), "Add=*&Get=*");
        assert_eq!(validate_root_acl(&root), Ok(()));
    }

    #[test]
    fn tnd_acl_revoke_from_root_empty_commands_become_any() {
        let mut root = acl("Add=*&Get=a&Replace=a+b&Exec=a");
        revoke_from_root(&mut root, "a");
        assert_eq!(root.to_string(), "Add=*&Get=*&Replace=b&Exec=*");
        assert_eq!(validate_root_acl(&root), Ok(()));
    }
}
