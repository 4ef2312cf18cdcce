//! What an Item says: its target, its value and the Format and Type it claims.

use omadm_syncml::{Data, Item, Meta};
use omadm_tree::format::NodeFormat;
use omadm_tree::tnds::{self, MgmtTree, TndsLimits};

/// The Item's Meta over the command's, element by element (RepPro: a command's Meta applies to
/// every Item that does not say otherwise).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ItemMeta<'m> {
    pub format: Option<&'m str>,
    pub type_: Option<&'m str>,
}

impl<'m> ItemMeta<'m> {
    pub fn of(cmd: Option<&'m Meta>, item: &'m Item) -> ItemMeta<'m> {
        let pick = |f: fn(&'m Meta) -> Option<&'m str>| {
            item.meta
                .as_ref()
                .and_then(f)
                .or_else(|| cmd.and_then(f))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        ItemMeta {
            format: pick(|m| m.format.as_deref()),
            type_: pick(|m| m.type_.as_deref()),
        }
    }

    /// The node Format named by Meta Format; an unknown name is 415 (TND 1.2 "Format").
    pub fn node_format(&self) -> Result<Option<NodeFormat>, u16> {
        self.format
            .map(|f| NodeFormat::from_name(f).ok_or(415))
            .transpose()
    }

    /// Meta Type names a TNDS object (DM RepPro Add/Replace, DIGEST.md §2.3).
    pub fn is_tnds(&self) -> bool {
        matches!(self.type_, Some(tnds::MIME_XML | tnds::MIME_WBXML))
    }
}

/// The Item's Target LocURI; 400 (Bad request) without one.
pub(super) fn target(item: &Item) -> Result<&str, u16> {
    item.target
        .as_ref()
        .map(|l| l.loc_uri.as_str())
        .filter(|u| !u.is_empty())
        .ok_or(400)
}

/// The Item's Source LocURI; 400 (Bad request) without one.
pub(super) fn source(item: &Item) -> Result<&str, u16> {
    item.source
        .as_ref()
        .map(|l| l.loc_uri.as_str())
        .filter(|u| !u.is_empty())
        .ok_or(400)
}

/// The value as received: no Data is the empty value.
pub(super) fn value(item: &Item) -> &[u8] {
    item.data.as_ref().map_or(&[], Data::as_bytes)
}

/// The value as text (a property value); 400 when it is not UTF-8.
pub(super) fn text(item: &Item) -> Result<&str, u16> {
    std::str::from_utf8(value(item)).map_err(|_| 400)
}

/// The Item's Data as a TNDS object: XML text, or a nested WBXML document in OPAQUE. A
/// malformed object is 400, an unreadable encoding 415, a limit 413 ([`tnds::TndsError::status`]).
pub(super) fn tnds_object(item: &Item) -> Result<MgmtTree, u16> {
    tnds::decode(value(item), &TndsLimits::default()).map_err(|e| e.status())
}

/// Data for a value read from the tree: text when it is UTF-8 and not `bin`, OPAQUE bytes
/// otherwise.
pub(super) fn data_for(format: NodeFormat, bytes: Vec<u8>) -> Data {
    if format == NodeFormat::Bin {
        return Data::Opaque(bytes);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Data::Text(s.into()),
        Err(e) => Data::Opaque(e.into_bytes()),
    }
}
