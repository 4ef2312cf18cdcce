//! Typed SyncML DM messages, read and written as XML and as WBXML.
//!
//! A [`Message`] is the whole of one SyncML DM message: [`SyncHdr`] and [`SyncBody`] with its
//! [`Command`]s in document order. One mapping turns element events into the model and the model
//! into element events; the XML reader/writer (on quick-xml) and the WBXML reader/writer (on
//! `omadm-wbxml`) only translate between bytes and those events, so both encodings agree by
//! construction. Readers are tolerant of what real peers send (metinf prefixes and misspelt
//! namespaces, opaque CmdIDs, whitespace around LocURI, children out of DTD order) and strict
//! where safety needs it (no DTD processing, no entities beyond XML's five and numeric references,
//! every size bounded by [`Limits`]). Writers are generic over an output, so the exact encoded size
//! of a message ([`Message::encoded_len`]) is computed by the same code with a byte counter.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod codes;
mod decode;
mod encode;
mod error;
mod event;
mod limits;
mod model;
mod tag;
mod wbxml;
mod xml;

pub mod pkg0;
pub mod push;

pub use codec::{Encoding, WbxmlOptions};
pub use codes::{AlertCode, StatusCode};
pub use compact_str::CompactString;
pub use error::{DecodeError, EncodeError, ErrorKind, Position};
pub use limits::Limits;
pub use model::*;
pub use tag::Tag;
pub use xml::writer::XmlOptions;
