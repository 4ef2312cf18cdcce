//! Decoder limits, in one place.

/// Bounds on what a decoder accepts. Exceeding one is an error naming it
/// ([`crate::ErrorKind::LimitExceeded`]), never a panic or an unbounded allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted, in bytes (default 64 MiB).
    pub max_message_bytes: usize,
    /// Deepest element nesting (default 32: a DM message needs about 8 plus Atomic/Sequence nesting).
    pub max_depth: usize,
    /// Most commands in one message, nested ones included (default 100 000).
    pub max_commands: usize,
    /// Most items in one message (default 200 000).
    pub max_items: usize,
    /// Longest text of an element other than `Data` (default 64 KiB).
    pub max_text_len: usize,
    /// Longest `Data` content (default 32 MiB; large objects arrive in chunks anyway).
    pub max_data_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 << 20,
            max_depth: 32,
            max_commands: 100_000,
            max_items: 200_000,
            max_text_len: 64 << 10,
            max_data_len: 32 << 20,
        }
    }
}
