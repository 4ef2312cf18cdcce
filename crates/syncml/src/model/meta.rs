//! `Meta`: the MetInf elements DM uses (MetInf 1.2, DIGEST.md §2.6).

use compact_str::CompactString;
/// `Meta` holding MetInf elements. Values are the text sent (trimmed); typed accessors parse them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// `Format`: `b64`, `bin`, `bool`, `chr`, `int`, `node`, `null`, `xml`, `date`, `time`, `float`.
    pub format: Option<CompactString>,
    /// `Type`: MIME type, auth scheme, MO identifier or Generic Alert type.
    pub type_: Option<CompactString>,
    /// `Mark`: Generic Alert severity.
    pub mark: Option<CompactString>,
    /// `Size`: byte size of the whole object (first chunk of a large object) or of Data.
    pub size: Option<CompactString>,
    /// `Version`.
    pub version: Option<CompactString>,
    /// `NextNonce`: b64 nonce for the next credential.
    pub next_nonce: Option<CompactString>,
    /// `MaxMsgSize`: largest message the sender accepts.
    pub max_msg_size: Option<CompactString>,
    /// `MaxObjSize`: largest object the sender accepts.
    pub max_obj_size: Option<CompactString>,
    /// `EMI`: vendor extensions, in order.
    pub emi: Vec<CompactString>,
    /// `Mem`.
    pub mem: Option<Mem>,
}

/// `Mem := SharedMem?, FreeMem, FreeID`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mem {
    /// `SharedMem` present.
    pub shared_mem: bool,
    /// `FreeMem`.
    pub free_mem: Option<CompactString>,
    /// `FreeID`.
    pub free_id: Option<CompactString>,
}

fn num(v: &Option<CompactString>) -> Option<u64> {
    v.as_deref().and_then(|s| s.trim().parse().ok())
}

impl Meta {
    /// `Size` as a number, when present and decimal.
    pub fn size_value(&self) -> Option<u64> {
        num(&self.size)
    }
    /// `MaxMsgSize` as a number, when present and decimal.
    pub fn max_msg_size_value(&self) -> Option<u64> {
        num(&self.max_msg_size)
    }
    /// `MaxObjSize` as a number, when present and decimal.
    pub fn max_obj_size_value(&self) -> Option<u64> {
        num(&self.max_obj_size)
    }
    /// A Meta with Format and Type set.
    pub fn format_type(format: &str, type_: &str) -> Meta {
        Meta {
            format: Some(format.into()),
            type_: Some(type_.into()),
            ..Meta::default()
        }
    }
    /// True when no element is set (written as an empty `<Meta/>`).
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }
}
