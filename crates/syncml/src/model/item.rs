//! `Item := Target?, Source?, Meta?, Data?, MoreData?`.

use super::{data::Data, hdr::Location, meta::Meta};
use compact_str::CompactString;

/// One `Item` of a command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Item {
    /// `Target`.
    pub target: Option<Location>,
    /// `Source`.
    pub source: Option<Location>,
    /// `Meta`.
    pub meta: Option<Meta>,
    /// `Data`, kept as it was sent.
    pub data: Option<Data>,
    /// `MoreData`: DM Protocol 1.3 §8 — a chunk other than the last of a large object.
    pub more_data: bool,
}

impl Item {
    /// An item addressed to `uri`.
    pub fn target(uri: impl Into<CompactString>) -> Item {
        Item {
            target: Some(Location::new(uri)),
            ..Item::default()
        }
    }
    /// An item whose source is `uri`.
    pub fn source(uri: impl Into<CompactString>) -> Item {
        Item {
            source: Some(Location::new(uri)),
            ..Item::default()
        }
    }
}
