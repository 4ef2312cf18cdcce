//! DM bootstrap security (DM Security 1.2 "Bootstrap via DM", DIGEST.md §3.7): the server
//! encodes the bootstrap document (a TNDS `MgmtTree`) as WBXML, computes
//! `M = HMAC-SHA1(key, wbxml_bytes)` and sends it as 40 hex digits in the content type
//! `application/vnd.syncml.dm+wbxml; SEC=<method>; MAC=<hex>`. XML is not allowed for bootstrap.
//!
//! Server side: [`build`]. Client side: [`verify`] (the MAC only) and [`verify_and_apply`] (the
//! MAC, then the import of the document into the tree, all or nothing).
//!
//! DM Bootstrap 1.3 (DIGEST-1.3.md §6) keeps the 1.2 methods as far as the record shows; its
//! BootConfig MO is known by name only. What this module assumes about 1.3 is marked
//! PROVISIONAL and can be switched off through [`ImportPolicy`].

mod apply;
mod content_type;
mod dmacc;
mod mac;

pub use apply::{
    apply, verify_and_apply, verify_and_apply_with, ImportPolicy, BOOTCONFIG_MO_PROVISIONAL,
};
pub use content_type::{BootstrapContentType, MEDIA_TYPE, XML_MEDIA_TYPE};
pub use dmacc::dmacc_document;
pub use mac::{mac, verify, Mac, SecMethod, Secrets, MAC_HEX_LEN};

use omadm_tree::tnds::{self, MgmtTree, TndsError};
use omadm_tree::TreeError;

/// A bootstrap could not be built, verified or applied. Nothing in the tree changes on any of
/// these.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The method needs a secret that was not given.
    #[error("SEC={method} needs the {what}")]
    MissingSecret {
        /// The method.
        method: SecMethod,
        /// `network secret` or `user PIN`.
        what: &'static str,
    },
    /// A `SEC` value other than NETWORKID, USERPIN, USERPIN_NETWORKID.
    #[error("unknown bootstrap security method SEC={0:?}")]
    UnknownMethod(String),
    /// The content type is not `application/vnd.syncml.dm+wbxml`.
    #[error("content type {0:?} is not application/vnd.syncml.dm+wbxml")]
    MediaType(String),
    /// The content type or the body is XML: DM Security forbids XML for bootstrap.
    #[error("XML is not allowed for a bootstrap (WBXML only)")]
    XmlNotAllowed,
    /// A content-type parameter is missing (`SEC` or `MAC`).
    #[error("content type has no {0} parameter")]
    MissingParam(&'static str),
    /// A content-type parameter is given twice.
    #[error("content type has the {0} parameter twice")]
    DuplicateParam(&'static str),
    /// The content type's parameter list cannot be read.
    #[error("malformed content-type parameters: {0:?}")]
    BadParams(String),
    /// `MAC` is not 40 hex digits.
    #[error("MAC {0:?} is not 40 hex digits")]
    BadMacHex(String),
    /// The MAC does not match the body (wrong key, wrong method or altered body).
    #[error("MAC does not verify (wrong secret or PIN, or the document was altered)")]
    MacMismatch,
    /// The verified body is not a TNDS document.
    #[error("bootstrap document: {0}")]
    Tnds(#[from] TndsError),
    /// The document could not be added to the tree.
    #[error("bootstrap import: {0}")]
    Tree(#[from] TreeError),
    /// The document holds nothing to import.
    #[error("bootstrap document holds no management object")]
    Empty,
}

/// Server side: encodes `doc` as WBXML (`omadm_tree::tnds::to_wbxml`) and computes its MAC.
/// Returns the body and the full `Content-Type` value to send with it.
pub fn build(
    doc: &MgmtTree,
    method: SecMethod,
    secrets: &Secrets<'_>,
) -> Result<(Vec<u8>, String), BootstrapError> {
    let wbxml = tnds::to_wbxml(doc);
    let mac = Mac::compute(method, secrets, &wbxml)?;
    let ct = BootstrapContentType { sec: method, mac };
    Ok((wbxml, ct.to_string()))
}
