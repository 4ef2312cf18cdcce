//! Older clients and hostile input: the libdmclient messages of ../shared/spec/samples replayed
//! against the engine (well-formed DM 1.2 answers), sessionless reports (DM-SR-S-001/003), and
//! malformed messages that must never panic.

mod common;

use common::*;
use omadm_server::engine::{self, is_report, verify_report};
use omadm_server::model::{ClientAuthType, Op};
use omadm_syncml::{Command, Message};

fn sample(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/../../../shared/spec/samples/libdmclient/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn libdmclient_store() -> Store {
    let mut d = device(ClientAuthType::Basic);
    d.device_id = "DMCtest".into();
    d.client_auth.name = "funambol".into();
    d.client_auth.secret = "funambol".into();
    Store::new(d)
}

fn hdr_code(m: &Message) -> String {
    match &m.body.commands[0] {
        Command::Status(s) if s.cmd_ref == "0" => s.data.to_string(),
        other => panic!("first command is not the SyncHdr Status: {other:?}"),
    }
}

#[test]
fn dm_pro_session_s_002_libdmclient_package_1_xml_and_wbxml_answered_in_dm_1_2() {
    for (file, ct) in [
        ("basic_01_client_pkg1.xml", "application/vnd.syncml.dm+xml"),
        (
            "basic_wbxml_01_client_pkg1.wbxml",
            "application/vnd.syncml.dm+wbxml",
        ),
    ] {
        let mut store = libdmclient_store();
        store.enqueue(spec(Op::Get, "./DevInfo/Mod"));
        let out = store.deliver(&sample(file), None);
        assert_eq!(out.content_type, ct, "{file}");
        let m = Message::decode(&out.body).expect("a well-formed answer");
        assert_eq!(m.hdr.ver_proto, "DM/1.2", "{file}");
        assert_eq!(m.hdr.ver_dtd, "1.2");
        assert_eq!(m.hdr.target.loc_uri, "DMCtest");
        assert_eq!(hdr_code(&m), "212", "{file}");
        assert!(m.body.commands.iter().any(|c| matches!(c, Command::Get(_))));
        assert_eq!(
            store.device.devinfo.get("Man").map(String::as_str),
            Some("test manufacturer")
        );
        assert_eq!(store.device.dm_version.as_deref(), Some("DM/1.2"));
    }
}

#[test]
fn libdmclient_later_packages_replayed_never_crash() {
    for file in [
        "basic_02_client_pkg3.xml",
        "chal401_02_client_pkg3.xml",
        "ui_02_client_pkg3.xml",
        "basic_wbxml_02_client_pkg3.wbxml",
    ] {
        // Out of any session: a SyncHdr refusal (404; the chal401 file is package #1 sent
        // again with md5, which a basic device refuses with 401).
        let mut store = libdmclient_store();
        let out = store.deliver(&sample(file), None);
        let m = Message::decode(&out.body).expect("well-formed");
        let want = if file.starts_with("chal401") {
            "401"
        } else {
            "404"
        };
        assert_eq!(hdr_code(&m), want, "{file}");
        // After package #1: answered, unknown references counted, no panic.
        let mut store = libdmclient_store();
        store.deliver(&sample("basic_01_client_pkg1.xml"), None);
        let out = store.deliver(&sample(file), None);
        let m = Message::decode(&out.body).expect("well-formed");
        assert_eq!(m.hdr.ver_proto, "DM/1.2");
    }
}

fn pkg1(body_cmds: &str, extra_hdr: &str) -> Vec<u8> {
    format!(
        "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>\
         <SessionID>R1</SessionID><MsgID>1</MsgID><Target><LocURI>{SERVER_URI}</LocURI></Target>\
         <Source><LocURI>{DEV_ID}</LocURI></Source>{extra_hdr}<Cred><Meta><Format xmlns='syncml:metinf'>b64</Format>\
         <Type xmlns='syncml:metinf'>syncml:auth-basic</Type></Meta><Data>{}</Data></Cred></SyncHdr>\
         <SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert>{body_cmds}<Final/></SyncBody></SyncML>",
        omadm_security::cred::basic(CL_NAME, CL_SECRET)
    )
    .into_bytes()
}

#[test]
fn robustness_malformed_and_hostile_messages_never_panic() {
    let good = pkg1("", "");
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for n in [0, 1, 10, good.len() / 2, good.len() - 1] {
        cases.push(good[..n].to_vec());
    }
    cases.push(b"garbage, not SyncML".to_vec());
    cases.push(vec![0x03, 0x01, 0x6a, 0x00, 0xff, 0xff]);
    let deep = format!(
        "{}{}",
        "<Atomic><CmdID>9</CmdID>".repeat(60),
        "</Atomic>".repeat(60)
    );
    cases.push(pkg1(&deep, ""));
    cases.push(pkg1(
        "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Alert><CmdID>1</CmdID><Data>1226</Data></Alert>",
        "",
    ));
    cases.push(pkg1(
        "<Status><CmdID>2</CmdID><MsgRef>99</MsgRef><CmdRef>7</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>\
         <Results><CmdID>3</CmdID><MsgRef>x</MsgRef><CmdRef>q</CmdRef><Item><Source><LocURI>./A</LocURI></Source><Data>1</Data></Item></Results>",
        "",
    ));
    cases.push(pkg1(
        "<Get><CmdID>5</CmdID><Item><Target><LocURI>./DevInfo</LocURI></Target></Item></Get>",
        "",
    ));
    cases.push(pkg1("<Sync><CmdID>6</CmdID></Sync>", ""));
    cases.push(pkg1("", "<Meta><MaxMsgSize xmlns='syncml:metinf'>0</MaxMsgSize><MaxObjSize xmlns='syncml:metinf'>-5</MaxObjSize></Meta>"));
    cases.push(pkg1("<Alert><CmdID>4</CmdID><Data>abc</Data></Alert>", ""));
    cases.push(pkg1("<Alert><CmdID>4</CmdID><Data>1223</Data></Alert>", ""));
    for (i, body) in cases.iter().enumerate() {
        let mut store = Store::new(device(ClientAuthType::Basic));
        store.enqueue(spec(Op::Get, "./DevInfo/Man"));
        match store.try_deliver(body, None) {
            Ok(out) => {
                Message::decode(&out.body)
                    .unwrap_or_else(|e| panic!("case {i}: the answer does not decode: {e}"));
                // And a second message on the same session does not panic either.
                let _ = store.try_deliver(body, Some("algorithm=MD5, username=\"x\", mac=AAAA"));
            }
            Err(engine::EngineError::Decode(_)) => {}
            Err(e) => panic!("case {i}: {e}"),
        }
    }
}

#[test]
fn robustness_wrong_msgref_is_ignored_and_audited() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let id = store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    store.deliver(&pkg1("", ""), None);
    let body = format!(
        "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>\
         <SessionID>R1</SessionID><MsgID>2</MsgID><Target><LocURI>{SERVER_URI}</LocURI></Target>\
         <Source><LocURI>{DEV_ID}</LocURI></Source></SyncHdr><SyncBody>\
         <Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>\
         <Status><CmdID>2</CmdID><MsgRef>7</MsgRef><CmdRef>2</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>\
         <Final/></SyncBody></SyncML>"
    );
    let out = store.deliver(body.as_bytes(), None);
    assert!(store.audited("status.unmatched"));
    // The Get was never answered: the session ends and it fails without a status.
    assert!(out.session_over);
    assert_eq!(
        store.cmd(id).state,
        omadm_server::model::CommandState::Failed
    );
    assert_eq!(store.cmd(id).status, None);
}

fn report(cred: &str) -> Vec<u8> {
    format!(
        "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.3</VerProto>\
         <SessionID>0</SessionID><MsgID>1</MsgID><Target><LocURI>{SERVER_URI}</LocURI></Target>\
         <Source><LocURI>{DEV_ID}</LocURI></Source>{cred}</SyncHdr><SyncBody>\
         <Alert><CmdID>1001</CmdID><Data>1230</Data><Item><Source><LocURI>./MOA/ExtA</LocURI></Source>\
         <Meta><Mark xmlns='syncml:metinf'>informational</Mark><Type xmlns='syncml:metinf'>urn:oma:mo:samplealert1:1.0</Type>\
         <Format xmlns='syncml:metinf'>xml</Format></Meta><Data><![CDATA[<m>1</m>]]></Data></Item></Alert>\
         <Final/></SyncBody></SyncML>"
    )
    .into_bytes()
}

fn cred(kind: &str, data: &str) -> String {
    format!(
        "<Cred><Meta><Format xmlns='syncml:metinf'>b64</Format><Type xmlns='syncml:metinf'>{kind}</Type></Meta><Data>{data}</Data></Cred>"
    )
}

#[test]
fn dm_sr_s_001_authenticated_report_is_kept() {
    let d = device(ClientAuthType::Digest);
    let body = report(&cred(
        "syncml:auth-md5",
        &omadm_security::cred::md5_digest(CL_NAME, CL_SECRET, b"Nonce"),
    ));
    assert!(is_report(&Message::decode(&body).unwrap()));
    let items = verify_report(&d, &body, None).expect("authenticates");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].source.as_deref(), Some("./MOA/ExtA"));
    assert_eq!(
        items[0].type_.as_deref(),
        Some("urn:oma:mo:samplealert1:1.0")
    );
    assert_eq!(items[0].mark.as_deref(), Some("informational"));
    assert_eq!(items[0].data.as_deref(), Some("<m>1</m>"));
    let b = device(ClientAuthType::Basic);
    let body = report(&cred(
        "syncml:auth-basic",
        &omadm_security::cred::basic(CL_NAME, CL_SECRET),
    ));
    assert!(verify_report(&b, &body, None).is_some());
}

#[test]
fn dm_sr_s_003_report_that_does_not_authenticate_is_dropped() {
    let d = device(ClientAuthType::Digest);
    let wrong = report(&cred(
        "syncml:auth-md5",
        &omadm_security::cred::md5_digest(CL_NAME, "nope", b"Nonce"),
    ));
    assert!(verify_report(&d, &wrong, None).is_none());
    assert!(verify_report(&d, &report(""), None).is_none());
    // An HMAC device needs its header; a Cred alone is not enough.
    let h = device(ClientAuthType::Hmac);
    let body = report("");
    assert!(verify_report(&h, &body, None).is_none());
    let mac = omadm_security::hmac_header::HmacHeader::sign(
        omadm_security::hmac_header::MacAlgorithm::Sha256,
        CL_NAME,
        CL_SECRET,
        b"Nonce",
        &body,
    )
    .unwrap()
    .to_header_value();
    assert!(verify_report(&h, &body, Some(&mac)).is_some());
    // Not a report: a session message.
    assert!(!is_report(&Message::decode(&pkg1("", "")).unwrap()));
}

/// DM Protocol 1.3 §12: a DM 1.1 client (SyncML 1.1 namespace, VerDTD 1.1, VerProto DM/1.1) is
/// managed in its own version: the answer carries VerDTD 1.1 and VerProto DM/1.1, and decodes.
#[test]
fn dm_1_1_client_answered_in_dm_1_1() {
    let xml = String::from_utf8(sample("basic_01_client_pkg1.xml")).unwrap();
    let old = xml
        .replace("SYNCML:SYNCML1.2", "SYNCML:SYNCML1.1")
        .replace("<VerDTD>1.2</VerDTD>", "<VerDTD>1.1</VerDTD>")
        .replace("<VerProto>DM/1.2</VerProto>", "<VerProto>DM/1.1</VerProto>");
    let mut store = libdmclient_store();
    store.enqueue(spec(Op::Get, "./DevInfo/Mod"));
    let out = store.deliver(old.as_bytes(), None);
    let m = Message::decode(&out.body).expect("a well-formed answer");
    assert_eq!(m.hdr.ver_dtd, "1.1");
    assert_eq!(m.hdr.ver_proto, "DM/1.1");
    assert_eq!(hdr_code(&m), "212");
    assert!(
        String::from_utf8_lossy(&out.body).contains("SYNCML:SYNCML1.1"),
        "the 1.1 namespace"
    );
    assert_eq!(store.device.dm_version.as_deref(), Some("DM/1.1"));
}
