//! What TNDS refuses, and how: each malformed document is an error with a position and the DM
//! status the module docs give (400 malformed, 413 limit, 415 unsupported); every limit is named.

use std::path::Path;

use omadm_tree::tnds::{
    decode, from_wbxml, from_xml, to_wbxml, ErrorKind, MgmtTree, Position, TndsError, TndsLimits,
    TndsNode,
};

fn dmacc_xml() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tnds/dmacc.xml");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn xml_err(doc: &str) -> TndsError {
    match from_xml(doc.as_bytes(), &TndsLimits::default()) {
        Ok(t) => panic!("accepted {doc}: {t:?}"),
        Err(e) => {
            assert!(e.position.is_some(), "{e} has no position");
            e
        }
    }
}

/// `<MgmtTree><VerDTD>1.2</VerDTD>` + `body` + `</MgmtTree>`.
fn tree(body: &str) -> String {
    format!("<MgmtTree><VerDTD>1.2</VerDTD>{body}</MgmtTree>")
}

const LEAF: &str = "<Node><NodeName>a</NodeName><RTProperties/><Value>1</Value></Node>";

#[test]
fn every_truncation_of_xml_and_wbxml_is_an_error() {
    let limits = TndsLimits::default();
    let xml = dmacc_xml();
    let full = from_xml(&xml, &limits).unwrap();
    // Cuts inside the root element (the last bytes are "</MgmtTree>\n").
    let root_end = xml.len() - "</MgmtTree>\n".len();
    let root_start = xml.windows(9).position(|w| w == b"<MgmtTree").unwrap();
    for cut in root_start..root_end {
        let e = from_xml(&xml[..cut], &limits).expect_err("truncated XML");
        assert_eq!(e.status(), 400, "cut {cut}: {e}");
    }
    let wbxml = to_wbxml(&full);
    for cut in 0..wbxml.len() {
        let e = from_wbxml(&wbxml[..cut], &limits).expect_err("truncated WBXML");
        assert_eq!(e.status(), 400, "cut {cut}: {e}");
        assert!(
            cut == 0 || matches!(e.position, Some(Position::Byte(b)) if b <= cut),
            "cut {cut}: {e:?}"
        );
    }
    let e = xml_err("<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>a</NodeName>");
    assert!(
        matches!(e.kind, ErrorKind::UnexpectedEof { open: "Node" }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "line 1, column 59: the document ends inside <Node>"
    );
}

#[test]
fn root_must_be_mgmttree() {
    let e = xml_err("<SyncML><VerDTD>1.2</VerDTD></SyncML>");
    assert!(matches!(&e.kind, ErrorKind::NotMgmtTree { found } if found == "SyncML"));
    // WBXML: SyncML 1.2 public id, root SyncML (page 0 token 0x2D).
    let e = from_wbxml(
        &[0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x01],
        &TndsLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&e.kind, ErrorKind::NotMgmtTree { found } if found == "token 0x2D of code page 0"),
        "{e}"
    );
    assert_eq!(e.position, Some(Position::Byte(5)));
    // MgmtTree's token, but on page 0 (no SWITCH_PAGE).
    let mut wbxml = vec![0x02, 0x00, 0x00, 0x6A, 0x1B];
    wbxml.extend_from_slice(b"-//OMA//DTD-DM-DDF 1.2//EN\0");
    wbxml.extend_from_slice(&[0x60, 0x01]);
    let e = from_wbxml(&wbxml, &TndsLimits::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::NotMgmtTree { .. }), "{e}");
    assert!(matches!(xml_err("  ").kind, ErrorKind::NoRoot));
    assert!(matches!(
        xml_err("text<MgmtTree/>").kind,
        ErrorKind::ContentOutsideRoot
    ));
}

#[test]
fn unknown_format_element_is_415_naming_it() {
    let e = xml_err(&tree(
        "<Node><NodeName>a</NodeName><RTProperties><Format><string/></Format></RTProperties></Node>",
    ));
    assert!(matches!(&e.kind, ErrorKind::UnknownFormat { name } if name == "string"));
    assert_eq!(e.status(), 415);
    assert!(e.to_string().contains("<string>"), "{e}");
    // Case matters: <Node/> is an element, not the node format.
    let e = xml_err(&tree(
        "<Node><RTProperties><Format><Node/></Format></RTProperties></Node>",
    ));
    assert!(matches!(&e.kind, ErrorKind::UnknownFormat { name } if name == "Node"));
    // Format as text (the Meta Format way) is not the DDF form.
    let e = xml_err(&tree(
        "<Node><RTProperties><Format>chr</Format></RTProperties></Node>",
    ));
    assert!(matches!(
        e.kind,
        ErrorKind::TextNotAllowed { parent: "Format" }
    ));
    let e = xml_err(&tree(
        "<Node><RTProperties><Format><chr>x</chr></Format></RTProperties></Node>",
    ));
    assert!(matches!(e.kind, ErrorKind::NotEmpty { element: "chr" }));
    let e = xml_err(&tree(
        "<Node><RTProperties><Format><chr/><int/></Format></RTProperties></Node>",
    ));
    assert!(matches!(
        e.kind,
        ErrorKind::Duplicate {
            parent: "Format",
            ..
        }
    ));
    let e = xml_err(&tree("<Node><RTProperties><Format/></RTProperties></Node>"));
    assert!(matches!(
        e.kind,
        ErrorKind::Missing {
            parent: "Format",
            ..
        }
    ));
}

/// `depth` nested Nodes, the innermost a leaf.
fn nested(depth: usize) -> MgmtTree {
    let mut node = TndsNode {
        node_name: Some("leaf".into()),
        value: Some(b"v".to_vec()),
        ..TndsNode::default()
    };
    for _ in 1..depth {
        node = TndsNode {
            node_name: Some("n".into()),
            children: vec![node],
            ..TndsNode::default()
        };
    }
    MgmtTree {
        nodes: vec![node],
        ..MgmtTree::default()
    }
}

fn both(tree: &MgmtTree, limits: &TndsLimits) -> [Result<MgmtTree, TndsError>; 2] {
    let xml = omadm_tree::tnds::to_xml(tree).unwrap();
    [from_xml(&xml, limits), from_wbxml(&to_wbxml(tree), limits)]
}

fn assert_limit(r: Result<MgmtTree, TndsError>, limit: &str, max: usize) {
    let e = r.expect_err("over the limit");
    match e.kind {
        ErrorKind::LimitExceeded { limit: l, max: m } => assert_eq!((l, m), (limit, max), "{e}"),
        _ => panic!("expected {limit}, got {e}"),
    }
    assert_eq!(e.status(), 413);
    assert!(e.to_string().contains(limit), "{e}");
}

#[test]
fn depth_limit_counts_node_nesting_in_both_encodings() {
    let limits = TndsLimits {
        max_depth: 4,
        ..TndsLimits::default()
    };
    for r in both(&nested(4), &limits) {
        assert_eq!(r.unwrap(), nested(4));
    }
    for r in both(&nested(5), &limits) {
        assert_limit(r, "max_depth", 4);
    }
    // Deep markup that is not Nodes (inside a skipped DFProperties) is bounded all the same.
    let deep = "<a>".repeat(20) + &"</a>".repeat(20);
    let doc = tree(&format!("<Node><DFProperties>{deep}</DFProperties></Node>"));
    assert_limit(from_xml(doc.as_bytes(), &limits), "max_depth", 4);
    // A depth far beyond the default is refused before it costs stack.
    let deep_xml = tree(&("<Node>".repeat(100_000) + &"</Node>".repeat(100_000)));
    assert_limit(
        from_xml(deep_xml.as_bytes(), &TndsLimits::default()),
        "max_depth",
        32,
    );
    let mut deep_wbxml = to_wbxml(&nested(1));
    let body = deep_wbxml.split_off(deep_wbxml.len() - 1); // keep MgmtTree's END aside
    deep_wbxml.extend(std::iter::repeat_n(0x64, 100_000)); // Node with content
    deep_wbxml.extend(std::iter::repeat_n(0x01, 100_000));
    deep_wbxml.extend(body);
    assert_limit(
        from_wbxml(&deep_wbxml, &TndsLimits::default()),
        "max_depth",
        32,
    );
}

#[test]
fn node_value_and_size_limits_are_named() {
    let many = MgmtTree {
        nodes: vec![nested(1).nodes[0].clone(); 10],
        ..MgmtTree::default()
    };
    let limits = TndsLimits {
        max_nodes: 9,
        ..TndsLimits::default()
    };
    for r in both(&many, &limits) {
        assert_limit(r, "max_nodes", 9);
    }
    let big = MgmtTree {
        nodes: vec![TndsNode {
            value: Some(vec![b'x'; 101]),
            ..TndsNode::default()
        }],
        ..MgmtTree::default()
    };
    let limits = TndsLimits {
        max_value_len: 100,
        ..TndsLimits::default()
    };
    for r in both(&big, &limits) {
        assert_limit(r, "max_value_len", 100);
    }
    let limits = TndsLimits {
        max_bytes: 50,
        ..TndsLimits::default()
    };
    for r in both(&big, &limits) {
        assert_limit(r, "max_bytes", 50);
    }
}

#[test]
fn structure_errors_name_the_element() {
    let e = xml_err("<MgmtTree><Node><NodeName>a</NodeName></Node></MgmtTree>");
    assert!(matches!(
        e.kind,
        ErrorKind::Missing {
            element: "VerDTD",
            parent: "MgmtTree"
        }
    ));
    let e = xml_err(&tree(""));
    assert!(matches!(
        e.kind,
        ErrorKind::Missing {
            element: "Node",
            ..
        }
    ));
    let e = xml_err(&tree(
        "<Node><NodeName>a</NodeName><NodeName>b</NodeName></Node>",
    ));
    assert!(matches!(
        e.kind,
        ErrorKind::Duplicate {
            element: "NodeName",
            parent: "Node"
        }
    ));
    assert!(e.to_string().starts_with("line 1, column 59:"), "{e}");
    let e = xml_err(&tree(
        "<Node><RTProperties><ACL/><ACL/></RTProperties></Node>",
    ));
    assert!(matches!(
        e.kind,
        ErrorKind::Duplicate { element: "ACL", .. }
    ));
    let e = xml_err(&tree("<Node><Value>1</Value><Node/></Node>"));
    assert!(matches!(e.kind, ErrorKind::ValueAndChildren));
    let e = xml_err(&tree("<Node><Foo/></Node>"));
    assert!(
        matches!(&e.kind, ErrorKind::UnexpectedElement { found, parent: "Node" } if found == "Foo")
    );
    let e = xml_err(&tree("<Node><VerDTD>1</VerDTD></Node>"));
    assert!(matches!(e.kind, ErrorKind::UnexpectedElement { .. }));
    let e = xml_err(&tree("<Node>text</Node>"));
    assert!(matches!(
        e.kind,
        ErrorKind::TextNotAllowed { parent: "Node" }
    ));
    let e = xml_err(&tree("<Node><NodeName>a<b/></NodeName></Node>"));
    assert!(
        matches!(&e.kind, ErrorKind::ElementInText { found, parent: "NodeName" } if found == "b")
    );
    let e = xml_err(&tree("<Node><Value><x/></Value></Node>"));
    assert!(matches!(
        e.kind,
        ErrorKind::ElementInText {
            parent: "Value",
            ..
        }
    ));
    let e = xml_err(&tree(
        "<Node><RTProperties><Type><MIME>a</MIME><DDFName/></Type></RTProperties></Node>",
    ));
    assert!(matches!(
        e.kind,
        ErrorKind::Duplicate { parent: "Type", .. }
    ));
    for e in [
        xml_err(&tree(LEAF).replace("</MgmtTree>", "</MgmtTree><MgmtTree/>")),
        xml_err(&(tree(LEAF) + "x")),
    ] {
        assert!(matches!(e.kind, ErrorKind::TrailingContent), "{e}");
    }
    assert_eq!(xml_err(&tree("<Node>text</Node>")).status(), 400);
}

#[test]
fn empty_type_is_an_empty_ddfname() {
    let t = from_xml(
        tree("<Node><RTProperties><Type/></RTProperties></Node>").as_bytes(),
        &TndsLimits::default(),
    )
    .unwrap();
    assert_eq!(
        t.nodes[0].rt.type_,
        Some(omadm_tree::tnds::NodeType::DdfName(String::new()))
    );
}

#[test]
fn bin_value_that_is_not_base64_is_refused() {
    let e = xml_err(&tree(
        "<Node><RTProperties><Format><bin/></Format></RTProperties><Value>not base64!</Value></Node>",
    ));
    assert!(matches!(e.kind, ErrorKind::InvalidBase64));
    assert_eq!(e.status(), 400);
}

#[test]
fn xml_safety_no_dtd_entities_no_late_declaration() {
    let e = xml_err(
        r#"<!DOCTYPE MgmtTree [<!ENTITY x "boom">]><MgmtTree><VerDTD>&x;</VerDTD></MgmtTree>"#,
    );
    assert!(
        matches!(&e.kind, ErrorKind::UnknownEntity { name } if name == "x"),
        "{e}"
    );
    let e = xml_err(&tree("<Node><Value><?xml version=\"1.0\"?></Value></Node>"));
    assert!(matches!(e.kind, ErrorKind::Forbidden { .. }), "{e}");
    let e = xml_err("<MgmtTree><VerDTD>1.2</Node></MgmtTree>");
    assert!(matches!(e.kind, ErrorKind::Xml(_)), "{e}");
    let e = from_xml(
        &[
            b"<MgmtTree><VerDTD>".as_slice(),
            &[0xFF],
            b"</VerDTD></MgmtTree>",
        ]
        .concat(),
        &TndsLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::InvalidUtf8), "{e}");
}

#[test]
fn decode_tells_encodings_apart_and_refuses_neither() {
    let limits = TndsLimits::default();
    assert!(matches!(
        decode(b"", &limits).unwrap_err().kind,
        ErrorKind::Empty
    ));
    let e = decode(b"{\"json\":1}", &limits).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::UnknownEncoding { first: b'{' }));
    assert_eq!(e.status(), 415);
    assert!(decode(format!("\n{}", tree(LEAF)).as_bytes(), &limits).is_ok());
    // WBXML 1.2 in ISO-8859-1 (MIBenum 4): we read UTF-8 and US-ASCII only.
    let e = decode(&[0x02, 0x01, 0x04, 0x00, 0x60, 0x01], &limits).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Wbxml(_)), "{e}");
    assert_eq!(e.status(), 415);
    assert!(
        e.to_string().starts_with("malformed WBXML at byte 2:"),
        "{e}"
    );
}

#[test]
fn wbxml_content_errors_point_at_bytes() {
    let mut wbxml = vec![0x02, 0x01, 0x6A, 0x00, 0x00, 0x02, 0x60];
    // VerDTD then OPAQUE that is not UTF-8 inside NodeName.
    wbxml.extend_from_slice(&[0x77, 0x03, b'1', 0x00, 0x01, 0x64, 0x66, 0xC3, 0x01, 0xFF]);
    wbxml.extend_from_slice(&[0x01, 0x01, 0x01]);
    let e = from_wbxml(&wbxml, &TndsLimits::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::InvalidUtf8), "{e}");
    assert_eq!(e.position, Some(Position::Byte(14)));
    // An unknown page 2 token inside Node.
    let mut wbxml = vec![0x02, 0x01, 0x6A, 0x00, 0x00, 0x02, 0x60];
    wbxml.extend_from_slice(&[0x77, 0x03, b'1', 0x00, 0x01, 0x64, 0x05, 0x01, 0x01]);
    let e = from_wbxml(&wbxml, &TndsLimits::default()).unwrap_err();
    assert!(
        matches!(&e.kind, ErrorKind::UnexpectedElement { found, parent: "Node" } if found == "AccessType"),
        "{e}"
    );
    assert_eq!(e.position, Some(Position::Byte(13)));
}
