//! The name index: (parent, child name) → child, in one hash probe.
//!
//! The table stores only the child's [`NodeId`] (4 bytes); the name it is compared with is the
//! node's own, read from the arena, so names are not stored twice (docs/performance.md: bytes
//! per node).

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::node::{Node, NodeId};

#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    table: HashTable<NodeId>,
    hasher: DefaultHashBuilder,
}

fn live(nodes: &[Option<Node>], id: NodeId) -> Option<&Node> {
    nodes.get(id.index()).and_then(Option::as_ref)
}

impl NameIndex {
    fn hash(&self, parent: NodeId, name: &str) -> u64 {
        self.hasher.hash_one((parent.0, name))
    }

    fn is(nodes: &[Option<Node>], id: NodeId, parent: NodeId, name: &str) -> bool {
        live(nodes, id).is_some_and(|n| n.parent == Some(parent) && n.name == name)
    }

    pub(crate) fn get(&self, nodes: &[Option<Node>], parent: NodeId, name: &str) -> Option<NodeId> {
        let h = self.hash(parent, name);
        self.table
            .find(h, |&id| Self::is(nodes, id, parent, name))
            .copied()
    }

    /// Indexes `id`, which must already be in `nodes` under `parent` with its name.
    pub(crate) fn insert(&mut self, nodes: &[Option<Node>], id: NodeId) {
        let Some(n) = live(nodes, id) else { return };
        let parent = n.parent.unwrap_or(NodeId::ROOT);
        let h = self.hash(parent, &n.name);
        let hasher = &self.hasher;
        self.table
            .insert_unique(h, id, |&other| match live(nodes, other) {
                Some(o) => hasher.hash_one((o.parent.unwrap_or(NodeId::ROOT).0, o.name.as_str())),
                None => 0,
            });
    }

    /// Drops the entry of `id`, which must still be in `nodes` with the name it was indexed by.
    pub(crate) fn remove(&mut self, nodes: &[Option<Node>], id: NodeId) {
        let Some(n) = live(nodes, id) else { return };
        let parent = n.parent.unwrap_or(NodeId::ROOT);
        let h = self.hash(parent, &n.name);
        if let Ok(entry) = self.table.find_entry(h, |&x| x == id) {
            entry.remove();
        }
    }
}
