//! `omadm loadtest` end to end (issue 7, item 3): the real `omadm server` on a temporary SQLite
//! file, the load generator run against it for each client authentication and for WBXML with
//! `--baseline`; its JSON report checked, and the queued commands read back through the REST API.
//! A server that aborts every session shows the failure path: errors counted, exit status 1.
//! Two servers on one SQLite file share a run given `--server` twice.

mod common;
#[path = "common/rest.rs"]
mod rest;

use common::{omadm, stderr, stdout};
use rest::{seg, Server};
use serde_json::Value;

const DEVICES: usize = 20;
const SESSIONS: usize = 2;
const COMMANDS: usize = 3;

/// Runs the load test against `srv`; (exit code, the JSON report, stderr).
fn loadtest(srv: &Server, extra: &[&str]) -> (Option<i32>, Value, String) {
    let url = format!("http://{}", srv.addr);
    let (devices, sessions, commands) = (
        DEVICES.to_string(),
        SESSIONS.to_string(),
        COMMANDS.to_string(),
    );
    let mut args = vec![
        "loadtest",
        "--server",
        &url,
        "--admin-token",
        &srv.token,
        "--devices",
        &devices,
        "--concurrency",
        "4",
        "--sessions",
        &sessions,
        "--commands-per-session",
        &commands,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = omadm(&args, None);
    let text = stdout(&out);
    let report: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {text}\n{}", stderr(&out)));
    (out.status.code(), report, stderr(&out))
}

fn num(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// The devices this run enrolled (ids `LOAD:<run>:<n>`).
fn load_devices(srv: &Server) -> Vec<String> {
    let list = srv.api_ok("GET", "/devices?limit=1000", None, 200);
    list.as_array()
        .expect("a device list")
        .iter()
        .filter_map(|d| d["device_id"].as_str())
        .filter(|id| id.starts_with("LOAD:"))
        .map(str::to_owned)
        .collect()
}

/// A clean run: every session completed, percentiles ordered, and every command of a few
/// devices done with status 200 (the Gets with their Results).
fn assert_clean_run(srv: &Server, code: Option<i32>, r: &Value, err: &str) {
    assert_eq!(code, Some(0), "{r}\n{err}");
    assert_eq!(r["sessions"], (DEVICES * SESSIONS) as u64, "{r}");
    assert_eq!(r["completed"], (DEVICES * SESSIONS) as u64, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    assert_eq!(r["error_messages"], Value::Array(Vec::new()), "{r}");
    // At least pkg#1 -> pkg#2 and pkg#3 -> pkg#4 per session.
    assert!(
        num(r, "/messages") >= (2 * DEVICES * SESSIONS) as f64,
        "{r}"
    );
    assert!(num(r, "/sessions_per_s") > 0.0, "{r}");
    assert!(num(r, "/messages_per_s") > 0.0, "{r}");
    let (p50, p95, p99) = (
        num(r, "/latency_ms/p50"),
        num(r, "/latency_ms/p95"),
        num(r, "/latency_ms/p99"),
    );
    assert!(
        0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= num(r, "/latency_ms/max"),
        "{r}"
    );

    let ids = load_devices(srv);
    assert_eq!(ids.len(), DEVICES, "{ids:?}");
    for id in ids.iter().take(4) {
        let cmds = srv.api_ok("GET", &format!("/devices/{}/commands", seg(id)), None, 200);
        let cmds = cmds.as_array().expect("a command list");
        assert_eq!(cmds.len(), SESSIONS * COMMANDS, "{id}: {cmds:?}");
        for c in cmds {
            assert_eq!(c["state"], "done", "{id}: {c}");
            assert_eq!(c["status"], 200, "{id}: {c}");
            if c["spec"]["op"] == "Get" {
                assert_eq!(c["results"].as_array().map(Vec::len), Some(1), "{id}: {c}");
            }
        }
    }
}

fn clean_run(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = Server::start(dir.path(), &[]);
    let (code, r, err) = loadtest(&srv, extra);
    assert_clean_run(&srv, code, &r, &err);
    r
}

#[test]
fn loadtest_basic() {
    let r = clean_run(&["--auth", "basic"]);
    assert_eq!(r["auth"], "basic");
    assert_eq!(r["encoding"], "xml");
    assert_eq!(r["baseline"], Value::Null);
}

#[test]
fn loadtest_digest() {
    // Two sessions per device: the second uses the NextNonce the first left in the tree.
    let r = clean_run(&["--auth", "digest"]);
    assert_eq!(r["auth"], "digest");
}

#[test]
fn loadtest_hmac() {
    let r = clean_run(&["--auth", "hmac"]);
    assert_eq!(r["auth"], "hmac");
}

#[test]
fn loadtest_queues_per_device_when_asked() {
    // One REST call per command instead of the default bulk calls: the same clean run.
    let r = clean_run(&["--queue", "per-device"]);
    assert_eq!(r["errors"], 0, "{r}");
}

#[test]
fn loadtest_wbxml_with_baseline() {
    let r = clean_run(&["--encoding", "wbxml", "--baseline"]);
    assert_eq!(r["encoding"], "wbxml");
    let b = &r["baseline"];
    assert_eq!(b["requests"], r["messages"], "{r}");
    assert_eq!(b["errors"], 0, "{r}");
    assert!(num(b, "/requests_per_s") > 0.0, "{r}");
    // The load generator's own CPU over the sessions (Linux).
    if cfg!(target_os = "linux") {
        assert!(num(&r, "/cpu/seconds") >= 0.0, "{r}");
        let per = num(&r, "/cpu/per_session_us");
        let want = num(&r, "/cpu/seconds") * 1e6 / num(&r, "/sessions");
        assert!((per - want).abs() <= 1e-6 * want.max(1.0), "{r}");
    }
    // Three runs by default, in ascending order; the median one counts.
    let runs: Vec<f64> = b["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(runs.len(), 3, "{r}");
    assert!(runs.windows(2).all(|w| w[0] <= w[1]), "{r}");
    assert_eq!(runs[1], num(b, "/requests_per_s"), "{r}");
    // ratio = sessions/s ÷ (requests/s ÷ messages per session)
    let want =
        num(&r, "/sessions_per_s") * num(&r, "/messages_per_session") / num(b, "/requests_per_s");
    assert!(
        (num(b, "/ratio") - want).abs() < 1e-9 * want.max(1.0),
        "{r}"
    );
    // issue 7's ratio = sessions/s ÷ (requests/s ÷ 4)
    let want = num(&r, "/sessions_per_s") * 4.0 / num(b, "/requests_per_s");
    assert!(
        (num(b, "/issue_ratio") - want).abs() < 1e-9 * want.max(1.0),
        "{r}"
    );
}

#[test]
fn loadtest_spreads_sessions_over_two_replicas() {
    // Two servers on one SQLite file (WAL, BEGIN IMMEDIATE): `--server A --server B`.
    const TOKEN: &str = "lt-two-replicas-token";
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("omadm.db").display());
    let mut a = Server::start_with_db(dir.path(), "127.0.0.1:0", &url, &["--admin-token", TOKEN]);
    a.token = TOKEN.into();
    let mut b = Server::start_with_db(dir.path(), "127.0.0.1:0", &url, &["--admin-token", TOKEN]);
    b.token = TOKEN.into();
    let url_b = format!("http://{}", b.addr);
    let (code, r, err) = loadtest(
        &a,
        &["--server", &url_b, "--baseline", "--baseline-runs", "1"],
    );
    assert_clean_run(&a, code, &r, &err);
    assert_eq!(
        r["baseline"]["runs"].as_array().map(Vec::len),
        Some(1),
        "{r}"
    );
    assert_eq!(r["server"], format!("http://{}", a.addr), "{r}");
    assert_eq!(
        r["servers"],
        serde_json::json!([format!("http://{}", a.addr), url_b]),
        "{r}"
    );
    assert_eq!(r["baseline"]["errors"], 0, "{r}");
    // Both replicas see the same devices and commands.
    assert_eq!(load_devices(&b).len(), DEVICES);
}

#[test]
fn loadtest_counts_failed_sessions_and_exits_1() {
    // A server that aborts (1223) every session at its second message.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "max_messages_per_session = 1\n").expect("config");
    let srv = Server::start(dir.path(), &["--config", config.to_str().expect("utf-8")]);
    let (code, r, err) = loadtest(&srv, &["--auth", "basic"]);
    assert_eq!(code, Some(1), "{r}\n{err}");
    assert_eq!(r["sessions"], (DEVICES * SESSIONS) as u64, "{r}");
    assert_eq!(r["errors"], (DEVICES * SESSIONS) as u64, "{r}");
    assert_eq!(r["completed"], 0, "{r}");
    assert_eq!(r["latency_ms"], Value::Null, "{r}");
    let msgs = r["error_messages"].as_array().expect("error messages");
    assert_eq!(msgs.len(), 5, "{r}");
    assert!(
        msgs.iter()
            .all(|m| m.as_str().is_some_and(|m| m.starts_with("LOAD:"))),
        "{r}"
    );
    assert!(err.contains("40 of 40 sessions failed"), "{err}");
}
