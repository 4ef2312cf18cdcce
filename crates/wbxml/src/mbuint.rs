//! `mb_u_int32`, WAP-192 §5.1: an unsigned 32-bit integer as big-endian base-128 digits, the
//! continuation bit 0x80 set on every byte but the last. At most 5 bytes.

use crate::writer::Output;
use crate::Error;

/// Longest encoding of a 32-bit value.
pub const MAX_LEN: usize = 5;

/// Reads an mb_u_int32 at `*pos` and advances `*pos` past it.
///
/// WAP-192 §5.1. Non-minimal encodings (leading 0x80 bytes) are accepted as long as the whole
/// number fits in 5 bytes. Errors: [`Error::BadMbUint`] (at the first byte) when the number is
/// longer than 5 bytes or overflows u32; [`Error::UnexpectedEof`] at `input.len()` with `open: 0`
/// when the input ends inside it (the reader fills in its depth).
#[inline]
pub fn read(input: &[u8], pos: &mut usize) -> Result<u32, Error> {
    let start = *pos;
    let mut value: u32 = 0;
    for i in 0..MAX_LEN {
        let Some(&byte) = input.get(start.saturating_add(i)) else {
            return Err(Error::UnexpectedEof {
                offset: input.len(),
                open: 0,
            });
        };
        if value > u32::MAX >> 7 {
            return Err(Error::BadMbUint { offset: start });
        }
        value = (value << 7) | u32::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            *pos = start + i + 1;
            return Ok(value);
        }
    }
    Err(Error::BadMbUint { offset: start })
}

/// Appends the minimal mb_u_int32 encoding of `v` (WAP-192 §5.1).
#[inline]
pub fn write<O: Output + ?Sized>(out: &mut O, v: u32) {
    if v < 0x80 {
        out.put_byte(v as u8);
        return;
    }
    let mut buf = [0u8; MAX_LEN];
    let len = encoded_len(v);
    let mut rest = v;
    // Fill from the last digit backwards; only the last digit lacks the continuation bit.
    for (i, slot) in buf.iter_mut().take(len).rev().enumerate() {
        let digit = (rest & 0x7F) as u8;
        *slot = if i == 0 { digit } else { digit | 0x80 };
        rest >>= 7;
    }
    out.put(buf.get(..len).unwrap_or(&buf));
}

/// Number of bytes [`write()`] emits for `v`.
pub const fn encoded_len(v: u32) -> usize {
    match v {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0x0FFF_FFFF => 4,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DIGEST §1.1, verified with libwbxml.
    const TABLE: &[(u32, &[u8])] = &[
        (0x00, &[0x00]),
        (0x6A, &[0x6A]),
        (0x7F, &[0x7F]),
        (0x80, &[0x81, 0x00]),
        (0x0FD3, &[0x9F, 0x53]),
        (0x1201, &[0xA4, 0x01]),
        (0x3FFF, &[0xFF, 0x7F]),
        (0x4000, &[0x81, 0x80, 0x00]),
    ];

    #[test]
    fn digest_table_encodes() {
        for &(value, bytes) in TABLE {
            let mut out = Vec::new();
            write(&mut out, value);
            assert_eq!(out, bytes, "value 0x{value:X}");
            assert_eq!(encoded_len(value), bytes.len());
        }
    }

    #[test]
    fn digest_table_decodes() {
        for &(value, bytes) in TABLE {
            let mut pos = 0;
            assert_eq!(read(bytes, &mut pos), Ok(value));
            assert_eq!(pos, bytes.len());
        }
    }

    #[test]
    fn five_byte_maximum() {
        let mut out = Vec::new();
        write(&mut out, u32::MAX);
        assert_eq!(out, [0x8F, 0xFF, 0xFF, 0xFF, 0x7F]);
        let mut pos = 0;
        assert_eq!(read(&out, &mut pos), Ok(u32::MAX));
        assert_eq!(pos, 5);
    }

    #[test]
    fn overflow_rejected() {
        let mut pos = 0;
        assert_eq!(
            read(&[0x90, 0x80, 0x80, 0x80, 0x00], &mut pos),
            Err(Error::BadMbUint { offset: 0 })
        );
    }

    #[test]
    fn six_bytes_rejected_even_when_small() {
        let mut pos = 1;
        let input = [0xFF, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert_eq!(read(&input, &mut pos), Err(Error::BadMbUint { offset: 1 }));
        assert_eq!(pos, 1);
    }

    #[test]
    fn non_minimal_within_five_bytes_accepted() {
        let mut pos = 0;
        assert_eq!(read(&[0x80, 0x80, 0x01], &mut pos), Ok(1));
    }

    #[test]
    fn truncated_is_eof() {
        let mut pos = 0;
        assert_eq!(
            read(&[0x81, 0x80], &mut pos),
            Err(Error::UnexpectedEof { offset: 2, open: 0 })
        );
        assert_eq!(
            read(&[], &mut pos),
            Err(Error::UnexpectedEof { offset: 0, open: 0 })
        );
    }

    #[test]
    fn every_length_boundary_round_trips() {
        for v in [
            0x7F,
            0x80,
            0x3FFF,
            0x4000,
            0x1F_FFFF,
            0x20_0000,
            0x0FFF_FFFF,
            0x1000_0000,
        ] {
            let mut out = Vec::new();
            write(&mut out, v);
            assert_eq!(out.len(), encoded_len(v));
            let mut pos = 0;
            assert_eq!(read(&out, &mut pos), Ok(v));
        }
    }
}
