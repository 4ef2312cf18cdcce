//! The DDF elements TNDS reads or writes, with their names and code page 2 tokens (DIGEST §1.7).

use omadm_wbxml::tables::DMDDF_12;

use crate::format::NodeFormat;

/// An element of the DM DDF 1.2 DTD that TNDS uses (plus `DFProperties`, which it skips).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    MgmtTree,
    VerDTD,
    Man,
    Mod,
    Node,
    NodeName,
    Path,
    RTProperties,
    DFProperties,
    Value,
    Acl,
    Format,
    Name,
    Size,
    Title,
    TStamp,
    Type,
    VerNo,
    Mime,
    DdfName,
    /// A format element inside `Format`: `<b64/>`, `<node/>`, ...
    Fmt(NodeFormat),
}

impl Tag {
    /// The XML element name (case-sensitive: `Node` is an element, `node` a format).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tag::MgmtTree => "MgmtTree",
            Tag::VerDTD => "VerDTD",
            Tag::Man => "Man",
            Tag::Mod => "Mod",
            Tag::Node => "Node",
            Tag::NodeName => "NodeName",
            Tag::Path => "Path",
            Tag::RTProperties => "RTProperties",
            Tag::DFProperties => "DFProperties",
            Tag::Value => "Value",
            Tag::Acl => "ACL",
            Tag::Format => "Format",
            Tag::Name => "Name",
            Tag::Size => "Size",
            Tag::Title => "Title",
            Tag::TStamp => "TStamp",
            Tag::Type => "Type",
            Tag::VerNo => "VerNo",
            Tag::Mime => "MIME",
            Tag::DdfName => "DDFName",
            Tag::Fmt(f) => f.as_str(),
        }
    }

    /// The element named `name`, if TNDS uses it.
    pub(crate) fn from_name(name: &[u8]) -> Option<Tag> {
        Some(match name {
            b"MgmtTree" => Tag::MgmtTree,
            b"VerDTD" => Tag::VerDTD,
            b"Man" => Tag::Man,
            b"Mod" => Tag::Mod,
            b"Node" => Tag::Node,
            b"NodeName" => Tag::NodeName,
            b"Path" => Tag::Path,
            b"RTProperties" => Tag::RTProperties,
            b"DFProperties" => Tag::DFProperties,
            b"Value" => Tag::Value,
            b"ACL" => Tag::Acl,
            b"Format" => Tag::Format,
            b"Name" => Tag::Name,
            b"Size" => Tag::Size,
            b"Title" => Tag::Title,
            b"TStamp" => Tag::TStamp,
            b"Type" => Tag::Type,
            b"VerNo" => Tag::VerNo,
            b"MIME" => Tag::Mime,
            b"DDFName" => Tag::DdfName,
            other => Tag::Fmt(NodeFormat::from_name(std::str::from_utf8(other).ok()?)?),
        })
    }

    /// The element of code page 2 token `token`, with its name when TNDS does not use it.
    pub(crate) fn from_token(token: u8) -> Result<Tag, Option<&'static str>> {
        let name = DMDDF_12.tag_name(super::CODE_PAGE, token).ok_or(None)?;
        Tag::from_name(name.as_bytes()).ok_or(Some(name))
    }

    /// The code page 2 token (DIGEST §1.7; checked against `omadm_wbxml::tables::DMDDF_12` by
    /// a test).
    pub(crate) fn token(self) -> u8 {
        match self {
            Tag::Acl => 0x06,
            Tag::DdfName => 0x11,
            Tag::DFProperties => 0x16,
            Tag::Format => 0x1C,
            Tag::Man => 0x1F,
            Tag::MgmtTree => 0x20,
            Tag::Mime => 0x21,
            Tag::Mod => 0x22,
            Tag::Name => 0x23,
            Tag::Node => 0x24,
            Tag::NodeName => 0x26,
            Tag::Path => 0x2C,
            Tag::RTProperties => 0x2F,
            Tag::Size => 0x31,
            Tag::Title => 0x33,
            Tag::TStamp => 0x34,
            Tag::Type => 0x35,
            Tag::Value => 0x36,
            Tag::VerDTD => 0x37,
            Tag::VerNo => 0x38,
            Tag::Fmt(f) => match f {
                NodeFormat::B64 => 0x08,
                NodeFormat::Bin => 0x09,
                NodeFormat::Bool => 0x0A,
                NodeFormat::Chr => 0x0B,
                NodeFormat::Date => 0x10,
                NodeFormat::Float => 0x1B,
                NodeFormat::Int => 0x1E,
                NodeFormat::Node => 0x25,
                NodeFormat::Null => 0x27,
                NodeFormat::Time => 0x32,
                NodeFormat::Xml => 0x39,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: [Tag; 20] = [
        Tag::MgmtTree,
        Tag::VerDTD,
        Tag::Man,
        Tag::Mod,
        Tag::Node,
        Tag::NodeName,
        Tag::Path,
        Tag::RTProperties,
        Tag::DFProperties,
        Tag::Value,
        Tag::Acl,
        Tag::Format,
        Tag::Name,
        Tag::Size,
        Tag::Title,
        Tag::TStamp,
        Tag::Type,
        Tag::VerNo,
        Tag::Mime,
        Tag::DdfName,
    ];

    #[test]
    fn tokens_and_names_match_the_dmddf_table_on_page_2() {
        let all = PLAIN
            .into_iter()
            .chain(NodeFormat::ALL.into_iter().map(Tag::Fmt));
        for tag in all {
            assert_eq!(
                DMDDF_12.tag_name(2, tag.token()),
                Some(tag.name()),
                "{tag:?}"
            );
            assert_eq!(Tag::from_name(tag.name().as_bytes()), Some(tag));
            assert_eq!(Tag::from_token(tag.token()), Ok(tag));
        }
        assert_eq!(Tag::from_token(0x05), Err(Some("AccessType")));
        assert_eq!(Tag::from_token(0x3F), Err(None));
        assert_eq!(Tag::from_name(b"node"), Some(Tag::Fmt(NodeFormat::Node)));
        assert_eq!(Tag::from_name(b"Acl"), None);
    }
}
