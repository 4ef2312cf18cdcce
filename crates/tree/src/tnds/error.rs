//! TNDS decoding and encoding errors, each with the DM status it answers.

use std::fmt;

/// Where in the input an error was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// A byte offset (WBXML).
    Byte(usize),
    /// Line and column (characters), both from 1, and the byte offset (XML).
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
        let before = input.get(..byte).unwrap_or(input);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
            .chars()
            .count()
            + 1;
        Position::LineColumn {
            line,
            column,
            byte: before.len(),
        }
    }

    /// The byte offset.
    pub fn byte(&self) -> usize {
        match *self {
            Position::Byte(b) | Position::LineColumn { byte: b, .. } => b,
        }
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

/// A TNDS document could not be read, or a tree could not be written.
#[derive(Debug, thiserror::Error)]
pub struct TndsError {
    /// Where in the input; `None` for encoding errors and whole-input ones.
    pub position: Option<Position>,
    /// What.
    pub kind: ErrorKind,
}

impl TndsError {
    pub(crate) fn new(position: Option<Position>, kind: ErrorKind) -> TndsError {
        TndsError { position, kind }
    }

    /// The DM status for a command that carried this document (module docs of [`super`]):
    /// 413 for a limit, 415 for what we do not support, 500 for an encoding failure, else 400.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
}

impl fmt::Display for TndsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.position, &self.kind) {
            // The WBXML error names its own byte offset.
            (_, ErrorKind::Wbxml(e)) if e.offset().is_some() => write!(f, "malformed WBXML at {e}"),
            (Some(p), k) => write!(f, "{p}: {k}"),
            (None, k) => write!(f, "{k}"),
        }
    }
}

/// What was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is empty.
    #[error("the input is empty")]
    Empty,
    /// The first byte starts neither XML nor WBXML.
    #[error("the input is neither XML (it does not start with '<') nor WBXML (first byte {first:#04x} is not a WBXML version 0x00-0x03)")]
    UnknownEncoding {
        /// The first byte.
        first: u8,
    },
    /// Not well-formed XML.
    #[error("malformed XML: {0}")]
    Xml(quick_xml::Error),
    /// Bad WBXML (its own message names the byte).
    #[error("malformed WBXML: {0}")]
    Wbxml(omadm_wbxml::Error),
    /// An entity reference other than the five XML ones (no DTD is processed).
    #[error("unknown entity &{name}; (only &lt; &gt; &amp; &apos; &quot; and character references are allowed)")]
    UnknownEntity {
        /// The entity name.
        name: String,
    },
    /// Text that is not UTF-8.
    #[error("text that is not UTF-8")]
    InvalidUtf8,
    /// Something XML allows but we refuse (DTD inside an element, a late XML declaration).
    #[error("{what} is not allowed")]
    Forbidden {
        /// What was found.
        what: &'static str,
    },
    /// The document has no root element.
    #[error("the document has no root element; expected <MgmtTree>")]
    NoRoot,
    /// The root element is not `MgmtTree`.
    #[error("expected the root element <MgmtTree>, found <{found}>")]
    NotMgmtTree {
        /// What was found.
        found: String,
    },
    /// Text or data outside the root element.
    #[error("text outside the root element <MgmtTree>")]
    ContentOutsideRoot,
    /// Anything but whitespace, comments and processing instructions after the root element.
    #[error("content after the end of <MgmtTree>")]
    TrailingContent,
    /// The document ends inside an element.
    #[error("the document ends inside <{open}>")]
    UnexpectedEof {
        /// Innermost open element.
        open: &'static str,
    },
    /// An element that TNDS does not allow where it is.
    #[error("<{found}> is not allowed inside <{parent}>")]
    UnexpectedElement {
        /// The element (for WBXML tags outside code page 2: its page and token).
        found: String,
        /// Its parent.
        parent: &'static str,
    },
    /// An element given twice where the DTD allows it once.
    #[error("<{element}> appears twice inside <{parent}>")]
    Duplicate {
        /// The element.
        element: &'static str,
        /// Its parent.
        parent: &'static str,
    },
    /// A required element is missing.
    #[error("<{parent}> lacks <{element}>")]
    Missing {
        /// The missing element.
        element: &'static str,
        /// Its parent.
        parent: &'static str,
    },
    /// An element inside an element that holds text only.
    #[error("<{found}> inside <{parent}>, which holds text only (escape markup or use CDATA)")]
    ElementInText {
        /// The element found.
        found: String,
        /// The text element.
        parent: &'static str,
    },
    /// Text (other than whitespace) or opaque data where only elements are allowed.
    #[error("text inside <{parent}>, which holds elements only")]
    TextNotAllowed {
        /// The element.
        parent: &'static str,
    },
    /// A format element with content (`<chr>x</chr>`); they are EMPTY.
    #[error("<{element}> must be empty")]
    NotEmpty {
        /// The element.
        element: &'static str,
    },
    /// An element inside `Format` that is not one of the eleven formats (status 415).
    #[error("unknown format <{name}> inside <Format>; expected one of b64, bin, bool, chr, int, node, null, xml, date, time, float")]
    UnknownFormat {
        /// The element found.
        name: String,
    },
    /// A Node with both a Value and child Nodes (`Node* | Value?`).
    #[error("a <Node> holds both <Value> and child <Node>s; a Value ends the recursion")]
    ValueAndChildren,
    /// The Value of a `bin` node is neither base64 text nor opaque data.
    #[error("the <Value> of a node of Format bin is not base64")]
    InvalidBase64,
    /// A [`super::TndsLimits`] bound was exceeded (status 413).
    #[error("exceeds the limit {limit} = {max}")]
    LimitExceeded {
        /// Field name of the limit.
        limit: &'static str,
        /// Its value.
        max: usize,
    },
    /// Encoding: a character XML 1.0 cannot carry (C0 controls but tab, LF, CR; U+FFFE, U+FFFF).
    #[error("cannot write U+{code:04X} in <{element}> as XML")]
    CharacterNotAllowed {
        /// The element.
        element: &'static str,
        /// The character.
        code: u32,
    },
    /// Encoding: a Value that is not UTF-8 in a node whose Format is not `bin`; XML carries
    /// binary values only as base64, which needs Format `bin`.
    #[error("a <Value> that is not UTF-8 text needs Format bin to be written as XML")]
    ValueNotText,
}

impl ErrorKind {
    /// The DM status (see [`TndsError::status`]).
    pub fn status(&self) -> u16 {
        use omadm_wbxml::Error as W;
        match self {
            ErrorKind::LimitExceeded { .. } => 413,
            ErrorKind::UnknownFormat { .. }
            | ErrorKind::UnknownEncoding { .. }
            | ErrorKind::Wbxml(W::UnsupportedVersion { .. } | W::UnsupportedCharset { .. }) => 415,
            ErrorKind::CharacterNotAllowed { .. } | ErrorKind::ValueNotText => 500,
            _ => 400,
        }
    }
}
