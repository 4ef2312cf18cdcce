//! Whole sessions of the real client engine against the server engine: package #1, DevInfo,
//! every command type with its results, Atomic and Sequence, user interaction, session end.

mod common;

use common::*;
use omadm_client::session::Outcome;
use omadm_server::model::{ClientAuthType, CommandState, Op};

#[test]
fn dm_pro_session_s_002_package_1_answered_and_session_ends_when_queue_empty() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let ran = run(&mut store, &mut dev, config("A1", "DM/1.3"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    assert_eq!(ran.answers[0].hdr.ver_proto, "DM/1.3");
    assert!(ran.answers.last().unwrap().body.final_);
    let s = store.session("A1");
    assert_eq!(s.outcome.as_deref(), Some("completed"));
    assert!(s.ended_at.is_some());
    // An ended session keeps only what answers a repeat of its last message.
    let st = omadm_server::engine::SessionState::from_bytes(&s.state).expect("state");
    assert!(st.sent.is_empty() && st.progress.is_empty() && st.replay.is_some());
    assert_eq!(
        store.device.devinfo.get("DevId").map(String::as_str),
        Some(DEV_ID)
    );
    assert_eq!(store.device.dm_version.as_deref(), Some("DM/1.3"));
}

#[test]
fn dm_pro_s_006_every_command_type_with_results() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let add = store.enqueue(with_data(Op::Add, "./Vendor/A", "alpha"));
    let get = store.enqueue(spec(Op::Get, "./Vendor/A"));
    let rep = store.enqueue(with_data(Op::Replace, "./Vendor/A", "beta"));
    let copy = store.enqueue(omadm_server::model::CommandSpec {
        source: Some("./Vendor/A".into()),
        ..spec(Op::Copy, "./Vendor/B")
    });
    let del = store.enqueue(spec(Op::Delete, "./Vendor/A"));
    let get_dev = store.enqueue(spec(Op::Get, "./DevInfo/Man"));
    let ran = run(&mut store, &mut dev, config("A2", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    for id in [add, get, rep, del, get_dev] {
        let c = store.cmd(id);
        assert_eq!(c.state, CommandState::Done, "{id}: {c:?}");
        assert_eq!(c.session_id.as_deref(), Some("A2"));
    }
    assert_eq!(store.cmd(get).results[0].data.as_deref(), Some("alpha"));
    assert_eq!(
        store.cmd(get).results[0].source.as_deref(),
        Some("./Vendor/A")
    );
    assert_eq!(
        store.cmd(get_dev).results[0].data.as_deref(),
        Some("Device Factory, Inc.")
    );
    // Copy is recorded with whatever status the device gave.
    assert!(store.cmd(copy).status.is_some());
    assert_eq!(dev.get("./Vendor/A"), None);
}

#[test]
fn dm_pro_s_006_exec_with_correlator_is_sent_and_answered() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let exec = store.enqueue(omadm_server::model::CommandSpec {
        correlator: Some("corr-1".into()),
        ..spec(Op::Exec, "./Vendor/Nothing")
    });
    let ran = run(&mut store, &mut dev, config("A3", "DM/1.3"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let sent = ran
        .answers
        .iter()
        .flat_map(|m| &m.body.commands)
        .find_map(|c| match c {
            omadm_syncml::Command::Exec(e) => Some(e.clone()),
            _ => None,
        });
    assert_eq!(sent.unwrap().correlator.as_deref(), Some("corr-1"));
    let c = store.cmd(exec);
    assert!(c.status.is_some() && c.state != CommandState::Sent);
}

#[test]
fn dm_pro_s_006_atomic_with_a_failing_child_records_children() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let atomic = store.enqueue(omadm_server::model::CommandSpec {
        commands: vec![
            with_data(Op::Add, "./Vendor/X", "1"),
            with_data(Op::Add, "./Vendor/X", "2"),
        ],
        ..spec(Op::Atomic, "")
    });
    let ran = run(&mut store, &mut dev, config("A4", "DM/1.3"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let c = store.cmd(atomic);
    assert_eq!(c.state, CommandState::Failed, "{c:?}");
    assert_eq!(c.status, Some(507));
    assert_eq!(c.children.len(), 2, "{c:?}");
    assert_eq!(c.children[0].index, 0);
    assert!(matches!(c.children[0].status, 216 | 215), "{c:?}");
    assert!(c.children[1].status >= 400, "{c:?}");
    assert_eq!(dev.get("./Vendor/X"), None, "rolled back");
}

#[test]
fn dm_pro_s_006_sequence_children_and_nested_get_results() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let seq = store.enqueue(omadm_server::model::CommandSpec {
        commands: vec![
            with_data(Op::Add, "./Vendor/S", "seq"),
            spec(Op::Get, "./Vendor/S"),
        ],
        ..spec(Op::Sequence, "")
    });
    let ran = run(&mut store, &mut dev, config("A5", "DM/1.3"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let c = store.cmd(seq);
    assert_eq!(c.state, CommandState::Done, "{c:?}");
    assert_eq!(c.children.len(), 2);
    assert!(c.children.iter().all(|ch| (200..300).contains(&ch.status)));
    assert_eq!(c.results[0].data.as_deref(), Some("seq"));
}

#[test]
fn dm_pro_ui_s_002_confirm_alert_answered_and_ui_s_003_text_input_recorded() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let confirm = store.enqueue(omadm_server::model::CommandSpec {
        code: Some(1101),
        data: Some("Install the update?".into()),
        options: Some("MINDT=1".into()),
        target: None,
        ..spec(Op::Alert, "")
    });
    let input = store.enqueue(omadm_server::model::CommandSpec {
        code: Some(1102),
        data: Some("Your name?".into()),
        options: Some("DR=Alice".into()),
        target: None,
        ..spec(Op::Alert, "")
    });
    let ran = run(&mut store, &mut dev, config("A6", "DM/1.3"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert_eq!(store.cmd(confirm).state, CommandState::Done);
    assert_eq!(store.cmd(confirm).status, Some(200));
    let i = store.cmd(input);
    assert_eq!(i.state, CommandState::Done, "{i:?}");
    assert_eq!(i.results[0].data.as_deref(), Some("Alice"));
    // §10.2 (DM-PRO-UI-S-006): options, then text.
    let alert = ran
        .answers
        .iter()
        .flat_map(|m| &m.body.commands)
        .find_map(|c| match c {
            omadm_syncml::Command::Alert(a) if a.code().map(|c| c.0) == Some(1101) => {
                Some(a.clone())
            }
            _ => None,
        });
    let a = alert.unwrap();
    assert_eq!(a.items[0].data.as_ref().unwrap().as_text(), Some("MINDT=1"));
    assert_eq!(
        a.items[1].data.as_ref().unwrap().as_text(),
        Some("Install the update?")
    );
}

#[test]
fn dm_pro_s_005_second_session_sends_what_was_queued_after_the_first() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let ran = run(&mut store, &mut dev, config("B1", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    let id = store.enqueue(with_data(Op::Add, "./Vendor/Later", "x"));
    let ran = run(&mut store, &mut dev, config("B2", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert_eq!(store.cmd(id).state, CommandState::Done);
    assert_eq!(dev.get("./Vendor/Later").as_deref(), Some(&b"x"[..]));
}

#[test]
fn dm_pro_s_001_wbxml_client_answered_in_wbxml() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let id = store.enqueue(spec(Op::Get, "./DevInfo/Mod"));
    let mut cfg = config("W1", "DM/1.2");
    cfg.encoding = omadm_syncml::Encoding::Wbxml;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    for o in &ran.outbounds {
        assert_eq!(o.content_type, "application/vnd.syncml.dm+wbxml");
        assert!(o.body[0] <= 3, "WBXML version byte");
    }
    assert_eq!(
        store.cmd(id).results[0].data.as_deref(),
        Some("SmartPhone2000")
    );
}
