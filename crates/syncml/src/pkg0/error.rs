//! Errors of the package #0 codec; each decode error names the byte offset it was found at.

/// A notification that cannot be decoded or encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Pkg0Error {
    /// The input ended inside a field.
    #[error(
        "notification truncated at byte {offset}: {field} needs {needed} byte(s), {available} left"
    )]
    Truncated {
        /// Offset of the field.
        offset: usize,
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// The input is longer than [`super::MAX_PKG0_LEN`].
    #[error("notification of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Input or output length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The version field holds a value this layout does not accept.
    #[error("unsupported notification version {version} at byte {offset}")]
    UnsupportedVersion {
        /// Offset of the version field.
        offset: usize,
        /// The field value (11 = "1.1", 12 = "1.2", 13 = "1.3").
        version: u16,
    },
    /// Bits the spec reserves ("future use", must be 0) are set.
    #[error("reserved bits at byte {offset} must be 0, found {value:#x}")]
    ReservedBits {
        /// Offset of the byte holding the first reserved bit.
        offset: usize,
        /// The reserved bits' value.
        value: u64,
    },
    /// The server identifier is empty.
    #[error("empty server identifier at byte {offset}")]
    EmptyServerId {
        /// Offset of the server identifier.
        offset: usize,
    },
    /// A text field is not valid UTF-8.
    #[error("{field} at byte {offset} is not valid UTF-8")]
    NotUtf8 {
        /// Offset of the field.
        offset: usize,
        /// The field.
        field: &'static str,
    },
    /// A 1.3 option has length 0 (every option's minimum size is 1).
    #[error("option {option} at byte {offset} has length 0")]
    EmptyOption {
        /// Offset of the TLV header.
        offset: usize,
        /// The option number.
        option: u8,
    },
    /// A 1.3 option's length is outside the range its table row allows.
    #[error("option {option} at byte {offset} has length {len}, allowed {min}..={max}")]
    OptionLength {
        /// Offset of the TLV header.
        offset: usize,
        /// The option number.
        option: u8,
        /// Its length.
        len: usize,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// 1.3 options must appear in ascending option-number order.
    #[error("option {option} at byte {offset} follows option {previous}: options must ascend")]
    OptionOrder {
        /// Offset of the TLV header.
        offset: usize,
        /// The option number.
        option: u8,
        /// The option before it.
        previous: u8,
    },
    /// A 1.3 option that may occur at most once occurs again.
    #[error("option {option} at byte {offset} occurs more than once")]
    DuplicateOption {
        /// Offset of the second occurrence.
        offset: usize,
        /// The option number.
        option: u8,
    },
    /// The 1.3 Server-ID option (1) is missing.
    #[error("no Server-ID option before byte {offset}")]
    MissingServerId {
        /// Offset where the options ended.
        offset: usize,
    },
    /// The 1.3 digest (the bytes after the options) has a length no known hash gives.
    #[error("digest at byte {offset} has {len} bytes; expected 16 (MD5) or 32 (SHA-256)")]
    DigestLength {
        /// Offset of the digest.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// A value does not fit its field when encoding.
    #[error("cannot encode {field}: {value} does not fit (max {max})")]
    FieldOverflow {
        /// The field.
        field: &'static str,
        /// The value (a number or a length).
        value: usize,
        /// The largest value the field can hold.
        max: usize,
    },
}
