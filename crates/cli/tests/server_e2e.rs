//! `omadm server` end to end: the real binary on a temporary SQLite file, devices enrolled through
//! the REST API, commands queued, and real `omadm device run` sessions against it over HTTP on
//! 127.0.0.1.

mod common;
#[path = "common/rest.rs"]
mod rest;

use std::path::{Path, PathBuf};

use common::{omadm, stderr, stdout};
use rest::{seg, Server};
use serde_json::{json, Value};

const DEV: &str = "IMEI:490154203237518";

/// `omadm device init` against `server` for a device enrolled with `auth`.
fn device(dir: &Path, server: &Server, auth: &str) -> PathBuf {
    let d = dir.join("dev");
    let out = omadm(
        &[
            "device",
            "init",
            "--dir",
            d.to_str().expect("UTF-8"),
            "--device-id",
            DEV,
            "--server-url",
            &server.dm_url(),
            "--server-id",
            "omadm",
            "--client-name",
            "dev1",
            "--client-secret",
            "dev-secret",
            "--server-secret",
            "srv-secret",
            "--auth",
            auth,
            "--encoding",
            "xml",
        ],
        None,
    );
    assert!(out.status.success(), "init: {}", stderr(&out));
    d
}

fn enroll(server: &Server, auth: &str) {
    server.api_ok(
        "POST",
        "/devices",
        Some(&json!({
            "device_id": DEV,
            "client_auth": { "type": auth, "name": "dev1", "secret": "dev-secret" },
            "server_auth": { "name": "omadm", "secret": "srv-secret" },
        })),
        201,
    );
}

fn run(dir: &Path) -> String {
    let out = omadm(
        &["device", "run", "--dir", dir.to_str().expect("UTF-8")],
        None,
    );
    assert!(
        out.status.success(),
        "device run: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn queue(server: &Server, spec: Value) -> i64 {
    let v = server.api_ok(
        "POST",
        &format!("/devices/{}/commands", seg(DEV)),
        Some(&spec),
        201,
    );
    v["id"].as_i64().expect("id")
}

fn command(server: &Server, id: i64) -> Value {
    server.api_ok(
        "GET",
        &format!("/devices/{}/commands/{id}", seg(DEV)),
        None,
        200,
    )
}

#[test]
fn enroll_queue_run_and_read_the_results() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    assert!(!server.token.is_empty(), "the first start prints a token");
    enroll(&server, "digest");
    let dev = device(tmp.path(), &server, "digest");
    let add = queue(
        &server,
        json!({ "op": "Add", "target": "./Vendor/E2E", "data": "hello", "format": "chr" }),
    );
    let get = queue(&server, json!({ "op": "Get", "target": "./DevInfo/Man" }));
    let out = run(&dev);
    assert!(out.contains("Add ./Vendor/E2E"), "{out}");
    let a = command(&server, add);
    assert_eq!(a["state"], "done", "{a}");
    assert_eq!(a["status"], 200, "{a}");
    let g = command(&server, get);
    assert_eq!(g["state"], "done", "{g}");
    assert_eq!(g["results"][0]["data"], "omadm", "{g}");
    let d = server.api_ok("GET", &format!("/devices/{}", seg(DEV)), None, 200);
    assert_eq!(d["devinfo"]["Man"], "omadm", "{d}");
    let sessions = server.api_ok("GET", &format!("/devices/{}/sessions", seg(DEV)), None, 200);
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{sessions}");
    assert_eq!(sessions[0]["outcome"], "completed", "{sessions}");
    // Prometheus metrics of what just happened.
    let (code, metrics) = rest::request(server.addr, "GET", "/metrics", None, None);
    assert_eq!(code, 200);
    for m in [
        "omadm_sessions_started_total 1",
        "omadm_sessions_ended_total{outcome=\"completed\"} 1",
        "omadm_command_outcomes_total{state=\"done\"} 2",
        "omadm_dm_messages_total{result=\"answered\"}",
        "omadm_dm_message_duration_seconds_bucket",
        "omadm_dm_bytes_received_total",
    ] {
        assert!(metrics.contains(m), "/metrics lacks {m}:\n{metrics}");
    }
}

/// The REST API: the token is required (401 and `WWW-Authenticate: Bearer` without it), the
/// OpenAPI document is open and describes every route, enrolment is validated (400), unique
/// (409), listed, read and deleted; commands are validated by operation, queued, listed and
/// cancelled while still queued.
#[test]
fn rest_api_enrolment_validation_queue_and_cancel() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    let (code, _) = rest::request(server.addr, "GET", "/api/v1/devices", None, None);
    assert_eq!(code, 401);
    let (code, _) = rest::request(server.addr, "GET", "/api/v1/devices", Some("wrong"), None);
    assert_eq!(code, 401);
    let (code, doc) = rest::request(server.addr, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(code, 200);
    let doc: Value = serde_json::from_str(&doc).expect("OpenAPI JSON");
    for p in [
        "/devices",
        "/devices/{id}",
        "/devices/{id}/commands",
        "/devices/{id}/commands/{cid}",
        "/devices/{id}/alerts",
        "/devices/{id}/reports",
        "/devices/{id}/sessions",
        "/devices/{id}/notify",
        "/devices/{id}/sessionless",
        "/devices/{id}/bootstrap",
    ] {
        assert!(doc["paths"][p].is_object(), "OpenAPI lacks {p}");
    }
    let (code, v) = server.api("POST", "/devices", Some(&json!({ "device_id": "", "client_auth": { "type": "basic", "name": "n", "secret": "s" }, "server_auth": { "name": "omadm", "secret": "x" } })));
    assert_eq!(code, 400, "{v}");
    let (code, _) = server.api("POST", "/devices", Some(&json!({ "device_id": "x", "client_auth": { "type": "kerberos", "name": "n", "secret": "s" }, "server_auth": { "name": "omadm", "secret": "x" } })));
    assert!(code == 400 || code == 422, "{code}");
    enroll(&server, "basic");
    let (code, v) = server.api("POST", "/devices", Some(&json!({ "device_id": DEV, "client_auth": { "type": "basic", "name": "n", "secret": "s" }, "server_auth": { "name": "omadm", "secret": "x" } })));
    assert_eq!(code, 409, "{v}");
    let list = server.api_ok("GET", "/devices", None, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(
        list[0]
            .get("client_auth")
            .and_then(|a| a.get("secret"))
            .is_none(),
        "no secrets shown"
    );

    for bad in [
        json!({ "op": "Get" }),
        json!({ "op": "Copy", "target": "./A" }),
        json!({ "op": "Atomic", "commands": [] }),
        json!({ "op": "Atomic", "commands": [{ "op": "Get", "target": "./A" }] }),
        json!({ "op": "Alert", "code": 1103, "data": "pick" }),
        json!({ "op": "Frobnicate", "target": "./A" }),
    ] {
        let (code, v) = server.api(
            "POST",
            &format!("/devices/{}/commands", seg(DEV)),
            Some(&bad),
        );
        assert!(code == 400 || code == 422, "{bad} answered {code} {v}");
    }
    let (code, _) = server.api(
        "POST",
        "/devices/nobody/commands",
        Some(&json!({ "op": "Get", "target": "./A" })),
    );
    assert_eq!(code, 404);
    let id = queue(
        &server,
        json!({ "op": "Sequence", "commands": [
        { "op": "Alert", "code": 1101, "data": "Go on?" },
        { "op": "Replace", "target": "./Vendor/A", "data": "1" } ] }),
    );
    assert_eq!(command(&server, id)["state"], "queued");
    server.api_ok(
        "DELETE",
        &format!("/devices/{}/commands/{id}", seg(DEV)),
        None,
        204,
    );
    assert_eq!(command(&server, id)["state"], "cancelled");
    let (code, _) = server.api(
        "DELETE",
        &format!("/devices/{}/commands/{id}", seg(DEV)),
        None,
    );
    assert_eq!(code, 409, "only a queued command can be cancelled");
    server.api_ok("DELETE", &format!("/devices/{}", seg(DEV)), None, 204);
    let (code, _) = server.api("GET", &format!("/devices/{}", seg(DEV)), None);
    assert_eq!(code, 404);
    let (code, body) = rest::request(server.addr, "GET", "/healthz", None, None);
    assert_eq!((code, body.trim()), (200, "ok"));
}

/// POSTs a body to `/dm` with `content_type`; (status, body bytes).
fn post_dm(server: &Server, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let head = format!(
        "POST /dm HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write");
    // A server that refuses a large body early may close before reading it all.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, raw[end..].to_vec())
}

/// Robustness (issue 6): the hostile corpus (crates/server/testdata/hostile, 120+ truncated,
/// wrongly namespaced, oversize, deeply nested, unknown-command, duplicate-CmdID, wrong-MsgRef,
/// bad-credential and replayed-nonce messages, XML and WBXML) posted to `/dm`: each is answered
/// 200 with a SyncML message (the DM status inside says what was wrong), or 400/413 when it is
/// not SyncML at all or too large; never a 5xx, never a dropped connection. The messages whose
/// credentials fail change nothing: the queued command stays queued. Afterwards a real session
/// still runs and completes it.
#[test]
fn hostile_corpus_never_breaks_the_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    enroll(&server, "basic");
    let id = queue(&server, json!({ "op": "Get", "target": "./DevInfo/Mod" }));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/testdata/hostile");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| !n.ends_with(".py"))
        .collect();
    names.sort();
    assert!(names.len() >= 100, "{} files", names.len());
    // Credentials that fail, unknown devices: first, and nothing may change.
    let no_auth = |n: &str| {
        n.starts_with("cred_")
            || n.starts_with("replayed_")
            || n.starts_with("unknown_device")
            || n.starts_with("source_")
    };
    let (first, rest): (Vec<_>, Vec<_>) = names.iter().partition(|n| no_auth(n));
    for (phase, list) in [("unauthenticated", &first), ("all", &rest)] {
        for name in list.iter() {
            let body = std::fs::read(dir.join(name)).expect("corpus file");
            let ct = if name.ends_with(".xml") {
                "application/vnd.syncml.dm+xml"
            } else {
                "application/vnd.syncml.dm+wbxml"
            };
            let (code, answer) = post_dm(&server, ct, &body);
            assert!(
                matches!(code, 200 | 400 | 413),
                "{name}: HTTP {code} {}",
                String::from_utf8_lossy(&answer)
            );
            if code == 200 && !answer.is_empty() {
                omadm_syncml::Message::decode(&answer)
                    .unwrap_or_else(|e| panic!("{name}: the answer is not SyncML: {e}"));
            }
            if phase == "unauthenticated" {
                let c = command(&server, id);
                assert_eq!(
                    c["state"], "queued",
                    "{name} failed authentication yet changed the queue: {c}"
                );
            }
        }
        if phase == "unauthenticated" {
            assert_eq!(
                command(&server, id)["state"],
                "queued",
                "a message that failed authentication changed the queue"
            );
        }
    }
    let (code, _) = rest::request(server.addr, "GET", "/healthz", None, None);
    assert_eq!(code, 200);
    // Hostile but authenticated messages may have started sessions (and aborted them: the Get
    // then failed, unanswered). The device itself still gets its session, and a new command
    // is done in it.
    let c = command(&server, id);
    assert!(
        matches!(c["state"].as_str(), Some("queued" | "sent" | "failed")) && c["status"].is_null(),
        "{c}"
    );
    let id2 = queue(&server, json!({ "op": "Get", "target": "./DevInfo/Mod" }));
    let dev = device(tmp.path(), &server, "basic");
    run(&dev);
    let c = command(&server, id2);
    assert_eq!(c["state"], "done", "{c}");
    assert_eq!(c["results"][0]["data"], "omadm-device", "{c}");
}

/// DM 1.2 clients in the field (issue 6, "Older clients"): libdmclient's package #1, XML and
/// WBXML, sent as it sent them (Content-Type `application/vnd.syncml+xml` / `+wbxml`), is
/// answered HTTP 200 in the same media type and encoding, as DM/1.2, with 212 for its basic
/// credentials, and the device's DevInfo is recorded.
#[test]
fn libdmclient_package_1_answered_in_dm_1_2_and_its_media_type() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    server.api_ok(
        "POST",
        "/devices",
        Some(&json!({
            "device_id": "DMCtest",
            "client_auth": { "type": "basic", "name": "funambol", "secret": "funambol" },
            "server_auth": { "name": "omadm", "secret": "x" },
        })),
        201,
    );
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/spec/samples/libdmclient");
    for (file, ct) in [
        ("basic_01_client_pkg1.xml", "application/vnd.syncml+xml"),
        (
            "basic_wbxml_01_client_pkg1.wbxml",
            "application/vnd.syncml+wbxml",
        ),
    ] {
        let body = std::fs::read(samples.join(file)).expect("sample");
        let mut s = std::net::TcpStream::connect(server.addr).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .expect("timeout");
        write!(
            s,
            "POST /dm HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\nConnection: close\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            server.addr,
            body.len()
        )
        .expect("write");
        s.write_all(&body).expect("write");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read");
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{file}: {head}");
        assert!(
            head.contains(&format!("content-type: {ct}")),
            "{file}: {head}"
        );
        let m = omadm_syncml::Message::decode(&raw[end..]).expect("a SyncML answer");
        assert_eq!(m.hdr.ver_proto, "DM/1.2", "{file}");
        let hdr_status = m.body.commands.iter().find_map(|c| match c {
            omadm_syncml::Command::Status(s) if s.cmd == "SyncHdr" => Some(s.data.to_string()),
            _ => None,
        });
        assert_eq!(hdr_status.as_deref(), Some("212"), "{file}");
    }
    let d = server.api_ok("GET", "/devices/DMCtest", None, 200);
    assert_eq!(d["dm_version"], "DM/1.2", "{d}");
    assert!(
        d["devinfo"].as_object().is_some_and(|o| !o.is_empty()),
        "{d}"
    );
}

/// `--config FILE` (TOML) sets the ServerID and the admin token; `--tls-cert/--tls-key` serve
/// the DM endpoint over https (rustls), and a device that trusts the certificate runs its
/// session there. The database carries the enrolment and the queue across the restarts.
#[test]
fn config_file_and_tls() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let (cert_pem, key_pem) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).expect("cert");
    std::fs::write(&key_pem, cert.key_pair.serialize_pem()).expect("key");
    let conf = tmp.path().join("omadm.toml");
    std::fs::write(
        &conf,
        "server_id = \"omadm\"\nadmin_token = \"file-token\"\n",
    )
    .expect("config");
    let conf_s = conf.to_str().expect("UTF-8");

    // Plain first: enroll and queue through the API (the test's HTTP client has no TLS).
    let mut server = Server::start(tmp.path(), &["--config", conf_s]);
    assert!(
        server.token.is_empty(),
        "a configured token is not generated"
    );
    server.token = "file-token".into();
    enroll(&server, "digest");
    let id = queue(&server, json!({ "op": "Get", "target": "./DevInfo/DmV" }));
    let port = server.addr.port();
    drop(server);

    // Then over TLS on the same port and database.
    let listen = format!("127.0.0.1:{port}");
    let tls = Server::start_listening(
        tmp.path(),
        &listen,
        &[
            "--config",
            conf_s,
            "--tls-cert",
            cert_pem.to_str().expect("UTF-8"),
            "--tls-key",
            key_pem.to_str().expect("UTF-8"),
        ],
    );
    let https = format!("https://{listen}/dm");
    let d = tmp.path().join("dev");
    let out = omadm(
        &[
            "device",
            "init",
            "--dir",
            d.to_str().expect("UTF-8"),
            "--device-id",
            DEV,
            "--server-url",
            &https,
            "--server-id",
            "omadm",
            "--client-name",
            "dev1",
            "--client-secret",
            "dev-secret",
            "--server-secret",
            "srv-secret",
            "--auth",
            "digest",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = omadm(
        &[
            "device",
            "run",
            "--dir",
            d.to_str().expect("UTF-8"),
            "--ca",
            cert_pem.to_str().expect("UTF-8"),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "device run over https: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    drop(tls);

    let mut server = Server::start_listening(tmp.path(), &listen, &["--config", conf_s]);
    server.token = "file-token".into();
    let c = command(&server, id);
    assert_eq!(c["state"], "done", "{c}");
    let (code, _) = server.api("GET", "/devices", None);
    assert_eq!(code, 200, "the token of the file is the API's");
}

/// The same session on PostgreSQL (`--db postgres://...`), when `OMADM_TEST_POSTGRES_URL` names
/// a server (`.ci/run` sets it): a schema of the test's own, created with `psql`, dropped after.
#[test]
fn enroll_queue_run_on_postgresql() {
    let Ok(base) = std::env::var("OMADM_TEST_POSTGRES_URL") else {
        eprintln!("skipped: OMADM_TEST_POSTGRES_URL is not set");
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let schema = format!("e2e_{}_{nanos}", std::process::id());
    let psql = |sql: &str| {
        std::process::Command::new("psql")
            .args(["-w", "-q", "-v", "ON_ERROR_STOP=1", &base, "-c", sql])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    assert!(
        psql(&format!("CREATE SCHEMA {schema}")),
        "psql could not create the schema"
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options[search_path]={schema}");
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let server = Server::start_with_db(tmp.path(), "127.0.0.1:0", &url, &[]);
        enroll(&server, "digest");
        let dev = device(tmp.path(), &server, "digest");
        let get = queue(&server, json!({ "op": "Get", "target": "./DevInfo/Man" }));
        run(&dev);
        run(&dev);
        let g = command(&server, get);
        assert_eq!(g["state"], "done", "{g}");
        assert_eq!(g["results"][0]["data"], "omadm", "{g}");
    }
    psql(&format!("DROP SCHEMA {schema} CASCADE"));
}
