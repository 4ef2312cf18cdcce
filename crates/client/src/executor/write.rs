//! Add, Replace, Delete and Copy (DM RepPro 1.2 §4.1, DIGEST.md §2.3).

use omadm_syncml::{Item, Meta};
use omadm_tree::format::NodeFormat;
use omadm_tree::uri::{self, Query};

use super::item::{self, ItemMeta};
use super::{Executor, ItemAnswer};

/// 200 when a tree operation succeeds, its status code otherwise.
fn done<T>(r: Result<T, omadm_tree::TreeError>) -> Result<ItemAnswer, u16> {
    r.map(|_| ItemAnswer::from(200)).map_err(|e| e.status())
}

impl Executor<'_> {
    /// Add: creates the node (Meta Format states its kind; chr when absent) or, with a TNDS Meta
    /// Type, every node of the object, all or nothing. An Add on a `?prop=`/`?list=` URI is 405:
    /// properties are created with their node.
    pub(super) fn add_item(&mut self, meta: Option<&Meta>, it: &Item) -> Result<ItemAnswer, u16> {
        let uri = item::target(it)?;
        if uri.contains('?') {
            return Err(405);
        }
        let m = ItemMeta::of(meta, it);
        let caller = self.caller();
        if m.is_tnds() {
            let obj = item::tnds_object(it)?;
            return done(self.tree.import_tnds(caller, uri, &obj));
        }
        let format = m.node_format()?.unwrap_or(NodeFormat::Chr);
        done(self.tree.add(caller, uri, format, m.type_, item::value(it)))
    }

    /// Replace: a leaf's value (Format and Type change only when Meta gives them), a whole
    /// subtree with a TNDS Meta Type, or a property with `?prop=ACL|Name|Title` (TND §5.3; the
    /// tree answers 405 for the others). Never creates (404).
    pub(super) fn replace_item(
        &mut self,
        meta: Option<&Meta>,
        it: &Item,
    ) -> Result<ItemAnswer, u16> {
        let uri = item::target(it)?;
        let caller = self.caller();
        if let Some((path, _)) = uri.split_once('?') {
            let parsed = uri::parse(uri, &self.tree.limits()).map_err(|e| e.status())?;
            return match parsed.query {
                Some(Query::Prop(p)) => {
                    done(self.tree.replace_prop(caller, path, p, item::text(it)?))
                }
                _ => Err(405),
            };
        }
        let m = ItemMeta::of(meta, it);
        if m.is_tnds() {
            let obj = item::tnds_object(it)?;
            return done(self.tree.replace_tnds(caller, uri, &obj));
        }
        let format = m.node_format()?;
        done(
            self.tree
                .replace(caller, uri, format, m.type_, item::value(it)),
        )
    }

    /// Delete: the node and its subtree.
    pub(super) fn delete_item(&mut self, it: &Item) -> Result<ItemAnswer, u16> {
        let uri = item::target(it)?;
        if uri.contains('?') {
            return Err(405);
        }
        let caller = self.caller();
        done(self.tree.delete(caller, uri))
    }

    /// Copy: Source is the original, Target the new node (DM RepPro Copy).
    pub(super) fn copy_item(&mut self, it: &Item) -> Result<ItemAnswer, u16> {
        let to = item::target(it)?;
        let from = item::source(it)?;
        if to.contains('?') || from.contains('?') {
            return Err(405);
        }
        let caller = self.caller();
        done(self.tree.copy(caller, from, to))
    }
}
