//! XML → element events.
//!
//! Elements are recognised by local name, so `<Format xmlns="syncml:metinf">`, `<m:Format>`,
//! `<Format>` without a namespace and the misspelt `syncml:metinfo` of samples/windows/02 all
//! read the same. Safety: the DOCTYPE is skipped unread (no DTD processing), entity references
//! other than the five XML ones and numeric references are rejected, and an XML declaration is
//! accepted only at the very start (samples/windows/19 and 20 put one inside `<Data>`).

use std::borrow::Cow;

use quick_xml::events::{BytesCData, BytesStart, Event};
use quick_xml::Reader;

use compact_str::CompactString;

use crate::error::{DecodeError, ErrorKind, Position};
use crate::event::{ElementSource, Ev};
use crate::limits::Limits;
use crate::model::Data;
use crate::tag::Tag;

pub(crate) struct XmlSource<'a> {
    input: &'a [u8],
    reader: Reader<&'a [u8]>,
    depth: usize,
    /// Innermost open vocabulary element (`None`: outside the vocabulary), for "document ends
    /// inside <X>" messages; a tag, so that an element costs no name lookup.
    open: Vec<Option<Tag>>,
    limits: Limits,
    seen_event: bool,
}

impl<'a> XmlSource<'a> {
    pub(crate) fn new(input: &'a [u8], limits: &Limits) -> Result<Self, DecodeError> {
        if input.len() > limits.max_message_bytes {
            return Err(DecodeError {
                position: Position::Byte(limits.max_message_bytes),
                kind: ErrorKind::LimitExceeded {
                    limit: "max_message_bytes",
                    max: limits.max_message_bytes,
                },
            });
        }
        let mut reader = Reader::from_reader(input);
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
        cfg.trim_text(false);
        Ok(XmlSource {
            input,
            reader,
            depth: 0,
            // DM messages nest about 8 deep.
            open: Vec::with_capacity(16),
            limits: *limits,
            seen_event: false,
        })
    }

    fn pos(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn err_at(&self, byte: usize, kind: ErrorKind) -> DecodeError {
        DecodeError {
            position: Position::in_text(self.input, byte),
            kind,
        }
    }

    #[inline(always)] // See `ElementSource`: events returned through calls stall.
    fn read(&mut self) -> Result<Event<'a>, DecodeError> {
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
                    Event::Eof if self.depth > 0 => {
                        let open = match self.open.last() {
                            Some(Some(t)) => t.name(),
                            Some(None) => "?",
                            None => "SyncML",
                        };
                        Err(self.error(ErrorKind::UnexpectedEof { open }))
                    }
                    ev => Ok(ev),
                }
            }
            Err(e) => {
                let at = usize::try_from(self.reader.error_position()).unwrap_or(0);
                Err(self.err_at(at, ErrorKind::Xml(e)))
            }
        }
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.error(ErrorKind::LimitExceeded {
                limit: "max_depth",
                max: self.limits.max_depth,
            }));
        }
        Ok(())
    }

    fn element_name(e: &BytesStart<'_>) -> String {
        String::from_utf8_lossy(e.name().as_ref()).into_owned()
    }

    fn text_of(
        &self,
        t: &quick_xml::events::BytesText<'a>,
        parent: Tag,
    ) -> Result<Cow<'a, str>, DecodeError> {
        t.unescape().map_err(|e| self.text_error(e, parent))
    }

    fn text_error(&self, e: quick_xml::Error, parent: Tag) -> DecodeError {
        use quick_xml::escape::EscapeError;
        match e {
            quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => {
                self.error(ErrorKind::UnknownEntity { name })
            }
            quick_xml::Error::Encoding(_) => self.error(ErrorKind::InvalidUtf8 {
                parent: parent.name(),
            }),
            e => self.error(ErrorKind::Xml(e)),
        }
    }

    fn cdata_of(&self, c: BytesCData<'a>, parent: Tag) -> Result<Cow<'a, str>, DecodeError> {
        let bad = |_| {
            self.error(ErrorKind::InvalidUtf8 {
                parent: parent.name(),
            })
        };
        match c.into_inner() {
            Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed).map_err(bad),
            Cow::Owned(v) => String::from_utf8(v)
                .map(Cow::Owned)
                .map_err(|e| bad(e.utf8_error())),
        }
    }

    fn check_data_len(&self, len: usize) -> Result<(), DecodeError> {
        if len > self.limits.max_data_len {
            return Err(self.error(ErrorKind::LimitExceeded {
                limit: "max_data_len",
                max: self.limits.max_data_len,
            }));
        }
        Ok(())
    }
}

fn append<'a>(acc: &mut Option<Cow<'a, str>>, piece: Cow<'a, str>) {
    match acc {
        None => *acc = Some(piece),
        Some(a) => a.to_mut().push_str(&piece),
    }
}

impl<'a> ElementSource<'a> for XmlSource<'a> {
    #[inline(always)] // See `ElementSource`.
    fn next(&mut self) -> Result<Ev<'a>, DecodeError> {
        loop {
            match self.read()? {
                Event::Start(e) => {
                    self.enter()?;
                    return Ok(match Tag::from_local_name(e.local_name().as_ref()) {
                        Some(t) => {
                            self.open.push(Some(t));
                            Ev::Start(t)
                        }
                        None => {
                            self.open.push(None);
                            Ev::Other(Cow::Owned(Self::element_name(&e)))
                        }
                    });
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.open.pop();
                    return Ok(Ev::End);
                }
                Event::Eof => return Ok(Ev::Eof),
                // Whitespace, stray text (samples/windows/02 has `...` inside an Item),
                // comments, processing instructions, the declaration and DOCTYPE: skipped.
                Event::Empty(_)
                | Event::Text(_)
                | Event::CData(_)
                | Event::Comment(_)
                | Event::PI(_)
                | Event::Decl(_)
                | Event::DocType(_) => continue,
            }
        }
    }

    #[inline(always)] // See `ElementSource`.
    fn read_text(&mut self, element: Tag) -> Result<Cow<'a, str>, DecodeError> {
        let mut acc: Option<Cow<'a, str>> = None;
        loop {
            match self.read()? {
                Event::Text(t) => {
                    let s = self.text_of(&t, element)?;
                    append(&mut acc, s);
                }
                Event::CData(c) => {
                    let s = self.cdata_of(c, element)?;
                    append(&mut acc, s);
                }
                Event::Start(e) => {
                    return Err(self.error(ErrorKind::ElementInText {
                        found: Self::element_name(&e),
                        parent: element.name(),
                    }))
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.open.pop();
                    return Ok(acc.unwrap_or(Cow::Borrowed("")));
                }
                Event::Decl(_) => {
                    return Err(self.error(ErrorKind::Forbidden {
                        what: "an XML declaration inside an element",
                    }))
                }
                _ => continue,
            }
            if acc
                .as_ref()
                .is_some_and(|a| a.len() > self.limits.max_text_len)
            {
                return Err(self.error(ErrorKind::LimitExceeded {
                    limit: "max_text_len",
                    max: self.limits.max_text_len,
                }));
            }
        }
    }

    fn read_data(&mut self) -> Result<Data, DecodeError> {
        let start = self.pos();
        let mut acc: Option<Cow<'a, str>> = None;
        let mut cdata = false;
        let mut nested = 0usize;
        let mut markup = false;
        loop {
            match self.read()? {
                Event::Start(_) => {
                    self.enter()?;
                    nested += 1;
                    markup = true;
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    if nested == 0 {
                        self.open.pop();
                        break;
                    }
                    nested -= 1;
                }
                Event::Text(t) if !markup => {
                    let s = self.text_of(&t, Tag::Data)?;
                    append(&mut acc, s);
                }
                Event::CData(c) if !markup => {
                    cdata = true;
                    let s = self.cdata_of(c, Tag::Data)?;
                    append(&mut acc, s);
                }
                Event::Decl(_) => {
                    return Err(self.error(ErrorKind::Forbidden {
                        what: "an XML declaration inside <Data>",
                    }))
                }
                _ => {}
            }
            if let Some(a) = &acc {
                self.check_data_len(a.len())?;
            }
        }
        if markup {
            let end = self.pos();
            let close = self
                .input
                .get(..end)
                .and_then(|b| b.iter().rposition(|&c| c == b'<'))
                .unwrap_or(start);
            let raw = self.input.get(start..close).unwrap_or_default();
            self.check_data_len(raw.len())?;
            let s = std::str::from_utf8(raw)
                .map_err(|_| self.error(ErrorKind::InvalidUtf8 { parent: "Data" }))?;
            return Ok(Data::Xml(s.into()));
        }
        let text = acc.map(CompactString::from).unwrap_or_default();
        Ok(if cdata {
            Data::Cdata(text)
        } else {
            Data::Text(text)
        })
    }

    fn skip(&mut self) -> Result<(), DecodeError> {
        let mut nested = 0usize;
        loop {
            match self.read()? {
                Event::Start(_) => {
                    self.enter()?;
                    nested += 1;
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    if nested == 0 {
                        self.open.pop();
                        return Ok(());
                    }
                    nested -= 1;
                }
                _ => {}
            }
        }
    }

    fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.read()? {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(self.error(ErrorKind::TrailingContent)),
            }
        }
    }

    fn error(&self, kind: ErrorKind) -> DecodeError {
        self.err_at(self.pos(), kind)
    }
}
