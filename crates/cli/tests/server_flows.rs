//! `omadm server` flows end to end (issue 6, "How it is proven"): the real server binary on a
//! temporary SQLite file, devices enrolled through the REST API, commands queued there, and the
//! real device agent (`omadm device run`, `omadm device listen`, `omadm device report`) talking
//! to it over HTTP on 127.0.0.1. Every outcome is read back through the REST API (command state,
//! DM status, results, children, alerts, reports, sessions, devinfo) and, on the device side,
//! from its tree (`tree.bin`). Test names carry the server SCR ids of docs/conformance.md.
//!
//! Every wait is bounded (20 s polls, `--max-messages` on sessions); every child process is
//! killed when its guard drops.

mod common;
#[path = "common/rest.rs"]
mod rest;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::{omadm, stderr, stdout};
use omadm_client::agent::{DeviceConfig, DeviceDir, ExecHook};
use omadm_tree::format::NodeFormat;
use omadm_tree::{Caller, Tree};
use rest::{seg, Server};
use serde_json::{json, Value};

const DEV: &str = "IMEI:490154203237518";
const SID: &str = "omadm";
const CL_NAME: &str = "dev1";
const CL_SECRET: &str = "dev-secret";
const SRV_SECRET: &str = "srv-secret";
const WAIT: Duration = Duration::from_secs(20);
/// The ACL that lets the server manage `./Vendor` and below.
const VENDOR_ACL: &str = "Add=omadm&Delete=omadm&Exec=omadm&Get=omadm&Replace=omadm";

// ---- the setup: a server, an enrolled device, its directory ----

struct Flow {
    tmp: tempfile::TempDir,
    server: Server,
    dev: PathBuf,
}

/// Starts `omadm server` (with `server_toml` as its `--config` when given), enrolls [`DEV`] with
/// `auth` (and `push_url`), and makes its directory with `omadm device init`.
fn flow(auth: &str, server_toml: Option<&str>, encoding: &str) -> Flow {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cfg;
    let mut extra: Vec<&str> = Vec::new();
    if let Some(t) = server_toml {
        cfg = tmp.path().join("server.toml");
        std::fs::write(&cfg, t).expect("server.toml");
        extra.extend(["--config", cfg.to_str().expect("UTF-8")]);
    }
    let server = Server::start(tmp.path(), &extra);
    let dev = tmp.path().join("dev");
    let out = omadm(
        &[
            "device",
            "init",
            "--dir",
            dev.to_str().expect("UTF-8"),
            "--device-id",
            DEV,
            "--server-url",
            &server.dm_url(),
            "--server-id",
            SID,
            "--client-name",
            CL_NAME,
            "--client-secret",
            CL_SECRET,
            "--server-secret",
            SRV_SECRET,
            "--auth",
            auth,
            "--encoding",
            encoding,
            "--no-fumo",
        ],
        None,
    );
    assert!(out.status.success(), "init: {}", stderr(&out));
    let f = Flow { tmp, server, dev };
    f.enroll(auth, CL_SECRET, None);
    f
}

impl Flow {
    fn path(&self) -> &str {
        self.dev.to_str().expect("UTF-8")
    }

    fn enroll(&self, auth: &str, secret: &str, push_url: Option<&str>) {
        let mut d = json!({
            "device_id": DEV,
            "client_auth": { "type": auth, "name": CL_NAME, "secret": secret },
            "server_auth": { "name": SID, "secret": SRV_SECRET },
        });
        if let Some(u) = push_url {
            d["push_url"] = json!(u);
        }
        self.server.api_ok("POST", "/devices", Some(&d), 201);
    }

    fn api_get(&self, what: &str) -> Value {
        self.server
            .api_ok("GET", &format!("/devices/{}{what}", seg(DEV)), None, 200)
    }

    /// `omadm device run --dir DEV --max-messages 60 extra...`.
    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "device",
            "run",
            "--dir",
            self.path(),
            "--max-messages",
            "60",
        ];
        args.extend_from_slice(extra);
        omadm(&args, None)
    }

    /// A session that must end normally; its stdout.
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

    fn queue(&self, spec: Value) -> i64 {
        let v = self.server.api_ok(
            "POST",
            &format!("/devices/{}/commands", seg(DEV)),
            Some(&spec),
            201,
        );
        v["id"].as_i64().expect("id")
    }

    fn command(&self, id: i64) -> Value {
        self.api_get(&format!("/commands/{id}"))
    }

    /// The command once it is over (done or failed), polled for at most [`WAIT`].
    fn wait_over(&self, id: i64) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let c = self.command(id);
            if matches!(c["state"].as_str(), Some("done" | "failed")) {
                return c;
            }
            assert!(Instant::now() < deadline, "command {id} never ended: {c}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asserts the command's state and DM status; the command.
    fn expect(&self, id: i64, state: &str, status: u16) -> Value {
        let c = self.command(id);
        assert_eq!(c["state"], state, "command {id}: {c}");
        assert_eq!(c["status"], status, "command {id}: {c}");
        c
    }

    fn sessions(&self) -> Vec<Value> {
        self.api_get("/sessions")
            .as_array()
            .cloned()
            .expect("sessions array")
    }

    fn tree(&self) -> Tree {
        Tree::load(&self.dev.join("tree.bin")).expect("tree.bin loads")
    }

    fn leaf(&self, uri: &str) -> Option<Vec<u8>> {
        self.tree().get(Caller::Device, uri).ok().map(|v| v.data)
    }

    fn text(&self, uri: &str) -> Option<String> {
        self.leaf(uri)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Changes device.toml.
    fn config(&self, f: impl FnOnce(&mut DeviceConfig)) {
        let d = DeviceDir::new(&self.dev);
        let mut c = d.load_config().expect("device.toml loads");
        f(&mut c);
        d.save_config(&c).expect("device.toml saves");
    }

    /// Adds a leaf as the device itself (parents made as needed).
    fn device_adds(&self, uri: &str, value: &[u8]) {
        let d = DeviceDir::new(&self.dev);
        let mut lock = d.lock_tree(Duration::from_secs(5)).expect("tree lock");
        lock.tree_mut()
            .add(
                Caller::Device,
                uri,
                NodeFormat::Chr,
                Some("text/plain"),
                value,
            )
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        lock.save().expect("tree saves");
    }

    /// Queues the interior node `./Vendor` and its ACL granting the server every right.
    fn queue_vendor(&self) -> (i64, i64) {
        let node = self.queue(json!({ "op": "Add", "target": "./Vendor", "format": "node" }));
        let acl = self
            .queue(json!({ "op": "Replace", "target": "./Vendor?prop=ACL", "data": VENDOR_ACL }));
        (node, acl)
    }
}

fn hook(uri: &str, script: &str, async_: bool) -> ExecHook {
    ExecHook {
        uri: uri.into(),
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        async_,
        alert_type: None,
        mark: None,
        timeout_secs: Some(20),
    }
}

/// A value of `n` bytes that is not one byte repeated (so that a misordered chunk shows).
fn big(n: usize) -> String {
    (0..n)
        .map(|i| char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[(i * 7 + i / 36) % 36]))
        .collect()
}

// ---- `omadm device listen` ----

/// `omadm device listen --dir D --listen 127.0.0.1:0`; killed when dropped.
struct Listening {
    child: Child,
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Listening {
    fn start(dir: &Path) -> Listening {
        let mut child = Command::new(env!("CARGO_BIN_EXE_omadm"))
            .args(["device", "listen", "--dir"])
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
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
                keep.lock().expect("lines").push(line);
            }
        });
        let mut l = Listening {
            child,
            addr: "127.0.0.1:1".parse().expect("addr"),
            lines,
        };
        let first = rx.recv_timeout(WAIT).expect("listen prints its address");
        l.addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        l
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it holds, for at most [`WAIT`].
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- every command type ----

/// DM Protocol 1.3 §5-§6 (DM-PRO-S-001, -005, -006, -008; DM-PRO-Session-S-002): Add of an
/// interior node (format node) and of a leaf, Replace of a value and of an ACL, Copy, Get of a
/// value, of `?list=Struct` and of `?prop=ACL`, Delete, Get of the deleted node (404), Exec of a
/// node bound to an `[[exec]]` hook (its stdin written to a file): each recorded with its DM
/// status and Results, the device's tree changed accordingly, its DevInfo recorded.
#[test]
fn e2e_dm_pro_s_001_005_006_008_every_command_type() {
    let f = flow("digest", None, "xml");
    f.config(|c| {
        c.exec.push(hook(
            "./Ext/Run",
            "cat > \"$OMADM_DIR/exec.stdin\"; printf %s \"$OMADM_CORRELATOR\" > \"$OMADM_DIR/exec.corr\"",
            false,
        ))
    });
    let (node, acl) = f.queue_vendor();
    let add = f.queue(json!({ "op": "Add", "target": "./Vendor/A", "data": "alpha", "format": "chr", "type": "text/plain" }));
    let rep = f.queue(json!({ "op": "Replace", "target": "./Vendor/A", "data": "beta" }));
    let copy = f.queue(json!({ "op": "Copy", "target": "./Vendor/B", "source": "./Vendor/A" }));
    let get = f.queue(json!({ "op": "Get", "target": "./Vendor/B" }));
    let list = f.queue(json!({ "op": "Get", "target": "./Vendor?list=Struct" }));
    let get_acl = f.queue(json!({ "op": "Get", "target": "./Vendor?prop=ACL" }));
    let del = f.queue(json!({ "op": "Delete", "target": "./Vendor/B" }));
    let gone = f.queue(json!({ "op": "Get", "target": "./Vendor/B" }));
    let exec = f.queue(
        json!({ "op": "Exec", "target": "./Ext/Run", "data": "reboot now", "correlator": "c-42" }),
    );
    let out = f.run_ok(&[]);

    for id in [node, acl, add, rep, copy, del, exec] {
        f.expect(id, "done", 200);
    }
    let g = f.expect(get, "done", 200);
    assert_eq!(g["results"][0]["source"], "./Vendor/B", "{g}");
    assert_eq!(g["results"][0]["data"], "beta", "{g}");
    assert_eq!(g["results"][0]["format"], "chr", "{g}");
    let l = f.expect(list, "done", 200);
    let sources: Vec<&str> = l["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["source"].as_str())
        .collect();
    assert!(sources.contains(&"./Vendor"), "{l}");
    assert!(sources.contains(&"./Vendor/A"), "{l}");
    assert!(sources.contains(&"./Vendor/B"), "{l}");
    let a = f.expect(get_acl, "done", 200);
    assert_eq!(a["results"][0]["data"], VENDOR_ACL, "{a}");
    f.expect(gone, "failed", 404);

    // The device's tree and the hook.
    assert_eq!(f.text("./Vendor/A").as_deref(), Some("beta"));
    assert_eq!(f.leaf("./Vendor/B"), None);
    let t = f.tree();
    let acl_now = t
        .get_prop(Caller::Device, "./Vendor", omadm_tree::uri::Property::Acl)
        .expect("ACL of ./Vendor");
    assert_eq!(acl_now, VENDOR_ACL);
    let read = |n: &str| std::fs::read_to_string(f.dev.join(n)).unwrap_or_default();
    assert_eq!(read("exec.stdin"), "reboot now");
    assert_eq!(read("exec.corr"), "c-42");
    assert!(out.contains("Exec ./Ext/Run"), "{out}");

    // The server recorded the session and the device's DevInfo.
    let s = f.sessions();
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[0]["outcome"], "completed", "{s:?}");
    let d = f.api_get("");
    assert_eq!(d["devinfo"]["DevId"], DEV, "{d}");
    assert_eq!(d["devinfo"]["Man"], "omadm", "{d}");
    assert_eq!(d["devinfo"]["Mod"], "omadm-device", "{d}");
    assert_eq!(d["dm_version"], "DM/1.3", "{d}");
}

/// DM Protocol 1.3 §10 (DM-PRO-S-007; DM-PRO-UI-S-001..006): Display (1100) and Confirm (1101)
/// accepted (200), Confirm rejected (304), Text Input (1102) answered by a script (the text
/// recorded as the result), Single (1103) and Multiple Choice (1104) answered by the script
/// (the choices recorded).
#[test]
fn e2e_dm_pro_s_007_ui_s_001_006_user_interaction() {
    let f = flow("digest", None, "wbxml");
    let display = f.queue(json!({ "op": "Alert", "code": 1100, "data": "Updating" }));
    let confirm = f.queue(json!({ "op": "Alert", "code": 1101, "data": "Go on?" }));
    f.run_ok(&["--ui", "auto-accept"]);
    f.expect(display, "done", 200);
    f.expect(confirm, "done", 200);

    let rejected = f.queue(json!({ "op": "Alert", "code": 1101, "data": "Go on?" }));
    f.run_ok(&["--ui", "auto-reject"]);
    let c = f.command(rejected);
    assert_eq!(c["status"], 304, "{c}");

    let script = f.tmp.path().join("ui.txt");
    std::fs::write(&script, "text:hello\nchoose:2\nchoose:1,3\n").expect("script");
    let input = f
        .queue(json!({ "op": "Alert", "code": 1102, "data": "Your name?", "options": "MAXDT=30" }));
    let single = f.queue(json!({ "op": "Alert", "code": 1103, "data": "Colour?", "choices": ["red", "green", "blue"] }));
    let multi = f.queue(json!({ "op": "Alert", "code": 1104, "data": "Colours?", "choices": ["red", "green", "blue"] }));
    f.run_ok(&["--ui", "script", script.to_str().expect("UTF-8")]);
    let i = f.expect(input, "done", 200);
    assert_eq!(i["results"][0]["data"], "hello", "{i}");
    let s = f.expect(single, "done", 200);
    assert_eq!(s["results"][0]["data"], "2", "{s}");
    let m = f.expect(multi, "done", 200);
    let picked: Vec<&str> = m["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["data"].as_str())
        .collect();
    assert_eq!(picked, ["1", "3"], "{m}");
}

// ---- Atomic and Sequence ----

/// DM RepPro Atomic (DM-PRO-S-006, -008): an Atomic [Add ./Vendor/A, Replace of a missing
/// node] fails as a whole: the Atomic 507, its children 216 (rolled back) and 404, recorded in
/// order; the device's tree is as before.
#[test]
fn e2e_dm_pro_s_006_008_atomic_rollback_in_results() {
    let f = flow("digest", None, "xml");
    f.queue_vendor();
    f.run_ok(&[]);
    let id = f.queue(json!({ "op": "Atomic", "commands": [
        { "op": "Add", "target": "./Vendor/A", "data": "a", "format": "chr" },
        { "op": "Replace", "target": "./Vendor/Missing", "data": "x" },
    ] }));
    f.run_ok(&[]);
    let c = f.expect(id, "failed", 507);
    assert_eq!(
        c["children"],
        json!([{ "index": 0, "status": 216 }, { "index": 1, "status": 404 }]),
        "{c}"
    );
    assert_eq!(f.leaf("./Vendor/A"), None);
    let t = f.tree();
    let (_, vendor) = t.resolve("./Vendor").expect("./Vendor");
    assert!(t.children(vendor).is_empty(), "the Add was rolled back");
}

/// DM RepPro Sequence (DM-PRO-S-006, -008): the children's statuses are recorded in order,
/// the failed one among them; a Get inside a Sequence has its Results recorded. A Confirm
/// (1101) rejected inside a Sequence (304) skips the rest of it (215), as recorded.
#[test]
fn e2e_dm_pro_s_006_008_sequence_children_in_order() {
    let f = flow("basic", None, "wbxml");
    f.queue_vendor();
    let id = f.queue(json!({ "op": "Sequence", "commands": [
        { "op": "Add", "target": "./Vendor/S", "data": "1", "format": "chr" },
        { "op": "Replace", "target": "./Vendor/S", "data": "2" },
        { "op": "Delete", "target": "./Vendor/Nope" },
        { "op": "Get", "target": "./Vendor/S" },
        { "op": "Add", "target": "./Vendor/T", "data": "t", "format": "chr" },
    ] }));
    f.run_ok(&[]);
    let c = f.command(id);
    let st: Vec<(u64, u64)> = c["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|x| {
            (
                x["index"].as_u64().unwrap_or(99),
                x["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        st,
        [(0, 200), (1, 200), (2, 404), (3, 200), (4, 200)],
        "{c}"
    );
    assert_eq!(c["results"][0]["data"], "2", "{c}");
    assert_eq!(f.text("./Vendor/S").as_deref(), Some("2"));
    assert_eq!(f.text("./Vendor/T").as_deref(), Some("t"));

    let id = f.queue(json!({ "op": "Sequence", "commands": [
        { "op": "Alert", "code": 1101, "data": "Go on?" },
        { "op": "Replace", "target": "./Vendor/T", "data": "never" },
    ] }));
    f.run_ok(&["--ui", "auto-reject"]);
    let c = f.command(id);
    assert_eq!(
        c["children"],
        json!([{ "index": 0, "status": 304 }, { "index": 1, "status": 215 }]),
        "{c}"
    );
    assert_eq!(f.text("./Vendor/T").as_deref(), Some("t"));
}

// ---- large objects and paging ----

/// Large objects both ways at `msg` bytes per message (server and device), MaxObjSize 4 KiB on
/// both sides: a 3 KiB Add and a 3 KiB Replace go to the device in chunks and arrive whole, a
/// Get of the 3 KiB leaf comes back in chunks and is recorded whole, and 3 KiB of binary data
/// as a b64 value (4 KiB of text) makes the same trip; the session spans several messages.
fn large_objects_both_ways(encoding: &str, msg: usize) {
    let f = flow(
        "digest",
        Some(&format!("max_msg_size = {msg}\nmax_obj_size = 4096\n")),
        encoding,
    );
    f.config(|c| {
        c.max_msg_size = msg;
        c.max_obj_size = 4096;
    });
    let (one, two) = (
        big(3 * 1024),
        big(3 * 1024 + 17).chars().rev().collect::<String>(),
    );
    let bin: Vec<u8> = (0..3 * 1024).map(|i| (i * 31 % 256) as u8).collect();
    let bin64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bin);
    f.queue_vendor();
    let add =
        f.queue(json!({ "op": "Add", "target": "./Vendor/Big", "data": one, "format": "chr" }));
    let get1 = f.queue(json!({ "op": "Get", "target": "./Vendor/Big" }));
    let rep = f.queue(json!({ "op": "Replace", "target": "./Vendor/Big", "data": two }));
    let get2 = f.queue(json!({ "op": "Get", "target": "./Vendor/Big" }));
    let add_bin = f.queue(json!({ "op": "Add", "target": "./Vendor/Bin", "data": bin64, "format": "b64", "type": "application/octet-stream" }));
    let get_bin = f.queue(json!({ "op": "Get", "target": "./Vendor/Bin" }));
    f.run_ok(&[]);
    f.expect(add, "done", 200);
    f.expect(rep, "done", 200);
    f.expect(add_bin, "done", 200);
    let g1 = f.expect(get1, "done", 200);
    assert_eq!(
        g1["results"][0]["data"].as_str(),
        Some(one.as_str()),
        "{g1}"
    );
    let g2 = f.expect(get2, "done", 200);
    assert_eq!(g2["results"][0]["data"].as_str(), Some(two.as_str()));
    assert_eq!(f.text("./Vendor/Big").as_deref(), Some(two.as_str()));
    // TND: a b64 node's value is the base64 text itself (format.rs), as sent.
    let stored = f.leaf("./Vendor/Bin").unwrap_or_default();
    assert!(
        stored == bin64.as_bytes(),
        "./Vendor/Bin holds {} bytes, starting {:?}",
        stored.len(),
        String::from_utf8_lossy(&stored[..stored.len().min(40)])
    );
    let gb = f.expect(get_bin, "done", 200);
    assert_eq!(gb["results"][0]["format"], "b64", "{gb}");
    let back = gb["results"][0]["data"]
        .as_str()
        .and_then(|d| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, d).ok());
    assert!(back.as_deref() == Some(bin.as_slice()), "{gb}");
    let s = f.sessions();
    assert!(s[0]["messages"].as_u64().unwrap_or(0) > 3, "{s:?}");
    assert_eq!(s[0]["outcome"], "completed", "{s:?}");
}

/// DM Protocol 1.3 §8 (DM-PRO-S-004; DM-PRO-LO-S-001, -003, -005, -006, -008): large objects
/// both ways in XML at 2 KiB messages.
#[test]
fn e2e_dm_pro_s_004_lo_s_large_objects_both_ways_xml_2k() {
    large_objects_both_ways("xml", 2048);
}

/// The same in WBXML at 1 KiB messages (the smallest MaxMsgSize the server packs for).
#[test]
fn e2e_dm_pro_s_004_lo_s_large_objects_both_ways_wbxml_1k() {
    large_objects_both_ways("wbxml", 1024);
}

/// DM Protocol 1.3 §8 (DM-PRO-LO-S-007; the server's MaxObjSize, DM-PRO-LO-S-006): at
/// MaxObjSize 1 KiB a 3 KiB Replace is never sent to a device that accepts only 1 KiB (413,
/// the device's leaf unchanged), and a device's 3 KiB Results are refused by a server that
/// accepts only 1 KiB (413).
#[test]
fn e2e_dm_pro_lo_s_007_over_max_obj_size_413() {
    let f = flow(
        "digest",
        Some("max_msg_size = 2048\nmax_obj_size = 1024\n"),
        "xml",
    );
    f.config(|c| {
        c.max_msg_size = 2048;
        c.max_obj_size = 1024;
    });
    f.device_adds("./Vendor/Big", big(3 * 1024).as_bytes());
    let rep =
        f.queue(json!({ "op": "Replace", "target": "./Vendor/Big", "data": big(3 * 1024 + 1) }));
    let get = f.queue(json!({ "op": "Get", "target": "./Vendor/Big" }));
    let small = f.queue(json!({ "op": "Get", "target": "./DevInfo/Man" }));
    f.run_ok(&[]);
    f.expect(rep, "failed", 413);
    let g = f.command(get);
    assert_eq!(g["state"], "failed", "{g}");
    assert_eq!(g["status"], 413, "{g}");
    assert_eq!(g["results"], json!([]), "{g}");
    f.expect(small, "done", 200);
    assert_eq!(f.text("./Vendor/Big"), Some(big(3 * 1024)));
}

/// DM Protocol 1.3 §7 (DM-PRO-S-003; DM-PRO-Mul-S-001, -002): with the device's MaxMsgSize at
/// 2 KiB, 40 queued Gets are spread over several messages (the client asks for the rest with
/// 1222) and all come back with their results.
#[test]
fn e2e_dm_pro_s_003_mul_s_paging_at_2_kib() {
    let f = flow("digest", None, "xml");
    f.config(|c| c.max_msg_size = 2048);
    let targets = [
        ("./DevInfo/Man", Some("omadm")),
        ("./DevInfo/Mod", Some("omadm-device")),
        ("./DevInfo/DevId", Some(DEV)),
        ("./DevInfo/Lang", Some("en-US")),
        ("./DevDetail/LrgObj", None),
    ];
    let ids: Vec<(i64, Option<&str>)> = (0..40)
        .map(|i| {
            let (t, want) = targets[i % targets.len()];
            (f.queue(json!({ "op": "Get", "target": t })), want)
        })
        .collect();
    f.run_ok(&[]);
    for (id, want) in ids {
        let c = f.expect(id, "done", 200);
        let data = &c["results"][0]["data"];
        match want {
            Some(w) => assert_eq!(data, w, "{c}"),
            None => assert!(data.is_string(), "{c}"),
        }
    }
    let s = f.sessions();
    assert_eq!(s.len(), 1, "{s:?}");
    assert!(s[0]["messages"].as_u64().unwrap_or(0) > 2, "{s:?}");
    assert_eq!(s[0]["outcome"], "completed", "{s:?}");
}

// ---- authentication ----

fn clcred_nonce(f: &Flow) -> Vec<u8> {
    f.leaf("./DMAcc/omadm/AppAuth/1/AAuthData")
        .unwrap_or_default()
}

/// DM Protocol 1.3 §9 (DM-PRO-S-010): md5 digest with server-issued nonces: three sessions in
/// a row succeed, each with the nonce the server gave in the one before, which changes every
/// session.
#[test]
fn e2e_dm_pro_s_010_md5_nonce_rotation_across_sessions() {
    let f = flow("digest", None, "wbxml");
    let mut nonces = vec![clcred_nonce(&f)];
    for round in 0..3 {
        let id = f.queue(json!({ "op": "Get", "target": "./DevInfo/Man" }));
        let out = f.run_ok(&[]);
        f.expect(id, "done", 200);
        let n = clcred_nonce(&f);
        assert!(!n.is_empty(), "round {round}: no nonce kept\n{out}");
        assert!(
            !nonces.contains(&n),
            "round {round}: the nonce was not rotated"
        );
        // The nonce of the session before (none before the first) is taken at once.
        assert!(
            out.contains("the server accepted the client's credentials (212)")
                && !out.contains("the server challenged the client"),
            "round {round}: the nonce of the previous session was not accepted\n{out}"
        );
        nonces.push(n);
    }
    let s = f.sessions();
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(s.iter().all(|x| x["outcome"] == "completed"), "{s:?}");
}

/// DM Protocol 1.3 §9 (DM-PRO-S-010): an HMAC device (x-syncml-hmac on every message) runs
/// sessions that succeed one after another, each with the nonce the one before gave.
#[test]
fn e2e_dm_pro_s_010_hmac_sessions() {
    let f = flow("hmac", None, "wbxml");
    let mut nonces = vec![clcred_nonce(&f)];
    for round in 0..2 {
        let id = f.queue(json!({ "op": "Get", "target": "./DevInfo/Mod" }));
        let out = f.run_ok(&[]);
        let c = f.expect(id, "done", 200);
        assert_eq!(
            c["results"][0]["data"], "omadm-device",
            "round {round}: {c}\n{out}"
        );
        assert!(
            out.contains("the server accepted the client's credentials")
                && !out.contains("the server challenged the client"),
            "round {round}: {out}"
        );
        let n = clcred_nonce(&f);
        assert!(
            !nonces.contains(&n),
            "round {round}: the nonce was not rotated"
        );
        nonces.push(n);
    }
    let s = f.sessions();
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s.iter().all(|x| x["outcome"] == "completed"), "{s:?}");
}

// ---- pushes: notification, sessionless ----

/// A device with `omadm device listen` running, enrolled with the listener as its push URL.
fn pushed_flow(auth: &str) -> (Flow, Listening) {
    let f = flow(auth, None, "wbxml");
    f.server
        .api_ok("DELETE", &format!("/devices/{}", seg(DEV)), None, 204);
    let l = Listening::start(&f.dev);
    f.enroll(auth, CL_SECRET, Some(&l.url()));
    (f, l)
}

/// DM Protocol 1.3 §5, DM Notification (DM-PRO-Session-S-001): `POST /devices/{id}/notify`
/// pushes package #0 to the device's listener, which accepts it (202) and starts a
/// server-initiated session (Alert 1200) with the SessionID of the notification, in which the
/// queued command is done. A second notification, after the session rotated the nonces (its
/// digest uses the device's new one), is accepted too.
#[test]
fn e2e_dm_pro_session_s_001_notification_starts_a_session() {
    let (f, l) = pushed_flow("digest");
    let mut sids = Vec::new();
    for (round, body) in [
        json!({}),
        json!({ "session_id": 4660, "ui_mode": "background" }),
    ]
    .iter()
    .enumerate()
    {
        let id = f.queue(json!({ "op": "Get", "target": "./DevInfo/Man" }));
        let v = f.server.api_ok(
            "POST",
            &format!("/devices/{}/notify", seg(DEV)),
            Some(body),
            200,
        );
        assert_eq!(v["push_status"], 202, "round {round}: {v}\n{:?}", l.lines());
        let sid = v["session_id"].as_str().expect("session_id").to_owned();
        let c = f.wait_over(id);
        assert_eq!(c["state"], "done", "round {round}: {c}\n{:?}", l.lines());
        assert_eq!(c["results"][0]["data"], "omadm", "{c}");
        assert_eq!(c["session_id"], sid.as_str(), "round {round}: {c}");
        sids.push(sid);
    }
    assert_eq!(sids[1], "1234");
    wait_until("two completed sessions", || {
        let s = f.sessions();
        s.len() == 2 && s.iter().all(|x| x["outcome"] == "completed")
    });
    let mut recorded: Vec<String> = f
        .sessions()
        .iter()
        .filter_map(|x| x["session_id"].as_str().map(str::to_owned))
        .collect();
    recorded.sort();
    sids.sort();
    assert_eq!(recorded, sids);
    let lines = l.lines();
    for sid in &sids {
        assert!(
            lines
                .iter()
                .any(|x| x.contains(&format!("session {sid} ")) && x.contains("starting a session")),
            "{lines:?}"
        );
    }
    // The server saw each session start with Alert 1200 (server-alerted), as the audit log says.
    let audit = f.server.api_ok("GET", "/audit?limit=10000", None, 200);
    let started: Vec<(String, u64)> = audit
        .as_array()
        .expect("audit lines")
        .iter()
        .filter(|a| a["event"] == "session.started")
        .filter_map(|a| {
            Some((
                a["session_id"].as_str()?.to_owned(),
                a["detail"]["alert"].as_u64()?,
            ))
        })
        .collect();
    for sid in &sids {
        assert!(started.contains(&(sid.clone(), 1200)), "{sid}: {started:?}");
    }
}

/// DM Sessionless 1.3 §5.2 (DM-SM-S-001, -002, -003, -008): a sessionless command message
/// (WBXML, the ServerID as Source, HMAC with SRVCRED) built from Add/Replace commands is pushed
/// and applied in the device's tree, before and after a session rotated the nonces; one holding
/// a Get is refused by the API (400) and nothing is pushed.
#[test]
fn e2e_dm_sm_s_001_002_003_008_sessionless_commands_applied() {
    let (f, l) = pushed_flow("hmac");
    let v = f.server.api_ok(
        "POST",
        &format!("/devices/{}/sessionless", seg(DEV)),
        Some(&json!({ "commands": [
            { "op": "Add", "target": "./Vendor", "format": "node" },
            { "op": "Replace", "target": "./Vendor?prop=ACL", "data": VENDOR_ACL },
            { "op": "Add", "target": "./Vendor/S", "data": "pushed", "format": "chr" },
        ] })),
        200,
    );
    assert_eq!(v["push_status"], 200, "{v}\n{:?}", l.lines());
    wait_until("./Vendor/S in the tree", || {
        f.text("./Vendor/S").as_deref() == Some("pushed")
    });

    // A session rotates the nonces; the next message is signed with the new one.
    let id = f.queue(json!({ "op": "Get", "target": "./Vendor/S" }));
    f.run_ok(&[]);
    f.expect(id, "done", 200);
    let v = f.server.api_ok(
        "POST",
        &format!("/devices/{}/sessionless", seg(DEV)),
        Some(&json!({ "commands": [
            { "op": "Replace", "target": "./Vendor/S", "data": "again" },
        ] })),
        200,
    );
    assert_eq!(v["push_status"], 200, "{v}\n{:?}", l.lines());
    wait_until("./Vendor/S replaced", || {
        f.text("./Vendor/S").as_deref() == Some("again")
    });

    let before = f.tree().to_bytes();
    let (code, v) = f.server.api(
        "POST",
        &format!("/devices/{}/sessionless", seg(DEV)),
        Some(&json!({ "commands": [
            { "op": "Replace", "target": "./Vendor/S", "data": "never" },
            { "op": "Get", "target": "./Vendor/S" },
        ] })),
    );
    assert_eq!(code, 400, "{v}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(f.tree().to_bytes(), before);
}

// ---- what the device sends: reports, Generic Alerts ----

fn report(f: &Flow, data: &str) -> Output {
    omadm(
        &[
            "device",
            "report",
            "--dir",
            f.path(),
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

/// DM Sessionless Reporting 1.3 §5 (DM-SR-S-001, DM-SR-S-003): an authenticated report is
/// stored with its Item; after the enrolment changed the device's secret, the device's report no
/// longer authenticates: it is dropped silently, with the very same HTTP answer.
#[test]
fn e2e_dm_sr_s_001_003_reports_stored_bad_ones_dropped() {
    for auth in ["digest", "hmac"] {
        let f = flow(auth, None, "wbxml");
        // A session first, so that the report uses a nonce the server issued.
        f.run_ok(&[]);
        let out = report(&f, "hi");
        assert!(out.status.success(), "{auth}: {}", stderr(&out));
        let good_http = stdout(&out)
            .lines()
            .find(|l| l.starts_with("HTTP "))
            .map(str::to_owned)
            .expect("HTTP line");
        let r = f.api_get("/reports");
        let list = r.as_array().expect("reports");
        assert_eq!(list.len(), 1, "{auth}: {r}");
        let it = &list[0]["items"][0];
        assert_eq!(it["data"], "hi", "{auth}: {r}");
        assert_eq!(it["type"], "urn:oma:at:vendor:1.0:battery", "{r}");
        assert_eq!(it["format"], "chr", "{r}");
        assert_eq!(it["mark"], "critical", "{r}");
        assert_eq!(it["source"], "./DevDetail", "{r}");

        // Re-enrolled with another secret: the device's credentials no longer match.
        f.server
            .api_ok("DELETE", &format!("/devices/{}", seg(DEV)), None, 204);
        f.enroll(auth, "another-secret", None);
        let out = report(&f, "forged");
        assert!(out.status.success(), "{auth}: {}", stderr(&out));
        let bad_http = stdout(&out)
            .lines()
            .find(|l| l.starts_with("HTTP "))
            .map(str::to_owned)
            .expect("HTTP line");
        assert_eq!(bad_http, good_http, "{auth}: the answer must not tell");
        assert_eq!(f.api_get("/reports"), json!([]), "{auth}");
    }
}

/// DM Protocol 1.3 §6.7 (DM-PRO-S-009; DM-PRO-GAlert-S-001): an asynchronous Exec answered 202;
/// the hook's result comes in a Generic Alert (1226) in the device's next session, recorded with
/// the Exec's Correlator, Type, Source and Data.
#[test]
fn e2e_dm_pro_s_009_galert_s_001_002_generic_alert_with_correlator() {
    let f = flow("digest", None, "xml");
    let mut h = hook("./Ext/Job", "cat > \"$OMADM_DIR/job.stdin\"", true);
    h.alert_type = Some("urn:oma:at:omadm:1.0:execresult".into());
    h.mark = Some("warning".into());
    f.config(|c| c.exec.push(h));
    let id = f.queue(
        json!({ "op": "Exec", "target": "./Ext/Job", "data": "go", "correlator": "corr-7" }),
    );
    f.run_ok(&[]);
    let c = f.command(id);
    assert_eq!(c["status"], 202, "{c}");
    assert_eq!(
        std::fs::read_to_string(f.dev.join("job.stdin")).unwrap_or_default(),
        "go"
    );
    assert_eq!(f.api_get("/alerts"), json!([]));
    f.run_ok(&[]);
    let a = f.api_get("/alerts");
    let list = a.as_array().expect("alerts");
    let g: Vec<&Value> = list.iter().filter(|x| x["code"] == 1226).collect();
    assert_eq!(g.len(), 1, "{a}");
    assert_eq!(g[0]["correlator"], "corr-7", "{a}");
    let it = &g[0]["items"][0];
    assert_eq!(it["type"], "urn:oma:at:omadm:1.0:execresult", "{a}");
    assert_eq!(it["source"], "./Ext/Job", "{a}");
    assert_eq!(it["mark"], "warning", "{a}");
    assert_eq!(it["data"], "200", "{a}");
    assert!(
        !std::fs::read_to_string(f.dev.join("alerts.json"))
            .unwrap_or_default()
            .contains("corr-7"),
        "the alert was delivered and dropped from alerts.json"
    );
    // DM-PRO-GAlert-S-002: the alert is the Exec's result: the command ends with the status
    // the alert carries, and the alert's Item as its result.
    let c = f.command(id);
    assert_eq!(
        (c["state"].as_str(), c["status"].as_u64()),
        (Some("done"), Some(200)),
        "{c}"
    );
    assert_eq!(c["results"][0]["source"], "./Ext/Job", "{c}");
    assert_eq!(c["results"][0]["data"], "200", "{c}");
}

// ---- older clients ----

/// DM Protocol 1.3 §12 (managing DM 1.2 clients; DM-PRO-S-009, DM-PRO-GAlert-S-001): a device
/// speaking DM/1.2 with HMAC (HMAC-MD5 in DM 1.2) runs sessions, its commands done and its
/// DM version recorded; its Generic Alert with a Type the server cannot read is answered 415
/// and not recorded.
#[test]
fn e2e_dm_pro_s_009_dm12_client_and_unreadable_generic_alert_415() {
    let f = flow("hmac", None, "wbxml");
    let mut h = hook("./Ext/Job", "true", true);
    h.alert_type = Some("not a type".into());
    f.config(|c| {
        c.exec.push(h);
        c.ver_proto = "DM/1.2".into();
    });
    let get = f.queue(json!({ "op": "Get", "target": "./DevInfo/Lang" }));
    let exec = f.queue(json!({ "op": "Exec", "target": "./Ext/Job", "correlator": "x-1" }));
    f.run_ok(&[]);
    let g = f.expect(get, "done", 200);
    assert_eq!(g["results"][0]["data"], "en-US", "{g}");
    f.expect(exec, "done", 202);
    let out = f.run_ok(&[]);
    assert!(out.contains("): 415"), "{out}");
    assert!(out.contains("1 queued alert(s) delivered"), "{out}");
    assert_eq!(f.api_get("/alerts"), json!([]));
    let d = f.api_get("");
    assert_eq!(d["dm_version"], "DM/1.2", "{d}");
    let s = f.sessions();
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s.iter().all(|x| x["outcome"] == "completed"), "{s:?}");
}

// ---- abort ----

/// The states of `ids`: (done with 200, still queued); panics on any other.
fn done_or_queued(f: &Flow, ids: &[i64]) -> (usize, usize) {
    let (mut done, mut queued) = (0, 0);
    for &id in ids {
        let c = f.command(id);
        match (c["state"].as_str(), c["status"].as_u64()) {
            (Some("done"), Some(200)) => done += 1,
            (Some("queued"), None) => queued += 1,
            _ => panic!("command {id} neither done nor back in the queue: {c}"),
        }
    }
    (done, queued)
}

/// DM Protocol 1.3 §6.1 (DM-PRO-S-002; DM-PRO-Abort-S-001, -002): a server that allows 3
/// messages per session aborts a longer one with 1223 (the device reports it, the session is
/// recorded `aborted_by_server`); a device that allows itself 2 messages aborts the session
/// (recorded `aborted_by_client`). Either way the commands answered before the abort are done,
/// every other one is back in the queue (none lost, none failed), and later sessions do them.
#[test]
fn e2e_dm_pro_s_002_abort_s_001_002_sessions_aborted_both_ways() {
    // The server aborts.
    let f = flow("digest", Some("max_messages_per_session = 3\n"), "xml");
    f.config(|c| c.max_msg_size = 1024);
    let ids: Vec<i64> = (0..12)
        .map(|_| f.queue(json!({ "op": "Get", "target": "./DevInfo/Man" })))
        .collect();
    let out = f.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("the server aborted the session (1223)"),
        "{}",
        stdout(&out)
    );
    let s = f.sessions();
    assert_eq!(s[0]["outcome"], "aborted_by_server", "{s:?}");
    assert_eq!(s[0]["messages"], 3, "{s:?}");
    let (done, queued) = done_or_queued(&f, &ids);
    assert!(done >= 1 && queued >= 1, "done {done}, queued {queued}");
    let mut rounds = 0;
    while done_or_queued(&f, &ids).1 > 0 {
        rounds += 1;
        assert!(rounds <= 12, "the queue never drained");
        let _ = f.run(&[]);
    }

    // The device aborts.
    let f = flow("digest", None, "xml");
    f.config(|c| c.max_msg_size = 1024);
    let ids: Vec<i64> = (0..12)
        .map(|_| f.queue(json!({ "op": "Get", "target": "./DevInfo/Man" })))
        .collect();
    let out = omadm(
        &["device", "run", "--dir", f.path(), "--max-messages", "2"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("the client aborted the session (1223)"),
        "{}",
        stdout(&out)
    );
    let s = f.sessions();
    assert_eq!(s[0]["outcome"], "aborted_by_client", "{s:?}");
    let (done, queued) = done_or_queued(&f, &ids);
    assert!(done >= 1 && queued >= 1, "done {done}, queued {queued}");
    f.run_ok(&[]);
    assert_eq!(done_or_queued(&f, &ids), (12, 0));
}

/// `POST /devices/{id}/bootstrap` (DM bootstrap profile, NETWORKID): the server builds a DMAcc
/// for itself holding the device's credentials, as WBXML TNDS with its MAC, and pushes it; the
/// device's listener verifies the MAC with its network secret and adds the account; the device
/// then runs a session with the server through that account alone.
#[test]
fn e2e_bootstrap_pushed_then_used_for_a_session() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    let dev = tmp.path().join("dev");
    let d = dev.to_str().expect("UTF-8");
    // A device from the factory that knows another server only.
    let out = omadm(
        &[
            "device",
            "init",
            "--dir",
            d,
            "--device-id",
            DEV,
            "--server-url",
            "http://127.0.0.1:9/dm",
            "--server-id",
            "factory",
            "--client-name",
            "f",
            "--client-secret",
            "f",
            "--server-secret",
            "f",
            "--auth",
            "basic",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = DeviceDir::new(&dev);
    let mut c = dir.load_config().expect("device.toml");
    c.bootstrap.network_secret = Some("310150123456789".into());
    dir.save_config(&c).expect("device.toml");
    let l = Listening::start(&dev);
    server.api_ok(
        "POST",
        "/devices",
        Some(&json!({
            "device_id": DEV,
            "client_auth": { "type": "digest", "name": CL_NAME, "secret": CL_SECRET },
            "server_auth": { "name": SID, "secret": SRV_SECRET },
            "push_url": l.url(),
        })),
        201,
    );
    let path = format!("/devices/{}/bootstrap", seg(DEV));
    // A wrong secret: the device refuses the MAC (403) and adds nothing.
    let v = server.api_ok(
        "POST",
        &path,
        Some(&json!({ "sec": "NETWORKID", "network_secret": "000000000000000", "addr": server.dm_url() })),
        200,
    );
    assert_eq!(v["push_status"], 403, "{v}");
    let v = server.api_ok(
        "POST",
        &path,
        Some(&json!({ "sec": "NETWORKID", "network_secret": "310150123456789", "addr": server.dm_url() })),
        200,
    );
    assert_eq!(v["push_status"], 200, "{v}\n{:?}", l.lines());
    assert!(
        v["content_type"]
            .as_str()
            .is_some_and(|ct| ct.contains("SEC=NETWORKID") && ct.contains("MAC=")),
        "{v}"
    );
    let t = Tree::load(&dev.join("tree.bin")).expect("tree");
    let sid = t
        .get(Caller::Device, "./DMAcc/omadm/ServerID")
        .expect("the bootstrapped account");
    assert_eq!(sid.data, SID.as_bytes());
    drop(l);
    let id = server.api_ok(
        "POST",
        &format!("/devices/{}/commands", seg(DEV)),
        Some(&json!({ "op": "Get", "target": "./DevInfo/DevId" })),
        201,
    )["id"]
        .as_i64()
        .expect("id");
    let out = omadm(&["device", "run", "--dir", d, "--server-id", SID], None);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let c = server.api_ok(
        "GET",
        &format!("/devices/{}/commands/{id}", seg(DEV)),
        None,
        200,
    );
    assert_eq!(c["state"], "done", "{c}");
    assert_eq!(c["results"][0]["data"], DEV, "{c}");
}
