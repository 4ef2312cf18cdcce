//! `GET /api/v1/devices/{id}/tree`: the server's view of a device's management tree, rebuilt
//! from what its answered commands told the server, oldest first: the Results of each Get (a
//! `?list=StructData` Get gives a whole subtree, a Get of an interior node its child names), then
//! the effect of each Add, Replace and Delete the device acknowledged with a 2xx status. It is
//! only as fresh as the last Get: the device may have changed since.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{CommandState, Op, QueuedCommand, ResultItem, Timestamp};

/// The most nodes a view holds; a larger tree is cut (`truncated` is set on the root).
pub(super) const MAX_NODES: usize = 20_000;

/// A node of the view.
#[derive(Debug, Default, PartialEq, Serialize)]
pub(super) struct TreeNode {
    pub name: String,
    /// `.` for the root, else `./A/B`.
    pub uri: String,
    /// Meta Format as the device gave it (`node` for interior nodes); `None` when the node is
    /// only known as a parent or a child name.
    pub format: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// The value (base64 when the format is `b64`); interior nodes have none.
    pub data: Option<String>,
    /// The command that last told the server about this node.
    pub command_id: Option<i64>,
    pub updated_at: Option<Timestamp>,
    pub children: Vec<TreeNode>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// What is known of one node while the view is built.
#[derive(Default)]
struct Known {
    format: Option<String>,
    type_: Option<String>,
    data: Option<String>,
    command_id: Option<i64>,
    updated_at: Option<Timestamp>,
    children: BTreeMap<String, Known>,
}

/// The path segments of a LocURI: `./A/B`, `A/B/`, `/A/B` all give `[A, B]`; a query
/// (`?list=...`) is dropped; `.` and empty give `[]`.
fn segments(uri: &str) -> Vec<&str> {
    let path = uri.split('?').next().unwrap_or_default();
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

struct Builder {
    root: Known,
    nodes: usize,
    truncated: bool,
}

impl Builder {
    /// The node at `path`, created with its ancestors; `None` past [`MAX_NODES`].
    fn node(&mut self, path: &[&str]) -> Option<&mut Known> {
        let mut at = &mut self.root;
        for seg in path {
            if !at.children.contains_key(*seg) {
                if self.nodes >= MAX_NODES {
                    self.truncated = true;
                    return None;
                }
                self.nodes += 1;
            }
            at = at.children.entry((*seg).to_owned()).or_default();
        }
        Some(at)
    }

    fn set(&mut self, uri: &str, item: &ResultItem, c: &QueuedCommand) {
        let path = segments(uri);
        let Some(n) = self.node(&path) else { return };
        n.format.clone_from(&item.format);
        n.type_.clone_from(&item.type_);
        n.command_id = Some(c.id);
        n.updated_at = Some(c.updated_at);
        if item.format.as_deref() == Some("node") {
            // A Get of an interior node answers with its child names, `/`-separated.
            n.data = None;
            let names: Vec<String> = item
                .data
                .as_deref()
                .unwrap_or_default()
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            for name in names {
                let mut child = path.clone();
                child.push(&name);
                let _ = self.node(&child);
            }
        } else {
            n.data.clone_from(&item.data);
        }
    }

    fn delete(&mut self, uri: &str) {
        let path = segments(uri);
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut at = &mut self.root;
        for seg in parents {
            match at.children.get_mut(*seg) {
                Some(n) => at = n,
                None => return,
            }
        }
        if let Some(gone) = at.children.remove(*last) {
            self.nodes = self.nodes.saturating_sub(count(&gone));
        }
    }

    fn apply(&mut self, c: &QueuedCommand) {
        if c.state != CommandState::Done {
            return;
        }
        let spec = &c.spec;
        match spec.op {
            Op::Get => {
                for r in &c.results {
                    if let Some(src) = r.source.as_deref().or(spec.target.as_deref()) {
                        self.set(src, r, c);
                    }
                }
            }
            Op::Add | Op::Replace => {
                if let Some(t) = spec.target.as_deref() {
                    let item = ResultItem {
                        source: None,
                        format: spec.format.clone(),
                        type_: spec.type_.clone(),
                        data: spec.data.clone(),
                    };
                    self.set(t, &item, c);
                }
            }
            Op::Delete => {
                if let Some(t) = spec.target.as_deref() {
                    self.delete(t);
                }
            }
            _ => {}
        }
    }
}

fn count(n: &Known) -> usize {
    1 + n.children.values().map(count).sum::<usize>()
}

fn finish(name: String, uri: String, k: Known) -> TreeNode {
    let children = k
        .children
        .into_iter()
        .map(|(name, child)| {
            let uri = format!("{uri}/{name}");
            finish(name, uri, child)
        })
        .collect();
    TreeNode {
        name,
        uri,
        format: k.format,
        type_: k.type_,
        data: k.data,
        command_id: k.command_id,
        updated_at: k.updated_at,
        children,
        truncated: false,
    }
}

/// The view from a device's commands (in queue order, as the store lists them).
pub(super) fn build(commands: &[QueuedCommand]) -> TreeNode {
    let mut b = Builder {
        root: Known::default(),
        nodes: 0,
        truncated: false,
    };
    for c in commands {
        b.apply(c);
    }
    let mut root = finish(".".into(), ".".into(), b.root);
    root.truncated = b.truncated;
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CommandSpec;

    fn cmd(id: i64, op: Op, target: &str, state: CommandState) -> QueuedCommand {
        QueuedCommand {
            id,
            device_id: "d".into(),
            spec: CommandSpec {
                op,
                target: Some(target.into()),
                source: None,
                data: None,
                format: None,
                type_: None,
                code: None,
                options: None,
                choices: Vec::new(),
                correlator: None,
                commands: Vec::new(),
            },
            state,
            status: Some(200),
            results: Vec::new(),
            children: Vec::new(),
            session_id: None,
            created_at: id,
            updated_at: id,
        }
    }

    fn item(src: &str, format: &str, data: Option<&str>) -> ResultItem {
        ResultItem {
            source: Some(src.into()),
            format: Some(format.into()),
            type_: None,
            data: data.map(str::to_owned),
        }
    }

    fn find<'a>(n: &'a TreeNode, uri: &str) -> Option<&'a TreeNode> {
        if n.uri == uri {
            return Some(n);
        }
        n.children.iter().find_map(|c| find(c, uri))
    }

    #[test]
    fn struct_data_results_make_a_tree_and_later_commands_update_it() {
        let mut get = cmd(1, Op::Get, "./DevInfo?list=StructData", CommandState::Done);
        get.results = vec![
            item("./DevInfo", "node", Some("Mod/Man")),
            item("./DevInfo/Mod", "chr", Some("X1")),
            item("DevInfo/Man", "chr", Some("Acme")),
            item("./DevInfo/Ext/Battery", "int", Some("80")),
        ];
        let mut replace = cmd(2, Op::Replace, "./DevInfo/Mod", CommandState::Done);
        replace.spec.data = Some("X2".into());
        replace.spec.format = Some("chr".into());
        let mut queued = cmd(3, Op::Replace, "./DevInfo/Man", CommandState::Queued);
        queued.spec.data = Some("never sent".into());
        let delete = cmd(4, Op::Delete, "./DevInfo/Ext", CommandState::Done);
        let tree = build(&[get, replace, queued, delete]);

        assert_eq!(tree.uri, ".");
        let devinfo = find(&tree, "./DevInfo").unwrap();
        assert_eq!(devinfo.format.as_deref(), Some("node"));
        let names: Vec<_> = devinfo.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Man", "Mod"]);
        let m = find(&tree, "./DevInfo/Mod").unwrap();
        assert_eq!((m.data.as_deref(), m.command_id), (Some("X2"), Some(2)));
        assert_eq!(
            find(&tree, "./DevInfo/Man").unwrap().data.as_deref(),
            Some("Acme")
        );
        assert!(find(&tree, "./DevInfo/Ext").is_none());
        assert!(!tree.truncated);
    }

    #[test]
    fn the_view_is_bounded() {
        let mut get = cmd(1, Op::Get, "./A?list=Struct", CommandState::Done);
        get.results = (0..MAX_NODES + 10)
            .map(|i| item(&format!("./A/n{i}"), "chr", Some("v")))
            .collect();
        let tree = build(&[get]);
        assert!(tree.truncated);
        assert_eq!(count_nodes(&tree), MAX_NODES + 1);
    }

    fn count_nodes(n: &TreeNode) -> usize {
        1 + n.children.iter().map(count_nodes).sum::<usize>()
    }

    #[test]
    fn odd_uris_do_not_escape_the_root() {
        assert_eq!(segments("./A//B/"), ["A", "B"]);
        assert_eq!(segments("."), Vec::<&str>::new());
        assert_eq!(segments("./A?list=Struct"), ["A"]);
        assert_eq!(segments("/A/./B"), ["A", "B"]);
    }
}
