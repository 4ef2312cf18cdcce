//! Processing instructions, WAP-192 §5.3 (`pi = PI attrStart *attrValue END`) and §5.8.3.
//!
//! SyncML never sends PIs, but WAP-192 allows them before, after and inside the root element, so
//! the reader skips them rather than refusing the document. A PI body is in attribute code space:
//! attribute tokens (one byte each) and global tokens with their payloads, up to END.

use crate::strings::find_nul;
use crate::tokens::{
    END, ENTITY, EXT_I_0, EXT_I_1, EXT_I_2, EXT_T_0, EXT_T_1, EXT_T_2, LITERAL, LITERAL_A,
    LITERAL_AC, LITERAL_C, OPAQUE, STR_I, STR_T, SWITCH_PAGE,
};
use crate::{mbuint, Error};

/// Skips the PI whose token is at `*pos`, leaving `*pos` after its END. Running out of input is
/// [`Error::UnexpectedEof`] with `open: 0` (the reader fills in its depth).
pub(crate) fn skip(input: &[u8], pos: &mut usize) -> Result<(), Error> {
    let eof = || Error::UnexpectedEof {
        offset: input.len(),
        open: 0,
    };
    *pos = pos.saturating_add(1);
    loop {
        let byte = *input.get(*pos).ok_or_else(eof)?;
        *pos += 1;
        match byte {
            END => return Ok(()),
            // SWITCH_PAGE here changes the attribute page, which the reader does not track.
            SWITCH_PAGE => {
                input.get(*pos).ok_or_else(eof)?;
                *pos += 1;
            }
            STR_I | EXT_I_0 | EXT_I_1 | EXT_I_2 => {
                let rest = input.get(*pos..).unwrap_or_default();
                let len = find_nul(rest).ok_or_else(eof)?;
                *pos += len + 1;
            }
            ENTITY | STR_T | EXT_T_0 | EXT_T_1 | EXT_T_2 | LITERAL | LITERAL_C | LITERAL_A
            | LITERAL_AC => {
                mbuint::read(input, pos)?;
            }
            OPAQUE => {
                let len = mbuint::read(input, pos)? as usize;
                let end = pos.checked_add(len).filter(|&end| end <= input.len());
                *pos = end.ok_or_else(eof)?;
            }
            // ATTRSTART / ATTRVALUE tokens, EXT_0..2, PI: single bytes.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_every_payload_kind() {
        let pi = [
            0x43, 0x05, 0x00, 0x01, 0x03, b'x', 0x00, 0x83, 0x81, 0x00, 0xC3, 0x02, 0xAA, 0xBB,
            0x02, 0x41, 0x04, 0x00, 0x01, 0xFF,
        ];
        let mut pos = 0;
        assert_eq!(skip(&pi, &mut pos), Ok(()));
        assert_eq!(pos, pi.len() - 1);
    }

    #[test]
    fn truncated_pi_is_eof() {
        for cut in 1..6 {
            let pi = [0x43, 0x05, 0x03, b'x', 0x00, 0x01];
            let mut pos = 0;
            assert_eq!(
                skip(pi.get(..cut).unwrap_or_default(), &mut pos),
                Err(Error::UnexpectedEof {
                    offset: cut,
                    open: 0
                })
            );
        }
    }
}
