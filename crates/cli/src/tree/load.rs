//! A [`Tree`] built from a TNDS document, as a device that received the document in an Add
//! would hold it.

use anyhow::{anyhow, Result};
use omadm_tree::tnds::{self, MgmtTree, RtProperties, TndsLimits, TndsNode};
use omadm_tree::uri::{NodePath, Property, UriLimits};
use omadm_tree::{Caller, Tree, TreeError};

use crate::io::Input;
use crate::status;

/// Decodes `input` and imports it into an empty tree at `at` as the device (no ACL checks).
pub(crate) fn load(input: &Input, at: &str) -> Result<Tree> {
    let name = &input.name;
    let mut doc = tnds::decode(&input.bytes, &TndsLimits::default())
        .map_err(|e| anyhow!("{name}: {}: {e}", status::text(e.status())))?;
    let at_root = NodePath::parse(at, &UriLimits::default())
        .map_err(|e| anyhow!("--at {at}: {}: {e}", status::text(e.status())))?
        .is_root();
    let root_props = if at_root {
        hoist_root(&mut doc)
    } else {
        Vec::new()
    };
    let mut tree = Tree::default();
    tree.import_tnds(Caller::Device, at, &doc)
        .map_err(|e| import_error(name, &e))?;
    for rt in root_props {
        set_root_props(&mut tree, &rt).map_err(|e| {
            let hint = "the document's top Node describes the node it is added to; give \
                        --at URI to add it below the root";
            anyhow!("{name}: {}: .: {e} ({hint})", status::text(e.status()))
        })?;
    }
    Ok(tree)
}

fn import_error(name: &str, e: &TreeError) -> anyhow::Error {
    anyhow!("{name}: {}: {e}", status::text(e.status()))
}

/// Whether a top-level Node stands for the Add target itself: named `.` (as `Get .?list=TNDS`
/// writes the root), or with an empty or missing NodeName (TNDS: the name comes from the
/// target), and no Path below the target.
fn names_target(node: &TndsNode) -> bool {
    let name_is_target = matches!(node.node_name.as_deref(), None | Some("" | "."));
    let path_is_target = matches!(node.path.as_deref(), None | Some("" | "."));
    name_is_target && path_is_target
}

/// The root exists already, so a top-level Node describing it cannot be added: its children
/// take its place at the top (their Paths were relative to it, which is the root) and its
/// properties are returned for the root.
fn hoist_root(doc: &mut MgmtTree) -> Vec<RtProperties> {
    let mut props = Vec::new();
    let mut nodes = Vec::with_capacity(doc.nodes.len());
    for node in std::mem::take(&mut doc.nodes) {
        if names_target(&node) {
            props.push(node.rt);
            nodes.extend(node.children);
        } else {
            nodes.push(node);
        }
    }
    doc.nodes = nodes;
    props
}

/// The properties an Add can set, ACL and Title, on the root.
fn set_root_props(tree: &mut Tree, rt: &RtProperties) -> Result<(), TreeError> {
    if let Some(acl) = rt.acl.as_deref().filter(|a| !a.is_empty()) {
        tree.replace_prop(Caller::Device, ".", Property::Acl, acl)?;
    }
    if let Some(title) = rt.title.as_deref() {
        tree.replace_prop(Caller::Device, ".", Property::Title, title)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: Option<&str>, path: Option<&str>) -> TndsNode {
        TndsNode {
            node_name: name.map(str::to_owned),
            path: path.map(str::to_owned),
            ..TndsNode::default()
        }
    }

    #[test]
    fn only_nodes_naming_the_target_itself_are_hoisted() {
        assert!(names_target(&node(Some("."), None)));
        assert!(names_target(&node(Some(""), None)));
        assert!(names_target(&node(None, Some("."))));
        assert!(!names_target(&node(Some("DMAcc"), None)));
        assert!(!names_target(&node(Some(""), Some("./DMAcc"))));
    }

    #[test]
    fn hoisting_keeps_document_order() {
        let mut root = node(Some("."), None);
        root.children = vec![node(Some("A"), None), node(Some("B"), None)];
        let mut doc = MgmtTree {
            nodes: vec![root, node(Some("C"), Some("./A"))],
            ..MgmtTree::default()
        };
        assert_eq!(hoist_root(&mut doc).len(), 1);
        let names: Vec<_> = doc
            .nodes
            .iter()
            .map(|n| n.node_name.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(names, ["A", "B", "C"]);
    }
}
