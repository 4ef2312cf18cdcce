//! Authentication both ways (DM Protocol 1.3 §9, DM-PRO-S-010): basic, md5 with nonces the
//! server issues and rotates, HMAC; challenges and retries; the server's credentials toward the
//! client; unknown devices.

mod common;

use common::*;
use omadm_client::session::Outcome;
use omadm_security::hmac_header::MacAlgorithm;
use omadm_server::model::{ClientAuthType, CommandState, Op};
use omadm_syncml::Command;

fn hdr_status(m: &omadm_syncml::Message) -> &omadm_syncml::Status {
    m.body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == "0" => Some(s),
            _ => None,
        })
        .expect("a Status for the SyncHdr")
}

#[test]
fn dm_pro_s_010_basic_accepted_with_212_and_no_cred_afterwards() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    store.enqueue(spec(Op::Get, "./DevInfo/Lang"));
    let ran = run(&mut store, &mut dev, config("S1", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert_eq!(hdr_status(&ran.answers[0]).data, "212");
    assert!(ran.requests[0].hdr.cred.is_some());
    assert!(ran.requests[1].hdr.cred.is_none(), "212: no Cred needed");
    assert_eq!(hdr_status(&ran.answers[1]).data, "200");
}

#[test]
fn dm_pro_s_010_md5_nonce_rotates_across_two_sessions() {
    let mut store = Store::new(device(ClientAuthType::Digest));
    let mut dev = Dev::new(tree("DIGEST", "DIGEST"));
    let ran = run(&mut store, &mut dev, config("S2", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let st = hdr_status(&ran.answers[0]);
    assert_eq!(st.data, "212");
    let chal = st.chal.as_ref().expect("212 carries a fresh NextNonce");
    assert_eq!(chal.meta.type_.as_deref(), Some("syncml:auth-md5"));
    let first = store.device.client_nonce.clone();
    assert_ne!(first, b"Nonce".to_vec(), "a new nonce was issued");
    // The next session uses it at once: no challenge.
    let ran = run(&mut store, &mut dev, config("S3", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert_eq!(hdr_status(&ran.answers[0]).data, "212");
    assert_ne!(store.device.client_nonce, first, "rotated again");
    assert!(!store.audited("auth.failed"));
}

#[test]
fn dm_pro_s_010_md5_with_a_stale_nonce_is_challenged_401_then_accepted() {
    let mut d = device(ClientAuthType::Digest);
    d.client_nonce = b"server-forgot".to_vec();
    let mut store = Store::new(d);
    let mut dev = Dev::new(tree("DIGEST", "DIGEST"));
    let id = store.enqueue(spec(Op::Get, "./DevInfo/DmV"));
    let ran = run(&mut store, &mut dev, config("S4", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let st = hdr_status(&ran.answers[0]);
    assert_eq!(st.data, "401");
    assert!(st.chal.as_ref().unwrap().meta.next_nonce().is_some());
    // Nothing but statuses in a refusal (§9.1).
    assert!(ran.answers[0]
        .body
        .commands
        .iter()
        .all(|c| matches!(c, Command::Status(_))));
    assert_eq!(hdr_status(&ran.answers[1]).data, "212");
    assert_eq!(store.cmd(id).state, CommandState::Done);
}

#[test]
fn dm_pro_s_010_missing_credentials_get_407() {
    // A client that sends no Cred at all.
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("HTTP-BASIC", "DIGEST"));
    let ran = run(&mut store, &mut dev, config("S7", "DM/1.2"));
    let st = hdr_status(&ran.answers[0]);
    assert_eq!(st.data, "407");
    assert!(st.chal.is_some());
    // The Chal names the scheme: the client answers with it and is accepted.
    assert_eq!(hdr_status(&ran.answers[1]).data, "212");
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
}

#[test]
fn dm_pro_s_010_other_scheme_refused_with_a_chal_for_the_devices() {
    // The device holds a DIGEST account but the server wants basic: the first Cred is md5.
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("DIGEST", "DIGEST"));
    let ran = run(&mut store, &mut dev, config("S5", "DM/1.2"));
    let st = hdr_status(&ran.answers[0]);
    assert_eq!(st.data, "401");
    assert_eq!(
        st.chal.as_ref().unwrap().meta.type_.as_deref(),
        Some("syncml:auth-basic")
    );
    // The client switches to the scheme asked for and is accepted.
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
}

#[test]
fn dm_pro_s_010_wrong_secret_ends_session_as_auth_failed() {
    let mut d = device(ClientAuthType::Basic);
    d.client_auth.secret = "not-this".into();
    let mut store = Store::new(d);
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let id = store.enqueue(spec(Op::Get, "./DevInfo/DmV"));
    let ran = run(&mut store, &mut dev, config("S6", "DM/1.2"));
    assert!(ran.outcome.is_err(), "{:?}", ran.outcome);
    let s = store.session("S6");
    assert_eq!(s.outcome.as_deref(), Some("auth_failed"));
    assert!(store.audited("auth.failed"));
    assert_eq!(
        store.cmd(id).state,
        CommandState::Queued,
        "nothing was sent"
    );
    assert!(
        store.device.devinfo.is_empty(),
        "nothing of package #1 was taken"
    );
    assert!(ran.outbounds.last().unwrap().session_over);
}

#[test]
fn dm_pro_s_010_hmac_md5_for_dm_1_2_every_message_signed() {
    let mut store = Store::new(device(ClientAuthType::Hmac));
    let mut dev = Dev::new(tree("HMAC", "HMAC"));
    let id = store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    let ran = run(&mut store, &mut dev, config("H1", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    for (i, a) in ran.answers.iter().enumerate() {
        let st = hdr_status(a);
        assert_eq!(st.data, "200", "answer {i}");
        assert!(st.chal.as_ref().unwrap().meta.next_nonce().is_some());
        assert!(ran.outbounds[i].hmac.as_deref().unwrap().contains("mac="));
    }
    assert_eq!(store.cmd(id).state, CommandState::Done);
}

#[test]
fn dm_pro_s_010_hmac_sha256_accepted_for_dm_1_3() {
    let mut store = Store::new(device(ClientAuthType::Hmac));
    let mut dev = Dev::new(tree("HMAC", "HMAC"));
    let id = store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    let mut cfg = config("H2", "DM/1.3");
    cfg.mac_algorithm = MacAlgorithm::Sha256;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    assert!(ran.outbounds[0]
        .hmac
        .as_deref()
        .unwrap()
        .starts_with("algorithm=SHA-256"));
    assert_eq!(store.cmd(id).state, CommandState::Done);
}

#[test]
fn dm_pro_s_010_hmac_sha256_refused_for_dm_1_2() {
    let mut store = Store::new(device(ClientAuthType::Hmac));
    let mut dev = Dev::new(tree("HMAC", "HMAC"));
    let mut cfg = config("H3", "DM/1.2");
    cfg.mac_algorithm = MacAlgorithm::Sha256;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(hdr_status(&ran.answers[0]).data, "401");
    assert!(ran.outcome.is_err());
}

#[test]
fn dm_pro_s_010_server_cred_in_first_message_and_client_nonce_kept() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    store.enqueue(spec(Op::Get, "./DevInfo/Lang"));
    let ran = run(&mut store, &mut dev, config("V1", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let cred = ran.answers[0].hdr.cred.as_ref().expect("server Cred");
    assert_eq!(
        cred.meta.as_ref().unwrap().type_.as_deref(),
        Some("syncml:auth-md5")
    );
    // The client accepted it and gave the next nonce: kept for the next session.
    assert!(!store.device.server_nonce.is_empty());
    store.enqueue(spec(Op::Get, "./DevInfo/Lang"));
    let ran = run(&mut store, &mut dev, config("V2", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert!(!store.audited("server.challenged"));
}

#[test]
fn dm_pro_s_010_client_challenges_the_server_and_refused_commands_go_again() {
    let mut d = device(ClientAuthType::Basic);
    d.server_nonce = b"stale".to_vec();
    let mut store = Store::new(d);
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let id = store.enqueue(with_data(Op::Add, "./Vendor/Auth", "ok"));
    let ran = run(&mut store, &mut dev, config("V3", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    assert!(store.audited("server.challenged"));
    assert_eq!(store.cmd(id).state, CommandState::Done);
    assert_eq!(dev.get("./Vendor/Auth").as_deref(), Some(&b"ok"[..]));
    // Each Add sent twice: once refused, once run.
    let adds = ran
        .answers
        .iter()
        .flat_map(|m| &m.body.commands)
        .filter(|c| matches!(c, Command::Add(_)))
        .count();
    assert_eq!(adds, 2);
}

#[test]
fn unknown_device_gets_a_syncml_401_and_is_audited() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    store.device.device_id = "IMEI:someone-else".into();
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let ran = run(&mut store, &mut dev, config("U1", "DM/1.2"));
    assert!(ran.outcome.is_err());
    assert_eq!(hdr_status(&ran.answers[0]).data, "401");
    assert!(store.audited("device.unknown"));
    assert!(store.sessions.is_empty());
}

/// §9 (DM-PRO-S-010): the device lost the nonce it last gave the server (it gave up a session
/// after the server had committed it), so it cannot verify the server's Cred on the message
/// that ends a session with nothing queued, and challenges it. The server takes the new nonce
/// and authenticates again instead of refusing the ended session; the session completes, and the
/// next one needs no challenge.
#[test]
fn dm_pro_s_010_challenged_final_answer_reopens_the_session() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    let first = run(&mut store, &mut dev, config("N1", "DM/1.2"));
    assert_eq!(first.outcome, Ok(Outcome::Completed));
    assert!(
        !store.device.server_nonce.is_empty(),
        "the device gave the server a nonce"
    );
    // The device forgets it (back to the empty nonce it had).
    dev.tree
        .replace(
            omadm_tree::Caller::Device,
            "./DMAcc/Srv/AppAuth/2/AAuthData",
            None,
            None,
            b"",
        )
        .unwrap();
    let second = run(&mut store, &mut dev, config("N2", "DM/1.2"));
    assert_eq!(second.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    assert_eq!(store.session("N2").outcome.as_deref(), Some("completed"));
    let challenged = second.requests.iter().any(|m| {
        m.body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Status(s) if s.cmd == "SyncHdr" && (s.data == "401" || s.data == "407")))
    });
    assert!(
        challenged,
        "the device challenged the server's final answer"
    );
    let third = run(&mut store, &mut dev, config("N3", "DM/1.2"));
    assert_eq!(third.outcome, Ok(Outcome::Completed));
    let challenged = third.requests.iter().any(|m| {
        m.body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Status(s) if s.cmd == "SyncHdr" && (s.data == "401" || s.data == "407")))
    });
    assert!(!challenged, "the nonces agree again");
}
