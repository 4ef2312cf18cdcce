//! TNDS, the Tree and Description Serialization (OMA DM TNDS 1.2; DIGEST §6): a management
//! subtree as a `MgmtTree` document of the DM DDF 1.2 DTD, in XML
//! (`application/vnd.syncml.dmtnds+xml`, namespace `syncml:dmddf1.2`) or WBXML
//! (`application/vnd.syncml.dmtnds+wbxml`: literal FPI `-//OMA//DTD-DM-DDF 1.2//EN` in the
//! string table, tags on code page 2).
//!
//! [`from_xml`] / [`from_wbxml`] / [`decode`] read a document into a [`MgmtTree`];
//! [`to_xml`] / [`to_wbxml`] write one. Each direction is written once over element events
//! (the XML and WBXML modules only turn bytes into events and back), so both encodings accept and
//! produce the same trees.
//!
//! Reading is tolerant where the spec leaves room and strict where a guess would change meaning:
//! - Elements may come in any order; the writers use the DTD order.
//! - `RTProperties`, mandatory in TNDS (DIGEST §6), may be missing: the node gets empty
//!   properties. The writers always write it.
//! - `NodeName` may be missing (the client places the structure by `Type`, [`TndsNode::node_name`]
//!   `None`) or empty (`Some("")`: the name is assigned at creation).
//! - `DFProperties` (DDF, not TNDS) is skipped unread, so a DDF file reads as its tree.
//! - `<Type/>` without `MIME` or `DDFName` reads as an empty `DDFName` (an interior node of no
//!   MO); `Format` must hold exactly one EMPTY format element, an unknown one is refused.
//! - A `Value` holds text only (XML values with markup must be escaped or in CDATA). For a `bin`
//!   node the text is base64 (line breaks allowed) and the model holds the decoded bytes; a WBXML
//!   `bin` value may also be OPAQUE raw bytes. Whitespace is kept exactly in text elements and
//!   ignored between elements.
//! - Unknown elements, duplicates, text between elements, a Node with both `Value` and child
//!   Nodes, a missing `VerDTD` or no `Node` at all are errors. Values are not checked against
//!   their Format here; [`crate::format::NodeFormat::validate`] does that at import.
//! - XML: no DTD processing (the DOCTYPE is skipped; only the five XML entities and character
//!   references exist), an XML declaration only at the very start. WBXML: any version 1.0-1.3,
//!   any public id (numeric, or literal in the string table), UTF-8 or US-ASCII.
//!
//! DM statuses ([`TndsError::status`]): a malformed document is 400 (Bad request); an unknown
//! Format element, a WBXML version or charset we do not read, or bytes that are neither XML nor
//! WBXML are 415 (Unsupported media type or format, as for a device without TNDS support,
//! DM RepPro §4.1 Add/Replace); a [`TndsLimits`] bound is 413 (Request entity too large); a tree
//! that cannot be written as XML is 500 (Command failed).

mod decode;
mod encode;
mod error;
mod limits;
mod model;
mod tag;
mod wbxml;
mod xml;

pub use error::{ErrorKind, Position, TndsError};
pub use limits::TndsLimits;
pub use model::{MgmtTree, NodeType, RtProperties, TndsNode};
pub use wbxml::{from_wbxml, to_wbxml};
pub use xml::{from_xml, to_xml};

/// The DTD's formal public identifier (no numeric WBXML public id exists; DIGEST §1.3).
pub const FPI: &str = "-//OMA//DTD-DM-DDF 1.2//EN";
/// XML namespace of the DDF/TNDS elements, written on `MgmtTree`.
pub const NAMESPACE: &str = "syncml:dmddf1.2";
/// `VerDTD` of TNDS 1.2 ("the value MUST be 1.2").
pub const VER_DTD: &str = "1.2";
/// Meta Type of an XML TNDS object.
pub const MIME_XML: &str = "application/vnd.syncml.dmtnds+xml";
/// Meta Type of a WBXML TNDS object.
pub const MIME_WBXML: &str = "application/vnd.syncml.dmtnds+wbxml";
/// WBXML code page of the DDF/TNDS tags (DIGEST §1.7).
pub const CODE_PAGE: u8 = 2;

/// Decodes XML or WBXML, told apart by the first byte: 0x00-0x03 is a WBXML version byte;
/// `<`, a UTF-8 byte order mark or whitespace starts XML. Anything else is
/// [`ErrorKind::UnknownEncoding`] (415).
pub fn decode(bytes: &[u8], limits: &TndsLimits) -> Result<MgmtTree, TndsError> {
    match bytes.first() {
        None => Err(TndsError::new(None, ErrorKind::Empty)),
        Some(0x00..=0x03) => from_wbxml(bytes, limits),
        Some(b'<' | 0xEF | b' ' | b'\t' | b'\r' | b'\n') => from_xml(bytes, limits),
        Some(&first) => Err(TndsError::new(
            Some(Position::Byte(0)),
            ErrorKind::UnknownEncoding { first },
        )),
    }
}
