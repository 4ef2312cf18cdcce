//! TNDS as WBXML (`application/vnd.syncml.dmtnds+wbxml`; DIGEST §1.7, §6): the DM DDF 1.2
//! vocabulary on code page 2, its FPI `-//OMA//DTD-DM-DDF 1.2//EN` in the string table (no
//! numeric public id exists).

use std::borrow::Cow;
use std::convert::Infallible;

use omadm_wbxml::{Error as WbxmlError, Event, Limits, PublicId, Reader, Version, Writer};

use super::decode::{self, Ev, Name, Source};
use super::encode::{self, Sink};
use super::error::{ErrorKind, Position, TndsError};
use super::limits::TndsLimits;
use super::model::MgmtTree;
use super::tag::Tag;
use super::{CODE_PAGE, FPI};

/// Reads a WBXML TNDS document: any WBXML version 1.0-1.3 and any public id (the literal FPI,
/// a numeric id, or "unknown"); tags on code page 2 (or LITERAL tags naming DDF elements);
/// text as STR_I, STR_T, ENTITY or OPAQUE (UTF-8). A `bin` node's Value may be OPAQUE raw bytes
/// or base64 text.
pub fn from_wbxml(bytes: &[u8], limits: &TndsLimits) -> Result<MgmtTree, TndsError> {
    if bytes.len() > limits.max_bytes {
        return Err(TndsError::new(
            Some(Position::Byte(limits.max_bytes)),
            ErrorKind::LimitExceeded {
                limit: "max_bytes",
                max: limits.max_bytes,
            },
        ));
    }
    if bytes.is_empty() {
        return Err(TndsError::new(None, ErrorKind::Empty));
    }
    let wbxml_limits = Limits {
        max_depth: limits.max_element_depth(),
        max_string_table: limits.max_bytes,
        max_input: limits.max_bytes,
    };
    let reader = Reader::new(bytes, wbxml_limits).map_err(|e| wbxml_error(e, limits))?;
    let mut src = WbxmlSource {
        reader,
        limits,
        last: 0,
    };
    decode::decode(&mut src, limits)
}

/// Writes `tree` as WBXML 1.2: header `02 00 00 6A 1B "-//OMA//DTD-DM-DDF 1.2//EN" 00`, then
/// SWITCH_PAGE 2 and the tags. Empty elements are bare tokens (as libwbxml writes them). A
/// Value goes out as STR_I when it is UTF-8 without NUL, else as OPAQUE; a `bin` value always as
/// OPAQUE raw bytes. Text holding NUL (which ends STR_I) goes out as OPAQUE too, so any tree
/// can be written.
pub fn to_wbxml(tree: &MgmtTree) -> Vec<u8> {
    let mut sink = WbxmlSink {
        w: Writer::new(Vec::new(), Version::V1_2, PublicId::Literal(FPI), 106),
    };
    match encode::encode(tree, &mut sink) {
        Ok(()) => sink.w.finish(),
        Err(never) => match never {},
    }
}

/// A WBXML error as a TNDS one; the reader's depth and size bounds are ours, named as such.
fn wbxml_error(e: WbxmlError, limits: &TndsLimits) -> TndsError {
    let position = e.offset().map(Position::Byte);
    let kind = match e {
        WbxmlError::TooDeep { .. } => ErrorKind::LimitExceeded {
            limit: "max_depth",
            max: limits.max_depth,
        },
        WbxmlError::InputTooLarge { .. } | WbxmlError::StringTableTooLarge { .. } => {
            ErrorKind::LimitExceeded {
                limit: "max_bytes",
                max: limits.max_bytes,
            }
        }
        e => ErrorKind::Wbxml(e),
    };
    TndsError::new(position, kind)
}

struct WbxmlSource<'a, 'l> {
    reader: Reader<'a>,
    limits: &'l TndsLimits,
    last: usize,
}

impl<'a> Source<'a> for WbxmlSource<'a, '_> {
    fn next(&mut self) -> Result<Ev<'a>, TndsError> {
        self.last = self.reader.offset();
        let event = self
            .reader
            .next_event()
            .map_err(|e| wbxml_error(e, self.limits))?;
        Ok(match event {
            None => Ev::Eof,
            Some(Event::Start { page, token, .. }) => Ev::Start(if page == CODE_PAGE {
                match Tag::from_token(token) {
                    Ok(tag) => Name::Tag(tag),
                    Err(Some(name)) => Name::Other(Cow::Borrowed(name)),
                    Err(None) => Name::Other(Cow::Owned(format!(
                        "token 0x{token:02X} of code page {page}"
                    ))),
                }
            } else {
                Name::Other(Cow::Owned(format!(
                    "token 0x{token:02X} of code page {page}"
                )))
            }),
            Some(Event::LiteralStart { name, .. }) => {
                Ev::Start(match Tag::from_name(name.as_bytes()) {
                    Some(tag) => Name::Tag(tag),
                    None => Name::Other(Cow::Borrowed(name)),
                })
            }
            Some(Event::End) => Ev::End,
            Some(Event::Text(s)) => Ev::Text(Cow::Borrowed(s)),
            Some(Event::Entity(c)) => Ev::Text(Cow::Owned(c.to_string())),
            Some(Event::Opaque(b)) => Ev::Opaque(b),
        })
    }

    fn offset(&self) -> usize {
        self.last
    }

    fn locate(&self, offset: usize) -> Position {
        Position::Byte(offset)
    }

    fn finish(&mut self) -> Result<(), TndsError> {
        self.last = self.reader.offset();
        match self.reader.next_event() {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err(TndsError::new(
                Some(Position::Byte(self.last)),
                ErrorKind::TrailingContent,
            )),
            Err(e) => Err(wbxml_error(e, self.limits)),
        }
    }
}

struct WbxmlSink {
    w: Writer<Vec<u8>>,
}

impl WbxmlSink {
    /// STR_I, or OPAQUE when `s` holds NUL (which would end the STR_I).
    fn string(&mut self, s: &str) {
        if self.w.str_i(s).is_err() {
            self.w.opaque(s.as_bytes());
        }
    }
}

impl Sink for WbxmlSink {
    type Error = Infallible;

    fn open(&mut self, tag: Tag) {
        self.w.start(CODE_PAGE, tag.token(), true);
    }

    fn close(&mut self, _: Tag) {
        self.w.end();
    }

    fn empty(&mut self, tag: Tag) {
        self.w.start(CODE_PAGE, tag.token(), false);
    }

    fn text(&mut self, tag: Tag, text: &str) -> Result<(), Infallible> {
        if text.is_empty() {
            self.empty(tag);
        } else {
            self.open(tag);
            self.string(text);
            self.w.end();
        }
        Ok(())
    }

    fn value(&mut self, value: &[u8], bin: bool) -> Result<(), Infallible> {
        if value.is_empty() {
            self.empty(Tag::Value);
            return Ok(());
        }
        self.open(Tag::Value);
        match std::str::from_utf8(value) {
            Ok(s) if !bin => self.string(s),
            _ => self.w.opaque(value),
        }
        self.w.end();
        Ok(())
    }
}
