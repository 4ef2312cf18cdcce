//! Node formats (TND 1.2 "Format" property; DIGEST §2.6, §5.7): the eleven names a node's Format
//! may take, and what a value of each format must look like.
//!
//! Statuses: an unknown format name is 415 (Unsupported media type or format); a value that does
//! not match the format it claims is 400 (Bad request): the format is supported, the data is
//! wrong.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// A node's Format (TND 1.2 §"Format"; DDF `Format` / `DFFormat` children; Meta Format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeFormat {
    /// `b64`: the value is base64 text (RFC 2045).
    B64,
    /// `bin`: binary data; over XML it travels base64-encoded.
    Bin,
    /// `bool`: `true` or `false`.
    Bool,
    /// `chr`: text in the message charset (UTF-8). The default format.
    Chr,
    /// `int`: a 32-bit signed integer in decimal.
    Int,
    /// `node`: an interior node; it has children, never a value.
    Node,
    /// `null`: no value.
    Null,
    /// `xml`: XML data.
    Xml,
    /// `date`: an ISO 8601 calendar date with the century.
    Date,
    /// `time`: an ISO 8601 time of day.
    Time,
    /// `float`: an XML Schema single-precision float.
    Float,
}

/// A format name that is not one of the eleven, or a value that does not match its format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// TND 1.2: Format is one of b64, bin, bool, chr, int, node, null, xml, date, time, float.
    #[error("unknown node format {name:?}; expected one of b64, bin, bool, chr, int, node, null, xml, date, time, float")]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The value is not a valid value of `format`.
    #[error("value is not a valid {format} value: {reason}")]
    Mismatch {
        /// The format the value claims.
        format: NodeFormat,
        /// What is wrong.
        reason: &'static str,
    },
}

impl FormatError {
    /// The DM status: 415 for an unknown format, 400 for a value that does not match.
    pub fn status(&self) -> u16 {
        match self {
            FormatError::Unknown { .. } => 415,
            FormatError::Mismatch { .. } => 400,
        }
    }
}

impl NodeFormat {
    /// Every format, in the order of the DTD's `Format` content model.
    pub const ALL: [NodeFormat; 11] = [
        NodeFormat::B64,
        NodeFormat::Bin,
        NodeFormat::Bool,
        NodeFormat::Chr,
        NodeFormat::Int,
        NodeFormat::Node,
        NodeFormat::Null,
        NodeFormat::Xml,
        NodeFormat::Date,
        NodeFormat::Time,
        NodeFormat::Float,
    ];

    /// The spec's name: `b64`, `bin`, ... (also the DDF element name, `<b64/>`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeFormat::B64 => "b64",
            NodeFormat::Bin => "bin",
            NodeFormat::Bool => "bool",
            NodeFormat::Chr => "chr",
            NodeFormat::Int => "int",
            NodeFormat::Node => "node",
            NodeFormat::Null => "null",
            NodeFormat::Xml => "xml",
            NodeFormat::Date => "date",
            NodeFormat::Time => "time",
            NodeFormat::Float => "float",
        }
    }

    /// The format named exactly `name` (case-sensitive, as the DDF element names are: `node`
    /// is a format, `Node` an element).
    pub fn from_name(name: &str) -> Option<NodeFormat> {
        NodeFormat::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// `node`: the format of interior nodes (TND 1.2 §"Nodes").
    pub fn is_interior(self) -> bool {
        self == NodeFormat::Node
    }

    /// Checks `value` against this format (TND 1.2 format definitions, DIGEST §2.6): `int` a
    /// 32-bit signed decimal, `bool` `true`/`false`, `float` an XML Schema float, `date`
    /// `YYYY-MM-DD` or `YYYYMMDD`, `time` ISO 8601 `hh[:mm[:ss[.f]]]` (or the basic form) with
    /// an optional `T` and zone, `b64` base64 text (line breaks allowed), `chr`/`xml` UTF-8,
    /// `null` and `node` empty, `bin` anything. Mismatches are [`FormatError::Mismatch`] (400).
    pub fn validate(&self, value: &[u8]) -> Result<(), FormatError> {
        let fail = |reason| {
            Err(FormatError::Mismatch {
                format: *self,
                reason,
            })
        };
        let text = std::str::from_utf8(value);
        match self {
            NodeFormat::Bin => Ok(()),
            NodeFormat::Null | NodeFormat::Node if !value.is_empty() => {
                fail("a node of this format has no value")
            }
            NodeFormat::Null | NodeFormat::Node => Ok(()),
            NodeFormat::Chr | NodeFormat::Xml => match text {
                Ok(_) => Ok(()),
                Err(_) => fail("not UTF-8 text"),
            },
            NodeFormat::B64 => match base64_decode(value) {
                Some(_) => Ok(()),
                None => fail("not base64 text"),
            },
            NodeFormat::Bool => match value {
                b"true" | b"false" => Ok(()),
                _ => fail("expected true or false"),
            },
            NodeFormat::Int => match text.ok().map(str::parse::<i32>) {
                Some(Ok(_)) => Ok(()),
                _ => fail("expected a 32-bit signed decimal integer"),
            },
            NodeFormat::Float => {
                if is_xsd_float(value) {
                    Ok(())
                } else {
                    fail("expected an XML Schema float such as 1.5, -2E3, INF or NaN")
                }
            }
            NodeFormat::Date => {
                if is_iso_date(value) {
                    Ok(())
                } else {
                    fail("expected an ISO 8601 calendar date with the century, YYYY-MM-DD")
                }
            }
            NodeFormat::Time => {
                if is_iso_time(value) {
                    Ok(())
                } else {
                    fail("expected an ISO 8601 time such as 16:38:17 or 163817Z")
                }
            }
        }
    }
}

impl fmt::Display for NodeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a format name, ignoring ASCII case (peers send Meta Format `CHR` as well as `chr`).
impl FromStr for NodeFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| FormatError::Unknown { name: s.to_owned() })
    }
}

/// Standard alphabet; padding optional on input (some stacks drop it), written on output.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Base64 text of `bytes`, padded.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// The bytes `text` encodes in base64, ignoring ASCII whitespace (RFC 2045 line breaks); `None`
/// if it is not base64.
pub(crate) fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    if text.iter().any(u8::is_ascii_whitespace) {
        let compact: Vec<u8> = text
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        B64.decode(compact).ok()
    } else {
        B64.decode(text).ok()
    }
}

fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// Value of 1 to 4 ASCII digits.
fn number(s: &[u8]) -> Option<u32> {
    if !digits(s) || s.len() > 4 {
        return None;
    }
    Some(s.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
}

/// XML Schema 1.1 `float` lexical space: `(+|-)?(d+(.d*)?|.d+)([eE](+|-)?d+)?`, `(+|-)?INF`, `NaN`.
fn is_xsd_float(v: &[u8]) -> bool {
    let unsigned = v.strip_prefix(b"+").or(v.strip_prefix(b"-")).unwrap_or(v);
    if v == b"NaN" || unsigned == b"INF" {
        return true;
    }
    let (mantissa, exponent) = match unsigned.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => {
            let (int, frac) = (&mantissa[..i], &mantissa[i + 1..]);
            (digits(int) || int.is_empty())
                && (digits(frac) || frac.is_empty())
                && !(int.is_empty() && frac.is_empty())
        }
        None => digits(mantissa),
    };
    let exponent_ok =
        exponent.is_none_or(|e| digits(e.strip_prefix(b"+").or(e.strip_prefix(b"-")).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// ISO 8601 complete calendar date: `YYYY-MM-DD` (extended) or `YYYYMMDD` (basic).
fn is_iso_date(v: &[u8]) -> bool {
    let (y, m, d) = match v.len() {
        10 if v.get(4) == Some(&b'-') && v.get(7) == Some(&b'-') => (&v[0..4], &v[5..7], &v[8..10]),
        8 => (&v[0..4], &v[4..6], &v[6..8]),
        _ => return false,
    };
    let (Some(y), Some(m), Some(d)) = (number(y), number(m), number(d)) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// ISO 8601 time of day, optionally after `T`: `hh`, `hh:mm`, `hh:mm:ss` or the basic `hhmm`,
/// `hhmmss`, the last component with an optional `.`/`,` fraction; then optionally `Z` or a
/// `±hh[[:]mm]` offset. `24:00:00` is midnight at the end of the day; seconds go to 60.
fn is_iso_time(v: &[u8]) -> bool {
    let v = v.strip_prefix(b"T").unwrap_or(v);
    let (clock, zone) = if let Some(c) = v.strip_suffix(b"Z") {
        (c, None)
    } else if let Some(i) = v.iter().rposition(|&b| b == b'+' || b == b'-') {
        (&v[..i], Some(&v[i + 1..]))
    } else {
        (v, None)
    };
    if let Some(z) = zone {
        let ok = match z.len() {
            2 => number(z).is_some_and(|h| h <= 23),
            4 | 5 => {
                let (h, m) = (&z[..2], &z[z.len() - 2..]);
                (z.len() == 4 || z.get(2) == Some(&b':'))
                    && number(h).is_some_and(|h| h <= 23)
                    && number(m).is_some_and(|m| m <= 59)
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    let (whole, fraction) = match clock.iter().position(|&b| b == b'.' || b == b',') {
        Some(i) => (&clock[..i], Some(&clock[i + 1..])),
        None => (clock, None),
    };
    if fraction.is_some_and(|f| !digits(f)) {
        return false;
    }
    let parts: Vec<&[u8]> = if whole.contains(&b':') {
        whole.split(|&b| b == b':').collect()
    } else {
        whole.chunks(2).collect()
    };
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.len() != 2) {
        return false;
    }
    let mut values = parts.iter().map(|p| number(p));
    let (h, m, s) = (
        values.next().flatten(),
        values.next().unwrap_or(Some(0)),
        values.next().unwrap_or(Some(0)),
    );
    let (Some(h), Some(m), Some(s)) = (h, m, s) else {
        return false;
    };
    let fraction_zero = fraction.is_none_or(|f| f.iter().all(|&d| d == b'0'));
    (h < 24 || (h == 24 && m == 0 && s == 0 && fraction_zero)) && m <= 59 && s <= 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_named() {
        for f in NodeFormat::ALL {
            assert_eq!(f.as_str().parse::<NodeFormat>(), Ok(f));
            assert_eq!(NodeFormat::from_name(f.as_str()), Some(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!("CHR".parse::<NodeFormat>(), Ok(NodeFormat::Chr));
        assert_eq!(NodeFormat::from_name("Node"), None);
        let e = "string".parse::<NodeFormat>().unwrap_err();
        assert_eq!(
            e,
            FormatError::Unknown {
                name: "string".into()
            }
        );
        assert!(e.to_string().contains("\"string\""));
        assert_eq!(e.status(), 415);
        assert!(NodeFormat::Node.is_interior());
        assert!(!NodeFormat::Null.is_interior());
    }

    fn ok(f: NodeFormat, v: &str) -> bool {
        f.validate(v.as_bytes()).is_ok()
    }

    #[test]
    fn int_is_32_bit_signed_decimal() {
        for v in ["0", "-1", "2147483647", "-2147483648", "007", "+5"] {
            assert!(ok(NodeFormat::Int, v), "{v}");
        }
        for v in [
            "",
            "+",
            "2147483648",
            "-2147483649",
            "1.0",
            " 1",
            "0x10",
            "1e3",
        ] {
            assert!(!ok(NodeFormat::Int, v), "{v}");
        }
        let e = NodeFormat::Int.validate(b"x").unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("int"));
    }

    #[test]
    fn bool_is_true_or_false() {
        assert!(ok(NodeFormat::Bool, "true") && ok(NodeFormat::Bool, "false"));
        for v in ["", "True", "1", "yes", "false "] {
            assert!(!ok(NodeFormat::Bool, v), "{v}");
        }
    }

    #[test]
    fn float_is_xml_schema_float() {
        for v in [
            "1", "-1.5", "+.5", "5.", "1e10", "1.5E-3", "-0", "INF", "-INF", "+INF", "NaN",
        ] {
            assert!(ok(NodeFormat::Float, v), "{v}");
        }
        for v in [
            "", ".", "e5", "1e", "1.2.3", "inf", "nan", "-NaN", "1 ", "0x1p3", "1e+",
        ] {
            assert!(!ok(NodeFormat::Float, v), "{v}");
        }
    }

    #[test]
    fn date_is_iso_8601_calendar_date_with_century() {
        for v in ["2024-02-29", "2000-02-29", "20011231", "0001-01-01"] {
            assert!(ok(NodeFormat::Date, v), "{v}");
        }
        for v in [
            "1900-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024-1-01",
            "2024/01/01",
            "",
        ] {
            assert!(!ok(NodeFormat::Date, v), "{v}");
        }
    }

    #[test]
    fn time_is_iso_8601_time() {
        for v in [
            "16:38:17",
            "163817",
            "T163817Z",
            "16:38",
            "1638",
            "16",
            "16:38:17.25",
            "16:38:17,5+02:00",
            "163817-0500",
            "23:59:60Z",
            "24:00:00",
            "12:00+01",
        ] {
            assert!(ok(NodeFormat::Time, v), "{v}");
        }
        for v in [
            "",
            "25:00",
            "24:00:01",
            "12:60",
            "12:00:61",
            "1:00",
            "12:00:",
            "16383",
            "12:00Q",
            "12:00+2",
            "12.",
            "12:00+24:00",
        ] {
            assert!(!ok(NodeFormat::Time, v), "{v}");
        }
    }

    #[test]
    fn text_formats_need_utf8_and_empty_formats_need_nothing() {
        assert!(NodeFormat::Chr.validate("é".as_bytes()).is_ok());
        assert!(NodeFormat::Xml.validate(b"<a/>").is_ok());
        assert!(NodeFormat::Chr.validate(&[0xFF]).is_err());
        assert!(NodeFormat::Bin.validate(&[0xFF, 0]).is_ok());
        assert!(NodeFormat::Null.validate(b"").is_ok());
        assert!(NodeFormat::Null.validate(b"x").is_err());
        assert!(NodeFormat::Node.validate(b"").is_ok());
        assert!(NodeFormat::Node.validate(b"a/b").is_err());
    }

    #[test]
    fn b64_accepts_line_breaks_and_missing_padding() {
        assert!(ok(NodeFormat::B64, "QUJD"));
        assert!(ok(NodeFormat::B64, "QUJD\r\nREVG"));
        assert!(!ok(NodeFormat::B64, "QUI=\r\nQUI="));
        assert!(ok(NodeFormat::B64, "QUJDRA"));
        assert!(ok(NodeFormat::B64, ""));
        assert!(!ok(NodeFormat::B64, "QUJ*"));
        assert_eq!(base64_decode(b"QU JD\n"), Some(b"ABC".to_vec()));
        assert_eq!(base64_encode(b"AB"), "QUI=");
    }
}
