//! The checks of the `server_engine` fuzz target (included by
//! `fuzz/fuzz_targets/server_engine.rs`), and, as a test on stable, their replay over every file
//! of `fuzz/corpus/server_engine/` and of the hostile corpus `testdata/hostile/`. Whatever a
//! device sends, the engine answers with a message that decodes, or refuses a body that is not
//! SyncML with `EngineError::Decode`; it never panics, and its stored state reads back.

use omadm_server::engine::{self, Context, EngineError, Inbound, ServerConfig, SessionState};
use omadm_server::model::{
    ClientAuth, ClientAuthType, CommandSpec, CommandState, Device, Op, QueuedCommand, ServerAuth,
};
use omadm_syncml::Message;

fn device(auth: ClientAuthType) -> Device {
    Device {
        device_id: "IMEI:490154203237518".into(),
        client_auth: ClientAuth {
            type_: auth,
            name: "dev1".into(),
            secret: "dev-secret".into(),
        },
        server_auth: ServerAuth {
            name: "omadm".into(),
            secret: "srv-secret".into(),
        },
        push_url: None,
        client_nonce: b"nonce".to_vec(),
        server_nonce: Vec::new(),
        devinfo: Default::default(),
        dm_version: None,
        created_at: 0,
        last_seen: None,
    }
}

fn spec(op: Op, target: &str, data: Option<String>) -> CommandSpec {
    CommandSpec {
        op,
        target: Some(target.into()),
        source: None,
        data,
        format: None,
        type_: None,
        code: None,
        options: None,
        choices: Vec::new(),
        correlator: None,
        commands: Vec::new(),
    }
}

fn queue() -> Vec<QueuedCommand> {
    let mut atomic = spec(Op::Atomic, "", None);
    atomic.target = None;
    atomic.commands = vec![
        spec(Op::Add, "./Vendor/A", Some("a".into())),
        spec(Op::Replace, "./Vendor/B", Some("b".into())),
    ];
    [
        spec(Op::Get, "./DevInfo/Mod", None),
        spec(Op::Replace, "./Vendor/Big", Some("x".repeat(5000))),
        atomic,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, spec)| QueuedCommand {
        id: i as i64 + 1,
        device_id: "IMEI:490154203237518".into(),
        spec,
        state: CommandState::Queued,
        status: None,
        results: Vec::new(),
        children: Vec::new(),
        session_id: None,
        created_at: 0,
        updated_at: 0,
    })
    .collect()
}

/// Feeds `data` as a device message to the engine, for each auth type, with no session and then
/// with the session its first answer left; every answer must decode. `data` is also read as a
/// stored session state (a damaged row): no panic, and what reads writes back the same.
pub fn server_engine(data: &[u8]) {
    if let Some(st) = SessionState::from_bytes(data) {
        assert_eq!(
            SessionState::from_bytes(&st.to_bytes()),
            Some(st),
            "a stored state reads back as written"
        );
    }
    let cfg = ServerConfig::default();
    let pending = queue();
    for auth in [
        ClientAuthType::Basic,
        ClientAuthType::Digest,
        ClientAuthType::Hmac,
    ] {
        let dev = device(auth);
        let mut session = None;
        for round in 0..2 {
            let ctx = Context {
                device: Some(&dev),
                session: session.as_ref(),
                pending: &pending,
            };
            let inbound = Inbound {
                body: data,
                hmac: None,
                now: 1_700_000_000 + round,
            };
            let mut n = 0u8;
            let mut nonce = || {
                n = n.wrapping_add(1);
                vec![n; 16]
            };
            match engine::process(&cfg, ctx, inbound, &mut nonce) {
                Ok(out) => {
                    Message::decode(&out.body).expect("the engine's answer decodes");
                    if let Some(rec) = out.changes.session {
                        if !rec.state.is_empty() {
                            SessionState::from_bytes(&rec.state)
                                .expect("the stored state reads back");
                        }
                        session = Some(rec);
                    }
                }
                Err(EngineError::Decode(_)) => return,
                Err(e) => panic!("the engine failed on a decodable message: {e}"),
            }
        }
    }
    // An unknown device is refused in SyncML.
    let ctx = Context {
        device: None,
        session: None,
        pending: &[],
    };
    let inbound = Inbound {
        body: data,
        hmac: None,
        now: 1_700_000_000,
    };
    if let Ok(out) = engine::process(&cfg, ctx, inbound, &mut || vec![1; 16]) {
        Message::decode(&out.body).expect("the refusal decodes");
    }
}

#[test]
fn corpus_replays_without_panics() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [
        root.join("../../fuzz/corpus/server_engine"),
        root.join("testdata/hostile"),
    ] {
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("dir entry").path();
            if p.extension().is_some_and(|x| x == "py") {
                continue;
            }
            let data = std::fs::read(&p).expect("corpus file");
            server_engine(&data);
            n += 1;
        }
    }
    assert!(n >= 100, "{n} corpus files");
}
