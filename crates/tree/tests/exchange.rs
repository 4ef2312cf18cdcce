//! Tree exchange through TNDS: Get ?list=TNDS, Add of a TNDS object, Add to ./Inbox.

use omadm_tree::format::NodeFormat;
use omadm_tree::stdobj::{install_inbox, DMACC_MO};
use omadm_tree::tnds::{self, MgmtTree, NodeType, RtProperties, TndsLimits, TndsNode};
use omadm_tree::uri::{Property, TndsProperty, TndsSelection};
use omadm_tree::{Caller, Tree};

fn sample() -> Tree {
    let mut t = Tree::default();
    t.set_now(994_869_497);
    let d = Caller::Device;
    t.add(
        d,
        "./Vendor/App",
        NodeFormat::Node,
        Some("com.example/1.0/App"),
        b"",
    )
    .unwrap();
    t.add(
        d,
        "./Vendor/App/Name",
        NodeFormat::Chr,
        Some("text/plain"),
        b"demo",
    )
    .unwrap();
    t.add(
        d,
        "./Vendor/App/Port",
        NodeFormat::Int,
        Some("text/plain"),
        b"8080",
    )
    .unwrap();
    t.add(
        d,
        "./Vendor/App/Blob",
        NodeFormat::Bin,
        Some("application/octet-stream"),
        &[0, 1, 2, 255],
    )
    .unwrap();
    t.replace_prop(d, "./Vendor/App/Name", Property::Title, "display name")
        .unwrap();
    t.replace_prop(d, "./Vendor/App", Property::Acl, "Get=*&Replace=srv")
        .unwrap();
    t
}

#[test]
fn tnd_list_tnds_exports_subtree_with_properties() {
    let t = sample();
    let m = t
        .export_tnds(Caller::Server("srv"), "./Vendor/App", &TndsSelection::All)
        .unwrap();
    assert_eq!(m.nodes.len(), 1);
    let app = &m.nodes[0];
    assert_eq!(app.node_name.as_deref(), Some("App"));
    assert_eq!(
        app.path, None,
        "Paths are relative to the importing Add's target"
    );
    assert_eq!(
        app.rt.type_,
        Some(NodeType::DdfName("com.example/1.0/App".into()))
    );
    assert_eq!(app.rt.acl.as_deref(), Some("Get=*&Replace=srv"));
    let names: Vec<_> = app
        .children
        .iter()
        .map(|c| c.node_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["Name", "Port", "Blob"]);
    assert_eq!(app.children[0].value.as_deref(), Some(&b"demo"[..]));
    assert_eq!(app.children[0].rt.title.as_deref(), Some("display name"));
    assert_eq!(
        app.children[2].value.as_deref(),
        Some(&[0u8, 1, 2, 255][..])
    );
    assert_eq!(app.children[2].rt.format, Some(NodeFormat::Bin));
    assert_eq!(
        app.children[1].rt.tstamp.as_deref(),
        Some("20010711T163817Z")
    );
    // Both encodings carry it.
    let xml = tnds::to_xml(&m).unwrap();
    assert_eq!(tnds::from_xml(&xml, &TndsLimits::default()).unwrap(), m);
    assert_eq!(
        tnds::from_wbxml(&tnds::to_wbxml(&m), &TndsLimits::default()).unwrap(),
        m
    );
}

#[test]
fn tnd_list_tnds_property_selection() {
    let t = sample();
    let only = TndsSelection::Only(vec![TndsProperty::Value]);
    let m = t
        .export_tnds(Caller::Device, "./Vendor/App", &only)
        .unwrap();
    let name = &m.nodes[0].children[0];
    assert_eq!(name.value.as_deref(), Some(&b"demo"[..]));
    assert_eq!(
        (name.rt.acl.as_ref(), name.rt.format, name.rt.title.as_ref()),
        (None, None, None)
    );
    assert!(name.rt.type_.is_some(), "Type is mandatory in TNDS");
    let without = TndsSelection::AllExcept(vec![TndsProperty::Value]);
    let m = t
        .export_tnds(Caller::Device, "./Vendor/App", &without)
        .unwrap();
    assert!(m.nodes[0].children.iter().all(|c| c.value.is_none()));
}

#[test]
fn tnd_add_tnds_object_creates_every_node() {
    let src = sample();
    let m = src
        .export_tnds(Caller::Device, "./Vendor/App", &TndsSelection::All)
        .unwrap();
    // Over the wire and back.
    let m = tnds::from_wbxml(&tnds::to_wbxml(&m), &TndsLimits::default()).unwrap();
    let mut t = Tree::default();
    t.import_tnds(Caller::Device, "./Copy", &m).unwrap();
    assert_eq!(
        t.get(Caller::Device, "./Copy/App/Port").unwrap().data,
        b"8080"
    );
    assert_eq!(
        t.get(Caller::Device, "./Copy/App/Blob").unwrap().data,
        [0, 1, 2, 255]
    );
    assert_eq!(
        t.get_prop(Caller::Device, "./Copy/App", Property::Type)
            .unwrap(),
        "com.example/1.0/App"
    );
    assert_eq!(
        t.get_prop(Caller::Device, "./Copy/App", Property::Acl)
            .unwrap(),
        "Get=*&Replace=srv"
    );
    assert_eq!(
        t.get_prop(Caller::Device, "./Copy/App/Name", Property::Title)
            .unwrap(),
        "display name"
    );
}

#[test]
fn tnd_add_tnds_is_all_or_nothing() {
    let mut t = Tree::default();
    t.add(Caller::Device, "./T/Taken", NodeFormat::Chr, None, b"x")
        .unwrap();
    let leaf = |name: &str, v: &str| TndsNode {
        node_name: Some(name.into()),
        rt: RtProperties {
            format: Some(NodeFormat::Chr),
            ..RtProperties::default()
        },
        value: Some(v.as_bytes().to_vec()),
        ..TndsNode::default()
    };
    let m = MgmtTree {
        nodes: vec![leaf("New", "1"), leaf("Taken", "2")],
        ..MgmtTree::default()
    };
    assert_eq!(
        t.import_tnds(Caller::Device, "./T", &m)
            .unwrap_err()
            .status(),
        418
    );
    assert_eq!(
        t.get(Caller::Device, "./T/New").unwrap_err().status(),
        404,
        "nothing of a failed import stays"
    );
    assert_eq!(t.get(Caller::Device, "./T/Taken").unwrap().data, b"x");
}

#[test]
fn stdobj_inbox_places_mo_rewrites_references_and_stays_empty() {
    let mut t = Tree::default();
    install_inbox(&mut t).unwrap();
    let leaf = |name: &str, v: &str| TndsNode {
        node_name: Some(name.into()),
        rt: RtProperties {
            format: Some(NodeFormat::Chr),
            ..RtProperties::default()
        },
        value: Some(v.as_bytes().to_vec()),
        ..TndsNode::default()
    };
    let interior = |name: &str, ty: &str, kids: Vec<TndsNode>| TndsNode {
        node_name: Some(name.into()),
        rt: RtProperties {
            format: Some(NodeFormat::Node),
            type_: Some(NodeType::DdfName(ty.into())),
            ..RtProperties::default()
        },
        children: kids,
        ..TndsNode::default()
    };
    let m = MgmtTree {
        nodes: vec![
            interior(
                "Conn1",
                "urn:oma:mo:oma-example-conn:1.0",
                vec![leaf("APN", "internet")],
            ),
            interior(
                "Acc",
                DMACC_MO,
                vec![
                    leaf("ServerID", "newsrv"),
                    leaf("PrefConRef", "./Inbox/Conn1"),
                ],
            ),
        ],
        ..MgmtTree::default()
    };
    t.import_tnds(Caller::Server("newsrv"), "./Inbox", &m)
        .unwrap();
    assert_eq!(
        t.get(Caller::Device, "./Conn1/APN").unwrap().data,
        b"internet"
    );
    assert_eq!(
        t.get(Caller::Device, "./DMAcc/Acc/ServerID").unwrap().data,
        b"newsrv"
    );
    assert_eq!(
        t.get(Caller::Device, "./DMAcc/Acc/PrefConRef")
            .unwrap()
            .data,
        b"./Conn1"
    );
    assert_eq!(
        t.get(Caller::Device, "./Inbox").unwrap().data,
        b"",
        "Inbox stays empty"
    );
}

#[test]
fn dm_replace_with_tnds_replaces_whole_subtree() {
    let mut t = sample();
    let leaf = |name: &str, f: NodeFormat, v: &[u8]| TndsNode {
        node_name: Some(name.into()),
        rt: RtProperties {
            format: Some(f),
            ..RtProperties::default()
        },
        value: Some(v.to_vec()),
        ..TndsNode::default()
    };
    let app = TndsNode {
        node_name: Some("App".into()),
        rt: RtProperties {
            format: Some(NodeFormat::Node),
            ..RtProperties::default()
        },
        children: vec![
            leaf("Name", NodeFormat::Chr, b"renamed"),
            leaf("Mode", NodeFormat::Chr, b"fast"),
        ],
        ..TndsNode::default()
    };
    let m = MgmtTree {
        nodes: vec![app],
        ..MgmtTree::default()
    };
    t.replace_tnds(Caller::Device, "./Vendor", &m).unwrap();
    assert_eq!(
        t.get(Caller::Device, "./Vendor/App/Name").unwrap().data,
        b"renamed"
    );
    assert_eq!(
        t.get(Caller::Device, "./Vendor/App/Mode").unwrap().data,
        b"fast"
    );
    assert_eq!(
        t.get(Caller::Device, "./Vendor/App/Port")
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        t.get(Caller::Device, "./Vendor/App").unwrap().data,
        b"Name/Mode"
    );
    // Replace never creates the top node, and a failure changes nothing.
    assert_eq!(
        t.replace_tnds(Caller::Device, "./Nowhere", &m)
            .unwrap_err()
            .status(),
        404
    );
    let bad = MgmtTree {
        nodes: vec![TndsNode {
            node_name: Some("App".into()),
            rt: RtProperties {
                format: Some(NodeFormat::Node),
                ..RtProperties::default()
            },
            children: vec![
                leaf("Name", NodeFormat::Chr, b"x"),
                leaf("N", NodeFormat::Int, b"not-int"),
            ],
            ..TndsNode::default()
        }],
        ..MgmtTree::default()
    };
    assert_eq!(
        t.replace_tnds(Caller::Device, "./Vendor", &bad)
            .unwrap_err()
            .status(),
        415
    );
    assert_eq!(
        t.get(Caller::Device, "./Vendor/App/Name").unwrap().data,
        b"renamed"
    );
    assert_eq!(
        t.get(Caller::Device, "./Vendor/App/Mode").unwrap().data,
        b"fast"
    );
}

#[test]
fn tnd_add_tnds_acl_applies_after_the_whole_object() {
    // The object's own ACL does not give the importing server Add; its children still land.
    let mut t = Tree::default();
    let m = MgmtTree {
        nodes: vec![TndsNode {
            node_name: Some("Obj".into()),
            rt: RtProperties {
                format: Some(NodeFormat::Node),
                acl: Some("Get=*&Replace=other".into()),
                ..RtProperties::default()
            },
            children: vec![TndsNode {
                node_name: Some("Leaf".into()),
                rt: RtProperties {
                    format: Some(NodeFormat::Chr),
                    ..RtProperties::default()
                },
                value: Some(b"v".to_vec()),
                ..TndsNode::default()
            }],
            ..TndsNode::default()
        }],
        ..MgmtTree::default()
    };
    t.import_tnds(Caller::Server("srv"), "./Vendor", &m)
        .unwrap();
    assert_eq!(
        t.get(Caller::Server("srv"), "./Vendor/Obj/Leaf")
            .unwrap()
            .data,
        b"v"
    );
    assert_eq!(
        t.get_prop(Caller::Device, "./Vendor/Obj", Property::Acl)
            .unwrap(),
        "Get=*&Replace=other"
    );
}
