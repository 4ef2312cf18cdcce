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
