//! The element-event interface between the one mapping (`decode`, `encode`) and the two
//! encodings. XML and WBXML each implement [`ElementSource`] and [`ElementSink`]; the mapping
//! never sees bytes.

use std::borrow::Cow;

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::model::Data;
use crate::tag::Tag;

/// A structural event.
#[derive(Debug)]
pub(crate) enum Ev<'a> {
    /// Start of a SyncML or MetInf element.
    Start(Tag),
    /// Start of an element outside the vocabulary (its name as sent).
    Other(Cow<'a, str>),
    /// End of the innermost open element.
    End,
    /// End of input after the root element closed.
    Eof,
}

/// Reads elements. Whitespace, comments and stray text between elements are skipped.
///
/// Both readers inline `next`, `read_text` and their own `read` into the mapping: an event
/// returned through a call was written to memory in pieces and read back whole, a load that
/// waits for those stores (perf: 40% of the XML reader's `read`). Inlined, decoding got 20 to
/// 25% faster (XML) and 40% (WBXML) on small messages (codec bench, `small`; issue 7,
/// docs/performance.md, seventh pass).
pub(crate) trait ElementSource<'a> {
    /// The next start or end of an element.
    fn next(&mut self) -> Result<Ev<'a>, DecodeError>;
    /// After the start of a text-only element: its text, up to and including its end.
    fn read_text(&mut self, element: Tag) -> Result<Cow<'a, str>, DecodeError>;
    /// After the start of `Data`: its content as sent, up to and including its end.
    fn read_data(&mut self) -> Result<Data, DecodeError>;
    /// After the start of an element: skip the rest of it, including its end.
    fn skip(&mut self) -> Result<(), DecodeError>;
    /// After the root element: only whitespace, comments or processing instructions may follow.
    fn finish(&mut self) -> Result<(), DecodeError>;
    /// An error at the current position.
    fn error(&self, kind: ErrorKind) -> DecodeError;
}

/// Writes elements.
pub(crate) trait ElementSink {
    /// Opens an element with content.
    fn start(&mut self, tag: Tag) -> Result<(), EncodeError>;
    /// Closes the element opened last.
    fn end(&mut self, tag: Tag) -> Result<(), EncodeError>;
    /// An element without content (`<Final/>`).
    fn empty(&mut self, tag: Tag) -> Result<(), EncodeError>;
    /// A whole text-only element.
    fn text(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError>;
    /// A whole `Data` element.
    fn data(&mut self, data: &Data) -> Result<(), EncodeError>;
}
