//! The TNDS object model: the elements of TNDS 1.2 §9.2.3, nothing of the DDF-only ones.

use crate::format::NodeFormat;

/// `MgmtTree := VerDTD, Man?, Mod?, Node+` (TNDS 1.2 §9.2.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MgmtTree {
    /// `VerDTD`; "1.2" for TNDS 1.2 ([`super::VER_DTD`]). Read as given, not checked.
    pub ver_dtd: String,
    /// `Man`: manufacturer of the device the object was made from.
    pub man: Option<String>,
    /// `Mod`: model of that device.
    pub mod_: Option<String>,
    /// The top-level `Node`s; at least one in a document.
    pub nodes: Vec<TndsNode>,
}

impl Default for MgmtTree {
    /// VerDTD 1.2, no Man/Mod, no nodes.
    fn default() -> Self {
        MgmtTree {
            ver_dtd: super::VER_DTD.to_owned(),
            man: None,
            mod_: None,
            nodes: Vec::new(),
        }
    }
}

/// `Node := NodeName, Path?, RTProperties, (Node* | Value?)` (TNDS 1.2 §9.2.3.1.5).
///
/// A node with a Value ends the recursion; one with neither Value nor children continues in a
/// later top-level Node whose Path leads to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TndsNode {
    /// `NodeName`. `None`: the element is omitted and the client places the structure by Type;
    /// `Some("")`: the name is assigned at creation (the last segment of the command's target).
    pub node_name: Option<String>,
    /// `Path`: the URI up to, not including, this node, relative to the command's target.
    pub path: Option<String>,
    /// `RTProperties`.
    pub rt: RtProperties,
    /// `Value`: the node value bytes (decoded from base64 when Format is `bin`). `Some(vec![])`
    /// is an empty `<Value/>`.
    pub value: Option<Vec<u8>>,
    /// Child `Node`s.
    pub children: Vec<TndsNode>,
}

/// `RTProperties := ACL?, Format?, Name?, Size?, Title?, TStamp?, Type, VerNo?` (TND 1.2
/// properties, DIGEST §5.3). Values are the property strings as carried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RtProperties {
    /// `ACL`, e.g. `Add=*&Get=*`; `Some("")` is an empty ACL.
    pub acl: Option<String>,
    /// `Format`: one of the EMPTY format elements, `<Format><chr/></Format>`.
    pub format: Option<NodeFormat>,
    /// `Name`.
    pub name: Option<String>,
    /// `Size`: bytes of the (decoded) value.
    pub size: Option<String>,
    /// `Title`.
    pub title: Option<String>,
    /// `TStamp`, e.g. `20010711T163817Z`.
    pub tstamp: Option<String>,
    /// `Type`: MIME type of a leaf, MO identifier (or empty) of an interior node.
    pub type_: Option<NodeType>,
    /// `VerNo`.
    pub verno: Option<String>,
}

impl RtProperties {
    /// No property given: written as an empty `<RTProperties/>`.
    pub fn is_empty(&self) -> bool {
        *self == RtProperties::default()
    }
}

/// `Type := MIME | DDFName`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// `<Type><MIME>text/plain</MIME></Type>`: a leaf's MIME type.
    Mime(String),
    /// `<Type><DDFName>urn:oma:mo:oma-dm-dmacc:1.0</DDFName></Type>`: an interior node's MO
    /// identifier; empty for an interior node of no MO.
    DdfName(String),
}

impl NodeType {
    /// The type string, whichever element carries it.
    pub fn as_str(&self) -> &str {
        match self {
            NodeType::Mime(s) | NodeType::DdfName(s) => s,
        }
    }
}
