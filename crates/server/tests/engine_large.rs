//! Large objects both ways (DM Protocol 1.3 §8) and packages paged over the client's
//! MaxMsgSize (§7).

mod common;

use common::*;
use omadm_client::session::Outcome;
use omadm_server::model::{ClientAuthType, CommandState, Op};
use omadm_syncml::Command;

fn value(n: usize) -> String {
    (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect()
}

fn items(m: &omadm_syncml::Message) -> impl Iterator<Item = &omadm_syncml::Item> {
    m.body.commands.iter().flat_map(|c| c.items())
}

#[test]
fn dm_pro_lo_s_003_006_008_server_sends_3k_replace_in_chunks_with_size_first() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    dev.tree
        .add(
            omadm_tree::Caller::Device,
            "./Vendor/Big",
            omadm_tree::format::NodeFormat::Chr,
            None,
            b"",
        )
        .unwrap();
    let big = value(3 * 1024);
    let id = store.enqueue(with_data(Op::Replace, "./Vendor/Big", &big));
    let mut cfg = config("L1", "DM/1.2");
    cfg.max_msg_size = 1024;
    cfg.max_obj_size = 8 * 1024;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    assert_eq!(
        store.cmd(id).state,
        CommandState::Done,
        "{:?}",
        store.cmd(id)
    );
    assert_eq!(dev.get("./Vendor/Big").as_deref(), Some(big.as_bytes()));
    let chunks: Vec<&omadm_syncml::Item> = ran
        .answers
        .iter()
        .flat_map(|m| m.body.commands.iter())
        .filter(|c| matches!(c, Command::Replace(_)))
        .flat_map(|c| c.items())
        .collect();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    // DM-PRO-LO-S-003: MoreData on all but the last; LO-S-008: Size on the first only.
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.more_data, i + 1 < chunks.len());
        let size = c.meta.as_ref().and_then(|m| m.size_value());
        assert_eq!(size, (i == 0).then_some(big.len() as u64));
    }
    // DM-PRO-LO-S-006: the server states its MaxObjSize (and MaxMsgSize) in its SyncHdr Meta.
    let meta = ran.answers[0].hdr.meta.as_ref().expect("SyncHdr Meta");
    assert_eq!(meta.max_obj_size_value(), Some(store.cfg.max_obj_size));
    assert_eq!(meta.max_msg_size_value(), Some(store.cfg.max_msg_size));
    // DM-PRO-Mul-S-001: Final only on the last message of the package.
    for (o, m) in ran.outbounds.iter().zip(&ran.answers) {
        assert!(o.body.len() <= 1024, "{} bytes", o.body.len());
        let has_more = items(m).any(|i| i.more_data);
        if has_more {
            assert!(!m.body.final_);
        }
    }
}

#[test]
fn dm_pro_lo_s_001_client_returns_3k_result_in_chunks_reassembled() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    store.cfg.max_msg_size = 1024;
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let big = value(3 * 1024);
    dev.tree
        .add(
            omadm_tree::Caller::Device,
            "./Vendor/Log",
            omadm_tree::format::NodeFormat::Chr,
            None,
            big.as_bytes(),
        )
        .unwrap();
    let id = store.enqueue(spec(Op::Get, "./Vendor/Log"));
    let ran = run(&mut store, &mut dev, config("L2", "DM/1.2"));
    assert_eq!(ran.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    let c = store.cmd(id);
    assert_eq!(c.state, CommandState::Done);
    assert_eq!(c.results.len(), 1);
    assert_eq!(c.results[0].data.as_deref(), Some(big.as_str()));
    // Every chunk but the last was answered 213.
    let s213 = ran
        .answers
        .iter()
        .flat_map(|m| &m.body.commands)
        .filter(|c| matches!(c, Command::Status(s) if s.data == "213" && s.cmd == "Results"))
        .count();
    assert!(s213 >= 2, "{s213} chunks acknowledged");
}

#[test]
fn dm_pro_lo_s_007_object_over_client_max_obj_size_is_not_sent() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let id = store.enqueue(with_data(Op::Add, "./Vendor/TooBig", &value(3 * 1024)));
    let small = store.enqueue(with_data(Op::Add, "./Vendor/Small", "ok"));
    let mut cfg = config("L3", "DM/1.2");
    cfg.max_obj_size = 1024;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert_eq!(store.cmd(id).state, CommandState::Failed);
    assert_eq!(store.cmd(id).status, Some(413));
    assert_eq!(store.cmd(small).state, CommandState::Done);
    assert!(!ran
        .answers
        .iter()
        .flat_map(|m| &m.body.commands)
        .any(|c| c.items().iter().any(|i| i
            .target
            .as_ref()
            .is_some_and(|t| t.loc_uri == "./Vendor/TooBig"))));
}

#[test]
fn dm_pro_s_003_forty_gets_paged_at_2k_messages() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    store.cfg.max_msg_size = 2048;
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let ids: Vec<i64> = (0..40)
        .map(|i| {
            let leaf = ["DevId", "Man", "Mod", "DmV", "Lang"][i % 5];
            store.enqueue(spec(Op::Get, &format!("./DevInfo/{leaf}")))
        })
        .collect();
    let mut cfg = config("P1", "DM/1.2");
    cfg.max_msg_size = 2048;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed), "{:?}", store.audit);
    for id in ids {
        let c = store.cmd(id);
        assert_eq!(c.state, CommandState::Done, "{c:?}");
        assert_eq!(c.results.len(), 1);
    }
    for o in &ran.outbounds {
        assert!(o.body.len() <= 2048, "{} bytes", o.body.len());
    }
    assert!(ran.answers.len() > 3, "paged over several packages");
}

#[test]
fn dm_pro_s_003_paging_in_wbxml_fits_too() {
    let mut store = Store::new(device(ClientAuthType::Basic));
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    for i in 0..30 {
        store.enqueue(with_data(Op::Add, &format!("./Vendor/N{i}"), "value"));
    }
    let mut cfg = config("P2", "DM/1.3");
    cfg.max_msg_size = 1024;
    cfg.encoding = omadm_syncml::Encoding::Wbxml;
    let ran = run(&mut store, &mut dev, cfg);
    assert_eq!(ran.outcome, Ok(Outcome::Completed));
    assert!(store.commands.iter().all(|c| c.state == CommandState::Done));
    for o in &ran.outbounds {
        assert!(o.body.len() <= 1024, "{} bytes", o.body.len());
    }
}

/// §8 (DM-PRO-LO-S-009): the first chunk of a large Results announces a Size the reassembled
/// object does not have (the client's message is altered in flight): the server answers 424,
/// records no result, and the Get fails with 424.
#[test]
fn dm_pro_lo_s_009_size_mismatch_424_nothing_recorded() {
    use omadm_client::session::{Env, Incoming, Session, Step};
    use omadm_syncml::{Encoding, Message};
    let mut store = Store::new(device(ClientAuthType::Basic));
    store.cfg.max_msg_size = 1024;
    let mut dev = Dev::new(tree("BASIC", "DIGEST"));
    let big = value(3 * 1024);
    dev.tree
        .add(
            omadm_tree::Caller::Device,
            "./Vendor/Log",
            omadm_tree::format::NodeFormat::Chr,
            None,
            big.as_bytes(),
        )
        .unwrap();
    let id = store.enqueue(spec(Op::Get, "./Vendor/Log"));
    let mut s = Session::new(&dev.tree, config("L9", "DM/1.2")).unwrap();
    let mut out = s.start(&dev.tree).unwrap();
    let mut altered = false;
    let mut answered_424 = false;
    for _ in 0..50 {
        // Alter the announced Size of the first chunk.
        let mut m = Message::decode(&out.body).unwrap();
        for c in &mut m.body.commands {
            if let Command::Results(r) = c {
                for it in &mut r.items {
                    if let Some(meta) = it.meta.as_mut() {
                        if let Some(size) = meta.more.as_mut().and_then(|x| x.size.as_mut()) {
                            *size = (big.len() + 7).to_string().into();
                            altered = true;
                        }
                    }
                }
            }
        }
        let body = m.encode(Encoding::Xml).unwrap();
        let answer = store.deliver(&body, None);
        let a = Message::decode(&answer.body).unwrap();
        answered_424 |=
            a.body.commands.iter().any(
                |c| matches!(c, Command::Status(st) if st.cmd == "Results" && st.data == "424"),
            );
        let env = Env {
            tree: &mut dev.tree,
            plugins: &mut dev.plugins,
            ui: &mut *dev.ui,
            now: NOW as u64,
        };
        match s.receive(
            env,
            Incoming {
                body: &answer.body,
                hmac: None,
            },
        ) {
            Ok(Step::Send(o)) => out = o,
            _ => break,
        }
    }
    assert!(altered, "the client sent a first chunk with Size");
    assert!(answered_424, "the server answered 424");
    let c = store.cmd(id);
    assert_eq!(c.state, CommandState::Failed);
    assert_eq!(c.status, Some(424));
    assert!(c.results.is_empty());
}
