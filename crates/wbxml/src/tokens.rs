//! Global tokens (WAP-192 §7.1) and the tag byte masks (WAP-192 §5.8.2).
//!
//! Global tokens have the same meaning on every code page and take precedence over tag tokens:
//! the low 5 identities (0x00-0x04) of each of the four 0x40/0x80 combinations are reserved for them.

/// Change the code page; the next byte is the new page number.
pub const SWITCH_PAGE: u8 = 0x00;
/// Closes an element (or an attribute list / PI).
pub const END: u8 = 0x01;
/// Character entity; an mb_u_int32 UCS-4 code follows.
pub const ENTITY: u8 = 0x02;
/// Inline string, terminated by NUL.
pub const STR_I: u8 = 0x03;
/// Tag named in the string table, no attributes, no content; mb_u_int32 index follows.
pub const LITERAL: u8 = 0x04;
/// Inline string extension 0.
pub const EXT_I_0: u8 = 0x40;
/// Inline string extension 1.
pub const EXT_I_1: u8 = 0x41;
/// Inline string extension 2.
pub const EXT_I_2: u8 = 0x42;
/// Processing instruction.
pub const PI: u8 = 0x43;
/// Literal tag with content.
pub const LITERAL_C: u8 = 0x44;
/// String table reference extension 0.
pub const EXT_T_0: u8 = 0x80;
/// String table reference extension 1.
pub const EXT_T_1: u8 = 0x81;
/// String table reference extension 2.
pub const EXT_T_2: u8 = 0x82;
/// String table reference; mb_u_int32 index follows.
pub const STR_T: u8 = 0x83;
/// Literal tag with attributes.
pub const LITERAL_A: u8 = 0x84;
/// Single-byte extension 0.
pub const EXT_0: u8 = 0xC0;
/// Single-byte extension 1.
pub const EXT_1: u8 = 0xC1;
/// Single-byte extension 2.
pub const EXT_2: u8 = 0xC2;
/// Opaque data; mb_u_int32 length and that many bytes follow.
pub const OPAQUE: u8 = 0xC3;
/// Literal tag with attributes and content.
pub const LITERAL_AC: u8 = 0xC4;

/// Mask for the 6-bit tag identity.
pub const TAG_ID: u8 = 0x3F;
/// Bit set on a tag that has content (and therefore an END).
pub const CONTENT: u8 = 0x40;
/// Bit set on a tag that has an attribute list.
pub const ATTRIBUTES: u8 = 0x80;

/// Lowest tag identity a code page can assign; 0x00-0x04 are global tokens.
pub const FIRST_TAG: u8 = 0x05;

/// True when `byte` is one of the 20 global tokens rather than a tag.
#[inline]
pub const fn is_global(byte: u8) -> bool {
    byte & TAG_ID < FIRST_TAG
}
