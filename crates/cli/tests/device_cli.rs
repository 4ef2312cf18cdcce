//! `omadm device`: init, the push receiver end to end (sessionless command messages, bootstrap,
//! notification) and sessionless reports against a loopback test server. Every socket is on
//! 127.0.0.1 and every wait is bounded.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{omadm, stderr, stdout};
use omadm_client::agent::DeviceDir;
use omadm_security::bootstrap::{self, dmacc_document, SecMethod, Secrets};
use omadm_security::hmac_header::{HmacHeader, MacAlgorithm};
use omadm_syncml::{Command as Cmd, Data, Item, ItemCommand, Location, Message, SyncHdr};
use omadm_tree::stdobj::{AppAuth, DmAcc};
use omadm_tree::{Caller, Tree};

const DEV: &str = "IMEI:493005100592800";
const SID: &str = "dm.example";
const SRV_SECRET: &str = "srv-secret";
const NETWORK_SECRET: &str = "234150000000001";
const WAIT: Duration = Duration::from_secs(20);

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
        "device",
        "--client-secret",
        "dev-secret",
        "--server-secret",
        SRV_SECRET,
    ];
    args.extend_from_slice(extra);
    let out = omadm(&args, None);
    assert!(out.status.success(), "init: {}", stderr(&out));
}

fn tree(dir: &Path) -> Tree {
    Tree::load(&dir.join("tree.bin")).expect("tree.bin loads")
}

fn leaf(t: &Tree, uri: &str) -> Option<String> {
    t.get(Caller::Device, uri)
        .ok()
        .map(|v| String::from_utf8_lossy(&v.data).into_owned())
}

#[test]
fn init_creates_the_directory_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "https://dm.example/dm", &["--auth", "hmac"]);
    let t = tree(&dir);
    assert_eq!(leaf(&t, "./DevInfo/DevId").as_deref(), Some(DEV));
    assert_eq!(
        leaf(&t, "./DMAcc/dm.example/AppAuth/1/AAuthLevel").as_deref(),
        Some("CLCRED")
    );
    assert_eq!(
        leaf(&t, "./DMAcc/dm.example/AppAuth/2/AAuthType").as_deref(),
        Some("HMAC")
    );
    assert_eq!(leaf(&t, "./FUMO/1/State").as_deref(), Some("10"));
    let config = std::fs::read_to_string(dir.join("device.toml")).unwrap();
    assert!(
        config.contains("server_url = \"https://dm.example/dm\""),
        "{config}"
    );
    assert!(config.contains("max_msg_size = 16384"), "{config}");

    let d = dir.to_str().unwrap();
    let again = omadm(
        &[
            "device",
            "init",
            "--dir",
            d,
            "--device-id",
            "x",
            "--server-url",
            "u",
            "--server-id",
            "s",
            "--client-name",
            "n",
            "--client-secret",
            "c",
            "--server-secret",
            "ss",
        ],
        None,
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(leaf(&tree(&dir), "./DevInfo/DevId").as_deref(), Some(DEV));
}

/// `omadm device listen` running on a free loopback port; killed when dropped.
struct Listening {
    child: Child,
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Listening {
    fn start(dir: &Path, extra: &[&str]) -> Listening {
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
        let first = rx.recv_timeout(WAIT);
        let mut l = Listening {
            child,
            addr: "127.0.0.1:1".parse().unwrap(),
            lines,
        };
        let first = first.expect("listen prints its address");
        l.addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        l
    }

    fn post(&self, content_type: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
        http_post(self.addr, content_type, headers, body)
    }

    /// Waits until a printed line contains `needle`.
    fn wait_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return l.clone();
            }
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

/// A minimal HTTP/1.1 POST; (status, body).
fn http_post(
    addr: SocketAddr,
    content_type: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
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
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad answer {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

/// A Sessionless Command Message from the server (Sessionless 1.3 §5.2): WBXML, Final, one
/// Replace.
fn sessionless(uri: &str, value: &str) -> Vec<u8> {
    let mut m = Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.3".into(),
            session_id: "1".into(),
            msg_id: "1".into(),
            target: Location::new(DEV),
            source: Location::new(SID),
            ..SyncHdr::default()
        },
        ..Message::default()
    };
    m.body.commands = vec![Cmd::Replace(ItemCommand {
        cmd_id: "1".into(),
        items: vec![Item {
            data: Some(Data::Text(value.into())),
            ..Item::target(uri)
        }],
        ..ItemCommand::default()
    })];
    m.body.final_ = true;
    m.to_wbxml()
}

/// `x-syncml-hmac` with HMAC-SHA256 over the SRVCRED (AAuthName the ServerID, nonce empty as
/// after init).
fn sign(body: &[u8], secret: &str) -> String {
    HmacHeader::sign(MacAlgorithm::Sha256, SID, secret, b"", body)
        .unwrap()
        .to_header_value()
}

const WBXML: &str = "application/vnd.syncml.dm+wbxml";

#[test]
fn listen_applies_verified_pushes_and_refuses_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &[]);
    // The bootstrap secret the device shares with its network.
    let d = DeviceDir::new(&dir);
    let mut config = d.load_config().unwrap();
    config.bootstrap.network_secret = Some(NETWORK_SECRET.into());
    d.save_config(&config).unwrap();
    let l = Listening::start(&dir, &[]);

    // A sessionless command message signed with SRVCRED: applied, tree saved.
    let body = sessionless("./FUMO/1/PkgName", "fw-2.0");
    let (code, text) = l.post(WBXML, &[("x-syncml-hmac", sign(&body, SRV_SECRET))], &body);
    assert_eq!(code, 200, "{text}");
    assert_eq!(
        leaf(&tree(&dir), "./FUMO/1/PkgName").as_deref(),
        Some("fw-2.0")
    );
    l.wait_line("sessionless: Replace ./FUMO/1/PkgName -> 200");

    // The same with a MAC made with the wrong secret: 403, nothing changes.
    let body = sessionless("./FUMO/1/PkgName", "evil");
    let (code, text) = l.post(WBXML, &[("x-syncml-hmac", sign(&body, "wrong"))], &body);
    assert_eq!(code, 403, "{text}");
    assert!(text.contains("MAC does not verify"), "{text}");
    assert_eq!(
        leaf(&tree(&dir), "./FUMO/1/PkgName").as_deref(),
        Some("fw-2.0")
    );
    // No header at all: 403 too.
    let (code, _) = l.post(WBXML, &[], &body);
    assert_eq!(code, 403);
    // Not a DM message: 400.
    let (code, _) = l.post(
        WBXML,
        &[("x-syncml-hmac", sign(b"junk", SRV_SECRET))],
        b"junk",
    );
    assert_eq!(code, 400);
    // Another media type: 415.
    let (code, _) = l.post("text/plain", &[], b"hello");
    assert_eq!(code, 415);

    // A bootstrap (NETWORKID): the new account appears.
    let acc = DmAcc {
        node: "boot".into(),
        server_id: "boot.example".into(),
        name: None,
        pref_con_ref: None,
        addrs: vec![("https://boot.example/dm".into(), "URI".into(), vec![])],
        aauth_pref: None,
        auths: vec![AppAuth {
            level: "SRVCRED".into(),
            auth_type: "DIGEST".into(),
            name: "boot.example".into(),
            secret: "boot-secret".into(),
            data: Vec::new(),
        }],
    };
    let secrets = Secrets {
        network_secret: Some(NETWORK_SECRET.as_bytes()),
        pin: None,
    };
    let (wbxml, ct) =
        bootstrap::build(&dmacc_document(&acc), SecMethod::NetworkId, &secrets).unwrap();
    // A MAC made with another network secret first: 403, no account.
    let wrong = bootstrap::build(
        &dmacc_document(&acc),
        SecMethod::NetworkId,
        &Secrets {
            network_secret: Some(b"other"),
            pin: None,
        },
    )
    .unwrap()
    .1;
    let (code, text) = l.post(&wrong, &[], &wbxml);
    assert_eq!(code, 403, "{text}");
    assert_eq!(leaf(&tree(&dir), "./DMAcc/boot/ServerID"), None);
    let (code, text) = l.post(&ct, &[], &wbxml);
    assert_eq!(code, 200, "{text}");
    let t = tree(&dir);
    assert_eq!(
        leaf(&t, "./DMAcc/boot/ServerID").as_deref(),
        Some("boot.example")
    );
    assert_eq!(
        leaf(&t, "./DMAcc/boot/AppAddr/1/Addr").as_deref(),
        Some("https://boot.example/dm")
    );
    // The first account and the sessionless change are still there.
    assert_eq!(leaf(&t, "./FUMO/1/PkgName").as_deref(), Some("fw-2.0"));

    // A DM 1.2 notification signed with SRVCRED: 202, and the session is attempted.
    let note = tmp.path().join("pkg0.bin");
    let out = omadm(
        &[
            "notify",
            "build",
            "--server-id",
            SID,
            "--password",
            SRV_SECRET,
            "--nonce-b64",
            "",
            "--session-id",
            "1A2B",
            "-o",
            note.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let pkg0 = std::fs::read(&note).unwrap();
    let (code, text) = l.post("application/vnd.syncml.notification", &[], &pkg0);
    assert_eq!(code, 202, "{text}");
    assert!(text.contains("session 1A2B"), "{text}");
    // Nothing listens at the server URL: the session starts and fails to reach it.
    l.wait_line("session: POST ");
    // The session failed, so the server's retry of the notification starts it again (a
    // duplicate is ignored only while its session stands: device_push.rs).
    let (code, text) = l.post("application/vnd.syncml.notification", &[], &pkg0);
    assert_eq!(code, 202, "{text}");
    // The log file has the events too.
    let log = std::fs::read_to_string(dir.join("log")).unwrap();
    assert!(log.contains("bootstrap applied"), "{log}");
}

#[test]
fn listen_bounds_the_body_and_takes_post_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, "http://127.0.0.1:9/dm", &["--no-fumo"]);
    let l = Listening::start(&dir, &["--max-body", "256"]);
    let big = vec![0u8; 1000];
    let (code, _) = l.post(WBXML, &[("x-syncml-hmac", sign(&big, SRV_SECRET))], &big);
    assert_eq!(code, 413);
    let mut s = TcpStream::connect_timeout(&l.addr, WAIT).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 405"), "{resp}");
}

/// A one-shot HTTP server on 127.0.0.1: answers `status` to the first request and hands back
/// (head, body) of it.
fn one_shot_server(status: u16) -> (SocketAddr, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let deadline = Instant::now() + WAIT;
        let mut s = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(_) => return,
            }
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = s.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let n = s.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[head_end..].to_vec();
        let _ = write!(
            s,
            "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = tx.send((head, body));
    });
    (addr, rx)
}

fn report(dir: &Path) -> std::process::Output {
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
            "battery low",
        ],
        None,
    )
}

#[test]
fn report_posts_a_sessionless_report_alert() {
    let (addr, rx) = one_shot_server(200);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, &format!("http://{addr}/dm"), &[]);
    let out = report(&dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains("HTTP 200"), "{printed}");
    assert!(printed.contains("<Data>1230</Data>"), "{printed}");
    let (head, body) = rx.recv_timeout(WAIT).expect("the server got the report");
    let head_l = head.to_ascii_lowercase();
    assert!(head_l.starts_with("post /dm "), "{head}");
    assert!(
        head_l.contains("content-type: application/vnd.syncml.dm+wbxml"),
        "{head}"
    );
    assert!(head_l.contains("cache-control: no-store"), "{head}");
    assert!(head_l.contains("user-agent: omadm-device/"), "{head}");
    assert!(
        head_l.contains("accept: application/vnd.syncml.dm+wbxml"),
        "{head}"
    );
    let m = Message::from_wbxml(&body).expect("a WBXML DM message");
    assert_eq!(m.hdr.session_id, "0");
    assert_eq!(m.hdr.source.loc_uri, DEV);
    assert_eq!(m.hdr.target.loc_uri, SID);
    assert!(m.hdr.cred.is_some(), "Reporting 1.3 §5.2: Cred is present");
    let [Cmd::Alert(a)] = m.body.commands.as_slice() else {
        panic!("one Alert: {:?}", m.body.commands)
    };
    assert_eq!(a.data.as_deref(), Some("1230"));
    let item = &a.items[0];
    let meta = item.meta.as_ref().unwrap();
    assert_eq!(meta.type_.as_deref(), Some("urn:oma:at:vendor:1.0:battery"));
    assert_eq!(meta.format.as_deref(), Some("chr"));
    assert_eq!(meta.mark(), Some("critical"));
    assert_eq!(item.source.as_ref().unwrap().loc_uri, "./DevDetail");
    assert_eq!(item.data.as_ref().unwrap().as_text(), Some("battery low"));
}

#[test]
fn report_fails_on_a_status_other_than_200() {
    let (addr, rx) = one_shot_server(503);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    init(&dir, &format!("http://{addr}/dm"), &["--encoding", "xml"]);
    let out = report(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("HTTP status 503"), "{}", stderr(&out));
    let (head, body) = rx.recv_timeout(WAIT).expect("the server got the report");
    assert!(head
        .to_ascii_lowercase()
        .contains("application/vnd.syncml.dm+xml"));
    assert_eq!(Message::from_xml(&body).unwrap().hdr.session_id, "0");
}
