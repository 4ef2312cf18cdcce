//! `omadm device run` end to end: the real binary runs client-initiated DM 1.3 sessions over HTTP
//! against a scripted DM server on 127.0.0.1 ([`dm_server`], messages from [`dm_msgs`]). Each test
//! checks the device's tree after the run, the exit status, the printed lines, and every message
//! the client sent as the server recorded it. Test names carry the client SCR ids of
//! docs/conformance.md they prove.
//!
//! Every session is bounded: the client by `--max-messages` and its HTTP timeouts, the server
//! thread by its lifetime cap.

mod common;
#[path = "common/dm_msgs.rs"]
mod dm_msgs;
#[path = "common/dm_server.rs"]
mod dm_server;

use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

use common::{omadm, stderr, stdout};
use dm_msgs::*;
use dm_server::{DmServer, Reply, Request};
use omadm_client::agent::transport::ACCEPT_DM;
use omadm_client::agent::{DeviceConfig, DeviceDir, ExecHook};
use omadm_security::cred::{self, AuthScheme};
use omadm_security::hmac_header::{verify_mac, HmacHeader, MacAlgorithm};
use omadm_syncml::{AlertCode, Command, Data, Encoding, Message, Meta};
use omadm_tree::format::NodeFormat;
use omadm_tree::{Caller, Tree};

const CLCRED: &str = "./DMAcc/dm.example/AppAuth/1/AAuthData";
const SRVCRED: &str = "./DMAcc/dm.example/AppAuth/2/AAuthData";

// ---- the device ----

/// A device directory made by `omadm device init`, removed when dropped.
struct Dev {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

/// `omadm device init` for the server at `url` (`extra`: --auth, --encoding).
fn device(url: &str, extra: &[&str]) -> Dev {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("dev");
    let d = dir.to_str().expect("UTF-8 temp path");
    let mut args = vec![
        "device",
        "init",
        "--dir",
        d,
        "--device-id",
        DEV,
        "--server-url",
        url,
        "--server-id",
        SID,
        "--client-name",
        CL_NAME,
        "--client-secret",
        CL_SECRET,
        "--server-secret",
        SRV_SECRET,
        "--no-fumo",
    ];
    args.extend_from_slice(extra);
    let out = omadm(&args, None);
    assert!(out.status.success(), "init: {}", stderr(&out));
    Dev { _tmp: tmp, dir }
}

impl Dev {
    fn path(&self) -> &str {
        self.dir.to_str().expect("UTF-8 temp path")
    }

    /// `omadm device run --dir DIR --max-messages 50 extra...`.
    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec!["device", "run", "--dir", self.path()];
        if !extra.contains(&"--max-messages") {
            args.extend(["--max-messages", "50"]);
        }
        args.extend_from_slice(extra);
        omadm(&args, None)
    }

    /// Runs a session that must end normally; its stdout.
    fn run_ok(&self, extra: &[&str]) -> String {
        let out = self.run(extra);
        assert!(
            out.status.success(),
            "device run failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    fn tree(&self) -> Tree {
        Tree::load(&self.dir.join("tree.bin")).expect("tree.bin loads")
    }

    fn bytes(&self, uri: &str) -> Option<Vec<u8>> {
        self.tree().get(Caller::Device, uri).ok().map(|v| v.data)
    }

    fn leaf(&self, uri: &str) -> Option<String> {
        self.bytes(uri)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Changes device.toml.
    fn config(&self, f: impl FnOnce(&mut DeviceConfig)) {
        let d = DeviceDir::new(&self.dir);
        let mut c = d.load_config().expect("device.toml loads");
        f(&mut c);
        d.save_config(&c).expect("device.toml saves");
    }

    /// Adds leaves as the device (text/plain), their parents made as needed.
    fn add_leaves(&self, leaves: &[(&str, &str)]) {
        let d = DeviceDir::new(&self.dir);
        let mut lock = d
            .lock_tree(std::time::Duration::from_secs(5))
            .expect("tree lock");
        for (uri, value) in leaves {
            lock.tree_mut()
                .add(
                    Caller::Device,
                    uri,
                    NodeFormat::Chr,
                    Some("text/plain"),
                    value.as_bytes(),
                )
                .unwrap_or_else(|e| panic!("{uri}: {e}"));
        }
        lock.save().expect("tree saves");
    }
}

// ---- the server ----

fn messages(reqs: &[Request]) -> Vec<Message> {
    reqs.iter().map(|r| r.message().clone()).collect()
}

/// What every client message of a session must be (DM Protocol 1.3 §5.5, §6.2, §6.3; SyncML
/// HTTP binding as transport.rs sends it):
/// - one SessionID, MsgID counting from 1, VerDTD 1.2, VerProto DM/1.3, Target the server's
///   address, Source the device id;
/// - the first carries Alert 1201, DevInfo in a Replace, MaxMsgSize/MaxObjSize and Final
///   (DM-PRO-Session-C-002, -003, -004);
/// - no command but Status, Results, Alert and (package #1 only) the DevInfo Replace; every
///   Status has a MsgRef and a CmdRef; CmdIDs unique;
/// - POST with Content-Type of its encoding, Accept of both DM types, Accept-Charset utf-8,
///   Cache-Control no-store and a User-Agent.
fn check_session(reqs: &[Request], url: &str) {
    assert!(!reqs.is_empty(), "no request");
    let first = reqs[0].message();
    let session_id = first.hdr.session_id.clone();
    assert!(
        u16::from_str_radix(&session_id, 16).is_ok_and(|n| n > 0),
        "SessionID {session_id:?}"
    );
    assert_eq!(alerts(first)[..1], [1201], "package #1: Alert 1201");
    assert!(first.body.final_, "package #1: Final");
    let meta = first.hdr.meta.as_ref().expect("package #1 SyncHdr Meta");
    assert!(meta.max_msg_size_value().is_some() && meta.max_obj_size_value().is_some());
    let devinfo = first.body.commands.iter().find_map(|c| match c {
        Command::Replace(r) => Some(r),
        _ => None,
    });
    let devid = devinfo.and_then(|r| {
        r.items.iter().find(|i| {
            i.source
                .as_ref()
                .is_some_and(|s| s.loc_uri == "./DevInfo/DevId")
        })
    });
    assert_eq!(
        devid
            .and_then(|i| i.data.as_ref())
            .map(|d| d.to_text_lossy().into_owned()),
        Some(DEV.to_owned()),
        "package #1: DevInfo in a Replace"
    );
    for (i, r) in reqs.iter().enumerate() {
        let n = i + 1;
        let m = r.message();
        assert_eq!(m.hdr.session_id, session_id, "message {n}: SessionID");
        assert_eq!(m.hdr.msg_id, n.to_string(), "message {n}: MsgID");
        assert_eq!(m.hdr.ver_dtd, "1.2", "message {n}: VerDTD");
        assert_eq!(m.hdr.ver_proto, "DM/1.3", "message {n}: VerProto");
        assert_eq!(m.hdr.target.loc_uri, url, "message {n}: Target");
        assert_eq!(m.hdr.source.loc_uri, DEV, "message {n}: Source");
        let pkg1 = alerts(m).contains(&1201);
        let mut ids = std::collections::HashSet::new();
        for c in &m.body.commands {
            assert!(
                ids.insert(c.cmd_id().to_owned()),
                "message {n}: CmdID repeated"
            );
            match c {
                Command::Status(s) => {
                    assert!(!s.msg_ref.is_empty() && !s.cmd_ref.is_empty(), "{s:?}");
                    let code: u16 = s.data.parse().unwrap_or(0);
                    assert!((100..=599).contains(&code), "message {n}: Status {s:?}");
                }
                Command::Results(_) | Command::Alert(_) => {}
                Command::Replace(_) if pkg1 => {}
                other => panic!("message {n}: the client sent {}", other.name()),
            }
        }
        assert!(r.line.starts_with("POST "), "{}", r.line);
        let enc = r.encoding.expect("a SyncML body");
        assert_eq!(r.header("content-type"), Some(enc.content_type()));
        assert_eq!(r.header("accept"), Some(ACCEPT_DM));
        assert_eq!(r.header("accept-charset"), Some("utf-8"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(
            r.header("user-agent")
                .is_some_and(|u| u.starts_with("omadm-device/")),
            "User-Agent {:?}",
            r.header("user-agent")
        );
    }
}

/// The line `omadm device run` prints last.
fn summary(out: &str) -> &str {
    out.lines()
        .rev()
        .find(|l| l.starts_with("session "))
        .unwrap_or_else(|| panic!("no summary line in:\n{out}"))
}

fn has_line(out: &str, line: &str) {
    assert!(
        out.lines().any(|l| l == line),
        "no line {line:?} in:\n{out}"
    );
}

/// The usual device and server: a device authenticating with `auth` (basic, digest or hmac)
/// over XML, and `srv` playing [`Srv::next`].
fn setup(auth: &str, srv: Srv) -> (Dev, DmServer) {
    let server = DmServer::start(srv.handler());
    let dev = device(&server.url(), &["--auth", auth, "--encoding", "xml"]);
    (dev, server)
}

/// `./Mgmt` added by the server, which then grants itself Get on it: an interior node a server
/// adds without Replace on the parent gets the ACL `Add=<it>&Delete=<it>&Replace=<it>` (TND
/// §5.4), Get not included.
fn with_mgmt(more: Vec<Command>) -> Vec<Command> {
    let acl = format!("Add={SID}&Delete={SID}&Get={SID}&Replace={SID}");
    let mut cmds = vec![add_node("./Mgmt"), replace("./Mgmt?prop=ACL", &acl)];
    cmds.extend(more);
    cmds
}

// ---- authentication ----

/// DM Protocol 1.3 §9 with CLCRED BASIC (DM-PRO-C-001): package #1 carries
/// `Cred` syncml:auth-basic = B64(name:secret) and the user in no LocName; after the server's
/// 212 no further message carries credentials. The server's MD5 `Cred` (over the empty SRVCRED
/// nonce of a new device) is verified (212) and answered with a Chal holding the nonce for its
/// next session, which ends up in SRVCRED's AAuthData.
#[test]
fn e2e_dm_pro_c_001_basic_auth_in_package_1_until_212() {
    let srv = Srv::new(SrvAuth::Md5, vec![pkg(vec![get("./DevInfo/Man")])]);
    let (dev, server) = setup("basic", srv);
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 2);

    let c = m[0].hdr.cred.as_ref().expect("package #1 Cred");
    let meta = c.meta.as_ref().unwrap();
    assert_eq!(meta.type_.as_deref(), Some("syncml:auth-basic"));
    assert_eq!(meta.format.as_deref(), Some("b64"));
    assert_eq!(c.data, cred::basic(CL_NAME, CL_SECRET));
    assert!(m[1].hdr.cred.is_none(), "no Cred after 212");

    let st = hdr_status_of(&m[1]).expect("Status for the server's SyncHdr");
    assert_eq!(st.data, "212", "the server's MD5 Cred verified");
    let chal = &st.chal.as_ref().expect("a NextNonce for the server").meta;
    assert_eq!(chal.type_.as_deref(), Some("syncml:auth-md5"));
    let issued = unb64(chal.next_nonce().expect("NextNonce"));
    assert_eq!(answer_lines(&m[1]), ["Get 4 200", "Results 4"]);
    assert_eq!(result_text(&m[1], "4").as_deref(), Some("omadm"));

    has_line(&out, "the server accepted the client's credentials (212)");
    has_line(&out, "the server's credentials verified (Md5)");
    has_line(&out, "Get ./DevInfo/Man (CmdID 4): 200");
    let s = summary(&out);
    assert!(
        s.contains(&format!(
            "with {SID}: ended normally; 1 server command(s): 1 succeeded, 0 failed"
        )),
        "{s}"
    );
    assert!(
        s.starts_with(&format!("session {} ", m[0].hdr.session_id)),
        "{s}"
    );
    assert_eq!(dev.bytes(SRVCRED), Some(issued));
}

/// DM Protocol 1.3 §9.1/§9.4.2 with CLCRED DIGEST (DM-PRO-C-001): package #1 carries an MD5
/// digest over the stored (empty) nonce with the user in LocName; the server answers 401 with a
/// Chal (syncml:auth-md5, NextNonce); the client resends package #1 (MsgID 2, same SessionID,
/// same commands) with the digest over that nonce; the server's 212 carries the nonce for the
/// next session, which is kept in CLCRED AAuthData and used by package #1 of a second session
/// (with a new SessionID). The server's credentials of the second session use the nonce the
/// client gave it in the first.
#[test]
fn e2e_dm_pro_c_001_md5_401_challenge_resends_package_1_and_keeps_the_nonce() {
    let mut srv = Srv::new(SrvAuth::Md5, Vec::new());
    let mut session = 0;
    let server = DmServer::start(move |req| {
        let m = req.message();
        srv.observe(m);
        if m.hdr.msg_id == "1" {
            session += 1;
            srv.new_session(Vec::new());
        }
        match (session, m.hdr.msg_id.as_str()) {
            (1, "1") => {
                let chal = hdr_status_chal(m, 401, AuthScheme::Md5, b"nonce-A");
                srv.send(req, vec![chal], true)
            }
            (1, "2") => {
                let mut cmds = vec![hdr_status_chal(m, 212, AuthScheme::Md5, b"nonce-B")];
                cmds.extend(answers_to_commands(m));
                cmds.push(get("./DevInfo/DevId"));
                srv.send(req, cmds, true)
            }
            _ => srv.next(req),
        }
    });
    let dev = device(&server.url(), &["--auth", "digest", "--encoding", "xml"]);
    let out1 = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 3);

    let md5 = |nonce: &[u8]| cred::md5_digest(CL_NAME, CL_SECRET, nonce);
    let c0 = m[0].hdr.cred.as_ref().expect("package #1 Cred");
    assert_eq!(
        c0.meta.as_ref().and_then(|m| m.type_.as_deref()),
        Some("syncml:auth-md5")
    );
    assert_eq!(c0.data, md5(b""), "the stored (empty) nonce");
    assert_eq!(m[0].hdr.source.loc_name.as_deref(), Some(CL_NAME));
    // Package #1 again, with the digest over the challenge's nonce.
    assert_eq!(m[1].hdr.msg_id, "2");
    assert_eq!(m[1].hdr.cred.as_ref().unwrap().data, md5(b"nonce-A"));
    assert_eq!(
        m[1].body.commands, m[0].body.commands,
        "package #1 resent as it was"
    );
    assert!(m[1].body.final_);
    // Authenticated: no Cred any more; the Get answered.
    assert!(m[2].hdr.cred.is_none());
    assert_eq!(answer_lines(&m[2]), ["Get 4 200", "Results 4"]);
    assert_eq!(result_text(&m[2], "4").as_deref(), Some(DEV));
    has_line(&out1, "the server challenged the client (401) for Md5");
    has_line(&out1, "the server accepted the client's credentials (212)");
    assert!(summary(&out1).contains("ended normally"), "{out1}");
    assert_eq!(dev.bytes(CLCRED).as_deref(), Some(&b"nonce-B"[..]));
    let srv_nonce = dev.bytes(SRVCRED).expect("SRVCRED nonce kept");
    let issued = unb64(
        hdr_status_of(&m[2])
            .and_then(|s| s.chal.as_ref())
            .and_then(|c| c.meta.next_nonce())
            .expect("a NextNonce for the server"),
    );
    assert_eq!(srv_nonce, issued);

    // The next session starts with the kept nonce.
    let out2 = dev.run_ok(&[]);
    let reqs = server.requests();
    let second: Vec<Request> = reqs[3..].to_vec();
    check_session(&second, &server.url());
    let m2 = second[0].message();
    assert_ne!(
        m2.hdr.session_id, m[0].hdr.session_id,
        "§6.2: a new SessionID"
    );
    assert_eq!(m2.hdr.cred.as_ref().unwrap().data, md5(b"nonce-B"));
    has_line(&out2, "the server's credentials verified (Md5)");
    has_line(&out2, "the server accepted the client's credentials (212)");
}

/// DIGEST.md §3.5 with CLCRED and SRVCRED HMAC (DM-PRO-C-001): no Cred in any message; every
/// client message carries `x-syncml-hmac` (username = CLCRED name, SHA-256 in DM 1.3) over its
/// exact body with the latest nonce the server gave (the stored empty one first); every server
/// message is signed with the nonce the client gave it last, verified by the client (200 and a
/// fresh NextNonce each time). The last nonces are kept in CLCRED and SRVCRED.
#[test]
fn e2e_dm_pro_c_001_hmac_on_every_message_both_ways() {
    let mut srv = Srv::new(
        SrvAuth::Hmac,
        vec![
            pkg(with_mgmt(vec![add("./Mgmt/A", "a")])),
            pkg(vec![get("./Mgmt/A")]),
        ],
    );
    srv.client_chal = Some(AuthScheme::Hmac);
    let (dev, server) = setup("hmac", srv);
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    assert_eq!(reqs.len(), 3);
    for (i, r) in reqs.iter().enumerate() {
        let m = r.message();
        assert!(
            m.hdr.cred.is_none(),
            "message {}: HMAC is never in Cred",
            i + 1
        );
        assert_eq!(m.hdr.source.loc_name.as_deref(), Some(CL_NAME));
        let h = HmacHeader::parse(r.header("x-syncml-hmac").expect("x-syncml-hmac"))
            .expect("x-syncml-hmac parses");
        assert_eq!(h.username(), CL_NAME);
        assert_eq!(h.algorithm(), MacAlgorithm::Sha256);
        // Message n+1 answers server message n, whose Chal gave client_nonce(n).
        let nonce = if i == 0 {
            Vec::new()
        } else {
            client_nonce(i as u32)
        };
        assert!(
            verify_mac(&h, CL_SECRET, &nonce, &r.body).is_ok(),
            "message {}: MAC over nonce {:?}",
            i + 1,
            String::from_utf8_lossy(&nonce)
        );
        assert!(verify_mac(&h, CL_SECRET, b"other", &r.body).is_err());
        if i > 0 {
            let st = hdr_status_of(m).unwrap();
            assert_eq!(
                st.data,
                "200",
                "message {}: the server's MAC verified",
                i + 1
            );
            let chal = &st.chal.as_ref().expect("a fresh nonce every message").meta;
            assert_eq!(chal.type_.as_deref(), Some("syncml:auth-MAC"));
        }
    }
    let m = messages(&reqs);
    assert_eq!(
        answer_lines(&m[1]),
        ["Add 4 200", "Replace 5 200", "Add 6 200"]
    );
    assert_eq!(answer_lines(&m[2]), ["Get 2 200", "Results 2"]);
    assert_eq!(result_text(&m[2], "2").as_deref(), Some("a"));
    has_line(&out, "the server's credentials verified (Hmac)");
    assert_eq!(dev.leaf("./Mgmt/A").as_deref(), Some("a"));
    assert_eq!(dev.bytes(CLCRED), Some(client_nonce(3)));
    let last_issued = unb64(
        hdr_status_of(&m[2])
            .and_then(|s| s.chal.as_ref())
            .and_then(|c| c.meta.next_nonce())
            .unwrap(),
    );
    assert_eq!(dev.bytes(SRVCRED), Some(last_issued));
}

/// DM Protocol 1.3 §9.3 (DM-PRO-C-001): the server's first message has no Cred: the client
/// answers 407 with a Chal (syncml:auth-md5, a NextNonce) for its SyncHdr and 407 for each
/// command, none run. The server sends its package again with the MD5 digest over that nonce:
/// 212, the commands run.
#[test]
fn e2e_dm_pro_c_001_server_without_cred_is_challenged_407() {
    let mut srv = Srv::new(SrvAuth::Nothing, Vec::new());
    let server = DmServer::start(move |req| {
        let m = req.message();
        srv.observe(m);
        match m.hdr.msg_id.as_str() {
            "1" | "2" => {
                if m.hdr.msg_id == "2" {
                    srv.auth = SrvAuth::Md5;
                }
                let mut cmds = srv.answers(req);
                cmds.extend([add_node("./Mgmt"), add("./Mgmt/A", "a")]);
                srv.send(req, cmds, true)
            }
            _ => srv.next(req),
        }
    });
    let dev = device(&server.url(), &["--auth", "basic", "--encoding", "xml"]);
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 3);
    let st = hdr_status_of(&m[1]).unwrap();
    assert_eq!(st.data, "407");
    let chal = &st.chal.as_ref().expect("Chal").meta;
    assert_eq!(chal.type_.as_deref(), Some("syncml:auth-md5"));
    assert_eq!(chal.format.as_deref(), Some("b64"));
    assert!(chal.next_nonce().is_some());
    assert_eq!(answer_lines(&m[1]), ["Add 4 407", "Add 5 407"]);
    assert_eq!(hdr_code(&m[2]), Some(212));
    assert_eq!(answer_lines(&m[2]), ["Add 2 200", "Add 3 200"]);
    has_line(
        &out,
        "the server's credentials were missing or wrong: challenged it (407)",
    );
    has_line(&out, "the server's credentials verified (Md5)");
    assert_eq!(dev.leaf("./Mgmt/A").as_deref(), Some("a"));
}

/// DM Protocol 1.3 §9.3, DIGEST.md §3.3 (DM-PRO-C-001, DM-PRO-Abort-C-001): the server's MD5
/// credentials are wrong: 401 with a Chal, its command not run; wrong again: the client gives
/// up, aborts with Alert 1223 (Final) and exits 1. Nothing reached the tree.
#[test]
fn e2e_dm_pro_c_001_wrong_server_cred_twice_ends_the_session() {
    let srv = Srv::new(SrvAuth::WrongMd5, vec![pkg(vec![add_node("./Mgmt")])]);
    let (dev, server) = setup("digest", srv);
    let out = dev.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("the server failed to authenticate (status 401)"),
        "{}",
        stderr(&out)
    );
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 3);
    let st = hdr_status_of(&m[1]).unwrap();
    assert_eq!(st.data, "401");
    assert!(st.chal.as_ref().and_then(|c| c.meta.next_nonce()).is_some());
    assert_eq!(answer_lines(&m[1]), ["Add 4 401"]);
    assert_eq!(alerts(&m[2]), [1223]);
    assert!(m[2].body.final_);
    assert!(dev.leaf("./Mgmt").is_none());
    has_line(&stdout(&out), "the client aborted the session (1223)");
}

// ---- commands ----

/// DM Protocol 1.3 §5.5, §6.4-§6.5, §10 (DM-PRO-C-005, -006, -008, -009; DM-PRO-UI-C-001,
/// -002): Add (interior and leaf), Replace, Copy, Get of a value, of `?list=StructData` and of
/// `?prop=Format`, Delete, Get of the deleted node (404), Exec of a node bound to an `[[exec]]`
/// hook (the program gets the Item Data on stdin and the URI and Correlator in its
/// environment), a Display (1100) and a Confirm (1101) alert: one Status each in order, Results
/// after their Get with Source and Format, and the tree changed accordingly.
#[test]
fn e2e_dm_pro_c_005_006_008_every_command() {
    let srv = Srv::new(
        SrvAuth::Md5,
        // 4: Add ./Mgmt, 5: Replace its ACL
        vec![pkg(with_mgmt(vec![
            add("./Mgmt/A", "alpha"),                           // 6
            replace("./Mgmt/A", "beta"),                        // 7
            copy("./Mgmt/B", "./Mgmt/A"),                       // 8
            get("./Mgmt/B"),                                    // 9
            get("./Mgmt?list=StructData"),                      // 10
            get("./Mgmt/A?prop=Format"),                        // 11
            delete("./Mgmt/B"),                                 // 12
            get("./Mgmt/B"),                                    // 13
            exec("./Ext/Run", Some("reboot now"), Some("c-1")), // 14
            ui_alert(AlertCode::DISPLAY, "Updating"),           // 15
            ui_alert(AlertCode::CONFIRM_OR_REJECT, "OK?"),      // 16
        ]))],
    );
    let (dev, server) = setup("digest", srv);
    dev.config(|c| {
        c.exec.push(ExecHook {
            uri: "./Ext/Run".into(),
            program: "/bin/sh".into(),
            args: vec![
                "-c".into(),
                "cat > \"$OMADM_DIR/exec.stdin\"; \
                 printf '%s %s' \"$OMADM_EXEC_URI\" \"$OMADM_CORRELATOR\" > \"$OMADM_DIR/exec.env\""
                    .into(),
            ],
            async_: false,
            alert_type: None,
            mark: None,
            timeout_secs: Some(20),
        })
    });
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 2);
    let a = &m[1];
    assert_eq!(
        answer_lines(a),
        [
            "Add 4 200",
            "Replace 5 200",
            "Add 6 200",
            "Replace 7 200",
            "Copy 8 200",
            "Get 9 200",
            "Results 9",
            "Get 10 200",
            "Results 10",
            "Get 11 200",
            "Results 11",
            "Delete 12 200",
            "Get 13 404",
            "Exec 14 200",
            "Alert 15 200",
            "Alert 16 200",
        ]
    );
    assert!(a.body.final_);
    // Results: Source, Format, Data.
    let r = results(a);
    let it = &r[0].items[0];
    assert_eq!(it.source.as_ref().unwrap().loc_uri, "./Mgmt/B");
    assert_eq!(
        it.meta.as_ref().and_then(|m| m.format.as_deref()),
        Some("chr")
    );
    assert_eq!(it.data.as_ref().unwrap().as_bytes(), b"beta");
    let listed: Vec<(String, Option<String>)> = r[1]
        .items
        .iter()
        .map(|i| {
            (
                i.source.as_ref().unwrap().loc_uri.to_string(),
                i.data.as_ref().map(|d| d.to_text_lossy().into_owned()),
            )
        })
        .collect();
    assert!(
        listed.contains(&("./Mgmt/A".into(), Some("beta".into()))),
        "{listed:?}"
    );
    assert!(
        listed.contains(&("./Mgmt/B".into(), Some("beta".into()))),
        "{listed:?}"
    );
    assert!(listed.iter().any(|(u, _)| u == "./Mgmt"), "{listed:?}");
    let fmt = &r[2].items[0];
    assert_eq!(fmt.source.as_ref().unwrap().loc_uri, "./Mgmt/A?prop=Format");
    assert_eq!(fmt.data.as_ref().unwrap().as_bytes(), b"chr");
    // The Copy's Status names both ends.
    let copy_st = a
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd == "Copy" => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(copy_st.target_refs, ["./Mgmt/B"]);
    assert_eq!(copy_st.source_refs, ["./Mgmt/A"]);

    // The tree and the hook.
    assert_eq!(dev.leaf("./Mgmt/A").as_deref(), Some("beta"));
    assert!(dev.leaf("./Mgmt/B").is_none());
    let read = |f: &str| std::fs::read_to_string(dev.dir.join(f)).unwrap_or_default();
    assert_eq!(read("exec.stdin"), "reboot now");
    assert_eq!(read("exec.env"), "./Ext/Run c-1");

    for line in [
        "Add ./Mgmt (CmdID 4): 200",
        "Replace ./Mgmt/A (CmdID 7): 200",
        "Get ./Mgmt/B (CmdID 13): 404",
        "Exec ./Ext/Run (CmdID 14): 200",
        "Alert (CmdID 16): 200",
    ] {
        has_line(&out, line);
    }
    assert!(
        summary(&out).contains("13 server command(s): 12 succeeded, 1 failed"),
        "{out}"
    );
}

/// DM RepPro §Atomic, DIGEST.md §2.3 (DM-PRO-C-006): an Atomic whose third command fails
/// (Delete of a missing node, 404): the Atomic answers 507, the two that had succeeded 216, the
/// one after the failure 215, and the tree is as before the Atomic.
#[test]
fn e2e_dm_pro_c_006_atomic_rolls_back_507_216() {
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![
            pkg(vec![add_node("./Mgmt"), add("./Mgmt/A", "a")]),
            pkg(vec![atomic(vec![
                replace("./Mgmt/A", "changed"), // 3
                add("./Mgmt/C", "c"),           // 4
                delete("./Mgmt/Missing"),       // 5
                add("./Mgmt/D", "d"),           // 6
            ])]),
        ],
    );
    let (dev, server) = setup("digest", srv);
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 3);
    let mut got = answer_lines(&m[2]);
    got.sort();
    assert_eq!(
        got,
        [
            "Add 4 216",
            "Add 6 215",
            "Atomic 2 507",
            "Delete 5 404",
            "Replace 3 216"
        ]
    );
    assert_eq!(dev.leaf("./Mgmt/A").as_deref(), Some("a"));
    assert!(dev.leaf("./Mgmt/C").is_none());
    assert!(dev.leaf("./Mgmt/D").is_none());
    has_line(&out, "Atomic (CmdID 2): 507");
}

/// DM Protocol 1.3 §10.2.2 (DM-PRO-UI-C-002, DM-PRO-C-006) with `--ui auto-reject`: a 1101
/// confirmation inside a Sequence is rejected (304): the rest of the Sequence is skipped
/// (215), what ran before it stays.
#[test]
fn e2e_dm_pro_ui_c_002_sequence_rejected_confirmation_skips_the_rest_215() {
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![pkg(vec![
            add_node("./Mgmt"), // 4
            sequence(vec![
                add("./Mgmt/S1", "1"),                              // 6
                ui_alert(AlertCode::CONFIRM_OR_REJECT, "Install?"), // 7
                add("./Mgmt/S2", "2"),                              // 8
                replace("./Mgmt/S1", "x"),                          // 9
            ]), // 5
        ])],
    );
    let (dev, server) = setup("digest", srv);
    let out = dev.run_ok(&["--ui", "auto-reject"]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(
        answer_lines(&m[1]),
        [
            "Add 4 200",
            "Sequence 5 200",
            "Add 6 200",
            "Alert 7 304",
            "Add 8 215",
            "Replace 9 215"
        ]
    );
    assert_eq!(dev.leaf("./Mgmt/S1").as_deref(), Some("1"));
    assert!(dev.leaf("./Mgmt/S2").is_none());
    has_line(&out, "Alert (CmdID 7): 304");
}

/// The same with `--ui script FILE`: the first confirmation accepted, the second rejected, one
/// answer per interaction in order (DM-PRO-UI-C-002, DM-PRO-UI-C-006).
#[test]
fn e2e_dm_pro_ui_c_002_006_scripted_answers_in_order() {
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![pkg(vec![
            add_node("./Mgmt"), // 4
            sequence(vec![
                ui_alert(AlertCode::CONFIRM_OR_REJECT, "First?"), // 6
                add("./Mgmt/S1", "1"),                            // 7
            ]), // 5
            sequence(vec![
                ui_alert(AlertCode::CONFIRM_OR_REJECT, "Second?"), // 9
                add("./Mgmt/S2", "2"),                             // 10
            ]), // 8
        ])],
    );
    let (dev, server) = setup("digest", srv);
    let script = dev.dir.join("answers.txt");
    std::fs::write(&script, "# first, then second\naccept\nreject\n").unwrap();
    dev.run_ok(&["--ui", "script", script.to_str().unwrap()]);
    let m = messages(&server.requests());
    assert_eq!(
        answer_lines(&m[1]),
        [
            "Add 4 200",
            "Sequence 5 200",
            "Alert 6 200",
            "Add 7 200",
            "Sequence 8 200",
            "Alert 9 304",
            "Add 10 215"
        ]
    );
    assert_eq!(dev.leaf("./Mgmt/S1").as_deref(), Some("1"));
    assert!(dev.leaf("./Mgmt/S2").is_none());
}

/// DM Protocol 1.3 §6.2: RespURI in the server's SyncHdr moves the rest of the session to that
/// URI; SessionID and the MsgID count go on (DM-PRO-C-001, DM-PRO-C-005).
#[test]
fn e2e_resp_uri_moves_the_rest_of_the_session() {
    let mut srv = Srv::new(SrvAuth::Md5, Vec::new());
    let resp_uri: Arc<Mutex<String>> = Arc::default();
    let r2 = resp_uri.clone();
    let server = DmServer::start(move |req| {
        let m = req.message();
        srv.observe(m);
        if m.hdr.msg_id == "1" {
            let mut cmds = srv.answers(req);
            cmds.push(get("./DevInfo/Lang"));
            let mut msg = srv.message(m, cmds, true);
            msg.hdr.resp_uri = Some(r2.lock().unwrap().as_str().into());
            return srv.reply(req, &msg);
        }
        srv.next(req)
    });
    *resp_uri.lock().unwrap() = format!("{}/s/42", server.url());
    let dev = device(&server.url(), &["--encoding", "xml"]);
    dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].line, "POST /dm HTTP/1.1");
    assert_eq!(reqs[1].line, "POST /dm/s/42 HTTP/1.1");
    assert_eq!(
        result_text(reqs[1].message(), "4").as_deref(),
        Some("en-US")
    );
}

// ---- large objects ----

/// DM Protocol 1.3 §8 (DM-PRO-LO-C-002, -003, DM-PRO-Mul-C-002): the device announces
/// MaxMsgSize 2048 and MaxObjSize 4096; the server sends a 3 KiB Replace in three 1 KiB chunks,
/// one per message (Size on the first, MoreData on all but the last, no Final until the last):
/// 213 and Alert 1222 for the first two, 200 for the last. Nothing is committed before the last
/// chunk (tree.bin read by the server while the session runs); then the tree holds the whole
/// value.
#[test]
fn e2e_dm_pro_lo_c_002_003_replace_in_chunks_213_then_200() {
    const BLOB: &str = "./Mgmt/Blob";
    let value = text(3072, 7);
    let chunks = chunks_of(BLOB, &value, 1024);
    assert_eq!(chunks.len(), 3);
    let mut srv = Srv::new(
        SrvAuth::Md5,
        vec![
            part(vec![
                add_node("./Mgmt"),
                add(BLOB, "old"),
                chunks[0].clone(),
            ]),
            part(vec![chunks[1].clone()]),
            pkg(vec![chunks[2].clone()]),
        ],
    );
    let dir: Arc<Mutex<Option<PathBuf>>> = Arc::default();
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let (d2, s2) = (dir.clone(), seen.clone());
    let server = DmServer::start(move |req| {
        if let Some(d) = d2.lock().unwrap().as_ref() {
            if let Ok(t) = Tree::load(&d.join("tree.bin")) {
                let v = t.get(Caller::Device, BLOB).ok().map(|v| {
                    let s = String::from_utf8_lossy(&v.data).into_owned();
                    if s.len() > 8 {
                        format!("{} bytes", s.len())
                    } else {
                        s
                    }
                });
                s2.lock().unwrap().push(v);
            }
        }
        srv.next(req)
    });
    let dev = device(&server.url(), &["--encoding", "xml"]);
    dev.config(|c| {
        c.max_msg_size = 2048;
        c.max_obj_size = 4096;
    });
    *dir.lock().unwrap() = Some(dev.dir.clone());
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    let meta = m[0].hdr.meta.as_ref().unwrap();
    assert_eq!(meta.max_msg_size_value(), Some(2048));
    assert_eq!(meta.max_obj_size_value(), Some(4096));
    assert_eq!(m.len(), 4);
    assert_eq!(
        answer_lines(&m[1]),
        ["Add 4 200", "Add 5 200", "Replace 6 213", "Alert 1222"]
    );
    assert!(
        !m[1].body.final_,
        "DM-PRO-Mul-C-001: no Final before the server's"
    );
    // CmdID 2 of the server's later messages is its Status for the client's Alert 1222.
    assert_eq!(answer_lines(&m[2]), ["Replace 3 213", "Alert 1222"]);
    assert!(!m[2].body.final_);
    assert_eq!(answer_lines(&m[3]), ["Replace 3 200"]);
    assert!(m[3].body.final_);
    // What tree.bin held when each request arrived (saved before each answer was sent).
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            None,
            Some("old".into()),
            Some("old".into()),
            Some("3072 bytes".into()),
        ],
        "DM-PRO-LO-C-003: committed only after the last chunk"
    );
    assert_eq!(dev.leaf(BLOB).as_deref(), Some(value.as_str()));
    assert_eq!(
        out.lines()
            .filter(|l| *l == format!("chunk of {BLOB} buffered (213)"))
            .count(),
        2,
        "{out}"
    );
}

/// DM Protocol 1.3 §8 (DM-PRO-LO-C-007): with MaxObjSize 1024 in device.toml, package #1
/// announces it and a chunked Replace whose Size is 3072 gets 413; nothing is committed.
#[test]
fn e2e_dm_pro_lo_c_007_object_over_device_max_obj_size_413() {
    const BLOB: &str = "./Mgmt/Blob";
    let value = text(3072, 1);
    let chunks = chunks_of(BLOB, &value, 1024);
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![
            part(vec![add_node("./Mgmt"), chunks[0].clone()]),
            pkg(Vec::new()),
        ],
    );
    let (dev, server) = setup("digest", srv);
    dev.config(|c| c.max_obj_size = 1024);
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(
        m[0].hdr.meta.as_ref().and_then(Meta::max_obj_size_value),
        Some(1024)
    );
    assert_eq!(
        answer_lines(&m[1]),
        ["Add 4 200", "Replace 5 413", "Alert 1222"]
    );
    assert!(dev.leaf(BLOB).is_none());
    has_line(&out, "Replace ./Mgmt/Blob (CmdID 5): 413");
}

/// DM Protocol 1.3 §8 (DM-PRO-LO-C-004, -005, -006, -009): the server declares MaxMsgSize 1024
/// (and MaxObjSize 4096) and Gets a 3 KiB leaf: the Results goes in chunks, every client
/// message at most 1024 bytes, MoreData on all chunks but the last, Size 3072 on the first only,
/// nothing but Statuses between the chunks; the server answers each chunk 213 with Alert 1222
/// and puts the chunks together: exactly the value. A small Get in the same package is answered
/// whole.
#[test]
fn e2e_dm_pro_lo_c_004_005_009_large_results_in_chunks() {
    let value = text(3072, 11);
    let srv = Srv::new(SrvAuth::Md5, vec![pkg(vec![get("./Big"), get("./Small")])])
        .with_limits(Some(1024), Some(4096));
    let (dev, server) = setup("digest", srv);
    dev.add_leaves(&[("./Big", &value), ("./Small", "s")]);
    dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert!(m.len() >= 4, "{} messages", m.len());
    let mut chunks = Vec::new();
    let mut small = Vec::new();
    for (i, (r, msg)) in reqs.iter().zip(&m).enumerate().skip(1) {
        assert!(
            r.body.len() <= 1024,
            "message {}: {} bytes",
            i + 1,
            r.body.len()
        );
        assert!(
            !alerts(msg).contains(&1222),
            "the server's package was complete"
        );
        assert_eq!(msg.body.final_, i + 1 == m.len(), "Final on the last only");
        for res in results(msg) {
            match res.cmd_ref.as_str() {
                "4" => {
                    assert_eq!(res.items.len(), 1);
                    chunks.push(res.items[0].clone());
                }
                "5" => small.push(res.items[0].clone()),
                other => panic!("Results for {other}"),
            }
        }
        if results(msg).iter().any(|r| r.cmd_ref == "4")
            && chunks.last().is_some_and(|c| c.more_data)
        {
            // DM-PRO-LO-C-005: no new command with a chunk still to come.
            assert!(
                msg.body
                    .commands
                    .iter()
                    .all(|c| matches!(c, Command::Status(_) | Command::Results(_))),
                "message {}: {:?}",
                i + 1,
                answer_lines(msg)
            );
        }
    }
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let n = chunks.len();
    let mut whole = Vec::new();
    for (i, it) in chunks.iter().enumerate() {
        assert_eq!(it.more_data, i + 1 < n, "chunk {i}: MoreData");
        let size = it.meta.as_ref().and_then(Meta::size_value);
        assert_eq!(size, (i == 0).then_some(3072), "chunk {i}: Size");
        assert_eq!(it.source.as_ref().unwrap().loc_uri, "./Big");
        let data = it.data.as_ref().map_or(&[][..], Data::as_bytes);
        assert!(data.len() <= 1024);
        whole.extend_from_slice(data);
    }
    assert_eq!(whole, value.as_bytes(), "reassembled");
    assert_eq!(small.len(), 1);
    assert!(
        !small[0].more_data,
        "DM-PRO-LO-C-006: fits a message, not chunked"
    );
    assert_eq!(small[0].data.as_ref().unwrap().as_bytes(), b"s");
}

/// DM Protocol 1.3 §8 (DM-PRO-LO-C-008): the server declares MaxObjSize 1024: a Get of a 3 KiB
/// leaf answers 413 and no Results goes; a small Get beside it is answered as usual.
#[test]
fn e2e_dm_pro_lo_c_008_object_over_server_max_obj_size_413() {
    let srv = Srv::new(SrvAuth::Md5, vec![pkg(vec![get("./Big"), get("./Small")])])
        .with_limits(None, Some(1024));
    let (dev, server) = setup("digest", srv);
    dev.add_leaves(&[("./Big", &text(3072, 0)), ("./Small", "s")]);
    let out = dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 2);
    assert_eq!(answer_lines(&m[1]), ["Get 4 413", "Get 5 200", "Results 5"]);
    // The printed line should say 413 too: see
    // e2e_dm_pro_lo_c_008_printed_status_is_the_413_sent.
    assert!(summary(&out).contains("ended normally"), "{out}");
}

/// What `omadm device run` prints (and logs) for a Get answered 413 because of the server's
/// MaxObjSize must be the 413 sent, and the summary must count it as failed. Today the event is
/// taken before the 413 replaces the 200 (session/receive.rs: `execute` records the events,
/// `enforce_max_obj` changes the Status afterwards), so it prints 200.
#[test]
fn e2e_dm_pro_lo_c_008_printed_status_is_the_413_sent() {
    let srv = Srv::new(SrvAuth::Md5, vec![pkg(vec![get("./Big")])]).with_limits(None, Some(1024));
    let (dev, _server) = setup("digest", srv);
    dev.add_leaves(&[("./Big", &text(3072, 0))]);
    let out = dev.run_ok(&[]);
    has_line(&out, "Get ./Big (CmdID 4): 413");
    assert!(
        summary(&out).contains("1 server command(s): 0 succeeded, 1 failed"),
        "{out}"
    );
}

// ---- multiple messages ----

/// DM Protocol 1.3 §7.2 (DM-PRO-Mul-C-001, DM-PRO-C-008): the server declares MaxMsgSize 2048
/// and Gets 40 leaves: the client's package goes in several messages, each at most 2048 bytes,
/// Final on the last only, the Status for the server's SyncHdr first in each; the server answers
/// each non-final one with Alert 1222. Every Get gets its Status and Results once, in order.
#[test]
fn e2e_dm_pro_mul_c_001_answers_split_at_server_max_msg_size() {
    let leaves: Vec<(String, String)> = (0..40)
        .map(|i| (format!("./Many/N{i:02}"), text(64, i as u8)))
        .collect();
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![pkg(leaves.iter().map(|(u, _)| get(u)).collect())],
    )
    .with_limits(Some(2048), None);
    let (dev, server) = setup("digest", srv);
    let refs: Vec<(&str, &str)> = leaves
        .iter()
        .map(|(u, v)| (u.as_str(), v.as_str()))
        .collect();
    dev.add_leaves(&refs);
    dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert!(m.len() >= 4, "{} messages", m.len());
    let mut lines = Vec::new();
    for (i, (r, msg)) in reqs.iter().zip(&m).enumerate().skip(1) {
        assert!(
            r.body.len() <= 2048,
            "message {}: {} bytes",
            i + 1,
            r.body.len()
        );
        assert_eq!(
            msg.body.final_,
            i + 1 == m.len(),
            "message {}: Final",
            i + 1
        );
        assert!(matches!(&msg.body.commands[0], Command::Status(s) if s.cmd == "SyncHdr"));
        assert!(!alerts(msg).contains(&1222));
        // The client's 200s for the server's Alerts 1222 aside.
        lines.extend(
            answer_lines(msg)
                .into_iter()
                .filter(|l| !l.starts_with("Alert ")),
        );
        for res in results(msg) {
            let k: usize = res.cmd_ref.parse::<usize>().unwrap() - 4;
            let it = &res.items[0];
            assert!(!it.more_data);
            assert_eq!(it.source.as_ref().unwrap().loc_uri, leaves[k].0);
            assert_eq!(it.data.as_ref().unwrap().as_bytes(), leaves[k].1.as_bytes());
        }
    }
    let want: Vec<String> = (4..44)
        .flat_map(|id| [format!("Get {id} 200"), format!("Results {id}")])
        .collect();
    assert_eq!(lines, want);
}

/// DM Protocol 1.3 §7.2 (DM-PRO-Mul-C-002, DM-PRO-Mul-C-001): the server sends its package in
/// three messages, Final on the last only: the client answers each of the first two with its
/// Statuses and Alert 1222, without Final, and the last with Final; every command ran.
#[test]
fn e2e_dm_pro_mul_c_002_server_package_over_three_messages_gets_1222() {
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![
            part(with_mgmt(vec![add("./Mgmt/A", "a")])),
            part(vec![add("./Mgmt/B", "b")]),
            pkg(vec![add("./Mgmt/C", "c"), get("./Mgmt/A")]),
        ],
    );
    let (dev, server) = setup("digest", srv);
    dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let m = messages(&reqs);
    assert_eq!(m.len(), 4);
    assert_eq!(
        answer_lines(&m[1]),
        ["Add 4 200", "Replace 5 200", "Add 6 200", "Alert 1222"]
    );
    assert!(!m[1].body.final_);
    // CmdID 2 of the server's next messages is its Status for the client's Alert 1222.
    assert_eq!(answer_lines(&m[2]), ["Add 3 200", "Alert 1222"]);
    assert!(!m[2].body.final_);
    assert_eq!(answer_lines(&m[3]), ["Add 3 200", "Get 4 200", "Results 4"]);
    assert!(m[3].body.final_);
    for (u, v) in [("./Mgmt/A", "a"), ("./Mgmt/B", "b"), ("./Mgmt/C", "c")] {
        assert_eq!(dev.leaf(u).as_deref(), Some(v));
    }
}

// ---- abort ----

/// DM Protocol 1.3 §6.1 (DM-PRO-Abort-C-002): the server answers package #1 with Alert 1223:
/// the client stops at once (no further request), reports it and exits 1.
#[test]
fn e2e_dm_pro_abort_c_002_server_abort_stops_the_client() {
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![pkg(vec![alert(AlertCode::SESSION_ABORT)])],
    );
    let (dev, server) = setup("digest", srv);
    let out = dev.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    assert_eq!(reqs.len(), 1, "nothing sent after the abort");
    let so = stdout(&out);
    has_line(&so, "the server aborted the session (1223)");
    assert!(
        summary(&so).contains("aborted by the server (1223)"),
        "{so}"
    );
    assert!(
        stderr(&out).contains("aborted by the server (1223)"),
        "{}",
        stderr(&out)
    );
}

/// DM Protocol 1.3 §6.1 (DM-PRO-Abort-C-001, -004, -005): a server that never ends the session
/// (a Get in every package) against `--max-messages 3`: after its third message the client sends
/// Alert 1223 with Final, ignores the answer (nothing more is sent) and exits 1.
#[test]
fn e2e_dm_pro_abort_c_001_004_005_client_abort_after_max_messages() {
    let script = (0..10).map(|_| pkg(vec![get("./DevInfo/Man")])).collect();
    let srv = Srv::new(SrvAuth::Md5, script);
    let (dev, server) = setup("digest", srv);
    let out = dev.run(&["--max-messages", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("more than 3 messages"),
        "{}",
        stderr(&out)
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "three messages, the abort, nothing after");
    check_session(&reqs[..3], &server.url());
    let last = reqs[3].message();
    assert_eq!(last.hdr.session_id, reqs[0].message().hdr.session_id);
    // §6.2: MsgIDs without a gap; the abort takes the place of the message not sent.
    assert_eq!(last.hdr.msg_id, "4");
    assert!(alerts(last).contains(&1223), "{:?}", answer_lines(last));
    assert!(
        last.body.final_,
        "DM-PRO-Abort-C-004: the abort carries Final"
    );
    has_line(&stdout(&out), "the client aborted the session (1223)");
}

/// DM Protocol 1.3 §6.1.2 (DM-PRO-Abort-C-003), §6.2: when `--max-messages` cuts the session,
/// the answers to the server's last message (its Get's Status and Results) go with the abort,
/// which is message 4 (`Session::abort_instead_of`).
#[test]
fn e2e_dm_pro_abort_c_003_abort_after_max_messages_carries_the_pending_answers() {
    let script = (0..10).map(|_| pkg(vec![get("./DevInfo/Man")])).collect();
    let (dev, server) = setup("digest", Srv::new(SrvAuth::Md5, script));
    let out = dev.run(&["--max-messages", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    let last = reqs[3].message();
    // The server's third message held its Status for the SyncHdr (CmdID 1) and the Get (2).
    assert_eq!(answer_lines(last), ["Get 2 200", "Results 2", "Alert 1223"]);
}

/// DM Protocol 1.3 §6.1 (DM-PRO-Abort-C-001): the server's answer is not a SyncML message:
/// the client aborts with Alert 1223 (Final) and exits 1.
#[test]
fn e2e_dm_pro_abort_c_001_undecodable_server_message_client_aborts() {
    let mut srv = Srv::new(SrvAuth::Md5, Vec::new());
    let server = DmServer::start(move |req| {
        if req.n == 0 {
            return Reply::Bytes {
                body: b"<SyncML><SyncHdr>broken".to_vec(),
                content_type: "application/vnd.syncml.dm+xml".into(),
                hmac: None,
            };
        }
        srv.next(req)
    });
    let dev = device(&server.url(), &["--encoding", "xml"]);
    let out = dev.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("does not decode"), "{}", stderr(&out));
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    assert_eq!(reqs.len(), 2);
    let abort = reqs[1].message();
    assert_eq!(alerts(abort), [1223]);
    assert!(abort.body.final_);
}

// ---- encoding ----

/// DM over HTTP with WBXML (DM-PRO-C-009; SyncML HTTP binding): every request is WBXML with
/// Content-Type application/vnd.syncml.dm+wbxml, Accept of both DM types, Accept-Charset,
/// Cache-Control no-store and a User-Agent; the server's WBXML answers are understood and the
/// session runs its commands.
#[test]
fn e2e_dm_pro_c_009_wbxml_session_over_http() {
    let srv = Srv::new(
        SrvAuth::Md5,
        vec![pkg(with_mgmt(vec![
            add("./Mgmt/W", "wbxml value"),
            get("./Mgmt/W"),
        ]))],
    );
    let server = DmServer::start(srv.handler());
    let dev = device(&server.url(), &["--encoding", "wbxml"]);
    dev.run_ok(&[]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.encoding, Some(Encoding::Wbxml));
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.syncml.dm+wbxml")
        );
        assert!(
            r.body.first().is_some_and(|&b| b <= 3),
            "a WBXML version byte"
        );
        assert!(r
            .header("accept")
            .is_some_and(|a| a.contains("application/vnd.syncml.dm+wbxml")
                && a.contains("application/vnd.syncml.dm+xml")));
    }
    let m = messages(&reqs);
    assert_eq!(
        answer_lines(&m[1]),
        [
            "Add 4 200",
            "Replace 5 200",
            "Add 6 200",
            "Get 7 200",
            "Results 7"
        ]
    );
    assert_eq!(result_text(&m[1], "7").as_deref(), Some("wbxml value"));
    assert_eq!(dev.leaf("./Mgmt/W").as_deref(), Some("wbxml value"));
}

// ---- https ----

/// A certificate for 127.0.0.1 made now, and the rustls server configuration that presents it;
/// the PEM of the certificate (the device's extra trusted root).
fn tls_server_config() -> (Arc<rustls::ServerConfig>, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("self-signed certificate");
    let der = cert.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .expect("server certificate");
    (Arc::new(cfg), cert.cert.pem())
}

/// DM over HTTPS (HTTP Binding over TLS, rustls): with the server's CA in `ca_file` the session
/// runs as over http; without it the device refuses the unknown certificate and says so, and
/// sends nothing in the clear.
#[test]
fn e2e_https_session_with_the_servers_ca_and_refused_without() {
    let (tls, pem) = tls_server_config();
    let script = || {
        vec![pkg(vec![
            replace("./DevInfo/Lang", "fr"),
            get("./DevInfo/Man"),
        ])]
    };
    let mut srv = Srv::new(SrvAuth::Md5, script());
    // Every package #1 starts the same script again (keeping the nonce the device gave).
    let server = DmServer::start_tls(tls, move |req: &Request| {
        if req.msg.as_ref().is_some_and(|m| m.hdr.msg_id == "1") {
            srv.new_session(script());
        }
        srv.next(req)
    });
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let dev = device(&server.url(), &["--auth", "digest", "--encoding", "wbxml"]);

    // No trusted root for this server: the TLS handshake fails, the session does not start.
    let out = dev.run(&["--retries", "0"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains(&server.url()), "{}", stderr(&out));
    assert!(server.requests().is_empty(), "nothing got through TLS");

    let ca = dev.dir.join("server-ca.pem");
    std::fs::write(&ca, &pem).expect("CA file");
    let out = dev.run_ok(&["--ca", ca.to_str().expect("UTF-8")]);
    let reqs = server.requests();
    check_session(&reqs, &server.url());
    has_line(&out, "Get ./DevInfo/Man (CmdID 5): 200");
    // DevInfo is Get-only for servers: the Replace is refused, over TLS as over http.
    has_line(&out, "Replace ./DevInfo/Lang (CmdID 4): 425");

    // The same through device.toml's ca_file.
    dev.config(|c| c.ca_file = Some(ca.clone()));
    let out = dev.run_ok(&[]);
    has_line(&out, "Get ./DevInfo/Man (CmdID 5): 200");
}
