//! The SyncML element vocabulary: every element of SyncML RepPro 1.2 (WBXML code page 0) and of
//! MetInf 1.2 (code page 1), with its name and WBXML token.
//!
//! The two readers map what they see to a [`Tag`] (XML by local name, WBXML by page and token) and
//! the one mapping in `decode`/`encode` speaks only in tags. No element name occurs on both pages,
//! so an element is identified by its local name alone, whatever namespace (or misspelt namespace)
//! a peer put on it.

macro_rules! tags {
    ($( $page:literal $tok:literal $name:ident ),* $(,)?) => {
        /// One SyncML or MetInf element.
        #[allow(missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Tag { $( $name ),* }

        impl Tag {
            /// Every tag, in table order.
            pub const ALL: &'static [Tag] = &[ $( Tag::$name ),* ];

            /// The element name as the DTD spells it.
            pub const fn name(self) -> &'static str {
                match self { $( Tag::$name => stringify!($name) ),* }
            }

            /// WBXML code page: 0 for SyncML, 1 for MetInf.
            pub const fn page(self) -> u8 {
                match self { $( Tag::$name => $page ),* }
            }

            /// WBXML tag identity on its page (without the content bit).
            pub const fn token(self) -> u8 {
                match self { $( Tag::$name => $tok ),* }
            }

        }

        const fn build_token_table() -> [[Option<Tag>; 64]; 2] {
            let mut t = [[None; 64]; 2];
            $( t[$page][$tok] = Some(Tag::$name); )*
            t
        }
    };
}

tags! {
    0 0x05 Add, 0 0x06 Alert, 0 0x07 Archive, 0 0x08 Atomic, 0 0x09 Chal, 0 0x0A Cmd,
    0 0x0B CmdID, 0 0x0C CmdRef, 0 0x0D Copy, 0 0x0E Cred, 0 0x0F Data, 0 0x10 Delete,
    0 0x11 Exec, 0 0x12 Final, 0 0x13 Get, 0 0x14 Item, 0 0x15 Lang, 0 0x16 LocName,
    0 0x17 LocURI, 0 0x18 Map, 0 0x19 MapItem, 0 0x1A Meta, 0 0x1B MsgID, 0 0x1C MsgRef,
    0 0x1D NoResp, 0 0x1E NoResults, 0 0x1F Put, 0 0x20 Replace, 0 0x21 RespURI,
    0 0x22 Results, 0 0x23 Search, 0 0x24 Sequence, 0 0x25 SessionID, 0 0x26 SftDel,
    0 0x27 Source, 0 0x28 SourceRef, 0 0x29 Status, 0 0x2A Sync, 0 0x2B SyncBody,
    0 0x2C SyncHdr, 0 0x2D SyncML, 0 0x2E Target, 0 0x2F TargetRef, 0 0x31 VerDTD,
    0 0x32 VerProto, 0 0x33 NumberOfChanges, 0 0x34 MoreData, 0 0x35 Field, 0 0x36 Filter,
    0 0x37 Record, 0 0x38 FilterType, 0 0x39 SourceParent, 0 0x3A TargetParent, 0 0x3B Move,
    0 0x3C Correlator,
    1 0x05 Anchor, 1 0x06 EMI, 1 0x07 Format, 1 0x08 FreeID, 1 0x09 FreeMem, 1 0x0A Last,
    1 0x0B Mark, 1 0x0C MaxMsgSize, 1 0x0D Mem, 1 0x0E MetInf, 1 0x0F Next, 1 0x10 NextNonce,
    1 0x11 SharedMem, 1 0x12 Size, 1 0x13 Type, 1 0x14 Version, 1 0x15 MaxObjSize,
    1 0x16 FieldLevel,
}

static TOKENS: [[Option<Tag>; 64]; 2] = build_token_table();

const BUCKET: usize = 16;

/// Tags bucketed by the first letter of their name, each with its name, so that a name lookup
/// compares a handful of candidates (length first) instead of the whole vocabulary.
/// A tag with its name's bytes.
type Named = Option<(Tag, &'static [u8])>;

const fn build_name_table() -> [[Named; BUCKET]; 26] {
    let mut t = [[None; BUCKET]; 26];
    let mut i = 0;
    while i < Tag::ALL.len() {
        let tag = Tag::ALL[i];
        let first = tag.name().as_bytes()[0].to_ascii_uppercase() - b'A';
        let mut j = 0;
        while t[first as usize][j].is_some() {
            j += 1;
        }
        t[first as usize][j] = Some((tag, tag.name().as_bytes()));
        i += 1;
    }
    t
}

static NAMES: [[Named; BUCKET]; 26] = build_name_table();

impl Tag {
    fn from_name_exact(name: &[u8]) -> Option<Tag> {
        let first = name.first()?.to_ascii_uppercase().wrapping_sub(b'A');
        let bucket = NAMES.get(usize::from(first))?;
        bucket
            .iter()
            .map_while(|t| *t)
            .find(|(_, n)| n.len() == name.len() && *n == name)
            .map(|(t, _)| t)
    }
}

impl Tag {
    /// The tag for a WBXML (page, token) pair of the SyncML vocabulary.
    pub fn from_token(page: u8, token: u8) -> Option<Tag> {
        TOKENS
            .get(usize::from(page))
            .and_then(|p| p.get(usize::from(token)))
            .copied()
            .flatten()
    }

    /// The tag for an XML local name. Exact match first; then, for peers that publish
    /// `<add>` for `<Add>` (samples/windows/22), an ASCII case-insensitive match.
    pub fn from_local_name(name: &[u8]) -> Option<Tag> {
        if let Some(t) = Tag::from_name_exact(name) {
            return Some(t);
        }
        Tag::ALL
            .iter()
            .copied()
            .find(|t| t.name().as_bytes().eq_ignore_ascii_case(name))
    }

    /// True for MetInf elements (namespace `syncml:metinf`, WBXML page 1).
    pub const fn is_metinf(self) -> bool {
        self.page() == 1
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_names_are_inverse() {
        for &t in Tag::ALL {
            assert_eq!(Tag::from_token(t.page(), t.token()), Some(t));
            assert_eq!(Tag::from_local_name(t.name().as_bytes()), Some(t));
        }
    }

    #[test]
    fn digest_table_spot_checks() {
        // DIGEST.md §1.4 / §1.5.
        assert_eq!(Tag::from_token(0, 0x2D), Some(Tag::SyncML));
        assert_eq!(Tag::from_token(0, 0x3C), Some(Tag::Correlator));
        assert_eq!(Tag::from_token(0, 0x30), None);
        assert_eq!(Tag::from_token(1, 0x15), Some(Tag::MaxObjSize));
        assert_eq!(Tag::from_token(1, 0x07), Some(Tag::Format));
        assert_eq!(Tag::from_token(2, 0x07), None);
    }

    #[test]
    fn agrees_with_the_wbxml_code_page_tables() {
        // The element enum repeats the facts of omadm-wbxml's tables for speed; keep them equal.
        for &t in Tag::ALL {
            assert_eq!(
                omadm_wbxml::tables::SYNCML_12.tag_name(t.page(), t.token()),
                Some(t.name()),
                "{t}"
            );
        }
    }

    #[test]
    fn lowercase_add_is_tolerated() {
        assert_eq!(Tag::from_local_name(b"add"), Some(Tag::Add));
        assert_eq!(Tag::from_local_name(b"Bogus"), None);
    }
}
