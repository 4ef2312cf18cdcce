//! Making a message writable as XML: `Data` that XML cannot carry is rewritten.
//!
//! WBXML carries any bytes in OPAQUE; XML 1.0 carries neither binary nor most C0 control
//! characters. Two rewrites, each reported as a note:
//! - a nested WBXML document (a TNDS tree or DevInf in OPAQUE) becomes its XML form, named with
//!   the code page tables of its public id, and a Meta Type `...+wbxml` becomes `...+xml`;
//! - anything else XML cannot carry becomes base64 text with Meta Format `b64` (DM RepPro 1.2
//!   §5.1: b64 is the format for binary data in XML).

use std::borrow::Borrow;

use base64::Engine as _;
use omadm_syncml::{Command, Data, Item, Limits, Meta};
use omadm_wbxml::{tables, Event, PublicId, Reader};

/// Rewrites every `Data` of `commands` that XML cannot carry; returns one note per rewrite.
pub fn make_xml_safe(commands: &mut [Command]) -> Vec<String> {
    let mut notes = Vec::new();
    for cmd in commands {
        command(cmd, &mut notes);
    }
    notes
}

fn command(cmd: &mut Command, notes: &mut Vec<String>) {
    let name = cmd.name();
    let (cmd_id, meta, items) = match cmd {
        Command::Add(c)
        | Command::Copy(c)
        | Command::Delete(c)
        | Command::Get(c)
        | Command::Replace(c) => (&c.cmd_id, meta_ref(&c.meta), &mut c.items),
        Command::Exec(c) => (&c.cmd_id, meta_ref(&c.meta), &mut c.items),
        Command::Results(c) => (&c.cmd_id, meta_ref(&c.meta), &mut c.items),
        Command::Alert(c) => (&c.cmd_id, None, &mut c.items),
        Command::Status(c) => (&c.cmd_id, None, &mut c.items),
        Command::Atomic(c) | Command::Sequence(c) => {
            for sub in &mut c.commands {
                command(sub, notes);
            }
            return;
        }
        Command::Unsupported(_) => return,
    };
    for item in items.iter_mut() {
        let label = item_label(item, name, cmd_id);
        if let Some(note) = fix_item(item, meta, &label) {
            notes.push(note);
        }
    }
}

/// The model may hold `Meta` inline or boxed; both borrow as `&Meta`.
fn meta_ref<M: Borrow<Meta>>(m: &Option<M>) -> Option<&Meta> {
    m.as_ref().map(Borrow::borrow)
}

/// How a note names an item: its URI, else its command.
fn item_label(item: &Item, cmd: &str, cmd_id: &str) -> String {
    match item.target.as_ref().or(item.source.as_ref()) {
        Some(loc) => format!("Item {}", loc.loc_uri),
        None => format!("Item of {cmd} {cmd_id}"),
    }
}

fn fix_item(item: &mut Item, cmd_meta: Option<&Meta>, label: &str) -> Option<String> {
    let data = item.data.as_ref()?;
    let mut failed_nested = None;
    if let Data::Opaque(bytes) = data {
        if data.is_nested_wbxml() {
            let type_ = effective_type(item, cmd_meta).map(str::to_owned);
            match nested_to_xml(bytes, type_.as_deref()) {
                Ok((xml, vocabulary)) => {
                    let len = bytes.len();
                    item.data = Some(Data::Xml(xml.into()));
                    let mut note = format!(
                        "{label}: nested WBXML Data ({len} bytes, {vocabulary}) written as XML"
                    );
                    if let Some(t) = type_.as_deref().and_then(wbxml_type_to_xml) {
                        note.push_str(&format!("; Type set to {t}"));
                        item.meta.get_or_insert_with(Default::default).type_ = Some(t.into());
                    }
                    return Some(note);
                }
                Err(e) => failed_nested = Some(e),
            }
        }
    }
    let why = unfit_for_xml(data)?;
    let len = data.len();
    let b64 = base64::engine::general_purpose::STANDARD.encode(data.as_bytes());
    item.data = Some(Data::Text(b64.into()));
    item.meta.get_or_insert_with(Default::default).format = Some("b64".into());
    let nested = failed_nested
        .map(|e| format!(" (nested WBXML not rendered: {e})"))
        .unwrap_or_default();
    Some(format!(
        "{label}: {why} ({len} bytes){nested} written as base64; Format set to b64"
    ))
}

/// The item's Meta Type, else the command's (an item's Meta overrides its command's).
fn effective_type<'m>(item: &'m Item, cmd_meta: Option<&'m Meta>) -> Option<&'m str> {
    item.meta
        .as_ref()
        .and_then(|m| m.type_.as_deref())
        .or_else(|| cmd_meta.and_then(|m| m.type_.as_deref()))
}

/// `application/vnd.syncml.dmtnds+wbxml` → `application/vnd.syncml.dmtnds+xml`.
fn wbxml_type_to_xml(t: &str) -> Option<String> {
    let cut = t.len().checked_sub("+wbxml".len())?;
    let (head, tail) = (t.get(..cut)?, t.get(cut..)?);
    tail.eq_ignore_ascii_case("+wbxml")
        .then(|| format!("{head}+xml"))
}

/// Why `data` cannot be written inside an XML `<Data>`, if it cannot.
fn unfit_for_xml(data: &Data) -> Option<String> {
    let Some(text) = data.as_text() else {
        return Some("binary Data".to_owned());
    };
    text.chars()
        .find(|&c| !xml_char(c))
        .map(|c| format!("Data holding the character U+{:04X}", u32::from(c)))
}

/// XML 1.0 §2.2 `Char`, less the surrogates Rust strings cannot hold anyway.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Renders a nested WBXML document as XML (no declaration: it goes inside `<Data>`). Elements
/// are named from the vocabulary of the document's public id (or FPI), or, for a document that
/// names none, of its Meta Type; the root, and any element whose code page changes the
/// namespace, carries `xmlns`. Returns the XML and the vocabulary's name.
fn nested_to_xml(bytes: &[u8], type_: Option<&str>) -> Result<(String, &'static str), String> {
    let max = Limits::default().max_data_len;
    let mut reader =
        Reader::new(bytes, omadm_wbxml::Limits::default()).map_err(|e| e.to_string())?;
    let vocabulary = match reader.header().public_id {
        PublicId::Numeric(id) => tables::by_public_id(id),
        PublicId::Literal(fpi) => tables::by_fpi(fpi),
    }
    .or_else(|| type_.and_then(vocabulary_for_type))
    .ok_or_else(|| match reader.header().public_id {
        PublicId::Numeric(id) => format!("unknown public id {id:#x}"),
        PublicId::Literal(fpi) => format!("unknown FPI \"{fpi}\""),
    })?;

    let mut out = String::with_capacity(bytes.len() * 4);
    // Open elements: name and namespace in force.
    let mut open: Vec<(&str, Option<&'static str>)> = Vec::new();
    let mut empty_pending = false;
    loop {
        let at = reader.offset();
        let Some(ev) = reader.next_event().map_err(|e| e.to_string())? else {
            break;
        };
        let in_ns = open.last().and_then(|&(_, ns)| ns);
        match ev {
            Event::Start {
                page,
                token,
                content,
            } => {
                let page_of = vocabulary.page(page);
                let name = page_of.and_then(|p| p.tag_name(token)).ok_or_else(|| {
                    format!(
                        "byte {at}: {} has no tag {token:#04x} on code page {page}",
                        vocabulary.name
                    )
                })?;
                let ns = page_of.map(|p| p.namespace);
                start_tag(&mut out, name, ns.filter(|&n| Some(n) != in_ns), content);
                if content {
                    open.push((name, ns));
                } else {
                    empty_pending = true;
                }
            }
            Event::LiteralStart { name, content } => {
                if !xml_name(name) {
                    return Err(format!(
                        "byte {at}: literal tag \"{name}\" is not an XML name"
                    ));
                }
                start_tag(&mut out, name, None, content);
                if content {
                    open.push((name, in_ns));
                } else {
                    empty_pending = true;
                }
            }
            Event::End if empty_pending => empty_pending = false,
            Event::End => {
                if let Some((name, _)) = open.pop() {
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
            Event::Text(s) => escape(&mut out, s, at)?,
            Event::Entity(c) => escape(&mut out, c.encode_utf8(&mut [0; 4]), at)?,
            Event::Opaque(b) => match std::str::from_utf8(b) {
                Ok(s) => escape(&mut out, s, at)?,
                Err(_) => return Err(format!("byte {at}: binary OPAQUE inside the document")),
            },
        }
        if out.len() > max {
            return Err(format!("its XML form exceeds {max} bytes"));
        }
    }
    Ok((out, vocabulary.name))
}

fn vocabulary_for_type(t: &str) -> Option<&'static tables::Vocabulary> {
    let t = t.to_ascii_lowercase();
    if t.contains("dmtnds") {
        Some(&tables::DMDDF_12)
    } else if t.contains("devinf") {
        Some(&tables::DEVINF_12)
    } else {
        None
    }
}

fn start_tag(out: &mut String, name: &str, xmlns: Option<&str>, content: bool) {
    out.push('<');
    out.push_str(name);
    if let Some(ns) = xmlns {
        out.push_str(" xmlns=\"");
        out.push_str(ns);
        out.push('"');
    }
    out.push_str(if content { ">" } else { "/>" });
}

/// A conservative XML `Name` check (ASCII names; what a WBXML string table would hold).
fn xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
}

fn escape(out: &mut String, s: &str, at: usize) -> Result<(), String> {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            c if xml_char(c) => out.push(c),
            c => {
                return Err(format!(
                    "byte {at}: the character U+{:04X} cannot be written as XML",
                    u32::from(c)
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use omadm_syncml::{ItemCommand, Location};
    use omadm_wbxml::{Version, Writer};

    /// `<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>a&b</NodeName></Node></MgmtTree>` as TNDS
    /// WBXML with a literal FPI, as TNDS objects travel.
    fn tnds() -> Vec<u8> {
        let mut w = Writer::new(
            Vec::new(),
            Version::V1_2,
            PublicId::Literal(tables::DMDDF_12.fpi),
            106,
        );
        let tok = |n| tables::DMDDF_12.tag_token(n).map_or(0x05, |(_, t)| t);
        w.start(2, tok("MgmtTree"), true);
        w.start(2, tok("VerDTD"), true);
        w.str_i("1.2").ok();
        w.end();
        w.start(2, tok("Node"), true);
        w.start(2, tok("NodeName"), true);
        w.str_i("a&b").ok();
        w.end();
        w.start(2, tok("Permanent"), false);
        w.end();
        w.end();
        w.finish()
    }

    fn replace(data: Data, meta: Option<Meta>) -> Vec<Command> {
        let item = Item {
            target: Some(Location::new("./X")),
            meta,
            data: Some(data),
            ..Item::default()
        };
        vec![Command::Replace(ItemCommand {
            cmd_id: "1".into(),
            items: vec![item],
            ..ItemCommand::default()
        })]
    }

    fn first_item(cmds: &[Command]) -> &Item {
        &cmds[0].items()[0]
    }

    #[test]
    fn nested_tnds_becomes_xml_and_type_changes() {
        let meta = Meta {
            type_: Some("application/vnd.syncml.dmtnds+wbxml".into()),
            ..Meta::default()
        };
        let mut cmds = replace(Data::Opaque(tnds()), Some(meta));
        let notes = make_xml_safe(&mut cmds);
        assert_eq!(notes.len(), 1, "{notes:?}");
        let item = first_item(&cmds);
        assert_eq!(
            item.data.as_ref().and_then(Data::as_text),
            Some(
                "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node>\
                 <NodeName>a&amp;b</NodeName><Permanent/></Node></MgmtTree>"
            )
        );
        assert_eq!(item.data.as_ref().map(Data::kind), Some("xml"));
        assert_eq!(
            item.meta.as_ref().and_then(|m| m.type_.as_deref()),
            Some("application/vnd.syncml.dmtnds+xml")
        );
    }

    #[test]
    fn binary_becomes_base64_with_format() {
        let mut cmds = replace(Data::Opaque(vec![0xFF, 0x00, 0x10, 0x80]), None);
        let notes = make_xml_safe(&mut cmds);
        assert_eq!(
            notes,
            ["Item ./X: binary Data (4 bytes) written as base64; Format set to b64"]
        );
        let item = first_item(&cmds);
        assert_eq!(item.data.as_ref().and_then(Data::as_text), Some("/wAQgA=="));
        assert_eq!(
            item.meta.as_ref().and_then(|m| m.format.as_deref()),
            Some("b64")
        );
    }

    #[test]
    fn control_characters_become_base64_but_text_stays() {
        let mut cmds = replace(Data::Opaque(b"chr\0".to_vec()), None);
        cmds.extend(replace(Data::Text("fine\ttext".into()), None));
        let notes = make_xml_safe(&mut cmds);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("U+0000"), "{}", notes[0]);
        assert_eq!(
            first_item(&cmds).data.as_ref().and_then(Data::as_text),
            Some("Y2hyAA==")
        );
        assert_eq!(
            cmds[1].items()[0].data.as_ref().and_then(Data::as_text),
            Some("fine\ttext")
        );
    }

    #[test]
    fn type_suffix() {
        assert_eq!(wbxml_type_to_xml("a/b+WBXML").as_deref(), Some("a/b+xml"));
        assert_eq!(wbxml_type_to_xml("text/plain"), None);
        assert_eq!(wbxml_type_to_xml("x"), None);
    }
}
