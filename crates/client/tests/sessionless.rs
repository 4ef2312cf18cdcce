//! Sessionless Command Messages (OMA DM Sessionless 1.3 §5.6, SCR B.1 DM-SM-C-001..007).

use omadm_client::sessionless::{process_command_message, LogEntry, Rejected};
use omadm_security::hmac_header::{compute_mac, HmacHeader, MacAlgorithm};
use omadm_syncml::{Command, Container, Data, Item, ItemCommand, Location, Message, Meta, SyncHdr};
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::stdobj::{add_dmacc, install_inbox, AppAuth, DmAcc};
use omadm_tree::tnds;
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

const SRV1: &str = "srv1";
const SRV_NAME: &str = "srv1-name";
const SRV_SECRET: &str = "srv1-secret";
const SRV_NONCE: &[u8] = b"nonce-for-srv1";
const CONN_MO: &str = "urn:oma:mo:ext-conn:1.0";

fn auth(level: &str, auth_type: &str, name: &str, secret: &str, data: &[u8]) -> AppAuth {
    AppAuth {
        level: level.into(),
        auth_type: auth_type.into(),
        name: name.into(),
        secret: secret.into(),
        data: data.to_vec(),
    }
}

fn account(node: &str, server_id: &str) -> DmAcc {
    DmAcc {
        node: node.into(),
        server_id: server_id.into(),
        name: None,
        pref_con_ref: None,
        addrs: vec![(
            format!("https://{server_id}.example/dm"),
            "URI".into(),
            vec![],
        )],
        aauth_pref: None,
        auths: vec![
            auth("CLCRED", "DIGEST", "device", "dev-secret", b"cl-nonce"),
            auth("SRVCRED", "HMAC", SRV_NAME, SRV_SECRET, SRV_NONCE),
        ],
    }
}

fn set_acl(t: &mut Tree, uri: &str, acl: &str) {
    t.replace_prop(Caller::Device, uri, Property::Acl, acl)
        .unwrap();
}

/// Two DMAcc accounts (srv1, srv2), `./Inbox`, `./Vendor/Setting` srv1 may Replace,
/// `./Locked` only srv2 may Replace, and one instance of the Conn MO at `./Conn1`; any server may Add at
/// the root (where Inbox places new MOs).
fn device() -> Tree {
    let mut t = Tree::default();
    install_inbox(&mut t).unwrap();
    // Inbox places a new MO at the root, so the root's ACL decides: TND requires Add=* there.
    set_acl(&mut t, ".", "Get=*&Add=*");
    add_dmacc(&mut t, &account("A1", SRV1)).unwrap();
    add_dmacc(&mut t, &account("A2", "srv2")).unwrap();
    t.add(Caller::Device, "./Vendor", NodeFormat::Node, None, b"")
        .unwrap();
    set_acl(&mut t, "./Vendor", "Get=*&Add=srv1");
    t.add(
        Caller::Device,
        "./Vendor/Setting",
        NodeFormat::Chr,
        Some("text/plain"),
        b"old",
    )
    .unwrap();
    set_acl(&mut t, "./Vendor/Setting", "Get=*&Replace=srv1");
    t.add(Caller::Device, "./Locked", NodeFormat::Chr, None, b"x")
        .unwrap();
    set_acl(&mut t, "./Locked", "Get=*&Replace=srv2");
    t.add(
        Caller::Device,
        "./Conn1",
        NodeFormat::Node,
        Some(CONN_MO),
        b"",
    )
    .unwrap();
    t.add(Caller::Device, "./Conn1/Name", NodeFormat::Chr, None, b"a")
        .unwrap();
    set_acl(&mut t, "./Conn1", "Get=*&Replace=srv1");
    t
}

fn value(t: &Tree, uri: &str) -> Vec<u8> {
    t.get(Caller::Device, uri).unwrap().data
}

fn item(uri: &str, data: &str) -> Item {
    Item {
        data: Some(Data::Text(data.into())),
        ..Item::target(uri)
    }
}

fn replace(id: &str, uri: &str, data: &str) -> Command {
    Command::Replace(ItemCommand {
        cmd_id: id.into(),
        items: vec![item(uri, data)],
        ..ItemCommand::default()
    })
}

const CONN_TNDS: &str = r#"<MgmtTree xmlns="syncml:dmddf1.2">
  <VerDTD>1.2</VerDTD>
  <Node>
    <NodeName>NewConn</NodeName>
    <RTProperties>
      <ACL>Add=srv1&amp;Get=*&amp;Replace=srv1</ACL>
      <Format><node/></Format>
      <Type><DDFName>urn:oma:mo:ext-conn:1.0</DDFName></Type>
    </RTProperties>
    <Node>
      <NodeName>Name</NodeName>
      <RTProperties><Format><chr/></Format></RTProperties>
      <Value>pushed</Value>
    </Node>
  </Node>
</MgmtTree>"#;

fn add_tnds(id: &str, uri: &str, wbxml: bool) -> Command {
    let (type_, data) = if wbxml {
        let t = tnds::decode(CONN_TNDS.as_bytes(), &Default::default()).unwrap();
        (tnds::MIME_WBXML, Data::Opaque(tnds::to_wbxml(&t)))
    } else {
        (tnds::MIME_XML, Data::Text(CONN_TNDS.into()))
    };
    Command::Add(ItemCommand {
        cmd_id: id.into(),
        meta: Some(Meta::format_type("xml", type_)),
        items: vec![Item {
            data: Some(data),
            ..Item::target(uri)
        }],
        ..ItemCommand::default()
    })
}

fn message(source: &str, cmds: Vec<Command>, final_: bool) -> Message {
    let mut m = Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.3".into(),
            session_id: "1".into(),
            msg_id: "1".into(),
            target: Location::new("IMEI:493005100592800"),
            source: Location::new(source),
            ..SyncHdr::default()
        },
        ..Message::default()
    };
    m.body.commands = cmds;
    m.body.final_ = final_;
    m
}

fn sign(body: &[u8]) -> String {
    let mac = compute_mac(MacAlgorithm::Sha256, SRV_NAME, SRV_SECRET, SRV_NONCE, body);
    HmacHeader::new(MacAlgorithm::Sha256, SRV_NAME, &mac)
        .unwrap()
        .to_header_value()
}

/// Runs a signed WBXML message; the tree's bytes before, and the outcome.
fn run(
    t: &mut Tree,
    m: &Message,
) -> (
    Result<omadm_client::sessionless::Applied, Rejected>,
    Vec<LogEntry>,
) {
    let body = m.to_wbxml();
    let header = sign(&body);
    let mut log = Vec::new();
    let r = process_command_message(t, &mut Plugins::default(), &body, Some(&header), &mut log);
    (r, log)
}

fn assert_rejected_unchanged(t: &mut Tree, body: &[u8], header: Option<&str>) -> Rejected {
    let before = t.to_bytes();
    let mut log = Vec::new();
    let e = process_command_message(t, &mut Plugins::default(), body, header, &mut log)
        .expect_err("must be rejected");
    assert_eq!(t.to_bytes(), before, "a rejected message changes nothing");
    assert!(
        matches!(log.as_slice(), [LogEntry::Rejected { .. }]),
        "{log:?}"
    );
    e
}

#[test]
fn dm_sm_c_001_signed_message_is_applied_without_response() {
    let mut t = device();
    let m = message(
        SRV1,
        vec![
            replace("1", "./Vendor/Setting", "new"),
            add_tnds("2", "./Inbox", false),
        ],
        true,
    );
    let (r, log) = run(&mut t, &m);
    let applied = r.unwrap();
    assert_eq!(applied.server_id, SRV1);
    assert_eq!(
        applied.statuses,
        vec![
            ("Replace".into(), "./Vendor/Setting".into(), 200),
            ("Add".into(), "./Inbox".into(), 200),
        ]
    );
    assert_eq!(value(&t, "./Vendor/Setting"), b"new");
    assert_eq!(value(&t, "./NewConn/Name"), b"pushed");
    assert!(matches!(log[0], LogEntry::Accepted { .. }));
    assert_eq!(log.len(), 3);
}

#[test]
fn dm_sm_c_002_wbxml_encoded_tnds_is_accepted() {
    let mut t = device();
    let m = message(SRV1, vec![add_tnds("1", "./Inbox", true)], true);
    let applied = run(&mut t, &m).0.unwrap();
    assert_eq!(applied.statuses[0].2, 200);
    assert_eq!(value(&t, "./NewConn/Name"), b"pushed");
}

#[test]
fn dm_sm_c_003_inbox_places_the_mo_and_stays_empty() {
    let mut t = device();
    let m = message(SRV1, vec![add_tnds("1", "./Inbox", false)], true);
    run(&mut t, &m).0.unwrap();
    assert_eq!(t.get(Caller::Device, "./NewConn").unwrap().type_, CONN_MO);
    assert!(value(&t, "./Inbox").is_empty());
}

#[test]
fn dm_sm_c_004_matches_one_account() {
    let mut t = device();
    let m = message("srv2", vec![replace("1", "./Locked", "y")], true);
    // Signed with srv1's credentials but srv2 has the same SRVCRED in this fixture: srv2 runs.
    let applied = run(&mut t, &m).0.unwrap();
    assert_eq!(applied.server_id, "srv2");
    assert_eq!(value(&t, "./Locked"), b"y");
}

#[test]
fn dm_sm_c_004_no_matching_account_rejected() {
    let mut t = device();
    let body = message(
        "nobody",
        vec![replace("1", "./Vendor/Setting", "new")],
        true,
    )
    .to_wbxml();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&sign(&body)));
    assert!(matches!(e, Rejected::NoAccount { .. }), "{e}");
}

#[test]
fn dm_sm_c_004_two_matching_accounts_rejected() {
    let mut t = device();
    add_dmacc(&mut t, &account("A3", SRV1)).unwrap();
    let body = message(SRV1, vec![replace("1", "./Vendor/Setting", "new")], true).to_wbxml();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&sign(&body)));
    assert!(
        matches!(e, Rejected::SeveralAccounts { count: 2, .. }),
        "{e}"
    );
}

#[test]
fn dm_sm_c_005_acl_uses_the_accounts_server_id() {
    let mut t = device();
    let m = message(
        SRV1,
        vec![
            replace("1", "./Locked", "y"),
            replace("2", "./Vendor/Setting", "new"),
        ],
        true,
    );
    let applied = run(&mut t, &m).0.unwrap();
    assert_eq!(
        applied.statuses,
        vec![
            ("Replace".into(), "./Locked".into(), 425),
            ("Replace".into(), "./Vendor/Setting".into(), 200),
        ]
    );
    assert_eq!(value(&t, "./Locked"), b"x");
}

#[test]
fn dm_sm_c_006_virtual_uri_resolved_to_the_instance() {
    let mut t = device();
    let m = message(
        SRV1,
        vec![replace("1", &format!("{CONN_MO}/x/Name"), "b")],
        true,
    );
    let applied = run(&mut t, &m).0.unwrap();
    assert_eq!(
        applied.statuses,
        vec![("Replace".into(), "./Conn1/Name".into(), 200)]
    );
    assert_eq!(value(&t, "./Conn1/Name"), b"b");
}

#[test]
fn dm_sm_c_006_virtual_uri_with_several_instances_rejected() {
    let mut t = device();
    t.add(
        Caller::Device,
        "./Conn2",
        NodeFormat::Node,
        Some(CONN_MO),
        b"",
    )
    .unwrap();
    let body = message(
        SRV1,
        vec![replace("1", &format!("{CONN_MO}/x/Name"), "b")],
        true,
    )
    .to_wbxml();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&sign(&body)));
    assert!(
        matches!(e, Rejected::VirtualUri { instances: 2, .. }),
        "{e}"
    );
}

#[test]
fn dm_sm_c_006_virtual_uri_without_instance_rejected() {
    let mut t = device();
    let body = message(
        SRV1,
        vec![replace("1", "urn:oma:mo:ext-none:1.0/x/Name", "b")],
        true,
    )
    .to_wbxml();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&sign(&body)));
    assert!(
        matches!(e, Rejected::VirtualUri { instances: 0, .. }),
        "{e}"
    );
}

#[test]
fn tampered_body_rejected_tree_unchanged() {
    let mut t = device();
    let good = message(SRV1, vec![replace("1", "./Vendor/Setting", "new")], true).to_wbxml();
    let header = sign(&good);
    let bad = message(SRV1, vec![replace("1", "./Vendor/Setting", "NEW")], true).to_wbxml();
    assert_eq!(good.len(), bad.len());
    let e = assert_rejected_unchanged(&mut t, &bad, Some(&header));
    assert!(matches!(e, Rejected::MacMismatch), "{e}");
    assert_eq!(value(&t, "./Vendor/Setting"), b"old");
}

#[test]
fn missing_or_md5_hmac_rejected() {
    let mut t = device();
    let body = message(SRV1, vec![replace("1", "./Vendor/Setting", "new")], true).to_wbxml();
    let e = assert_rejected_unchanged(&mut t, &body, None);
    assert!(matches!(e, Rejected::MissingHmac), "{e}");
    let md5 = HmacHeader::sign(MacAlgorithm::Md5, SRV_NAME, SRV_SECRET, SRV_NONCE, &body)
        .unwrap()
        .to_header_value();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&md5));
    assert!(matches!(e, Rejected::WrongAlgorithm { .. }), "{e}");
    let other = HmacHeader::sign(MacAlgorithm::Sha256, "who", SRV_SECRET, SRV_NONCE, &body)
        .unwrap()
        .to_header_value();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&other));
    assert!(matches!(e, Rejected::UnknownUser { .. }), "{e}");
}

#[test]
fn xml_body_rejected() {
    let mut t = device();
    let body = message(SRV1, vec![replace("1", "./Vendor/Setting", "new")], true)
        .to_xml()
        .unwrap();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&sign(&body)));
    assert!(matches!(e, Rejected::NotWbxml), "{e}");
}

#[test]
fn get_inside_rejected() {
    let mut t = device();
    let get = Command::Get(ItemCommand {
        cmd_id: "3".into(),
        items: vec![Item::target("./Vendor/Setting")],
        ..ItemCommand::default()
    });
    let seq = Command::Sequence(Container {
        cmd_id: "2".into(),
        commands: vec![get],
        ..Container::default()
    });
    let body = message(
        SRV1,
        vec![replace("1", "./Vendor/Setting", "new"), seq],
        true,
    )
    .to_wbxml();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&sign(&body)));
    assert!(
        matches!(e, Rejected::Get { ref cmd_id } if cmd_id == "3"),
        "{e}"
    );
}

#[test]
fn no_final_rejected() {
    let mut t = device();
    let body = message(SRV1, vec![replace("1", "./Vendor/Setting", "new")], false).to_wbxml();
    let e = assert_rejected_unchanged(&mut t, &body, Some(&sign(&body)));
    assert!(matches!(e, Rejected::NoFinal), "{e}");
}
