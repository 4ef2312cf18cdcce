//! Entry points: decode bytes to a [`Message`], encode a message to bytes, and sizes.

use omadm_wbxml::{Counter, Output, PublicId, Version, Writer};

use crate::error::{DecodeError, EncodeError, ErrorKind, Position};
use crate::event::ElementSink;
use crate::limits::Limits;
use crate::model::{Command, Message};
use crate::wbxml::{reader::WbxmlSource, writer::WbxmlSink};
use crate::xml::{reader::XmlSource, writer::XmlOptions, writer::XmlSink};
use crate::{decode, encode};

/// The two encodings of a DM message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `application/vnd.syncml.dm+xml`
    Xml,
    /// `application/vnd.syncml.dm+wbxml`
    Wbxml,
}

impl Encoding {
    /// Tells the encoding from the first bytes: XML starts with `<` (after an optional BOM and
    /// whitespace); WBXML with a version byte 0x00-0x03.
    pub fn detect(bytes: &[u8]) -> Result<Encoding, DecodeError> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if let Some(&(0x00..=0x03)) = bytes.first() {
            return Ok(Encoding::Wbxml);
        }
        match body.iter().position(|b| !b.is_ascii_whitespace()) {
            None => Err(DecodeError {
                position: Position::Byte(0),
                kind: ErrorKind::Empty,
            }),
            Some(i) if body[i] == b'<' => Ok(Encoding::Xml),
            Some(i) => {
                let at = i + (bytes.len() - body.len());
                Err(DecodeError {
                    position: Position::Byte(at),
                    kind: ErrorKind::UnknownEncoding { first: body[i] },
                })
            }
        }
    }

    /// The DM content type (DIGEST.md §2.1).
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Xml => "application/vnd.syncml.dm+xml",
            Encoding::Wbxml => "application/vnd.syncml.dm+wbxml",
        }
    }

    /// The encoding named by an HTTP Content-Type: the DM types, and the plain
    /// `application/vnd.syncml+xml`/`+wbxml` older clients send (samples/libdmclient).
    pub fn from_content_type(ct: &str) -> Option<Encoding> {
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/vnd.syncml.dm+xml" | "application/vnd.syncml+xml" => Some(Encoding::Xml),
            "application/vnd.syncml.dm+wbxml" | "application/vnd.syncml+wbxml" => {
                Some(Encoding::Wbxml)
            }
            _ => None,
        }
    }
}

/// How WBXML is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WbxmlOptions {
    /// WBXML version of the header (1.2 by default, as DM stacks send).
    pub version: Version,
}

impl Default for WbxmlOptions {
    fn default() -> Self {
        WbxmlOptions {
            version: Version::V1_2,
        }
    }
}

/// SyncML namespace for the VerDTD of a message.
fn namespace(ver_dtd: &str) -> &'static str {
    match ver_dtd {
        "1.0" => "SYNCML:SYNCML1.0",
        "1.1" => "SYNCML:SYNCML1.1",
        _ => "SYNCML:SYNCML1.2",
    }
}

/// WBXML public identifier for the VerDTD of a message (DIGEST.md §1.3).
fn public_id(ver_dtd: &str) -> u32 {
    match ver_dtd {
        "1.0" => 0x0FD1,
        "1.1" => 0x0FD3,
        _ => 0x1201,
    }
}

fn wbxml_writer<O: Output>(out: O, ver_dtd: &str, opts: WbxmlOptions) -> Writer<O> {
    Writer::new(
        out,
        opts.version,
        PublicId::Numeric(public_id(ver_dtd)),
        106,
    )
}

impl Message {
    /// Decodes XML or WBXML, telling which from the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        Message::decode_with(bytes, &Limits::default()).map(|(m, _)| m)
    }

    /// Decodes XML or WBXML under `limits`; also returns the encoding found.
    pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<(Message, Encoding), DecodeError> {
        let enc = Encoding::detect(bytes)?;
        let msg = match enc {
            Encoding::Xml => Message::from_xml_with(bytes, limits)?,
            Encoding::Wbxml => Message::from_wbxml_with(bytes, limits)?,
        };
        Ok((msg, enc))
    }

    /// Decodes an XML message.
    pub fn from_xml(bytes: &[u8]) -> Result<Message, DecodeError> {
        Message::from_xml_with(bytes, &Limits::default())
    }

    /// Decodes an XML message under `limits`.
    pub fn from_xml_with(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
        let mut src = XmlSource::new(bytes, limits)?;
        // A DM command takes a few hundred bytes of XML.
        decode::decode(&mut src, limits, bytes.len() / 512)
    }

    /// Decodes a WBXML message.
    pub fn from_wbxml(bytes: &[u8]) -> Result<Message, DecodeError> {
        Message::from_wbxml_with(bytes, &Limits::default())
    }

    /// Decodes a WBXML message under `limits`.
    pub fn from_wbxml_with(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
        let mut src = WbxmlSource::new(bytes, limits)?;
        // ... and about half as many of WBXML.
        decode::decode(&mut src, limits, bytes.len() / 256)
    }

    /// Encodes in `enc` with default options (compact XML with declaration; WBXML 1.2).
    pub fn encode(&self, enc: Encoding) -> Result<Vec<u8>, EncodeError> {
        match enc {
            Encoding::Xml => self.to_xml(),
            Encoding::Wbxml => Ok(self.to_wbxml()),
        }
    }

    /// Compact XML with the XML declaration.
    pub fn to_xml(&self) -> Result<Vec<u8>, EncodeError> {
        self.to_xml_with(XmlOptions {
            pretty: false,
            declaration: true,
        })
    }

    /// XML written as `opts` says.
    pub fn to_xml_with(&self, opts: XmlOptions) -> Result<Vec<u8>, EncodeError> {
        // A second pass over the model to size the buffer exactly costs more than a guess.
        let mut out = Vec::with_capacity(512 + self.body.commands.len() * 384);
        self.write_xml(opts, &mut out)?;
        Ok(out)
    }

    /// Appends the XML to `out`, so that a server can reuse one buffer for every message. On
    /// error `out` is left as it was.
    pub fn write_xml(&self, opts: XmlOptions, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let before = out.len();
        let mut sink = XmlSink::new(&mut *out, opts, namespace(&self.hdr.ver_dtd));
        let result = encode::message(self, &mut sink);
        if result.is_err() {
            out.truncate(before);
        }
        result
    }

    /// WBXML 1.2 with public id 0x1201 (0x0FD3 for VerDTD 1.1).
    pub fn to_wbxml(&self) -> Vec<u8> {
        self.to_wbxml_with(WbxmlOptions::default())
    }

    /// WBXML written as `opts` says.
    pub fn to_wbxml_with(&self, opts: WbxmlOptions) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.commands.len() * 160);
        self.write_wbxml(opts, &mut out);
        out
    }

    /// Appends the WBXML to `out`, so that a server can reuse one buffer for every message.
    pub fn write_wbxml(&self, opts: WbxmlOptions, out: &mut Vec<u8>) {
        let mut sink = WbxmlSink::new(wbxml_writer(out, &self.hdr.ver_dtd, opts));
        // The WBXML sink cannot fail: every string has a form (STR_I or OPAQUE).
        let _ = encode::message(self, &mut sink);
    }

    /// Exact size of [`Message::encode`]'s output, computed without writing it.
    pub fn encoded_len(&self, enc: Encoding) -> Result<usize, EncodeError> {
        match enc {
            Encoding::Xml => self.xml_len_with(XmlOptions {
                pretty: false,
                declaration: true,
            }),
            Encoding::Wbxml => Ok(self.wbxml_len_with(WbxmlOptions::default())),
        }
    }

    /// Exact size of [`Message::to_xml_with`]'s output.
    pub fn xml_len_with(&self, opts: XmlOptions) -> Result<usize, EncodeError> {
        let mut sink = XmlSink::new(Counter::default(), opts, namespace(&self.hdr.ver_dtd));
        encode::message(self, &mut sink)?;
        Ok(sink.finish().0)
    }

    /// Exact size of [`Message::to_wbxml_with`]'s output.
    pub fn wbxml_len_with(&self, opts: WbxmlOptions) -> usize {
        let mut sink = WbxmlSink::new(wbxml_writer(Counter::default(), &self.hdr.ver_dtd, opts));
        let _ = encode::message(self, &mut sink);
        sink.finish().0
    }
}

impl Command {
    /// Bytes this command adds to a message in `enc` (compact XML). For WBXML the figure may
    /// exceed the exact contribution by the two bytes of a page switch back to page 0 that the
    /// next element pays, so summing these never underestimates a message (MaxMsgSize packing).
    pub fn encoded_len(&self, enc: Encoding) -> Result<usize, EncodeError> {
        match enc {
            Encoding::Xml => {
                let mut sink = XmlSink::new(Counter::default(), XmlOptions::default(), "");
                encode::command(self, &mut sink)?;
                Ok(sink.finish().0)
            }
            Encoding::Wbxml => {
                let base = wbxml_writer(Counter::default(), "1.2", WbxmlOptions::default());
                let header = base.output().0;
                let mut sink = WbxmlSink::new(base);
                encode::command(self, &mut sink)?;
                // A closing tag of page 0 forces the switch back if the command ended on page 1.
                let _ = sink.empty(crate::Tag::Final);
                Ok(sink.finish().0 - header - 1)
            }
        }
    }
}
