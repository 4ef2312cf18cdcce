//! Two `omadm server` replicas on one PostgreSQL database (issue 7, item 2), when
//! `OMADM_TEST_POSTGRES_URL` names a server (`.ci/run` sets it); skipped otherwise.
//!
//! Replicas A and B run on 127.0.0.1 over a schema of the test's own. `omadm loadtest` talks to a
//! round-robin relay in this test that sends the DM messages to A and B in turn, message by
//! message, so every session's state moves between the replicas. The REST calls that enroll
//! devices and queue commands go to A (an enqueue is not idempotent, and A is never killed).
//! While the sessions run, B is killed with SIGKILL twice, each time while a message of it is in
//! flight, and restarted on the same port. The relay then acts as a device would: a message
//! that got no answer (connection refused, reset, closed) is sent again, byte for byte, to the
//! other replica, which either processes it (B died before its commit) or answers it from the
//! stored replay (B died after it).
//!
//! Afterwards, through the REST API: every command is done with status 200 (or still queued),
//! the totals are devices × sessions × commands per session, every session completed, and in
//! the audit log no command id is sent twice in one session; a command sent in two sessions was
//! requeued in between (delivery across sessions is at least once, by design).

#[path = "common/relay.rs"]
mod relay;
#[path = "common/rest.rs"]
mod rest;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use relay::{Relay, Stats};
use rest::{seg, Server};
use serde_json::Value;

const DEVICES: usize = 40;
const SESSIONS: usize = 6;
const COMMANDS: usize = 3;
const TOKEN: &str = "replica-test-token";
/// The DM messages answered before each kill of B.
const KILL_AFTER: [usize; 2] = [120, 330];
/// The whole load test, bounded.
const LOAD_LIMIT: Duration = Duration::from_secs(45);

/// The `omadm loadtest` child, killed when dropped.
struct Load(Child);

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A schema of the test's own, dropped when this is dropped.
struct Schema {
    base: String,
    name: String,
}

fn psql(base: &str, sql: &str) -> bool {
    Command::new("psql")
        .args(["-w", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", sql])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl Drop for Schema {
    fn drop(&mut self) {
        psql(&self.base, &format!("DROP SCHEMA {} CASCADE", self.name));
    }
}

fn start(dir: &std::path::Path, listen: &str, url: &str) -> Server {
    let mut s = Server::start_with_db(dir, listen, url, &["--admin-token", TOKEN]);
    s.token = TOKEN.into();
    s
}

fn answered(stats: &Stats) -> usize {
    stats.answered[0].load(Ordering::SeqCst) + stats.answered[1].load(Ordering::SeqCst)
}

#[test]
fn two_replicas_one_killed_during_a_load_test() {
    let Ok(base) = std::env::var("OMADM_TEST_POSTGRES_URL") else {
        eprintln!("skipped: OMADM_TEST_POSTGRES_URL is not set");
        return;
    };
    let t0 = Instant::now();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let schema = Schema {
        base: base.clone(),
        name: format!("replicas_{}_{nanos}", std::process::id()),
    };
    assert!(
        psql(&base, &format!("CREATE SCHEMA {}", schema.name)),
        "psql could not create the schema"
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options[search_path]={}", schema.name);
    let tmp = tempfile::tempdir().expect("tempdir");

    let a = start(tmp.path(), "127.0.0.1:0", &url);
    let mut b = start(tmp.path(), "127.0.0.1:0", &url);
    let b_listen = b.addr.to_string();
    let relay = Relay::start([a.addr, b.addr]);
    let stats = relay.stats.clone();

    let (devices, sessions, commands) = (
        DEVICES.to_string(),
        SESSIONS.to_string(),
        COMMANDS.to_string(),
    );
    let relay_url = format!("http://{}", relay.addr);
    let mut load = Load(
        Command::new(env!("CARGO_BIN_EXE_omadm"))
            .args(["loadtest", "--server", &relay_url, "--admin-token", TOKEN])
            .args(["--devices", &devices, "--concurrency", "8"])
            .args(["--sessions", &sessions, "--commands-per-session", &commands])
            .args(["--auth", "digest", "--json"])
            .env_remove("OMADM_ADMIN_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn omadm loadtest"),
    );
    let mut out_pipe = load.0.stdout.take().expect("stdout");
    let mut err_pipe = load.0.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });

    // Kill B while one of its messages is in flight, restart it on its port, twice.
    let deadline = Instant::now() + LOAD_LIMIT;
    let mut kills = Vec::new();
    for threshold in KILL_AFTER {
        loop {
            assert!(
                Instant::now() < deadline,
                "the load test did not reach {threshold} messages in time ({} so far)",
                answered(&stats)
            );
            if let Ok(Some(st)) = load.0.try_wait() {
                panic!(
                    "the load test ended ({st}) before {threshold} messages ({} answered); \
                     make it longer",
                    answered(&stats)
                );
            }
            if answered(&stats) >= threshold && stats.in_flight[1].load(Ordering::SeqCst) > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let in_flight = stats.in_flight[1].load(Ordering::SeqCst);
        b.kill();
        let at = answered(&stats);
        let down = Instant::now();
        drop(b);
        b = start(tmp.path(), &b_listen, &url);
        kills.push((at, in_flight, answered(&stats), down.elapsed()));
    }

    let status = loop {
        if let Some(st) = load.0.try_wait().expect("wait loadtest") {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the load test did not end within {LOAD_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_reader.join().expect("stdout reader");
    let err = err_reader.join().expect("stderr reader");
    let report: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}\n{err}"));
    let load_elapsed = t0.elapsed();

    let (ans_a, ans_b) = (
        stats.answered[0].load(Ordering::SeqCst),
        stats.answered[1].load(Ordering::SeqCst),
    );
    let (refused, resent, lost) = (
        stats.refused.load(Ordering::SeqCst),
        stats.resent.load(Ordering::SeqCst),
        stats.lost.load(Ordering::SeqCst),
    );
    eprintln!(
        "loadtest {status}: {report}\nrelay: answered A={ans_a} B={ans_b}, refused={refused}, \
         resent after a kill={resent}, lost={lost}, api={}; kills (answered, B in flight, \
         answered after restart, B down for): {kills:?}; load phase {load_elapsed:?}",
        stats.api.load(Ordering::SeqCst)
    );
    assert_eq!(kills.len(), 2);
    assert!(ans_a > 0 && ans_b > 0, "the messages went to both replicas");
    assert_eq!(lost, 0, "every request got an answer from a replica");
    assert!(
        resent >= 1,
        "at least one message was in flight at B when it was killed"
    );
    assert_eq!(report["sessions"], (DEVICES * SESSIONS) as u64, "{report}");
    assert_eq!(report["errors"], 0, "{report}\n{err}");
    assert_eq!(report["completed"], (DEVICES * SESSIONS) as u64, "{report}");
    assert!(status.success(), "{report}\n{err}");

    check_store(&a);
    drop(relay);
    drop(b);
    drop(a);
    eprintln!("total {:?}", t0.elapsed());
}

/// Every command done once with status 200 (or still queued), every session completed, and no
/// command sent twice in one session (the audit log).
fn check_store(srv: &Server) {
    let list = srv.api_ok("GET", "/devices?limit=1000", None, 200);
    let ids: Vec<String> = list
        .as_array()
        .expect("a device list")
        .iter()
        .filter_map(|d| d["device_id"].as_str())
        .filter(|id| id.starts_with("LOAD:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), DEVICES, "{ids:?}");
    let (mut total, mut done, mut queued, mut sent_twice) = (0, 0, 0, 0);
    let mut bad = Vec::new();
    for id in &ids {
        let cmds = srv.api_ok("GET", &format!("/devices/{}/commands", seg(id)), None, 200);
        let cmds = cmds.as_array().expect("a command list");
        total += cmds.len();
        assert_eq!(cmds.len(), SESSIONS * COMMANDS, "{id}: {cmds:?}");
        for c in cmds {
            match c["state"].as_str() {
                Some("done") if c["status"] == 200 => done += 1,
                Some("queued") => queued += 1,
                _ => bad.push(format!("{id}: {c}")),
            }
        }

        let sessions = srv.api_ok("GET", &format!("/devices/{}/sessions", seg(id)), None, 200);
        let sessions = sessions.as_array().expect("a session list");
        assert_eq!(sessions.len(), SESSIONS, "{id}: {sessions:?}");
        for s in sessions {
            assert_eq!(s["outcome"], "completed", "{id}: {s}");
        }

        let log = srv.api_ok(
            "GET",
            &format!("/audit?device_id={}&limit=10000", seg(id)),
            None,
            200,
        );
        let log = log.as_array().expect("an audit list");
        // Per session, the command ids sent in it; per command, the sessions it was sent in.
        let mut per_session: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut sent_in: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut requeued: BTreeSet<i64> = BTreeSet::new();
        for e in log {
            let session = e["session_id"].as_str().unwrap_or("").to_owned();
            let event_ids = || {
                e["detail"]["ids"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_i64).collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            match e["event"].as_str() {
                Some("command.sent") => {
                    for cid in event_ids() {
                        per_session.entry(session.clone()).or_default().push(cid);
                        sent_in.entry(cid).or_default().push(session.clone());
                    }
                }
                Some("command.requeued") => requeued.extend(event_ids()),
                _ => {}
            }
        }
        for (session, sent) in &per_session {
            let unique: BTreeSet<_> = sent.iter().collect();
            assert_eq!(
                unique.len(),
                sent.len(),
                "{id}: a command sent twice in session {session}: {sent:?}"
            );
        }
        for c in cmds {
            let cid = c["id"].as_i64().expect("command id");
            let Some(sessions) = sent_in.get(&cid) else {
                assert_eq!(c["state"], "queued", "{id}: done but never sent: {c}");
                continue;
            };
            if sessions.len() > 1 {
                sent_twice += 1;
                assert!(
                    requeued.contains(&cid),
                    "{id}: command {cid} sent in sessions {sessions:?} without a requeue"
                );
            }
            if c["state"] == "done" {
                assert_eq!(
                    c["session_id"].as_str(),
                    sessions.last().map(String::as_str),
                    "{id}: done in another session than it was last sent in: {c}"
                );
            }
        }
    }
    assert!(bad.is_empty(), "commands neither done nor queued: {bad:#?}");
    assert_eq!(total, DEVICES * SESSIONS * COMMANDS);
    assert_eq!(done + queued, total);
    eprintln!(
        "store: {total} commands, {done} done, {queued} queued, {sent_twice} sent in two sessions"
    );
}
