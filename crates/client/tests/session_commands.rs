//! Management commands through the session engine (DM Protocol 1.3 §5.5, §6, §10): every
//! command the server may send, Atomic and Sequence, Exec with an asynchronous result, RespURI,
//! package #1 and session abort both ways.

mod common;
mod scenario;

use common::*;
use omadm_client::session::{Event, GenericAlert, Initiator, Outcome, TreeChange};
use omadm_client::ui::AutoReject;
use omadm_client::{AsyncExec, SessionError};
use omadm_syncml::{AlertCode, Command, Data};
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::{ExecHandler, ExecOutcome};
use omadm_tree::Caller;
use scenario::*;

/// An Exec handler that starts a long job and reports later (202), or finishes at once.
struct Job {
    later: bool,
}

impl ExecHandler for Job {
    fn exec(&mut self, _: &str, _: &[u8], _: Option<&str>) -> Result<ExecOutcome, u16> {
        Ok(if self.later {
            ExecOutcome::Accepted
        } else {
            ExecOutcome::Done
        })
    }
}

/// The (Source LocURI, Data) of the items of a Results.
fn items(r: &omadm_syncml::Results) -> Vec<(String, Option<String>)> {
    r.items
        .iter()
        .map(|i| {
            (
                i.source
                    .as_ref()
                    .map_or(String::new(), |s| s.loc_uri.to_string()),
                i.data.as_ref().map(|d| d.to_text_lossy().into_owned()),
            )
        })
        .collect()
}

/// §6.3 (DM-PRO-Session-C-002, -003, -004): package #1 holds the session Alert (1201 when the
/// client starts, 1200 after a notification) and DevInfo in a Replace, one Item per DevInfo
/// leaf with its URI as Source, and Final; the SyncHdr has VerDTD 1.2, VerProto DM/1.3, the
/// SessionID (the notification's for 1200) and MaxMsgSize/MaxObjSize.
#[test]
fn dm_pro_session_c_002_003_004_package_1() {
    for (initiator, code, session_id) in [
        (Initiator::Client, 1201, "1"),
        (Initiator::Server, 1200, "4F2A"),
    ] {
        let mut cfg = config();
        cfg.initiator = initiator;
        cfg.session_id = session_id.into();
        let mut dev = Dev::new(device(Some("BASIC"), None), cfg);
        let m = dev.start();
        assert_eq!(m.hdr.ver_dtd, "1.2");
        assert_eq!(m.hdr.ver_proto, "DM/1.3");
        assert_eq!(m.hdr.session_id, session_id);
        assert_eq!(m.hdr.msg_id, "1");
        let meta = m.hdr.meta.as_ref().unwrap();
        assert_eq!(meta.max_msg_size_value(), Some(16 * 1024));
        assert_eq!(meta.max_obj_size_value(), Some(1024 * 1024));
        assert_eq!(alerts(&m), [code]);
        let Command::Replace(r) = &m.body.commands[1] else {
            panic!("DevInfo Replace expected");
        };
        let got: Vec<(String, Option<String>)> = r
            .items
            .iter()
            .map(|i| {
                (
                    i.source.as_ref().unwrap().loc_uri.to_string(),
                    i.data.as_ref().map(|d| d.to_text_lossy().into_owned()),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("./DevInfo/DevId".into(), Some(DEV_ID.into())),
                ("./DevInfo/Man".into(), Some("Device Factory, Inc.".into())),
                ("./DevInfo/Mod".into(), Some("SmartPhone2000".into())),
                ("./DevInfo/DmV".into(), Some("1.0.0.1".into())),
                ("./DevInfo/Lang".into(), Some("en-US".into())),
            ]
        );
        assert!(m.body.final_);
        assert_eq!(dev.last_out().url, SERVER_URI);
    }
}

/// §5.5/§6.5 (DM-PRO-C-006, DM-PRO-C-008, DM-PRO-C-009): Add (leaf and interior node), Replace,
/// Copy, Get (a value, `?list=Struct`, `?prop=ACL`), Delete, Get of what was deleted, Exec run
/// at once and Exec accepted for later, all in one package: one Status each in order, Results
/// right after the Status of their Get, the tree changed accordingly, and the accepted Exec
/// reported as an [`Event::AsyncExec`] with its Correlator.
#[test]
fn dm_pro_c_006_every_command_through_a_session() {
    let mut tree = device(Some("BASIC"), None);
    for uri in ["./Vendor/Run", "./Vendor/Now"] {
        tree.add(Caller::Device, uri, NodeFormat::Chr, None, b"")
            .unwrap();
    }
    let mut dev = Dev::new(tree, config());
    dev.plugins
        .register_exec("./Vendor/Run", Box::new(Job { later: true }))
        .unwrap();
    dev.plugins
        .register_exec("./Vendor/Now", Box::new(Job { later: false }))
        .unwrap();
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.extend([
        add("./Vendor/A", "a"),               // 4
        add_node("./Vendor/Dir"),             // 5
        replace("./Vendor/A", "a2"),          // 6
        copy("./Vendor/Dir/B", "./Vendor/A"), // 7
        get("./Vendor/Dir/B"),                // 8
        get("./Vendor/Dir?list=Struct"),      // 9
        get("./Vendor?prop=ACL"),             // 10
        delete("./Vendor/A"),                 // 11
        get("./Vendor/A"),                    // 12
        exec("./Vendor/Run", Some("corr-1")), // 13
        exec("./Vendor/Now", None),           // 14
    ]);
    let m = dev.answer(&server_msg(1, cmds, true));
    let got: Vec<String> = m
        .body
        .commands
        .iter()
        .skip(1)
        .map(|c| match c {
            Command::Status(s) => format!("{} {} {}", s.cmd, s.cmd_ref, s.data),
            Command::Results(r) => format!("Results {}", r.cmd_ref),
            other => other.name().to_owned(),
        })
        .collect();
    assert_eq!(
        got,
        [
            "Add 4 200",
            "Add 5 200",
            "Replace 6 200",
            "Copy 7 200",
            "Get 8 200",
            "Results 8",
            "Get 9 200",
            "Results 9",
            "Get 10 200",
            "Results 10",
            "Delete 11 200",
            "Get 12 404",
            "Exec 13 202",
            "Exec 14 200",
        ]
    );
    assert!(m.body.final_);
    let r = results(&m);
    assert_eq!(items(r[0]), [("./Vendor/Dir/B".into(), Some("a2".into()))]);
    let fmt = r[0].items[0]
        .meta
        .as_ref()
        .and_then(|m| m.format.as_deref());
    assert_eq!(fmt, Some("chr"), "§6.5: Results carry Format");
    let listed: Vec<String> = items(r[1]).into_iter().map(|(s, _)| s).collect();
    assert_eq!(listed, ["./Vendor/Dir", "./Vendor/Dir/B"]);
    let acl = items(r[2]);
    assert_eq!(acl[0].0, "./Vendor?prop=ACL");
    assert!(
        acl[0]
            .1
            .as_deref()
            .unwrap()
            .contains(&format!("Get={SERVER_ID}")),
        "{acl:?}"
    );
    // The Copy's Status names both ends.
    let copy_status = m
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd == "Copy" => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(copy_status.target_refs, ["./Vendor/Dir/B"]);
    assert_eq!(copy_status.source_refs, ["./Vendor/A"]);

    assert!(dev.events.contains(&Event::AsyncExec(AsyncExec {
        uri: "./Vendor/Run".into(),
        correlator: Some("corr-1".into()),
        cmd_id: "13".into(),
    })));
    assert_eq!(
        ended(dev.recv(&server_msg(2, answers_to(&m, 200), true))),
        Outcome::Completed
    );
    assert!(dev.value("./Vendor/A").is_none());
    assert_eq!(dev.value("./Vendor/Dir/B").unwrap(), b"a2");
}

/// §6.7.1.10 (DM-PRO-GAlert-C-004): the result of an Exec accepted with 202 goes to the server
/// in a later session's package #1 as a Generic Alert echoing the Exec's Correlator.
#[test]
fn dm_pro_galert_c_004_async_exec_result_echoes_correlator() {
    let mut cfg = config();
    cfg.session_id = "2".into();
    cfg.generic_alerts = vec![GenericAlert {
        correlator: Some("corr-1".into()),
        source: Some("./Vendor/Run".into()),
        alert_type: "org.openmobilealliance.dm.firmwareupdate.update".into(),
        format: "int".into(),
        data: "200".into(),
        ..GenericAlert::default()
    }];
    let mut dev = Dev::new(device(Some("BASIC"), None), cfg);
    let m = dev.start();
    assert_eq!(alerts(&m), [1201, 1226]);
    let Command::Alert(a) = &m.body.commands[2] else {
        panic!("Generic Alert expected");
    };
    assert_eq!(a.correlator.as_deref(), Some("corr-1"));
    let it = &a.items[0];
    assert_eq!(it.source.as_ref().unwrap().loc_uri, "./Vendor/Run");
    assert_eq!(it.data, Some(Data::from("200")));
}

/// §6.7 (DM-PRO-GAlert-C-001/-003, -002, -005, -006): package #1 carries each queued Generic
/// Alert as Alert 1226 with one Item: Meta Type (the alert type URN) and Format, Meta Mark when
/// the alert has one (and none otherwise: informational), Source LocURI when the alert is
/// about a management object, and none when it is not.
#[test]
fn dm_pro_galert_c_002_005_006_generic_alerts_in_package_1() {
    let mut cfg = config();
    cfg.generic_alerts = vec![
        GenericAlert {
            source: Some("./FUMO/1".into()),
            alert_type: "urn:oma:at:fumo:1.0:update".into(),
            format: "int".into(),
            mark: Some("critical".into()),
            data: "200".into(),
            ..GenericAlert::default()
        },
        GenericAlert {
            alert_type: "com.example.battery.low".into(),
            format: "chr".into(),
            data: "5%".into(),
            ..GenericAlert::default()
        },
    ];
    let mut dev = Dev::new(device(Some("BASIC"), None), cfg);
    let m = dev.start();
    assert_eq!(alerts(&m), [1201, 1226, 1226]);
    let generic: Vec<_> = m
        .body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Alert(a) if a.data.as_deref() == Some("1226") => Some(a),
            _ => None,
        })
        .collect();
    let (a, b) = (&generic[0].items, &generic[1].items);
    assert_eq!((a.len(), b.len()), (1, 1), "one Item each");
    let meta = a[0].meta.as_ref().expect("Meta");
    assert_eq!(meta.type_.as_deref(), Some("urn:oma:at:fumo:1.0:update"));
    assert_eq!(meta.format.as_deref(), Some("int"));
    assert_eq!(
        meta.more.as_ref().and_then(|x| x.mark.as_deref()),
        Some("critical")
    );
    assert_eq!(
        a[0].source.as_ref().map(|l| l.loc_uri.as_str()),
        Some("./FUMO/1")
    );
    assert_eq!(a[0].data, Some(Data::from("200")));
    let meta = b[0].meta.as_ref().expect("Meta");
    assert_eq!(meta.type_.as_deref(), Some("com.example.battery.low"));
    assert_eq!(meta.format.as_deref(), Some("chr"));
    assert_eq!(meta.more.as_ref().and_then(|x| x.mark.clone()), None);
    assert!(b[0].source.is_none(), "not tied to a management object");
    assert_eq!(b[0].data, Some(Data::from("5%")));
}

/// DM 1.3 §6.3, §6.8: package #1 carries the tree-change alert (1227 summary, or 1228 with one
/// Item per changed MO) and, for the MOs a DM 1.3 notification requested, Alert 1229 with each
/// instance as TNDS (Source = the instance root, Meta Format xml, Type the TNDS media type).
#[test]
fn dm13_package_1_tree_change_and_requested_mo_alerts() {
    let mut cfg = config();
    cfg.tree_change = Some(TreeChange::Unchanged);
    let m = Dev::new(device(Some("BASIC"), None), cfg).start();
    assert_eq!(alerts(&m), [1201, 1227]);

    let mut cfg = config();
    cfg.initiator = Initiator::Server;
    cfg.tree_change = Some(TreeChange::Changed(vec![
        "./FUMO".into(),
        "./Vendor".into(),
    ]));
    cfg.requested_mos = vec![
        "urn:oma:mo:oma-dm-devinfo:1.0".into(),
        "urn:x:none:1.0".into(),
    ];
    let m = Dev::new(device(Some("BASIC"), None), cfg).start();
    assert_eq!(
        alerts(&m),
        [1200, 1228, 1229],
        "no 1229 for an MO the device lacks"
    );
    let find = |code: &str| {
        m.body
            .commands
            .iter()
            .find_map(|c| match c {
                Command::Alert(a) if a.data.as_deref() == Some(code) => Some(a.clone()),
                _ => None,
            })
            .expect("alert")
    };
    let changed: Vec<_> = find("1228").items.iter().map(|i| i.data.clone()).collect();
    assert_eq!(
        changed,
        [Some(Data::from("./FUMO")), Some(Data::from("./Vendor"))]
    );
    let req = find("1229");
    assert_eq!(req.items.len(), 1);
    let it = &req.items[0];
    assert_eq!(
        it.source.as_ref().map(|l| l.loc_uri.as_str()),
        Some("./DevInfo")
    );
    let meta = it.meta.as_ref().expect("Meta");
    assert_eq!(meta.format.as_deref(), Some("xml"));
    assert_eq!(meta.type_.as_deref(), Some(omadm_tree::tnds::MIME_XML));
    let Some(Data::Text(xml)) = &it.data else {
        panic!("TNDS text expected");
    };
    assert!(xml.contains("<MgmtTree") && xml.contains("DevId"), "{xml}");
}

/// DM RepPro Atomic (DM-PRO-C-006): a child fails, so the Atomic answers 507, the children
/// that had succeeded 216, the failed one its own code, the ones after it 215 — and the tree is
/// exactly as before.
#[test]
fn dm_pro_c_006_atomic_failing_child_rolls_back_507_216() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    let before = dev.snapshot("./Vendor");
    let mut cmds = answers_to_pkg1(1);
    cmds.push(atomic(vec![
        add("./Vendor/X", "x"),        // 5
        replace("./Vendor/X", "y"),    // 6
        replace("./Vendor/Nope", "z"), // 7
        add("./Vendor/Y", "y"),        // 8
    ]));
    let m = dev.answer(&server_msg(1, cmds, true));
    assert_eq!(
        statuses(&m),
        [
            ("Atomic".into(), "4".into(), 507),
            ("Add".into(), "5".into(), 216),
            ("Replace".into(), "6".into(), 216),
            ("Replace".into(), "7".into(), 404),
            ("Add".into(), "8".into(), 215),
        ]
    );
    assert_eq!(dev.snapshot("./Vendor"), before);
    assert_eq!(
        ended(dev.recv(&server_msg(2, answers_to(&m, 200), true))),
        Outcome::Completed
    );
}

/// §10.2.2 (DM-PRO-UI-C-002) inside a Sequence, as in §11.1: the user says No to the 1101
/// confirmation, which answers 304 (§10.2.2: "If the answer is 'No', the status code 304 ...
/// is returned"); the Sequence itself ran (200) and the rest of it is bypassed with 215 (Not
/// executed). A command after the Sequence runs as usual.
#[test]
fn dm_pro_ui_c_002_sequence_rejected_confirmation_304_rest_215() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.ui = Box::new(AutoReject);
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(sequence(vec![
        confirm("Add the access point?"), // 5
        add("./Vendor/A", "a"),           // 6
        replace("./Vendor/A", "b"),       // 7
    ]));
    cmds.push(add("./Vendor/C", "c")); // 8
    let m = dev.answer(&server_msg(1, cmds, true));
    assert_eq!(
        statuses(&m),
        [
            ("Sequence".into(), "4".into(), 200),
            ("Alert".into(), "5".into(), 304),
            ("Add".into(), "6".into(), 215),
            ("Replace".into(), "7".into(), 215),
            ("Add".into(), "8".into(), 200),
        ]
    );
    assert!(dev.value("./Vendor/A").is_none());
    assert_eq!(dev.value("./Vendor/C").unwrap(), b"c");
    assert_eq!(
        ended(dev.recv(&server_msg(2, answers_to(&m, 200), true))),
        Outcome::Completed
    );
}

/// §6.2 / RepPro RespURI (DM-PRO-C-005): once the server names a RespURI, the next message
/// goes there, and keeps going there until another RespURI; the SyncHdr Target stays the
/// server's URI.
#[test]
fn dm_pro_c_005_resp_uri_redirects_next_message() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    assert_eq!(dev.last_out().url, SERVER_URI);
    assert_eq!(dev.session.url(), SERVER_URI);

    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    let mut m = server_msg(1, cmds, true);
    m.hdr.resp_uri = Some("http://dm.example/s/7".into());
    let m2 = dev.answer(&m);
    assert_eq!(dev.last_out().url, "http://dm.example/s/7");
    assert_eq!(dev.session.url(), "http://dm.example/s/7");
    assert_eq!(m2.hdr.target.loc_uri, SERVER_URI);

    let mut cmds = answers_to(&m2, 200);
    cmds.push(get("./Vendor/A"));
    let m3 = dev.answer(&server_msg(2, cmds, true));
    assert_eq!(
        dev.last_out().url,
        "http://dm.example/s/7",
        "kept without a new RespURI"
    );

    let mut cmds = answers_to(&m3, 200);
    cmds.push(delete("./Vendor/A"));
    let mut m = server_msg(3, cmds, true);
    m.hdr.resp_uri = Some("http://dm.example/s/8".into());
    let m4 = dev.answer(&m);
    assert_eq!(dev.last_out().url, "http://dm.example/s/8");
    assert_eq!(
        ended(dev.recv(&server_msg(4, answers_to(&m4, 200), true))),
        Outcome::Completed
    );
}

/// §6.1.2 (DM-PRO-Abort-C-002): Alert 1223 from the server ends the session: no answer (the
/// client SHOULD NOT respond), the commands of that message are not run (their statuses could
/// never be sent), and nothing more is accepted.
#[test]
fn dm_pro_abort_c_002_server_abort_ends_session() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    let m2 = dev.answer(&server_msg(1, cmds, true));
    let before = dev.snapshot("./Vendor");

    let mut cmds = answers_to(&m2, 200);
    cmds.push(add("./Vendor/B", "b"));
    cmds.push(alert(AlertCode::SESSION_ABORT));
    let sent = dev.sent.len();
    assert_eq!(
        ended(dev.recv(&server_msg(2, cmds, true))),
        Outcome::AbortedByServer
    );
    assert_eq!(dev.sent.len(), sent, "no answer to an abort");
    assert!(dev.events.contains(&Event::Aborted { by_server: true }));
    assert!(dev.session.is_ended());
    assert_eq!(dev.snapshot("./Vendor"), before);
    assert!(matches!(
        dev.recv(&server_msg(3, answers_to(&m2, 200), true)),
        Err(SessionError::Ended)
    ));
}

/// §6.1 (DM-PRO-Abort-C-001, -004, -005): the client aborts with Alert 1223 in a message with
/// Final (the next MsgID, same SessionID); whatever the server answers is ignored — the session
/// takes nothing more — and a second abort is refused.
#[test]
fn dm_pro_abort_c_001_004_005_client_abort() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(get("./DevInfo/Man"));
    let m2 = dev.answer(&server_msg(1, cmds, true));
    assert_eq!(results(&m2).len(), 1);

    let out = dev.session.abort(&mut dev.tree).unwrap();
    dev.sent.push(out);
    let abort = dev.last();
    assert_eq!(abort.hdr.msg_id, "3");
    assert_eq!(alerts(&abort), [1223]);
    assert_eq!(abort.body.commands.len(), 1);
    assert!(abort.body.final_, "DM-PRO-Abort-C-004");
    assert!(dev.session.is_ended());
    assert!(dev
        .session
        .take_events()
        .contains(&Event::Aborted { by_server: false }));

    // §6.1.2: the server answers with Status for the SyncHdr and the Alert; ignored.
    assert!(matches!(
        dev.recv(&server_msg(2, answers_to(&abort, 200), true)),
        Err(SessionError::Ended)
    ));
    assert!(matches!(
        dev.session.abort(&mut dev.tree),
        Err(SessionError::Ended)
    ));
}

/// §6.2: "The same SessionID MUST be used throughout the whole session": a server message
/// with another SessionID is refused, and nothing in it runs.
#[test]
fn dm_pro_c_005_other_session_id_refused() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    let mut m = server_msg(1, cmds, true);
    m.hdr.session_id = "2".into();
    assert!(matches!(
        dev.recv(&m),
        Err(SessionError::SessionIdMismatch { .. })
    ));
    assert!(dev.value("./Vendor/A").is_none());
}
