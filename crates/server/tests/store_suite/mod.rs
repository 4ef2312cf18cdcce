//! The store test suite both stores run: each function takes a freshly opened, empty store (or
//! two handles on one database, standing for two server processes) and checks one promise of the
//! [`Store`]/[`StoreTx`] traits. The backend files (`store_sqlite.rs`, `store_postgres.rs`) open
//! the databases and add what only their backend has.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use omadm_server::model::{
    AlertItem, ChildStatus, ClientAuth, ClientAuthType, CommandSpec, CommandState, NewDevice,
    ResultItem, ServerAuth, SessionRecord,
};
use omadm_server::store::{
    Changes, CommandUpdate, DeviceUpdate, MessageDone, MessageInput, MessageWork, NewAlert,
    NewAudit, Store, StoreError, WorkOutput,
};
use serde_json::json;

pub fn new_device(id: &str) -> NewDevice {
    NewDevice {
        device_id: id.to_owned(),
        client_auth: ClientAuth {
            type_: ClientAuthType::Digest,
            name: format!("{id}-user"),
            secret: "client-secret".to_owned(),
        },
        server_auth: ServerAuth {
            name: "omadm".to_owned(),
            secret: "server-secret".to_owned(),
        },
        push_url: Some(format!("http://127.0.0.1:9/{id}")),
    }
}

pub fn spec(v: serde_json::Value) -> CommandSpec {
    serde_json::from_value(v).expect("test spec")
}

pub fn get(target: &str) -> CommandSpec {
    spec(json!({"op": "Get", "target": target}))
}

pub fn item(data: &str) -> AlertItem {
    AlertItem {
        source: Some("./FUMO/Node".to_owned()),
        target: None,
        type_: Some("org.openmobilealliance.dm.firmwareupdate.downloadandupdate".to_owned()),
        format: Some("int".to_owned()),
        mark: Some("critical".to_owned()),
        data: Some(data.to_owned()),
    }
}

pub fn audit_line(device: Option<&str>, event: &str) -> NewAudit {
    NewAudit {
        device_id: device.map(str::to_owned),
        session_id: None,
        event: event.to_owned(),
        detail: json!({"event": event}),
    }
}

pub fn session(id: &str, messages: u32, state: &[u8], ended: Option<i64>) -> SessionRecord {
    SessionRecord {
        device_id: "dev-1".to_owned(),
        session_id: id.to_owned(),
        started_at: 1000,
        updated_at: 1000 + i64::from(messages),
        ended_at: ended,
        outcome: ended.map(|_| "completed".to_owned()),
        messages,
        state: state.to_vec(),
    }
}

pub async fn enroll_duplicate_and_list(s: Arc<dyn Store>) {
    for id in ["dev-c", "dev-a", "dev-e", "dev-b", "dev-d"] {
        let d = s.create_device(&new_device(id), 100).await.unwrap();
        assert_eq!(d.device_id, id);
        assert!(d.client_nonce.is_empty() && d.server_nonce.is_empty());
        assert!(d.devinfo.is_empty() && d.last_seen.is_none() && d.dm_version.is_none());
    }
    let dup = s.create_device(&new_device("dev-a"), 200).await;
    assert!(
        matches!(dup, Err(StoreError::DeviceExists(ref id)) if id == "dev-a"),
        "{dup:?}"
    );

    let a = s.device("dev-a").await.unwrap().expect("enrolled");
    assert_eq!(a.client_auth.type_, ClientAuthType::Digest);
    assert_eq!(a.client_auth.name, "dev-a-user");
    assert_eq!(a.server_auth.secret, "server-secret");
    assert_eq!(a.push_url.as_deref(), Some("http://127.0.0.1:9/dev-a"));
    assert_eq!(a.created_at, 100, "the duplicate changed nothing");
    assert!(s.device("dev-z").await.unwrap().is_none());

    let ids = |v: Vec<omadm_server::model::Device>| {
        v.into_iter().map(|d| d.device_id).collect::<Vec<_>>()
    };
    assert_eq!(ids(s.devices(None, 2).await.unwrap()), ["dev-a", "dev-b"]);
    assert_eq!(
        ids(s.devices(Some("dev-b"), 2).await.unwrap()),
        ["dev-c", "dev-d"]
    );
    assert_eq!(ids(s.devices(Some("dev-d"), 2).await.unwrap()), ["dev-e"]);
    assert!(s.devices(Some("dev-e"), 2).await.unwrap().is_empty());
    assert_eq!(s.devices(None, 100).await.unwrap().len(), 5);
}

pub async fn delete_device_cascades_but_audit_stays(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.create_device(&new_device("dev-2"), 1).await.unwrap();
    for d in ["dev-1", "dev-2"] {
        s.enqueue(d, &get("./DevInfo/Mod"), 2).await.unwrap();
        s.add_report(d, &[item("1")], 3).await.unwrap();
        s.audit(&audit_line(Some(d), "enrolled"), 4).await.unwrap();
        let mut tx = s.begin().await.unwrap();
        let changes = Changes {
            session: Some(SessionRecord {
                device_id: d.to_owned(),
                ..session("A1", 1, b"st", None)
            }),
            alerts: vec![NewAlert {
                code: 1226,
                correlator: None,
                items: vec![item("200")],
            }],
            ..Changes::default()
        };
        tx.apply(d, &changes, 5).await.unwrap();
        tx.commit().await.unwrap();
    }

    assert!(s.delete_device("dev-1").await.unwrap());
    assert!(!s.delete_device("dev-1").await.unwrap(), "already gone");
    assert!(s.device("dev-1").await.unwrap().is_none());
    assert!(s.commands("dev-1").await.unwrap().is_empty());
    assert!(s.sessions("dev-1").await.unwrap().is_empty());
    assert!(s.alerts("dev-1").await.unwrap().is_empty());
    assert!(s.reports("dev-1").await.unwrap().is_empty());
    let audit = s.audit_log(Some("dev-1"), 10).await.unwrap();
    assert_eq!(audit.len(), 1, "audit lines outlive the device");
    assert_eq!(audit[0].device_id.as_deref(), Some("dev-1"));

    // The other device is untouched.
    assert_eq!(s.commands("dev-2").await.unwrap().len(), 1);
    assert_eq!(s.sessions("dev-2").await.unwrap().len(), 1);
    assert_eq!(s.alerts("dev-2").await.unwrap().len(), 1);
    assert_eq!(s.reports("dev-2").await.unwrap().len(), 1);

    // Ids are never reused, even the highest one after its device is deleted.
    s.create_device(&new_device("dev-3"), 9).await.unwrap();
    let gone = s.enqueue("dev-3", &get("./x"), 9).await.unwrap();
    assert!(s.delete_device("dev-3").await.unwrap());
    let id = s.enqueue("dev-2", &get("./x"), 9).await.unwrap();
    assert!(id > gone, "{id} reuses {gone}");
}

pub async fn enqueue_command_commands_order_and_cancel(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.create_device(&new_device("dev-2"), 1).await.unwrap();
    let atomic = spec(json!({
        "op": "Atomic",
        "commands": [
            {"op": "Replace", "target": "./a", "data": "1", "format": "int"},
            {"op": "Delete", "target": "./b"},
        ],
    }));
    let a = s.enqueue("dev-1", &get("./DevInfo/Mod"), 10).await.unwrap();
    let other = s
        .enqueue("dev-2", &get("./DevInfo/Lang"), 11)
        .await
        .unwrap();
    let b = s.enqueue("dev-1", &atomic, 12).await.unwrap();
    let c = s
        .enqueue("dev-1", &get("./DevDetail/SwV"), 13)
        .await
        .unwrap();
    assert!(a < other && other < b && b < c);

    let cmd = s.command("dev-1", b).await.unwrap().expect("queued");
    assert_eq!(cmd.spec, atomic);
    assert_eq!(cmd.state, CommandState::Queued);
    assert_eq!(cmd.device_id, "dev-1");
    assert_eq!((cmd.status, cmd.session_id.as_deref()), (None, None));
    assert!(cmd.results.is_empty() && cmd.children.is_empty());
    assert_eq!((cmd.created_at, cmd.updated_at), (12, 12));
    assert!(
        s.command("dev-2", b).await.unwrap().is_none(),
        "another device's command"
    );
    assert!(s.command("dev-1", 9999).await.unwrap().is_none());

    let ids = command_ids(&*s, "dev-1").await;
    assert_eq!(ids, [a, b, c]);

    assert!(s.cancel_command("dev-1", b, 20).await.unwrap());
    let cmd = s.command("dev-1", b).await.unwrap().unwrap();
    assert_eq!(
        (cmd.state, cmd.updated_at, cmd.created_at),
        (CommandState::Cancelled, 20, 12)
    );
    assert!(
        !s.cancel_command("dev-1", b, 21).await.unwrap(),
        "not queued any more"
    );
    assert!(
        !s.cancel_command("dev-1", other, 21).await.unwrap(),
        "not this device's"
    );
    assert!(!s.cancel_command("dev-1", 9999, 21).await.unwrap());

    // A sent command cannot be cancelled.
    let mut tx = s.begin().await.unwrap();
    let upd = CommandUpdate {
        id: c,
        state: CommandState::Sent,
        status: None,
        results: None,
        children: None,
        session_id: Some("1".to_owned()),
    };
    let changes = Changes {
        commands: vec![upd],
        ..Changes::default()
    };
    tx.apply("dev-1", &changes, 30).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!s.cancel_command("dev-1", c, 31).await.unwrap());
    assert_eq!(
        s.command("dev-1", c).await.unwrap().unwrap().state,
        CommandState::Sent
    );
}

pub async fn unknown_device_is_no_device(s: Arc<dyn Store>) {
    let e = s.enqueue("nobody", &get("./x"), 1).await.err();
    assert!(matches!(e, Some(StoreError::NoDevice(_))), "{e:?}");
    let e = s.add_report("nobody", &[item("1")], 1).await.err();
    assert!(matches!(e, Some(StoreError::NoDevice(_))), "{e:?}");
    let e = s.set_nonces("nobody", Some(b"n"), None).await.err();
    assert!(matches!(e, Some(StoreError::NoDevice(_))), "{e:?}");
    let mut tx = s.begin().await.unwrap();
    assert!(tx.device("nobody").await.unwrap().is_none());
    let e = tx.apply("nobody", &Changes::default(), 1).await.err();
    assert!(matches!(e, Some(StoreError::NoDevice(_))), "{e:?}");
}

pub async fn tx_applies_and_commits(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let get_id = s.enqueue("dev-1", &get("./DevInfo/Mod"), 2).await.unwrap();
    let atomic = spec(json!({"op": "Atomic", "commands": [
        {"op": "Add", "target": "./a", "data": "x"},
        {"op": "Add", "target": "./b", "data": "y"},
    ]}));
    let atomic_id = s.enqueue("dev-1", &atomic, 2).await.unwrap();
    let later = s
        .enqueue("dev-1", &get("./DevDetail/SwV"), 2)
        .await
        .unwrap();

    // Message 1: package #1 arrives, the queue is sent.
    let mut tx = s.begin().await.unwrap();
    let dev = tx.device("dev-1").await.unwrap().expect("enrolled");
    assert!(dev.client_nonce.is_empty());
    assert!(tx.session("dev-1", "1F").await.unwrap().is_none());
    let pending = tx.pending_commands("dev-1").await.unwrap();
    assert_eq!(
        pending.iter().map(|c| c.id).collect::<Vec<_>>(),
        [get_id, atomic_id, later]
    );
    let sent = |id| CommandUpdate {
        id,
        state: CommandState::Sent,
        status: None,
        results: None,
        children: None,
        session_id: Some("1F".to_owned()),
    };
    let devinfo = [
        ("DevId", "dev-1"),
        ("Man", "omadm"),
        ("Mod", "sim"),
        ("Lang", "en"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into_iter()
    .collect();
    let changes = Changes {
        device: DeviceUpdate {
            client_nonce: Some(b"client-nonce-1".to_vec()),
            server_nonce: Some(vec![0, 1, 2, 255]),
            devinfo: Some(devinfo),
            dm_version: Some("DM/1.2".to_owned()),
            last_seen: Some(50),
        },
        session: Some(session("1F", 1, b"state-after-1", None)),
        commands: vec![sent(get_id), sent(atomic_id)],
        alerts: vec![NewAlert {
            code: 1226,
            correlator: Some("corr-1".to_owned()),
            items: vec![item("200")],
        }],
        audit: vec![
            NewAudit {
                session_id: Some("1F".to_owned()),
                ..audit_line(Some("dev-1"), "session.started")
            },
            audit_line(Some("dev-1"), "command.sent"),
        ],
    };
    tx.apply("dev-1", &changes, 50).await.unwrap();
    tx.commit().await.unwrap();

    // Message 2: statuses and results come back, the session ends.
    let mut tx = s.begin().await.unwrap();
    let dev = tx.device("dev-1").await.unwrap().unwrap();
    assert_eq!(dev.client_nonce, b"client-nonce-1");
    assert_eq!(dev.server_nonce, [0, 1, 2, 255]);
    assert_eq!(dev.devinfo.get("Mod").map(String::as_str), Some("sim"));
    assert_eq!(dev.dm_version.as_deref(), Some("DM/1.2"));
    let sess = tx.session("dev-1", "1F").await.unwrap().expect("stored");
    assert_eq!(sess.state, b"state-after-1");
    assert_eq!(sess.messages, 1);
    let pending = tx.pending_commands("dev-1").await.unwrap();
    assert_eq!(pending.len(), 3);
    assert_eq!(pending[0].state, CommandState::Sent);
    assert_eq!(pending[0].session_id.as_deref(), Some("1F"));
    assert_eq!(pending[2].state, CommandState::Queued);

    let results = vec![ResultItem {
        source: Some("./DevInfo/Mod".to_owned()),
        format: Some("chr".to_owned()),
        type_: Some("text/plain".to_owned()),
        data: Some("sim".to_owned()),
    }];
    let children = vec![
        ChildStatus {
            index: 0,
            status: 215,
        },
        ChildStatus {
            index: 1,
            status: 500,
        },
    ];
    let changes = Changes {
        device: DeviceUpdate {
            client_nonce: Some(b"client-nonce-2".to_vec()),
            last_seen: Some(60),
            ..DeviceUpdate::default()
        },
        session: Some(session("1F", 2, b"", Some(60))),
        commands: vec![
            CommandUpdate {
                id: get_id,
                state: CommandState::Done,
                status: Some(200),
                results: Some(results.clone()),
                children: None,
                session_id: None,
            },
            CommandUpdate {
                id: atomic_id,
                state: CommandState::Failed,
                status: Some(507),
                results: None,
                children: Some(children.clone()),
                session_id: None,
            },
        ],
        alerts: vec![NewAlert {
            code: 1227,
            correlator: None,
            items: vec![item("a"), item("b")],
        }],
        audit: vec![audit_line(Some("dev-1"), "session.ended")],
    };
    tx.apply("dev-1", &changes, 60).await.unwrap();
    tx.commit().await.unwrap();

    // Everything is visible outside the transaction.
    let dev = s.device("dev-1").await.unwrap().unwrap();
    assert_eq!(dev.client_nonce, b"client-nonce-2");
    assert_eq!(dev.server_nonce, [0, 1, 2, 255], "kept: not in the update");
    assert_eq!(dev.devinfo.len(), 4, "kept: not in the update");
    assert_eq!(dev.dm_version.as_deref(), Some("DM/1.2"));
    assert_eq!(dev.last_seen, Some(60));

    let sessions = s.sessions("dev-1").await.unwrap();
    assert_eq!(sessions.len(), 1, "upserted, not duplicated");
    let sess = &sessions[0];
    assert_eq!((sess.started_at, sess.updated_at), (1000, 1002));
    assert_eq!(
        (sess.ended_at, sess.outcome.as_deref()),
        (Some(60), Some("completed"))
    );
    assert_eq!(sess.messages, 2);
    assert!(sess.state.is_empty());

    let g = s.command("dev-1", get_id).await.unwrap().unwrap();
    assert_eq!((g.state, g.status), (CommandState::Done, Some(200)));
    assert_eq!(g.results, results);
    assert_eq!(
        g.session_id.as_deref(),
        Some("1F"),
        "kept: the update had none"
    );
    assert_eq!((g.created_at, g.updated_at), (2, 60));
    let a = s.command("dev-1", atomic_id).await.unwrap().unwrap();
    assert_eq!((a.state, a.status), (CommandState::Failed, Some(507)));
    assert_eq!(a.children, children);
    assert!(a.results.is_empty());
    let l = s.command("dev-1", later).await.unwrap().unwrap();
    assert_eq!((l.state, l.updated_at), (CommandState::Queued, 2));

    let alerts = s.alerts("dev-1").await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        (alerts[0].code, alerts[0].correlator.as_deref()),
        (1226, Some("corr-1"))
    );
    assert_eq!(
        (alerts[0].session_id.as_str(), alerts[0].received_at),
        ("1F", 50)
    );
    assert_eq!(alerts[0].items, [item("200")]);
    assert_eq!(alerts[1].code, 1227);
    assert_eq!(alerts[1].items, [item("a"), item("b")]);

    let audit = s.audit_log(Some("dev-1"), 100).await.unwrap();
    let events: Vec<_> = audit.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(events, ["session.started", "command.sent", "session.ended"]);
    assert_eq!(audit[0].session_id.as_deref(), Some("1F"));
    assert_eq!(audit[0].at, 50);
    assert_eq!(audit[0].detail, json!({"event": "session.started"}));
}

pub async fn alerts_without_a_session_have_an_empty_session_id(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let mut tx = s.begin().await.unwrap();
    let changes = Changes {
        alerts: vec![NewAlert {
            code: 1226,
            correlator: None,
            items: vec![],
        }],
        ..Changes::default()
    };
    tx.apply("dev-1", &changes, 7).await.unwrap();
    tx.commit().await.unwrap();
    let alerts = s.alerts("dev-1").await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].session_id, "");
    assert!(alerts[0].items.is_empty());
}

pub async fn dropped_tx_rolls_back(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let id = s.enqueue("dev-1", &get("./x"), 2).await.unwrap();
    {
        let mut tx = s.begin().await.unwrap();
        tx.device("dev-1").await.unwrap();
        let changes = Changes {
            device: DeviceUpdate {
                client_nonce: Some(b"lost".to_vec()),
                last_seen: Some(9),
                ..DeviceUpdate::default()
            },
            session: Some(session("AA", 1, b"lost", None)),
            commands: vec![CommandUpdate {
                id,
                state: CommandState::Done,
                status: Some(200),
                results: Some(vec![]),
                children: None,
                session_id: Some("AA".to_owned()),
            }],
            alerts: vec![NewAlert {
                code: 1226,
                correlator: None,
                items: vec![item("1")],
            }],
            audit: vec![audit_line(Some("dev-1"), "lost")],
        };
        tx.apply("dev-1", &changes, 9).await.unwrap();
        // Dropped here without commit.
    }
    let dev = s.device("dev-1").await.unwrap().unwrap();
    assert!(dev.client_nonce.is_empty());
    assert_eq!(dev.last_seen, None);
    assert!(s.sessions("dev-1").await.unwrap().is_empty());
    let cmd = s.command("dev-1", id).await.unwrap().unwrap();
    assert_eq!((cmd.state, cmd.status), (CommandState::Queued, None));
    assert!(s.alerts("dev-1").await.unwrap().is_empty());
    assert!(s.audit_log(None, 100).await.unwrap().is_empty());

    // The store is usable afterwards, and the next transaction starts from the old state.
    let mut tx = s.begin().await.unwrap();
    assert!(tx.session("dev-1", "AA").await.unwrap().is_none());
    assert_eq!(tx.pending_commands("dev-1").await.unwrap().len(), 1);
    tx.commit().await.unwrap();
    s.enqueue("dev-1", &get("./y"), 3).await.unwrap();
}

/// Holds a message's transaction on `first` (its device read, so locked) for a while, runs a
/// second message of the same device on `second` from another task, and checks that the second
/// waited for the first's commit and saw its write. SQLite makes the second wait in `begin`
/// (BEGIN IMMEDIATE), PostgreSQL in `device` (the row lock): the wait is timed around both.
pub async fn second_message_waits_for_first_commit(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    const HOLD: Duration = Duration::from_millis(400);
    first.create_device(&new_device("dev-1"), 1).await.unwrap();

    let mut tx1 = first.begin().await.unwrap();
    tx1.device("dev-1").await.unwrap();

    let waiter = tokio::spawn(async move {
        let t0 = Instant::now();
        let mut tx2 = second.begin().await?;
        let dev = tx2.device("dev-1").await?;
        let waited = t0.elapsed();
        let changes = Changes {
            device: DeviceUpdate {
                server_nonce: Some(b"second".to_vec()),
                ..DeviceUpdate::default()
            },
            ..Changes::default()
        };
        tx2.apply("dev-1", &changes, 3).await?;
        tx2.commit().await?;
        Ok::<_, StoreError>((waited, dev.map(|d| d.client_nonce)))
    });

    tokio::time::sleep(HOLD).await;
    assert!(!waiter.is_finished(), "the second transaction did not wait");
    let changes = Changes {
        device: DeviceUpdate {
            client_nonce: Some(b"first".to_vec()),
            ..DeviceUpdate::default()
        },
        ..Changes::default()
    };
    tx1.apply("dev-1", &changes, 2).await.unwrap();
    tx1.commit().await.unwrap();

    let (waited, seen) = waiter.await.unwrap().expect("no lock timeout");
    assert!(waited >= HOLD - Duration::from_millis(50), "{waited:?}");
    assert_eq!(
        seen.as_deref(),
        Some(&b"first"[..]),
        "read the device after the commit"
    );
    let dev = first.device("dev-1").await.unwrap().unwrap();
    assert_eq!(
        (dev.client_nonce.as_slice(), dev.server_nonce.as_slice()),
        (&b"first"[..], &b"second"[..])
    );
}

pub async fn many_concurrent_transactions_all_commit(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40i64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = s.begin().await?;
            tx.device("dev-1").await?;
            let changes = Changes {
                audit: vec![audit_line(Some("dev-1"), &format!("tx-{i}"))],
                ..Changes::default()
            };
            tx.apply("dev-1", &changes, i).await?;
            tx.commit().await?;
            s.enqueue("dev-1", &get("./x"), i).await?;
            Ok::<_, StoreError>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(s.audit_log(None, 1000).await.unwrap().len(), 40);
    assert_eq!(s.commands("dev-1").await.unwrap().len(), 40);
}

pub async fn set_nonces_changes_only_the_given_ones(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.set_nonces("dev-1", Some(b"c1"), Some(b"s1"))
        .await
        .unwrap();
    s.set_nonces("dev-1", Some(b"c2"), None).await.unwrap();
    let d = s.device("dev-1").await.unwrap().unwrap();
    assert_eq!(
        (d.client_nonce.as_slice(), d.server_nonce.as_slice()),
        (&b"c2"[..], &b"s1"[..])
    );
    s.set_nonces("dev-1", None, Some(&[])).await.unwrap();
    let d = s.device("dev-1").await.unwrap().unwrap();
    assert_eq!(
        (d.client_nonce.as_slice(), d.server_nonce.as_slice()),
        (&b"c2"[..], &b""[..])
    );
}

pub async fn reports_are_kept_per_device_oldest_first(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.create_device(&new_device("dev-2"), 1).await.unwrap();
    let r1 = s
        .add_report("dev-1", &[item("1"), item("2")], 10)
        .await
        .unwrap();
    s.add_report("dev-2", &[item("x")], 11).await.unwrap();
    let r2 = s.add_report("dev-1", &[], 12).await.unwrap();
    assert!(r1 < r2);
    let reports = s.reports("dev-1").await.unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!((reports[0].id, reports[0].received_at), (r1, 10));
    assert_eq!(reports[0].items, [item("1"), item("2")]);
    assert_eq!(reports[0].device_id, "dev-1");
    assert_eq!((reports[1].id, reports[1].items.len()), (r2, 0));
    assert!(s.reports("dev-3").await.unwrap().is_empty());
}

pub async fn audit_log_filters_by_device_and_keeps_the_latest_lines(s: Arc<dyn Store>) {
    for i in 0..6 {
        let dev = if i % 2 == 0 { Some("dev-1") } else { None };
        s.audit(&audit_line(dev, &format!("e{i}")), 100 + i)
            .await
            .unwrap();
    }
    let events = |v: Vec<omadm_server::model::AuditEntry>| {
        v.into_iter().map(|a| a.event).collect::<Vec<_>>()
    };
    assert_eq!(
        events(s.audit_log(None, 100).await.unwrap()),
        ["e0", "e1", "e2", "e3", "e4", "e5"]
    );
    assert_eq!(events(s.audit_log(None, 2).await.unwrap()), ["e4", "e5"]);
    assert_eq!(
        events(s.audit_log(Some("dev-1"), 100).await.unwrap()),
        ["e0", "e2", "e4"]
    );
    assert_eq!(events(s.audit_log(Some("dev-1"), 1).await.unwrap()), ["e4"]);
    assert!(s.audit_log(Some("dev-9"), 10).await.unwrap().is_empty());
    let all = s.audit_log(None, 100).await.unwrap();
    assert_eq!((all[1].at, all[1].device_id.as_deref()), (101, None));
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
}

pub async fn settings_keep_the_first_value_when_asked(s: Arc<dyn Store>) {
    assert_eq!(s.setting("admin_token").await.unwrap(), None);
    assert_eq!(
        s.set_setting("admin_token", "first", true).await.unwrap(),
        "first"
    );
    assert_eq!(
        s.set_setting("admin_token", "second", true).await.unwrap(),
        "first"
    );
    assert_eq!(
        s.setting("admin_token").await.unwrap().as_deref(),
        Some("first")
    );
    assert_eq!(
        s.set_setting("admin_token", "third", false).await.unwrap(),
        "third"
    );
    assert_eq!(
        s.setting("admin_token").await.unwrap().as_deref(),
        Some("third")
    );
}

/// Writes what [`check_after_reopen`] looks for; the command id to pass it.
pub async fn write_before_reopen(s: &dyn Store) -> i64 {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.set_nonces("dev-1", Some(b"c"), Some(b"s")).await.unwrap();
    let id = s.enqueue("dev-1", &get("./x"), 2).await.unwrap();
    s.set_setting("admin_token", "t0", true).await.unwrap();
    id
}

/// What [`write_before_reopen`] wrote is there in a store opened again on the same database.
pub async fn check_after_reopen(s: &dyn Store, id: i64) {
    let dev = s.device("dev-1").await.unwrap().expect("persisted");
    assert_eq!(
        (dev.client_nonce.as_slice(), dev.server_nonce.as_slice()),
        (&b"c"[..], &b"s"[..])
    );
    assert_eq!(
        s.command("dev-1", id).await.unwrap().unwrap().spec,
        get("./x")
    );
    assert_eq!(
        s.setting("admin_token").await.unwrap().as_deref(),
        Some("t0")
    );
}

/// Undecodable stored values are [`StoreError::Corrupt`], never a panic. `exec` runs SQL on the
/// store's database from outside the store (the statements are portable).
pub async fn undecodable_stored_values_are_corrupt(s: Arc<dyn Store>, exec: impl AsyncFn(String)) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let id = s.enqueue("dev-1", &get("./x"), 2).await.unwrap();

    exec(format!(
        "UPDATE commands SET spec = '{{\"op\": \"Frobnicate\"}}' WHERE id = {id}"
    ))
    .await;
    let e = s.command("dev-1", id).await.err();
    assert!(
        matches!(e, Some(StoreError::Corrupt { what: "spec", .. })),
        "{e:?}"
    );

    let good = serde_json::to_string(&get("./x")).unwrap();
    exec(format!(
        "UPDATE commands SET spec = '{good}', state = 'lost' WHERE id = {id}"
    ))
    .await;
    let e = s.commands("dev-1").await.err();
    assert!(
        matches!(e, Some(StoreError::Corrupt { what: "state", .. })),
        "{e:?}"
    );

    exec(format!(
        "UPDATE commands SET state = 'done', status = 70000 WHERE id = {id}"
    ))
    .await;
    let e = s.command("dev-1", id).await.err();
    assert!(
        matches!(e, Some(StoreError::Corrupt { what: "status", .. })),
        "{e:?}"
    );

    exec("UPDATE devices SET client_auth_type = 'kerberos', devinfo = '[]'".to_owned()).await;
    let e = s.device("dev-1").await.err();
    assert!(matches!(e, Some(StoreError::Corrupt { .. })), "{e:?}");
    let mut tx = s.begin().await.unwrap();
    let e = tx.device("dev-1").await.err();
    assert!(matches!(e, Some(StoreError::Corrupt { .. })), "{e:?}");
}

/// A campaign queues its specs for every device in one transaction (nothing when a device is
/// unknown), counts its commands per state, and cancels only those still queued.
pub async fn campaign_queues_counts_and_cancels(s: Arc<dyn Store>) {
    for id in ["dev-1", "dev-2", "dev-3"] {
        s.create_device(&new_device(id), 100).await.unwrap();
    }
    let specs = vec![
        get("./DevInfo/Mod"),
        spec(json!({"op": "Replace", "target": "./Vendor/X", "data": "1"})),
    ];
    let devices: Vec<String> = ["dev-1", "dev-2", "dev-3"].map(String::from).to_vec();

    // An unknown device: all or nothing.
    let mut with_unknown = devices.clone();
    with_unknown.push("nobody".to_owned());
    with_unknown.push("ghost".to_owned());
    let e = s.create_campaign(&with_unknown, &specs, 200).await.err();
    assert!(
        matches!(&e, Some(StoreError::UnknownDevices(ids)) if ids == &["nobody", "ghost"]),
        "{e:?}"
    );
    assert!(s.commands("dev-1").await.unwrap().is_empty());
    assert!(s.campaigns(None, 10).await.unwrap().is_empty());

    let c = s.create_campaign(&devices, &specs, 200).await.unwrap();
    assert_eq!((c.devices, c.commands, c.created_at), (3, 6, 200));
    assert_eq!(s.campaign(c.id).await.unwrap().as_ref(), Some(&c));
    assert_eq!(s.campaign(c.id + 1000).await.unwrap(), None);
    for d in &devices {
        let cs = s.commands(d).await.unwrap();
        assert_eq!(cs.len(), 2, "{d}");
        assert_eq!(cs[0].spec, specs[0]);
        assert_eq!(cs[1].spec, specs[1]);
        assert!(cs.iter().all(|c| c.state == CommandState::Queued));
    }
    let states = s.campaign_states(c.id).await.unwrap();
    assert_eq!((states.queued, states.done, states.cancelled), (6, 0, 0));

    // dev-1 has a session: one command done, one sent.
    let ids = command_ids(&*s, "dev-1").await;
    let mut tx = s.begin().await.unwrap();
    tx.device("dev-1").await.unwrap();
    let changes = Changes {
        commands: vec![
            CommandUpdate {
                id: ids[0],
                state: CommandState::Done,
                status: Some(200),
                results: None,
                children: None,
                session_id: Some("1".to_owned()),
            },
            CommandUpdate {
                id: ids[1],
                state: CommandState::Sent,
                status: None,
                results: None,
                children: None,
                session_id: Some("1".to_owned()),
            },
        ],
        ..Changes::default()
    };
    tx.apply("dev-1", &changes, 300).await.unwrap();
    tx.commit().await.unwrap();
    // A command queued outside the campaign is not counted nor cancelled.
    let own = s.enqueue("dev-2", &get("./A"), 300).await.unwrap();

    let states = s.campaign_states(c.id).await.unwrap();
    assert_eq!(
        (states.queued, states.sent, states.done, states.failed),
        (4, 1, 1, 0)
    );
    assert_eq!(s.cancel_campaign(c.id, 400).await.unwrap(), 4);
    assert_eq!(s.cancel_campaign(c.id, 401).await.unwrap(), 0);
    let states = s.campaign_states(c.id).await.unwrap();
    assert_eq!(
        (states.queued, states.sent, states.done, states.cancelled),
        (0, 1, 1, 4)
    );
    let own = s.command("dev-2", own).await.unwrap().unwrap();
    assert_eq!(own.state, CommandState::Queued);

    let second = s
        .create_campaign(&devices[..1], &specs[..1], 500)
        .await
        .unwrap();
    let all = s.campaigns(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        [c.id, second.id]
    );
    let after = s.campaigns(Some(c.id), 10).await.unwrap();
    assert_eq!(after, [second]);
}

/// The dashboard's reads: queue counts and open sessions over an id range, and sessions and
/// command outcomes per minute.
pub async fn dashboard_activity_counts_by_device_and_minute(s: Arc<dyn Store>) {
    for id in ["dev-1", "dev-2", "dev-3", "dev-9"] {
        s.create_device(&new_device(id), 100).await.unwrap();
    }
    let a = s.enqueue("dev-1", &get("./A"), 110).await.unwrap();
    let b = s.enqueue("dev-1", &get("./B"), 110).await.unwrap();
    s.enqueue("dev-1", &get("./C"), 110).await.unwrap();
    let d2 = s.enqueue("dev-2", &get("./A"), 110).await.unwrap();
    s.enqueue("dev-9", &get("./A"), 110).await.unwrap();

    // dev-1: a session at 1000..1001 sends a and b; a is done, b failed at minute 16 (1001 s).
    let update = |id, state, status| CommandUpdate {
        id,
        state,
        status,
        results: None,
        children: None,
        session_id: Some("1F".to_owned()),
    };
    let mut tx = s.begin().await.unwrap();
    let changes = Changes {
        session: Some(session("1F", 1, b"open", None)),
        commands: vec![
            update(a, CommandState::Sent, None),
            update(b, CommandState::Sent, None),
        ],
        ..Default::default()
    };
    tx.apply("dev-1", &changes, 1001).await.unwrap();
    tx.commit().await.unwrap();

    let ids = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let act = s
        .device_activity(&ids(&["dev-1", "dev-2", "dev-3"]))
        .await
        .unwrap();
    let seen: Vec<_> = act
        .iter()
        .map(|a| (a.device_id.as_str(), a.queued, a.sent, a.open_session_at))
        .collect();
    assert_eq!(
        seen,
        [("dev-1", 1, 2, Some(1001)), ("dev-2", 1, 0, None)],
        "dev-3 has nothing; dev-9 was not asked for"
    );

    let mut tx = s.begin().await.unwrap();
    let changes = Changes {
        session: Some(session("1F", 2, b"", Some(1130))),
        commands: vec![
            update(a, CommandState::Done, Some(200)),
            update(b, CommandState::Failed, Some(404)),
        ],
        ..Default::default()
    };
    tx.apply("dev-1", &changes, 1130).await.unwrap();
    tx.commit().await.unwrap();
    let act = s.device_activity(&ids(&["dev-1"])).await.unwrap();
    assert_eq!(
        (act[0].queued, act[0].sent, act[0].open_session_at),
        (1, 0, None)
    );

    // Minutes: the session started at 1000 (minute 16 starts at 960); a and b ended at 1130
    // (minute 18 starts at 1080). The queued commands (updated_at 110) are not outcomes.
    let minutes = s.activity(900).await.unwrap();
    let got: Vec<_> = minutes
        .iter()
        .map(|m| (m.start, m.sessions, m.done, m.failed))
        .collect();
    assert_eq!(got, [(960, 1, 0, 0), (1080, 0, 1, 1)]);
    assert!(s.activity(2000).await.unwrap().is_empty());

    // A command dev-2 accepted for later (done, 202) is still read by its DM messages, but it is
    // neither queued nor sent.
    let mut tx = s.begin().await.unwrap();
    let changes = Changes {
        commands: vec![update(d2, CommandState::Done, Some(202))],
        ..Default::default()
    };
    tx.apply("dev-2", &changes, 1130).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(pending_ids(&*s, "dev-2").await, [d2]);
    assert!(s
        .device_activity(&ids(&["dev-2"]))
        .await
        .unwrap()
        .is_empty());
}

/// One message's command updates: several at once (one statement), one command changed twice
/// in the same message (applied in order), and a command of another device (left alone).
pub async fn command_updates_of_one_message(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    s.create_device(&new_device("dev-2"), 1).await.unwrap();
    let ids: Vec<i64> = {
        let mut v = Vec::new();
        for t in ["./a", "./b", "./c"] {
            v.push(s.enqueue("dev-1", &get(t), 2).await.unwrap());
        }
        v
    };
    let other = s.enqueue("dev-2", &get("./x"), 2).await.unwrap();
    let upd = |id, state, status: Option<u16>| CommandUpdate {
        id,
        state,
        status,
        results: None,
        children: None,
        session_id: Some("1".to_owned()),
    };
    // Distinct: one statement; dev-2's command is not dev-1's to change.
    let changes = Changes {
        commands: vec![
            upd(ids[0], CommandState::Sent, None),
            upd(ids[1], CommandState::Sent, None),
            upd(other, CommandState::Sent, None),
        ],
        audit: (0..3)
            .map(|i| audit_line(Some("dev-1"), &format!("e{i}")))
            .collect(),
        ..Changes::default()
    };
    let mut tx = s.begin().await.unwrap();
    tx.device("dev-1").await.unwrap();
    tx.apply("dev-1", &changes, 10).await.unwrap();
    tx.commit().await.unwrap();
    // The same command twice: the later update wins, the earlier status is kept where the later
    // has none.
    let changes = Changes {
        commands: vec![
            upd(ids[2], CommandState::Done, Some(200)),
            upd(ids[0], CommandState::Done, Some(200)),
            upd(ids[2], CommandState::Failed, None),
        ],
        ..Changes::default()
    };
    let mut tx = s.begin().await.unwrap();
    tx.apply("dev-1", &changes, 11).await.unwrap();
    tx.commit().await.unwrap();

    let c = |id| {
        let s = s.clone();
        async move { s.command("dev-1", id).await.unwrap().unwrap() }
    };
    let (a, b, cc) = (c(ids[0]).await, c(ids[1]).await, c(ids[2]).await);
    assert_eq!(
        (a.state, a.status, a.updated_at),
        (CommandState::Done, Some(200), 11)
    );
    assert_eq!(
        (b.state, b.status, b.updated_at),
        (CommandState::Sent, None, 10)
    );
    assert_eq!(b.session_id.as_deref(), Some("1"));
    assert_eq!((cc.state, cc.status), (CommandState::Failed, Some(200)));
    let o = s.command("dev-2", other).await.unwrap().unwrap();
    assert_eq!((o.state, o.updated_at), (CommandState::Queued, 2));
    let audit = s.audit_log(Some("dev-1"), 10).await.unwrap();
    let events: Vec<_> = audit.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(events, ["e0", "e1", "e2"]);
    assert!(audit.iter().all(|a| a.at == 10));
}

/// Every combination of what a message writes (device fields, session, command updates, audit
/// lines; PostgreSQL writes them in one statement, [`omadm_server`]'s `batch` module) lands
/// whole, and nothing else changes; an empty change writes nothing.
pub async fn writes_of_every_shape_land(s: Arc<dyn Store>) {
    for mask in 0u8..16 {
        let dev = format!("dev-{mask}");
        s.create_device(&new_device(&dev), 1).await.unwrap();
        let cmd = s.enqueue(&dev, &get("./a"), 2).await.unwrap();
        let (d, sess, cmds, aud) = (mask & 1 != 0, mask & 2 != 0, mask & 4 != 0, mask & 8 != 0);
        let at = 100 + i64::from(mask);
        let changes = Changes {
            device: DeviceUpdate {
                client_nonce: d.then(|| vec![mask, 1]),
                last_seen: d.then_some(at),
                ..DeviceUpdate::default()
            },
            session: sess.then(|| session("S1", 1, &[mask], None)),
            commands: if cmds {
                vec![CommandUpdate {
                    id: cmd,
                    state: CommandState::Done,
                    status: Some(200),
                    results: None,
                    children: None,
                    session_id: Some("S1".to_owned()),
                }]
            } else {
                Vec::new()
            },
            alerts: Vec::new(),
            audit: if aud {
                vec![audit_line(Some(&dev), "a1"), audit_line(Some(&dev), "a2")]
            } else {
                Vec::new()
            },
        };
        let mut tx = s.begin().await.unwrap();
        tx.device(&dev).await.unwrap().expect("enrolled");
        tx.apply(&dev, &changes, at).await.unwrap();
        tx.commit().await.unwrap();

        let stored = s.device(&dev).await.unwrap().unwrap();
        let want_nonce = if d { vec![mask, 1] } else { Vec::new() };
        assert_eq!(stored.client_nonce, want_nonce, "shape {mask:04b}");
        assert_eq!(stored.last_seen, d.then_some(at), "shape {mask:04b}");
        let sessions = s.sessions(&dev).await.unwrap();
        assert_eq!(sessions.len(), usize::from(sess), "shape {mask:04b}");
        if sess {
            assert_eq!(sessions[0].state, [mask], "shape {mask:04b}");
        }
        let c = s.command(&dev, cmd).await.unwrap().unwrap();
        let want = if cmds {
            (CommandState::Done, Some(200), at)
        } else {
            (CommandState::Queued, None, 2)
        };
        assert_eq!((c.state, c.status, c.updated_at), want, "shape {mask:04b}");
        let events: Vec<String> = s
            .audit_log(Some(&dev), 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.at == at)
            .map(|a| a.event)
            .collect();
        let want: &[&str] = if aud { &["a1", "a2"] } else { &[] };
        assert_eq!(events, want, "shape {mask:04b}");
    }
}

/// A message's pending commands: the queued and sent ones and those accepted for later (done
/// with 202, an Exec waiting for its Generic Alert), oldest first; nothing else of the history.
pub async fn pending_commands_are_queued_sent_and_accepted_in_order(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let ids: Vec<i64> = {
        let mut v = Vec::new();
        for i in 0..6 {
            v.push(
                s.enqueue("dev-1", &get(&format!("./N{i}")), 2)
                    .await
                    .unwrap(),
            );
        }
        v
    };
    let set = |id, state, status| CommandUpdate {
        id,
        state,
        status,
        results: None,
        children: None,
        session_id: Some("1".to_owned()),
    };
    let mut tx = s.begin().await.unwrap();
    let changes = Changes {
        session: Some(session("1", 1, b"s", None)),
        commands: vec![
            set(ids[0], CommandState::Done, Some(200)),
            set(ids[1], CommandState::Done, Some(202)),
            set(ids[2], CommandState::Failed, Some(404)),
            set(ids[3], CommandState::Sent, None),
        ],
        ..Default::default()
    };
    tx.apply("dev-1", &changes, 3).await.unwrap();
    tx.commit().await.unwrap();
    assert!(s.cancel_command("dev-1", ids[5], 4).await.unwrap());
    assert_eq!(pending_ids(&*s, "dev-1").await, [ids[1], ids[3], ids[4]]);
}

/// The ids of all `device`'s commands, oldest first.
pub async fn command_ids(s: &dyn Store, device: &str) -> Vec<i64> {
    let commands = s.commands(device).await.unwrap();
    commands.iter().map(|c| c.id).collect()
}

/// The ids of `device`'s pending commands, read through a transaction and again as a DM message
/// reads them (on a SQLite file, on its own connection): both must agree.
pub async fn pending_ids(s: &dyn Store, device: &str) -> Vec<i64> {
    let mut tx = s.begin().await.unwrap();
    let read: Vec<i64> = tx
        .pending_commands(device)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    drop(tx);
    let (_, seen) = message(s, device, 5, |input| {
        (None, input.pending.iter().map(|c| c.id).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    assert_eq!(seen, read, "a DM message reads what a transaction reads");
    read
}

/// Runs `f` as the work of one message of `device`, session "1F", at `now`; its value is `f`'s
/// second element.
pub async fn message<T: Send + 'static>(
    s: &dyn Store,
    device: &str,
    now: i64,
    f: impl FnOnce(MessageInput<'_>) -> (Option<Changes>, T) + Send + 'static,
) -> Result<(MessageDone, T), StoreError> {
    let work: MessageWork = Box::new(move |input| {
        let (changes, value) = f(input);
        WorkOutput {
            changes,
            value: Box::new(value),
        }
    });
    let mut done = s.message(device, "1F", now, work).await?;
    let value = std::mem::replace(&mut done.value, Box::new(()));
    Ok((done, *value.downcast::<T>().expect("the work's value")))
}

/// Store::message reads the device, its session and its pending commands, runs the work on
/// them, writes what it returns and commits: two messages of one session (issue 7: on SQLite
/// files this is the writer thread's path, elsewhere Store::begin's).
pub async fn message_reads_runs_and_writes(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let get_id = s.enqueue("dev-1", &get("./DevInfo/Mod"), 2).await.unwrap();
    let later = s
        .enqueue("dev-1", &get("./DevDetail/SwV"), 2)
        .await
        .unwrap();

    let (done, seen) = message(&*s, "dev-1", 50, move |input| {
        let seen = (
            input.device.map(|d| d.device_id.clone()),
            input.session.is_some(),
            input.pending.iter().map(|c| c.id).collect::<Vec<_>>(),
        );
        let changes = Changes {
            device: DeviceUpdate {
                client_nonce: Some(b"n1".to_vec()),
                devinfo: Some([("Mod".to_owned(), "sim".to_owned())].into()),
                last_seen: Some(50),
                ..DeviceUpdate::default()
            },
            session: Some(session("1F", 1, b"after-1", None)),
            commands: vec![CommandUpdate {
                id: get_id,
                state: CommandState::Sent,
                status: None,
                results: None,
                children: None,
                session_id: Some("1F".to_owned()),
            }],
            alerts: vec![NewAlert {
                code: 1226,
                correlator: None,
                items: vec![item("200")],
            }],
            audit: vec![audit_line(Some("dev-1"), "session.started")],
        };
        (Some(changes), seen)
    })
    .await
    .unwrap();
    assert_eq!(seen, (Some("dev-1".to_owned()), false, vec![get_id, later]));
    assert!(done.known && !done.had_session);
    assert_eq!(done.changes.as_ref().map(|c| c.commands.len()), Some(1));

    let (done, seen) = message(&*s, "dev-1", 60, move |input| {
        let d = input.device.expect("enrolled");
        let seen = (
            d.client_nonce.clone(),
            d.devinfo.get("Mod").cloned(),
            input.session.map(|s| (s.messages, s.state.clone())),
            input
                .pending
                .iter()
                .map(|c| (c.id, c.state))
                .collect::<Vec<_>>(),
        );
        let changes = Changes {
            session: Some(session("1F", 2, b"", Some(60))),
            commands: vec![CommandUpdate {
                id: get_id,
                state: CommandState::Done,
                status: Some(200),
                results: Some(vec![ResultItem {
                    source: Some("./DevInfo/Mod".to_owned()),
                    format: Some("chr".to_owned()),
                    type_: None,
                    data: Some("sim".to_owned()),
                }]),
                children: None,
                session_id: None,
            }],
            ..Changes::default()
        };
        (Some(changes), seen)
    })
    .await
    .unwrap();
    assert!(done.known && done.had_session);
    assert_eq!(
        seen,
        (
            b"n1".to_vec(),
            Some("sim".to_owned()),
            Some((1, b"after-1".to_vec())),
            vec![(get_id, CommandState::Sent), (later, CommandState::Queued)]
        )
    );

    let get_cmd = s.command("dev-1", get_id).await.unwrap().unwrap();
    assert_eq!(get_cmd.state, CommandState::Done);
    assert_eq!(get_cmd.status, Some(200));
    assert_eq!(get_cmd.session_id.as_deref(), Some("1F"));
    assert_eq!(get_cmd.results[0].data.as_deref(), Some("sim"));
    assert_eq!(get_cmd.updated_at, 60);
    let sessions = s.sessions("dev-1").await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!((sessions[0].messages, sessions[0].ended_at), (2, Some(60)));
    let alerts = s.alerts("dev-1").await.unwrap();
    assert_eq!((alerts.len(), alerts[0].session_id.as_str()), (1, "1F"));
    let dev = s.device("dev-1").await.unwrap().unwrap();
    assert_eq!(
        (dev.client_nonce.as_slice(), dev.last_seen),
        (&b"n1"[..], Some(50))
    );
    let log = s.audit_log(Some("dev-1"), 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].event.as_str(), log[0].at), ("session.started", 50));
}

/// A message of a device that is not enrolled writes its audit lines only; a work that returns
/// no changes writes nothing.
pub async fn message_of_unknown_device_writes_audit_only(s: Arc<dyn Store>) {
    let (done, saw_device) = message(&*s, "ghost", 7, |input| {
        let changes = Changes {
            device: DeviceUpdate {
                client_nonce: Some(b"x".to_vec()),
                ..DeviceUpdate::default()
            },
            audit: vec![audit_line(Some("ghost"), "auth.unknown_device")],
            ..Changes::default()
        };
        (
            Some(changes),
            input.device.is_some() || !input.pending.is_empty(),
        )
    })
    .await
    .unwrap();
    assert!(!saw_device && !done.known && !done.had_session);
    let log = s.audit_log(None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].device_id.as_deref(), Some("ghost"));
    assert!(s.device("ghost").await.unwrap().is_none());

    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let (done, ()) = message(&*s, "dev-1", 8, |_| (None, ())).await.unwrap();
    assert!(done.known && done.changes.is_none());
    assert!(s.sessions("dev-1").await.unwrap().is_empty());
    assert_eq!(s.audit_log(None, 10).await.unwrap().len(), 1);
}

/// Concurrent messages are serialised per database: each reads what the ones before it wrote,
/// even when several run in one transaction (the SQLite writer's group commit). Every message
/// of a device adds one to a counter kept in its session state; one message that panics fails
/// alone, with nothing of it written.
pub async fn concurrent_messages_see_each_other_and_a_panic_fails_alone(s: Arc<dyn Store>) {
    const DEVICES: usize = 8;
    const EACH: u32 = 25;
    for d in 0..DEVICES {
        s.create_device(&new_device(&format!("dev-{d}")), 1)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..(DEVICES as u32 * EACH + 1) {
        let s = s.clone();
        let device = format!("dev-{}", i as usize % DEVICES);
        let panics = i == DEVICES as u32 * EACH;
        tasks.push(tokio::spawn(async move {
            let id = device.clone();
            message(&*s, &id, i64::from(i), move |input| {
                let n = input.session.map_or(0, |s| {
                    u32::from_be_bytes(s.state.as_slice().try_into().expect("4 bytes"))
                });
                if panics {
                    panic!("the work of message {i} panics (on purpose)");
                }
                let changes = Changes {
                    session: Some(SessionRecord {
                        device_id: device.clone(),
                        ..session("1F", n + 1, &(n + 1).to_be_bytes(), None)
                    }),
                    audit: vec![audit_line(Some(&device), &format!("m-{i}"))],
                    ..Changes::default()
                };
                (Some(changes), n)
            })
            .await
            .map(|(_, n)| n)
        }));
    }
    let mut ok = 0;
    let mut panicked = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::WorkPanicked) => panicked += 1,
            Err(e) => panic!("unexpected store error: {e}"),
        }
    }
    assert_eq!((ok, panicked), (DEVICES as u32 * EACH, 1));
    for d in 0..DEVICES {
        let sessions = s.sessions(&format!("dev-{d}")).await.unwrap();
        assert_eq!(sessions[0].messages, EACH, "dev-{d}");
        assert_eq!(sessions[0].state, EACH.to_be_bytes());
    }
    assert_eq!(
        s.audit_log(None, 1000).await.unwrap().len(),
        DEVICES * EACH as usize
    );
    // The store goes on after the panic.
    let (done, ()) = message(&*s, "dev-0", 999, |_| {
        (
            Some(Changes {
                audit: vec![audit_line(Some("dev-0"), "after")],
                ..Changes::default()
            }),
            (),
        )
    })
    .await
    .unwrap();
    assert!(done.known);
}

/// A session's state through its life, by both of the store's paths (`Store::message`, and a
/// transaction of `Store::begin`): each message reads the state the one before it stored, a
/// running one and the settled one an ended session keeps (what answers a repeat of its last
/// message), and again a running one when the session goes on after its end (a device that
/// challenges the last answer). SQLite keeps a running session's state in a table of its own
/// (migration 0008); what a message reads is the same.
pub async fn session_state_is_read_back_through_its_life(s: Arc<dyn Store>) {
    s.create_device(&new_device("dev-1"), 1).await.unwrap();
    let steps: [(&[u8], Option<i64>); 4] = [
        (b"running-1", None),
        (b"running-2", None),
        (b"settled", Some(40)),
        (b"running-again", None),
    ];
    let mut before: Option<Vec<u8>> = None;
    for (n, (state, ended)) in (1u32..).zip(steps) {
        let rec = session("1F", n, state, ended);
        let through_message = n % 2 == 1;
        let seen = if through_message {
            let rec = rec.clone();
            let (_, seen) = message(&*s, "dev-1", 10 * i64::from(n), move |input| {
                let seen = input.session.map(|r| r.state.clone());
                let changes = Changes {
                    session: Some(rec),
                    ..Changes::default()
                };
                (Some(changes), seen)
            })
            .await
            .unwrap();
            seen
        } else {
            let mut tx = s.begin().await.unwrap();
            let seen = tx.session("dev-1", "1F").await.unwrap().map(|r| r.state);
            let changes = Changes {
                session: Some(rec),
                ..Changes::default()
            };
            tx.apply("dev-1", &changes, 10 * i64::from(n))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            seen
        };
        assert_eq!(
            seen,
            before,
            "message {n} reads what message {} stored",
            n - 1
        );
        before = Some(state.to_vec());
    }
    let mut tx = s.begin().await.unwrap();
    let last = tx.session("dev-1", "1F").await.unwrap().expect("stored");
    assert_eq!(last.state, b"running-again");
    assert_eq!((last.ended_at, last.messages), (None, 4));
    drop(tx);

    // Gone with its device.
    s.delete_device("dev-1").await.unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(tx.session("dev-1", "1F").await.unwrap().is_none());
}
