//! End-to-end tests of the `omadm` binary: `tnds convert` and `tree show` on small TNDS files.

mod common;

use common::{omadm, stderr, TempFile};
use omadm_tree::tnds::{self, MgmtTree, TndsLimits};

/// A DMAcc-like subtree. `./DMAcc/srv1` (interior) may be read by srv1 only; `./DMAcc/Public`
/// inherits the root's `Get=*`. PortNbr is placed through a top-level Node's Path.
const DMACC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MgmtTree xmlns="syncml:dmddf1.2">
  <VerDTD>1.2</VerDTD>
  <Man>Example</Man>
  <Node>
    <NodeName>DMAcc</NodeName>
    <RTProperties><Format><node/></Format><Type><DDFName></DDFName></Type></RTProperties>
    <Node>
      <NodeName>srv1</NodeName>
      <RTProperties>
        <ACL>Get=srv1&amp;Replace=srv1</ACL>
        <Format><node/></Format>
        <Type><DDFName>urn:oma:mo:oma-dm-dmacc:1.0</DDFName></Type>
      </RTProperties>
      <Node>
        <NodeName>ServerID</NodeName>
        <RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties>
        <Value>srv1</Value>
      </Node>
      <Node>
        <NodeName>AAuthData</NodeName>
        <RTProperties>
          <Format><bin/></Format>
          <Type><MIME>application/octet-stream</MIME></Type>
        </RTProperties>
        <Value>AAECAw==</Value>
      </Node>
      <Node>
        <NodeName>Port</NodeName>
        <RTProperties><Format><node/></Format><Type><DDFName></DDFName></Type></RTProperties>
      </Node>
    </Node>
    <Node>
      <NodeName>Public</NodeName>
      <RTProperties><Format><node/></Format><Type><DDFName></DDFName></Type></RTProperties>
      <Node>
        <NodeName>Name</NodeName>
        <RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties>
        <Value>Example &amp; Co.</Value>
      </Node>
    </Node>
  </Node>
  <Node>
    <NodeName>PortNbr</NodeName>
    <Path>./DMAcc/srv1/Port</Path>
    <RTProperties><Format><int/></Format><Type><MIME>text/plain</MIME></Type></RTProperties>
    <Value>8443</Value>
  </Node>
</MgmtTree>
"#;

/// Every node of [`DMACC`], as `tree show` (Device) lists it.
const DMACC_URIS: [&str; 9] = [
    ".",
    "./DMAcc",
    "./DMAcc/srv1",
    "./DMAcc/srv1/ServerID",
    "./DMAcc/srv1/AAuthData",
    "./DMAcc/srv1/Port",
    "./DMAcc/srv1/Port/PortNbr",
    "./DMAcc/Public",
    "./DMAcc/Public/Name",
];

/// An account as a server Adds it to `./DMAcc/<X>`: the top Node has an empty NodeName, so it
/// is the Add target itself.
const UNNAMED_ACCOUNT: &str = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName></NodeName>
  <RTProperties><ACL>Get=dm.example.com</ACL><Format><node/></Format>
    <Type><DDFName>urn:oma:mo:oma-dm-dmacc:1.0</DDFName></Type></RTProperties>
  <Node><NodeName>ServerID</NodeName>
    <RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties>
    <Value>dm.example.com</Value></Node>
</Node></MgmtTree>"#;

fn ok(args: &[&str]) -> String {
    let out = omadm(args, None);
    assert!(
        out.status.success(),
        "omadm {args:?} failed: {}",
        stderr(&out)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs a command that must fail with exit status 1; returns its stderr.
fn fails(args: &[&str]) -> String {
    let out = omadm(args, None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "omadm {args:?}: stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(out.stdout.is_empty(), "omadm {args:?} wrote stdout");
    stderr(&out)
}

fn decode(bytes: &[u8]) -> MgmtTree {
    tnds::decode(bytes, &TndsLimits::default()).unwrap_or_else(|e| panic!("decode: {e}"))
}

/// The node URIs of a `--json` listing, in order.
fn json_uris(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|e| e["uri"].as_str().expect("uri is a string").to_owned())
        .collect()
}

#[test]
fn tnds_convert_to_wbxml_and_back_keeps_the_tree() {
    let xml = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let wbxml = TempFile::empty("dmacc.wbxml");
    let back = TempFile::empty("back.xml");
    ok(&[
        "tnds",
        "convert",
        xml.path(),
        "--to",
        "wbxml",
        "-o",
        wbxml.path(),
    ]);
    ok(&[
        "tnds",
        "convert",
        wbxml.path(),
        "--to",
        "xml",
        "-o",
        back.path(),
    ]);

    let wbxml_bytes = wbxml.read();
    let back_bytes = back.read();
    assert_eq!(wbxml_bytes.first(), Some(&0x02), "WBXML 1.2");
    assert!(back_bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MgmtTree"));
    let original = decode(DMACC.as_bytes());
    assert_eq!(decode(&wbxml_bytes), original);
    assert_eq!(decode(&back_bytes), original);
    assert_eq!(original.nodes.len(), 2);
}

#[test]
fn tnds_convert_dash_means_stdin_and_stdout() {
    let wbxml = omadm(
        &["tnds", "convert", "-", "--to", "wbxml"],
        Some(DMACC.as_bytes()),
    );
    assert!(wbxml.status.success(), "{}", stderr(&wbxml));
    let xml = omadm(
        &["tnds", "convert", "-", "-o", "-", "--to", "xml"],
        Some(&wbxml.stdout),
    );
    assert!(xml.status.success(), "{}", stderr(&xml));
    assert_eq!(decode(&xml.stdout), decode(DMACC.as_bytes()));
}

#[test]
fn tnds_convert_errors_name_the_position_and_leave_no_file() {
    let bad = TempFile::with(
        "bad.xml",
        b"<MgmtTree>\n<VerDTD>1.2</VerDTD>\n  <Foo/></MgmtTree>",
    );
    let out = TempFile::empty("out.wbxml");
    let err = fails(&[
        "tnds",
        "convert",
        bad.path(),
        "--to",
        "wbxml",
        "-o",
        out.path(),
    ]);
    assert!(err.contains("line 3, column 3"), "{err}");
    assert!(err.contains("<Foo>"), "{err}");
    assert!(!out.0.exists());

    let wbxml = omadm(
        &["tnds", "convert", "-", "--to", "wbxml"],
        Some(DMACC.as_bytes()),
    );
    let truncated = wbxml.stdout.get(..40).expect("a longer document");
    let out = omadm(&["tnds", "convert", "-", "--to", "xml"], Some(truncated));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("byte 40"), "{}", stderr(&out));
}

#[test]
fn tnds_help_explains_tnds() {
    let help = ok(&["tnds", "convert", "--help"]);
    assert!(
        help.contains("Tree and Description Serialization"),
        "{help}"
    );
    assert!(help.contains("application/vnd.syncml.dmtnds+xml"), "{help}");
    assert!(
        help.contains("application/vnd.syncml.dmtnds+wbxml"),
        "{help}"
    );
}

#[test]
fn tree_show_lists_every_node() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let text = ok(&["tree", "show", file.path()]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), DMACC_URIS.len(), "{text}");
    for (line, uri) in lines.iter().zip(DMACC_URIS) {
        let name = uri.rsplit('/').next().unwrap_or(uri);
        assert!(line.trim_start().starts_with(name), "{uri}: {text}");
    }
    // Indented by depth; Format and Type in columns.
    assert!(text.contains("\n    srv1 "), "{text}");
    assert!(text.contains("urn:oma:mo:oma-dm-dmacc:1.0"), "{text}");
    assert!(text.contains("        PortNbr "), "{text}");
    assert!(!text.contains("8443"), "no values with struct: {text}");

    // The same from the WBXML form of the document.
    let wbxml = TempFile::empty("dmacc.wbxml");
    ok(&[
        "tnds",
        "convert",
        file.path(),
        "--to",
        "wbxml",
        "-o",
        wbxml.path(),
    ]);
    assert_eq!(ok(&["tree", "show", wbxml.path()]), text);
}

#[test]
fn tree_show_as_another_server_hides_the_protected_subtree() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let text = ok(&["tree", "show", file.path(), "--server-id", "srv2"]);
    assert!(text.contains("Public"), "{text}");
    assert!(text.contains("Name"), "{text}");
    for hidden in ["srv1", "ServerID", "AAuthData", "PortNbr"] {
        assert!(!text.contains(hidden), "{hidden} shown to srv2: {text}");
    }
    // The server the ACL names sees it all.
    let full = ok(&["tree", "show", file.path(), "--server-id", "srv1"]);
    assert_eq!(full.lines().count(), DMACC_URIS.len(), "{full}");

    let json = ok(&["tree", "show", file.path(), "--server-id", "srv2", "--json"]);
    assert_eq!(
        json_uris(&json),
        [".", "./DMAcc", "./DMAcc/Public", "./DMAcc/Public/Name"]
    );
}

#[test]
fn tree_show_of_a_denied_uri_is_425() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    for list in ["struct", "structdata", "tnds"] {
        let err = fails(&[
            "tree",
            "show",
            file.path(),
            "./DMAcc/srv1",
            "--server-id",
            "srv2",
            "--list",
            list,
        ]);
        assert!(err.contains("425 Permission denied"), "{err}");
        assert!(err.contains("./DMAcc/srv1"), "{err}");
    }
    // Below the denied node too: the ACL is inherited.
    let err = fails(&[
        "tree",
        "show",
        file.path(),
        "./DMAcc/srv1/ServerID",
        "--server-id",
        "srv2",
    ]);
    assert!(err.contains("425 Permission denied"), "{err}");
}

#[test]
fn tree_show_errors_carry_the_dm_status() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let err = fails(&["tree", "show", file.path(), "./DMAcc/Nope"]);
    assert!(err.contains("404 Not found"), "{err}");
    let err = fails(&["tree", "show", file.path(), "DMAcc//srv1"]);
    assert!(err.contains("400 Bad request"), "{err}");

    let bad = TempFile::with(
        "bad.xml",
        b"<MgmtTree>\n<VerDTD>1.2</VerDTD>\n<Foo/></MgmtTree>",
    );
    let err = fails(&["tree", "show", bad.path()]);
    assert!(err.contains("400 Bad request"), "{err}");
    assert!(err.contains("line 3, column 1"), "{err}");

    let bad_value = DMACC.replace("<Value>8443</Value>", "<Value>many</Value>");
    let bad = TempFile::with("badvalue.xml", bad_value.as_bytes());
    let err = fails(&["tree", "show", bad.path()]);
    assert!(err.contains("./DMAcc/srv1/Port/PortNbr"), "{err}");
}

#[test]
fn tree_show_structdata_prints_values() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let text = ok(&["tree", "show", file.path(), "--list", "structdata"]);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name}: {text}"))
            .to_owned()
    };
    assert!(line("Name").ends_with("\"Example & Co.\""), "{text}");
    assert!(line("PortNbr").ends_with("\"8443\""), "{text}");
    assert!(line("AAuthData").ends_with("0x00010203"), "{text}");

    let sub = ok(&[
        "tree",
        "show",
        file.path(),
        "./DMAcc/Public",
        "--list",
        "structdata",
    ]);
    assert!(sub.starts_with("./DMAcc/Public "), "{sub}");
    assert_eq!(sub.lines().count(), 2, "{sub}");
}

#[test]
fn tree_show_json_parses() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let json = ok(&["tree", "show", file.path(), "--json"]);
    assert_eq!(json_uris(&json), DMACC_URIS);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v[2]["format"], "node");
    assert_eq!(v[2]["type"], "urn:oma:mo:oma-dm-dmacc:1.0");
    assert!(v[3].get("value").is_none(), "struct carries no values");

    let json = ok(&[
        "tree",
        "show",
        file.path(),
        "--json",
        "--list",
        "structdata",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let entry = |uri: &str| {
        v.as_array()
            .and_then(|a| a.iter().find(|e| e["uri"] == uri))
            .unwrap_or_else(|| panic!("no {uri}: {json}"))
            .clone()
    };
    let name = entry("./DMAcc/Public/Name");
    assert_eq!(name["format"], "chr");
    assert_eq!(name["type"], "text/plain");
    assert_eq!(name["value"], "Example & Co.");
    assert_eq!(name["encoding"], "text");
    let secret = entry("./DMAcc/srv1/AAuthData");
    assert_eq!(secret["value"], "AAECAw==");
    assert_eq!(secret["encoding"], "base64");
    assert!(
        entry("./DMAcc").get("value").is_none(),
        "interior nodes have none"
    );
}

#[test]
fn tree_show_tnds_exports_a_document_that_loads_again() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let exported = ok(&["tree", "show", file.path(), "--list", "tnds"]);
    let doc = decode(exported.as_bytes());
    // The root itself, named ".": tree show must take its children as the root's.
    assert_eq!(doc.nodes.len(), 1);
    assert_eq!(doc.nodes[0].node_name.as_deref(), Some("."));
    let again = TempFile::with("exported.xml", exported.as_bytes());
    assert_eq!(
        ok(&["tree", "show", again.path(), "--list", "structdata"]),
        ok(&["tree", "show", file.path(), "--list", "structdata"])
    );
    // ACLs travel: srv2 still cannot see srv1's account.
    let text = ok(&["tree", "show", again.path(), "--server-id", "srv2"]);
    assert!(!text.contains("srv1"), "{text}");

    // A subtree as a server may read it: the protected account is left out.
    let public = ok(&[
        "tree",
        "show",
        file.path(),
        "./DMAcc",
        "--list",
        "tnds",
        "--server-id",
        "srv2",
    ]);
    let doc = decode(public.as_bytes());
    let dmacc = &doc.nodes[0];
    assert_eq!(dmacc.node_name.as_deref(), Some("DMAcc"));
    let names: Vec<_> = dmacc
        .children
        .iter()
        .map(|c| c.node_name.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Public"]);
}

#[test]
fn a_document_for_an_add_target_loads_with_at() {
    let file = TempFile::with("account.xml", UNNAMED_ACCOUNT.as_bytes());
    // At the root, its ACL would take Add=* from the root: refused, with a hint.
    let err = fails(&["tree", "show", file.path()]);
    assert!(err.contains("405"), "{err}");
    assert!(err.contains("--at"), "{err}");

    let json = ok(&[
        "tree",
        "show",
        file.path(),
        "--at",
        "./DMAcc/Example",
        "--json",
    ]);
    assert_eq!(
        json_uris(&json),
        [
            ".",
            "./DMAcc",
            "./DMAcc/Example",
            "./DMAcc/Example/ServerID"
        ]
    );
    let text = ok(&[
        "tree",
        "show",
        file.path(),
        "--at",
        "./DMAcc/Example",
        "--server-id",
        "other",
    ]);
    assert!(!text.contains("Example"), "{text}");
}

#[test]
fn json_with_tnds_is_a_usage_error() {
    let file = TempFile::with("dmacc.xml", DMACC.as_bytes());
    let out = omadm(
        &["tree", "show", file.path(), "--list", "tnds", "--json"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
