//! End to end over loopback HTTP: what a server pushes to `omadm device listen` (Sessionless
//! Command Messages, OMA DM Sessionless 1.3, SCR B.1 DM-SM-C-001..007; package #0 notifications,
//! DM-PRO-Session-C-001) and what `omadm device report` sends (Sessionless Reporting 1.3,
//! DM-SR-C-001..008) to a scripted DM server. `device_cli.rs` already proves the basics (a signed
//! Replace applied, a MAC made with a wrong secret or no MAC refused, junk 400, 415, a report's
//! shape); these are the cases it does not. Every socket is on 127.0.0.1, every wait bounded.

mod common;
#[path = "common/dm_server.rs"]
mod dm_server;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{omadm, stderr};
use dm_server::{DmServer, Reply, Request};
use omadm_client::agent::{DeviceDir, ExecHook};
use omadm_security::bootstrap::{self, dmacc_document, SecMethod, Secrets};
use omadm_security::cred;
use omadm_security::hmac_header::{verify_mac, HmacHeader, MacAlgorithm};
use omadm_syncml::{
    AlertCode, Chal, Command as Cmd, Cred, Data, Exec, Item, ItemCommand, Location, Message, Meta,
    Status, SyncBody, SyncHdr,
};
use omadm_tree::stdobj::{AppAuth, DmAcc};
use omadm_tree::{tnds, Caller, Tree};

const DEV: &str = "IMEI:493005100592800";
const SID: &str = "dm.example";
const CL_NAME: &str = "device";
const CL_SECRET: &str = "dev-secret";
const SRV_SECRET: &str = "srv-secret";
const NETWORK_SECRET: &str = "234150000000001";
const OTHER: &str = "other.example";
const OTHER_SECRET: &str = "other-secret";
const WBXML: &str = "application/vnd.syncml.dm+wbxml";
const NOTIFICATION: &str = "application/vnd.syncml.notification";
const WAIT: Duration = Duration::from_secs(20);

// ---- the device ----

fn init(dir: &Path, server_url: &str, extra: &[&str]) {
    let d = dir.to_str().expect("UTF-8 temp path");
    let mut args = vec![
        "device",
        "init",
        "--dir",
        d,
        "--device-id",
        DEV,
        "--server-url",
        server_url,
        "--server-id",
        SID,
        "--client-name",
        CL_NAME,
        "--client-secret",
        CL_SECRET,
        "--server-secret",
        SRV_SECRET,
    ];
    args.extend_from_slice(extra);
    let out = omadm(&args, None);
    assert!(out.status.success(), "init: {}", stderr(&out));
}

/// `device.toml` edited: the bootstrap network secret and the given Exec hooks.
fn configure(dir: &Path, exec: Vec<ExecHook>) {
    let d = DeviceDir::new(dir);
    let mut config = d.load_config().unwrap();
    config.bootstrap.network_secret = Some(NETWORK_SECRET.into());
    config.exec = exec;
    d.save_config(&config).unwrap();
}

fn tree_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("tree.bin")).expect("tree.bin")
}

fn tree(dir: &Path) -> Tree {
    Tree::load(&dir.join("tree.bin")).expect("tree.bin loads")
}

fn leaf(dir: &Path, uri: &str) -> Option<String> {
    tree(dir)
        .get(Caller::Device, uri)
        .ok()
        .map(|v| String::from_utf8_lossy(&v.data).into_owned())
}

fn raw_leaf(dir: &Path, uri: &str) -> Option<Vec<u8>> {
    tree(dir).get(Caller::Device, uri).ok().map(|v| v.data)
}

/// Polls `f` until it is true, at most [`WAIT`].
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- the push receiver ----

/// `omadm device listen` on a free loopback port; killed when dropped.
struct Listening {
    child: Child,
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Listening {
    fn start(dir: &Path) -> Listening {
        Listening::start_with(dir, &[])
    }

    fn start_with(dir: &Path, extra: &[&str]) -> Listening {
        let mut child = Command::new(env!("CARGO_BIN_EXE_omadm"))
            .args(["device", "listen", "--dir"])
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn omadm device listen");
        let out = child.stdout.take().expect("stdout piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let keep = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line.clone());
                keep.lock().unwrap().push(line);
            }
        });
        // Built before the first line is awaited, so that a failure still kills the child.
        let mut l = Listening {
            child,
            addr: "127.0.0.1:1".parse().unwrap(),
            lines,
        };
        let first = rx.recv_timeout(WAIT).expect("listen prints its address");
        l.addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        l
    }

    fn post(&self, content_type: &str, headers: &[(&str, String)], body: &[u8]) -> Answer {
        http_post(self.addr, content_type, headers, body)
    }

    /// A WBXML (or XML) DM message with an `x-syncml-hmac` of `user`/`secret` (empty nonce, as
    /// after init and bootstrap).
    fn push(&self, content_type: &str, body: &[u8], user: &str, secret: &str) -> Answer {
        self.post(
            content_type,
            &[("x-syncml-hmac", sign(body, user, secret))],
            body,
        )
    }

    fn has_line(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    fn wait_line(&self, needle: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.has_line(needle) {
            assert!(
                Instant::now() < deadline,
                "no line with {needle:?} in {:?}",
                self.lines.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status, head (lower case), body.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Sessionless 1.3 §5.6 (DM-SM-C-007): the HTTP answer carries no DM message.
    fn assert_no_dm_message(&self) {
        assert!(
            !self.head.contains("application/vnd.syncml"),
            "{}",
            self.head
        );
        assert!(!self.text().contains("SyncML"), "{}", self.text());
        assert!(Message::decode(&self.body).is_err(), "{}", self.text());
    }
}

fn http_post(
    addr: SocketAddr,
    content_type: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Answer {
    let mut s = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    let mut req = format!(
        "POST /push HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read the answer");
    let end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("bad answer {:?}", String::from_utf8_lossy(&resp)));
    let head = String::from_utf8_lossy(&resp[..end]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {head:?}"));
    Answer {
        status,
        head,
        body: resp[end + 4..].to_vec(),
    }
}

/// `x-syncml-hmac`: HMAC-SHA256 over `body`, the nonce empty.
fn sign(body: &[u8], user: &str, secret: &str) -> String {
    HmacHeader::sign(MacAlgorithm::Sha256, user, secret, b"", body)
        .unwrap()
        .to_header_value()
}

/// A bootstrap (SEC=NETWORKID) of an account `node` for `server_id`, whose SRVCRED is
/// `server_id`/`secret`, pushed through the listener.
fn bootstrap_account(l: &Listening, node: &str, server_id: &str, secret: &str) {
    let acc = DmAcc {
        node: node.into(),
        server_id: server_id.into(),
        name: None,
        pref_con_ref: None,
        addrs: vec![(format!("https://{server_id}/dm"), "URI".into(), vec![])],
        aauth_pref: None,
        auths: vec![AppAuth {
            level: "SRVCRED".into(),
            auth_type: "DIGEST".into(),
            name: server_id.into(),
            secret: secret.into(),
            data: Vec::new(),
        }],
    };
    let secrets = Secrets {
        network_secret: Some(NETWORK_SECRET.as_bytes()),
        pin: None,
    };
    let (wbxml, ct) =
        bootstrap::build(&dmacc_document(&acc), SecMethod::NetworkId, &secrets).unwrap();
    let a = l.post(&ct, &[], &wbxml);
    assert_eq!(a.status, 200, "bootstrap of {node}: {}", a.text());
}

// ---- sessionless command messages ----

/// A Sessionless Command Message (Sessionless 1.3 §5.2) from `source`; CmdIDs numbered from 1.
fn sessionless(source: &str, mut commands: Vec<Cmd>, final_: bool) -> Message {
    for (i, c) in commands.iter_mut().enumerate() {
        let id = (i + 1).to_string();
        match c {
            Cmd::Add(x) | Cmd::Replace(x) | Cmd::Delete(x) | Cmd::Get(x) | Cmd::Copy(x) => {
                x.cmd_id = id.into()
            }
            Cmd::Exec(e) => e.cmd_id = id.into(),
            _ => unreachable!("not used here"),
        }
    }
    Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.3".into(),
            session_id: "1".into(),
            msg_id: "1".into(),
            target: Location::new(DEV),
            source: Location::new(source),
            ..SyncHdr::default()
        },
        body: SyncBody { commands, final_ },
    }
}

fn item_cmd(uri: &str, meta: Option<Meta>, data: Option<Data>) -> ItemCommand {
    ItemCommand {
        meta,
        items: vec![Item {
            data,
            ..Item::target(uri)
        }],
        ..ItemCommand::default()
    }
}

fn add_node(uri: &str) -> Cmd {
    let meta = Meta {
        format: Some("node".into()),
        ..Meta::default()
    };
    Cmd::Add(item_cmd(uri, Some(meta), None))
}

fn add(uri: &str, value: &str) -> Cmd {
    Cmd::Add(item_cmd(
        uri,
        Some(Meta::format_type("chr", "text/plain")),
        Some(Data::Text(value.into())),
    ))
}

fn replace(uri: &str, value: &str) -> Cmd {
    Cmd::Replace(item_cmd(
        uri,
        Some(Meta::format_type("chr", "text/plain")),
        Some(Data::Text(value.into())),
    ))
}

fn delete(uri: &str) -> Cmd {
    Cmd::Delete(item_cmd(uri, None, None))
}

fn get(uri: &str) -> Cmd {
    Cmd::Get(item_cmd(uri, None, None))
}

fn exec(uri: &str, data: &str) -> Cmd {
    Cmd::Exec(Exec {
        items: vec![Item {
            data: Some(Data::Text(data.into())),
            ..Item::target(uri)
        }],
        ..Exec::default()
    })
}

/// A device with its account (dm.example) and, bootstrapped through the listener, a second
/// server's (other.example); the listener running.
fn device_with_two_servers(tmp: &Path, exec: Vec<ExecHook>) -> (std::path::PathBuf, Listening) {
    let dir = tmp.join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &[]);
    configure(&dir, exec);
    let l = Listening::start(&dir);
    bootstrap_account(&l, "other", OTHER, OTHER_SECRET);
    assert_eq!(leaf(&dir, "./DMAcc/other/ServerID").as_deref(), Some(OTHER));
    (dir, l)
}

#[test]
fn e2e_dm_sm_c_001_005_007_add_replace_delete_exec_applied_with_the_senders_acl_no_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let ran = tmp.path().join("exec.out");
    let hook = ExecHook {
        uri: "./Hooks/Run".into(),
        program: "/bin/sh".into(),
        args: vec![
            "-c".into(),
            format!("cat >> '{}'; echo >> '{}'", ran.display(), ran.display()),
        ],
        async_: false,
        alert_type: None,
        mark: None,
        timeout_secs: Some(15),
    };
    let (dir, l) = device_with_two_servers(tmp.path(), vec![hook]);

    // DM-SM-C-001: Add (interior and leaf), Replace, Delete, Exec from dm.example, applied.
    let body = sessionless(
        SID,
        vec![
            add_node("./Vendor"),
            add("./Vendor/Setting", "one"),
            add("./Vendor/Gone", "x"),
            replace("./FUMO/1/PkgName", "fw-3.0"),
            delete("./Vendor/Gone"),
            exec("./Hooks/Run", "run-by-dm"),
        ],
        true,
    )
    .to_wbxml();
    let a = l.push(WBXML, &body, SID, SRV_SECRET);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.text().contains("from dm.example applied"), "{}", a.text());
    // DM-SM-C-007: no DM answer, over HTTP or otherwise.
    a.assert_no_dm_message();
    assert_eq!(leaf(&dir, "./Vendor/Setting").as_deref(), Some("one"));
    assert_eq!(leaf(&dir, "./Vendor/Gone"), None);
    assert_eq!(leaf(&dir, "./FUMO/1/PkgName").as_deref(), Some("fw-3.0"));
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "run-by-dm\n");
    for line in [
        "sessionless: accepted from dm.example (./DMAcc/dm.example)",
        "sessionless: Add ./Vendor -> 200",
        "sessionless: Add ./Vendor/Setting -> 200",
        "sessionless: Replace ./FUMO/1/PkgName -> 200",
        "sessionless: Delete ./Vendor/Gone -> 200",
        "sessionless: Exec ./Hooks/Run -> 200",
    ] {
        l.wait_line(line);
    }

    // DM-SM-C-005: the same kind of commands from other.example run with *its* rights. ./Vendor
    // was created by dm.example without Replace on the root, so only dm.example may change it;
    // the hook node is Exec=dm.example; FUMO belongs to dm.example. Each gets 425, the message
    // is still accepted (it verified) and nothing changes.
    let body = sessionless(
        OTHER,
        vec![
            replace("./Vendor/Setting", "evil"),
            add("./Vendor/Planted", "evil"),
            delete("./FUMO/1/PkgName"),
            exec("./Hooks/Run", "run-by-other"),
            add("./OtherOwn", "mine"),
        ],
        true,
    )
    .to_wbxml();
    let a = l.push(WBXML, &body, OTHER, OTHER_SECRET);
    assert_eq!(a.status, 200, "{}", a.text());
    a.assert_no_dm_message();
    for line in [
        "sessionless: accepted from other.example (./DMAcc/other)",
        "sessionless: Replace ./Vendor/Setting -> 425",
        "sessionless: Add ./Vendor/Planted -> 425",
        "sessionless: Delete ./FUMO/1/PkgName -> 425",
        "sessionless: Exec ./Hooks/Run -> 425",
        // The root is Add=*: other.example may add there.
        "sessionless: Add ./OtherOwn -> 200",
    ] {
        l.wait_line(line);
    }
    assert_eq!(leaf(&dir, "./Vendor/Setting").as_deref(), Some("one"));
    assert_eq!(leaf(&dir, "./Vendor/Planted"), None);
    assert_eq!(leaf(&dir, "./FUMO/1/PkgName").as_deref(), Some("fw-3.0"));
    assert_eq!(leaf(&dir, "./OtherOwn").as_deref(), Some("mine"));
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "run-by-dm\n");

    // And dm.example still may.
    let body = sessionless(SID, vec![replace("./Vendor/Setting", "two")], true).to_wbxml();
    let a = l.push(WBXML, &body, SID, SRV_SECRET);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(leaf(&dir, "./Vendor/Setting").as_deref(), Some("two"));
}

/// Posts `body` and checks it is refused with `status` and `reason`, tree.bin byte-identical.
fn assert_refused(
    l: &Listening,
    dir: &Path,
    content_type: &str,
    body: &[u8],
    hmac: Option<String>,
    status: u16,
    reason: &str,
) {
    let before = tree_bytes(dir);
    let headers: Vec<(&str, String)> = hmac.into_iter().map(|h| ("x-syncml-hmac", h)).collect();
    let a = l.post(content_type, &headers, body);
    assert_eq!(a.status, status, "{reason}: {}", a.text());
    assert!(a.text().contains(reason), "{reason}: {}", a.text());
    a.assert_no_dm_message();
    assert_eq!(tree_bytes(dir), before, "{reason}: tree.bin changed");
    wait_until(&format!("the rejection of {reason:?} logged"), || {
        l.lines
            .lock()
            .unwrap()
            .iter()
            .any(|x| x.starts_with("sessionless: rejected: ") && x.contains(reason))
    });
}

#[test]
fn e2e_dm_sm_c_004_no_dmacc_match_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &[]);
    let l = Listening::start(&dir);
    // A stranger signing with a secret it chose, and one claiming a ServerID that differs from
    // dm.example only in case: neither names an account.
    for source in ["stranger.example", "DM.EXAMPLE"] {
        let body = sessionless(source, vec![replace("./FUMO/1/PkgName", "evil")], true).to_wbxml();
        assert_refused(
            &l,
            &dir,
            WBXML,
            &body,
            Some(sign(&body, source, "anything")),
            403,
            &format!("no DMAcc account has ServerID \"{source}\""),
        );
    }
    assert_eq!(leaf(&dir, "./FUMO/1/PkgName").as_deref(), Some(""));
}

#[test]
fn e2e_dm_sm_c_004_two_dmacc_matches_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &[]);
    configure(&dir, Vec::new());
    let l = Listening::start(&dir);
    // Before: one account, accepted.
    let body = sessionless(SID, vec![replace("./FUMO/1/PkgName", "ok")], true).to_wbxml();
    assert_eq!(l.push(WBXML, &body, SID, SRV_SECRET).status, 200);
    // A second account with the same ServerID (and the same SRVCRED, so the MAC verifies
    // against either): the message is ambiguous and refused.
    bootstrap_account(&l, "dup", SID, SRV_SECRET);
    assert_eq!(leaf(&dir, "./DMAcc/dup/ServerID").as_deref(), Some(SID));
    let body = sessionless(SID, vec![replace("./FUMO/1/PkgName", "evil")], true).to_wbxml();
    assert_refused(
        &l,
        &dir,
        WBXML,
        &body,
        Some(sign(&body, SID, SRV_SECRET)),
        403,
        "2 DMAcc accounts have ServerID \"dm.example\"",
    );
    assert_eq!(leaf(&dir, "./FUMO/1/PkgName").as_deref(), Some("ok"));
}

#[test]
fn e2e_dm_sm_c_001_bad_mac_get_no_final_or_xml_rejected_tree_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &[]);
    let l = Listening::start(&dir);
    let good = sessionless(SID, vec![replace("./FUMO/1/PkgName", "evil")], true);
    let good_body = good.to_wbxml();

    // §5.5/§5.6 integrity: the right key over other bytes (a body altered in transit).
    let other = sessionless(SID, vec![replace("./FUMO/1/PkgName", "fine")], true).to_wbxml();
    assert_refused(
        &l,
        &dir,
        WBXML,
        &good_body,
        Some(sign(&other, SID, SRV_SECRET)),
        403,
        "message MAC does not verify",
    );
    // A MAC under a name that is not the account's SRVCRED AAuthName.
    assert_refused(
        &l,
        &dir,
        WBXML,
        &good_body,
        Some(sign(&good_body, "device", SRV_SECRET)),
        403,
        "is not the account's SRVCRED AAuthName",
    );
    // MD5 instead of HMAC-SHA256.
    let md5 = HmacHeader::sign(MacAlgorithm::Md5, SID, SRV_SECRET, b"", &good_body)
        .unwrap()
        .to_header_value();
    assert_refused(
        &l,
        &dir,
        WBXML,
        &good_body,
        Some(md5),
        403,
        "is not SHA-256",
    );
    // §5.2: "The GET command MUST NOT be included", signed correctly.
    let body = sessionless(
        SID,
        vec![replace("./FUMO/1/PkgName", "evil"), get("./DevInfo/DevId")],
        true,
    )
    .to_wbxml();
    assert_refused(
        &l,
        &dir,
        WBXML,
        &body,
        Some(sign(&body, SID, SRV_SECRET)),
        400,
        "Get command \"2\" is not allowed",
    );
    // §5.2: "The Final element MUST be used".
    let body = sessionless(SID, vec![replace("./FUMO/1/PkgName", "evil")], false).to_wbxml();
    assert_refused(
        &l,
        &dir,
        WBXML,
        &body,
        Some(sign(&body, SID, SRV_SECRET)),
        400,
        "SyncBody has no Final",
    );
    // §5.2: WBXML only; the same message in XML, signed, under either media type.
    let xml = good.to_xml().unwrap();
    for ct in ["application/vnd.syncml.dm+xml", WBXML] {
        assert_refused(
            &l,
            &dir,
            ct,
            &xml,
            Some(sign(&xml, SID, SRV_SECRET)),
            400,
            "must be WBXML encoded",
        );
    }
    assert_eq!(leaf(&dir, "./FUMO/1/PkgName").as_deref(), Some(""));
    // The good one still goes through.
    let a = l.push(WBXML, &good_body, SID, SRV_SECRET);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(leaf(&dir, "./FUMO/1/PkgName").as_deref(), Some("evil"));
}

const CONN_MO: &str = "urn:oma:mo:ext-conn:1.0";

/// A TNDS object (DM TNDS 1.2) of one Conn MO instance `name`.
fn conn_tnds(name: &str, value: &str) -> String {
    format!(
        r#"<MgmtTree xmlns="syncml:dmddf1.2">
  <VerDTD>1.2</VerDTD>
  <Node>
    <NodeName>{name}</NodeName>
    <RTProperties>
      <ACL>Add=dm.example&amp;Get=*&amp;Replace=dm.example</ACL>
      <Format><node/></Format>
      <Type><DDFName>{CONN_MO}</DDFName></Type>
    </RTProperties>
    <Node>
      <NodeName>Name</NodeName>
      <RTProperties><Format><chr/></Format></RTProperties>
      <Value>{value}</Value>
    </Node>
  </Node>
</MgmtTree>"#
    )
}

/// Add to ./Inbox of a TNDS object, XML (Data text) or WBXML (Data opaque).
fn add_tnds(doc: &str, wbxml: bool) -> Cmd {
    let (type_, data) = if wbxml {
        let t = tnds::decode(doc.as_bytes(), &Default::default()).unwrap();
        (tnds::MIME_WBXML, Data::Opaque(tnds::to_wbxml(&t)))
    } else {
        (tnds::MIME_XML, Data::Text(doc.into()))
    };
    Cmd::Add(item_cmd(
        "./Inbox",
        Some(Meta::format_type("xml", type_)),
        Some(data),
    ))
}

#[test]
fn e2e_dm_sm_c_002_003_tnds_objects_via_inbox_land_in_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &[]);
    let l = Listening::start(&dir);
    let body = sessionless(
        SID,
        vec![
            add_tnds(&conn_tnds("ConnX", "from-xml"), false),
            add_tnds(&conn_tnds("ConnW", "from-wbxml"), true),
        ],
        true,
    )
    .to_wbxml();
    let a = l.push(WBXML, &body, SID, SRV_SECRET);
    assert_eq!(a.status, 200, "{}", a.text());
    a.assert_no_dm_message();
    let t = tree(&dir);
    for (node, value) in [("./ConnX", "from-xml"), ("./ConnW", "from-wbxml")] {
        let n = t.get(Caller::Device, node).unwrap();
        assert_eq!(n.type_, CONN_MO, "{node}");
        assert_eq!(
            t.get(Caller::Device, &format!("{node}/Name")).unwrap().data,
            value.as_bytes()
        );
    }
    // DM-SM-C-003: the Inbox placed the objects and keeps nothing itself.
    assert!(raw_leaf(&dir, "./Inbox").unwrap_or_default().is_empty());
    let (_, inbox) = t.resolve("./Inbox").unwrap();
    assert!(t.children(inbox).is_empty());
    l.wait_line("sessionless: Add ./Inbox -> 200");
}

#[test]
fn e2e_dm_sm_c_006_virtual_uri_addresses_the_one_instance() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &[]);
    let l = Listening::start(&dir);
    // ./FUMO/1 is the only instance of urn:oma:mo:oma-fumo:1.0.
    let body = sessionless(
        SID,
        vec![replace("urn:oma:mo:oma-fumo:1.0/x/PkgName", "by-moid")],
        true,
    )
    .to_wbxml();
    let a = l.push(WBXML, &body, SID, SRV_SECRET);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(leaf(&dir, "./FUMO/1/PkgName").as_deref(), Some("by-moid"));
    l.wait_line("sessionless: Replace ./FUMO/1/PkgName -> 200");
    // An MO the device does not have: the whole message is refused.
    let body = sessionless(
        SID,
        vec![
            replace("./FUMO/1/PkgVersion", "9"),
            replace("urn:oma:mo:ext-none:1.0/x/Name", "b"),
        ],
        true,
    )
    .to_wbxml();
    assert_refused(
        &l,
        &dir,
        WBXML,
        &body,
        Some(sign(&body, SID, SRV_SECRET)),
        400,
        "names 0 MO instances",
    );
}

// ---- server-alerted sessions ----

/// A server message of the scripted session.
fn server_msg(session_id: &str, msg_id: u32, cred: Option<Cred>, commands: Vec<Cmd>) -> Message {
    let mut commands = commands;
    for (i, c) in commands.iter_mut().enumerate() {
        let id = (i + 1).to_string();
        match c {
            Cmd::Status(s) => s.cmd_id = id.into(),
            Cmd::Replace(x) => x.cmd_id = id.into(),
            _ => unreachable!("not used here"),
        }
    }
    Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.3".into(),
            session_id: session_id.into(),
            msg_id: msg_id.to_string().into(),
            target: Location::new(DEV),
            source: Location::new(SID),
            cred: cred.map(Box::new),
            ..SyncHdr::default()
        },
        body: SyncBody {
            commands,
            final_: true,
        },
    }
}

/// The server's Status for each command of client message `m` (the SyncHdr's `hdr_code`, with
/// a Chal carrying `next_nonce` for the client when given; 200 for the others but Statuses).
fn statuses_for(m: &Message, hdr_code: u16, next_nonce: Option<&str>) -> Vec<Cmd> {
    let chal = next_nonce.map(|n| {
        Box::new(Chal {
            meta: Meta::format_type("b64", "syncml:auth-md5").with_next_nonce(n),
        })
    });
    let mut out = vec![Cmd::Status(Status {
        msg_ref: m.hdr.msg_id.clone(),
        cmd_ref: "0".into(),
        cmd: "SyncHdr".into(),
        target_refs: vec![m.hdr.target.loc_uri.clone()],
        source_refs: vec![m.hdr.source.loc_uri.clone()],
        chal,
        data: hdr_code.to_string().into(),
        ..Status::default()
    })];
    for c in &m.body.commands {
        if matches!(c, Cmd::Status(_) | Cmd::Results(_)) {
            continue;
        }
        out.push(Cmd::Status(Status {
            msg_ref: m.hdr.msg_id.clone(),
            cmd_ref: c.cmd_id().into(),
            cmd: c.name().into(),
            data: "200".into(),
            ..Status::default()
        }));
    }
    out
}

/// The server's MD5 credentials toward the client: SRVCRED over the nonce the client gave it
/// (none yet after init).
fn server_md5_cred() -> Cred {
    Cred {
        meta: Some(Meta::format_type("b64", "syncml:auth-md5")),
        data: cred::md5_digest(SID, SRV_SECRET, b"").into(),
    }
}

fn alert_codes(m: &Message) -> Vec<u16> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Cmd::Alert(a) => a.code().map(|c| c.0),
            _ => None,
        })
        .collect()
}

/// The client's nonce the scripted server hands out (b64 of `next-for-client`).
const CLIENT_NONCE: &[u8] = b"next-for-client";

/// Holds package #1 at the server until the test releases it: the session is then running
/// and has not changed the tree yet.
struct Gate {
    arrived: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
}

/// A server for one DM session: package #1 (Alert 1200 or 1201) is answered with the server's
/// MD5 Cred, 212 + a NextNonce for the client, Statuses and `commands` (after the `gate`, when
/// given, opens); any later session message with the Statuses alone (ending the session); a
/// Sessionless Report (SessionID 0) with HTTP 200.
fn session_server(commands: Vec<Cmd>, gate: Option<Gate>) -> DmServer {
    let nonce = base64::engine::general_purpose::STANDARD.encode(CLIENT_NONCE);
    DmServer::start(move |req: &Request| {
        let Some(m) = req.msg.as_ref() else {
            return Reply::Status(400);
        };
        if m.hdr.session_id == "0" {
            return Reply::Status(200);
        }
        let pkg1 = alert_codes(m).iter().any(|&c| {
            c == AlertCode::SERVER_INITIATED_MGMT.0 || c == AlertCode::CLIENT_INITIATED_MGMT.0
        });
        if pkg1 {
            if let Some(g) = &gate {
                let _ = g.arrived.send(());
                let _ = g.release.recv_timeout(WAIT);
            }
            let mut cmds = statuses_for(m, 212, Some(&nonce));
            cmds.extend(commands.iter().cloned());
            Reply::msg(server_msg(
                &m.hdr.session_id,
                1,
                Some(server_md5_cred()),
                cmds,
            ))
        } else {
            Reply::msg(server_msg(
                &m.hdr.session_id,
                2,
                None,
                statuses_for(m, 200, None),
            ))
        }
    })
}

/// A DM 1.2 package #0 from dm.example built by `omadm notify build`, its digest over the
/// server nonce `nonce` (SRVCRED AAuthData).
fn notification(dir: &Path, session_id: &str, nonce: &[u8]) -> Vec<u8> {
    notification_with(dir, session_id, nonce, "not-specified")
}

fn notification_with(dir: &Path, session_id: &str, nonce: &[u8], ui_mode: &str) -> Vec<u8> {
    let out_path = dir.join("pkg0.bin");
    let nonce_b64 = base64::engine::general_purpose::STANDARD.encode(nonce);
    let out = omadm(
        &[
            "notify",
            "build",
            "--server-id",
            SID,
            "--password",
            SRV_SECRET,
            "--nonce-b64",
            &nonce_b64,
            "--session-id",
            session_id,
            "--ui-mode",
            ui_mode,
            "-o",
            out_path.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read(&out_path).unwrap()
}

/// §4.1 ui-mode (DM-PRO-Session-C-001): `11` user interaction asks the user before connecting,
/// and a refusal means no session (200, said why); `10` informative tells the user and connects
/// (202).
#[test]
fn e2e_dm_pro_session_c_001_ui_mode_user_interaction_asks_first() {
    let tmp = tempfile::tempdir().unwrap();
    let server = DmServer::start(|_| Reply::Status(500));
    let dir = tmp.path().join("dev");
    init(&dir, &server.url(), &[]);
    let l = Listening::start_with(&dir, &["--ui", "auto-reject"]);
    let pkg0 = notification_with(tmp.path(), "2B", b"", "user-interaction");
    let a = l.post(NOTIFICATION, &[], &pkg0);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.text().contains("declined"), "{}", a.text());
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.requests().is_empty(), "no session after a refusal");
    drop(l);

    let l = Listening::start_with(&dir, &["--ui", "auto-accept"]);
    let pkg0 = notification_with(tmp.path(), "2C", b"", "user-interaction");
    let a = l.post(NOTIFICATION, &[], &pkg0);
    assert_eq!(a.status, 202, "{}", a.text());
    assert!(
        server.wait_requests(1, WAIT),
        "the accepted session connects"
    );
    let pkg0 = notification_with(tmp.path(), "2D", b"", "informative");
    let a = l.post(NOTIFICATION, &[], &pkg0);
    assert_eq!(a.status, 202, "{}", a.text());
    l.wait_line("the user is told");
}

fn log_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
}

#[test]
fn e2e_dm_pro_session_c_001_notification_starts_a_1200_session_once() {
    let (arrived_tx, arrived) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let server = session_server(
        vec![replace("./FUMO/1/PkgName", "fw-session")],
        Some(Gate {
            arrived: arrived_tx,
            release: release_rx,
        }),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, &server.url(), &[]);
    let l = Listening::start(&dir);
    let pkg0 = notification(tmp.path(), "1A2B", b"");

    let a = l.post(NOTIFICATION, &[], &pkg0);
    assert_eq!(a.status, 202, "{}", a.text());
    assert!(a.text().contains("session 1A2B"), "{}", a.text());
    arrived
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("no package #1 at the server; log: {}", log_text(&dir)));
    // DIGEST §4.1: the same notification re-sent while its session runs is the same session.
    let a = l.post(NOTIFICATION, &[], &pkg0);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.text().contains("notification ignored"), "{}", a.text());
    release.send(()).unwrap();

    assert!(
        server.wait_requests(2, WAIT),
        "the session went on: {} request(s); log: {}",
        server.requests().len(),
        log_text(&dir)
    );
    let reqs = server.requests();
    // Package #1: Alert 1200 (server-initiated) with the notification's SessionID, the client's
    // MD5 Cred over the (still empty) nonce, POSTed to the account's server URL.
    let p1 = reqs[0].message();
    assert!(reqs[0].line.starts_with("POST /dm "), "{}", reqs[0].line);
    assert_eq!(p1.hdr.session_id, "1A2B");
    assert_eq!(p1.hdr.msg_id, "1");
    assert_eq!(p1.hdr.source.loc_uri, DEV);
    assert_eq!(alert_codes(p1), vec![AlertCode::SERVER_INITIATED_MGMT.0]);
    let c = p1.hdr.cred.as_ref().expect("package #1 carries Cred");
    cred::verify_md5(&c.data, CL_NAME, CL_SECRET, b"").expect("the client's MD5 Cred");
    // Package #3: the same session, the Replace answered 200, and the server's credentials
    // accepted with a fresh nonce for it (212 + Chal NextNonce).
    let p3 = reqs[1].message();
    assert_eq!(p3.hdr.session_id, "1A2B");
    assert_eq!(p3.hdr.msg_id, "2");
    assert!(
        p3.body.commands.iter().any(|c| matches!(c,
            Cmd::Status(s) if s.cmd == "Replace" && s.data == "200")),
        "{:?}",
        p3.body.commands
    );
    let srv_nonce_b64 = p3
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Cmd::Status(s) if s.cmd == "SyncHdr" => s.chal.as_ref()?.meta.next_nonce(),
            _ => None,
        })
        .expect("a NextNonce for the server")
        .to_owned();
    let srv_nonce = base64::engine::general_purpose::STANDARD
        .decode(&srv_nonce_b64)
        .unwrap();
    // The session ended normally and its changes are on disk.
    wait_until("the session to end", || {
        log_text(&dir).contains("session 1A2B: ended, Completed")
    });
    l.wait_line("session 1A2B: Completed");
    assert_eq!(
        leaf(&dir, "./FUMO/1/PkgName").as_deref(),
        Some("fw-session")
    );
    let log = log_text(&dir);
    assert!(
        log.contains("session 1A2B with dm.example: started (server-alerted, Alert 1200)"),
        "{log}"
    );
    // Both nonces are kept: the server's NextNonce for the client's next credentials, the
    // client's for the server's next ones (and the next package #0 digest).
    assert_eq!(
        raw_leaf(&dir, "./DMAcc/dm.example/AppAuth/1/AAuthData").as_deref(),
        Some(CLIENT_NONCE)
    );
    assert_eq!(
        raw_leaf(&dir, "./DMAcc/dm.example/AppAuth/2/AAuthData"),
        Some(srv_nonce.clone())
    );

    // The very bytes of the first package #0 re-sent after the session: their digest is over
    // the nonce the session replaced, yet they are the package already accepted: ignored (a
    // repeated SMS is not a forgery), and no second session starts.
    let a = l.post(NOTIFICATION, &[], &pkg0);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.text().contains("notification ignored"), "{}", a.text());
    // After the session, the same session id (digest over the server's current nonce) is
    // still that session: ignored, no new session.
    let again = notification(tmp.path(), "1A2B", &srv_nonce);
    let a = l.post(NOTIFICATION, &[], &again);
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.text().contains("notification ignored"), "{}", a.text());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.requests().len(), 2, "no new session");
    assert_eq!(log_text(&dir).matches("started (server-alerted").count(), 1);
}

// ---- sessionless reports ----

fn report(dir: &Path, data: &str) -> std::process::Output {
    omadm(
        &[
            "device",
            "report",
            "--dir",
            dir.to_str().unwrap(),
            "--type",
            "urn:oma:at:vendor:1.0:battery",
            "--format",
            "chr",
            "--mark",
            "critical",
            "--source",
            "./DevDetail",
            "--data",
            data,
        ],
        None,
    )
}

/// The last request, which must be a Sessionless Report Message: SessionID 0, only Alert 1230
/// with exactly one Item each, Meta Type/Format/Mark (DM-SR-C-002/003/005/006/007).
fn check_report(req: &Request, data: &str) -> Message {
    let m = req.message().clone();
    assert_eq!(m.hdr.session_id, "0");
    assert_eq!(m.hdr.target.loc_uri, SID);
    assert_eq!(m.hdr.source.loc_uri, DEV);
    assert!(!m.body.commands.is_empty());
    for c in &m.body.commands {
        let Cmd::Alert(a) = c else {
            panic!("only report Alerts: {}", c.name())
        };
        assert_eq!(a.data.as_deref(), Some("1230"));
        let [item] = a.items.as_slice() else {
            panic!("one Item per report Alert: {:?}", a.items)
        };
        let meta = item.meta.as_ref().expect("Meta");
        assert_eq!(meta.type_.as_deref(), Some("urn:oma:at:vendor:1.0:battery"));
        assert_eq!(meta.format.as_deref(), Some("chr"));
        assert_eq!(meta.mark(), Some("critical"));
        assert_eq!(
            item.data.as_ref().map(|d| d.as_bytes()),
            Some(data.as_bytes())
        );
    }
    m
}

#[test]
fn e2e_dm_sr_c_004_006_008_report_md5_cred_uses_the_last_nonce_and_cdata() {
    let server = session_server(Vec::new(), None);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, &server.url(), &["--encoding", "xml"]);
    // A session first: the server gives the client a nonce (its Chal's NextNonce).
    let out = omadm(&["device", "run", "--dir", dir.to_str().unwrap()], None);
    assert!(out.status.success(), "device run: {}", stderr(&out));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        raw_leaf(&dir, "./DMAcc/dm.example/AppAuth/1/AAuthData").as_deref(),
        Some(CLIENT_NONCE)
    );

    let data = "battery <low> & \"hot\"";
    let out = report(&dir, data);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(server.wait_requests(2, WAIT));
    let req = &server.requests()[1];
    assert!(req.line.starts_with("POST /dm "), "{}", req.line);
    assert_eq!(
        req.header("content-type"),
        Some("application/vnd.syncml.dm+xml")
    );
    let m = check_report(req, data);
    // DM-SR-C-004: the data CDATA escaped in the XML.
    let xml = String::from_utf8_lossy(&req.body);
    assert!(xml.contains(&format!("<![CDATA[{data}]]>")), "{xml}");
    // DM-SR-C-006 / -008: Cred, MD5 over the last nonce the server gave.
    let c = m.hdr.cred.as_ref().expect("Cred");
    assert_eq!(
        c.meta.as_ref().and_then(|m| m.type_.as_deref()),
        Some("syncml:auth-md5")
    );
    assert_eq!(
        c.data.as_str(),
        cred::md5_digest(CL_NAME, CL_SECRET, CLIENT_NONCE)
    );
    assert!(req.header("x-syncml-hmac").is_none());
}

#[test]
fn e2e_dm_sr_c_006_008_hmac_account_signs_the_report_body() {
    let server = session_server(Vec::new(), None);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, &server.url(), &["--auth", "hmac"]);
    // The last nonce the server gave this account (as a session would have stored it).
    let nonce = b"hmac-nonce-7";
    {
        let d = DeviceDir::new(&dir);
        let mut lock = d.lock_tree(WAIT).unwrap();
        lock.tree_mut()
            .replace(
                Caller::Device,
                "./DMAcc/dm.example/AppAuth/1/AAuthData",
                None,
                None,
                nonce,
            )
            .unwrap();
        lock.save().unwrap();
    }
    let out = report(&dir, "battery low");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(server.wait_requests(1, WAIT));
    let req = &server.requests()[0];
    assert_eq!(
        req.header("content-type"),
        Some("application/vnd.syncml.dm+wbxml")
    );
    let m = check_report(req, "battery low");
    // HMAC cannot travel in Cred: an MD5 Cred from the same credentials and nonce...
    let c = m.hdr.cred.as_ref().expect("Cred");
    assert_eq!(c.data.as_str(), cred::md5_digest(CL_NAME, CL_SECRET, nonce));
    // ...and x-syncml-hmac, HMAC-SHA256 over exactly the bytes sent, with that nonce.
    let h = HmacHeader::parse(req.header("x-syncml-hmac").expect("x-syncml-hmac")).unwrap();
    assert_eq!(h.algorithm(), MacAlgorithm::Sha256);
    assert_eq!(h.username(), CL_NAME);
    verify_mac(&h, CL_SECRET, nonce, &req.body).expect("the MAC verifies over the body");
    assert!(verify_mac(&h, CL_SECRET, b"", &req.body).is_err());
    let mut altered = req.body.clone();
    let last = altered.len() - 2;
    altered[last] ^= 1;
    assert!(verify_mac(&h, CL_SECRET, nonce, &altered).is_err());
}
