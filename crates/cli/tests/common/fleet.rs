//! Devices for the server's end-to-end tests: enrolled through the REST API of a running
//! `omadm server` and kept in directories for `omadm device run` (digest authentication, client
//! name = device id, secrets `dev-secret` / `srv-secret`). Needs `mod common` and `mod rest`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::{omadm, stderr, stdout};
use crate::rest::Server;

/// Enrolls device `id` on `server`.
pub fn enroll(server: &Server, id: &str) {
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
}

/// `omadm device init` for device `id` (as [`enroll`] enrolls it) in `dir/<id>`, talking to
/// `dm_url`.
pub fn init(dir: &Path, id: &str, dm_url: &str) -> PathBuf {
    let d = dir.join(id.replace(':', "_"));
    let out = omadm(
        &[
            "device",
            "init",
            "--dir",
            d.to_str().expect("UTF-8"),
            "--device-id",
            id,
            "--server-url",
            dm_url,
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
        ],
        None,
    );
    assert!(out.status.success(), "init: {}", stderr(&out));
    d
}

/// One `omadm device run` of the device in `dir`, which must succeed.
pub fn run(dir: &Path) {
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
}
