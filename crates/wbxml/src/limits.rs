//! Resource limits the reader enforces on untrusted input.

/// Bounds on what a [`crate::Reader`] accepts. The reader allocates nothing, so these guard the
/// callers that build trees from its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest element nesting accepted (the root is depth 1). Default 64.
    pub max_depth: usize,
    /// Largest string table accepted, in bytes. Default 1 MiB.
    pub max_string_table: usize,
    /// Largest document accepted, in bytes. Default 64 MiB.
    pub max_input: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_string_table: 1 << 20,
            max_input: 64 << 20,
        }
    }
}
