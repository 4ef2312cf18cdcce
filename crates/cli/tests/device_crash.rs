//! Crash tests of `omadm device run`: the agent killed with SIGKILL in the middle of an Atomic
//! and in the middle of a large object restarts with the tree as it was before the command
//! (issue 5). The tree is saved only after a whole server message ran, atomically (temporary
//! file, fsync, rename), so a kill leaves either the tree before the message or the tree after
//! all of it, never a part.
#![cfg(unix)]

mod common;
#[path = "common/dm_server.rs"]
mod dm_server;

use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{omadm, stderr, temp};
use dm_server::{DmServer, Reply, Request};
use omadm_security::cred;
use omadm_syncml::{
    Alert, AlertCode, Command, Container, Cred, Data, Item, ItemCommand, Location, Message, Meta,
    Status, SyncBody, SyncHdr,
};
use omadm_tree::{Caller, Tree};

const DEV: &str = "IMEI:358000000000001";
const SID: &str = "crash.example";
const SRV_SECRET: &str = "srv-secret";
const WAIT: Duration = Duration::from_secs(30);

// ---- the device ----

fn init(dir: &Path, url: &str) {
    let d = dir.to_str().expect("UTF-8 temp path");
    let out = omadm(
        &[
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
            "dev",
            "--client-secret",
            "dev-secret",
            "--server-secret",
            SRV_SECRET,
            "--auth",
            "basic",
            "--encoding",
            "xml",
        ],
        None,
    );
    assert!(out.status.success(), "init: {}", stderr(&out));
    // Room for the big Atomic: the server may send messages up to the client's MaxMsgSize.
    let conf = dir.join("device.toml");
    let text = std::fs::read_to_string(&conf).expect("device.toml");
    let text = text.replace("max_msg_size = 16384", "max_msg_size = 8388608");
    std::fs::write(&conf, text).expect("device.toml written");
}

fn tree(dir: &Path) -> Tree {
    Tree::load(&dir.join("tree.bin")).expect("tree.bin loads after the kill")
}

fn leaf(t: &Tree, uri: &str) -> Option<String> {
    t.get(Caller::Device, uri)
        .ok()
        .map(|v| String::from_utf8_lossy(&v.data).into_owned())
}

/// `omadm device run` as a child process (stdin piped when `tty`, for `--ui tty`).
fn spawn_run(dir: &Path, tty: bool) -> Child {
    let d = dir.to_str().expect("UTF-8 temp path");
    let mut args = vec!["device", "run", "--dir", d];
    if tty {
        args.extend(["--ui", "tty"]);
    }
    Process::new(env!("CARGO_BIN_EXE_omadm"))
        .args(&args)
        .stdin(if tty { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn omadm device run")
}

/// SIGKILL, and reap.
fn kill(mut c: Child) {
    c.kill().expect("SIGKILL");
    c.wait().expect("reap");
}

/// Waits (bounded) for `cond`.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs one session to its end; asserts exit 0.
fn run_ok(dir: &Path) {
    let out = omadm(
        &["device", "run", "--dir", dir.to_str().expect("UTF-8")],
        None,
    );
    assert!(out.status.success(), "device run: {}", stderr(&out));
}

// ---- the server's messages ----

// The nonce the device expects the server's next digest over (SRVCRED AAuthData): empty at
// first, then the NextNonce of the device's last Chal (DM Protocol 1.3 §9). Each test's server
// answers on its own thread, so the nonce is per thread.
thread_local! {
    static SRV_NONCE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keeps the NextNonce of a Chal the device put on its Status for the server's SyncHdr.
fn note_chal(req: &Request) {
    use base64::Engine as _;
    for c in &req.message().body.commands {
        if let Command::Status(s) = c {
            let nonce = s
                .chal
                .as_ref()
                .and_then(|ch| ch.meta.more.as_ref()?.next_nonce.clone());
            if let (true, Some(n)) = (s.cmd == "SyncHdr", nonce) {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(n.as_bytes())
                    .expect("NextNonce is base64");
                SRV_NONCE.with(|n| *n.borrow_mut() = bytes);
            }
        }
    }
}

/// The server's answer to `req`: SyncHdr echoing the client's SessionID, Cred (MD5 over the
/// nonce the device gave, SRVCRED) on the first message, the Status for the client's SyncHdr,
/// then `commands`.
///
/// A device that lost the nonce it last issued (killed before the session ended) challenges the
/// server's digest (401/407 with a new Chal); the server then sends its Cred again over that
/// nonce, as DM Protocol 1.3 §9 has it.
fn answer(req: &Request, server_msg: u32, commands: Vec<Command>, final_: bool) -> Message {
    let m = req.message();
    let challenged = m.body.commands.iter().any(|c| {
        matches!(c, Command::Status(s) if s.cmd == "SyncHdr" && (s.data == "401" || s.data == "407"))
    });
    let mut body = vec![Command::Status(Status {
        cmd_id: "1".into(),
        msg_ref: m.hdr.msg_id.clone(),
        cmd_ref: "0".into(),
        cmd: "SyncHdr".into(),
        target_refs: vec![m.hdr.target.loc_uri.clone()],
        source_refs: vec![m.hdr.source.loc_uri.clone()],
        data: if server_msg == 1 { "212" } else { "200" }.into(),
        ..Status::default()
    })];
    let mut next = 2u32;
    // Status 200 for the client's Alerts and Replace (package #1); nothing else needs one.
    for c in &m.body.commands {
        if matches!(c, Command::Alert(_) | Command::Replace(_)) {
            body.push(Command::Status(Status {
                cmd_id: next.to_string().into(),
                msg_ref: m.hdr.msg_id.clone(),
                cmd_ref: c.cmd_id().into(),
                cmd: c.name().into(),
                data: "200".into(),
                ..Status::default()
            }));
            next += 1;
        }
    }
    let mut commands = commands;
    renumber(&mut commands, &mut next);
    body.extend(commands);
    Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: m.hdr.ver_proto.clone(),
            session_id: m.hdr.session_id.clone(),
            msg_id: server_msg.to_string().into(),
            target: Location::new(m.hdr.source.loc_uri.as_str()),
            source: Location::new(SID),
            cred: (server_msg == 1 || challenged).then(|| {
                Box::new(Cred {
                    meta: Some(Meta::format_type("b64", "syncml:auth-md5")),
                    data: SRV_NONCE
                        .with(|n| cred::md5_digest(SID, SRV_SECRET, &n.borrow()))
                        .into(),
                })
            }),
            ..SyncHdr::default()
        },
        body: SyncBody {
            commands: body,
            final_,
        },
    }
}

fn renumber(cmds: &mut [Command], next: &mut u32) {
    for c in cmds {
        let id = next.to_string();
        *next += 1;
        match c {
            Command::Add(x) | Command::Replace(x) | Command::Delete(x) | Command::Get(x) => {
                x.cmd_id = id.into()
            }
            Command::Alert(a) => a.cmd_id = id.into(),
            Command::Atomic(k) | Command::Sequence(k) => {
                k.cmd_id = id.into();
                renumber(&mut k.commands, next);
            }
            _ => {}
        }
    }
}

fn item_cmd(uri: &str, data: Option<&str>) -> ItemCommand {
    ItemCommand {
        items: vec![Item {
            target: Some(Location::new(uri)),
            meta: data.map(|_| Meta::format_type("chr", "text/plain")),
            data: data.map(|d| Data::Text(d.into())),
            ..Item::default()
        }],
        ..ItemCommand::default()
    }
}

fn add(uri: &str, data: &str) -> Command {
    Command::Add(item_cmd(uri, Some(data)))
}

fn replace(uri: &str, data: &str) -> Command {
    Command::Replace(item_cmd(uri, Some(data)))
}

fn atomic(commands: Vec<Command>) -> Command {
    Command::Atomic(Container {
        commands,
        ..Container::default()
    })
}

fn confirm(text: &str) -> Command {
    let mut a = Alert::new("", AlertCode(1101));
    a.items = vec![
        Item {
            data: Some(Data::Text("MINDT=1".into())),
            ..Item::default()
        },
        Item {
            data: Some(Data::Text(text.into())),
            ..Item::default()
        },
    ];
    Command::Alert(a)
}

/// A chunk of a Replace of `uri`: Size in the first, MoreData on all but the last.
fn replace_chunk(uri: &str, data: &str, size: Option<usize>, more: bool) -> Command {
    let mut meta = Meta::format_type("chr", "text/plain");
    if let Some(s) = size {
        meta.more_mut().size = Some(s.to_string().into());
    }
    Command::Replace(ItemCommand {
        items: vec![Item {
            target: Some(Location::new(uri)),
            meta: Some(meta),
            data: Some(Data::Text(data.into())),
            more_data: more,
            ..Item::default()
        }],
        ..ItemCommand::default()
    })
}

/// A server that runs `script` for the messages of each session: message k of a session (0 =
/// the answer to package #1) is `script(k, req)`. A session starts at each request with MsgID 1.
fn scripted(
    script: impl Fn(u32, &Request) -> Reply + Send + 'static,
) -> (DmServer, Arc<Mutex<u32>>) {
    let k = Arc::new(Mutex::new(0u32));
    let k2 = k.clone();
    let server = DmServer::start(move |req| {
        let mut k = k2.lock().unwrap_or_else(|e| e.into_inner());
        if req.msg.as_ref().is_some_and(|m| m.hdr.msg_id == "1") {
            *k = 0;
        }
        if req.msg.is_some() {
            note_chal(req);
        }
        let r = script(*k, req);
        *k += 1;
        r
    });
    (server, k)
}

/// The values the tests set up before the crash.
const BEFORE: [(&str, &str); 3] = [
    ("./Vendor/A", "a-before"),
    ("./Vendor/C", "c-before"),
    ("./Vendor/Big", "big-before"),
];

fn setup_session(k: u32, req: &Request) -> Reply {
    match k {
        0 => Reply::msg(answer(
            req,
            1,
            BEFORE.iter().map(|(u, v)| add(u, v)).collect(),
            true,
        )),
        _ => Reply::msg(answer(req, 2, Vec::new(), true)),
    }
}

fn assert_before(dir: &Path) {
    let t = tree(dir);
    for (u, v) in BEFORE {
        assert_eq!(leaf(&t, u).as_deref(), Some(v), "{u} after the kill");
    }
    assert_eq!(leaf(&t, "./Vendor/B"), None, "./Vendor/B after the kill");
}

/// Killed while an Atomic is half-run: the Atomic's Replace and Add ran in memory, then a
/// confirmation (1101) inside it waits for the user (`--ui tty`), and the agent is killed. The
/// tree is as before the Atomic; the next session runs normally on it.
#[test]
fn sigkill_mid_atomic_leaves_the_tree_as_before() {
    let dir = temp("crash-atomic");
    let phase = Arc::new(Mutex::new(0u32));
    let p2 = phase.clone();
    let (server, _) = scripted(move |k, req| {
        let phase = *p2.lock().unwrap_or_else(|e| e.into_inner());
        match (phase, k) {
            (0, _) => setup_session(k, req),
            (1, 0) => Reply::msg(answer(
                req,
                1,
                vec![atomic(vec![
                    replace("./Vendor/A", "a-after"),
                    add("./Vendor/B", "b-after"),
                    confirm("Apply the configuration?"),
                    replace("./Vendor/C", "c-after"),
                ])],
                true,
            )),
            // The restarted device: read back what the server sees.
            (_, _) => Reply::msg(answer(req, k + 1, Vec::new(), true)),
        }
    });
    init(&dir, &server.url());
    run_ok(&dir);
    assert_before(&dir);
    let before = std::fs::read(dir.join("tree.bin")).expect("tree.bin");

    *phase.lock().unwrap() = 1;
    let mut child = spawn_run(&dir, true);
    // The prompt of the 1101 is on stderr once the Atomic's first commands ran.
    let mut err = child.stderr.take().expect("stderr");
    let seen = Arc::new(Mutex::new(String::new()));
    let s2 = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        loop {
            match std::io::Read::read(&mut err, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => s2
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    });
    wait_for("the confirmation prompt", || {
        seen.lock().unwrap().contains("Apply the configuration?")
    });
    kill(child);
    reader.join().expect("stderr reader");
    assert_before(&dir);
    assert_eq!(
        std::fs::read(dir.join("tree.bin")).expect("tree.bin"),
        before,
        "tree.bin unchanged by the killed session"
    );

    // Restart: a session runs on the tree as it was.
    *phase.lock().unwrap() = 2;
    run_ok(&dir);
    assert_before(&dir);
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

/// Killed again and again at staggered moments while a message of one Atomic of 3,000 Adds
/// runs: after every kill the tree loads and holds either none or all of the Atomic.
#[test]
fn sigkill_at_any_moment_of_a_large_atomic_never_leaves_a_part() {
    const N: usize = 3_000;
    let dir = temp("crash-atomic-many");
    let phase = Arc::new(Mutex::new(0u32));
    let p2 = phase.clone();
    let (server, _) = scripted(move |k, req| {
        let phase = *p2.lock().unwrap_or_else(|e| e.into_inner());
        match (phase, k) {
            (0, _) => setup_session(k, req),
            (_, 0) => Reply::msg(answer(
                req,
                1,
                vec![atomic(
                    (0..N)
                        .map(|i| add(&format!("./Vendor/Many/N{i}"), "v"))
                        .collect(),
                )],
                true,
            )),
            (_, _) => Reply::msg(answer(req, k + 1, Vec::new(), true)),
        }
    });
    init(&dir, &server.url());
    run_ok(&dir);
    *phase.lock().unwrap() = 1;
    let count = |t: &Tree| {
        (0..N)
            .filter(|i| leaf(t, &format!("./Vendor/Many/N{i}")).is_some())
            .count()
    };
    let mut saw_done = false;
    for round in 0..12u64 {
        let child = spawn_run(&dir, false);
        std::thread::sleep(Duration::from_millis(20 + round * 40));
        kill(child);
        let t = tree(&dir);
        let n = count(&t);
        assert!(
            n == 0 || n == N,
            "round {round}: {n} of the Atomic's {N} Adds on disk"
        );
        assert_eq!(leaf(&t, "./Vendor/A").as_deref(), Some("a-before"));
        saw_done |= n == N;
        if saw_done {
            break;
        }
    }
    // Whatever the kills did, a full session completes the Atomic (or finds it done: Adds of
    // existing nodes then fail and roll back, leaving all N in place).
    run_ok(&dir);
    assert_eq!(count(&tree(&dir)), N);
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

/// Killed while a large object arrives in chunks (two of three received, the server holding
/// the third): the object's node keeps its old value, and the next session works.
#[test]
fn sigkill_mid_large_object_leaves_the_old_value() {
    let dir = temp("crash-lo");
    let phase = Arc::new(Mutex::new(0u32));
    let p2 = phase.clone();
    let big: String = (0..3000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let chunks: Vec<String> = big
        .as_bytes()
        .chunks(1000)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let (server, _) = scripted(move |k, req| {
        let phase = *p2.lock().unwrap_or_else(|e| e.into_inner());
        match (phase, k) {
            (0, _) => setup_session(k, req),
            (1, 0) => Reply::msg(answer(
                req,
                1,
                vec![replace_chunk("./Vendor/Big", &chunks[0], Some(3000), true)],
                false,
            )),
            (1, 1) => Reply::msg(answer(
                req,
                2,
                vec![replace_chunk("./Vendor/Big", &chunks[1], None, true)],
                false,
            )),
            // The third chunk never comes: the client is killed while it waits.
            (1, _) => Reply::Hang(WAIT),
            (_, k) => Reply::msg(answer(req, k + 1, Vec::new(), true)),
        }
    });
    init(&dir, &server.url());
    run_ok(&dir);
    assert_before(&dir);
    let before = std::fs::read(dir.join("tree.bin")).expect("tree.bin");
    let requests_before = server.requests().len();

    *phase.lock().unwrap() = 1;
    let mut child = spawn_run(&dir, false);
    // Package #1, then the answers to chunk 1 (213) and chunk 2 (213): the third request hangs.
    if !server.wait_requests(requests_before + 3, Duration::from_secs(5)) {
        let _ = child.kill();
        let mut e = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut e).ok();
        eprintln!("CLIENT: {e}");
        for r in &server.requests()[requests_before..] {
            eprintln!("{}", String::from_utf8_lossy(&r.body));
        }
        panic!("the client did not answer both chunks");
    }
    let reqs = server.requests();
    let answers_213 =
        reqs[requests_before + 1..]
            .iter()
            .filter(|r| {
                r.message().body.commands.iter().any(
                    |c| matches!(c, Command::Status(s) if s.cmd == "Replace" && s.data == "213"),
                )
            })
            .count();
    assert_eq!(answers_213, 2, "213 for each chunk but the last");
    kill(child);
    assert_before(&dir);
    assert_eq!(
        std::fs::read(dir.join("tree.bin")).expect("tree.bin"),
        before,
        "tree.bin unchanged by the killed session"
    );

    *phase.lock().unwrap() = 2;
    run_ok(&dir);
    assert_before(&dir);
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}
