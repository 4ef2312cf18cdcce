//! `Meta`: the MetInf elements DM uses (MetInf 1.2, DIGEST.md §2.6).
//!
//! Nearly every Meta a DM peer sends holds only Format and Type, so those two live inline and the
//! other MetInf elements sit behind one box ([`MetaMore`]): a Meta costs 56 bytes and no
//! allocation in the common case (docs/performance.md).

use compact_str::CompactString;

/// `Meta` holding MetInf elements. Values are the text sent (trimmed); typed accessors parse them.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    /// `Format`: `b64`, `bin`, `bool`, `chr`, `int`, `node`, `null`, `xml`, `date`, `time`, `float`.
    pub format: Option<CompactString>,
    /// `Type`: MIME type, auth scheme, MO identifier or Generic Alert type.
    pub type_: Option<CompactString>,
    /// The other MetInf elements, when any is present.
    pub more: Option<Box<MetaMore>>,
}

/// The MetInf elements other than Format and Type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetaMore {
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

fn num(v: Option<&str>) -> Option<u64> {
    v.and_then(|s| s.trim().parse().ok())
}

impl Meta {
    fn more_ref(&self) -> Option<&MetaMore> {
        self.more.as_deref()
    }

    /// The other MetInf elements, created empty when absent (for setting them).
    pub fn more_mut(&mut self) -> &mut MetaMore {
        self.more.get_or_insert_with(Box::default)
    }

    /// `Mark`.
    pub fn mark(&self) -> Option<&str> {
        self.more_ref().and_then(|m| m.mark.as_deref())
    }
    /// `Size`.
    pub fn size(&self) -> Option<&str> {
        self.more_ref().and_then(|m| m.size.as_deref())
    }
    /// `Version`.
    pub fn version(&self) -> Option<&str> {
        self.more_ref().and_then(|m| m.version.as_deref())
    }
    /// `NextNonce`.
    pub fn next_nonce(&self) -> Option<&str> {
        self.more_ref().and_then(|m| m.next_nonce.as_deref())
    }
    /// `MaxMsgSize`.
    pub fn max_msg_size(&self) -> Option<&str> {
        self.more_ref().and_then(|m| m.max_msg_size.as_deref())
    }
    /// `MaxObjSize`.
    pub fn max_obj_size(&self) -> Option<&str> {
        self.more_ref().and_then(|m| m.max_obj_size.as_deref())
    }
    /// `EMI` elements, in order.
    pub fn emi(&self) -> &[CompactString] {
        self.more_ref().map_or(&[], |m| m.emi.as_slice())
    }
    /// `Mem`.
    pub fn mem(&self) -> Option<&Mem> {
        self.more_ref().and_then(|m| m.mem.as_ref())
    }

    /// `Size` as a number, when present and decimal.
    pub fn size_value(&self) -> Option<u64> {
        num(self.size())
    }
    /// `MaxMsgSize` as a number, when present and decimal.
    pub fn max_msg_size_value(&self) -> Option<u64> {
        num(self.max_msg_size())
    }
    /// `MaxObjSize` as a number, when present and decimal.
    pub fn max_obj_size_value(&self) -> Option<u64> {
        num(self.max_obj_size())
    }

    /// A Meta with Format and Type set.
    pub fn format_type(format: &str, type_: &str) -> Meta {
        Meta {
            format: Some(format.into()),
            type_: Some(type_.into()),
            more: None,
        }
    }

    /// This Meta with `NextNonce` set (as a Chal carries it).
    pub fn with_next_nonce(mut self, nonce: impl Into<CompactString>) -> Meta {
        self.more_mut().next_nonce = Some(nonce.into());
        self
    }

    /// True when no element is set (written as an empty `<Meta/>`).
    pub fn is_empty(&self) -> bool {
        self.format.is_none() && self.type_.is_none() && self.more_is_empty()
    }

    fn more_is_empty(&self) -> bool {
        self.more_ref().is_none_or(|m| *m == MetaMore::default())
    }
}

/// An absent [`MetaMore`] equals an empty one: both write the same elements.
impl PartialEq for Meta {
    fn eq(&self, other: &Meta) -> bool {
        self.format == other.format
            && self.type_ == other.type_
            && match (self.more_ref(), other.more_ref()) {
                (Some(a), Some(b)) => a == b,
                _ => self.more_is_empty() && other.more_is_empty(),
            }
    }
}

impl Eq for Meta {}
