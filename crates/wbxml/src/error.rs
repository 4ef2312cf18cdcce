//! Every way a WBXML document can be refused.
//!
//! Each decoding variant carries the byte offset (from the start of the document) of the token or
//! field at fault, so a higher layer can point at the exact byte.

/// A WBXML decoding (or, for [`Error::NulInString`], encoding) error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input ends inside the header (WAP-192 §5.3: version, publicid, charset, strtbl).
    #[error("byte {offset}: input ends inside the header; expected the {field}")]
    TruncatedHeader {
        offset: usize,
        /// The header field that is missing, e.g. "version byte".
        field: &'static str,
    },

    /// Version byte other than 0x00..0x03 (WAP-192 §5.4).
    #[error("byte {offset}: WBXML version byte 0x{byte:02X} is not supported; expected 0x00-0x03 (WBXML 1.0-1.3)")]
    UnsupportedVersion { offset: usize, byte: u8 },

    /// Charset other than UTF-8 (MIBenum 106) or US-ASCII (MIBenum 3) (WAP-192 §5.6).
    #[error("byte {offset}: charset MIBenum {mib} is not supported; expected 106 (UTF-8) or 3 (US-ASCII)")]
    UnsupportedCharset { offset: usize, mib: u32 },

    /// The string table is larger than [`crate::Limits::max_string_table`].
    #[error("byte {offset}: string table of {len} bytes exceeds the limit of {limit} bytes")]
    StringTableTooLarge {
        offset: usize,
        len: u32,
        limit: usize,
    },

    /// The document is larger than [`crate::Limits::max_input`].
    #[error("byte 0: document of {len} bytes exceeds the limit of {limit} bytes")]
    InputTooLarge { len: usize, limit: usize },

    /// An mb_u_int32 (WAP-192 §5.1) longer than 5 bytes or with a value beyond u32.
    #[error(
        "byte {offset}: malformed mb_u_int32; expected at most 5 bytes encoding a value below 2^32"
    )]
    BadMbUint { offset: usize },

    /// The input ends inside the body while elements are still open (or inside a token's payload).
    #[error("byte {offset}: input ends unexpectedly with {open} element(s) still open; expected more tokens")]
    UnexpectedEof { offset: usize, open: usize },

    /// The body holds no root element (WAP-192 §5.3: `body = *pi element *pi`).
    #[error("byte {offset}: document has no root element; expected a tag token after the header")]
    MissingRoot { offset: usize },

    /// A content token (string, entity, opaque) before the root element.
    #[error("byte {offset}: token 0x{token:02X} is content outside the root element; expected a tag token")]
    ContentOutsideRoot { offset: usize, token: u8 },

    /// Bytes after the root element was closed (other than processing instructions).
    #[error("byte {offset}: data after the end of the root element; expected end of document")]
    TrailingData { offset: usize },

    /// A tag (or LITERAL_A / LITERAL_AC) with attributes (WAP-192 §5.8.2, bit 0x80).
    #[error("byte {offset}: tag 0x{token:02X} has the attribute bit set; SyncML WBXML never uses attributes")]
    AttributesNotSupported { offset: usize, token: u8 },

    /// An EXT_I_*, EXT_T_* or EXT_* token (WAP-192 §5.8.4, global extension tokens); SyncML defines no extensions.
    #[error("byte {offset}: extension token 0x{token:02X} is not supported; SyncML WBXML defines no extensions")]
    ExtensionNotSupported { offset: usize, token: u8 },

    /// END (WAP-192 §5.8.4) with no element open.
    #[error("byte {offset}: END token with no open element")]
    UnbalancedEnd { offset: usize },

    /// Element nesting beyond [`crate::Limits::max_depth`].
    #[error("byte {offset}: element nesting exceeds the depth limit of {limit}")]
    TooDeep { offset: usize, limit: usize },

    /// A STR_T / LITERAL / publicid index that does not start a NUL-terminated string inside the
    /// string table (WAP-192 §5.7).
    #[error("byte {offset}: string table index {index} does not start a NUL-terminated string in the {table_len}-byte string table")]
    BadStringTableIndex {
        offset: usize,
        index: u32,
        table_len: usize,
    },

    /// A string that is not valid UTF-8; `offset` is the first invalid byte.
    #[error("byte {offset}: invalid UTF-8 in a string; expected UTF-8 text")]
    InvalidUtf8 { offset: usize },

    /// ENTITY (WAP-192 §5.8.4) whose code is not a Unicode scalar value.
    #[error("byte {offset}: ENTITY code 0x{code:X} is not a Unicode scalar value; expected 0-0x10FFFF outside the surrogates")]
    BadEntity { offset: usize, code: u32 },

    /// The encoder was asked for a STR_I holding NUL, which terminates STR_I (WAP-192 §5.8.4);
    /// send such data as OPAQUE instead.
    #[error("string contains NUL and cannot be written as STR_I; use OPAQUE")]
    NulInString,
}

impl Error {
    /// Byte offset the error points at, when it has one.
    pub fn offset(&self) -> Option<usize> {
        use Error::*;
        match *self {
            TruncatedHeader { offset, .. }
            | UnsupportedVersion { offset, .. }
            | UnsupportedCharset { offset, .. }
            | StringTableTooLarge { offset, .. }
            | BadMbUint { offset }
            | UnexpectedEof { offset, .. }
            | MissingRoot { offset }
            | ContentOutsideRoot { offset, .. }
            | TrailingData { offset }
            | AttributesNotSupported { offset, .. }
            | ExtensionNotSupported { offset, .. }
            | UnbalancedEnd { offset }
            | TooDeep { offset, .. }
            | BadStringTableIndex { offset, .. }
            | InvalidUtf8 { offset }
            | BadEntity { offset, .. } => Some(offset),
            InputTooLarge { .. } | NulInString => None,
        }
    }
}
