//! Sessionless Command Messages the server builds (OMA DM Sessionless 1.3 §5.2, §5.5).

mod common;

use common::*;
use omadm_security::cred;
use omadm_security::hmac_header::{verify_mac, HmacHeader};
use omadm_server::engine::sessionless::{command_message, SessionlessError};
use omadm_server::model::{ClientAuthType, Op};
use omadm_syncml::{Command, Encoding, Message};

/// DM-SM-S-001, -002, -003, -007, -008: WBXML, the ServerID as SyncHdr Source, SessionID 0, a
/// `Cred` with the server's MD5 digest over the device's SRVCRED nonce, Final, the commands in
/// order, and an `x-syncml-hmac` (SHA-256) that verifies over the exact body; a Get anywhere,
/// or no command, is refused.
#[test]
fn dm_sm_s_001_002_003_007_008_command_message() {
    let mut dev = device(ClientAuthType::Hmac);
    dev.server_nonce = b"srv-nonce".to_vec();
    let mut atomic = spec(Op::Atomic, "");
    atomic.target = None;
    atomic.commands = vec![with_data(Op::Replace, "./Vendor/B", "2")];
    let specs = vec![with_data(Op::Add, "./Vendor/A", "1"), atomic];
    let m = command_message("omadm-test", &dev, &specs).expect("built");
    let (msg, enc) =
        Message::decode_with(&m.body, &omadm_syncml::Limits::default()).expect("decodes");
    assert_eq!(enc, Encoding::Wbxml);
    assert_eq!(msg.hdr.source.loc_uri, "omadm-test");
    assert_eq!(msg.hdr.target.loc_uri, DEV_ID);
    assert_eq!(msg.hdr.session_id, "0");
    assert!(msg.body.final_);
    let c = msg.hdr.cred.as_ref().expect("Cred");
    assert_eq!(
        c.meta.as_ref().and_then(|m| m.type_.as_deref()),
        Some("syncml:auth-md5")
    );
    cred::verify_md5(&c.data, SRV_NAME, SRV_SECRET, b"srv-nonce").expect("the digest verifies");
    let h = HmacHeader::parse(&m.hmac).expect("header");
    assert_eq!(h.username(), SRV_NAME);
    verify_mac(&h, SRV_SECRET, b"srv-nonce", &m.body).expect("the MAC verifies");
    assert!(matches!(
        &msg.body.commands[..],
        [Command::Add(_), Command::Atomic(_)]
    ));

    let mut seq = spec(Op::Sequence, "");
    seq.target = None;
    seq.commands = vec![spec(Op::Get, "./DevInfo/Mod")];
    assert!(matches!(
        command_message("omadm-test", &dev, &[seq]),
        Err(SessionlessError::Get)
    ));
    assert!(matches!(
        command_message("omadm-test", &dev, &[]),
        Err(SessionlessError::Empty)
    ));
}

fn tnds(node_acl: &str, leaf_acl: &str) -> String {
    format!(
        "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>Conn</NodeName><RTProperties>{node_acl}<Format><node/></Format><Type><DDFName/></Type></RTProperties><Node><NodeName>Name</NodeName><RTProperties>{leaf_acl}<Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>isp</Value></Node></Node></MgmtTree>"
    )
}

/// DM Sessionless 1.3 §5.5 (DM-SM-S-005): a TNDS object the message adds carries the ACL of
/// every new node as an RTProperties ACL; one that leaves a node without is refused, naming it.
#[test]
fn dm_sm_s_005_tnds_nodes_carry_their_acl() {
    let dev = device(ClientAuthType::Hmac);
    let acl = "<ACL>Get=omadm-test&amp;Replace=omadm-test</ACL>";
    let mut ok = with_data(Op::Add, "./Inbox", &tnds(acl, acl));
    ok.format = Some("xml".into());
    ok.type_ = Some(omadm_tree::tnds::MIME_XML.into());
    command_message("omadm-test", &dev, &[ok.clone()]).expect("every node has its ACL");
    let mut missing = ok.clone();
    missing.data = Some(tnds(acl, ""));
    match command_message("omadm-test", &dev, &[missing]) {
        Err(e @ SessionlessError::TndsWithoutAcl { .. }) => {
            assert!(e.to_string().contains("Conn/Name"), "{e}")
        }
        other => panic!("expected TndsWithoutAcl, got {other:?}"),
    }
    let mut garbage = ok;
    garbage.data = Some("<MgmtTree>".into());
    assert!(matches!(
        command_message("omadm-test", &dev, &[garbage]),
        Err(SessionlessError::BadTnds { .. })
    ));
}

/// DM Sessionless 1.3 §6.2 (DM-SM-S-006): a target given as a virtual URI (MO identifier, then
/// the path inside the instance) goes to the device as written, for it to resolve.
#[test]
fn dm_sm_s_006_virtual_uri_target_sent_as_written() {
    let dev = device(ClientAuthType::Hmac);
    let v = "urn:oma:mo:oma-fumo:1.0/x/PkgName";
    let m = command_message("omadm-test", &dev, &[with_data(Op::Replace, v, "fw-2")]).unwrap();
    let msg = Message::decode(&m.body).unwrap();
    let Command::Replace(r) = &msg.body.commands[0] else {
        panic!("a Replace")
    };
    assert_eq!(
        r.items[0].target.as_ref().map(|t| t.loc_uri.as_str()),
        Some(v)
    );
}
