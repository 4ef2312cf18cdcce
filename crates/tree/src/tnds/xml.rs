//! TNDS as XML (`application/vnd.syncml.dmtnds+xml`).
//!
//! Elements are recognised by local name, so a prefixed `<dm:Node>` or a `MgmtTree` without the
//! namespace read the same. Safety as in the SyncML reader: the DOCTYPE is skipped unread (no
//! DTD processing, so no entity expansion), an XML declaration is accepted only at the very
//! start.

use std::borrow::Cow;

use quick_xml::events::{BytesCData, BytesText, Event};
use quick_xml::Reader;

use super::decode::{self, Ev, Name, Source};
use super::encode::{self, Sink};
use super::error::{ErrorKind, Position, TndsError};
use super::limits::TndsLimits;
use super::model::MgmtTree;
use super::tag::Tag;
use crate::format::base64_encode;

/// Reads an XML TNDS document.
pub fn from_xml(bytes: &[u8], limits: &TndsLimits) -> Result<MgmtTree, TndsError> {
    if bytes.len() > limits.max_bytes {
        return Err(TndsError::new(
            Some(Position::in_text(bytes, limits.max_bytes)),
            ErrorKind::LimitExceeded {
                limit: "max_bytes",
                max: limits.max_bytes,
            },
        ));
    }
    if bytes.is_empty() {
        return Err(TndsError::new(None, ErrorKind::Empty));
    }
    let mut src = XmlSource::new(bytes, limits);
    decode::decode(&mut src, limits)
}

/// Writes `tree` as compact XML (no declaration, no whitespace between elements) with
/// `xmlns="syncml:dmddf1.2"` on `MgmtTree`. `bin` values go out as base64 text; other values
/// must be UTF-8 ([`ErrorKind::ValueNotText`]), and no text may hold a character XML 1.0 cannot
/// carry ([`ErrorKind::CharacterNotAllowed`]). A CR is written `&#13;` so that it survives
/// end-of-line normalisation.
pub fn to_xml(tree: &MgmtTree) -> Result<Vec<u8>, TndsError> {
    let mut sink = XmlSink { out: Vec::new() };
    encode::encode(tree, &mut sink).map_err(|kind| TndsError::new(None, kind))?;
    Ok(sink.out)
}

struct XmlSource<'a> {
    input: &'a [u8],
    reader: Reader<&'a [u8]>,
    max_element_depth: usize,
    depth: usize,
    /// Offset where the last event began.
    last: usize,
    seen_event: bool,
    /// An `Event::Empty` was returned as a Start; its End is due.
    pending_end: bool,
}

impl<'a> XmlSource<'a> {
    fn new(input: &'a [u8], limits: &TndsLimits) -> Self {
        let mut reader = Reader::from_reader(input);
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
        cfg.trim_text(false);
        XmlSource {
            input,
            reader,
            max_element_depth: limits.max_element_depth(),
            depth: 0,
            last: 0,
            seen_event: false,
            pending_end: false,
        }
    }

    fn pos(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn error(&self, kind: ErrorKind) -> TndsError {
        TndsError::new(Some(self.locate(self.last)), kind)
    }

    fn read(&mut self) -> Result<Event<'a>, TndsError> {
        self.last = self.pos();
        match self.reader.read_event() {
            Ok(ev) => {
                let first = !self.seen_event;
                self.seen_event = true;
                match ev {
                    Event::Decl(_) if !first => Err(self.error(ErrorKind::Forbidden {
                        what: "an XML declaration after the start of the document",
                    })),
                    Event::DocType(_) if self.depth > 0 => Err(self.error(ErrorKind::Forbidden {
                        what: "a DOCTYPE inside an element",
                    })),
                    ev => Ok(ev),
                }
            }
            Err(e) => {
                let at = usize::try_from(self.reader.error_position()).unwrap_or(0);
                Err(TndsError::new(Some(self.locate(at)), ErrorKind::Xml(e)))
            }
        }
    }

    fn text(&self, t: &BytesText<'a>) -> Result<Cow<'a, str>, TndsError> {
        use quick_xml::escape::EscapeError;
        t.unescape().map_err(|e| match e {
            quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => {
                self.error(ErrorKind::UnknownEntity { name })
            }
            quick_xml::Error::Encoding(_) => self.error(ErrorKind::InvalidUtf8),
            e => self.error(ErrorKind::Xml(e)),
        })
    }

    fn cdata(&self, c: BytesCData<'a>) -> Result<Cow<'a, str>, TndsError> {
        let bad = |_| self.error(ErrorKind::InvalidUtf8);
        match c.into_inner() {
            Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed).map_err(bad),
            Cow::Owned(v) => String::from_utf8(v)
                .map(Cow::Owned)
                .map_err(|e| bad(e.utf8_error())),
        }
    }

    fn start(&mut self, local_name: &[u8], full_name: &[u8]) -> Result<Ev<'a>, TndsError> {
        self.depth += 1;
        if self.depth > self.max_element_depth {
            return Err(self.error(ErrorKind::LimitExceeded {
                limit: "max_depth",
                max: self.max_element_depth - TndsLimits::ELEMENT_SLACK,
            }));
        }
        Ok(Ev::Start(match Tag::from_name(local_name) {
            Some(t) => Name::Tag(t),
            None => Name::Other(Cow::Owned(String::from_utf8_lossy(full_name).into_owned())),
        }))
    }
}

impl<'a> Source<'a> for XmlSource<'a> {
    fn next(&mut self) -> Result<Ev<'a>, TndsError> {
        if self.pending_end {
            self.pending_end = false;
            self.depth = self.depth.saturating_sub(1);
            return Ok(Ev::End);
        }
        loop {
            return match self.read()? {
                Event::Start(e) => self.start(e.local_name().as_ref(), e.name().as_ref()),
                Event::Empty(e) => {
                    // Not produced with expand_empty_elements; handled all the same.
                    self.pending_end = true;
                    self.start(e.local_name().as_ref(), e.name().as_ref())
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    Ok(Ev::End)
                }
                Event::Text(t) => self.text(&t).map(Ev::Text),
                Event::CData(c) => self.cdata(c).map(Ev::Text),
                Event::Eof => Ok(Ev::Eof),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => continue,
            };
        }
    }

    fn offset(&self) -> usize {
        self.last
    }

    fn locate(&self, offset: usize) -> Position {
        Position::in_text(self.input, offset)
    }

    fn finish(&mut self) -> Result<(), TndsError> {
        loop {
            match self.read()? {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(self.error(ErrorKind::TrailingContent)),
            }
        }
    }
}

struct XmlSink {
    out: Vec<u8>,
}

impl XmlSink {
    /// Character data, escaped (XML 1.0 §2.4); refuses what is not an XML 1.0 Char (§2.2).
    fn escaped(&mut self, s: &str, element: &'static str) -> Result<(), ErrorKind> {
        let mut from = 0;
        for (i, c) in s.char_indices() {
            let replacement: &[u8] = match c {
                '<' => b"&lt;",
                '>' => b"&gt;",
                '&' => b"&amp;",
                // A literal CR would be turned into LF by end-of-line handling (XML 1.0 §2.11).
                '\r' => b"&#13;",
                '\t' | '\n' => continue,
                c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                    return Err(ErrorKind::CharacterNotAllowed {
                        element,
                        code: u32::from(c),
                    })
                }
                _ => continue,
            };
            self.out
                .extend_from_slice(s.as_bytes().get(from..i).unwrap_or_default());
            self.out.extend_from_slice(replacement);
            from = i + c.len_utf8();
        }
        self.out
            .extend_from_slice(s.as_bytes().get(from..).unwrap_or_default());
        Ok(())
    }

    fn start_tag(&mut self, tag: Tag) {
        self.out.push(b'<');
        self.out.extend_from_slice(tag.name().as_bytes());
        if tag == Tag::MgmtTree {
            self.out.extend_from_slice(b" xmlns=\"");
            self.out.extend_from_slice(super::NAMESPACE.as_bytes());
            self.out.push(b'"');
        }
    }
}

impl Sink for XmlSink {
    type Error = ErrorKind;

    fn open(&mut self, tag: Tag) {
        self.start_tag(tag);
        self.out.push(b'>');
    }

    fn close(&mut self, tag: Tag) {
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(tag.name().as_bytes());
        self.out.push(b'>');
    }

    fn empty(&mut self, tag: Tag) {
        self.start_tag(tag);
        self.out.extend_from_slice(b"/>");
    }

    fn text(&mut self, tag: Tag, text: &str) -> Result<(), ErrorKind> {
        if text.is_empty() {
            self.empty(tag);
            return Ok(());
        }
        self.open(tag);
        self.escaped(text, tag.name())?;
        self.close(tag);
        Ok(())
    }

    fn value(&mut self, value: &[u8], bin: bool) -> Result<(), ErrorKind> {
        if bin {
            return self.text(Tag::Value, &base64_encode(value));
        }
        match std::str::from_utf8(value) {
            Ok(s) => self.text(Tag::Value, s),
            Err(_) => Err(ErrorKind::ValueNotText),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_cr_and_refuses_controls() {
        let mut sink = XmlSink { out: Vec::new() };
        sink.text(Tag::Title, "a<b>&c\r\n\té").unwrap();
        assert_eq!(
            String::from_utf8(sink.out).unwrap(),
            "<Title>a&lt;b&gt;&amp;c&#13;\n\té</Title>"
        );
        let mut sink = XmlSink { out: Vec::new() };
        assert!(matches!(
            sink.text(Tag::Title, "a\u{1}"),
            Err(ErrorKind::CharacterNotAllowed {
                element: "Title",
                code: 1
            })
        ));
        assert!(matches!(
            sink.text(Tag::Man, "\u{FFFF}"),
            Err(ErrorKind::CharacterNotAllowed {
                element: "Man",
                code: 0xFFFF
            })
        ));
    }
}
