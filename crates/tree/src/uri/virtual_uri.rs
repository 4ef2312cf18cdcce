//! Virtual URIs: addressing an MO instance by its MO identifier instead of its path.
//!
//! PROVISIONAL. Sessionless 1.3 §6.2.2 (seed 000, DM-SM-C-006/S-006) requires the "Virtual URI
//! mechanism defined in section 7.2 of [DMTND]", and DM Protocol 1.3 (seed 004) records the CR
//! OMA-DM-DM13-2011-0099 "Virtual URI Mechanism"; the TND 1.3 text itself is not in the public
//! record (DIGEST-1.3 §3.2). The grammar below is our design, shaped like the DM 2.0 client URI
//! that succeeded it (MOID, then an `x` instance placeholder); replace it when TND 1.3 is in hand.
//!
//! ```text
//! virtual-uri = moid [ "/" instance *( "/" name ) ]
//! moid        = urn-moid / rd-moid
//! urn-moid    = "urn:oma:mo:" mo-name ":" version        ; prefix matched case-insensitively
//! rd-moid     = reversed-domain "/" version "/" mo-name  ; TND 1.2 non-OMNA MO identifier
//! version     = major "." minor ; major = [1-9][0-9]*, minor = 0 / [1-9][0-9]*
//! instance    = "x" / name      ; "x": any (the only) instance; otherwise the instance's node name
//! ```
//!
//! Detection: a URI starting with `.` is never virtual. A relative URI is virtual when its first
//! segment starts with `urn:oma:mo:`, or when its first segment contains `.` and no `:` and its
//! second segment is a version; it then must be a whole MOID, else 400 ([`UriError::InvalidMoid`]).
//! Any other relative URI (`Vendor/X`) is a path. A root child whose name looks like a MOID is
//! addressed as `./name`. The TND 1.2 grammar allows more than one name after the version; here
//! the MOID takes exactly one, because further names cannot be told from the instance selector.

use std::fmt;

use compact_str::CompactString;

use super::path::check_segment;
use super::UriError;

/// PROVISIONAL: which instance of the MO a [`VirtualUri`] addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstanceSel {
    /// `x`: any instance; for a single-instance MO, the only one.
    Any,
    /// The instance whose root node has this name.
    Named(CompactString),
}

/// PROVISIONAL (TND 1.3 §7.2, unread): an address naming an MO by its identifier (see the module
/// documentation for the grammar). The tree resolves it to concrete paths (interior nodes whose
/// Type is `moid`) and evaluates ACLs on those.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VirtualUri {
    /// The MO identifier as sent: `urn:oma:mo:oma-fumo:1.0` or `com.example/1.0/Widget`.
    pub moid: CompactString,
    /// The instance selector; `None` when the URI ends with the MOID.
    pub instance: Option<InstanceSel>,
    /// The path inside the instance (empty when `instance` is `None`).
    pub rest: Vec<CompactString>,
}

impl VirtualUri {
    /// Whether the MOID is a URN (one segment) rather than a reversed-domain identifier (three).
    pub fn is_urn(&self) -> bool {
        self.moid
            .get(..URN_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(URN_PREFIX))
    }

    /// How many segments the MOID spans as sent.
    pub(super) fn moid_segments(&self) -> usize {
        if self.is_urn() {
            1
        } else {
            3
        }
    }

    /// The instance selector and the rest, as sent.
    pub(super) fn instance_and_rest(&self) -> impl Iterator<Item = &str> {
        let inst = self.instance.as_ref().map(|i| match i {
            InstanceSel::Any => "x",
            InstanceSel::Named(n) => n.as_str(),
        });
        inst.into_iter()
            .chain(self.rest.iter().map(CompactString::as_str))
    }
}

impl fmt::Display for VirtualUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.moid)?;
        for seg in self.instance_and_rest() {
            write!(f, "/{seg}")?;
        }
        Ok(())
    }
}

const URN_PREFIX: &str = "urn:oma:mo:";

/// `[1-9][0-9]*\.(0|[1-9][0-9]*)` (TND §5.3 MO identifier grammar, DIGEST §5.3).
fn is_version(s: &str) -> bool {
    let Some((major, minor)) = s.split_once('.') else {
        return false;
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    digits(major)
        && !major.starts_with('0')
        && digits(minor)
        && (minor == "0" || !minor.starts_with('0'))
}

fn is_mo_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_urn_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_reversed_domain(s: &str) -> bool {
    s.split('.')
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Recognizes a virtual URI (no query). `Ok(None)`: the text is to be parsed as a path.
pub(super) fn detect(addr: &str) -> Result<Option<VirtualUri>, UriError> {
    if addr.starts_with('.') {
        return Ok(None);
    }
    let mut segs = addr.split('/');
    let first = segs.next().unwrap_or_default();
    let is_urn = first
        .get(..URN_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(URN_PREFIX));
    let moid: CompactString = if is_urn {
        let body = first.get(URN_PREFIX.len()..).unwrap_or_default();
        match body.rsplit_once(':') {
            Some((name, ver)) if is_urn_name(name) && is_version(ver) => first.into(),
            _ => return Err(UriError::InvalidMoid(first.into())),
        }
    } else {
        let mut ahead = segs.clone();
        let second = ahead.next();
        let looks_rd =
            first.contains('.') && !first.contains(':') && second.is_some_and(is_version);
        if !looks_rd {
            return Ok(None);
        }
        segs = ahead;
        let name = segs.next();
        let moid = format!(
            "{first}/{}/{}",
            second.unwrap_or_default(),
            name.unwrap_or_default()
        );
        match name {
            Some(n) if is_mo_name(n) && is_reversed_domain(first) => moid.into(),
            _ => return Err(UriError::InvalidMoid(moid.trim_end_matches('/').into())),
        }
    };
    if addr.ends_with('/') {
        return Err(UriError::TrailingSlash);
    }
    let first_index = if is_urn { 1 } else { 3 };
    let mut instance = None;
    let mut rest = Vec::new();
    for (index, seg) in (first_index..).zip(segs) {
        check_segment(seg, index)?;
        if instance.is_none() {
            instance = Some(if seg == "x" {
                InstanceSel::Any
            } else {
                InstanceSel::Named(seg.into())
            });
        } else {
            rest.push(seg.into());
        }
    }
    Ok(Some(VirtualUri {
        moid,
        instance,
        rest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::{parse, Address, ListQuery, Query, TreeUri, UriLimits};

    fn v(s: &str) -> Result<VirtualUri, String> {
        match parse(s, &UriLimits::default()) {
            Ok(TreeUri {
                address: Address::Virtual(v),
                ..
            }) => Ok(v),
            other => Err(format!("{other:?}")),
        }
    }

    fn is_path(s: &str) -> bool {
        matches!(
            parse(s, &UriLimits::default()),
            Ok(TreeUri {
                address: Address::Path(_),
                ..
            })
        )
    }

    #[test]
    fn tnd13_virtual_uri_urn_any_instance() {
        let got = v("urn:oma:mo:oma-fumo:1.0/x/Download/PkgURL");
        let want = VirtualUri {
            moid: "urn:oma:mo:oma-fumo:1.0".into(),
            instance: Some(InstanceSel::Any),
            rest: vec!["Download".into(), "PkgURL".into()],
        };
        assert_eq!(got, Ok(want));
    }

    #[test]
    fn tnd13_virtual_uri_urn_alone_and_named_instance() {
        let got = v("urn:oma:mo:oma-dm-dmacc:1.0");
        assert_eq!(
            got.as_ref().map(|x| (x.instance.clone(), x.rest.len())),
            Ok((None, 0))
        );
        let got = v("urn:oma:mo:oma-dm-dmacc:1.0/xyzInc/AppAddr");
        assert_eq!(
            got.map(|x| x.instance),
            Ok(Some(InstanceSel::Named("xyzInc".into())))
        );
        // Only lower-case `x` is the placeholder.
        assert_eq!(
            v("urn:oma:mo:oma-fumo:1.0/X").map(|x| x.instance),
            Ok(Some(InstanceSel::Named("X".into())))
        );
    }

    #[test]
    fn tnd13_virtual_uri_urn_prefix_case_insensitive_kept_as_sent() {
        let got = v("URN:OMA:MO:oma-fumo:1.0/x");
        assert_eq!(
            got.as_ref().map(|x| x.moid.as_str()),
            Ok("URN:OMA:MO:oma-fumo:1.0")
        );
        assert_eq!(got.map(|x| x.is_urn()), Ok(true));
    }

    #[test]
    fn tnd13_virtual_uri_reversed_domain() {
        let got = v("com.example/1.2/Widget/x/Settings/Level");
        let want = VirtualUri {
            moid: "com.example/1.2/Widget".into(),
            instance: Some(InstanceSel::Any),
            rest: vec!["Settings".into(), "Level".into()],
        };
        assert_eq!(got, Ok(want.clone()));
        assert!(!want.is_urn());
        assert_eq!(want.to_string(), "com.example/1.2/Widget/x/Settings/Level");
    }

    #[test]
    fn tnd13_virtual_uri_never_for_dot_or_plain_names() {
        assert!(is_path("./urn:oma:mo:oma-fumo:1.0/x"));
        assert!(is_path("./com.example/1.2/Widget"));
        assert!(is_path("Vendor/X"));
        assert!(is_path("Vendor.X/Y"));
        assert!(is_path("a.b/01.0/Z"));
        assert!(is_path("a.b/1.01/Z"));
        assert!(is_path("a:b.c/1.0/Z"));
        assert!(is_path("urn:ietf:x"));
    }

    #[test]
    fn tnd13_virtual_uri_bad_moid_is_400() {
        for (s, moid) in [
            ("urn:oma:mo:oma-fumo", "urn:oma:mo:oma-fumo"),
            ("urn:oma:mo:oma-fumo:1.00/x", "urn:oma:mo:oma-fumo:1.00"),
            ("urn:oma:mo::1.0", "urn:oma:mo::1.0"),
            ("a.b/1.0", "a.b/1.0"),
            ("a..b/1.0/Z", "a..b/1.0/Z"),
            ("a.b/1.0/Z-Y/x", "a.b/1.0/Z-Y"),
        ] {
            let e = parse(s, &UriLimits::default());
            assert_eq!(e, Err(UriError::InvalidMoid(moid.into())), "{s}");
            assert_eq!(e.map_err(|e| e.status()), Err(400));
        }
    }

    #[test]
    fn tnd13_virtual_uri_path_rules_apply_after_moid() {
        let p = |s| parse(s, &UriLimits::default());
        assert_eq!(p("urn:oma:mo:oma-fumo:1.0/"), Err(UriError::TrailingSlash));
        assert_eq!(
            p("urn:oma:mo:oma-fumo:1.0/x/../A"),
            Err(UriError::DotSegment { index: 2 })
        );
        assert_eq!(
            p("a.b/1.0/Z/x//A"),
            Err(UriError::EmptySegment { index: 4 })
        );
        assert_eq!(
            p("a.b/1.0/Z/x/A%2fB"),
            Err(UriError::EscapedSlash { index: 4 })
        );
    }

    #[test]
    fn tnd13_virtual_uri_with_query() {
        let got = parse("urn:oma:mo:oma-fumo:1.0?list=MORoot", &UriLimits::default());
        assert_eq!(
            got.as_ref().map(|u| u.query.clone()),
            Ok(Some(Query::List(ListQuery::MoRoot)))
        );
        assert_eq!(
            got.map(|u| u.to_string()),
            Ok("urn:oma:mo:oma-fumo:1.0?list=MORoot".to_string())
        );
    }

    #[test]
    fn tnd13_virtual_uri_limits_spare_the_moid() {
        let seg = UriLimits {
            max_seg_len: 8,
            ..UriLimits::default()
        };
        assert!(parse("urn:oma:mo:oma-fumo:1.0/x/Download", &seg).is_ok());
        assert_eq!(
            parse("urn:oma:mo:oma-fumo:1.0/x/DownloadAndUpdate", &seg),
            Err(UriError::SegmentTooLong {
                index: 2,
                len: 17,
                max: 8
            })
        );
        let tot = UriLimits {
            max_tot_len: 20,
            ..UriLimits::default()
        };
        assert_eq!(
            parse("urn:oma:mo:oma-fumo:1.0/x?prop=ACL", &tot),
            Err(UriError::TooLong { len: 25, max: 20 })
        );
    }
}
