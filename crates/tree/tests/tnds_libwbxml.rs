//! Interop with libwbxml 0.11 (Debian libwbxml2-utils), which knows the DM DDF 1.2 FPI, as an
//! oracle: (a) `xml2wbxml -k -n -v 1.2` of our XML decodes with [`from_wbxml`] to the tree
//! [`from_xml`] gives; (b) our [`to_wbxml`] through `wbxml2xml -m 0 -k` gives XML that
//! [`from_xml`] decodes to the tree it was written from. Flags (`xml2wbxml -h`, `wbxml2xml -h`):
//! `-k` keep whitespace, `-n` no string table, `-v 1.2` WBXML 1.2, `-m 0` compact XML.
//!
//! Where libwbxml differs from us, each pinned below so that a change is noticed:
//! - it writes a `bin` Value as STR_I base64 text (as in the XML), we as OPAQUE raw bytes; apart
//!   from that its WBXML of our XML is byte for byte ours;
//! - `wbxml2xml` writes OPAQUE content raw into the XML, so a binary value comes back as bytes
//!   that are not base64 (and not even UTF-8 here) and the XML does not decode.
//!
//! When the tools are missing the tests print a skip note, or fail when `CI` is set (`.ci/run`
//! installs them).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use proptest::prelude::*;

use omadm_tree::format::NodeFormat;
use omadm_tree::tnds::{
    from_wbxml, from_xml, to_wbxml, to_xml, ErrorKind, MgmtTree, NodeType, RtProperties,
    TndsLimits, TndsNode,
};

/// True when the tools can run. Missing: fail under CI, otherwise print a note and skip.
fn tools_present(test: &str) -> bool {
    let missing: Vec<&str> = ["xml2wbxml", "wbxml2xml"]
        .into_iter()
        .filter(|t| Command::new(t).arg("-h").output().is_err())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: libwbxml tools {missing:?} not found; CI must install libwbxml2-utils (.ci/run deps)");
    }
    eprintln!("{test}: SKIPPED: {missing:?} not installed (apt-get install libwbxml2-utils)");
    false
}

/// Runs `tool args -o - -` with `input` on stdin; its stdout, or a panic with its stderr.
fn run(tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(args)
        .args(["-o", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("tool output");
    writer.join().expect("writer").expect("write stdin");
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn xml2wbxml(xml: &[u8]) -> Vec<u8> {
    run("xml2wbxml", &["-k", "-n", "-v", "1.2"], xml)
}

fn wbxml2xml(wbxml: &[u8]) -> Vec<u8> {
    run("wbxml2xml", &["-m", "0", "-k"], wbxml)
}

fn dmacc_xml() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tnds/dmacc.xml");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn limits() -> TndsLimits {
    TndsLimits::default()
}

/// The tree without its `bin` leaves (which libwbxml cannot turn back into XML).
fn without_bin(mut t: MgmtTree) -> MgmtTree {
    fn strip(nodes: &mut Vec<TndsNode>) {
        nodes.retain(|n| n.rt.format != Some(NodeFormat::Bin));
        for n in nodes {
            strip(&mut n.children);
        }
    }
    strip(&mut t.nodes);
    t
}

#[test]
fn libwbxml_encoding_of_our_xml_decodes_to_the_same_tree() {
    if !tools_present("libwbxml_encoding_of_our_xml_decodes_to_the_same_tree") {
        return;
    }
    let file = dmacc_xml();
    let t = from_xml(&file, &limits()).unwrap();
    // The hand-written file (DOCTYPE, comments, indentation kept by -k) and our compact XML.
    for xml in [file, to_xml(&t).unwrap()] {
        assert_eq!(from_wbxml(&xml2wbxml(&xml), &limits()).unwrap(), t);
    }
    // With a string table (STR_T text), and with libwbxml's default whitespace trimming.
    let xml = to_xml(&t).unwrap();
    for args in [&["-k", "-v", "1.3"][..], &["-n", "-v", "1.1"][..]] {
        let wbxml = run("xml2wbxml", args, &xml);
        assert_eq!(from_wbxml(&wbxml, &limits()).unwrap(), t, "{args:?}");
    }
}

#[test]
fn libwbxml_wbxml_is_ours_byte_for_byte_but_bin_values() {
    if !tools_present("libwbxml_wbxml_is_ours_byte_for_byte_but_bin_values") {
        return;
    }
    let t = from_xml(&dmacc_xml(), &limits()).unwrap();
    let ours = to_wbxml(&t);
    let theirs = xml2wbxml(&to_xml(&t).unwrap());
    // Ours: Value OPAQUE 16 raw bytes; theirs: Value STR_I base64 text.
    let mut secret: Vec<u8> = (0u8..15).collect();
    secret.push(0xFF);
    let opaque = [&[0xC3, 0x10][..], &secret].concat();
    let str_i = [&[0x03][..], b"AAECAwQFBgcICQoLDA0O/w==", &[0x00]].concat();
    let at = ours
        .windows(opaque.len())
        .position(|w| w == opaque)
        .expect("bin value as OPAQUE");
    let expected = [&ours[..at], &str_i, &ours[at + opaque.len()..]].concat();
    assert_eq!(theirs, expected);
    // Without bin values the two are identical.
    let plain = without_bin(t);
    assert_eq!(xml2wbxml(&to_xml(&plain).unwrap()), to_wbxml(&plain));
}

#[test]
fn libwbxml_decoding_of_our_wbxml_reads_back() {
    if !tools_present("libwbxml_decoding_of_our_wbxml_reads_back") {
        return;
    }
    let t = without_bin(from_xml(&dmacc_xml(), &limits()).unwrap());
    let xml = wbxml2xml(&to_wbxml(&t));
    // libwbxml adds the declaration and DOCTYPE, which we skip.
    assert!(xml.starts_with(
        b"<?xml version=\"1.0\"?><!DOCTYPE MgmtTree PUBLIC \"-//OMA//DTD-DM-DDF 1.2//EN\""
    ));
    assert_eq!(from_xml(&xml, &limits()).unwrap(), t);
}

#[test]
fn libwbxml_writes_opaque_bin_values_raw_into_xml() {
    if !tools_present("libwbxml_writes_opaque_bin_values_raw_into_xml") {
        return;
    }
    let t = from_xml(&dmacc_xml(), &limits()).unwrap();
    let xml = wbxml2xml(&to_wbxml(&t));
    let raw = [&b"<Value>"[..], &[0x00, 0x01, 0x02, 0x03]].concat();
    assert!(xml.windows(raw.len()).any(|w| w == raw), "raw bytes in XML");
    let e = from_xml(&xml, &limits()).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::InvalidUtf8 | ErrorKind::Xml(_)),
        "{e}"
    );
    // Printable bytes come through as text, which is not base64.
    let printable = MgmtTree {
        nodes: vec![TndsNode {
            node_name: Some("b".into()),
            rt: RtProperties {
                format: Some(NodeFormat::Bin),
                ..RtProperties::default()
            },
            value: Some(b"a<b".to_vec()),
            ..TndsNode::default()
        }],
        ..MgmtTree::default()
    };
    let xml = wbxml2xml(&to_wbxml(&printable));
    assert!(String::from_utf8_lossy(&xml).contains("<Value>a&lt;b</Value>"));
    let e = from_xml(&xml, &limits()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::InvalidBase64), "{e}");
}

fn text() -> impl Strategy<Value = String> {
    "[ -~\t\r\né€\u{1F600}]{0,10}"
}

fn leaf() -> impl Strategy<Value = TndsNode> {
    let formats = NodeFormat::ALL
        .into_iter()
        .filter(|f| *f != NodeFormat::Bin)
        .collect::<Vec<_>>();
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(proptest::sample::select(formats)),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|(node_name, path, format, acl, mime, value)| TndsNode {
            node_name,
            path,
            rt: RtProperties {
                acl,
                format,
                type_: mime.map(NodeType::Mime),
                ..RtProperties::default()
            },
            value: value.map(String::into_bytes),
            children: Vec::new(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn libwbxml_round_trips_arbitrary_text(
        nodes in proptest::collection::vec(leaf(), 1..4),
        man in proptest::option::of(text()),
    ) {
        if !tools_present("libwbxml_round_trips_arbitrary_text") {
            return Ok(());
        }
        let t = MgmtTree { man, nodes, ..MgmtTree::default() };
        let xml = to_xml(&t).unwrap();
        prop_assert_eq!(from_wbxml(&xml2wbxml(&xml), &limits()).unwrap(), t.clone());
        prop_assert_eq!(from_xml(&wbxml2xml(&to_wbxml(&t)), &limits()).unwrap(), t);
    }
}
