//! TNDS 1.2 end to end: a DM account in the TND 1.2 example style (testdata/tnds/dmacc.xml)
//! read field by field, carried XML → model → WBXML → model → XML unchanged, and the goldens of
//! what we write (dmacc.wbxml, dmacc.compact.xml beside it).

use std::path::{Path, PathBuf};

use omadm_tree::format::NodeFormat;
use omadm_tree::tnds::{
    self, from_wbxml, from_xml, to_wbxml, to_xml, MgmtTree, NodeType, RtProperties, TndsLimits,
    TndsNode,
};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/tnds")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    let p = testdata(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn dmacc() -> MgmtTree {
    from_xml(&read("dmacc.xml"), &TndsLimits::default()).expect("dmacc.xml decodes")
}

fn child<'a>(node: &'a TndsNode, name: &str) -> &'a TndsNode {
    node.children
        .iter()
        .find(|c| c.node_name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no child {name} under {:?}", node.node_name))
}

fn chr_leaf(value: &str) -> (RtProperties, Option<Vec<u8>>) {
    (
        RtProperties {
            format: Some(NodeFormat::Chr),
            type_: Some(NodeType::Mime("text/plain".into())),
            ..RtProperties::default()
        },
        Some(value.as_bytes().to_vec()),
    )
}

fn assert_chr_leaf(node: &TndsNode, value: &str) {
    let (rt, v) = chr_leaf(value);
    assert_eq!((&node.rt, &node.value), (&rt, &v), "{:?}", node.node_name);
    assert!(node.children.is_empty());
    assert_eq!(node.path, None);
}

fn empty_interior() -> RtProperties {
    RtProperties {
        format: Some(NodeFormat::Node),
        type_: Some(NodeType::DdfName(String::new())),
        ..RtProperties::default()
    }
}

#[test]
fn dmacc_example_reads_field_by_field() {
    let t = dmacc();
    assert_eq!(t.ver_dtd, "1.2");
    assert_eq!(t.man.as_deref(), Some("Example Handsets"));
    assert_eq!(t.mod_.as_deref(), Some("EX-100"));
    assert_eq!(t.nodes.len(), 2);

    // The account: empty NodeName (named at creation), every RTProperty but Name and Size.
    let acc = &t.nodes[0];
    assert_eq!(acc.node_name.as_deref(), Some(""));
    assert_eq!(acc.path, None);
    assert_eq!(acc.value, None);
    assert_eq!(
        acc.rt,
        RtProperties {
            acl: Some(
                "Add=dm.example.com&Delete=dm.example.com&Get=dm.example.com&Replace=dm.example.com"
                    .into()
            ),
            format: Some(NodeFormat::Node),
            name: None,
            size: None,
            title: Some("Example DM server account".into()),
            tstamp: Some("20240611T093000Z".into()),
            type_: Some(NodeType::DdfName("urn:oma:mo:oma-dm-dmacc:1.0".into())),
            verno: Some("3".into()),
        }
    );
    let names: Vec<_> = acc
        .children
        .iter()
        .map(|c| c.node_name.as_deref().unwrap_or("-"))
        .collect();
    assert_eq!(
        names,
        [
            "AppID",
            "ServerID",
            "Name",
            "AAuthPref",
            "AppAddr",
            "AppAuth",
            "Ext"
        ]
    );

    assert_chr_leaf(child(acc, "AppID"), "w7");
    let server_id = child(acc, "ServerID");
    assert_eq!(server_id.rt.acl.as_deref(), Some("Get=*"));
    assert_eq!(server_id.value.as_deref(), Some(&b"dm.example.com"[..]));
    // Entities are text, not markup.
    assert_chr_leaf(child(acc, "Name"), "Example & Co. <DM> server");
    // <Value></Value>: present and empty ("use the last negotiated scheme").
    assert_chr_leaf(child(acc, "AAuthPref"), "");

    let app_addr = child(acc, "AppAddr");
    assert_eq!(app_addr.rt, empty_interior());
    let addr1 = child(app_addr, "1");
    assert_eq!(addr1.rt, empty_interior());
    assert_chr_leaf(child(addr1, "Addr"), "https://dm.example.com:8443/dm");
    assert_chr_leaf(child(addr1, "AddrType"), "URI");
    // Port/1: neither children nor Value, the tree continues in a later Node.
    let port1 = child(child(addr1, "Port"), "1");
    assert_eq!((&port1.value, port1.children.len()), (&None, 0));

    let auth = child(child(child(acc, "AppAuth"), "srv"), "AAuthData");
    assert_eq!(
        auth.rt,
        RtProperties {
            acl: Some(String::new()),
            format: Some(NodeFormat::Bin),
            size: Some("16".into()),
            type_: Some(NodeType::Mime("application/octet-stream".into())),
            ..RtProperties::default()
        }
    );
    // bin: the model holds the decoded bytes, not the base64 text.
    let mut secret: Vec<u8> = (0u8..15).collect();
    secret.push(0xFF);
    assert_eq!(auth.value.as_deref(), Some(&secret[..]));

    let ext = child(acc, "Ext");
    assert_eq!(
        ext.rt.type_,
        Some(NodeType::DdfName("com.example/1.0/DMAccExt".into()))
    );
    let timeout = child(ext, "SessionTimeout");
    assert_eq!(timeout.rt.format, Some(NodeFormat::Int));
    assert_eq!(
        timeout.rt.title.as_deref(),
        Some("Seconds before an idle session ends")
    );
    assert_eq!(timeout.value.as_deref(), Some(&b"300"[..]));
    let roaming = child(ext, "Roaming");
    assert_eq!(roaming.rt.format, Some(NodeFormat::Bool));
    assert_eq!(roaming.value.as_deref(), Some(&b"false"[..]));

    // The continuation: a top-level Node placed by Path rather than by nesting.
    let port_nbr = &t.nodes[1];
    assert_eq!(port_nbr.node_name.as_deref(), Some("PortNbr"));
    assert_eq!(port_nbr.path.as_deref(), Some("AppAddr/1/Port/1"));
    assert_eq!(port_nbr.value.as_deref(), Some(&b"8443"[..]));

    // Every leaf value is valid for its Format.
    fn check(n: &TndsNode) {
        if let (Some(f), Some(v)) = (n.rt.format, &n.value) {
            assert_eq!(f.validate(v), Ok(()), "{:?}", n.node_name);
        }
        n.children.iter().for_each(check);
    }
    t.nodes.iter().for_each(check);
}

#[test]
fn dmacc_example_survives_xml_to_wbxml_to_xml() {
    let limits = TndsLimits::default();
    let from_file = dmacc();
    let wbxml = to_wbxml(&from_file);
    let from_wbxml = from_wbxml(&wbxml, &limits).expect("our WBXML decodes");
    assert_eq!(from_wbxml, from_file);
    let xml = to_xml(&from_wbxml).expect("writes as XML");
    let again = from_xml(&xml, &limits).expect("our XML decodes");
    assert_eq!(again, from_file);
    // decode() tells the two apart by the first byte.
    assert_eq!(tnds::decode(&wbxml, &limits).unwrap(), from_file);
    assert_eq!(tnds::decode(&xml, &limits).unwrap(), from_file);
    assert_eq!(
        tnds::decode(&read("dmacc.xml"), &limits).unwrap(),
        from_file
    );
}

#[test]
fn dmacc_goldens_are_what_we_write() {
    let t = dmacc();
    assert_eq!(to_wbxml(&t), read("dmacc.wbxml"), "dmacc.wbxml");
    let xml = to_xml(&t).unwrap();
    assert_eq!(
        String::from_utf8(xml).unwrap(),
        String::from_utf8(read("dmacc.compact.xml")).unwrap(),
        "dmacc.compact.xml"
    );
}

#[test]
fn wbxml_header_is_literal_dm_ddf_fpi_then_page_2_mgmt_tree() {
    let wbxml = to_wbxml(&dmacc());
    let mut expected = vec![0x02, 0x00, 0x00, 0x6A, 0x1B];
    expected.extend_from_slice(b"-//OMA//DTD-DM-DDF 1.2//EN\0");
    // SWITCH_PAGE 2, MgmtTree (0x20) with content (0x40), VerDTD (0x37|0x40) STR_I "1.2".
    expected.extend_from_slice(&[0x00, 0x02, 0x60, 0x77, 0x03, b'1', b'.', b'2', 0x00, 0x01]);
    assert_eq!(wbxml.get(..expected.len()), Some(&expected[..]));
    assert_eq!(tnds::FPI.len(), 0x1A);
    assert_eq!(wbxml.last(), Some(&0x01), "END of MgmtTree");
}

#[test]
fn wbxml_writes_bin_as_opaque_text_as_str_i_and_nul_text_as_opaque() {
    let leaf = |name: &str, format, value: &[u8]| TndsNode {
        node_name: Some(name.into()),
        rt: RtProperties {
            format: Some(format),
            ..RtProperties::default()
        },
        value: Some(value.to_vec()),
        ..TndsNode::default()
    };
    let tree = MgmtTree {
        nodes: vec![
            leaf("b", NodeFormat::Bin, b"AB"),
            leaf("c", NodeFormat::Chr, b"AB"),
            leaf("n", NodeFormat::Chr, b"A\0B"),
            leaf("x", NodeFormat::Chr, &[0xFF]),
            leaf("e", NodeFormat::Bin, b""),
        ],
        ..MgmtTree::default()
    };
    let wbxml = to_wbxml(&tree);
    let contains = |needle: &[u8]| wbxml.windows(needle.len()).any(|w| w == needle);
    // Value (0x36|0x40) OPAQUE len 2 "AB" END.
    assert!(contains(&[0x76, 0xC3, 0x02, b'A', b'B', 0x01]));
    // Value STR_I "AB" NUL END.
    assert!(contains(&[0x76, 0x03, b'A', b'B', 0x00, 0x01]));
    assert!(contains(&[0x76, 0xC3, 0x03, b'A', 0x00, b'B', 0x01]));
    assert!(contains(&[0x76, 0xC3, 0x01, 0xFF, 0x01]));
    // An empty Value is the bare token.
    assert!(contains(&[0x36, 0x01]));
    assert_eq!(from_wbxml(&wbxml, &TndsLimits::default()).unwrap(), tree);
    // XML carries bin as base64, and cannot carry the other two.
    let only = |i: usize| MgmtTree {
        nodes: vec![tree.nodes[i].clone()],
        ..MgmtTree::default()
    };
    let xml = String::from_utf8(to_xml(&only(0)).unwrap()).unwrap();
    assert!(xml.contains("<Value>QUI=</Value>"), "{xml}");
    let e = to_xml(&only(2)).unwrap_err();
    assert!(matches!(
        e.kind,
        tnds::ErrorKind::CharacterNotAllowed {
            element: "Value",
            code: 0
        }
    ));
    let e = to_xml(&only(3)).unwrap_err();
    assert!(matches!(e.kind, tnds::ErrorKind::ValueNotText));
    assert_eq!(e.status(), 500);
}

#[test]
fn xml_output_declares_the_dmddf_namespace_and_uses_dtd_order() {
    // Elements in an unusual order (Value before RTProperties, Type before Format) read the same
    // and come out in DTD order.
    let shuffled = br#"<MgmtTree><Node><Value>7</Value><RTProperties><Type><MIME>text/plain</MIME></Type><VerNo>1</VerNo><Format><int/></Format><ACL>Get=*</ACL></RTProperties><Path>A</Path><NodeName>n</NodeName></Node><VerDTD>1.2</VerDTD></MgmtTree>"#;
    let t = from_xml(shuffled, &TndsLimits::default()).unwrap();
    let xml = String::from_utf8(to_xml(&t).unwrap()).unwrap();
    assert_eq!(
        xml,
        r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>n</NodeName><Path>A</Path><RTProperties><ACL>Get=*</ACL><Format><int/></Format><Type><MIME>text/plain</MIME></Type><VerNo>1</VerNo></RTProperties><Value>7</Value></Node></MgmtTree>"#
    );
}

#[test]
fn rtproperties_is_always_written_and_may_be_missing_on_input() {
    let t = from_xml(
        b"<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>a</NodeName></Node></MgmtTree>",
        &TndsLimits::default(),
    )
    .unwrap();
    assert_eq!(t.nodes[0].rt, RtProperties::default());
    let xml = String::from_utf8(to_xml(&t).unwrap()).unwrap();
    assert!(
        xml.contains("<NodeName>a</NodeName><RTProperties/></Node>"),
        "{xml}"
    );
    let wbxml = to_wbxml(&t);
    // NodeName STR_I "a" END, RTProperties (0x2F) without content, END of Node.
    assert!(wbxml.ends_with(&[0x66, 0x03, b'a', 0x00, 0x01, 0x2F, 0x01, 0x01]));
}

#[test]
fn omitted_nodename_differs_from_empty_nodename() {
    let t = from_xml(
        b"<MgmtTree><VerDTD>1.2</VerDTD><Node><RTProperties><Type><DDFName>urn:x</DDFName></Type></RTProperties></Node><Node><NodeName/><RTProperties/></Node></MgmtTree>",
        &TndsLimits::default(),
    )
    .unwrap();
    assert_eq!(t.nodes[0].node_name, None);
    assert_eq!(t.nodes[1].node_name.as_deref(), Some(""));
    for back in [
        from_wbxml(&to_wbxml(&t), &TndsLimits::default()).unwrap(),
        from_xml(&to_xml(&t).unwrap(), &TndsLimits::default()).unwrap(),
    ] {
        assert_eq!(back, t);
    }
}

#[test]
fn dfproperties_of_a_ddf_file_are_skipped() {
    let ddf = br#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE MgmtTree PUBLIC "-//OMA//DTD-DM-DDF 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/DM_DDF-V1_2.dtd"
  [<?oma-dm-ddf-ver supported-versions="1.2"?>]>
<MgmtTree xmlns:MSFT="http://schemas.microsoft.com/MobileDevice/DM">
  <VerDTD>1.2</VerDTD>
  <Node>
    <NodeName>DMClient</NodeName>
    <Path>./Vendor/MSFT</Path>
    <DFProperties>
      <AccessType><Get /></AccessType>
      <DFFormat><node /></DFFormat>
      <Occurrence><One /></Occurrence>
      <Scope><Permanent /></Scope>
      <DFType><DDFName>com.microsoft/1.3/MDM/DMClient</DDFName></DFType>
      <MSFT:Applicability><MSFT:OsBuildVersion>10.0</MSFT:OsBuildVersion></MSFT:Applicability>
    </DFProperties>
  </Node>
</MgmtTree>"#;
    let t = from_xml(ddf, &TndsLimits::default()).unwrap();
    assert_eq!(
        t.nodes,
        [TndsNode {
            node_name: Some("DMClient".into()),
            path: Some("./Vendor/MSFT".into()),
            ..TndsNode::default()
        }]
    );
}

#[test]
fn prefixes_cdata_comments_and_bom_are_read_as_xml_allows() {
    let doc = "\u{FEFF}<?xml version=\"1.0\"?><!-- c --><d:MgmtTree xmlns:d=\"syncml:dmddf1.2\"><d:VerDTD>1.2</d:VerDTD><d:Node><d:NodeName>x</d:NodeName><d:RTProperties><d:Format><d:xml/></d:Format></d:RTProperties><d:Value><![CDATA[<a>&amp;</a>]]> &#233;<!-- c --><?pi?>&#x1F600;</d:Value></d:Node></d:MgmtTree>\n<!-- after -->\n";
    let t = from_xml(doc.as_bytes(), &TndsLimits::default()).unwrap();
    assert_eq!(t.nodes[0].rt.format, Some(NodeFormat::Xml));
    assert_eq!(
        t.nodes[0].value.as_deref(),
        Some("<a>&amp;</a> é😀".as_bytes())
    );
}

#[test]
fn bin_value_text_may_wrap_and_wbxml_may_send_it_as_base64_text() {
    let xml = b"<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>b</NodeName><RTProperties><Format><bin/></Format></RTProperties><Value>\n  AAEC\n  AwQ=\n</Value></Node></MgmtTree>";
    let t = from_xml(xml, &TndsLimits::default()).unwrap();
    assert_eq!(t.nodes[0].value.as_deref(), Some(&[0u8, 1, 2, 3, 4][..]));

    // WBXML: STR_I base64 text, then OPAQUE raw bytes, in one Value.
    let mut wbxml = vec![0x02, 0x00, 0x00, 0x6A, 0x1B];
    wbxml.extend_from_slice(b"-//OMA//DTD-DM-DDF 1.2//EN\0");
    wbxml.extend_from_slice(&[0x00, 0x02, 0x60, 0x77, 0x03, b'1', b'.', b'2', 0x00, 0x01]);
    wbxml.extend_from_slice(&[0x64, 0x6F, 0x5C, 0x09, 0x01, 0x01]); // Node, RTProperties, Format, bin
    wbxml.extend_from_slice(&[
        0x76, 0x03, b'A', b'A', b'E', b'=', 0x00, 0xC3, 0x01, 0xFE, 0x01,
    ]);
    wbxml.extend_from_slice(&[0x01, 0x01]);
    let t = from_wbxml(&wbxml, &TndsLimits::default()).unwrap();
    assert_eq!(t.nodes[0].value.as_deref(), Some(&[0u8, 1, 0xFE][..]));
}

#[test]
fn wbxml_with_numeric_public_id_and_literal_tags_is_read() {
    // Public id 1 ("unknown"), WBXML 1.3, a string table holding "Node" used by a LITERAL_C tag.
    let mut wbxml = vec![0x03, 0x01, 0x6A, 0x05];
    wbxml.extend_from_slice(b"Node\0");
    wbxml.extend_from_slice(&[0x00, 0x02, 0x60, 0x77, 0x03, b'1', b'.', b'2', 0x00, 0x01]);
    wbxml.extend_from_slice(&[0x44, 0x00, 0x26, 0x01, 0x01]); // LITERAL_C "Node", <NodeName/>
    let t = from_wbxml(&wbxml, &TndsLimits::default()).unwrap();
    assert_eq!(t.nodes[0].node_name.as_deref(), Some(""));
}
