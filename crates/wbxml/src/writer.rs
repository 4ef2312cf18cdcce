//! The encoder: writes header and tokens straight into an [`Output`], with no intermediate
//! buffers. It trusts its caller for element balance (a depth counter backs debug assertions).

use crate::header::{self, PublicId, Version};
use crate::strings::find_nul;
use crate::tokens::{CONTENT, END, ENTITY, LITERAL, LITERAL_C, OPAQUE, STR_I, SWITCH_PAGE, TAG_ID};
use crate::{mbuint, Error};

/// Where the writer puts bytes.
pub trait Output {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
    /// Appends one byte.
    fn put_byte(&mut self, b: u8);
}

impl Output for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.push(b);
    }
}

impl<O: Output + ?Sized> Output for &mut O {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        (**self).put(bytes);
    }

    #[inline]
    fn put_byte(&mut self, b: u8) {
        (**self).put_byte(b);
    }
}

/// An [`Output`] that only counts bytes, so the exact encoded size of a document costs no
/// allocation (e.g. to check a MaxMsgSize before encoding for real).
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter(pub usize);

impl Output for Counter {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }

    #[inline]
    fn put_byte(&mut self, _: u8) {
        self.0 = self.0.saturating_add(1);
    }
}

/// A WBXML encoder over an [`Output`].
#[derive(Debug)]
pub struct Writer<O: Output> {
    out: O,
    /// Tag code page in force (WAP-192 §5.8.1: the body starts on page 0).
    page: u8,
    depth: usize,
    /// A copy of the string table, kept for [`Writer::string_offset`]; empty (unallocated) when
    /// the document has none.
    table: Vec<u8>,
}

impl<O: Output> Writer<O> {
    /// Writes the header (WAP-192 §5.3). A literal public id goes into the string table as
    /// `FPI NUL` with publicid 0 and index 0 (WAP-192 §5.5).
    pub fn new(out: O, version: Version, public_id: PublicId<'_>, charset: u32) -> Self {
        Self::with_string_table(out, version, public_id, charset, &[])
    }

    /// Like [`Writer::new`], appending `extra_strings` (each NUL-terminated, WAP-192 §5.7) to the
    /// string table after the FPI, for LITERAL tags; [`Writer::string_offset`] gives their
    /// indexes. A string holding NUL cannot be a table entry and is left out.
    pub fn with_string_table(
        mut out: O,
        version: Version,
        public_id: PublicId<'_>,
        charset: u32,
        extra_strings: &[&str],
    ) -> Self {
        let mut table = Vec::new();
        if let PublicId::Literal(fpi) = public_id {
            table.extend_from_slice(fpi.as_bytes());
            table.push(0);
        }
        for s in extra_strings {
            if find_nul(s.as_bytes()).is_none() {
                table.extend_from_slice(s.as_bytes());
                table.push(0);
            }
        }
        header::write(&mut out, version, &public_id, charset, &table);
        Self {
            out,
            page: 0,
            depth: 0,
            table,
        }
    }

    /// The string table index of `s`, if the table holds it (the FPI or an extra string).
    pub fn string_offset(&self, s: &str) -> Option<u32> {
        let mut start = 0usize;
        for entry in self.table.split(|&b| b == 0) {
            if entry == s.as_bytes() && start < self.table.len() {
                return u32::try_from(start).ok();
            }
            start = start.saturating_add(entry.len() + 1);
        }
        None
    }

    /// A tag (WAP-192 §5.8.2): `token` is the 6-bit identity (0x05..=0x3F), `content` sets bit
    /// 0x40, in which case an [`Writer::end`] must follow the content. Emits SWITCH_PAGE
    /// (WAP-192 §5.8.4) only when `page` differs from the page in force.
    #[inline]
    pub fn start(&mut self, page: u8, token: u8, content: bool) {
        debug_assert!(
            (0x05..=TAG_ID).contains(&token),
            "tag identity 0x{token:02X} outside 0x05..=0x3F"
        );
        if page != self.page {
            self.out.put(&[SWITCH_PAGE, page]);
            self.page = page;
        }
        let content_bit = if content { CONTENT } else { 0 };
        self.out.put_byte((token & TAG_ID) | content_bit);
        if content {
            self.depth += 1;
        }
    }

    /// LITERAL / LITERAL_C (WAP-192 §5.8.4): a tag named by the string table entry at
    /// `strtbl_index`.
    pub fn literal_start(&mut self, strtbl_index: u32, content: bool) {
        self.out.put_byte(if content { LITERAL_C } else { LITERAL });
        mbuint::write(&mut self.out, strtbl_index);
        if content {
            self.depth += 1;
        }
    }

    /// END (WAP-192 §5.8.4): closes the innermost element started with content.
    #[inline]
    pub fn end(&mut self) {
        debug_assert!(self.depth > 0, "END with no open element");
        self.depth = self.depth.saturating_sub(1);
        self.out.put_byte(END);
    }

    /// STR_I (WAP-192 §5.8.4). NUL terminates STR_I, so a string holding NUL is refused with
    /// [`Error::NulInString`] and nothing is written; send it with [`Writer::opaque`].
    #[inline]
    pub fn str_i(&mut self, s: &str) -> Result<(), Error> {
        if find_nul(s.as_bytes()).is_some() {
            return Err(Error::NulInString);
        }
        self.out.put_byte(STR_I);
        self.out.put(s.as_bytes());
        self.out.put_byte(0);
        Ok(())
    }

    /// OPAQUE (WAP-192 §5.8.4). Data beyond 4 GiB - 1 is split over consecutive OPAQUE tokens,
    /// which a reader concatenates.
    pub fn opaque(&mut self, bytes: &[u8]) {
        const MAX: usize = u32::MAX as usize;
        let mut rest = bytes;
        loop {
            let (chunk, tail) = rest.split_at(rest.len().min(MAX));
            self.out.put_byte(OPAQUE);
            mbuint::write(&mut self.out, chunk.len() as u32);
            self.out.put(chunk);
            if tail.is_empty() {
                return;
            }
            rest = tail;
        }
    }

    /// ENTITY (WAP-192 §5.8.4): the character as its UCS-4 code.
    pub fn entity(&mut self, c: char) {
        self.out.put_byte(ENTITY);
        mbuint::write(&mut self.out, u32::from(c));
    }

    /// The tag code page in force.
    pub fn page(&self) -> u8 {
        self.page
    }

    /// Elements started with content and not yet ended.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The output so far.
    pub fn output(&self) -> &O {
        &self.out
    }

    /// Ends writing and hands back the output.
    pub fn finish(self) -> O {
        debug_assert!(self.depth == 0, "{} element(s) left open", self.depth);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncml_12_header_matches_libwbxml() {
        let w = Writer::new(Vec::new(), Version::V1_2, PublicId::Numeric(0x1201), 106);
        assert_eq!(w.finish(), [0x02, 0xA4, 0x01, 0x6A, 0x00]);
    }

    #[test]
    fn literal_fpi_header_matches_tnds_form() {
        let fpi = "-//OMA//DTD-DM-DDF 1.2//EN";
        let mut w = Writer::new(Vec::new(), Version::V1_2, PublicId::Literal(fpi), 106);
        w.start(2, 0x20, true);
        w.end();
        let mut expected = vec![0x02, 0x00, 0x00, 0x6A, 0x1B];
        expected.extend_from_slice(fpi.as_bytes());
        expected.extend_from_slice(&[0x00, 0x00, 0x02, 0x60, 0x01]);
        assert_eq!(w.finish(), expected);
    }

    #[test]
    fn page_switch_only_when_needed() {
        let mut w = Writer::new(Vec::new(), Version::V1_2, PublicId::Numeric(0x1201), 106);
        w.start(0, 0x2D, true);
        w.start(0, 0x1A, true);
        w.start(1, 0x07, true);
        w.end();
        w.start(1, 0x13, false);
        w.end();
        w.start(0, 0x12, false);
        w.end();
        assert_eq!(w.page(), 0);
        assert_eq!(
            w.finish().get(5..),
            Some(&[0x6D, 0x5A, 0x00, 0x01, 0x47, 0x01, 0x13, 0x01, 0x00, 0x00, 0x12, 0x01][..])
        );
    }

    #[test]
    fn str_i_with_nul_writes_nothing() {
        let mut w = Writer::new(Vec::new(), Version::V1_2, PublicId::Numeric(1), 106);
        let before = w.output().len();
        assert_eq!(w.str_i("a\0b"), Err(Error::NulInString));
        assert_eq!(w.output().len(), before);
        assert_eq!(w.str_i("ab"), Ok(()));
        assert_eq!(
            w.output().get(before..),
            Some(&[0x03, b'a', b'b', 0x00][..])
        );
    }

    #[test]
    fn string_offsets_follow_the_fpi() {
        let w = Writer::with_string_table(
            Vec::new(),
            Version::V1_3,
            PublicId::Literal("FPI"),
            106,
            &["x", "bad\0", "yz", "x"],
        );
        assert_eq!(w.string_offset("FPI"), Some(0));
        assert_eq!(w.string_offset("x"), Some(4));
        assert_eq!(w.string_offset("yz"), Some(6));
        assert_eq!(w.string_offset("bad\0"), None);
        assert_eq!(w.string_offset(""), None);
        assert_eq!(w.string_offset("y"), None);
    }

    #[test]
    fn numeric_zero_written_as_unknown() {
        let w = Writer::new(Vec::new(), Version::V1_3, PublicId::Numeric(0), 106);
        assert_eq!(w.finish(), [0x03, 0x01, 0x6A, 0x00]);
    }

    #[test]
    fn counter_counts_what_vec_gets() {
        fn doc<O: Output>(out: O) -> O {
            let mut w =
                Writer::with_string_table(out, Version::V1_2, PublicId::Literal("F"), 106, &["t"]);
            w.start(0, 0x2D, true);
            w.literal_start(2, false);
            w.opaque(&[0; 200]);
            w.entity('\u{10FFFF}');
            let _ = w.str_i("text");
            w.end();
            w.finish()
        }
        assert_eq!(doc(Counter::default()).0, doc(Vec::new()).len());
    }
}
