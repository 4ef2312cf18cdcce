//! Decoder limits, in one place.

/// Bounds on what [`super::from_xml`] / [`super::from_wbxml`] accept. Exceeding one is
/// [`super::ErrorKind::LimitExceeded`] naming it (status 413), never a panic or an unbounded
/// allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TndsLimits {
    /// Largest document, in bytes. Default 32 MiB, the largest `Data` a DM message carries by
    /// default (a TNDS object travels as one Item's Data).
    pub max_bytes: usize,
    /// Deepest `Node` nesting; top-level Nodes are depth 1. Default 32, several times the depth
    /// of the standard objects. Element nesting may exceed it by 4 (`MgmtTree` above, and
    /// `RTProperties` > `Format` > `chr` below a node). The decoder recurses once per level, so
    /// keep this in the hundreds at most.
    pub max_depth: usize,
    /// Most `Node` elements in one document. Default 100 000.
    pub max_nodes: usize,
    /// Longest `Value`, in bytes after base64 decoding of `bin` values. Default 16 MiB.
    pub max_value_len: usize,
}

impl Default for TndsLimits {
    fn default() -> Self {
        TndsLimits {
            max_bytes: 32 << 20,
            max_depth: 32,
            max_nodes: 100_000,
            max_value_len: 16 << 20,
        }
    }
}

impl TndsLimits {
    /// Elements below a Node's own level: `RTProperties` > `Format` > `chr`, plus `MgmtTree`.
    pub(crate) const ELEMENT_SLACK: usize = 4;

    /// Deepest element nesting a document within `max_depth` can need.
    pub(crate) fn max_element_depth(&self) -> usize {
        self.max_depth.saturating_add(Self::ELEMENT_SLACK)
    }
}
