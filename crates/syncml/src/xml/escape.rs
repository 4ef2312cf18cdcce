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

/// Writes `s` as one or more CDATA sections: `]]>` cannot occur inside one, and a CR inside one
/// would be turned into LF by a conforming parser (XML 1.0 §2.11), so a CR is written as `&#13;`
/// between sections.
pub(crate) fn cdata<O: Output>(
    out: &mut O,
    s: &str,
    context: &'static str,
) -> Result<(), EncodeError> {
    check_chars(s, context)?;
    out.put(b"<![CDATA[");
    let bytes = s.as_bytes();
    let mut from = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            out.put(&bytes[from..i]);
            out.put(b"]]>&#13;<![CDATA[");
            from = i + 1;
        } else if bytes[i..].starts_with(b"]]>") {
            out.put(&bytes[from..i + 2]);
            out.put(b"]]><![CDATA[");
            from = i + 2;
            i += 1;
        }
        i += 1;
    }
    out.put(&bytes[from..]);
    out.put(b"]]>");
    Ok(())
}

/// Raw markup is written verbatim (it came from a well-formed document, or was rendered from
/// WBXML with checked names and escaped text), but never with characters XML cannot carry.
pub(crate) fn raw<O: Output>(
    out: &mut O,
    s: &str,
    context: &'static str,
) -> Result<(), EncodeError> {
    check_chars(s, context)?;
    out.put(s.as_bytes());
    Ok(())
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
    fn cdata_keeps_cr_out_of_sections() {
        let mut v = Vec::new();
        cdata(&mut v, "a\r\nb", "t").unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "<![CDATA[a]]>&#13;<![CDATA[\nb]]>"
        );
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
