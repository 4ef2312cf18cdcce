//! The client's alerts (Generic Alert 1226, tree change 1227/1228), abort both ways (§6.1),
//! multi-message packages (§7).

mod common;

use common::*;
use omadm_client::session::{GenericAlert, Outcome, Session, TreeChange};
use omadm_server::model::{ClientAuthType, CommandState, Op};
use omadm_syncml::{AlertCode, Command, Message};

fn generic(t: &str) -> GenericAlert {
    GenericAlert {
        correlator: Some("c-7".into()),
        source: Some("./Vendor/Fw".into()),
        target: None,
        alert_type: t.into(),
        format: "int".into(),
        mark: Some("critical".into()),
        data: "0".into(),
    }
}

#[test]
fn dm_pro_galert_s_001_generic_alert_recorded_and_answered_200() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let mut cfg = config("G1", "DM/1.3");
    cfg.generic_alerts = vec![
        generic("urn:oma:at:dm:1.0:FwUpdate"),
        generic("com.example.battery"),
    ];
    cfg.tree_change = Some(TreeChange::Changed(vec!["./Vendor".into()]));
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let generic: Vec<_> = store.alerts.iter().filter(|a| a.code == 1226).collect();
    assert_eq!(generic.len(), 2);
    let a = &generic[0];
    assert_eq!(a.correlator.as_deref(), Some("c-7"));
    let it = &a.items[0];
    assert_eq!(it.type_.as_deref(), Some("urn:oma:at:dm:1.0:FwUpdate"));
    assert_eq!(it.format.as_deref(), Some("int"));
    assert_eq!(it.mark.as_deref(), Some("critical"));
    assert_eq!(it.source.as_deref(), Some("./Vendor/Fw"));
    assert_eq!(it.data.as_deref(), Some("0"));
    assert!(store.alerts.iter().any(|a| a.code == 1228));
    let statuses: Vec<&str> = ran.answers[0]
        .body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) if s.cmd == "Alert" => Some(s.data.as_str()),
            _ => None,
        })
        .collect();
    assert!(statuses.iter().all(|s| *s == "200"), "{statuses:?}");
}

#[test]
fn dm_pro_galert_s_001_generic_alert_with_a_bad_type_gets_415() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let mut cfg = config("G2", "DM/1.3");
    cfg.generic_alerts = vec![generic("not a type!")];
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert!(store.alerts.is_empty());
    assert!(store.audited("alert.rejected"));
    assert!(ran.answers[0]
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Status(s) if s.cmd == "Alert" && s.data == "415")));
}

#[test]
fn dm_pro_abort_s_002_client_abort_ends_session_and_fails_unanswered() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let id = store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    let mut s = Session::new(&dev.tree, config("X1", "DM/1.2")).unwrap();
    let p1 = s.start(&dev.tree).unwrap();
    let a = store.deliver(&p1.body, None);
    assert!(!a.session_over);
    assert_eq!(store.cmd(id).state, CommandState::Sent);
    let abort = s.abort(&mut dev.tree).unwrap();
    let out = store.deliver(&abort.body, None);
    assert!(out.session_over);
    let m = Message::decode(&out.body).unwrap();
    // §6.1.2: status for the SyncHdr and the Alert, no new command, Final.
    assert!(m.body.final_);
    assert!(m
        .body
        .commands
        .iter()
        .all(|c| matches!(c, Command::Status(_))));
    assert!(m
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Status(s) if s.cmd == "Alert")));
    assert_eq!(
        store.session("X1").outcome.as_deref(),
        Some("aborted_by_client")
    );
    assert_eq!(store.cmd(id).state, CommandState::Failed);
    assert_eq!(store.cmd(id).status, None);
    // The same abort again (its answer was lost): the same answer, nothing applied twice.
    let again = store.deliver(&abort.body, None);
    assert_eq!(again.body, out.body);
    assert!(again.changes.commands.is_empty());
    // Another message after the end gets a SyncHdr refusal, not a crash.
    let mut late = Message::decode(&abort.body).unwrap();
    late.hdr.msg_id = "9".into();
    let late = store.deliver(&late.encode(omadm_syncml::Encoding::Xml).unwrap(), None);
    let m = Message::decode(&late.body).unwrap();
    assert!(matches!(&m.body.commands[0], Command::Status(s) if s.data == "506"));
}

#[test]
fn dm_pro_abort_s_001_003_004_005_server_aborts_past_max_messages_with_final() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    store.cfg.max_messages_per_session = 3;
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    for _ in 0..30 {
        store.enqueue(spec(Op::Get, "./DevInfo/DevId"));
    }
    let mut cfg = config("X2", "DM/1.2");
    cfg.max_msg_size = 1024;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::AbortedByServer));
    let last = ran.answers.last().unwrap();
    assert!(last.body.final_);
    assert!(last
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code() == Some(AlertCode::SESSION_ABORT))));
    assert_eq!(
        store.session("X2").outcome.as_deref(),
        Some("aborted_by_server")
    );
    assert!(store.commands.iter().all(|c| c.state != CommandState::Sent));
    assert!(store
        .commands
        .iter()
        .any(|c| c.state == CommandState::Queued));
    // DM-PRO-Abort-S-003: the abort carries the Status the server owed (the client's SyncHdr).
    assert!(last
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Status(s) if s.cmd == "SyncHdr")));
    // DM-PRO-Abort-S-005: what the client sends after the abort is refused, and changes nothing.
    let mut after = ran.requests.last().unwrap().clone();
    after.hdr.msg_id = "99".into();
    let before: Vec<_> = store.commands.iter().map(|c| c.state).collect();
    let out = store.deliver(&after.encode(omadm_syncml::Encoding::Xml).unwrap(), None);
    let m = omadm_syncml::Message::decode(&out.body).unwrap();
    assert!(matches!(&m.body.commands[0], Command::Status(s) if s.data == "506"));
    assert!(out.changes.commands.is_empty());
    assert_eq!(
        store.commands.iter().map(|c| c.state).collect::<Vec<_>>(),
        before
    );
}

#[test]
fn dm_pro_mul_s_002_client_package_over_several_messages_gets_1222_without_final() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    store.cfg.max_msg_size = 1024;
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    for _ in 0..12 {
        store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    }
    let ran = run(&mut store, &mut dev, config("M1", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert!(store.commands.iter().all(|c| c.state == CommandState::Done));
    let mut saw = false;
    for (req, ans) in ran.requests.iter().zip(&ran.answers) {
        if !req.body.final_ {
            saw = true;
            // §7.2 "Next Message" response: 1222, statuses, no Final, no command.
            assert!(!ans.body.final_);
            assert!(ans.body.commands.iter().all(|c| matches!(c, Command::Status(_))
                || matches!(c, Command::Alert(a) if a.code() == Some(AlertCode::NEXT_MESSAGE))));
            assert!(ans.body.commands.iter().any(
                |c| matches!(c, Command::Alert(a) if a.code() == Some(AlertCode::NEXT_MESSAGE))
            ));
        }
    }
    assert!(saw, "the client split its package");
}

#[test]
fn dm_pro_s_001_dm_1_2_client_answered_in_dm_1_2() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    let ran = run(&mut store, &mut dev, config("D1", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    for a in &ran.answers {
        assert_eq!(a.hdr.ver_proto, "DM/1.2");
        assert_eq!(a.hdr.ver_dtd, "1.2");
        assert_eq!(a.hdr.source.loc_uri, SERVER_ID);
        assert_eq!(a.hdr.target.loc_uri, DEV_ID);
        assert_eq!(a.hdr.session_id, "D1");
    }
    assert_eq!(store.device.dm_version.as_deref(), Some("DM/1.2"));
}

/// §6.7.1.10 (DM-PRO-GAlert-S-002): a Generic Alert with the Correlator of an Exec the device
/// accepted with 202 settles that Exec: a 2xx code in its Data → done with it, another → failed
/// with it; its Item is the result. An alert with an unknown Correlator changes no command.
#[test]
fn dm_pro_galert_s_002_async_exec_result_settles_the_exec() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let mut ids = Vec::new();
    for corr in ["c-ok", "c-bad"] {
        let mut s = spec(Op::Exec, "./Vendor/Job");
        s.correlator = Some(corr.into());
        let id = store.enqueue(s);
        store.commands[(id - 1) as usize].state = CommandState::Done;
        store.commands[(id - 1) as usize].status = Some(202);
        ids.push(id);
    }
    let mut cfg = config("G2", "DM/1.2");
    cfg.generic_alerts = [("c-ok", "200"), ("c-bad", "500"), ("c-none", "200")]
        .into_iter()
        .map(|(c, d)| GenericAlert {
            correlator: Some(c.into()),
            source: Some("./Vendor/Job".into()),
            alert_type: "urn:oma:at:omadm:1.0:execresult".into(),
            format: "int".into(),
            data: d.into(),
            ..GenericAlert::default()
        })
        .collect();
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let ok = store.cmd(ids[0]);
    assert_eq!((ok.state, ok.status), (CommandState::Done, Some(200)));
    assert_eq!(ok.results[0].data.as_deref(), Some("200"));
    let bad = store.cmd(ids[1]);
    assert_eq!((bad.state, bad.status), (CommandState::Failed, Some(500)));
    assert!(store.audited("command.async_result"));
}
