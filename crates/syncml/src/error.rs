//! Decoding and encoding errors.

use std::fmt;

/// Where in the input an error was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// A byte offset (WBXML).
    Byte(usize),
    /// A line and column, both from 1, and the byte offset (XML).
    LineColumn {
        /// Line, from 1.
        line: usize,
        /// Column in characters, from 1.
        column: usize,
        /// Byte offset.
        byte: usize,
    },
}

impl Position {
    /// Line and column of byte offset `byte` in `input`.
    pub fn in_text(input: &[u8], byte: usize) -> Position {
        let byte = byte.min(input.len());
        let before = &input[..byte];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Position::LineColumn { line, column, byte }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Byte(b) => write!(f, "byte {b}"),
            Position::LineColumn { line, column, .. } => write!(f, "line {line}, column {column}"),
        }
    }
}

/// A message could not be decoded.
#[derive(Debug, thiserror::Error)]
pub struct DecodeError {
    /// Where.
    pub position: Position,
    /// What.
    pub kind: ErrorKind,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // The WBXML error names its own byte offset.
            ErrorKind::Wbxml(e) if e.offset().is_some() => write!(f, "malformed WBXML at {e}"),
            kind => write!(f, "{}: {kind}", self.position),
        }
    }
}

impl DecodeError {
    /// An error of the WBXML layer, positioned where it says.
    pub(crate) fn wbxml(e: omadm_wbxml::Error, fallback: usize) -> DecodeError {
        DecodeError {
            position: Position::Byte(e.offset().unwrap_or(fallback)),
            kind: ErrorKind::Wbxml(e),
        }
    }
}

/// What was wrong with the input.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// Not well-formed XML.
    #[error("malformed XML: {0}")]
    Xml(#[from] quick_xml::Error),
    /// Bad WBXML.
    #[error("malformed WBXML: {0}")]
    Wbxml(#[from] omadm_wbxml::Error),
    /// The input is empty.
    #[error("the input is empty")]
    Empty,
    /// The bytes are neither XML nor WBXML.
    #[error("the input is neither XML (it does not start with '<') nor WBXML (first byte {first:#04x} is not a WBXML version 0x00-0x03)")]
    UnknownEncoding {
        /// First byte seen.
        first: u8,
    },
    /// The root element is not `SyncML`.
    #[error("expected the root element <SyncML>, found <{found}>")]
    NotSyncML {
        /// What was found.
        found: String,
    },
    /// The document ended before the root element closed.
    #[error("the document ends inside <{open}>")]
    UnexpectedEof {
        /// Innermost open element.
        open: &'static str,
    },
    /// An element that cannot appear where it does.
    #[error("<{found}> is not allowed inside <{parent}>")]
    UnexpectedElement {
        /// The element.
        found: String,
        /// Its parent.
        parent: &'static str,
    },
    /// An element that is not part of SyncML or MetInf.
    #[error("unknown element <{found}> inside <{parent}>")]
    UnknownElement {
        /// The element.
        found: String,
        /// Its parent.
        parent: &'static str,
    },
    /// A child element inside an element that holds only text.
    #[error("<{parent}> holds text only, found the element <{found}>")]
    ElementInText {
        /// The element.
        found: String,
        /// The text element.
        parent: &'static str,
    },
    /// A literal element name (from a WBXML string table) that is not an XML name.
    #[error("literal element name {name:?} is not an XML name")]
    BadElementName {
        /// The name.
        name: String,
    },
    /// Text that is not valid UTF-8.
    #[error("text inside <{parent}> is not valid UTF-8")]
    InvalidUtf8 {
        /// The element holding it.
        parent: &'static str,
    },
    /// An entity reference other than the five XML ones and numeric references.
    #[error("entity reference '&{name};' is not allowed (only &lt; &gt; &amp; &apos; &quot; and numeric references are)")]
    UnknownEntity {
        /// The name.
        name: String,
    },
    /// An XML declaration or DTD feature where none may be.
    #[error("{what} is not allowed here")]
    Forbidden {
        /// What was found.
        what: &'static str,
    },
    /// Content after the root element.
    #[error("content after the end of the root element")]
    TrailingContent,
    /// A limit of [`crate::Limits`] was exceeded.
    #[error("limit exceeded: {limit} is {max}, the message needs more")]
    LimitExceeded {
        /// The field of `Limits`.
        limit: &'static str,
        /// Its value.
        max: usize,
    },
}

/// A message could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// XML 1.0 cannot carry the character (control characters other than tab, CR and LF).
    #[error("{context} holds the character U+{code:04X}, which XML 1.0 cannot carry; send it as WBXML or base64-encode it (Format b64)")]
    CharacterNotAllowed {
        /// Element holding it.
        context: &'static str,
        /// The code point.
        code: u32,
    },
    /// Opaque bytes that are not UTF-8 text cannot be written as XML.
    #[error("Data holds {len} bytes of binary (non-UTF-8) content, which XML cannot carry; base64-encode it (Format b64) or write WBXML")]
    BinaryData {
        /// Byte count.
        len: usize,
    },
}
