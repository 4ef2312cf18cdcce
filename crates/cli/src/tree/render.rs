//! `?list=Struct` / `StructData` results as an indented tree (text) or a JSON array.

use std::fmt::Write as _;

use anyhow::Result;
use base64::Engine as _;
use omadm_tree::format::NodeFormat;
use omadm_tree::{Listed, Value};
use serde::Serialize;

/// Binary values up to this many bytes are shown in hex; longer ones by their size.
const MAX_HEX: usize = 16;

/// Segments below the root: 0 for `.`, 2 for `./A/B`.
fn depth(uri: &str) -> usize {
    if uri == "." {
        0
    } else {
        uri.matches('/').count()
    }
}

fn name(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

/// A leaf's value as text, unless the bytes are binary (Format bin, or not UTF-8).
fn as_text(v: &Value) -> Option<&str> {
    if v.format == NodeFormat::Bin {
        return None;
    }
    std::str::from_utf8(&v.data).ok()
}

/// Text quoted with escapes; binary as `0x…` when short, else `<N bytes>`.
fn value_text(v: &Value) -> String {
    match as_text(v) {
        Some(s) => format!("{s:?}"),
        None if !v.data.is_empty() && v.data.len() <= MAX_HEX => {
            let mut s = String::from("0x");
            for b in &v.data {
                let _ = write!(s, "{b:02x}");
            }
            s
        }
        None => format!("<{} bytes>", v.data.len()),
    }
}

/// One line per node, parents first: the top node by its URI, the rest by name, indented two
/// spaces per level below it; then aligned Format, Type and (with data) value columns.
pub(super) fn text(listed: &[Listed], with_data: bool) -> String {
    let Some(top) = listed.first() else {
        return String::new();
    };
    let top_depth = depth(&top.uri);
    let rows: Vec<[String; 4]> = listed
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let label = if i == 0 {
                l.uri.clone()
            } else {
                let indent = "  ".repeat(depth(&l.uri).saturating_sub(top_depth));
                format!("{indent}{}", name(&l.uri))
            };
            let value = if with_data && l.value.format != NodeFormat::Node {
                value_text(&l.value)
            } else {
                String::new()
            };
            [
                label,
                l.value.format.as_str().to_owned(),
                l.value.type_.clone(),
                value,
            ]
        })
        .collect();
    let width = |col: usize| {
        rows.iter()
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for [label, format, type_, value] in &rows {
        let line = format!("{label:<w0$}  {format:<w1$}  {type_:<w2$}  {value}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct Entry<'a> {
    uri: &'a str,
    format: &'static str,
    #[serde(rename = "type")]
    type_: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
}

/// A JSON array of `{uri, format, type, value?, encoding?}`, pretty-printed.
pub(super) fn json(listed: &[Listed], with_data: bool) -> Result<String> {
    let entries: Vec<Entry<'_>> = listed
        .iter()
        .map(|l| {
            let v = &l.value;
            let (value, encoding) = if with_data && v.format != NodeFormat::Node {
                match as_text(v) {
                    Some(s) => (Some(s.to_owned()), Some("text")),
                    None => (
                        Some(base64::engine::general_purpose::STANDARD.encode(&v.data)),
                        Some("base64"),
                    ),
                }
            } else {
                (None, None)
            };
            Entry {
                uri: &l.uri,
                format: v.format.as_str(),
                type_: &v.type_,
                value,
                encoding,
            }
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&entries)?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(uri: &str, format: NodeFormat, data: &[u8]) -> Listed {
        Listed {
            uri: uri.to_owned(),
            value: Value {
                format,
                type_: "text/plain".to_owned(),
                data: data.to_vec(),
            },
        }
    }

    fn interior(uri: &str) -> Listed {
        Listed {
            uri: uri.to_owned(),
            value: Value {
                format: NodeFormat::Node,
                type_: String::new(),
                data: Vec::new(),
            },
        }
    }

    #[test]
    fn binary_values_are_hex_when_short() {
        let short = leaf("./A", NodeFormat::Bin, &[0, 1, 0xff]);
        assert_eq!(value_text(&short.value), "0x0001ff");
        let long = leaf("./A", NodeFormat::Bin, &[7; 17]);
        assert_eq!(value_text(&long.value), "<17 bytes>");
        let text = leaf("./A", NodeFormat::Chr, b"a \"b\"");
        assert_eq!(value_text(&text.value), r#""a \"b\"""#);
    }

    #[test]
    fn text_is_indented_below_the_top_uri_and_aligned() {
        let listed = [
            interior("./A"),
            interior("./A/Sub"),
            leaf("./A/Sub/Leaf", NodeFormat::Int, b"42"),
        ];
        assert_eq!(
            text(&listed, true),
            "./A       node\n  Sub     node\n    Leaf  int   text/plain  \"42\"\n"
        );
    }
}
