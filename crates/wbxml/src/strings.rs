//! Strings: inline NUL-terminated strings (STR_I, WAP-192 §5.8.4) and the string table
//! (WAP-192 §5.7), all borrowed from the input and validated as UTF-8.

use crate::Error;

/// Validates `bytes` as UTF-8; `offset` is where `bytes` starts in the document, so the error
/// points at the first bad byte.
#[inline]
pub(crate) fn utf8(bytes: &[u8], offset: usize) -> Result<&str, Error> {
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
        offset: offset.saturating_add(e.valid_up_to()),
    })
}

/// Position of the first NUL in `bytes`.
///
/// Eight bytes at a time: `(w - 0x01..) & !w & 0x80..` flags every zero byte, and can only
/// misflag bytes above the first zero, so the lowest flag is exact.
#[inline]
pub(crate) fn find_nul(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0usize;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let zeros = w.wrapping_sub(LO) & !w & HI;
        if zeros != 0 {
            return Some(base + (zeros.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| base + i)
}

/// The string table of a document, with its position in the document for error offsets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StringTable<'a> {
    pub(crate) bytes: &'a [u8],
    /// Offset of the table's first byte in the document.
    pub(crate) start: usize,
}

impl<'a> StringTable<'a> {
    /// The NUL-terminated string starting at `index` (WAP-192 §5.7: references may point into
    /// the middle of a string, naming its suffix). `at` is the offset of the referencing token.
    pub(crate) fn get(&self, index: u32, at: usize) -> Result<&'a str, Error> {
        let tail = self.tail(index, at)?;
        let len = find_nul(tail).ok_or_else(|| self.bad_index(index, at))?;
        utf8(tail.get(..len).unwrap_or_default(), self.abs(index))
    }

    /// The document's FPI at `index` (WAP-192 §5.5). Lenient: the SyncML RTK writes the FPI
    /// without a NUL, so with no NUL the FPI runs to the end of the table.
    pub(crate) fn fpi(&self, index: u32, at: usize) -> Result<&'a str, Error> {
        let tail = self.tail(index, at)?;
        let len = find_nul(tail).unwrap_or(tail.len());
        utf8(tail.get(..len).unwrap_or_default(), self.abs(index))
    }

    fn tail(&self, index: u32, at: usize) -> Result<&'a [u8], Error> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.bytes.get(i..))
            .filter(|tail| !tail.is_empty())
            .ok_or_else(|| self.bad_index(index, at))
    }

    fn abs(&self, index: u32) -> usize {
        self.start.saturating_add(index as usize)
    }

    fn bad_index(&self, index: u32, at: usize) -> Error {
        Error::BadStringTableIndex {
            offset: at,
            index,
            table_len: self.bytes.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: StringTable<'static> = StringTable {
        bytes: b"abc\0de\0fg",
        start: 10,
    };

    #[test]
    fn find_nul_matches_a_plain_scan() {
        let mut bytes = [0x80u8; 40];
        assert_eq!(find_nul(&bytes), None);
        for len in 0..bytes.len() {
            for nul in 0..len {
                bytes.fill(0x80);
                if let Some(b) = bytes.get_mut(nul) {
                    *b = 0;
                }
                // A 0x01 after the NUL is where the word trick can misflag.
                if let Some(b) = bytes.get_mut(nul + 1) {
                    *b = 0x01;
                }
                let slice = bytes.get(..len).unwrap_or_default();
                assert_eq!(find_nul(slice), slice.iter().position(|&b| b == 0));
            }
        }
    }

    #[test]
    fn whole_string_and_suffix() {
        assert_eq!(TABLE.get(0, 99), Ok("abc"));
        assert_eq!(TABLE.get(1, 99), Ok("bc"));
        assert_eq!(TABLE.get(4, 99), Ok("de"));
        assert_eq!(TABLE.get(3, 99), Ok(""));
    }

    #[test]
    fn unterminated_or_outside_rejected() {
        for index in [7, 9, 10, u32::MAX] {
            assert_eq!(
                TABLE.get(index, 99),
                Err(Error::BadStringTableIndex {
                    offset: 99,
                    index,
                    table_len: 9
                })
            );
        }
    }

    #[test]
    fn fpi_may_run_to_end_of_table() {
        assert_eq!(TABLE.fpi(7, 0), Ok("fg"));
        assert_eq!(TABLE.fpi(0, 0), Ok("abc"));
        assert!(TABLE.fpi(9, 0).is_err());
    }

    #[test]
    fn utf8_error_points_at_bad_byte() {
        let table = StringTable {
            bytes: b"ok\xFF\0",
            start: 5,
        };
        assert_eq!(table.get(0, 0), Err(Error::InvalidUtf8 { offset: 7 }));
    }
}
