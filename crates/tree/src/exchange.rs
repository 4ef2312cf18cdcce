//! The tree and TNDS: Get `?list=TNDS` exports a subtree (TND §5.5, TNDS §6), an Add whose
//! Meta Type is `application/vnd.syncml.dmtnds+xml`/`+wbxml` imports one, all or nothing
//! (DM RepPro Add, DIGEST.md §2.3), and an Add to `./Inbox` places the MO where the client keeps
//! such objects (StdObj Inbox, DIGEST.md §5.6).

use crate::acl::AclCommand;
use crate::error::TreeError;
use crate::format::NodeFormat;
use crate::node::{Content, NodeId};
use crate::ops::Caller;
use crate::props::tstamp;
use crate::stdobj::{is_inbox, DMACC_MO};
use crate::tnds::{MgmtTree, NodeType, RtProperties, TndsNode};
use crate::tree::Tree;
use crate::uri::{Property, TndsProperty, TndsSelection};

impl Tree {
    /// Get `<uri>?list=TNDS[+…|-…]`: the node at `uri` and its subtree as one TNDS object, with
    /// the selected properties. Nodes the caller may not Get are left out with their subtrees.
    pub fn export_tnds(
        &self,
        caller: Caller<'_>,
        uri: &str,
        sel: &TndsSelection,
    ) -> Result<MgmtTree, TreeError> {
        let (path, id) = self.resolve(uri)?;
        crate::ops::inbox_guard(caller, &path)?;
        if let Caller::Server(s) = caller {
            crate::acl::check(self.effective_acl(id), AclCommand::Get, s)?;
        }
        // export_node recurses once per level: refuse a subtree deeper than any TNDS reader
        // (ours included) accepts, before walking it.
        let max = crate::tnds::TndsLimits::default().max_depth;
        if self.height(id) > max {
            return Err(TreeError::NotSupported {
                uri: path.to_string(),
                what: "a TNDS object deeper than the TNDS depth limit",
            });
        }
        // No Path: TNDS Paths are relative to the target of the Add that imports the object, so
        // the object lands as `<target>/<name>` wherever it is sent (TNDS §6).
        let root = self.export_node(caller, id, sel);
        Ok(MgmtTree {
            nodes: vec![root],
            ..MgmtTree::default()
        })
    }

    /// Levels of the subtree at `id` (1 for a leaf), counted without recursion.
    pub(crate) fn height(&self, id: NodeId) -> usize {
        let mut max = 0;
        let mut stack = vec![(id, 1usize)];
        while let Some((n, d)) = stack.pop() {
            max = max.max(d);
            stack.extend(self.node(n).children().iter().map(|&k| (k, d + 1)));
        }
        max
    }

    fn export_node(&self, caller: Caller<'_>, id: NodeId, sel: &TndsSelection) -> TndsNode {
        let n = self.node(id);
        let mut rt = RtProperties::default();
        let has = |p| sel.includes(p);
        if has(TndsProperty::Acl) {
            rt.acl = Some(n.acl().map(ToString::to_string).unwrap_or_default());
        }
        if has(TndsProperty::Format) {
            rt.format = Some(n.format);
        }
        if has(TndsProperty::Name) {
            rt.name = Some(n.name.to_string());
        }
        if has(TndsProperty::Size) {
            if let Content::Leaf(v) = &n.content {
                rt.size = Some(v.len().to_string());
            }
        }
        if has(TndsProperty::Title) {
            rt.title = n
                .rare
                .as_ref()
                .and_then(|r| r.title.as_ref())
                .map(ToString::to_string);
        }
        if has(TndsProperty::TStamp) && n.tstamp != 0 {
            rt.tstamp = Some(tstamp(n.tstamp));
        }
        // TNDS: Type is mandatory in RTProperties whatever the selection.
        rt.type_ = Some(if n.is_interior() {
            NodeType::DdfName(n.type_.to_string())
        } else {
            NodeType::Mime(n.type_.to_string())
        });
        if has(TndsProperty::VerNo) {
            rt.verno = Some(n.verno.to_string());
        }
        let value = match &n.content {
            Content::Leaf(v) if has(TndsProperty::Value) => Some(v.clone()),
            _ => None,
        };
        let children = n
            .children()
            .iter()
            .filter(|&&k| match caller {
                Caller::Device => true,
                Caller::Server(s) => self.effective_acl(k).permits(AclCommand::Get, s),
            })
            .map(|&k| self.export_node(caller, k, sel))
            .collect();
        let name = if id == NodeId::ROOT {
            ".".to_owned()
        } else {
            n.name.to_string()
        };
        TndsNode {
            node_name: Some(name),
            path: None,
            rt,
            value,
            children,
        }
    }

    /// Add of a TNDS object at `uri`: creates every node it describes. A node's Path is relative
    /// to `uri`; an empty (or omitted) NodeName names the target itself. All or nothing: on any
    /// failure the nodes created so far are removed (inside an open transaction, the caller's
    /// rollback does it). Returns the nodes created at the top level.
    pub fn import_tnds(
        &mut self,
        caller: Caller<'_>,
        uri: &str,
        tnds: &MgmtTree,
    ) -> Result<Vec<NodeId>, TreeError> {
        if is_inbox(uri) {
            return self.import_inbox(caller, tnds);
        }
        self.all_or_nothing(|t| {
            let mut out = Vec::new();
            for node in &tnds.nodes {
                let base = match node.path.as_deref() {
                    Some(p) if !p.is_empty() && p != "." => format!(
                        "{}/{}",
                        uri.trim_end_matches('/'),
                        p.trim_start_matches("./")
                    ),
                    _ => uri.to_owned(),
                };
                out.push(t.import_node(caller, &base, node)?);
            }
            Ok(out)
        })
    }

    /// Replace with a TNDS object (DM RepPro Replace, DIGEST.md §2.3): the subtree described
    /// replaces the existing one — leaves get the new values, nodes missing from the tree are
    /// created, nodes missing from the object are deleted. All or nothing. 404 when the top node
    /// does not exist (Replace never creates it).
    pub fn replace_tnds(
        &mut self,
        caller: Caller<'_>,
        uri: &str,
        tnds: &MgmtTree,
    ) -> Result<(), TreeError> {
        self.all_or_nothing(|t| {
            for node in &tnds.nodes {
                let base = match node.path.as_deref() {
                    Some(p) if !p.is_empty() && p != "." => {
                        format!(
                            "{}/{}",
                            uri.trim_end_matches('/'),
                            p.trim_start_matches("./")
                        )
                    }
                    _ => uri.to_owned(),
                };
                let target = match node.node_name.as_deref() {
                    Some(n) if !n.is_empty() => format!("{base}/{n}"),
                    _ => base,
                };
                t.resolve(&target)?;
                t.sync_node(caller, &target, node)?;
            }
            Ok(())
        })
    }

    fn sync_node(
        &mut self,
        caller: Caller<'_>,
        uri: &str,
        node: &TndsNode,
    ) -> Result<(), TreeError> {
        let (_, id) = match self.resolve(uri) {
            Ok(found) => found,
            Err(TreeError::NotFound { .. }) => {
                let parent = uri.rsplit_once('/').map_or(".", |(p, _)| p);
                let mut n = node.clone();
                n.path = None;
                if n.node_name.is_none() {
                    n.node_name = uri.rsplit_once('/').map(|(_, name)| name.to_owned());
                }
                self.import_node(caller, parent, &n)?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if !self.node(id).is_interior() {
            let format = node.rt.format;
            let type_ = node.rt.type_.as_ref().map(NodeType::as_str);
            let value = node.value.as_deref().unwrap_or_default();
            return self.replace(caller, uri, format, type_, value);
        }
        let wanted: Vec<&str> = node
            .children
            .iter()
            .filter_map(|c| c.node_name.as_deref())
            .collect();
        let existing: Vec<String> = self
            .node(id)
            .children()
            .iter()
            .map(|&k| self.node(k).name.to_string())
            .collect();
        for name in existing.iter().filter(|n| !wanted.contains(&n.as_str())) {
            self.delete(caller, &format!("{uri}/{name}"))?;
        }
        for child in &node.children {
            let name = child.node_name.as_deref().unwrap_or_default();
            self.sync_node(caller, &format!("{uri}/{name}"), child)?;
        }
        Ok(())
    }

    fn all_or_nothing<T>(
        &mut self,
        f: impl FnOnce(&mut Tree) -> Result<T, TreeError>,
    ) -> Result<T, TreeError> {
        if self.in_transaction() {
            return f(self);
        }
        self.begin()?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.rollback()?;
                Err(e)
            }
        }
    }

    fn import_node(
        &mut self,
        caller: Caller<'_>,
        base: &str,
        node: &TndsNode,
    ) -> Result<NodeId, TreeError> {
        let uri = match node.node_name.as_deref() {
            Some(name) if !name.is_empty() => format!("{base}/{name}"),
            _ => base.to_owned(),
        };
        let format =
            node.rt
                .format
                .unwrap_or(if node.children.is_empty() && node.value.is_some() {
                    NodeFormat::Chr
                } else {
                    NodeFormat::Node
                });
        if format == NodeFormat::Node && node.value.is_some() {
            return Err(TreeError::BadValue {
                uri,
                format: "node (an interior node has no Value)",
            });
        }
        let type_ = node
            .rt
            .type_
            .as_ref()
            .map(NodeType::as_str)
            .filter(|t| !t.is_empty());
        let value = node.value.as_deref().unwrap_or_default();
        let id = self.add(caller, &uri, format, type_, value)?;
        if let Some(title) = node.rt.title.as_deref() {
            self.replace_prop(Caller::Device, &uri, Property::Title, title)?;
        }
        for child in &node.children {
            let base = match child.path.as_deref() {
                Some(p) if !p.is_empty() => format!("{uri}/{}", p.trim_start_matches("./")),
                _ => uri.clone(),
            };
            self.import_node(caller, &base, child)?;
        }
        // The object's ACLs take effect once the whole object is in place: applied earlier, an
        // ACL that does not grant the importing server Add would refuse the object's own children.
        if let Some(acl) = node.rt.acl.as_deref().filter(|a| !a.is_empty()) {
            self.replace_prop(Caller::Device, &uri, Property::Acl, acl)?;
        }
        Ok(id)
    }

    /// StdObj Inbox: each top-level MO goes where the client keeps MOs of its type (a DMAcc
    /// account under `./DMAcc`, anything else at the root), references to `./Inbox/...` in leaf
    /// values are rewritten to the new places, and `./Inbox` stays empty.
    fn import_inbox(
        &mut self,
        caller: Caller<'_>,
        tnds: &MgmtTree,
    ) -> Result<Vec<NodeId>, TreeError> {
        let mut moves = Vec::new();
        for (i, node) in tnds.nodes.iter().enumerate() {
            let name = node
                .node_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("mo{}", i + 1));
            let is_dmacc = node
                .rt
                .type_
                .as_ref()
                .is_some_and(|t| t.as_str() == DMACC_MO);
            let parent = if is_dmacc { "./DMAcc" } else { "." };
            let mut target = if parent == "." {
                format!("./{name}")
            } else {
                format!("{parent}/{name}")
            };
            // The client chooses the name: keep the proposed one unless it is taken.
            let mut n = 1;
            while self.resolve(&target).is_ok() {
                n += 1;
                target = if parent == "." {
                    format!("./{name}{n}")
                } else {
                    format!("{parent}/{name}{n}")
                };
            }
            moves.push((format!("./Inbox/{name}"), target));
        }
        let placed: Vec<TndsNode> = tnds
            .nodes
            .iter()
            .map(|n| {
                let mut n = n.clone();
                n.node_name = Some(String::new());
                n.path = None;
                rewrite_refs(&mut n, &moves);
                n
            })
            .collect();
        self.all_or_nothing(|t| {
            let mut out = Vec::new();
            for (node, (_, target)) in placed.iter().zip(&moves) {
                out.push(t.import_node(caller, target, node)?);
            }
            Ok(out)
        })
    }
}

/// Rewrites leaf values that point into `./Inbox/<name>` to where `<name>` was placed.
fn rewrite_refs(node: &mut TndsNode, moves: &[(String, String)]) {
    if let Some(v) = &mut node.value {
        if let Ok(s) = std::str::from_utf8(v) {
            for (from, to) in moves {
                if s == from || s.starts_with(&format!("{from}/")) {
                    *v = format!("{to}{}", &s[from.len()..]).into_bytes();
                    break;
                }
            }
        }
    }
    for c in &mut node.children {
        rewrite_refs(c, moves);
    }
}
