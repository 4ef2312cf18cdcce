//! The user interaction options of the first Item (DM Protocol 1.3 §10.3).
//!
//! Choices the spec leaves open:
//! - The string is split on `&`, each part at its first `=`; names are matched as sent
//!   (upper case, as in every §10.3 example) after trimming blanks.
//! - Values are URI-unescaped (§10.3: the string "conforms to the URI encoding format" of
//!   RFC 2396): `%XX` is a byte and, as in the §10.3.3 example `DR=John+Doe`, `+` is a space. A
//!   broken `%` escape or an escape that does not give UTF-8 is malformed (400).
//! - Unknown options, and unknown values of `IT` and `ET`, are skipped without error (§10.3:
//!   "MUST skip without error message all the optional parameters that it is not able to
//!   process"). A known numeric option (`MINDT`, `MAXDT`, `MAXLEN`) whose value is not a
//!   non-negative decimal integer is malformed (400).
//! - An empty `DR` (`MAXDT=30&DR=`, the §10.3 example) is the same as no `DR`.
//! - A repeated option: the last one wins.

/// IT, the kind of characters a text input takes (DM Protocol 1.3 §10.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputType {
    /// `IT=A`: alphanumeric, the default.
    Alphanumeric,
    /// `IT=N`: numeric: digits, decimal point and sign.
    Numeric,
    /// `IT=D`: a date, sent as `DDMMYYYY`.
    Date,
    /// `IT=T`: a time, sent as `hhmmss`.
    Time,
    /// `IT=P`: a phone number: digits, `+` (first), `p`, `w`, `s`.
    Phone,
    /// `IT=I`: an IP address, sent as `xxx.yyy.zzz.www`.
    IpAddress,
}

/// ET, how a text input echoes what is typed (DM Protocol 1.3 §10.3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoType {
    /// `ET=T`: visible text, the default.
    Text,
    /// `ET=P`: a password, which SHOULD be hidden.
    Password,
}

/// The parsed options of a user interaction alert (DM Protocol 1.3 §10.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UiOptions {
    /// MINDT: seconds the interaction should at least be shown (§10.3.1).
    pub min_dt: Option<u32>,
    /// MAXDT: seconds to wait for the user before the interaction times out (§10.3.2).
    pub max_dt: Option<u32>,
    /// DR: the default response, unescaped (§10.3.3).
    pub default: Option<String>,
    /// MAXLEN: the most characters a text input takes (§10.3.4).
    pub max_len: Option<u32>,
    /// IT: the input type of a text input (§10.3.5).
    pub input_type: Option<InputType>,
    /// ET: the echo type of a text input (§10.3.6).
    pub echo: Option<EchoType>,
}

impl UiOptions {
    /// Parses an option string such as `MINDT=10&DR=John+Doe`. `Err(400)` when a known option
    /// is malformed.
    pub fn parse(s: &str) -> Result<UiOptions, u16> {
        let mut o = UiOptions::default();
        for part in s.split('&') {
            let (name, raw) = part.split_once('=').unwrap_or((part, ""));
            let name = name.trim();
            let known = matches!(name, "MINDT" | "MAXDT" | "MAXLEN" | "DR" | "IT" | "ET");
            if !known {
                continue;
            }
            let value = unescape(raw.trim())?;
            match name {
                "MINDT" => o.min_dt = Some(number(&value)?),
                "MAXDT" => o.max_dt = Some(number(&value)?),
                "MAXLEN" => o.max_len = Some(number(&value)?),
                "DR" => o.default = Some(value).filter(|v| !v.is_empty()),
                "IT" => o.input_type = input_type(&value).or(o.input_type),
                _ => o.echo = echo_type(&value).or(o.echo),
            }
        }
        Ok(o)
    }
}

fn number(v: &str) -> Result<u32, u16> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(400);
    }
    v.parse().map_err(|_| 400)
}

fn input_type(v: &str) -> Option<InputType> {
    Some(match v {
        "A" => InputType::Alphanumeric,
        "N" => InputType::Numeric,
        "D" => InputType::Date,
        "T" => InputType::Time,
        "P" => InputType::Phone,
        "I" => InputType::IpAddress,
        _ => return None,
    })
}

fn echo_type(v: &str) -> Option<EchoType> {
    Some(match v {
        "T" => EchoType::Text,
        "P" => EchoType::Password,
        _ => return None,
    })
}

/// RFC 2396 unescaping, with `+` as a space (see the module doc).
fn unescape(s: &str) -> Result<String, u16> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3).ok_or(400u16)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(400);
                }
                let hex = std::str::from_utf8(hex).map_err(|_| 400u16)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| 400u16)?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| 400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_pro_10_3_two_options_and_empty_dr() {
        let o = UiOptions::parse("MAXDT=30&DR=").unwrap();
        assert_eq!(o.max_dt, Some(30));
        assert_eq!(o.default, None);
    }

    #[test]
    fn dm_pro_10_3_3_dr_is_uri_unescaped() {
        let o = UiOptions::parse("DR=John+Doe").unwrap();
        assert_eq!(o.default.as_deref(), Some("John Doe"));
        let o = UiOptions::parse("DR=a%26b%3Dc%C3%A9").unwrap();
        assert_eq!(o.default.as_deref(), Some("a&b=cé"));
    }

    #[test]
    fn dm_pro_10_3_unknown_options_are_skipped() {
        let o = UiOptions::parse("FOO=bar&MINDT=10&BAZ&IT=Q&ET=X&MAXLEN=30").unwrap();
        assert_eq!(o.min_dt, Some(10));
        assert_eq!(o.max_len, Some(30));
        assert_eq!(o.input_type, None);
        assert_eq!(o.echo, None);
        assert_eq!(UiOptions::parse("").unwrap(), UiOptions::default());
    }

    #[test]
    fn dm_pro_10_3_all_options() {
        let o = UiOptions::parse("MINDT=1&MAXDT=2&DR=3&MAXLEN=4&IT=N&ET=P").unwrap();
        assert_eq!(
            o,
            UiOptions {
                min_dt: Some(1),
                max_dt: Some(2),
                default: Some("3".into()),
                max_len: Some(4),
                input_type: Some(InputType::Numeric),
                echo: Some(EchoType::Password),
            }
        );
    }

    #[test]
    fn dm_pro_10_3_malformed_known_option_is_400() {
        for s in [
            "MINDT=ten",
            "MAXDT=-1",
            "MAXLEN=",
            "MINDT",
            "DR=%4",
            "DR=%zz",
            "DR=%+1",
            "DR=%FF",
        ] {
            assert_eq!(UiOptions::parse(s), Err(400), "{s}");
        }
    }
}
