//! Crash test of `omadm server` (issue 6): the server is killed with SIGKILL again and again,
//! and restarted on the same port and database, while 50 devices run DM sessions against it
//! (`omadm device run --retries 8`: a message the server never answered is sent again, byte for
//! byte). Afterwards every queued command is done exactly once: each `Add` of a unique leaf
//! answered 200 (a second delivery would answer 418, the node exists), each leaf in the
//! device's tree with its data, none lost, none failed, and no command sent twice in one
//! session (the audit log).
//!
//! The devices reach the server through a small HTTP relay, so that half of the kills land
//! exactly where a crash hurts most: the relay passes a DM message on, waits for the server's
//! answer (sent only after the message's transaction committed), kills the server and drops
//! the answer. The other half land at whatever moment the timer says.
//!
//! What makes it hold: each DM message is one store transaction; a client that repeats its
//! last message because the answer was lost (the server died between its commit and its
//! reply) gets the stored answer again (`Replay`), nothing applied twice; a message whose
//! transaction never committed is processed anew; nonces live in the same transaction.
//!
//! Out of scope: a device that gives up on a message (its retries outlast no outage here)
//! leaves its commands `sent`; they are sent again in its next session (`requeue_stale`), at
//! least once by design, and an `Add` it had already applied then answers 418.
#![cfg(unix)]

mod common;
#[path = "common/rest.rs"]
mod rest;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use common::{omadm, stderr, stdout};
use omadm_tree::{Caller, Tree};
use rest::seg;
use serde_json::{json, Value};

const DEVICES: usize = 50;
/// Queued `Add`s per device.
const K: usize = 4;
/// Devices running a session at once.
const WORKERS: usize = 10;
/// Device `i` starts its first session no sooner than `i * STAGGER` after the kill phase
/// begins, so that sessions run during the whole of it.
const STAGGER: Duration = Duration::from_millis(50);
/// Before each kill: how long the server runs (ms), whether the kill waits for the next DM
/// answer to pass the relay (and drops it), how long the server then stays dead (ms).
const KILLS: [(u64, bool, u64); 10] = [
    (150, false, 60),
    (120, true, 0),
    (320, false, 0),
    (110, true, 150),
    (260, false, 20),
    (100, true, 300),
    (400, false, 80),
    (180, true, 10),
    (230, false, 120),
    (140, true, 40),
];
/// How long an armed relay waits for a DM answer before the kill happens anyway.
const ARMED_WAIT: Duration = Duration::from_secs(3);
/// Rounds of re-running the devices whose session failed, after the kill phase.
const MAX_ROUNDS: usize = 5;
const TOKEN: &str = "crash-test-admin-token";
const WAIT: Duration = Duration::from_secs(20);
/// Value bytes of each `Add`: with the devices' MaxMsgSize of 2 KiB, two per message, so a
/// session's package #2 spans messages.
const PAD: usize = 600;

/// `omadm server` on a fixed port over `dir/omadm.db`, started again after each kill; killed
/// when dropped.
struct Crashy {
    child: Mutex<Option<Child>>,
    addr: SocketAddr,
    db: PathBuf,
    log: PathBuf,
    starts: AtomicUsize,
}

impl Crashy {
    fn new(dir: &Path) -> Crashy {
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("its address")
        };
        let s = Crashy {
            child: Mutex::new(None),
            addr,
            db: dir.join("omadm.db"),
            log: dir.join("server.log"),
            starts: AtomicUsize::new(0),
        };
        s.start();
        s
    }

    /// Starts the server and waits until it listens. A port briefly unavailable (a loopback
    /// connection that took it as its own port while the server was down) is tried again.
    fn start(&self) {
        for _ in 0..50 {
            if let Some(c) = self.try_start() {
                *self.child.lock().expect("lock") = Some(c);
                self.starts.fetch_add(1, Ordering::Relaxed);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "omadm server does not start again; see {}",
            self.log.display()
        );
    }

    fn try_start(&self) -> Option<Child> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_omadm"))
            .arg("server")
            .args(["--listen", &self.addr.to_string(), "--db"])
            .arg(format!("sqlite://{}", self.db.display()))
            .args(["--admin-token", TOKEN])
            .env_remove("OMADM_ADMIN_TOKEN")
            .env_remove("OMADM_LISTEN")
            .env_remove("OMADM_DB")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn omadm server");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                // The receiver goes away once the server listens; keep draining the pipe.
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("omadm server listening on ") => return Some(child),
                Ok(_) => {}
                Err(_) => {
                    // Exited (the port was taken) or silent for too long.
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        }
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(&self) {
        if let Some(mut c) = self.child.lock().expect("lock").take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn api(&self, method: &str, path: &str, body: Option<&Value>, want: u16) -> Value {
        let (code, text) = rest::request(
            self.addr,
            method,
            &format!("/api/v1{path}"),
            Some(TOKEN),
            body.map(Value::to_string),
        );
        assert_eq!(code, want, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

impl Drop for Crashy {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Relays `POST /dm` from the devices to the server, one request per connection. When armed,
/// it keeps the next DM answer the server gives (sent only after the message's transaction
/// committed): it kills the server and closes the device's connection without an answer.
struct Relay {
    addr: SocketAddr,
    armed: Arc<AtomicBool>,
    /// Answers dropped so far, each after a kill.
    dropped: Arc<AtomicUsize>,
}

impl Relay {
    /// Listens on a free port; its threads live as long as the test process (they hold the
    /// server weakly, so dropping it still kills it).
    fn start(server: &Arc<Crashy>) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").expect("a relay port");
        let addr = l.local_addr().expect("its address");
        let armed = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (weak, a, d) = (Arc::downgrade(server), armed.clone(), dropped.clone());
        let upstream = server.addr;
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let (weak, a, d) = (weak.clone(), a.clone(), d.clone());
                std::thread::spawn(move || relay_one(conn, upstream, &weak, &a, &d));
            }
        });
        Relay {
            addr,
            armed,
            dropped,
        }
    }

    fn dm_url(&self) -> String {
        format!("http://{}/dm", self.addr)
    }
}

/// One request: read from the device, sent to the server (`Connection: close`), its answer read
/// whole and passed back, or dropped when armed. Any failure closes the device's connection
/// without an answer, as a dead server would.
fn relay_one(
    mut down: TcpStream,
    upstream: SocketAddr,
    server: &Weak<Crashy>,
    armed: &AtomicBool,
    dropped: &AtomicUsize,
) {
    let _ = down.set_read_timeout(Some(WAIT));
    let Some(request) = read_request(&mut down) else {
        return;
    };
    let Ok(mut up) = TcpStream::connect_timeout(&upstream, WAIT) else {
        return;
    };
    let _ = up.set_read_timeout(Some(WAIT));
    if up.write_all(&request).is_err() {
        return;
    }
    let mut answer = Vec::new();
    if up.read_to_end(&mut answer).is_err() || answer.is_empty() {
        return;
    }
    if answer.starts_with(b"HTTP/1.1 200")
        && armed
            .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    {
        if let Some(s) = server.upgrade() {
            s.kill();
        }
        dropped.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let _ = down.write_all(&answer);
}

/// An HTTP/1.1 request with a Content-Length body, its `Connection` header replaced by
/// `Connection: close`; `None` when the device closed or sent something else.
fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut len = 0usize;
    let mut out = String::new();
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
        if !lower.starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut body = buf[end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut request = out.into_bytes();
    request.extend_from_slice(&body);
    Some(request)
}

/// One simulated device: its id, its directory, its queued commands (id, leaf, data).
struct Device {
    id: String,
    dir: PathBuf,
    commands: Vec<(i64, String, String)>,
}

/// Device `i`: enrolled through the API, its directory made by `omadm device init`, `K` `Add`s
/// queued. The schemes and encodings vary: md5 digest (nonces rotate every session, kept in
/// the store), basic, HMAC; XML and WBXML.
fn device(server: &Crashy, relay: &Relay, root: &Path, i: usize) -> Device {
    let id = format!("IMEI:35{i:013}");
    let (auth, encoding) = match i % 3 {
        0 => ("digest", "xml"),
        1 => ("basic", "wbxml"),
        _ => ("hmac", "xml"),
    };
    let name = format!("dev{i}");
    let secret = format!("dev-secret-{i}");
    server.api(
        "POST",
        "/devices",
        Some(&json!({
            "device_id": id,
            "client_auth": { "type": auth, "name": name, "secret": secret },
            "server_auth": { "name": "omadm", "secret": "srv-secret" },
        })),
        201,
    );
    let dir = root.join(format!("dev{i}"));
    let url = relay.dm_url();
    let out = omadm(
        &[
            "device",
            "init",
            "--dir",
            dir.to_str().expect("UTF-8 temp path"),
            "--device-id",
            &id,
            "--server-url",
            &url,
            "--server-id",
            "omadm",
            "--client-name",
            &name,
            "--client-secret",
            &secret,
            "--server-secret",
            "srv-secret",
            "--auth",
            auth,
            "--encoding",
            encoding,
        ],
        None,
    );
    assert!(out.status.success(), "init: {}", stderr(&out));
    let conf = dir.join("device.toml");
    let text = std::fs::read_to_string(&conf).expect("device.toml");
    assert!(text.contains("max_msg_size = 16384"), "{text}");
    let text = text.replace("max_msg_size = 16384", "max_msg_size = 2048");
    std::fs::write(&conf, text).expect("device.toml written");

    let mut commands = Vec::new();
    for n in 0..K {
        let leaf = format!("./Vendor/C{n}");
        let data = format!("{id}/{n}/{}", "x".repeat(PAD));
        let v = server.api(
            "POST",
            &format!("/devices/{}/commands", seg(&id)),
            Some(&json!({ "op": "Add", "target": leaf, "data": data, "format": "chr" })),
            201,
        );
        commands.push((v["id"].as_i64().expect("command id"), leaf, data));
    }
    Device { id, dir, commands }
}

/// `omadm device run`; (succeeded, what it printed).
fn run_session(d: &Device) -> (bool, String) {
    let out = omadm(
        &[
            "device",
            "run",
            "--dir",
            d.dir.to_str().expect("UTF-8 temp path"),
            "--retries",
            "8",
        ],
        None,
    );
    (
        out.status.success(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

#[test]
fn server_killed_repeatedly_loses_and_repeats_no_command() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Arc::new(Crashy::new(tmp.path()));
    let relay = Relay::start(&server);
    let devices: Vec<Device> = (0..DEVICES)
        .map(|i| device(&server, &relay, tmp.path(), i))
        .collect();
    let setup = started.elapsed();

    // The kill phase: WORKERS devices at a time run their sessions while the server dies.
    let phase = Instant::now();
    let queue: Mutex<VecDeque<usize>> = Mutex::new((0..DEVICES).collect());
    let ok: Vec<AtomicBool> = (0..DEVICES).map(|_| AtomicBool::new(false)).collect();
    let logs: Mutex<BTreeMap<usize, String>> = Mutex::new(BTreeMap::new());
    let sessions_done = AtomicBool::new(false);
    let mut kills = 0;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                s.spawn(|| loop {
                    let Some(i) = queue.lock().expect("lock").pop_front() else {
                        break;
                    };
                    let not_before = phase + STAGGER * i as u32;
                    std::thread::sleep(not_before.saturating_duration_since(Instant::now()));
                    let (good, log) = run_session(&devices[i]);
                    ok[i].store(good, Ordering::Relaxed);
                    if !good {
                        logs.lock().expect("lock").insert(i, log);
                    }
                })
            })
            .collect();
        let killer = s.spawn(|| {
            let mut n = 0;
            for (up, after_answer, down) in KILLS {
                std::thread::sleep(Duration::from_millis(up));
                if sessions_done.load(Ordering::Relaxed) {
                    break;
                }
                if after_answer {
                    let before = relay.dropped.load(Ordering::SeqCst);
                    relay.armed.store(true, Ordering::SeqCst);
                    let until = Instant::now() + ARMED_WAIT;
                    while relay.dropped.load(Ordering::SeqCst) == before && Instant::now() < until {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    if relay.armed.swap(false, Ordering::SeqCst) {
                        // No DM answer came by: the kill happens now.
                        server.kill();
                    } else {
                        // The relay took it: wait until it has killed the server.
                        let until = Instant::now() + WAIT;
                        while relay.dropped.load(Ordering::SeqCst) == before
                            && Instant::now() < until
                        {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                } else {
                    server.kill();
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(down));
                server.start();
            }
            n
        });
        for w in workers {
            w.join().expect("worker");
        }
        sessions_done.store(true, Ordering::Relaxed);
        kills = killer.join().expect("killer");
    });
    let phase_time = phase.elapsed();
    assert!(kills >= 5, "only {kills} kills happened while sessions ran");
    let failed_in_phase: Vec<usize> = (0..DEVICES)
        .filter(|i| !ok[*i].load(Ordering::Relaxed))
        .collect();

    // The server stays up now: a device whose session failed (the server was down longer than
    // its retries) runs again until one succeeds.
    let mut rounds = 0;
    let mut failing = failed_in_phase.clone();
    while !failing.is_empty() && rounds < MAX_ROUNDS {
        rounds += 1;
        failing.retain(|i| {
            let (good, log) = run_session(&devices[*i]);
            if !good {
                logs.lock().expect("lock").insert(*i, log);
            }
            !good
        });
    }
    assert!(
        failing.is_empty(),
        "devices {failing:?} never had a successful session; last output: {:#?}",
        logs.lock().expect("lock")
    );

    // Every command done once, with 200; nothing lost, nothing extra.
    let mut audit_ids: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for d in &devices {
        let list = server.api(
            "GET",
            &format!("/devices/{}/commands", seg(&d.id)),
            None,
            200,
        );
        let list = list.as_array().expect("a list of commands");
        assert_eq!(list.len(), K, "{}: {list:?}", d.id);
        let tree = Tree::load(&d.dir.join("tree.bin")).expect("tree.bin loads");
        for (cid, leaf, data) in &d.commands {
            let c = server.api(
                "GET",
                &format!("/devices/{}/commands/{cid}", seg(&d.id)),
                None,
                200,
            );
            assert_eq!(
                (c["state"].as_str(), c["status"].as_u64()),
                (Some("done"), Some(200)),
                "{} command {cid} ({leaf}): {c}\n{}",
                d.id,
                logs.lock()
                    .expect("lock")
                    .values()
                    .cloned()
                    .collect::<String>()
            );
            let v = tree
                .get(Caller::Device, leaf)
                .unwrap_or_else(|e| panic!("{}: {leaf} missing from the tree: {e}", d.id));
            assert_eq!(String::from_utf8_lossy(&v.data), data.as_str(), "{}", d.id);
            audit_ids.entry(d.id.clone()).or_default().insert(*cid);
        }
    }

    // The audit log: no command id in two `command.sent` lines of one session.
    let audit = server.api("GET", "/audit?limit=10000", None, 200);
    let audit = audit.as_array().expect("audit lines");
    assert!(audit.len() < 10_000, "the audit log was cut short");
    let mut sent: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    let count = |event: &str| audit.iter().filter(|a| a["event"] == event).count();
    let (repeated, requeued, restarted) = (
        count("message.repeated"),
        count("command.requeued"),
        count("session.restarted"),
    );
    for a in audit.iter().filter(|a| a["event"] == "command.sent") {
        let key = (
            a["device_id"].as_str().unwrap_or_default().to_owned(),
            a["session_id"].as_str().unwrap_or_default().to_owned(),
        );
        let ids = a["detail"]["ids"].as_array().expect("detail.ids");
        sent.entry(key)
            .or_default()
            .extend(ids.iter().map(|v| v.as_i64().expect("an id")));
    }
    for ((dev, session), ids) in &sent {
        let unique: BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "{dev} session {session} sent a command twice: {ids:?}"
        );
        let queued = audit_ids.get(dev).expect("a device of the test");
        assert!(unique.is_subset(queued), "{dev}: {ids:?} not queued");
    }
    // Each answer the relay dropped was asked for again, byte for byte, and answered from the
    // store.
    let dropped = relay.dropped.load(Ordering::SeqCst);
    assert!(dropped >= 2, "only {dropped} kills right after a commit");
    assert!(
        repeated >= dropped,
        "{dropped} answers lost after their commit, only {repeated} repeats answered from the store"
    );
    let every_sent: BTreeSet<i64> = sent.values().flatten().copied().collect();
    let every_queued: BTreeSet<i64> = audit_ids.values().flatten().copied().collect();
    assert_eq!(every_sent, every_queued, "every command was sent");

    println!(
        "{DEVICES} devices x {K} commands: {kills} kills ({dropped} right after a commit, {} \
         server starts) in {:.1?}; \
         {} sessions failed in the kill phase, {rounds} re-run round(s); {repeated} repeated \
         message(s) answered from the store, {requeued} requeue(s), {restarted} restarted \
         session(s); setup {setup:.1?}, total {:.1?}",
        server.starts.load(Ordering::Relaxed),
        phase_time,
        failed_in_phase.len(),
        started.elapsed()
    );
}
