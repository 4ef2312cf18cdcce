//! The arena holding the nodes, the name index, and the undo journal of transactions.
//!
//! Nodes live in one `Vec` and refer to each other by [`NodeId`]; a hash index from
//! (parent, child name) to child makes a lookup by URI cost one hash probe per segment, O(depth)
//! whatever the size of the tree.

use compact_str::CompactString;

use crate::acl::{self, Acl};
use crate::error::TreeError;
use crate::format::NodeFormat;
use crate::index::NameIndex;
use crate::node::{Content, Node, NodeId, Scope};
use crate::uri::{NodePath, UriLimits};

/// One step to undo, recorded while a transaction is open.
#[derive(Debug)]
enum Undo {
    /// A node was created: remove it again.
    Created(NodeId),
    /// A node was removed from position `at` of its parent's children: put it back.
    Removed {
        id: NodeId,
        node: Box<Node>,
        at: usize,
    },
    /// A node changed (value, properties, name): restore this copy.
    Changed { id: NodeId, before: Box<Node> },
}

/// The management tree.
#[derive(Debug)]
pub struct Tree {
    nodes: Vec<Option<Node>>,
    free: Vec<u32>,
    index: NameIndex,
    limits: UriLimits,
    journal: Option<Vec<Undo>>,
    /// Slots freed inside a transaction; reusable only once it commits.
    freed_in_tx: Vec<u32>,
    now: u64,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new(UriLimits::default())
    }
}

impl Tree {
    /// A tree holding only the root `.`, permanent, with ACL `Add=*&Get=*` (TND §5.4 default).
    pub fn new(limits: UriLimits) -> Tree {
        let mut root = Node::new(CompactString::default(), None, NodeFormat::Node);
        root.scope = Scope::Permanent;
        root.rare_mut().acl = acl::default_root_acl();
        Tree {
            nodes: vec![Some(root)],
            free: Vec::new(),
            index: NameIndex::default(),
            limits,
            journal: None,
            freed_in_tx: Vec::new(),
            now: 0,
        }
    }

    /// The URI limits in force (DevDetail/URI).
    pub fn limits(&self) -> UriLimits {
        self.limits
    }

    /// Deepest level at which this tree creates nodes, whatever MaxDepth says: without a bound
    /// a single Add could build a chain whose `?list=` answer is quadratic in the Add's size.
    pub const MAX_DEPTH: u16 = 1024;

    /// MaxDepth as enforced on node creation: the configured one, capped at [`Tree::MAX_DEPTH`]
    /// (0, "unlimited" in DevDetail, means the cap). DevDetail/URI/MaxDepth publishes this.
    pub fn effective_max_depth(&self) -> u16 {
        match self.limits.max_depth {
            0 => Tree::MAX_DEPTH,
            d => d.min(Tree::MAX_DEPTH),
        }
    }

    /// 414 when creating a node at `depth` would pass [`Tree::effective_max_depth`].
    pub(crate) fn check_new_depth(&self, depth: usize) -> Result<(), TreeError> {
        let max = self.effective_max_depth();
        if depth > usize::from(max) {
            return Err(crate::uri::UriError::TooDeep { depth, max }.into());
        }
        Ok(())
    }

    /// Sets the URI limits.
    pub fn set_limits(&mut self, limits: UriLimits) {
        self.limits = limits;
    }

    /// Sets the time (seconds since the Unix epoch) stamped on changed nodes; the tree reads no
    /// clock of its own.
    pub fn set_now(&mut self, now: u64) {
        self.now = now;
    }

    pub(crate) fn now(&self) -> u64 {
        self.now
    }

    /// Number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len() - self.free.len() - self.freed_in_tx.len()
    }

    /// Always false: the root exists.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        // Ids handed out by this tree always point at live slots.
        match self.nodes.get(id.index()) {
            Some(Some(n)) => n,
            _ => unreachable_node(),
        }
    }

    fn node_mut_raw(&mut self, id: NodeId) -> &mut Node {
        match self.nodes.get_mut(id.index()) {
            Some(Some(n)) => n,
            _ => unreachable_node(),
        }
    }

    /// A node for changing, recording its previous state when a transaction is open.
    pub(crate) fn node_mut(&mut self, id: NodeId) -> &mut Node {
        if self.journal.is_some() {
            let before = Box::new(self.node(id).snapshot());
            if let Some(j) = self.journal.as_mut() {
                j.push(Undo::Changed { id, before });
            }
        }
        self.node_mut_raw(id)
    }

    /// The child of `parent` named `name`.
    pub fn child(&self, parent: NodeId, name: &str) -> Option<NodeId> {
        self.index.get(&self.nodes, parent, name)
    }

    /// The node at `path`, in one index probe per segment.
    pub fn lookup(&self, path: &NodePath) -> Option<NodeId> {
        path.segments()
            .try_fold(NodeId::ROOT, |id, seg| self.child(id, seg))
    }

    /// Parses `uri` under the tree's limits and looks it up (404 when absent).
    pub fn resolve(&self, uri: &str) -> Result<(NodePath, NodeId), TreeError> {
        let path = NodePath::parse(uri, &self.limits)?;
        match self.lookup(&path) {
            Some(id) => Ok((path, id)),
            None => Err(TreeError::NotFound {
                uri: path.to_string(),
            }),
        }
    }

    /// The absolute URI of a node.
    pub fn path_of(&self, id: NodeId) -> String {
        let mut names = Vec::new();
        let mut cur = id;
        while let Some(p) = self.node(cur).parent {
            names.push(self.node(cur).name.as_str());
            cur = p;
        }
        let mut s = String::from(".");
        for n in names.iter().rev() {
            s.push('/');
            s.push_str(n);
        }
        s
    }

    /// Children of a node, in creation order (empty for a leaf).
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.node(id).children()
    }

    /// The ACL in force for a node: its own when not empty, else its nearest ancestor's.
    pub fn effective_acl(&self, id: NodeId) -> &Acl {
        let mut cur = Some(id);
        while let Some(c) = cur {
            let n = self.node(c);
            if let Some(a) = n.acl() {
                if !a.is_empty() {
                    return a;
                }
            }
            cur = n.parent;
        }
        // The root ACL is never empty; reaching here means it was, which validate_root_acl forbids.
        match self.node(NodeId::ROOT).acl() {
            Some(a) => a,
            None => empty_acl(),
        }
    }

    /// The ACL in force at `id` given the one in force at its parent: its own when not empty.
    pub(crate) fn own_or<'a>(&'a self, id: NodeId, parent_in_force: &'a Acl) -> &'a Acl {
        match self.node(id).acl() {
            Some(a) if !a.is_empty() => a,
            _ => parent_in_force,
        }
    }

    /// Creates a node under `parent`. The caller has checked that the name is free.
    pub(crate) fn insert(&mut self, parent: NodeId, name: &str, format: NodeFormat) -> NodeId {
        let name = CompactString::new(name);
        let node = Node::new(name, Some(parent), format);
        let id = match self.free.pop() {
            Some(slot) => {
                if let Some(s) = self.nodes.get_mut(slot as usize) {
                    *s = Some(node);
                }
                NodeId(slot)
            }
            None => {
                self.nodes.push(Some(node));
                NodeId((self.nodes.len() - 1) as u32)
            }
        };
        if let Content::Interior(c) = &mut self.node_mut_raw(parent).content {
            c.push(id);
        }
        self.index.insert(&self.nodes, id);
        if let Some(j) = self.journal.as_mut() {
            j.push(Undo::Created(id));
        }
        id
    }

    /// Removes a node and its subtree.
    pub(crate) fn remove_subtree(&mut self, id: NodeId) {
        // Iterative (a server can build a chain as deep as its messages allow): every node after
        // its descendants, later siblings first, so that undoing in reverse restores parents
        // before children and children in their order.
        let mut order = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            order.push(n);
            stack.extend(self.node(n).children().iter().rev());
        }
        for n in order.into_iter().rev() {
            self.remove_one(n);
        }
    }

    /// Removes one node whose children are already gone.
    fn remove_one(&mut self, id: NodeId) {
        let Some(parent) = self.node(id).parent else {
            return;
        };
        let at = match &mut self.node_mut_raw(parent).content {
            Content::Interior(c) => match c.iter().rposition(|&x| x == id) {
                Some(at) => {
                    c.remove(at);
                    at
                }
                None => 0,
            },
            Content::Leaf(_) => 0,
        };
        self.index.remove(&self.nodes, id);
        let node = self.nodes.get_mut(id.index()).and_then(Option::take);
        if let Some(node) = node {
            match self.journal.as_mut() {
                Some(j) => {
                    j.push(Undo::Removed {
                        id,
                        node: Box::new(node),
                        at,
                    });
                    self.freed_in_tx.push(id.0);
                }
                None => self.free.push(id.0),
            }
        }
    }

    /// Renames a node (its index entry follows).
    pub(crate) fn rename(&mut self, id: NodeId, new: &str) {
        if self.node(id).parent.is_none() {
            return;
        }
        self.index.remove(&self.nodes, id);
        self.node_mut(id).name = CompactString::new(new);
        self.index.insert(&self.nodes, id);
    }

    /// Opens a transaction: every change until [`Tree::commit`] or [`Tree::rollback`] can be
    /// undone (used by the command executor for Atomic).
    pub fn begin(&mut self) -> Result<(), TreeError> {
        if self.journal.is_some() {
            return Err(TreeError::Transaction("a transaction is already open"));
        }
        self.journal = Some(Vec::new());
        Ok(())
    }

    /// Keeps every change since [`Tree::begin`].
    pub fn commit(&mut self) -> Result<(), TreeError> {
        if self.journal.take().is_none() {
            return Err(TreeError::Transaction("commit without begin"));
        }
        self.free.append(&mut self.freed_in_tx);
        Ok(())
    }

    /// Undoes every change since [`Tree::begin`].
    pub fn rollback(&mut self) -> Result<(), TreeError> {
        let Some(journal) = self.journal.take() else {
            return Err(TreeError::Transaction("rollback without begin"));
        };
        for step in journal.into_iter().rev() {
            match step {
                Undo::Created(id) => {
                    self.index.remove(&self.nodes, id);
                    let node = self.nodes.get_mut(id.index()).and_then(Option::take);
                    if let Some(p) = node.and_then(|n| n.parent) {
                        if let Content::Interior(c) = &mut self.node_mut_raw(p).content {
                            // Undone in reverse, a created node is its parent's last child.
                            if let Some(at) = c.iter().rposition(|&x| x == id) {
                                c.remove(at);
                            }
                        }
                    }
                    self.free.push(id.0);
                }
                Undo::Removed { id, node, at } => {
                    let parent = node.parent;
                    if let Some(slot) = self.nodes.get_mut(id.index()) {
                        *slot = Some(*node);
                    }
                    if let Some(p) = parent {
                        if let Content::Interior(c) = &mut self.node_mut_raw(p).content {
                            let at = at.min(c.len());
                            c.insert(at, id);
                        }
                        self.index.insert(&self.nodes, id);
                    }
                }
                Undo::Changed { id, before } => {
                    let renamed = self.node(id).name != before.name && before.parent.is_some();
                    if renamed {
                        self.index.remove(&self.nodes, id);
                    }
                    // Children lists are restored by the Created/Removed steps themselves.
                    let children = match (&self.node(id).content, &before.content) {
                        (Content::Interior(c), Content::Interior(_)) => Some(c.clone()),
                        _ => None,
                    };
                    let mut restored = *before;
                    if let (Some(c), Content::Interior(rc)) = (children, &mut restored.content) {
                        *rc = c;
                    }
                    *self.node_mut_raw(id) = restored;
                    if renamed {
                        self.index.insert(&self.nodes, id);
                    }
                }
            }
        }
        // Every slot freed inside the transaction held a node that a Removed step has just put
        // back (slots freed in a transaction are never reused before it ends).
        self.freed_in_tx.clear();
        Ok(())
    }

    /// True while a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.journal.is_some()
    }
}

fn empty_acl() -> &'static Acl {
    static EMPTY: std::sync::OnceLock<Acl> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Acl::default)
}

#[cold]
fn unreachable_node() -> ! {
    // A NodeId from another tree, or kept after its node was deleted: a programming error of
    // the caller, never a consequence of input.
    panic!("omadm-tree: NodeId does not name a live node of this tree")
}
