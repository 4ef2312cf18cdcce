//! Tree URIs as they arrive in a command's Target/Source LocURI (TND 1.2 "Uniform Resource
//! Identifiers", DIGEST.md §5.2), with their `?prop=` (§5.3) and `?list=` (§5.5) queries, and the
//! DM 1.3 virtual URIs (PROVISIONAL, see [`VirtualUri`]).
//!
//! Choices where the specifications are silent (each pinned by a test):
//! - **Status codes.** A malformed URI or query answers 400 (Bad request): DM RepPro names no
//!   specific code and 400 is its generic one. A well-formed query the device does not implement
//!   (unknown key, property, `?list=` attribute or TNDS property name) answers 406, as TND §5.3/§5.5
//!   prescribe for properties and list attributes. Limit violations answer 414 (TND §5.2).
//! - **Percent-escapes.** Names are kept exactly as sent; `%xx` is never decoded. TND URIs are UTF-8,
//!   so nothing needs escaping, and decoding would give one node two spellings. An escaped slash
//!   (`%2F`, any case) is refused (400): it can only mean a `/` inside a name, which TND forbids.
//! - **Length.** MaxTotLen counts the characters (Unicode scalar values) of the normalized path
//!   (`./A/B`, `.` for the root), without the query, so every spelling of a node has one length.
//!   MaxDepth counts segments below the root; MaxSegLen counts characters of one segment.

mod path;
mod query;
mod virtual_uri;

use compact_str::CompactString;

pub use path::NodePath;
pub use query::{ListQuery, Property, Query, TndsProperty, TndsSelection};
pub use virtual_uri::{InstanceSel, VirtualUri};

/// DevDetail/URI limits; 0 = unlimited (TND §5.2: MaxDepth, MaxTotLen, MaxSegLen, each a 16-bit
/// unsigned decimal). The default is unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UriLimits {
    /// ./DevDetail/URI/MaxDepth: most segments below the root.
    pub max_depth: u16,
    /// ./DevDetail/URI/MaxTotLen: most characters in the normalized URI, query excluded.
    pub max_tot_len: u16,
    /// ./DevDetail/URI/MaxSegLen: most characters in one segment.
    pub max_seg_len: u16,
}

impl UriLimits {
    /// No limits (every field 0).
    pub const UNLIMITED: UriLimits = UriLimits {
        max_depth: 0,
        max_tot_len: 0,
        max_seg_len: 0,
    };

    /// TND §5.2: checks a path against the limits; a violation answers 414.
    pub fn check_path(&self, path: &NodePath) -> Result<(), UriError> {
        self.check_total(path.as_str())?;
        self.check_segments(path.segments(), 0)?;
        let depth = path.depth();
        if self.max_depth != 0 && depth > usize::from(self.max_depth) {
            return Err(UriError::TooDeep {
                depth,
                max: self.max_depth,
            });
        }
        Ok(())
    }

    fn check_total(&self, uri: &str) -> Result<(), UriError> {
        let len = uri.chars().count();
        if self.max_tot_len != 0 && len > usize::from(self.max_tot_len) {
            return Err(UriError::TooLong {
                len,
                max: self.max_tot_len,
            });
        }
        Ok(())
    }

    fn check_segments<'a>(
        &self,
        segs: impl Iterator<Item = &'a str>,
        first_index: usize,
    ) -> Result<(), UriError> {
        if self.max_seg_len == 0 {
            return Ok(());
        }
        for (index, seg) in (first_index..).zip(segs) {
            let len = seg.chars().count();
            if len > usize::from(self.max_seg_len) {
                return Err(UriError::SegmentTooLong {
                    index,
                    len,
                    max: self.max_seg_len,
                });
            }
        }
        Ok(())
    }
}

/// A URI that cannot address the tree. `index` is the 0-based segment below the root (for a
/// virtual URI: the segment as sent).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// 400: the URI is empty.
    #[error("empty URI")]
    Empty,
    /// 400, TND §5.2: a URI never ends with `/` (the root is `.`, never `./`).
    #[error("URI ends with '/'")]
    TrailingSlash,
    /// 400, TND §5.2: a segment is empty (`A//B`, `/A`).
    #[error("segment {index} is empty")]
    EmptySegment {
        /// Which segment.
        index: usize,
    },
    /// 400, TND §5.2: `.` and `..` are not names (`./` only at the very start).
    #[error("segment {index} is '.' or '..'")]
    DotSegment {
        /// Which segment.
        index: usize,
    },
    /// 400, TND §5.2: `/` cannot occur in a name, escaped (`%2F`) or not.
    #[error("segment {index} holds an escaped '/'")]
    EscapedSlash {
        /// Which segment.
        index: usize,
    },
    /// 400: a name holds `/` (only via [`NodePath::join`]) or `?` (only via [`NodePath::parse`] or
    /// `join`; [`parse`] splits the query off first): no URI could address such a node.
    #[error("segment {index} holds reserved character {ch:?}")]
    ReservedChar {
        /// Which segment.
        index: usize,
        /// The character.
        ch: char,
    },
    /// 400: the query is not exactly one `key=value` (`A?`, `A?prop`, `A?prop=`, `?a=b&c=d`,
    /// `?list=TNDS+`).
    #[error("malformed query")]
    MalformedQuery,
    /// 406: a query key other than `prop` and `list`.
    #[error("unsupported query {0:?}")]
    UnsupportedQuery(CompactString),
    /// 406, TND §5.3: an unknown property.
    #[error("unsupported property {0:?}")]
    UnsupportedProperty(CompactString),
    /// 406, TND §5.5: an unknown `?list=` attribute.
    #[error("unsupported list attribute {0:?}")]
    UnsupportedList(CompactString),
    /// 406, TND §5.5: an unknown property name in `?list=TNDS+…`/`TNDS-…`.
    #[error("unsupported TNDS property {0:?}")]
    UnsupportedTndsProperty(CompactString),
    /// 406, TND §5.5: `+` and `-` mixed in one `?list=TNDS` selection.
    #[error("'+' and '-' mixed in a TNDS selection")]
    MixedTndsSelection,
    /// 400, PROVISIONAL (TND 1.3 §7.2): the URI starts like an MO identifier but is not one.
    #[error("invalid MO identifier {0:?}")]
    InvalidMoid(CompactString),
    /// 414, TND §5.2: longer than MaxTotLen.
    #[error("URI has {len} characters, MaxTotLen is {max}")]
    TooLong {
        /// Characters counted.
        len: usize,
        /// The limit.
        max: u16,
    },
    /// 414, TND §5.2: deeper than MaxDepth.
    #[error("URI has {depth} segments, MaxDepth is {max}")]
    TooDeep {
        /// Segments below the root.
        depth: usize,
        /// The limit.
        max: u16,
    },
    /// 414, TND §5.2: a segment longer than MaxSegLen.
    #[error("segment {index} has {len} characters, MaxSegLen is {max}")]
    SegmentTooLong {
        /// Which segment.
        index: usize,
        /// Characters counted.
        len: usize,
        /// The limit.
        max: u16,
    },
}

impl UriError {
    /// The DM status code (DIGEST.md §2.4): 400 malformed, 406 unsupported, 414 over a limit.
    pub fn status(&self) -> u16 {
        match self {
            UriError::Empty
            | UriError::TrailingSlash
            | UriError::EmptySegment { .. }
            | UriError::DotSegment { .. }
            | UriError::EscapedSlash { .. }
            | UriError::ReservedChar { .. }
            | UriError::MalformedQuery
            | UriError::InvalidMoid(_) => 400,
            UriError::UnsupportedQuery(_)
            | UriError::UnsupportedProperty(_)
            | UriError::UnsupportedList(_)
            | UriError::UnsupportedTndsProperty(_)
            | UriError::MixedTndsSelection => 406,
            UriError::TooLong { .. }
            | UriError::TooDeep { .. }
            | UriError::SegmentTooLong { .. } => 414,
        }
    }
}

/// What a URI addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// A node by its path.
    Path(NodePath),
    /// PROVISIONAL (TND 1.3 §7.2): an MO instance by its identifier. The tree resolves it to
    /// concrete paths and evaluates ACLs there; a deployment that disables virtual URIs refuses
    /// this variant.
    Virtual(VirtualUri),
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Path(p) => p.fmt(f),
            Address::Virtual(v) => v.fmt(f),
        }
    }
}

/// A URI as it arrives in a command's Target/Source LocURI: an address and at most one query.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TreeUri {
    /// The node or MO instance addressed.
    pub address: Address,
    /// `?prop=` or `?list=`, if any.
    pub query: Option<Query>,
}

impl TreeUri {
    /// The path, when the address is not virtual.
    pub fn path(&self) -> Option<&NodePath> {
        match &self.address {
            Address::Path(p) => Some(p),
            Address::Virtual(_) => None,
        }
    }
}

impl std::fmt::Display for TreeUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.address.fmt(f)?;
        match &self.query {
            Some(q) => write!(f, "?{q}"),
            None => Ok(()),
        }
    }
}

impl std::str::FromStr for TreeUri {
    type Err = UriError;
    /// [`parse`] without limits.
    fn from_str(s: &str) -> Result<Self, UriError> {
        parse(s, &UriLimits::UNLIMITED)
    }
}

/// Parses a LocURI: TND §5.2 path rules, then the query (TND §5.3, §5.5). The query starts at the
/// first `?`. A relative URI whose first segment is an MO identifier is virtual (PROVISIONAL, see
/// [`VirtualUri`]); a URI starting with `.` never is.
pub fn parse(s: &str, limits: &UriLimits) -> Result<TreeUri, UriError> {
    let (addr, query) = match s.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (s, None),
    };
    let address = match virtual_uri::detect(addr)? {
        Some(v) => {
            limits.check_total(addr)?;
            limits.check_segments(v.instance_and_rest(), v.moid_segments())?;
            Address::Virtual(v)
        }
        None => Address::Path(NodePath::parse(addr, limits)?),
    };
    let query = query.map(query::parse_query).transpose()?;
    Ok(TreeUri { address, query })
}

#[cfg(test)]
mod tests;
