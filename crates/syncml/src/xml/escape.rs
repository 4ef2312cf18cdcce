//! XML character data escaping, with an exact length so that sizes cost no allocation.

use omadm_wbxml::Output;

use crate::error::EncodeError;

/// XML 1.0 §2.2: of the C0 controls only tab, LF and CR are characters.
fn check_chars(s: &str, context: &'static str) -> Result<(), EncodeError> {
    if let Some(b) = s
        .bytes()
        .find(|&b| b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r')
    {
        return Err(EncodeError::CharacterNotAllowed {
            context,
            code: u32::from(b),
        });
    }
    Ok(())
}

fn replacement(b: u8) -> Option<&'static [u8]> {
    match b {
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'&' => Some(b"&amp;"),
        // A literal CR would be normalised away by a conforming parser.
        b'\r' => Some(b"&#13;"),
        _ => None,
    }
}

/// Writes `s` as character data.
pub(crate) fn text<O: Output>(
    out: &mut O,
    s: &str,
    context: &'static str,
) -> Result<(), EncodeError> {
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b < 0x20 || matches!(b, b'<' | b'>' | b'&') {
            if let Some(r) = replacement(b) {
                out.put(&bytes[from..i]);
                out.put(r);
                from = i + 1;
            } else if b != b'\t' && b != b'\n' {
                return Err(EncodeError::CharacterNotAllowed {
                    context,
                    code: u32::from(b),
                });
            }
        }
    }
    out.put(&bytes[from..]);
    Ok(())
}

/// Writes `s` as one or more CDATA sections (`]]>` cannot occur inside one).
pub(crate) fn cdata<O: Output>(
    out: &mut O,
    s: &str,
    context: &'static str,
) -> Result<(), EncodeError> {
    check_chars(s, context)?;
    out.put(b"<![CDATA[");
    let mut rest = s;
    while let Some(i) = rest.find("]]>") {
        out.put(&rest.as_bytes()[..i + 2]);
        out.put(b"]]><![CDATA[");
        rest = &rest[i + 2..];
    }
    out.put(rest.as_bytes());
    out.put(b"]]>");
    Ok(())
}

/// Raw markup is written verbatim; it came from a well-formed document.
pub(crate) fn raw<O: Output>(out: &mut O, s: &str) {
    out.put(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut v = Vec::new();
        text(&mut v, s, "t").unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_markup_and_cr() {
        assert_eq!(esc("a<b>&c\r\n"), "a&lt;b&gt;&amp;c&#13;\n");
        assert_eq!(esc("plain"), "plain");
        let mut v = Vec::new();
        assert!(text(&mut v, "nul\0", "t").is_err());
    }

    #[test]
    fn cdata_splits_terminator() {
        let mut v = Vec::new();
        cdata(&mut v, "x]]>y", "t").unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "<![CDATA[x]]]]><![CDATA[>y]]>"
        );
    }
}
