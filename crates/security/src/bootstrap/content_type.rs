//! The bootstrap `Content-Type`: `application/vnd.syncml.dm+wbxml; SEC=<method>; MAC=<hex>`
//! (DIGEST.md §3.7).

use std::fmt;
use std::str::FromStr;

use super::{BootstrapError, Mac, SecMethod};

/// The only media type a bootstrap may have.
pub const MEDIA_TYPE: &str = "application/vnd.syncml.dm+wbxml";
/// The XML media type, refused for bootstrap.
pub const XML_MEDIA_TYPE: &str = "application/vnd.syncml.dm+xml";

/// The `SEC` and `MAC` parameters of a bootstrap content type.
///
/// Parsing (RFC 2045 parameters, as DIGEST-1.3.md §5.3 asks): the media type and parameter
/// names compare case-insensitively, spaces around `;` and `=` are allowed, values may be
/// quoted strings (with `\` escapes), parameters come in any order and others (`charset`,
/// `verproto`, ...) are ignored. `SEC` and `MAC` must each appear exactly once.
/// Printing gives the canonical form `application/vnd.syncml.dm+wbxml; SEC=X; MAC=hex`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootstrapContentType {
    /// `SEC`: the security method.
    pub sec: SecMethod,
    /// `MAC`: HMAC-SHA1 of the WBXML body.
    pub mac: Mac,
}

impl fmt::Display for BootstrapContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MEDIA_TYPE}; SEC={}; MAC={}", self.sec, self.mac)
    }
}

impl FromStr for BootstrapContentType {
    type Err = BootstrapError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (media, rest) = s.split_once(';').unwrap_or((s, ""));
        let media = media.trim();
        if media.eq_ignore_ascii_case(XML_MEDIA_TYPE) {
            return Err(BootstrapError::XmlNotAllowed);
        }
        if !media.eq_ignore_ascii_case(MEDIA_TYPE) {
            return Err(BootstrapError::MediaType(media.to_owned()));
        }
        let mut sec = None;
        let mut mac = None;
        for (name, value) in params(rest)? {
            let slot = if name.eq_ignore_ascii_case("SEC") {
                Some(("SEC", &mut sec))
            } else if name.eq_ignore_ascii_case("MAC") {
                Some(("MAC", &mut mac))
            } else {
                None
            };
            if let Some((which, slot)) = slot {
                if slot.replace(value).is_some() {
                    return Err(BootstrapError::DuplicateParam(which));
                }
            }
        }
        let sec = sec.ok_or(BootstrapError::MissingParam("SEC"))?;
        let mac = mac.ok_or(BootstrapError::MissingParam("MAC"))?;
        Ok(BootstrapContentType {
            sec: sec.parse()?,
            mac: mac.parse()?,
        })
    }
}

/// Splits `; name=value; name="quoted; value"` into (name, unquoted value) pairs. Empty
/// parameters (`;;`, a trailing `;`) are skipped.
fn params(mut rest: &str) -> Result<Vec<(String, String)>, BootstrapError> {
    let bad = |r: &str| BootstrapError::BadParams(r.to_owned());
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return Ok(out);
        }
        let (name, after) = rest.split_once('=').ok_or_else(|| bad(rest))?;
        let name = name.trim();
        if name.is_empty() || name.contains(|c: char| c == ';' || c.is_ascii_whitespace()) {
            return Err(bad(rest));
        }
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    '\\' => value.push(chars.next().ok_or_else(|| bad(after))?.1),
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| bad(after))?;
            let tail = q.get(end..).unwrap_or_default().trim_start();
            if !(tail.is_empty() || tail.starts_with(';')) {
                return Err(bad(after));
            }
            (value, tail)
        } else {
            let (v, tail) = after.split_once(';').unwrap_or((after, ""));
            (v.trim().to_owned(), tail)
        };
        out.push((name.to_owned(), value));
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_may_hold_semicolons_and_escapes() {
        let p = params(r#"; a="x;y" ; b = "q\"z";c=1;"#).unwrap_or_default();
        let want = [("a", "x;y"), ("b", "q\"z"), ("c", "1")];
        assert_eq!(p.len(), 3);
        for ((n, v), (wn, wv)) in p.iter().zip(want) {
            assert_eq!((n.as_str(), v.as_str()), (wn, wv));
        }
        assert!(params(r#"; a="open"#).is_err());
        assert!(params("; novalue").is_err());
        assert!(params(r#"; a="x" junk"#).is_err());
    }
}
