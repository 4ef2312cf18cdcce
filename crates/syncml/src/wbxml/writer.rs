//! Element events → WBXML: page 0 for SyncML, page 1 for MetInf, switching only when a tag of
//! the other page comes; text as STR_I, binary (and text holding NUL) as OPAQUE.

use omadm_wbxml::{Output, Writer};

use crate::error::EncodeError;
use crate::event::ElementSink;
use crate::model::Data;
use crate::tag::Tag;

pub(crate) struct WbxmlSink<O: Output> {
    w: Writer<O>,
}

impl<O: Output> WbxmlSink<O> {
    pub(crate) fn new(w: Writer<O>) -> Self {
        WbxmlSink { w }
    }

    pub(crate) fn finish(self) -> O {
        self.w.finish()
    }

    fn bytes_element(&mut self, tag: Tag, text: &str) {
        if text.is_empty() {
            self.w.start(tag.page(), tag.token(), false);
            return;
        }
        self.w.start(tag.page(), tag.token(), true);
        if self.w.str_i(text).is_err() {
            self.w.opaque(text.as_bytes());
        }
        self.w.end();
    }
}

impl<O: Output> ElementSink for WbxmlSink<O> {
    fn start(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.w.start(tag.page(), tag.token(), true);
        Ok(())
    }

    fn end(&mut self, _tag: Tag) -> Result<(), EncodeError> {
        self.w.end();
        Ok(())
    }

    fn empty(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.w.start(tag.page(), tag.token(), false);
        Ok(())
    }

    fn text(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError> {
        self.bytes_element(tag, text);
        Ok(())
    }

    fn data(&mut self, data: &Data) -> Result<(), EncodeError> {
        match data {
            Data::Text(s) | Data::Cdata(s) | Data::Xml(s) => self.bytes_element(Tag::Data, s),
            Data::Opaque(b) if b.is_empty() => {
                self.w.start(Tag::Data.page(), Tag::Data.token(), false)
            }
            Data::Opaque(b) => {
                self.w.start(Tag::Data.page(), Tag::Data.token(), true);
                self.w.opaque(b);
                self.w.end();
            }
        }
        Ok(())
    }
}
