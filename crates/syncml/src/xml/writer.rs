//! Element events → XML.
//!
//! The root carries the SyncML namespace of the message's VerDTD; the outermost MetInf elements
//! carry `xmlns="syncml:metinf"` (as libwbxml and most stacks write them). Compact output has no
//! whitespace between elements; pretty output indents by two spaces and never touches `Data`.

use omadm_wbxml::Output;

use super::escape;
use crate::error::EncodeError;
use crate::event::ElementSink;
use crate::model::Data;
use crate::tag::Tag;

/// How XML is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XmlOptions {
    /// Indent nested elements.
    pub pretty: bool,
    /// Write the `<?xml version="1.0" encoding="UTF-8"?>` declaration.
    pub declaration: bool,
}

pub(crate) struct XmlSink<O: Output> {
    out: O,
    pretty: bool,
    depth: usize,
    metinf_open: usize,
    namespace: &'static str,
}

impl<O: Output> XmlSink<O> {
    pub(crate) fn new(mut out: O, opts: XmlOptions, namespace: &'static str) -> Self {
        if opts.declaration {
            out.put(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            if opts.pretty {
                out.put_byte(b'\n');
            }
        }
        XmlSink {
            out,
            pretty: opts.pretty,
            depth: 0,
            metinf_open: 0,
            namespace,
        }
    }

    pub(crate) fn finish(self) -> O {
        self.out
    }

    fn indent(&mut self) {
        if self.pretty {
            for _ in 0..self.depth {
                self.out.put(b"  ");
            }
        }
    }

    fn newline(&mut self) {
        if self.pretty {
            self.out.put_byte(b'\n');
        }
    }

    fn open_tag(&mut self, tag: Tag) {
        self.out.put_byte(b'<');
        self.out.put(tag.name().as_bytes());
        if tag == Tag::SyncML {
            self.out.put(b" xmlns=\"");
            self.out.put(self.namespace.as_bytes());
            self.out.put_byte(b'"');
        } else if tag.is_metinf() && self.metinf_open == 0 {
            self.out.put(b" xmlns=\"syncml:metinf\"");
        }
    }

    fn close_tag(&mut self, tag: Tag) {
        self.out.put(b"</");
        self.out.put(tag.name().as_bytes());
        self.out.put_byte(b'>');
    }
}

impl<O: Output> ElementSink for XmlSink<O> {
    fn start(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.indent();
        self.open_tag(tag);
        self.out.put_byte(b'>');
        self.newline();
        if tag.is_metinf() {
            self.metinf_open += 1;
        }
        self.depth += 1;
        Ok(())
    }

    fn end(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.depth = self.depth.saturating_sub(1);
        if tag.is_metinf() {
            self.metinf_open = self.metinf_open.saturating_sub(1);
        }
        self.indent();
        self.close_tag(tag);
        self.newline();
        Ok(())
    }

    fn empty(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.indent();
        self.open_tag(tag);
        self.out.put(b"/>");
        self.newline();
        Ok(())
    }

    fn text(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError> {
        self.indent();
        self.open_tag(tag);
        self.out.put_byte(b'>');
        escape::text(&mut self.out, text, tag.name())?;
        self.close_tag(tag);
        self.newline();
        Ok(())
    }

    fn data(&mut self, data: &Data) -> Result<(), EncodeError> {
        self.indent();
        self.out.put(b"<Data>");
        match data {
            Data::Text(s) => escape::text(&mut self.out, s, "Data")?,
            Data::Cdata(s) => escape::cdata(&mut self.out, s, "Data")?,
            Data::Xml(s) => escape::raw(&mut self.out, s, "Data")?,
            // libwbxml renders OPAQUE as CDATA; so do we, when the bytes are text.
            Data::Opaque(b) => match std::str::from_utf8(b) {
                Ok("") => {}
                Ok(s) => escape::cdata(&mut self.out, s, "Data")?,
                Err(_) => return Err(EncodeError::BinaryData { len: b.len() }),
            },
        }
        self.out.put(b"</Data>");
        self.newline();
        Ok(())
    }
}
