//! The REST endpoints the dashboard (issue 8) reads, over real HTTP against `omadm server` with
//! real `omadm device run` sessions: the device list's filters and activity, the tree view, the
//! per-minute statistics and the server-sent event stream.

mod common;
#[path = "common/fleet.rs"]
mod fleet;
#[path = "common/rest.rs"]
mod rest;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rest::{request, seg, Server};
use serde_json::{json, Value};

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|d| d["device_id"].as_str().expect("id"))
        .collect()
}

#[test]
fn device_list_filters_and_shows_queue_and_session_state() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    for id in ["dev-a", "dev-b", "phone-c"] {
        fleet::enroll(&server, id);
    }
    let a = fleet::init(tmp.path(), "dev-a", &server.dm_url());
    fleet::run(&a); // DevInfo arrives (Man "omadm", Mod "omadm-device")
    server.api_ok(
        "POST",
        "/devices/dev-b/commands",
        Some(&json!({ "op": "Get", "target": "./DevInfo/Mod" })),
        201,
    );

    let all = server.api_ok("GET", "/devices", None, 200);
    assert_eq!(ids(&all), ["dev-a", "dev-b", "phone-c"]);
    let b = &all[1];
    assert_eq!(
        (b["queued"].as_u64(), b["sent"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(b["in_session"], false);
    assert_eq!(all[0]["queued"], 0);

    assert_eq!(
        ids(&server.api_ok("GET", "/devices?q=PHONE", None, 200)),
        ["phone-c"]
    );
    // DevInfo values are searched too, and filtered by leaf.
    assert_eq!(
        ids(&server.api_ok("GET", "/devices?q=omadm-dev", None, 200)),
        ["dev-a"]
    );
    assert_eq!(
        ids(&server.api_ok("GET", "/devices?devinfo.Man=omadm", None, 200)),
        ["dev-a"]
    );
    assert_eq!(
        ids(&server.api_ok("GET", "/devices?devinfo.Man=OMAD", None, 200)),
        ["dev-a"],
        "a DevInfo filter matches a substring in any case"
    );
    assert_eq!(
        ids(&server.api_ok("GET", "/devices?devinfo.Man=acme", None, 200)),
        Vec::<&str>::new()
    );
    assert_eq!(
        ids(&server.api_ok("GET", "/devices?devinfo.Nothing=o", None, 200)),
        Vec::<&str>::new()
    );
    assert_eq!(
        ids(&server.api_ok("GET", "/devices?dm_version=DM/1.3&q=dev", None, 200)),
        ["dev-a"]
    );
    // Paging over a filter: the cursor is the last device returned.
    let p1 = server.api_ok("GET", "/devices?q=dev&limit=1", None, 200);
    assert_eq!(ids(&p1), ["dev-a"]);
    let p2 = server.api_ok("GET", "/devices?q=dev&limit=1&after=dev-a", None, 200);
    assert_eq!(ids(&p2), ["dev-b"]);
    let (code, v) = server.api("GET", "/devices?colour=red", None);
    assert_eq!(code, 400, "{v}");
    assert!(
        v["error"].as_str().unwrap_or_default().contains("colour"),
        "{v}"
    );

    let one = server.api_ok("GET", "/devices/dev-b", None, 200);
    assert_eq!(one["queued"], 1);
}

#[test]
fn tree_view_and_minute_statistics_follow_the_sessions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    let id = "IMEI:001";
    fleet::enroll(&server, id);
    let dev = fleet::init(tmp.path(), id, &server.dm_url());
    let path = format!("/devices/{}", seg(id));
    let empty = server.api_ok("GET", &format!("{path}/tree"), None, 200);
    assert_eq!(
        empty,
        json!({"name": ".", "uri": ".", "format": null, "type": null,
        "data": null, "command_id": null, "updated_at": null, "children": []})
    );

    for spec in [
        json!({ "op": "Get", "target": "./DevInfo?list=StructData" }),
        json!({ "op": "Add", "target": "./Vendor/X", "data": "1", "format": "int" }),
        json!({ "op": "Get", "target": "./Nowhere" }),
    ] {
        server.api_ok("POST", &format!("{path}/commands"), Some(&spec), 201);
    }
    fleet::run(&dev);
    let tree = server.api_ok("GET", &format!("{path}/tree"), None, 200);
    let kids = |n: &Value| -> Vec<String> {
        n["children"]
            .as_array()
            .expect("children")
            .iter()
            .map(|c| c["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(kids(&tree), ["DevInfo", "Vendor"], "{tree}");
    let devinfo = &tree["children"][0];
    assert_eq!(devinfo["uri"], "./DevInfo");
    assert_eq!(devinfo["format"], "node");
    assert!(kids(devinfo).contains(&"Man".to_owned()), "{devinfo}");
    let man = devinfo["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["name"] == "Man")
        .expect("Man");
    assert_eq!(man["uri"], "./DevInfo/Man");
    assert_eq!(man["data"], "omadm");
    let x = &tree["children"][1]["children"][0];
    assert_eq!(
        (x["uri"].as_str(), x["data"].as_str()),
        (Some("./Vendor/X"), Some("1"))
    );

    // One session started this minute; two commands done and one failed (404) in it.
    let stats = server.api_ok("GET", "/stats?minutes=5", None, 200);
    let minutes = stats["minutes"].as_array().expect("minutes");
    assert_eq!(minutes.len(), 5);
    let now = stats["now"].as_i64().expect("now");
    let last = &minutes[4];
    // The session may have started in the minute before the statistics were read.
    let sum = |k: &str| {
        minutes
            .iter()
            .map(|m| m[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(
        (sum("sessions"), sum("done"), sum("failed")),
        (1, 2, 1),
        "{stats}"
    );
    assert_eq!(last["t"].as_i64(), Some(now / 60 * 60));
    assert!(minutes
        .windows(2)
        .all(|w| w[1]["t"].as_i64() == w[0]["t"].as_i64().map(|t| t + 60)));
    let (code, _) = server.api("GET", "/stats?minutes=abc", None);
    assert_eq!(code, 400);
}

/// Reads server-sent events until `want` returns true for one, within 20 s.
fn read_events(
    lines: &mut BufReader<TcpStream>,
    mut want: impl FnMut(&str, &Value) -> bool,
) -> Vec<(String, Value)> {
    let until = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let mut name = String::new();
    let mut line = String::new();
    while Instant::now() < until {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => panic!("event stream: {e}"),
        }
        let l = line.trim_end();
        if let Some(n) = l.strip_prefix("event:") {
            name = n.trim().to_owned();
        } else if let Some(d) = l.strip_prefix("data:") {
            let v: Value = serde_json::from_str(d.trim()).unwrap_or(Value::Null);
            let done = want(&name, &v);
            seen.push((name.clone(), v));
            if done {
                return seen;
            }
        }
    }
    panic!("the event never came; saw {seen:?}");
}

#[test]
fn event_stream_shows_enrolment_queueing_and_sessions_as_they_happen() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);

    // Without the token: 401, like the rest of the API.
    let (code, _) = request(server.addr, "GET", "/api/v1/events", None, None);
    assert_eq!(code, 401);

    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    write!(
        s,
        "GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
        server.addr, server.token
    )
    .expect("write");
    let mut r = BufReader::new(s);
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut head = String::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).expect("header");
        if l == "\r\n" {
            break;
        }
        head.push_str(&l.to_ascii_lowercase());
    }
    assert!(head.contains("content-type: text/event-stream"), "{head}");

    let id = "IMEI:002";
    fleet::enroll(&server, id);
    let ev = read_events(&mut r, |n, _| n == "device");
    assert_eq!(
        ev.last().map(|e| e.1["change"].clone()),
        Some(json!("enrolled"))
    );
    let path = format!("/devices/{}", seg(id));
    let cid = server.api_ok(
        "POST",
        &format!("{path}/commands"),
        Some(&json!({ "op": "Get", "target": "./DevInfo/Mod" })),
        201,
    )["id"]
        .as_i64()
        .expect("id");
    read_events(&mut r, |n, v| {
        n == "command" && v["state"] == "queued" && v["id"] == cid
    });

    let dev = fleet::init(tmp.path(), id, &server.dm_url());
    fleet::run(&dev);
    let ev = read_events(&mut r, |n, v| n == "session" && v["ended"] == true);
    let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
    // Package #1 opens the session and sends the Get; package #3 answers it and ends it.
    assert!(names.contains(&"session"), "{ev:?}");
    let done = ev
        .iter()
        .find(|(n, v)| n == "command" && v["state"] == "done")
        .unwrap_or_else(|| panic!("no done command in {ev:?}"));
    assert_eq!(
        (done.1["id"].as_i64(), done.1["status"].as_u64()),
        (Some(cid), Some(200))
    );
    let end = &ev.last().expect("end").1;
    assert_eq!(end["device_id"], id);
    assert_eq!(end["outcome"], "completed");
    assert!(end["message"].as_u64().unwrap_or(0) >= 2, "{end}");
}

#[test]
fn the_page_is_served_from_the_binary_and_described_endpoints_exist() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    let (code, html) = request(server.addr, "GET", "/", None, None);
    assert_eq!(code, 200);
    assert!(
        html.contains("/ui/app.js") && html.contains("/ui/app.css"),
        "{html}"
    );
    for f in ["/ui/app.js", "/ui/app.css", "/ui/favicon.svg"] {
        let (code, body) = request(server.addr, "GET", f, None, None);
        assert_eq!(code, 200, "{f}");
        assert!(body.len() > 100, "{f} is {} bytes", body.len());
    }
    let (code, _) = request(server.addr, "GET", "/ui/../Cargo.toml", None, None);
    assert_ne!(code, 200);
    let (code, _) = request(server.addr, "GET", "/ui/nothing.js", None, None);
    assert_eq!(code, 404);
    let (_, doc) = request(server.addr, "GET", "/api/v1/openapi.json", None, None);
    let doc: Value = serde_json::from_str(&doc).expect("OpenAPI JSON");
    for p in ["/devices/{id}/tree", "/stats", "/events"] {
        assert!(doc["paths"][p].is_object(), "OpenAPI lacks {p}");
    }
    assert!(doc["components"]["schemas"]["DeviceRow"]["properties"]["in_session"].is_object());
}
