//! `DIR/tree-updates.json`: leaf values set by background jobs (a FUMO `State`), waiting to be
//! applied to the tree by the next holder of the tree lock (see the [module doc](super) for why
//! jobs never write `tree.bin` themselves).

use omadm_tree::{Caller, Tree};
use serde::{Deserialize, Serialize};

/// "Set the leaf `uri` to `value`", as the device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeUpdate {
    /// Increasing within the directory: updates apply in this order.
    pub seq: u64,
    /// The leaf, e.g. `./FUMO/1/State`.
    pub uri: String,
    /// Its new value (text).
    pub value: String,
}

impl TreeUpdate {
    /// Applies the update as the device (no ACL); a leaf that no longer exists (its MO was
    /// deleted meanwhile) is an error the caller may skip.
    pub fn apply(&self, tree: &mut Tree) -> Result<(), omadm_tree::TreeError> {
        tree.replace(Caller::Device, &self.uri, None, None, self.value.as_bytes())
    }
}

/// The file: the next sequence number and the updates, in order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct UpdateFile {
    pub next_seq: u64,
    pub updates: Vec<TreeUpdate>,
}
