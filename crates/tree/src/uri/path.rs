//! Normalized node paths (TND §5.2).

use compact_str::CompactString;

use super::{UriError, UriLimits};

/// A normalized absolute node path: `.` for the root, otherwise `./A/B` (TND §5.2). Every segment
/// is a valid name: non-empty, not `.`/`..`, without `/`, `?` or an escaped `/`. Names are kept
/// exactly as sent (no `%xx` decoding), and compared case-sensitively.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodePath {
    /// `.` or `./` followed by the segments joined with `/`.
    repr: CompactString,
}

impl NodePath {
    /// The root, `.`.
    pub fn root() -> Self {
        NodePath {
            repr: CompactString::const_new("."),
        }
    }

    /// Parses a node path and checks it against `limits`. It takes no query (`?` is refused, 400) and
    /// never yields a virtual address: use [`super::parse`] for a command's LocURI.
    /// TND §5.2: `./A/B` and `A/B` are equivalent; the root is `.`, never `./`; no trailing `/`,
    /// no empty, `.` or `..` segment; `./` only at the very start.
    pub fn parse(s: &str, limits: &UriLimits) -> Result<Self, UriError> {
        let path = Self::parse_syntax(s)?;
        limits.check_path(&path)?;
        Ok(path)
    }

    fn parse_syntax(s: &str) -> Result<Self, UriError> {
        if s.is_empty() {
            return Err(UriError::Empty);
        }
        if s == "." {
            return Ok(Self::root());
        }
        if s.ends_with('/') {
            return Err(UriError::TrailingSlash);
        }
        let rel = s.strip_prefix("./").unwrap_or(s);
        for (index, seg) in rel.split('/').enumerate() {
            check_segment(seg, index)?;
        }
        let mut repr = CompactString::with_capacity(rel.len() + 2);
        repr.push_str("./");
        repr.push_str(rel);
        Ok(NodePath { repr })
    }

    /// The normalized form: `.` or `./A/B`.
    pub fn as_str(&self) -> &str {
        &self.repr
    }

    /// The segments below the root, in order (none for the root).
    pub fn segments(&self) -> impl Iterator<Item = &str> + Clone {
        self.repr.split('/').skip(1)
    }

    /// TND §5.2 MaxDepth: the number of segments below the root (0 for the root).
    pub fn depth(&self) -> usize {
        self.repr.bytes().filter(|&b| b == b'/').count()
    }

    /// Whether this is the root `.`.
    pub fn is_root(&self) -> bool {
        self.repr == "."
    }

    /// The parent path; `None` for the root.
    pub fn parent(&self) -> Option<NodePath> {
        let cut = self.repr.rfind('/')?;
        self.repr.get(..cut).map(|p| NodePath { repr: p.into() })
    }

    /// The last segment (the node's Name, TND §5.3); `None` for the root.
    pub fn name(&self) -> Option<&str> {
        let cut = self.repr.rfind('/')?;
        self.repr.get(cut + 1..)
    }

    /// The child path `self/seg`. The name must be valid (TND §5.2, see [`NodePath`]). Limits are
    /// not checked (see [`UriLimits::check_path`]).
    pub fn join(&self, seg: &str) -> Result<NodePath, UriError> {
        check_segment(seg, self.depth())?;
        let mut repr = CompactString::with_capacity(self.repr.len() + 1 + seg.len());
        repr.push_str(&self.repr);
        repr.push('/');
        repr.push_str(seg);
        Ok(NodePath { repr })
    }

    /// Whether `ancestor` is this path or one of its ancestors, segment-wise (`./A` is not an
    /// ancestor of `./AB`).
    pub fn starts_with(&self, ancestor: &NodePath) -> bool {
        match self.repr.strip_prefix(ancestor.repr.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

impl std::fmt::Display for NodePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repr)
    }
}

impl std::str::FromStr for NodePath {
    type Err = UriError;
    /// [`NodePath::parse`] without limits.
    fn from_str(s: &str) -> Result<Self, UriError> {
        Self::parse_syntax(s)
    }
}

/// TND §5.2 name rules for one segment: non-empty, not `.` or `..`, no `/` raw or escaped (`%2F`),
/// no `?` (it would start a query, so no URI could address the node).
pub(super) fn check_segment(seg: &str, index: usize) -> Result<(), UriError> {
    if seg.is_empty() {
        return Err(UriError::EmptySegment { index });
    }
    if seg == "." || seg == ".." {
        return Err(UriError::DotSegment { index });
    }
    if let Some(ch) = seg.chars().find(|&c| c == '/' || c == '?') {
        return Err(UriError::ReservedChar { index, ch });
    }
    let escaped_slash = seg
        .as_bytes()
        .windows(3)
        .any(|w| matches!(w, [b'%', b'2', c] if *c | 0x20 == b'f'));
    if escaped_slash {
        return Err(UriError::EscapedSlash { index });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<NodePath, UriError> {
        s.parse()
    }

    #[test]
    fn tnd_uri_relative_equals_absolute() {
        assert_eq!(p("A/B"), p("./A/B"));
        assert_eq!(p("A/B").map(|x| x.to_string()), Ok("./A/B".to_string()));
    }

    #[test]
    fn tnd_uri_root_is_dot() {
        let root = NodePath::root();
        assert_eq!(p("."), Ok(root.clone()));
        assert!(root.is_root());
        assert_eq!(root.depth(), 0);
        assert_eq!(root.segments().count(), 0);
        assert_eq!(root.parent(), None);
        assert_eq!(root.name(), None);
        assert_eq!(root.as_str(), ".");
    }

    #[test]
    fn tnd_uri_root_never_dot_slash() {
        assert_eq!(p("./"), Err(UriError::TrailingSlash));
        assert_eq!(p("/"), Err(UriError::TrailingSlash));
    }

    #[test]
    fn tnd_uri_trailing_slash_rejected() {
        assert_eq!(p("./A/"), Err(UriError::TrailingSlash));
        assert_eq!(p("A/B/"), Err(UriError::TrailingSlash));
    }

    #[test]
    fn tnd_uri_empty_segment_rejected() {
        assert_eq!(p("A//B"), Err(UriError::EmptySegment { index: 1 }));
        assert_eq!(p("/A"), Err(UriError::EmptySegment { index: 0 }));
        assert_eq!(p(".//A"), Err(UriError::EmptySegment { index: 0 }));
        assert_eq!(p(""), Err(UriError::Empty));
    }

    #[test]
    fn tnd_uri_dot_segments_rejected() {
        assert_eq!(p("./A/../B"), Err(UriError::DotSegment { index: 1 }));
        assert_eq!(p("../A"), Err(UriError::DotSegment { index: 0 }));
        assert_eq!(p("./."), Err(UriError::DotSegment { index: 0 }));
        assert_eq!(p("A/./B"), Err(UriError::DotSegment { index: 1 }));
        assert_eq!(
            p("A?prop=ACL"),
            Err(UriError::ReservedChar { index: 0, ch: '?' })
        );
        assert_eq!(p(".."), Err(UriError::DotSegment { index: 0 }));
        // A dot inside a name is fine (Windows uses it); only whole `.`/`..` segments are refused.
        assert_eq!(p("./.A/b..c").map(|x| x.depth()), Ok(2));
    }

    #[test]
    fn tnd_uri_escaped_slash_rejected_other_escapes_kept() {
        assert_eq!(p("./A/x%2Fy"), Err(UriError::EscapedSlash { index: 1 }));
        assert_eq!(p("./A/x%2fy"), Err(UriError::EscapedSlash { index: 1 }));
        let q = p("./A/caf%C3%A9");
        assert_eq!(q.as_ref().ok().and_then(|x| x.name()), Some("caf%C3%A9"));
        assert_ne!(q, p("./A/café"));
        assert_eq!(p("./A/%2E%2E").map(|x| x.depth()), Ok(2));
    }

    #[test]
    fn tnd_uri_utf8_names_kept() {
        let q = p("./Vendor/café/名前");
        assert_eq!(
            q.as_ref().map(|x| x.segments().collect::<Vec<_>>()),
            Ok(vec!["Vendor", "café", "名前"])
        );
    }

    #[test]
    fn tnd_uri_case_preserved() {
        assert_ne!(p("./A/b"), p("./A/B"));
        assert_eq!(
            p("./DMAcc/xyzInc").map(|x| x.to_string()),
            Ok("./DMAcc/xyzInc".to_string())
        );
    }

    #[test]
    fn tnd_uri_windows_scopes_are_plain_paths() {
        let q = p("./Device/Vendor/MSFT/Policy");
        assert_eq!(q.as_ref().map(|x| x.depth()), Ok(4));
        assert_eq!(p("./User/Vendor/MSFT").map(|x| x.depth()), Ok(3));
    }

    #[test]
    fn tnd_uri_navigation() {
        let Ok(q) = p("./DevDetail/URI/MaxDepth") else {
            panic!("valid path")
        };
        assert_eq!(q.depth(), 3);
        assert_eq!(q.name(), Some("MaxDepth"));
        assert_eq!(
            q.parent().map(|x| x.to_string()),
            Some("./DevDetail/URI".to_string())
        );
        assert_eq!(
            q.parent().and_then(|x| x.parent()).and_then(|x| x.parent()),
            Some(NodePath::root())
        );
        let Ok(dd) = p("DevDetail") else {
            panic!("valid path")
        };
        assert!(q.starts_with(&dd));
        assert!(q.starts_with(&q));
        assert!(q.starts_with(&NodePath::root()));
        assert!(!dd.starts_with(&q));
        let Ok(dev) = p("./Dev") else {
            panic!("valid path")
        };
        assert!(!q.starts_with(&dev));
        assert_eq!(NodePath::root().join("DevDetail"), Ok(dd.clone()));
        assert_eq!(dd.join("URI").and_then(|x| x.join("MaxDepth")), Ok(q));
    }

    #[test]
    fn tnd_uri_join_refuses_invalid_names() {
        let root = NodePath::root();
        assert_eq!(
            root.join("a/b"),
            Err(UriError::ReservedChar { index: 0, ch: '/' })
        );
        assert_eq!(
            root.join("a?b"),
            Err(UriError::ReservedChar { index: 0, ch: '?' })
        );
        assert_eq!(root.join(""), Err(UriError::EmptySegment { index: 0 }));
        assert_eq!(root.join(".."), Err(UriError::DotSegment { index: 0 }));
        assert_eq!(root.join("a%2Fb"), Err(UriError::EscapedSlash { index: 0 }));
    }

    #[test]
    fn tnd_uri_max_depth_414() {
        let l = UriLimits {
            max_depth: 2,
            ..UriLimits::default()
        };
        assert!(NodePath::parse("./A/B", &l).is_ok());
        let e = NodePath::parse("./A/B/C", &l);
        assert_eq!(e, Err(UriError::TooDeep { depth: 3, max: 2 }));
        assert_eq!(e.map_err(|e| e.status()), Err(414));
    }

    #[test]
    fn tnd_uri_max_tot_len_counts_normalized_characters_414() {
        // "./AB/é" is 6 characters (7 bytes), whether sent as "AB/é" or "./AB/é".
        let l = UriLimits {
            max_tot_len: 6,
            ..UriLimits::default()
        };
        assert!(NodePath::parse("AB/é", &l).is_ok());
        assert!(NodePath::parse("./AB/é", &l).is_ok());
        let e = NodePath::parse("AB/éé", &l);
        assert_eq!(e, Err(UriError::TooLong { len: 7, max: 6 }));
        assert_eq!(e.map_err(|e| e.status()), Err(414));
    }

    #[test]
    fn tnd_uri_max_seg_len_414() {
        let l = UriLimits {
            max_seg_len: 3,
            ..UriLimits::default()
        };
        assert!(NodePath::parse("./abc/déf", &l).is_ok());
        let e = NodePath::parse("./abc/defg", &l);
        assert_eq!(
            e,
            Err(UriError::SegmentTooLong {
                index: 1,
                len: 4,
                max: 3
            })
        );
        assert_eq!(e.map_err(|e| e.status()), Err(414));
    }

    #[test]
    fn tnd_uri_zero_limit_is_unlimited() {
        let long = format!("./{}", vec!["abcdefgh"; 300].join("/"));
        assert!(NodePath::parse(&long, &UriLimits::default()).is_ok());
    }
}
