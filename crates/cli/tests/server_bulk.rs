//! Bulk operations (issue 7) end to end: the real `omadm server` on a temporary SQLite file, five
//! real devices (`omadm device init` / `run`) of two models, campaigns by DevInfo filter and by
//! list, their progress before and after the devices' next sessions, and cancellation.

mod common;
#[path = "common/rest.rs"]
mod rest;

use std::path::{Path, PathBuf};

use common::{omadm, stderr, stdout};
use omadm_tree::{Caller, Tree};
use rest::{seg, Server};
use serde_json::{json, Value};

/// The devices and their DevInfo/Mod.
const DEVICES: [(&str, &str); 5] = [
    ("bulk-0", "X"),
    ("bulk-1", "Y"),
    ("bulk-2", "X"),
    ("bulk-3", "Y"),
    ("bulk-4", "X"),
];

/// Enrolls `id`, makes its device directory with `model` as ./DevInfo/Mod, and runs its first
/// session (which records its DevInfo).
fn device(tmp: &Path, server: &Server, id: &str, model: &str) -> PathBuf {
    server.api_ok(
        "POST",
        "/devices",
        Some(&json!({
            "device_id": id,
            "client_auth": { "type": "digest", "name": id, "secret": "dev-secret" },
            "server_auth": { "name": "omadm", "secret": "srv-secret" },
        })),
        201,
    );
    let dir = tmp.join(id);
    let out = omadm(
        &[
            "device",
            "init",
            "--dir",
            dir.to_str().expect("UTF-8"),
            "--device-id",
            id,
            "--server-url",
            &server.dm_url(),
            "--server-id",
            "omadm",
            "--client-name",
            id,
            "--client-secret",
            "dev-secret",
            "--server-secret",
            "srv-secret",
            "--auth",
            "digest",
            "--encoding",
            "xml",
        ],
        None,
    );
    assert!(out.status.success(), "init {id}: {}", stderr(&out));
    let tree_file = dir.join("tree.bin");
    let mut tree = Tree::load(&tree_file).expect("tree.bin loads");
    tree.replace(
        Caller::Device,
        "./DevInfo/Mod",
        None,
        None,
        model.as_bytes(),
    )
    .expect("Mod replaced");
    tree.save(&tree_file).expect("tree.bin saved");
    run(&dir);
    dir
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

fn commands(server: &Server, id: &str) -> Vec<Value> {
    let v = server.api_ok("GET", &format!("/devices/{}/commands", seg(id)), None, 200);
    v.as_array().cloned().expect("a list")
}

fn states(server: &Server, campaign: i64) -> Value {
    let v = server.api_ok("GET", &format!("/bulk/campaigns/{campaign}"), None, 200);
    assert_eq!(v["id"], campaign, "{v}");
    v["states"].clone()
}

fn counts(queued: u64, sent: u64, done: u64, failed: u64, cancelled: u64) -> Value {
    json!({ "queued": queued, "sent": sent, "done": done, "failed": failed, "cancelled": cancelled })
}

#[test]
fn campaigns_by_filter_and_list_progress_and_cancel() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    let dirs: Vec<PathBuf> = DEVICES
        .iter()
        .map(|(id, model)| device(tmp.path(), &server, id, model))
        .collect();
    for (id, model) in DEVICES {
        let d = server.api_ok("GET", &format!("/devices/{}", seg(id)), None, 200);
        assert_eq!(d["devinfo"]["Mod"], model, "{d}");
    }

    // By filter: only the three Mod=X devices get the two commands.
    let by_filter = server.api_ok(
        "POST",
        "/bulk/commands",
        Some(&json!({
            "filter": { "devinfo": { "Mod": "X" } },
            "commands": [
                { "op": "Get", "target": "./DevInfo/Mod" },
                { "op": "Add", "target": "./Vendor/Bulk", "data": "on", "format": "chr" },
            ],
        })),
        201,
    );
    assert_eq!(by_filter["devices"], 3, "{by_filter}");
    assert_eq!(by_filter["commands"], 6, "{by_filter}");
    let filter_id = by_filter["campaign"].as_i64().expect("campaign id");
    for (id, model) in DEVICES {
        let n = commands(&server, id).len();
        assert_eq!(n, if model == "X" { 2 } else { 0 }, "{id}");
    }

    // By list.
    let by_list = server.api_ok(
        "POST",
        "/bulk/commands",
        Some(&json!({
            "devices": ["bulk-1", "bulk-3"],
            "commands": [{ "op": "Get", "target": "./DevInfo/Man" }],
        })),
        201,
    );
    assert_eq!(
        (&by_list["devices"], &by_list["commands"]),
        (&json!(2), &json!(2))
    );
    let list_id = by_list["campaign"].as_i64().expect("campaign id");

    // An unknown device: 404 naming it, nothing queued.
    let (code, v) = server.api(
        "POST",
        "/bulk/commands",
        Some(&json!({
            "devices": ["bulk-0", "nobody"],
            "commands": [{ "op": "Get", "target": "./DevInfo/Man" }],
        })),
    );
    assert_eq!(code, 404, "{v}");
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("nobody")),
        "{v}"
    );
    assert_eq!(commands(&server, "bulk-0").len(), 2);

    // What a campaign must have.
    for bad in [
        json!({ "devices": [], "commands": [{ "op": "Get", "target": "./A" }] }),
        json!({ "filter": { "devinfo": { "Mod": "Z" } }, "commands": [{ "op": "Get", "target": "./A" }] }),
        json!({ "devices": ["bulk-0"], "filter": { "devinfo": { "Mod": "X" } }, "commands": [{ "op": "Get", "target": "./A" }] }),
        json!({ "commands": [{ "op": "Get", "target": "./A" }] }),
        json!({ "devices": ["bulk-0"], "commands": [] }),
        json!({ "devices": ["bulk-0"], "commands": [{ "op": "Get" }] }),
    ] {
        let (code, v) = server.api("POST", "/bulk/commands", Some(&bad));
        assert!(code == 400 || code == 422, "{bad} answered {code} {v}");
    }
    assert_eq!(commands(&server, "bulk-0").len(), 2);

    // A campaign cancelled before the sessions (the filter also names the DM version).
    let d = server.api_ok("GET", "/devices/bulk-1", None, 200);
    let version = d["dm_version"].as_str().expect("a DM version").to_owned();
    let doomed = server.api_ok(
        "POST",
        "/bulk/commands",
        Some(&json!({
            "filter": { "devinfo": { "Mod": "Y" }, "dm_version": version },
            "commands": [{ "op": "Replace", "target": "./Vendor/Never", "data": "x" }],
        })),
        201,
    );
    assert_eq!(doomed["devices"], 2, "{doomed}");
    let doomed_id = doomed["campaign"].as_i64().expect("campaign id");
    let c = server.api_ok("DELETE", &format!("/bulk/campaigns/{doomed_id}"), None, 200);
    assert_eq!(c["cancelled"], 2, "{c}");
    let (code, _) = server.api("DELETE", "/bulk/campaigns/999999", None);
    assert_eq!(code, 404);
    let (code, _) = server.api("GET", "/bulk/campaigns/999999", None);
    assert_eq!(code, 404);

    assert_eq!(states(&server, filter_id), counts(6, 0, 0, 0, 0));
    assert_eq!(states(&server, list_id), counts(2, 0, 0, 0, 0));
    assert_eq!(states(&server, doomed_id), counts(0, 0, 0, 0, 2));
    let all = server.api_ok("GET", "/bulk/campaigns", None, 200);
    let ids: Vec<i64> = all
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(ids, [filter_id, list_id, doomed_id], "{all}");
    assert_eq!(all[0]["specs"][1]["target"], "./Vendor/Bulk", "{all}");

    // The devices' next sessions.
    for dir in &dirs {
        run(dir);
    }
    assert_eq!(states(&server, filter_id), counts(0, 0, 6, 0, 0));
    assert_eq!(states(&server, list_id), counts(0, 0, 2, 0, 0));
    assert_eq!(states(&server, doomed_id), counts(0, 0, 0, 0, 2));
    let c = server.api_ok("DELETE", &format!("/bulk/campaigns/{filter_id}"), None, 200);
    assert_eq!(c["cancelled"], 0, "{c}");
    for c in commands(&server, "bulk-3") {
        let want = if c["spec"]["target"] == "./Vendor/Never" {
            "cancelled"
        } else {
            "done"
        };
        assert_eq!(c["state"], want, "{c}");
    }

    let audit = server.api_ok("GET", "/audit", None, 200);
    let created = audit
        .as_array()
        .expect("a list")
        .iter()
        .filter(|a| a["event"] == "campaign.created")
        .count();
    assert_eq!(created, 3, "{audit}");

    let (code, doc) = rest::request(server.addr, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(code, 200);
    let doc: Value = serde_json::from_str(&doc).expect("OpenAPI JSON");
    for p in ["/bulk/commands", "/bulk/campaigns", "/bulk/campaigns/{id}"] {
        assert!(doc["paths"][p].is_object(), "OpenAPI lacks {p}");
    }
}
