//! The document header, WAP-192 §5.3: `start = version publicid charset strtbl body`.

use crate::strings::StringTable;
use crate::writer::Output;
use crate::{mbuint, Error, Limits};

/// IANA MIBenum of UTF-8, the charset every DM stack sends.
pub const UTF_8: u32 = 106;
/// IANA MIBenum of US-ASCII, a subset of UTF-8.
pub const US_ASCII: u32 = 3;

/// WBXML version (WAP-192 §5.4: major-1 in the high nibble, minor in the low nibble).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1_0,
    V1_1,
    V1_2,
    V1_3,
}

impl Version {
    /// The version byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::V1_0 => 0x00,
            Self::V1_1 => 0x01,
            Self::V1_2 => 0x02,
            Self::V1_3 => 0x03,
        }
    }

    /// The version for a version byte, if it is one of 1.0-1.3.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x00 => Some(Self::V1_0),
            0x01 => Some(Self::V1_1),
            0x02 => Some(Self::V1_2),
            0x03 => Some(Self::V1_3),
            _ => None,
        }
    }

    /// WBXML 1.0 has no charset field; it was added in 1.1.
    pub fn has_charset(self) -> bool {
        self != Self::V1_0
    }
}

/// The document type (WAP-192 §5.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicId<'a> {
    /// A well-known numeric public identifier (e.g. 0x1201 for SyncML 1.2). 1 means "unknown".
    Numeric(u32),
    /// A formal public identifier text, carried in the string table (publicid 0 + index).
    Literal(&'a str),
}

/// A decoded header. `string_table` borrows the document's raw table (NUL-separated strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub version: Version,
    pub public_id: PublicId<'a>,
    /// IANA MIBenum. WBXML 1.0 documents carry none; the reader reports 106 (UTF-8) for them.
    pub charset: u32,
    pub string_table: &'a [u8],
}

/// A parsed header and where the body starts.
pub(crate) struct Parsed<'a> {
    pub(crate) header: Header<'a>,
    pub(crate) strtbl: StringTable<'a>,
    pub(crate) body: usize,
}

/// Parses the header at the start of `input` (WAP-192 §5.3-§5.7).
pub(crate) fn parse<'a>(input: &'a [u8], limits: &Limits) -> Result<Parsed<'a>, Error> {
    let truncated = |offset: usize, field: &'static str| Error::TruncatedHeader { offset, field };
    let mb = |pos: &mut usize, field: &'static str| {
        let at = *pos;
        mbuint::read(input, pos).map_err(|e| match e {
            Error::UnexpectedEof { .. } => truncated(at, field),
            other => other,
        })
    };

    let byte = *input.first().ok_or_else(|| truncated(0, "version byte"))?;
    let version = Version::from_byte(byte).ok_or(Error::UnsupportedVersion { offset: 0, byte })?;
    let mut pos = 1;

    let id_at = pos;
    let id = mb(&mut pos, "publicid")?;
    let literal_index = if id == 0 {
        Some(mb(&mut pos, "publicid string table index")?)
    } else {
        None
    };

    let charset = if version.has_charset() {
        let at = pos;
        let mib = mb(&mut pos, "charset")?;
        if mib != UTF_8 && mib != US_ASCII {
            return Err(Error::UnsupportedCharset { offset: at, mib });
        }
        mib
    } else {
        UTF_8
    };

    let len_at = pos;
    let len = mb(&mut pos, "string table length")?;
    if len as usize > limits.max_string_table {
        return Err(Error::StringTableTooLarge {
            offset: len_at,
            len,
            limit: limits.max_string_table,
        });
    }
    let end = pos.saturating_add(len as usize);
    let bytes = input
        .get(pos..end)
        .ok_or_else(|| truncated(input.len(), "string table"))?;
    let strtbl = StringTable { bytes, start: pos };

    let public_id = match literal_index {
        Some(index) => PublicId::Literal(strtbl.fpi(index, id_at)?),
        None => PublicId::Numeric(id),
    };
    Ok(Parsed {
        header: Header {
            version,
            public_id,
            charset,
            string_table: bytes,
        },
        strtbl,
        body: end,
    })
}

/// Writes a header (WAP-192 §5.3). A literal FPI becomes publicid 0, index 0, and the string
/// table `FPI NUL extra_0 NUL extra_1 NUL ...`. `Numeric(0)` would read back as a literal, so
/// it is written as 1 ("unknown or missing public identifier", WAP-192 §7.2).
pub(crate) fn write<O: Output + ?Sized>(
    out: &mut O,
    version: Version,
    public_id: &PublicId<'_>,
    charset: u32,
    table: &[u8],
) {
    out.put_byte(version.byte());
    match public_id {
        PublicId::Numeric(id) => mbuint::write(out, (*id).max(1)),
        PublicId::Literal(_) => {
            out.put_byte(0);
            out.put_byte(0);
        }
    }
    if version.has_charset() {
        mbuint::write(out, charset);
    }
    // The table is built by the writer from caller strings; a table beyond 4 GiB cannot occur.
    mbuint::write(out, u32::try_from(table.len()).unwrap_or(u32::MAX));
    out.put(table);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(input: &[u8]) -> (Header<'_>, usize) {
        match parse(input, &Limits::default()) {
            Ok(p) => (p.header, p.body),
            Err(e) => panic!("header rejected: {e}"),
        }
    }

    #[test]
    fn syncml_12_numeric() {
        let (h, body) = parse_ok(&[0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D]);
        assert_eq!(h.version, Version::V1_2);
        assert_eq!(h.public_id, PublicId::Numeric(0x1201));
        assert_eq!(h.charset, 106);
        assert!(h.string_table.is_empty());
        assert_eq!(body, 5);
    }

    #[test]
    fn syncml_11_numeric() {
        let (h, _) = parse_ok(&[0x02, 0x9F, 0x53, 0x6A, 0x00]);
        assert_eq!(h.version, Version::V1_2);
        assert_eq!(h.public_id, PublicId::Numeric(0x0FD3));
        assert_eq!(h.charset, 106);
    }

    #[test]
    fn literal_fpi_with_nul() {
        let mut doc = vec![0x02, 0x00, 0x00, 0x6A, 0x1B];
        doc.extend_from_slice(b"-//OMA//DTD-DM-DDF 1.2//EN\0");
        doc.extend_from_slice(&[0x00, 0x02, 0x60]);
        let (h, body) = parse_ok(&doc);
        assert_eq!(h.public_id, PublicId::Literal("-//OMA//DTD-DM-DDF 1.2//EN"));
        assert_eq!(h.string_table.len(), 27);
        assert_eq!(body, 5 + 27);
    }

    #[test]
    fn literal_fpi_without_nul_as_the_rtk_writes_it() {
        let fpi = b"-//SYNCML//DTD SyncML 1.2//EN";
        assert_eq!(fpi.len(), 29);
        let mut doc = vec![0x02, 0x00, 0x00, 0x6A, 29];
        doc.extend_from_slice(fpi);
        let (h, _) = parse_ok(&doc);
        assert_eq!(
            h.public_id,
            PublicId::Literal("-//SYNCML//DTD SyncML 1.2//EN")
        );
    }

    #[test]
    fn charset_4_rejected_naming_it() {
        let err = parse(&[0x02, 0xA4, 0x01, 0x04, 0x00], &Limits::default()).err();
        assert_eq!(err, Some(Error::UnsupportedCharset { offset: 3, mib: 4 }));
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("MIBenum 4"), "{text}");
        assert!(text.starts_with("byte 3:"), "{text}");
    }

    #[test]
    fn us_ascii_accepted() {
        let (h, _) = parse_ok(&[0x03, 0x01, 0x03, 0x00]);
        assert_eq!(h.charset, 3);
        assert_eq!(h.version, Version::V1_3);
    }

    #[test]
    fn wbxml_10_has_no_charset() {
        let (h, body) = parse_ok(&[0x00, 0x9F, 0x53, 0x00, 0x6D]);
        assert_eq!(h.version, Version::V1_0);
        assert_eq!(h.charset, 106);
        assert_eq!(body, 4);
    }

    #[test]
    fn bad_version_and_truncation() {
        assert_eq!(
            parse(&[0x14, 0x01, 0x6A, 0x00], &Limits::default()).err(),
            Some(Error::UnsupportedVersion {
                offset: 0,
                byte: 0x14
            })
        );
        assert_eq!(
            parse(&[], &Limits::default()).err(),
            Some(Error::TruncatedHeader {
                offset: 0,
                field: "version byte"
            })
        );
        assert_eq!(
            parse(&[0x02, 0xA4], &Limits::default()).err(),
            Some(Error::TruncatedHeader {
                offset: 1,
                field: "publicid"
            })
        );
        assert_eq!(
            parse(&[0x02, 0x01, 0x6A, 0x05, b'a'], &Limits::default()).err(),
            Some(Error::TruncatedHeader {
                offset: 5,
                field: "string table"
            })
        );
    }

    #[test]
    fn literal_index_outside_table() {
        assert_eq!(
            parse(&[0x02, 0x00, 0x03, 0x6A, 0x02, b'a', 0], &Limits::default()).err(),
            Some(Error::BadStringTableIndex {
                offset: 1,
                index: 3,
                table_len: 2
            })
        );
    }

    #[test]
    fn string_table_limit() {
        let limits = Limits {
            max_string_table: 4,
            ..Limits::default()
        };
        assert_eq!(
            parse(&[0x02, 0x01, 0x6A, 0x05], &limits).err(),
            Some(Error::StringTableTooLarge {
                offset: 3,
                len: 5,
                limit: 4
            })
        );
    }

    #[test]
    fn version_bytes_round_trip() {
        for v in [Version::V1_0, Version::V1_1, Version::V1_2, Version::V1_3] {
            assert_eq!(Version::from_byte(v.byte()), Some(v));
        }
        assert_eq!(Version::from_byte(0x04), None);
    }
}
