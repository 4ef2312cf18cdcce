//! Nodes of the management tree and their properties (TND §5.1, §5.3).

use compact_str::CompactString;

use crate::acl::Acl;
use crate::format::NodeFormat;

/// Index of a node in the tree's arena. Stable while the node exists; a slot is reused only
/// after the node is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The root node `.`.
    pub const ROOT: NodeId = NodeId(0);

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// Whether a node can be deleted or renamed (DDF Scope, TND §5.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Created by a server or the device at run time; can be deleted and renamed.
    #[default]
    Dynamic,
    /// Part of the device's fixed structure: Delete and renaming answer 405.
    Permanent,
}

/// Leaf value or interior children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// A leaf's value, as bytes; its meaning is given by the Format property.
    Leaf(Vec<u8>),
    /// An interior node's children, in creation order.
    Interior(Vec<NodeId>),
}

/// Properties most nodes leave empty, kept out of line so that a node stays small.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rare {
    pub(crate) acl: Acl,
    pub(crate) title: Option<CompactString>,
}

/// One node. Name, Format, Type, TStamp and VerNo inline; ACL and Title boxed when set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) name: CompactString,
    pub(crate) parent: Option<NodeId>,
    pub(crate) content: Content,
    /// Type: MIME type of a leaf, MO identifier of an interior node (empty when unset).
    pub(crate) type_: CompactString,
    pub(crate) rare: Option<Box<Rare>>,
    /// TStamp: seconds since the Unix epoch of the last change, 0 when never set.
    pub(crate) tstamp: u64,
    /// VerNo: +1 per change, wrapping at 0xFFFF (TND §5.3).
    pub(crate) verno: u16,
    pub(crate) format: NodeFormat,
    pub(crate) scope: Scope,
}

impl Node {
    pub(crate) fn new(name: CompactString, parent: Option<NodeId>, format: NodeFormat) -> Node {
        let content = if format == NodeFormat::Node {
            Content::Interior(Vec::new())
        } else {
            Content::Leaf(Vec::new())
        };
        Node {
            name,
            parent,
            content,
            type_: CompactString::default(),
            rare: None,
            tstamp: 0,
            verno: 0,
            format,
            scope: Scope::Dynamic,
        }
    }

    /// A copy for the undo journal: everything but an interior node's children, which the
    /// journal restores by its own steps.
    pub(crate) fn snapshot(&self) -> Node {
        Node {
            name: self.name.clone(),
            parent: self.parent,
            content: match &self.content {
                Content::Leaf(v) => Content::Leaf(v.clone()),
                Content::Interior(_) => Content::Interior(Vec::new()),
            },
            type_: self.type_.clone(),
            rare: self.rare.clone(),
            tstamp: self.tstamp,
            verno: self.verno,
            format: self.format,
            scope: self.scope,
        }
    }

    pub(crate) fn is_interior(&self) -> bool {
        matches!(self.content, Content::Interior(_))
    }

    pub(crate) fn children(&self) -> &[NodeId] {
        match &self.content {
            Content::Interior(c) => c,
            Content::Leaf(_) => &[],
        }
    }

    pub(crate) fn acl(&self) -> Option<&Acl> {
        self.rare.as_ref().map(|r| &r.acl)
    }

    pub(crate) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Records a change: VerNo +1 (wrapping), TStamp = `now`.
    pub(crate) fn touch(&mut self, now: u64) {
        self.verno = self.verno.wrapping_add(1);
        self.tstamp = now;
    }
}
