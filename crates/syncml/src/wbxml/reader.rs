//! WBXML → element events.
//!
//! Tokens of pages 0 and 1 map to [`Tag`]s; LITERAL tags are matched by name. `Data` keeps its
//! form: STR_I/STR_T/ENTITY text becomes [`Data::Text`], OPAQUE stays bytes ([`Data::Opaque`],
//! mixed with text too), and an inline element tree (a DevInf/TNDS/MetInf subtree under a page
//! switch) is rendered as XML text ([`Data::Xml`]) using the code page tables for its names.

use std::borrow::Cow;

use omadm_wbxml::{tables, Event, Reader};

use compact_str::CompactString;

use crate::error::{DecodeError, ErrorKind, Position};
use crate::event::{ElementSource, Ev};
use crate::limits::Limits;
use crate::model::Data;
use crate::tag::Tag;

pub(crate) struct WbxmlSource<'a> {
    reader: Reader<'a>,
    limits: Limits,
}

impl<'a> WbxmlSource<'a> {
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
        let wl = omadm_wbxml::Limits {
            max_depth: limits.max_depth,
            max_input: limits.max_message_bytes,
            ..omadm_wbxml::Limits::default()
        };
        let reader = Reader::new(input, wl).map_err(|e| DecodeError::wbxml(e, 0))?;
        Ok(WbxmlSource {
            reader,
            limits: *limits,
        })
    }

    #[inline(always)] // See `ElementSource`: events returned through calls stall.
    fn read(&mut self) -> Result<Option<Event<'a>>, DecodeError> {
        let at = self.reader.offset();
        self.reader
            .next_event()
            .map_err(|e| DecodeError::wbxml(e, at))
    }

    fn read_in(&mut self, open: &'static str) -> Result<Event<'a>, DecodeError> {
        match self.read()? {
            Some(ev) => Ok(ev),
            None => Err(self.error(ErrorKind::UnexpectedEof { open })),
        }
    }

    fn name_of(page: u8, token: u8) -> Cow<'static, str> {
        match tables::SYNCML_12.tag_name(page, token) {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(format!("page{page}-token{token:#04x}")),
        }
    }

    fn utf8(&self, b: &'a [u8], parent: &'static str) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(b).map_err(|_| self.error(ErrorKind::InvalidUtf8 { parent }))
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

    /// Renders an inline element tree inside `Data` as XML; `first` is its first event.
    fn render_tree(
        &mut self,
        first: Event<'a>,
        mut pending: Option<Event<'a>>,
        mut before: Vec<u8>,
    ) -> Result<Data, DecodeError> {
        let out = &mut before;
        let mut names: Vec<Cow<'a, str>> = Vec::new();
        let mut ev = first;
        loop {
            match ev {
                Event::Start { page, token, .. } => {
                    let n: Cow<'a, str> = Self::name_of(page, token);
                    out.push(b'<');
                    out.extend_from_slice(n.as_bytes());
                    out.push(b'>');
                    names.push(n);
                }
                Event::LiteralStart { name, .. } => {
                    // A literal name comes from the peer's string table: it must be an XML
                    // name, or it would inject markup into the rendered XML.
                    if !is_xml_name(name) {
                        return Err(self.error(ErrorKind::BadElementName {
                            name: name.to_owned(),
                        }));
                    }
                    out.push(b'<');
                    out.extend_from_slice(name.as_bytes());
                    out.push(b'>');
                    names.push(Cow::Borrowed(name));
                }
                Event::End => match names.pop() {
                    Some(n) => {
                        out.extend_from_slice(b"</");
                        out.extend_from_slice(n.as_bytes());
                        out.push(b'>');
                    }
                    None => break,
                },
                Event::Text(s) => push_escaped(out, s),
                Event::Entity(c) => push_escaped(out, c.encode_utf8(&mut [0u8; 4])),
                Event::Opaque(b) => {
                    let s = self.utf8(b, "Data")?;
                    push_escaped(out, s);
                }
            }
            self.check_data_len(out.len())?;
            ev = match pending.take() {
                Some(e) => e,
                None => self.read_in("Data")?,
            };
        }
        let s = String::from_utf8(before)
            .map_err(|_| self.error(ErrorKind::InvalidUtf8 { parent: "Data" }))?;
        Ok(Data::Xml(s.into()))
    }
}

fn push_escaped(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            _ => out.push(b),
        }
    }
}

impl<'a> ElementSource<'a> for WbxmlSource<'a> {
    #[inline(always)] // See `ElementSource`.
    fn next(&mut self) -> Result<Ev<'a>, DecodeError> {
        loop {
            match self.read()? {
                Some(Event::Start { page, token, .. }) => {
                    return Ok(match Tag::from_token(page, token) {
                        Some(t) => Ev::Start(t),
                        None => Ev::Other(Self::name_of(page, token)),
                    })
                }
                Some(Event::LiteralStart { name, .. }) => {
                    return Ok(match Tag::from_local_name(name.as_bytes()) {
                        Some(t) => Ev::Start(t),
                        None => Ev::Other(Cow::Borrowed(name)),
                    })
                }
                Some(Event::End) => return Ok(Ev::End),
                Some(Event::Text(_) | Event::Entity(_) | Event::Opaque(_)) => continue,
                None => return Ok(Ev::Eof),
            }
        }
    }

    #[inline(always)] // See `ElementSource`.
    fn read_text(&mut self, element: Tag) -> Result<Cow<'a, str>, DecodeError> {
        let mut acc: Option<Cow<'a, str>> = None;
        loop {
            let piece: Cow<'a, str> = match self.read_in(element.name())? {
                Event::Text(s) => Cow::Borrowed(s),
                Event::Entity(c) => Cow::Owned(c.to_string()),
                Event::Opaque(b) => Cow::Borrowed(self.utf8(b, element.name())?),
                Event::End => return Ok(acc.unwrap_or(Cow::Borrowed(""))),
                Event::Start { page, token, .. } => {
                    return Err(self.error(ErrorKind::ElementInText {
                        found: Self::name_of(page, token).into_owned(),
                        parent: element.name(),
                    }))
                }
                Event::LiteralStart { name, .. } => {
                    return Err(self.error(ErrorKind::ElementInText {
                        found: name.to_owned(),
                        parent: element.name(),
                    }))
                }
            };
            match &mut acc {
                None => acc = Some(piece),
                Some(a) => a.to_mut().push_str(&piece),
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
        let first = self.read_in("Data")?;
        // Fast path: one text piece, as nearly every Data is.
        if let Event::Text(s) = first {
            let second = self.read_in("Data")?;
            if let Event::End = second {
                self.check_data_len(s.len())?;
                return Ok(Data::Text(CompactString::new(s)));
            }
            return self.read_data_slow(first, Some(second));
        }
        if let Event::End = first {
            return Ok(Data::Text(CompactString::default()));
        }
        self.read_data_slow(first, None)
    }
    fn skip(&mut self) -> Result<(), DecodeError> {
        let mut nested = 0usize;
        loop {
            match self.read_in("element")? {
                Event::Start { .. } | Event::LiteralStart { .. } => nested += 1,
                Event::End if nested == 0 => return Ok(()),
                Event::End => nested -= 1,
                _ => {}
            }
        }
    }

    fn finish(&mut self) -> Result<(), DecodeError> {
        match self.read()? {
            None => Ok(()),
            Some(_) => Err(self.error(ErrorKind::TrailingContent)),
        }
    }

    fn error(&self, kind: ErrorKind) -> DecodeError {
        DecodeError {
            position: Position::Byte(self.reader.offset()),
            kind,
        }
    }
}

impl<'a> WbxmlSource<'a> {
    /// `Data` made of several pieces, opaque bytes, or an element tree.
    /// `pending` is an event already read after `first`.
    fn read_data_slow(
        &mut self,
        first: Event<'a>,
        mut pending: Option<Event<'a>>,
    ) -> Result<Data, DecodeError> {
        let mut bytes: Vec<u8> = Vec::new();
        let mut opaque = false;
        let mut ev = first;
        loop {
            match ev {
                Event::End => break,
                Event::Text(s) => bytes.extend_from_slice(s.as_bytes()),
                Event::Entity(c) => {
                    bytes.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes())
                }
                Event::Opaque(b) => {
                    opaque = true;
                    bytes.extend_from_slice(b);
                }
                start @ (Event::Start { .. } | Event::LiteralStart { .. }) => {
                    let mut before = Vec::with_capacity(bytes.len() + 64);
                    match std::str::from_utf8(&bytes) {
                        Ok(s) => push_escaped(&mut before, s),
                        Err(_) => return Err(self.error(ErrorKind::InvalidUtf8 { parent: "Data" })),
                    }
                    return self.render_tree(start, pending, before);
                }
            }
            self.check_data_len(bytes.len())?;
            ev = match pending.take() {
                Some(e) => e,
                None => self.read_in("Data")?,
            };
        }
        if opaque {
            return Ok(Data::Opaque(bytes));
        }
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Data::Text(s.into())),
            Err(_) => Err(self.error(ErrorKind::InvalidUtf8 { parent: "Data" })),
        }
    }
}

/// XML 1.0 `Name` (ASCII subset strictly; any non-ASCII character accepted as a name character).
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    let start_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii();
    match chars.next() {
        Some(c) if start_ok(c) => {}
        _ => return false,
    }
    chars.all(|c| start_ok(c) || c.is_ascii_digit() || c == '-' || c == '.')
}
