//! Session stickiness through RespURI (issue 7, item 2): two `omadm server` replicas on one
//! SQLite file behind a round-robin relay (standing for a load balancer), each sending its own
//! address as RespURI. A device's first message of each session goes through the relay; the
//! rest go straight to the replica that answered it. When the RespURI cannot be reached (that
//! replica is gone), the device continues the session at its account's address.

mod common;
#[path = "common/fleet.rs"]
mod fleet;
#[path = "common/relay.rs"]
mod relay;
#[path = "common/rest.rs"]
mod rest;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use common::{omadm, stderr};
use relay::Relay;
use rest::{seg, Server};
use serde_json::json;

const TOKEN: &str = "resp-uri-test-token";
const DEV: &str = "IMEI:990000862471854";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A replica on `port` over `dir/omadm.db`, with `resp_uri` as its RespURI.
fn replica(dir: &Path, port: u16, resp_uri: &str) -> Server {
    let mut s = Server::start_listening(
        dir,
        &format!("127.0.0.1:{port}"),
        &["--admin-token", TOKEN, "--resp-uri", resp_uri],
    );
    s.token = TOKEN.to_owned();
    s
}

fn enroll_and_init(server: &Server, dir: &Path, dm_url: &str) -> PathBuf {
    fleet::enroll(server, DEV);
    fleet::init(dir, DEV, dm_url)
}

/// Queues two Gets, runs one session, and checks both are done.
fn session_with_two_commands(server: &Server, dev: &Path) {
    let ids: Vec<i64> = ["./DevInfo/Mod", "./DevInfo/Man"]
        .iter()
        .map(|t| {
            server.api_ok(
                "POST",
                &format!("/devices/{}/commands", seg(DEV)),
                Some(&json!({ "op": "Get", "target": t })),
                201,
            )["id"]
                .as_i64()
                .expect("id")
        })
        .collect();
    fleet::run(dev);
    for id in ids {
        let c = server.api_ok(
            "GET",
            &format!("/devices/{}/commands/{id}", seg(DEV)),
            None,
            200,
        );
        assert_eq!(
            (c["state"].as_str(), c["status"].as_u64()),
            (Some("done"), Some(200)),
            "{c}"
        );
    }
}

#[test]
fn later_messages_of_a_session_go_straight_to_the_replica_that_started_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (pa, pb) = (free_port(), free_port());
    let a = replica(tmp.path(), pa, &format!("http://127.0.0.1:{pa}/dm"));
    let b = replica(tmp.path(), pb, &format!("http://127.0.0.1:{pb}/dm"));
    let relay = Relay::start([a.addr, b.addr]);
    let dev = enroll_and_init(&a, tmp.path(), &format!("http://{}/dm", relay.addr));

    const SESSIONS: usize = 4;
    for _ in 0..SESSIONS {
        session_with_two_commands(&a, &dev);
    }
    // Each session is two exchanges (package #1 → #2, #3 → #4); only the first of each passed
    // the relay, which alternated between the replicas.
    let through_relay = relay.stats.answered[0].load(Ordering::SeqCst)
        + relay.stats.answered[1].load(Ordering::SeqCst);
    assert_eq!(
        through_relay, SESSIONS,
        "one message per session through the relay"
    );
    assert_eq!(relay.stats.answered[0].load(Ordering::SeqCst), SESSIONS / 2);
    let sessions = a.api_ok("GET", &format!("/devices/{}/sessions", seg(DEV)), None, 200);
    let sessions = sessions.as_array().expect("sessions");
    assert_eq!(sessions.len(), SESSIONS);
    for s in sessions {
        assert_eq!(
            (s["outcome"].as_str(), s["messages"].as_u64()),
            (Some("completed"), Some(2)),
            "{s}"
        );
    }
}

#[test]
fn an_unreachable_resp_uri_falls_back_to_the_account_address() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (port, gone) = (free_port(), free_port());
    // The replica names an address nothing listens on: the one it had before a restart, say.
    let server = replica(tmp.path(), port, &format!("http://127.0.0.1:{gone}/dm"));
    let dev = enroll_and_init(&server, tmp.path(), &server.dm_url());
    session_with_two_commands(&server, &dev);
    session_with_two_commands(&server, &dev);
    let log = std::fs::read_to_string(dev.join("log")).expect("device log");
    let fell_back = log
        .lines()
        .filter(|l| l.contains(&format!("RespURI http://127.0.0.1:{gone}/dm unreachable")))
        .count();
    assert_eq!(fell_back, 2, "once per session: {log}");
}

#[test]
fn resp_uri_must_be_an_http_url() {
    let out = omadm(
        &[
            "server",
            "--db",
            "sqlite::memory:",
            "--resp-uri",
            "ftp://x/dm",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--resp-uri"), "{}", stderr(&out));
}
