//! Client side: verify a bootstrap, then add what it carries to the management tree.
//!
//! Placement (our choice): the document is imported as the device (`Caller::Device`, no ACL checks — a bootstrap is
//! authorised by its MAC, not by ACLs) with the StdObj Inbox rules that
//! `Tree::import_tnds` applies to `./Inbox` (DIGEST.md §5.6), mirrored here rather than
//! going through `./Inbox` so that a tree without an Inbox can be bootstrapped and so that a
//! Node naming `./DMAcc` in its Path is honoured:
//! - a top Node whose Type is a placed MO (DMAcc, `urn:oma:mo:oma-dm-dmacc:1.0`), or whose Path
//!   is the MO's usual parent (`./DMAcc`), becomes `./DMAcc/<NodeName>`; when that name is taken
//!   the client picks `<NodeName>2`, `<NodeName>3`... (StdObj: the client chooses `<X>`);
//! - a top Node named `DMAcc` directly under the root, holding accounts, has each child placed
//!   that way;
//! - anything else is added at the root, its Path relative to the root, as an Add of the
//!   document to `.` would place it; a name already in use is an error.
//!
//! A DMAcc account without an ACL gets the w7 one (StdObj, DIGEST.md §7.1):
//! `Get=<ServerID>&Replace=<ServerID>&Delete=<ServerID>` on `<X>`, and `Replace=<ServerID>`
//! (no Get) on each AAuthSecret and AAuthData. `./DMAcc` is created with `Get=*` when absent.
//! The whole import is one transaction: all or nothing.

use omadm_tree::format::NodeFormat;
use omadm_tree::stdobj::DMACC_MO;
use omadm_tree::tnds::{self, MgmtTree, NodeType, TndsLimits, TndsNode};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree, TreeError};

use super::{verify, BootstrapContentType, BootstrapError, Secrets};

/// PROVISIONAL (DM Bootstrap 1.3, DIGEST-1.3.md §6.3): the BootConfig MO identifier guessed
/// from OMNA naming; no source confirms it. Used only by [`ImportPolicy::with_provisional_1_3`].
pub const BOOTCONFIG_MO_PROVISIONAL: &str = "urn:oma:mo:oma-dm-bootconfig:1.0";

/// How a verified bootstrap document is placed in the tree.
#[derive(Clone, Debug)]
pub struct ImportPolicy {
    /// MO identifiers placed under a fixed parent, with that parent: `(MOID, parent URI,
    /// parent ACL when created)`. Default: DMAcc under `./DMAcc` (`Get=*`).
    pub placements: Vec<(String, String, String)>,
    /// Give DMAcc accounts without an ACL the w7 ACL (default true).
    pub w7_acl: bool,
    /// Bounds on the document.
    pub limits: TndsLimits,
}

impl Default for ImportPolicy {
    fn default() -> Self {
        ImportPolicy {
            placements: vec![(
                DMACC_MO.to_owned(),
                "./DMAcc".to_owned(),
                "Get=*".to_owned(),
            )],
            w7_acl: true,
            limits: TndsLimits::default(),
        }
    }
}

impl ImportPolicy {
    /// PROVISIONAL (DM Bootstrap 1.3, not in the record): also place a BootConfig MO
    /// ([`BOOTCONFIG_MO_PROVISIONAL`]) under `./BootConfig`, by analogy with `./DMAcc`. Off
    /// by default; without it a BootConfig object is added at the root like any other MO.
    pub fn with_provisional_1_3(mut self) -> Self {
        self.placements.push((
            BOOTCONFIG_MO_PROVISIONAL.to_owned(),
            "./BootConfig".to_owned(),
            String::new(),
        ));
        self
    }
}

/// [`verify_and_apply_with`] under the default [`ImportPolicy`].
pub fn verify_and_apply(
    tree: &mut Tree,
    wbxml: &[u8],
    content_type: &str,
    secrets: &Secrets<'_>,
) -> Result<Vec<String>, BootstrapError> {
    verify_and_apply_with(tree, wbxml, content_type, secrets, &ImportPolicy::default())
}

/// Client side: parses `content_type`, verifies the MAC of `wbxml` (before reading a byte of
/// it), refuses XML, decodes the TNDS document and imports it (placement in the module doc).
/// Returns the URIs of the objects created at the top, in document order. On any error the
/// tree is unchanged.
pub fn verify_and_apply_with(
    tree: &mut Tree,
    wbxml: &[u8],
    content_type: &str,
    secrets: &Secrets<'_>,
    policy: &ImportPolicy,
) -> Result<Vec<String>, BootstrapError> {
    let ct: BootstrapContentType = content_type.parse()?;
    verify(wbxml, &ct, secrets)?;
    if matches!(
        wbxml.first(),
        Some(b'<' | 0xEF | b' ' | b'\t' | b'\r' | b'\n')
    ) {
        return Err(BootstrapError::XmlNotAllowed);
    }
    let doc = tnds::from_wbxml(wbxml, &policy.limits)?;
    apply(tree, &doc, policy)
}

/// Imports a (verified) bootstrap document; see the module doc. All or nothing.
pub fn apply(
    tree: &mut Tree,
    doc: &MgmtTree,
    policy: &ImportPolicy,
) -> Result<Vec<String>, BootstrapError> {
    if doc.nodes.is_empty() {
        return Err(BootstrapError::Empty);
    }
    if tree.in_transaction() {
        return Ok(place_all(tree, doc, policy)?);
    }
    tree.begin()?;
    match place_all(tree, doc, policy) {
        Ok(v) => {
            tree.commit()?;
            Ok(v)
        }
        Err(e) => {
            tree.rollback()?;
            Err(e.into())
        }
    }
}

fn place_all(
    tree: &mut Tree,
    doc: &MgmtTree,
    policy: &ImportPolicy,
) -> Result<Vec<String>, TreeError> {
    let mut out = Vec::new();
    for (i, node) in doc.nodes.iter().enumerate() {
        if let Some(p) = placement_of(node, policy) {
            out.push(place(tree, node, p, i, policy)?);
        } else if let Some(p) = container_of(node, policy) {
            for (j, child) in node.children.iter().enumerate() {
                out.push(place(tree, child, p, j, policy)?);
            }
        } else {
            let one = MgmtTree {
                nodes: vec![node.clone()],
                ..doc.clone()
            };
            for id in tree.import_tnds(Caller::Device, ".", &one)? {
                out.push(tree.path_of(id));
            }
        }
    }
    Ok(out)
}

type Placement = (String, String, String);

fn type_of(node: &TndsNode) -> &str {
    node.rt.type_.as_ref().map_or("", NodeType::as_str)
}

fn norm(path: &str) -> &str {
    let p = path.trim_end_matches('/');
    p.strip_prefix("./").unwrap_or(p)
}

/// The placement of an MO instance: by Type, or by a Path naming the usual parent.
fn placement_of<'p>(node: &TndsNode, policy: &'p ImportPolicy) -> Option<&'p Placement> {
    let ty = type_of(node);
    policy.placements.iter().find(|(mo, parent, _)| {
        *mo == ty
            || node
                .path
                .as_deref()
                .is_some_and(|p| norm(p) == norm(parent))
    })
}

/// A top Node that is the parent itself (`DMAcc` at the root): its children are instances.
fn container_of<'p>(node: &TndsNode, policy: &'p ImportPolicy) -> Option<&'p Placement> {
    if !matches!(node.path.as_deref().map(norm), None | Some("" | ".")) {
        return None;
    }
    let name = node.node_name.as_deref()?;
    policy
        .placements
        .iter()
        .find(|(_, parent, _)| norm(parent) == name)
}

fn place(
    tree: &mut Tree,
    node: &TndsNode,
    (mo, parent, parent_acl): &Placement,
    index: usize,
    policy: &ImportPolicy,
) -> Result<String, TreeError> {
    if tree.resolve(parent).is_err() {
        tree.add(Caller::Device, parent, NodeFormat::Node, None, b"")?;
        if !parent_acl.is_empty() {
            tree.replace_prop(Caller::Device, parent, Property::Acl, parent_acl)?;
        }
    }
    let name = node
        .node_name
        .clone()
        .filter(|n| !n.is_empty() && n != ".")
        .unwrap_or_else(|| format!("mo{}", index + 1));
    let mut target = format!("{}/{name}", parent.trim_end_matches('/'));
    let mut n = 1;
    while tree.resolve(&target).is_ok() {
        n += 1;
        target = format!("{}/{name}{n}", parent.trim_end_matches('/'));
    }
    let mut placed = node.clone();
    placed.node_name = Some(String::new());
    placed.path = None;
    if placed.rt.type_.is_none() || type_of(&placed).is_empty() {
        placed.rt.type_ = Some(NodeType::DdfName(mo.clone()));
    }
    if policy.w7_acl && mo == DMACC_MO {
        w7_acl(&mut placed);
    }
    let one = MgmtTree {
        nodes: vec![placed],
        ..MgmtTree::default()
    };
    tree.import_tnds(Caller::Device, &target, &one)?;
    Ok(target)
}

fn child_mut<'a>(node: &'a mut TndsNode, name: &str) -> Option<&'a mut TndsNode> {
    node.children
        .iter_mut()
        .find(|c| c.node_name.as_deref() == Some(name))
}

/// StdObj w7 mapping: the account belongs to its server; its secrets cannot be read.
fn w7_acl(acc: &mut TndsNode) {
    let Some(id) = child_mut(acc, "ServerID")
        .and_then(|s| s.value.clone())
        .and_then(|v| String::from_utf8(v).ok())
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    if acc.rt.acl.is_none() {
        acc.rt.acl = Some(format!("Get={id}&Replace={id}&Delete={id}"));
    }
    if let Some(auths) = child_mut(acc, "AppAuth") {
        for x in &mut auths.children {
            for leaf in ["AAuthSecret", "AAuthData"] {
                if let Some(l) = child_mut(x, leaf) {
                    l.rt.acl.get_or_insert_with(|| format!("Replace={id}"));
                }
            }
        }
    }
}
