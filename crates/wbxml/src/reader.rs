//! The decoder: a pull reader yielding borrowed [`Event`]s, allocating nothing.

use crate::header::{self, Header};
use crate::strings::{find_nul, utf8, StringTable};
use crate::tokens::{
    ATTRIBUTES, CONTENT, END, ENTITY, EXT_0, EXT_1, EXT_2, EXT_I_0, EXT_I_1, EXT_I_2, EXT_T_0,
    EXT_T_1, EXT_T_2, LITERAL, LITERAL_A, LITERAL_AC, LITERAL_C, OPAQUE, PI, STR_I, STR_T,
    SWITCH_PAGE, TAG_ID,
};
use crate::{mbuint, pi, Error, Limits};

/// One step through the body of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A tag token: `page` is the code page in force, `token` the 6-bit identity (byte & 0x3F),
    /// `content` the 0x40 bit.
    Start { page: u8, token: u8, content: bool },
    /// LITERAL / LITERAL_C: tag name taken from the string table.
    LiteralStart { name: &'a str, content: bool },
    /// Closes the innermost open element. The reader SYNTHESIZES an End right after every
    /// Start/LiteralStart whose content bit is clear, so every start is matched by exactly one End.
    End,
    /// STR_I (inline, borrowed from the input) or STR_T (borrowed from the string table);
    /// validated UTF-8.
    Text(&'a str),
    /// ENTITY: a Unicode scalar value.
    Entity(char),
    /// OPAQUE: raw bytes borrowed from the input.
    Opaque(&'a [u8]),
}

/// A pull reader over one WBXML document (WAP-192 §5.3, §5.8).
///
/// Refused, each with its own [`Error`]: attributes (tags with bit 0x80, LITERAL_A, LITERAL_AC),
/// extension tokens, content outside the root, anything after the root but PIs. Processing
/// instructions (WAP-192 §5.3 `pi`) are skipped wherever they appear. After an error the reader
/// keeps returning that error.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    header: Header<'a>,
    strtbl: StringTable<'a>,
    max_depth: usize,
    depth: usize,
    /// Tag code page in force (WAP-192 §5.8.1: 0 at the start of the body).
    page: u8,
    /// A root element has been started.
    started: bool,
    /// The last Start had no content; its End is due next.
    pending_end: bool,
    failed: Option<Error>,
}

impl<'a> Reader<'a> {
    /// Parses the header. Accepts versions 1.0-1.3; numeric public id or literal (publicid 0
    /// then a strtbl index); charset must be 106 (UTF-8) or 3 (US-ASCII, a subset); anything
    /// else is [`Error::UnsupportedCharset`] naming the MIBenum.
    pub fn new(input: &'a [u8], limits: Limits) -> Result<Self, Error> {
        if input.len() > limits.max_input {
            return Err(Error::InputTooLarge {
                len: input.len(),
                limit: limits.max_input,
            });
        }
        let parsed = header::parse(input, &limits)?;
        Ok(Self {
            input,
            pos: parsed.body,
            header: parsed.header,
            strtbl: parsed.strtbl,
            max_depth: limits.max_depth,
            depth: 0,
            page: 0,
            started: false,
            pending_end: false,
            failed: None,
        })
    }

    /// The document header.
    pub fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// Next event; `Ok(None)` once the root element is closed and only PIs follow it. Bytes
    /// after the root are [`Error::TrailingData`].
    #[inline]
    pub fn next_event(&mut self) -> Result<Option<Event<'a>>, Error> {
        if self.pending_end {
            self.pending_end = false;
            self.close();
            return Ok(Some(Event::End));
        }
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.step();
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// Byte offset of the next token.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Open elements, counting an empty element until its synthesized End is returned.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Current tag code page.
    pub fn page(&self) -> u8 {
        self.page
    }

    fn step(&mut self) -> Result<Option<Event<'a>>, Error> {
        loop {
            let at = self.pos;
            let Some(&byte) = self.input.get(at) else {
                return if !self.started {
                    Err(Error::MissingRoot { offset: at })
                } else if self.depth > 0 {
                    Err(self.eof())
                } else {
                    Ok(None)
                };
            };
            if self.started && self.depth == 0 {
                // WAP-192 §5.3: `body = *pi element *pi`.
                match byte {
                    PI => self.skip_pi()?,
                    END => return Err(Error::UnbalancedEnd { offset: at }),
                    _ => return Err(Error::TrailingData { offset: at }),
                }
                continue;
            }
            match byte {
                // WAP-192 §5.8.4, SWITCH_PAGE: changes the tag page for the tags that follow.
                SWITCH_PAGE => {
                    self.page = *self.input.get(at + 1).ok_or_else(|| self.eof())?;
                    self.pos = at + 2;
                }
                END => {
                    if self.depth == 0 {
                        return Err(Error::UnbalancedEnd { offset: at });
                    }
                    self.pos = at + 1;
                    self.close();
                    return Ok(Some(Event::End));
                }
                STR_I => return self.str_i(at).map(Some),
                STR_T => {
                    self.need_root(at, byte)?;
                    self.pos = at + 1;
                    let index = self.mb()?;
                    return Ok(Some(Event::Text(self.strtbl.get(index, at)?)));
                }
                OPAQUE => return self.opaque(at).map(Some),
                ENTITY => {
                    self.need_root(at, byte)?;
                    self.pos = at + 1;
                    let code = self.mb()?;
                    let c = char::from_u32(code).ok_or(Error::BadEntity { offset: at, code })?;
                    return Ok(Some(Event::Entity(c)));
                }
                LITERAL | LITERAL_C => {
                    self.pos = at + 1;
                    let index = self.mb()?;
                    let name = self.strtbl.get(index, at)?;
                    let content = byte == LITERAL_C;
                    self.open(at, content)?;
                    return Ok(Some(Event::LiteralStart { name, content }));
                }
                PI => self.skip_pi()?,
                LITERAL_A | LITERAL_AC => {
                    return Err(Error::AttributesNotSupported {
                        offset: at,
                        token: byte,
                    })
                }
                EXT_I_0 | EXT_I_1 | EXT_I_2 | EXT_T_0 | EXT_T_1 | EXT_T_2 | EXT_0 | EXT_1
                | EXT_2 => {
                    return Err(Error::ExtensionNotSupported {
                        offset: at,
                        token: byte,
                    })
                }
                // WAP-192 §5.8.2: any other byte is a tag; identities below 5 are the globals above.
                _ => {
                    if byte & ATTRIBUTES != 0 {
                        return Err(Error::AttributesNotSupported {
                            offset: at,
                            token: byte,
                        });
                    }
                    self.pos = at + 1;
                    let content = byte & CONTENT != 0;
                    self.open(at, content)?;
                    return Ok(Some(Event::Start {
                        page: self.page,
                        token: byte & TAG_ID,
                        content,
                    }));
                }
            }
        }
    }

    /// WAP-192 §5.8.4, STR_I: inline string up to NUL.
    #[inline]
    fn str_i(&mut self, at: usize) -> Result<Event<'a>, Error> {
        self.need_root(at, STR_I)?;
        let start = at + 1;
        let rest = self.input.get(start..).unwrap_or_default();
        let len = find_nul(rest).ok_or_else(|| self.eof())?;
        let text = utf8(rest.get(..len).unwrap_or_default(), start)?;
        self.pos = start + len + 1;
        Ok(Event::Text(text))
    }

    /// WAP-192 §5.8.4, OPAQUE: mb_u_int32 length, then that many bytes.
    #[inline]
    fn opaque(&mut self, at: usize) -> Result<Event<'a>, Error> {
        self.need_root(at, OPAQUE)?;
        self.pos = at + 1;
        let len = self.mb()? as usize;
        let start = self.pos;
        let bytes = start
            .checked_add(len)
            .and_then(|end| self.input.get(start..end))
            .ok_or_else(|| self.eof())?;
        self.pos = start + len;
        Ok(Event::Opaque(bytes))
    }

    fn skip_pi(&mut self) -> Result<(), Error> {
        pi::skip(self.input, &mut self.pos).map_err(|e| self.fix_eof(e))
    }

    #[inline]
    fn mb(&mut self) -> Result<u32, Error> {
        mbuint::read(self.input, &mut self.pos).map_err(|e| self.fix_eof(e))
    }

    /// Content (WAP-192 §5.3 `content`) only exists inside an element.
    #[inline]
    fn need_root(&self, at: usize, token: u8) -> Result<(), Error> {
        if self.depth == 0 {
            return Err(Error::ContentOutsideRoot { offset: at, token });
        }
        Ok(())
    }

    #[inline]
    fn open(&mut self, at: usize, content: bool) -> Result<(), Error> {
        if self.depth >= self.max_depth {
            return Err(Error::TooDeep {
                offset: at,
                limit: self.max_depth,
            });
        }
        self.depth += 1;
        self.started = true;
        self.pending_end = !content;
        Ok(())
    }

    #[inline]
    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn eof(&self) -> Error {
        Error::UnexpectedEof {
            offset: self.input.len(),
            open: self.depth,
        }
    }

    fn fix_eof(&self, e: Error) -> Error {
        match e {
            Error::UnexpectedEof { .. } => self.eof(),
            other => other,
        }
    }
}

/// Yields events until the root is closed; after an error, yields that error once and stops.
impl<'a> Iterator for Reader<'a> {
    type Item = Result<Event<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed.is_some() {
            return None;
        }
        self.next_event().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(doc: &[u8]) -> Result<Vec<Event<'_>>, Error> {
        Reader::new(doc, Limits::default())?.collect()
    }

    /// A small SyncML 1.2 document touching every event kind.
    #[test]
    fn hand_built_syncml_document() {
        let doc_tail: &[u8] = &[
            0x6D, // SyncML, content
            0x6C, // SyncHdr, content
            0x71, 0x03, b'1', b'.', b'2', 0x00, 0x01, // VerDTD "1.2"
            0x5A, // Meta, content
            0x00, 0x01, // SWITCH_PAGE 1
            0x47, 0x83, 0x07, 0x01, // Format STR_T -> "b64"
            0x00, 0x00, // SWITCH_PAGE 0
            0x01, // END Meta
            0x01, // END SyncHdr
            0x6B, // SyncBody, content
            0x44, 0x00, // LITERAL_C "Custom"
            0x03, b'a', 0x00, 0x02, 0x81, 0x2C, 0x01, // "a", ENTITY U+00AC, END
            0x4F, 0xC3, 0x03, 0x00, 0xFF, 0x01, 0x01, // Data OPAQUE [00 FF 01], END
            0x12, // Final, empty
            0x01, // END SyncBody
            0x01, // END SyncML
        ];
        let mut doc = vec![0x02, 0xA4, 0x01, 0x6A, 0x0B];
        doc.extend_from_slice(b"Custom\0b64\0");
        doc.extend_from_slice(doc_tail);

        let got = events(&doc);
        use Event::*;
        let expected = vec![
            Start {
                page: 0,
                token: 0x2D,
                content: true,
            },
            Start {
                page: 0,
                token: 0x2C,
                content: true,
            },
            Start {
                page: 0,
                token: 0x31,
                content: true,
            },
            Text("1.2"),
            End,
            Start {
                page: 0,
                token: 0x1A,
                content: true,
            },
            Start {
                page: 1,
                token: 0x07,
                content: true,
            },
            Text("b64"),
            End,
            End,
            End,
            Start {
                page: 0,
                token: 0x2B,
                content: true,
            },
            LiteralStart {
                name: "Custom",
                content: true,
            },
            Text("a"),
            Entity('\u{AC}'),
            End,
            Start {
                page: 0,
                token: 0x0F,
                content: true,
            },
            Opaque(&[0x00, 0xFF, 0x01]),
            End,
            Start {
                page: 0,
                token: 0x12,
                content: false,
            },
            End,
            End,
            End,
        ];
        assert_eq!(got, Ok(expected));
    }

    #[test]
    fn state_accessors_follow_the_stream() {
        let doc = [0x02, 0x01, 0x6A, 0x00, 0x00, 0x01, 0x45, 0x06, 0x01, 0x01];
        let mut r = match Reader::new(&doc, Limits::default()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!((r.offset(), r.depth(), r.page()), (4, 0, 0));
        assert_eq!(
            r.next_event(),
            Ok(Some(Event::Start {
                page: 1,
                token: 5,
                content: true
            }))
        );
        assert_eq!((r.offset(), r.depth(), r.page()), (7, 1, 1));
        assert_eq!(
            r.next_event(),
            Ok(Some(Event::Start {
                page: 1,
                token: 6,
                content: false
            }))
        );
        assert_eq!(r.depth(), 2);
        assert_eq!(r.next_event(), Ok(Some(Event::End)));
        assert_eq!(r.depth(), 1);
        assert_eq!(r.next_event(), Ok(Some(Event::End)));
        assert_eq!(r.depth(), 0);
        assert_eq!(r.next_event(), Err(Error::UnbalancedEnd { offset: 9 }));
        // The error sticks.
        assert_eq!(r.next_event(), Err(Error::UnbalancedEnd { offset: 9 }));
    }

    #[test]
    fn switch_page_before_end_is_legal() {
        let doc = [0x02, 0x01, 0x6A, 0x00, 0x45, 0x00, 0x02, 0x01];
        let mut r = match Reader::new(&doc, Limits::default()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert!(matches!(r.next_event(), Ok(Some(Event::Start { .. }))));
        assert_eq!(r.next_event(), Ok(Some(Event::End)));
        assert_eq!(r.page(), 2);
        assert_eq!(r.next_event(), Ok(None));
        assert_eq!(r.next_event(), Ok(None));
    }

    #[test]
    fn pis_are_skipped_everywhere() {
        let doc = [
            0x02, 0x01, 0x6A, 0x00, 0x43, 0x05, 0x01, 0x45, 0x43, 0x06, 0x03, b'v', 0x00, 0x01,
            0x01, 0x43, 0x07, 0x01,
        ];
        use Event::*;
        assert_eq!(
            events(&doc),
            Ok(vec![
                Start {
                    page: 0,
                    token: 5,
                    content: true
                },
                End
            ])
        );
    }

    #[test]
    fn entity_must_be_a_scalar_value() {
        let doc = [0x02, 0x01, 0x6A, 0x00, 0x45, 0x02, 0x83, 0xB0, 0x00, 0x01];
        assert_eq!(
            events(&doc),
            Err(Error::BadEntity {
                offset: 5,
                code: 0xD800
            })
        );
        let doc = [0x02, 0x01, 0x6A, 0x00, 0x45, 0x02, 0xC4, 0x80, 0x00, 0x01];
        assert_eq!(
            events(&doc),
            Err(Error::BadEntity {
                offset: 5,
                code: 0x110000
            })
        );
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let doc = [
            0x02, 0x01, 0x6A, 0x00, 0x45, 0x03, b'a', 0xC3, 0x28, 0x00, 0x01,
        ];
        assert_eq!(events(&doc), Err(Error::InvalidUtf8 { offset: 7 }));
    }

    #[test]
    fn content_before_root_is_refused() {
        let doc = [0x02, 0x01, 0x6A, 0x00, 0x03, b'a', 0x00, 0x45, 0x01];
        assert_eq!(
            events(&doc),
            Err(Error::ContentOutsideRoot {
                offset: 4,
                token: 0x03
            })
        );
    }

    #[test]
    fn extensions_are_refused() {
        for ext in [0x40, 0x41, 0x42, 0x80, 0x81, 0x82, 0xC0, 0xC1, 0xC2] {
            let doc = [0x02, 0x01, 0x6A, 0x00, 0x45, ext, 0x00, 0x01];
            assert_eq!(
                events(&doc),
                Err(Error::ExtensionNotSupported {
                    offset: 5,
                    token: ext
                })
            );
        }
    }

    #[test]
    fn missing_root() {
        let doc = [0x02, 0x01, 0x6A, 0x00];
        assert_eq!(events(&doc), Err(Error::MissingRoot { offset: 4 }));
        let doc = [0x02, 0x01, 0x6A, 0x00, 0x43, 0x05, 0x01];
        assert_eq!(events(&doc), Err(Error::MissingRoot { offset: 7 }));
    }

    #[test]
    fn input_limit() {
        let doc = [0x02, 0x01, 0x6A, 0x00, 0x05];
        let limits = Limits {
            max_input: 4,
            ..Limits::default()
        };
        assert!(matches!(
            Reader::new(&doc, limits),
            Err(Error::InputTooLarge { len: 5, limit: 4 })
        ));
    }
}
