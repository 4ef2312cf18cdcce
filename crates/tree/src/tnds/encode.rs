//! [`MgmtTree`] → element calls in DTD order, written once for XML and WBXML.
//!
//! The writers do not validate the model: they write what it holds (a Node with both Value and
//! children gets both, which readers refuse).

use super::model::{MgmtTree, NodeType, RtProperties, TndsNode};
use super::tag::Tag;
use crate::format::NodeFormat;

/// What the XML and WBXML writers implement.
pub(crate) trait Sink {
    type Error;
    /// Start tag of an element with content.
    fn open(&mut self, tag: Tag);
    /// End tag of the innermost element opened with [`Sink::open`].
    fn close(&mut self, tag: Tag);
    /// An element without content.
    fn empty(&mut self, tag: Tag);
    /// An element holding `text` (empty when `text` is).
    fn text(&mut self, tag: Tag, text: &str) -> Result<(), Self::Error>;
    /// A `Value` element holding `value`; `bin` when the node's Format is `bin`.
    fn value(&mut self, value: &[u8], bin: bool) -> Result<(), Self::Error>;
}

pub(crate) fn encode<S: Sink>(tree: &MgmtTree, sink: &mut S) -> Result<(), S::Error> {
    sink.open(Tag::MgmtTree);
    sink.text(Tag::VerDTD, &tree.ver_dtd)?;
    if let Some(man) = &tree.man {
        sink.text(Tag::Man, man)?;
    }
    if let Some(m) = &tree.mod_ {
        sink.text(Tag::Mod, m)?;
    }
    for node in &tree.nodes {
        encode_node(node, sink)?;
    }
    sink.close(Tag::MgmtTree);
    Ok(())
}

/// `Node := NodeName, Path?, RTProperties, (Node* | Value?)`.
fn encode_node<S: Sink>(node: &TndsNode, sink: &mut S) -> Result<(), S::Error> {
    sink.open(Tag::Node);
    if let Some(name) = &node.node_name {
        sink.text(Tag::NodeName, name)?;
    }
    if let Some(path) = &node.path {
        sink.text(Tag::Path, path)?;
    }
    encode_rt(&node.rt, sink)?;
    if let Some(value) = &node.value {
        sink.value(value, node.rt.format == Some(NodeFormat::Bin))?;
    }
    for child in &node.children {
        encode_node(child, sink)?;
    }
    sink.close(Tag::Node);
    Ok(())
}

/// `RTProperties := ACL?, Format?, Name?, Size?, Title?, TStamp?, Type, VerNo?`; always
/// written, as TNDS requires.
fn encode_rt<S: Sink>(rt: &RtProperties, sink: &mut S) -> Result<(), S::Error> {
    if rt.is_empty() {
        sink.empty(Tag::RTProperties);
        return Ok(());
    }
    sink.open(Tag::RTProperties);
    if let Some(acl) = &rt.acl {
        sink.text(Tag::Acl, acl)?;
    }
    if let Some(f) = rt.format {
        sink.open(Tag::Format);
        sink.empty(Tag::Fmt(f));
        sink.close(Tag::Format);
    }
    for (tag, v) in [
        (Tag::Name, &rt.name),
        (Tag::Size, &rt.size),
        (Tag::Title, &rt.title),
        (Tag::TStamp, &rt.tstamp),
    ] {
        if let Some(v) = v {
            sink.text(tag, v)?;
        }
    }
    if let Some(t) = &rt.type_ {
        sink.open(Tag::Type);
        match t {
            NodeType::Mime(s) => sink.text(Tag::Mime, s)?,
            NodeType::DdfName(s) => sink.text(Tag::DdfName, s)?,
        }
        sink.close(Tag::Type);
    }
    if let Some(v) = &rt.verno {
        sink.text(Tag::VerNo, v)?;
    }
    sink.close(Tag::RTProperties);
    Ok(())
}
