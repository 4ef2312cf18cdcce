//! `Meta`: the MetInf elements DM uses (MetInf 1.2, DIGEST.md §2.6).

/// `Meta` holding MetInf elements. Values are the text sent (trimmed); typed accessors parse them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// `Format`: `b64`, `bin`, `bool`, `chr`, `int`, `node`, `null`, `xml`, `date`, `time`, `float`.
    pub format: Option<String>,
    /// `Type`: MIME type, auth scheme, MO identifier or Generic Alert type.
    pub type_: Option<String>,
    /// `Mark`: Generic Alert severity.
    pub mark: Option<String>,
    /// `Size`: byte size of the whole object (first chunk of a large object) or of Data.
    pub size: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `NextNonce`: b64 nonce for the next credential.
    pub next_nonce: Option<String>,
    /// `MaxMsgSize`: largest message the sender accepts.
    pub max_msg_size: Option<String>,
    /// `MaxObjSize`: largest object the sender accepts.
    pub max_obj_size: Option<String>,
    /// `EMI`: vendor extensions, in order.
    pub emi: Vec<String>,
    /// `Mem`.
    pub mem: Option<Mem>,
}

/// `Mem := SharedMem?, FreeMem, FreeID`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mem {
    /// `SharedMem` present.
    pub shared_mem: bool,
    /// `FreeMem`.
    pub free_mem: Option<String>,
    /// `FreeID`.
    pub free_id: Option<String>,
}

fn num(v: &Option<String>) -> Option<u64> {
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
            format: Some(format.to_owned()),
            type_: Some(type_.to_owned()),
            ..Meta::default()
        }
    }
    /// True when no element is set (written as an empty `<Meta/>`).
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }
}
