//! DM bootstrap (DIGEST.md §3.7): build on the server, verify and apply on the client.

use hmac::{Hmac, Mac as _};
use omadm_security::bootstrap::{
    self, dmacc_document, BootstrapContentType, BootstrapError, ImportPolicy, Mac, SecMethod,
    Secrets, BOOTCONFIG_MO_PROVISIONAL,
};
use omadm_tree::stdobj::{AppAuth, DmAcc, DMACC_MO};
use omadm_tree::tnds::{self, MgmtTree, NodeType, RtProperties, TndsNode};
use omadm_tree::{Caller, Tree};
use sha1::Sha1;

const IMSI: &[u8] = b"001010123456789";
const PIN: &str = "1234";

fn secrets() -> Secrets<'static> {
    Secrets {
        network_secret: Some(IMSI),
        pin: Some(PIN),
    }
}

fn account(node: &str, server_id: &str) -> DmAcc {
    DmAcc {
        node: node.to_owned(),
        server_id: server_id.to_owned(),
        name: Some("Example DM".to_owned()),
        pref_con_ref: None,
        addrs: vec![(
            "https://dm.example.com/dm".to_owned(),
            "URI".to_owned(),
            vec![443],
        )],
        aauth_pref: None,
        auths: vec![
            AppAuth {
                level: "CLCRED".to_owned(),
                auth_type: "DIGEST".to_owned(),
                name: "device1".to_owned(),
                secret: "clientpw".to_owned(),
                data: b"Nonce".to_vec(),
            },
            AppAuth {
                level: "SRVCRED".to_owned(),
                auth_type: "DIGEST".to_owned(),
                name: server_id.to_owned(),
                secret: "serverpw".to_owned(),
                data: Vec::new(),
            },
        ],
    }
}

fn get(tree: &Tree, uri: &str) -> Option<Vec<u8>> {
    tree.get(Caller::Device, uri).ok().map(|v| v.data)
}

/// Independent HMAC-SHA1 in hex, straight from the hmac/sha1 crates.
fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let Ok(mut h) = <Hmac<Sha1>>::new_from_slice(key) else {
        return String::new();
    };
    h.update(data);
    h.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn round_trip_for_every_method() {
    for method in SecMethod::ALL {
        let doc = dmacc_document(&account("srv", "dm.example.com"));
        let (wbxml, ct) = bootstrap::build(&doc, method, &secrets()).expect("build");
        assert!(ct.starts_with("application/vnd.syncml.dm+wbxml; SEC="));
        assert!(ct.contains(&format!("SEC={method};")), "{ct}");
        let mut tree = Tree::default();
        let created =
            bootstrap::verify_and_apply(&mut tree, &wbxml, &ct, &secrets()).expect("apply");
        assert_eq!(created, ["./DMAcc/srv"], "{method}");
        assert_eq!(
            get(&tree, "./DMAcc/srv/ServerID").as_deref(),
            Some(&b"dm.example.com"[..])
        );
        assert_eq!(get(&tree, "./DMAcc/srv/AppID").as_deref(), Some(&b"w7"[..]));
        assert_eq!(
            get(&tree, "./DMAcc/srv/AppAddr/1/Addr").as_deref(),
            Some(&b"https://dm.example.com/dm"[..])
        );
        assert_eq!(
            get(&tree, "./DMAcc/srv/AppAuth/1/AAuthData").as_deref(),
            Some(&b"Nonce"[..])
        );
        let ty = tree.get(Caller::Device, "./DMAcc/srv").map(|v| v.type_);
        assert_eq!(ty.as_deref(), Ok(DMACC_MO));
    }
}

#[test]
fn account_gets_the_w7_acl_and_secrets_are_unreadable() {
    let doc = dmacc_document(&account("srv", "dm.example.com"));
    let (wbxml, ct) = bootstrap::build(&doc, SecMethod::UserPin, &secrets()).expect("build");
    let mut tree = Tree::default();
    bootstrap::verify_and_apply(&mut tree, &wbxml, &ct, &secrets()).expect("apply");
    let srv = Caller::Server("dm.example.com");
    assert!(tree.get(srv, "./DMAcc/srv/ServerID").is_ok());
    assert!(tree
        .get(Caller::Server("other"), "./DMAcc/srv/ServerID")
        .is_err());
    assert!(tree.get(srv, "./DMAcc/srv/AppAuth/1/AAuthSecret").is_err());
    assert!(tree.get(Caller::Server("other"), "./DMAcc").is_ok());
}

#[test]
fn second_account_with_a_taken_name_gets_a_fresh_one() {
    let mut tree = Tree::default();
    for (i, id) in ["a.example", "b.example"].into_iter().enumerate() {
        let doc = dmacc_document(&account("srv", id));
        let (wbxml, ct) = bootstrap::build(&doc, SecMethod::NetworkId, &secrets()).expect("b");
        let created = bootstrap::verify_and_apply(&mut tree, &wbxml, &ct, &secrets());
        let want = if i == 0 {
            "./DMAcc/srv"
        } else {
            "./DMAcc/srv2"
        };
        assert_eq!(created.ok(), Some(vec![want.to_owned()]));
    }
}

#[test]
fn wrong_pin_or_mac_fails_and_leaves_the_tree_unchanged() {
    let doc = dmacc_document(&account("srv", "dm.example.com"));
    let (wbxml, ct) = bootstrap::build(&doc, SecMethod::UserPin, &secrets()).expect("build");
    let mut tree = Tree::default();
    let before = tree.to_bytes();

    let wrong_pin = Secrets {
        pin: Some("9999"),
        ..secrets()
    };
    let r = bootstrap::verify_and_apply(&mut tree, &wbxml, &ct, &wrong_pin);
    assert!(matches!(r, Err(BootstrapError::MacMismatch)), "{r:?}");
    assert_eq!(tree.to_bytes(), before);

    let truncated = &ct[..ct.len() - 1];
    let bad_mac = format!(
        "application/vnd.syncml.dm+wbxml; SEC=USERPIN; MAC={}",
        "00".repeat(20)
    );
    let r = bootstrap::verify_and_apply(&mut tree, &wbxml, &bad_mac, &secrets());
    assert!(matches!(r, Err(BootstrapError::MacMismatch)), "{r:?}");
    let r = bootstrap::verify_and_apply(&mut tree, &wbxml, truncated, &secrets());
    assert!(matches!(r, Err(BootstrapError::BadMacHex(_))), "{r:?}");
    assert_eq!(tree.to_bytes(), before);

    // The same document claimed under another method.
    let swapped = ct.replace("SEC=USERPIN", "SEC=NETWORKID");
    let r = bootstrap::verify_and_apply(&mut tree, &wbxml, &swapped, &secrets());
    assert!(matches!(r, Err(BootstrapError::MacMismatch)), "{r:?}");

    // A method whose secret is missing.
    let r = bootstrap::verify_and_apply(&mut tree, &wbxml, &ct, &Secrets::default());
    assert!(
        matches!(r, Err(BootstrapError::MissingSecret { .. })),
        "{r:?}"
    );
    assert_eq!(tree.to_bytes(), before);
}

#[test]
fn tampered_body_fails() {
    let doc = dmacc_document(&account("srv", "dm.example.com"));
    let (wbxml, ct) = bootstrap::build(&doc, SecMethod::NetworkId, &secrets()).expect("build");
    let mut tree = Tree::default();
    let before = tree.to_bytes();
    for i in [0, wbxml.len() / 2, wbxml.len() - 1] {
        let mut bad = wbxml.clone();
        if let Some(b) = bad.get_mut(i) {
            *b ^= 0x01;
        }
        let r = bootstrap::verify_and_apply(&mut tree, &bad, &ct, &secrets());
        assert!(matches!(r, Err(BootstrapError::MacMismatch)), "{i}: {r:?}");
    }
    let mut longer = wbxml.clone();
    longer.push(0);
    assert!(bootstrap::verify_and_apply(&mut tree, &longer, &ct, &secrets()).is_err());
    assert_eq!(tree.to_bytes(), before);
}

#[test]
fn mac_matches_an_independent_hmac_sha1() {
    let body = b"\x02\x00\x00\x6a bootstrap body";
    let cases: [(SecMethod, &[u8]); 3] = [
        (SecMethod::NetworkId, IMSI),
        (SecMethod::UserPin, PIN.as_bytes()),
        (SecMethod::UserPinNetworkId, b"1234:001010123456789"),
    ];
    for (method, key) in cases {
        let want = hmac_hex(key, body);
        assert_eq!(want.len(), 40);
        let got = bootstrap::mac(method, Some(IMSI), Some(PIN), body);
        assert_eq!(got.ok().as_deref(), Some(want.as_str()), "{method}");
    }
    // RFC 2202 test case 2 (HMAC-SHA1, key "Jefe"), as a USERPIN key.
    let got = bootstrap::mac(
        SecMethod::UserPin,
        None,
        Some("Jefe"),
        b"what do ya want for nothing?",
    );
    assert_eq!(
        got.ok().as_deref(),
        Some("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    );
}

#[test]
fn content_type_variants_parse() {
    let hex = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
    let want = BootstrapContentType {
        sec: SecMethod::UserPinNetworkId,
        mac: hex.parse().expect("hex"),
    };
    for s in [
        format!("application/vnd.syncml.dm+wbxml; SEC=USERPIN_NETWORKID; MAC={hex}"),
        format!("application/vnd.syncml.dm+wbxml;SEC=USERPIN_NETWORKID;MAC={hex}"),
        format!(
            "Application/VND.SyncML.DM+WBXML ; mac = {} ; sec = userpin_networkid ",
            hex.to_uppercase()
        ),
        format!("application/vnd.syncml.dm+wbxml; charset=utf-8; SEC=\"USERPIN_NETWORKID\"; MAC=\"{hex}\";"),
    ] {
        assert_eq!(s.parse::<BootstrapContentType>().ok(), Some(want), "{s}");
    }
    assert_eq!(
        want.to_string(),
        format!("application/vnd.syncml.dm+wbxml; SEC=USERPIN_NETWORKID; MAC={hex}")
    );
    let err = |s: &str| s.parse::<BootstrapContentType>().err();
    assert!(matches!(
        err(&format!(
            "application/vnd.syncml.dm+xml; SEC=USERPIN; MAC={hex}"
        )),
        Some(BootstrapError::XmlNotAllowed)
    ));
    assert!(matches!(
        err(&format!("text/plain; SEC=USERPIN; MAC={hex}")),
        Some(BootstrapError::MediaType(_))
    ));
    assert!(matches!(
        err("application/vnd.syncml.dm+wbxml; SEC=USERPIN"),
        Some(BootstrapError::MissingParam("MAC"))
    ));
    assert!(matches!(
        err(&format!("application/vnd.syncml.dm+wbxml; MAC={hex}")),
        Some(BootstrapError::MissingParam("SEC"))
    ));
    assert!(matches!(
        err(&format!(
            "application/vnd.syncml.dm+wbxml; SEC=USERPIN; sec=NETWORKID; MAC={hex}"
        )),
        Some(BootstrapError::DuplicateParam("SEC"))
    ));
    assert!(matches!(
        err("application/vnd.syncml.dm+wbxml; SEC=USERPIN; MAC=abc"),
        Some(BootstrapError::BadMacHex(_))
    ));
    assert!(matches!(
        err(&format!(
            "application/vnd.syncml.dm+wbxml; SEC=NETWPIN; MAC={hex}"
        )),
        Some(BootstrapError::UnknownMethod(_))
    ));
    let _: Mac = want.mac;
}

#[test]
fn xml_body_is_refused_even_with_a_good_mac() {
    let doc = dmacc_document(&account("srv", "dm.example.com"));
    let xml = tnds::to_xml(&doc).expect("xml");
    let hex = bootstrap::mac(SecMethod::UserPin, None, Some(PIN), &xml).expect("mac");
    let ct = format!("application/vnd.syncml.dm+wbxml; SEC=USERPIN; MAC={hex}");
    let mut tree = Tree::default();
    let r = bootstrap::verify_and_apply(&mut tree, &xml, &ct, &secrets());
    assert!(matches!(r, Err(BootstrapError::XmlNotAllowed)), "{r:?}");
}

fn node(name: &str, path: Option<&str>, ty: NodeType, children: Vec<TndsNode>) -> TndsNode {
    TndsNode {
        node_name: Some(name.to_owned()),
        path: path.map(str::to_owned),
        rt: RtProperties {
            type_: Some(ty),
            ..RtProperties::default()
        },
        value: None,
        children,
    }
}

fn text_leaf(name: &str, v: &str) -> TndsNode {
    TndsNode {
        node_name: Some(name.to_owned()),
        value: Some(v.as_bytes().to_vec()),
        rt: RtProperties {
            type_: Some(NodeType::Mime("text/plain".to_owned())),
            ..RtProperties::default()
        },
        ..TndsNode::default()
    }
}

#[test]
fn placement_by_path_container_and_root() {
    let dd = |s: &str| NodeType::DdfName(s.to_owned());
    let doc = MgmtTree {
        nodes: vec![
            // Path ./DMAcc without a Type: an account.
            node(
                "byPath",
                Some("./DMAcc"),
                dd(""),
                vec![text_leaf("ServerID", "p")],
            ),
            // A top DMAcc node holding accounts.
            node(
                "DMAcc",
                None,
                dd(""),
                vec![node(
                    "inner",
                    None,
                    dd(DMACC_MO),
                    vec![text_leaf("ServerID", "q")],
                )],
            ),
            // Anything else goes to the root.
            node(
                "Vendor",
                None,
                dd("urn:example:vendor"),
                vec![text_leaf("X", "1")],
            ),
        ],
        ..MgmtTree::default()
    };
    let mut tree = Tree::default();
    let created = bootstrap::apply(&mut tree, &doc, &ImportPolicy::default());
    assert_eq!(
        created.ok(),
        Some(vec![
            "./DMAcc/byPath".to_owned(),
            "./DMAcc/inner".to_owned(),
            "./Vendor".to_owned()
        ])
    );
    let ty = tree.get(Caller::Device, "./DMAcc/byPath").map(|v| v.type_);
    assert_eq!(ty.as_deref(), Ok(DMACC_MO));
}

#[test]
fn a_failing_node_rolls_back_the_whole_document() {
    let dd = |s: &str| NodeType::DdfName(s.to_owned());
    let mut tree = Tree::default();
    let first = MgmtTree {
        nodes: vec![node("Vendor", None, dd(""), vec![])],
        ..MgmtTree::default()
    };
    assert!(bootstrap::apply(&mut tree, &first, &ImportPolicy::default()).is_ok());
    let before = tree.to_bytes();
    // An account, then a root MO whose name is taken: nothing of it stays.
    let mut doc = dmacc_document(&account("srv", "dm.example.com"));
    doc.nodes.push(node("Vendor", None, dd(""), vec![]));
    let (wbxml, ct) = bootstrap::build(&doc, SecMethod::UserPin, &secrets()).expect("build");
    let r = bootstrap::verify_and_apply(&mut tree, &wbxml, &ct, &secrets());
    assert!(matches!(r, Err(BootstrapError::Tree(_))), "{r:?}");
    assert_eq!(tree.to_bytes(), before);
}

/// PROVISIONAL 1.3 placement is off by default and switchable.
#[test]
fn provisional_bootconfig_placement_is_opt_in() {
    let doc = MgmtTree {
        nodes: vec![node(
            "BC",
            None,
            NodeType::DdfName(BOOTCONFIG_MO_PROVISIONAL.to_owned()),
            vec![],
        )],
        ..MgmtTree::default()
    };
    let mut a = Tree::default();
    let r = bootstrap::apply(&mut a, &doc, &ImportPolicy::default());
    assert_eq!(r.ok(), Some(vec!["./BC".to_owned()]));
    let mut b = Tree::default();
    let r = bootstrap::apply(
        &mut b,
        &doc,
        &ImportPolicy::default().with_provisional_1_3(),
    );
    assert_eq!(r.ok(), Some(vec!["./BootConfig/BC".to_owned()]));
}
