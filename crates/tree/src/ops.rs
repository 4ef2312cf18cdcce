//! The DM commands on the tree, with their outcomes (TND §5, DM RepPro, DIGEST.md §2.3, §5).
//!
//! Every operation names who asks: a server (its ServerID, checked against ACLs) or the device
//! itself (no ACL checks: the client's own code and its standard objects).

use crate::acl::{self, AclCommand};
use crate::error::TreeError;
use crate::format::NodeFormat;
use crate::node::{Content, NodeId, Scope};
use crate::tree::Tree;
use crate::uri::NodePath;

/// Who performs an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller<'a> {
    /// A DM server, by the ServerID of its DMAcc: ACLs apply.
    Server(&'a str),
    /// The device itself: ACLs do not apply.
    Device,
}

/// The value of a leaf, or the child list of an interior node, as Get returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// The node's Format.
    pub format: NodeFormat,
    /// The node's Type (MIME type or MO identifier; empty when unset).
    pub type_: String,
    /// Leaf: the value bytes. Interior: child names joined by `/` (TND §5.1).
    pub data: Vec<u8>,
}

impl Tree {
    fn check(&self, caller: Caller<'_>, id: NodeId, cmd: AclCommand) -> Result<(), TreeError> {
        match caller {
            Caller::Device => Ok(()),
            Caller::Server(s) => Ok(acl::check(self.effective_acl(id), cmd, s)?),
        }
    }

    /// Add (TND §5.1, DM RepPro Add): creates the node at `uri`, and missing interior ancestors
    /// implicitly. 418 if it exists; 405 if an ancestor is a leaf; 425 without Add on the
    /// nearest existing ancestor. New nodes get the ACL [`acl::acl_for_new_node`] gives.
    pub fn add(
        &mut self,
        caller: Caller<'_>,
        uri: &str,
        format: NodeFormat,
        type_: Option<&str>,
        value: &[u8],
    ) -> Result<NodeId, TreeError> {
        let path = NodePath::parse(uri, &self.limits())?;
        self.check_new_depth(path.depth())?;
        if path.is_root() {
            return Err(TreeError::AlreadyExists {
                uri: path.to_string(),
            });
        }
        let segs: Vec<&str> = path.segments().collect();
        // The deepest existing ancestor.
        let mut at = NodeId::ROOT;
        let mut depth = 0;
        for seg in &segs {
            match self.child(at, seg) {
                Some(c) => {
                    at = c;
                    depth += 1;
                }
                None => break,
            }
        }
        if depth == segs.len() {
            return Err(TreeError::AlreadyExists {
                uri: path.to_string(),
            });
        }
        if !self.node(at).is_interior() {
            return Err(TreeError::NotAllowed {
                uri: path.to_string(),
                why: "the parent is a leaf node",
            });
        }
        self.check(caller, at, AclCommand::Add)?;
        format.validate(value).map_err(|_| TreeError::BadValue {
            uri: path.to_string(),
            format: format.as_str(),
        })?;
        let now = self.now();
        // The ACL in force at the parent of each new node, carried down instead of looked up
        // again from every new node (which would cost O(depth²) for a deep implicit Add).
        let mut parent_acl = self.effective_acl(at).clone();
        for (i, seg) in segs.iter().enumerate().skip(depth) {
            let last = i + 1 == segs.len();
            let f = if last { format } else { NodeFormat::Node };
            let id = self.insert(at, seg, f);
            if let Caller::Server(s) = caller {
                let acl = acl::acl_for_new_node(f == NodeFormat::Node, &parent_acl, s);
                if !acl.is_empty() {
                    self.node_mut(id).rare_mut().acl = acl.clone();
                    parent_acl = acl;
                }
            }
            let n = self.node_mut(id);
            n.touch(now);
            if last {
                if let Some(t) = type_ {
                    n.type_ = t.into();
                }
                if let Content::Leaf(v) = &mut n.content {
                    *v = value.to_vec();
                }
            }
            at = id;
        }
        Ok(at)
    }

    /// Replace of a leaf's value (and optionally its Format/Type): 404 when absent (never
    /// creates), 405 on an interior node or when a permanent node's Format/Type would change.
    pub fn replace(
        &mut self,
        caller: Caller<'_>,
        uri: &str,
        format: Option<NodeFormat>,
        type_: Option<&str>,
        value: &[u8],
    ) -> Result<(), TreeError> {
        let (path, id) = self.resolve(uri)?;
        self.check(caller, id, AclCommand::Replace)?;
        let n = self.node(id);
        if n.is_interior() {
            return Err(TreeError::NotAllowed {
                uri: path.to_string(),
                why: "Replace of an interior node's value",
            });
        }
        let f = format.unwrap_or(n.format);
        if f == NodeFormat::Node {
            return Err(TreeError::NotAllowed {
                uri: path.to_string(),
                why: "a leaf cannot become an interior node",
            });
        }
        let type_changes = type_.is_some_and(|t| t != n.type_.as_str());
        if n.scope == Scope::Permanent && (f != n.format || type_changes) {
            return Err(TreeError::NotAllowed {
                uri: path.to_string(),
                why: "Format and Type of a permanent node cannot change",
            });
        }
        f.validate(value).map_err(|_| TreeError::BadValue {
            uri: path.to_string(),
            format: f.as_str(),
        })?;
        let now = self.now();
        let n = self.node_mut(id);
        n.format = f;
        if let Some(t) = type_ {
            n.type_ = t.into();
        }
        n.content = Content::Leaf(value.to_vec());
        n.touch(now);
        Ok(())
    }

    /// Delete of a node and its whole subtree (TND §5.1): 404 when absent, 405 for the root or
    /// when the node or a descendant is permanent, 425 without Delete on the node.
    pub fn delete(&mut self, caller: Caller<'_>, uri: &str) -> Result<(), TreeError> {
        let (path, id) = self.resolve(uri)?;
        self.check(caller, id, AclCommand::Delete)?;
        if id == NodeId::ROOT || self.has_permanent(id) {
            return Err(TreeError::NotAllowed {
                uri: path.to_string(),
                why: "permanent nodes cannot be deleted",
            });
        }
        let parent = self.node(id).parent;
        self.remove_subtree(id);
        if let Some(p) = parent {
            let now = self.now();
            self.node_mut(p).touch(now);
        }
        Ok(())
    }

    fn has_permanent(&self, id: NodeId) -> bool {
        let mut stack = vec![id];
        while let Some(c) = stack.pop() {
            let n = self.node(c);
            if n.scope == Scope::Permanent {
                return true;
            }
            stack.extend_from_slice(n.children());
        }
        false
    }

    /// Get of a node (no query): a leaf's value, or an interior node's child names joined by
    /// `/` with Format `node` (TND §5.1). 425 without Get.
    pub fn get(&self, caller: Caller<'_>, uri: &str) -> Result<Value, TreeError> {
        let (path, id) = self.resolve(uri)?;
        inbox_guard(caller, &path)?;
        self.check(caller, id, AclCommand::Get)?;
        Ok(self.value_of(id))
    }

    /// What [`Tree::get`] gives the device for the node `id` (no URI to parse: a caller
    /// walking the tree by [`Tree::child`] reads each node in one index probe).
    pub fn device_value(&self, id: NodeId) -> Value {
        self.value_of(id)
    }

    pub(crate) fn value_of(&self, id: NodeId) -> Value {
        let n = self.node(id);
        let data = match &n.content {
            Content::Leaf(v) => v.clone(),
            Content::Interior(kids) => {
                let mut s = Vec::new();
                for (i, k) in kids.iter().enumerate() {
                    if i > 0 {
                        s.push(b'/');
                    }
                    s.extend_from_slice(self.node(*k).name.as_bytes());
                }
                s
            }
        };
        Value {
            format: n.format,
            type_: n.type_.to_string(),
            data,
        }
    }

    /// Marks a node permanent (DDF Scope), as a device does for its fixed structure.
    pub fn set_permanent(&mut self, id: NodeId, permanent: bool) {
        self.node_mut(id).scope = if permanent {
            Scope::Permanent
        } else {
            Scope::Dynamic
        };
    }

    /// True when the node is permanent.
    pub fn is_permanent(&self, id: NodeId) -> bool {
        self.node(id).scope == Scope::Permanent
    }

    /// Copy (DM RepPro Copy): copies the subtree at `from` to the new node `to`. Needs Get on
    /// every copied node and Add where the copy lands; the copy and the original are independent.
    pub fn copy(&mut self, caller: Caller<'_>, from: &str, to: &str) -> Result<NodeId, TreeError> {
        let (_, src) = self.resolve(from)?;
        // Get on every copied node, with the ACL in force carried down the walk rather than
        // looked up again from each node.
        let mut height = 0;
        let mut stack = vec![(src, self.effective_acl(src), 1usize)];
        while let Some((c, acl_in_force, level)) = stack.pop() {
            if let Caller::Server(s) = caller {
                acl::check(acl_in_force, AclCommand::Get, s)?;
            }
            height = height.max(level);
            for &k in self.node(c).children() {
                stack.push((k, self.own_or(k, acl_in_force), level + 1));
            }
        }
        let to_path = NodePath::parse(to, &self.limits())?;
        self.check_new_depth(to_path.depth() + height - 1)?;
        if to_path.starts_with(&NodePath::parse(&self.path_of(src), &self.limits())?) {
            return Err(TreeError::NotAllowed {
                uri: to_path.to_string(),
                why: "Copy into its own subtree",
            });
        }
        let v = self.value_of(src);
        let data = if v.format == NodeFormat::Node {
            Vec::new()
        } else {
            v.data
        };
        let root = self.add(caller, to, v.format, Some(&v.type_), &data)?;
        self.copy_children(src, root)?;
        Ok(root)
    }

    fn copy_children(&mut self, src: NodeId, dst: NodeId) -> Result<(), TreeError> {
        // Iterative, like every walk over a subtree whose depth a server chooses.
        let now = self.now();
        let mut stack = vec![(src, dst)];
        while let Some((from, to)) = stack.pop() {
            let kids: Vec<NodeId> = self.node(from).children().to_vec();
            for k in kids {
                let n = self.node(k).snapshot();
                let id = self.insert(to, &n.name, n.format);
                let m = self.node_mut(id);
                m.type_ = n.type_.clone();
                // The copy inherits its ACL from where it lands; only the Title travels.
                if let Some(t) = n.rare.as_ref().and_then(|r| r.title.clone()) {
                    m.rare_mut().title = Some(t);
                }
                if let Content::Leaf(v) = &n.content {
                    m.content = Content::Leaf(v.clone());
                }
                m.touch(now);
                stack.push((k, id));
            }
        }
        Ok(())
    }
}

/// StdObj Inbox: a server's Get on `./Inbox` or below answers 405.
pub(crate) fn inbox_guard(caller: Caller<'_>, path: &NodePath) -> Result<(), TreeError> {
    if matches!(caller, Caller::Server(_)) && crate::stdobj::is_inbox(path.as_str()) {
        return Err(TreeError::NotAllowed {
            uri: path.to_string(),
            why: "Get on ./Inbox is not allowed",
        });
    }
    Ok(())
}
