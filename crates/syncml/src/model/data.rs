//! `Data`: kept as it was sent.

use std::borrow::Cow;

use compact_str::CompactString;

/// The content of a `Data` element, in the form it arrived in.
///
/// Equality compares the carried bytes, not the form: `Text("a<b")` decoded from `a&lt;b`,
/// `Cdata("a<b")` and `Opaque(b"a<b")` are the same value. The form only decides how a writer
/// renders it again (libwbxml, for one, renders OPAQUE as CDATA).
#[derive(Clone, Debug)]
pub enum Data {
    /// Character data (entities already resolved).
    Text(CompactString),
    /// Character data that arrived in one or more CDATA sections (and is written back as CDATA).
    Cdata(CompactString),
    /// Raw nested markup, verbatim between `<Data>` and `</Data>` (Windows sends whole XML
    /// documents this way instead of escaping them).
    Xml(CompactString),
    /// WBXML OPAQUE bytes: binary values, nested WBXML documents (TNDS), or text a peer chose to
    /// send opaque. Stays bytes until asked.
    Opaque(Vec<u8>),
}

impl Data {
    /// The carried bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Data::Text(s) | Data::Cdata(s) | Data::Xml(s) => s.as_bytes(),
            Data::Opaque(b) => b,
        }
    }

    /// The content as text when it is UTF-8 (always, except for binary opaque data).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Data::Text(s) | Data::Cdata(s) | Data::Xml(s) => Some(s),
            Data::Opaque(b) => std::str::from_utf8(b).ok(),
        }
    }

    /// The content as text, replacing invalid UTF-8 (for display).
    pub fn to_text_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// Number of bytes carried.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True when nothing is carried.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// True for opaque bytes that start like a WBXML document (version 1.0-1.3 and a
    /// parseable header): a nested TNDS or DevInf document carried in OPAQUE.
    pub fn is_nested_wbxml(&self) -> bool {
        match self {
            Data::Opaque(b) => match omadm_wbxml::Reader::new(b, omadm_wbxml::Limits::default()) {
                Ok(mut r) => loop {
                    match r.next_event() {
                        Ok(Some(_)) => {}
                        Ok(None) => break true,
                        Err(_) => break false,
                    }
                },
                Err(_) => false,
            },
            _ => false,
        }
    }

    /// Name of the form, for display.
    pub fn kind(&self) -> &'static str {
        match self {
            Data::Text(_) => "text",
            Data::Cdata(_) => "cdata",
            Data::Xml(_) => "xml",
            Data::Opaque(_) => "opaque",
        }
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Data {}

impl From<&str> for Data {
    fn from(s: &str) -> Data {
        Data::Text(s.into())
    }
}

impl From<String> for Data {
    fn from(s: String) -> Data {
        Data::Text(s.into())
    }
}

impl From<Vec<u8>> for Data {
    fn from(b: Vec<u8>) -> Data {
        Data::Opaque(b)
    }
}
