//! What the server pushes to a device over HTTP (its `push_url`, e.g. `omadm device listen`):
//! a notification (package #0), a sessionless command message, a bootstrap.

use axum::extract::{Path, State};
use axum::Json;
use omadm_security::bootstrap::{self, dmacc_document, SecMethod, Secrets};
use omadm_syncml::pkg0::v12::VERSION_11;
use omadm_syncml::pkg0::{Initiator, Notification12, NotificationType, UiMode};
use omadm_syncml::Encoding;
use omadm_tree::stdobj::{AppAuth, DmAcc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{audit, bad, device_or_404, validate_spec, ApiError, ApiResult};
use super::App;
use crate::model::{ClientAuthType, CommandSpec, Device};

/// POSTs `body` to the device's push URL; the HTTP status it answered.
async fn push(
    app: &App,
    device: &Device,
    content_type: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> ApiResult<u16> {
    let url = device.push_url.as_deref().ok_or_else(|| {
        bad(format!(
            "device {:?} has no push_url to push to",
            device.device_id
        ))
    })?;
    let mut req = app
        .inner
        .push
        .post(url)
        .header("content-type", content_type)
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    match req.send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => Err(ApiError(
            axum::http::StatusCode::BAD_GATEWAY,
            format!("push to {url} failed: {e}"),
        )),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct NotifyRequest {
    /// `not-specified` (default), `background`, `informative`, `user-interaction`.
    ui_mode: Option<String>,
    /// The SessionID to ask for (1-65535) [default: random].
    session_id: Option<u16>,
}

/// `POST /devices/{id}/notify`: a DM 1.2 package #0 (DIGEST.md §4.1), digest over the device's
/// SRVCRED (server_auth secret, the last nonce the device gave), pushed to the device.
pub(super) async fn notify(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Option<Json<NotifyRequest>>,
) -> ApiResult<Json<Value>> {
    let req = body.map(|Json(r)| r).unwrap_or_default();
    let device = device_or_404(&app, &id).await?;
    let ui_mode = match req.ui_mode.as_deref().unwrap_or("not-specified") {
        "not-specified" => UiMode::NotSpecified,
        "background" => UiMode::Background,
        "informative" => UiMode::Informative,
        "user-interaction" => UiMode::UserInteraction,
        other => return Err(bad(format!("ui_mode {other:?}: expected not-specified, background, informative or user-interaction"))),
    };
    let session_id = match req.session_id {
        Some(0) => return Err(bad("session_id must be 1-65535")),
        Some(s) => s,
        None => random_session_id(),
    };
    let mut n = Notification12 {
        digest: [0; 16],
        version: VERSION_11,
        ui_mode,
        initiator: Initiator::Server,
        session_id,
        server_id: app.cfg().engine.server_id.clone(),
        vendor: Vec::new(),
    };
    let bytes = omadm_security::notification::build12(
        &mut n,
        &device.server_auth.secret,
        &device.server_nonce,
    )
    .map_err(|e| bad(format!("cannot build the notification: {e}")))?;
    let status = push(&app, &device, NotificationType::Dm12.mime(), &[], bytes).await?;
    let sid = format!("{session_id:X}");
    audit(
        &app,
        Some(&id),
        "notification.pushed",
        json!({ "session_id": sid, "http_status": status }),
    )
    .await;
    Ok(Json(json!({ "session_id": sid, "push_status": status })))
}

fn random_session_id() -> u16 {
    let n = omadm_security::nonce::Nonce::generate();
    let b = n.as_bytes();
    let v = u16::from_be_bytes([
        b.first().copied().unwrap_or(1),
        b.get(1).copied().unwrap_or(1),
    ]);
    v.max(1)
}

#[derive(Deserialize)]
pub(super) struct SessionlessRequest {
    /// The commands (no Get, DM Sessionless 1.3 §5.2).
    commands: Vec<CommandSpec>,
}

/// DM Sessionless 1.3 §5.4 (DM-SM-S-004): a sessionless message travels over a transport with
/// its own security: the push URL must be https, except to this machine (loopback: tests, and
/// a device agent beside the server).
fn secure_transport(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

/// `POST /devices/{id}/sessionless`: a Sessionless Command Message (OMA DM Sessionless 1.3,
/// [`crate::engine::sessionless::command_message`]) pushed to the device.
pub(super) async fn sessionless(
    State(app): State<App>,
    Path(id): Path<String>,
    Json(req): Json<SessionlessRequest>,
) -> ApiResult<Json<Value>> {
    for c in &req.commands {
        validate_spec(c, 0, false)?;
    }
    let device = device_or_404(&app, &id).await?;
    if let Some(url) = &device.push_url {
        if !secure_transport(url) {
            return Err(bad(format!(
                "push_url {url:?} is not https: a sessionless command message needs a secure transport (DM Sessionless 1.3 §5.4)"
            )));
        }
    }
    let m = crate::engine::sessionless::command_message(
        &app.cfg().engine.server_id,
        &device,
        &req.commands,
    )
    .map_err(|e| bad(e.to_string()))?;
    let size = m.body.len();
    let status = push(
        &app,
        &device,
        Encoding::Wbxml.content_type(),
        &[("x-syncml-hmac", m.hmac)],
        m.body,
    )
    .await?;
    audit(
        &app,
        Some(&id),
        "sessionless.pushed",
        json!({ "commands": req.commands.len(), "bytes": size, "http_status": status }),
    )
    .await;
    Ok(Json(json!({ "bytes": size, "push_status": status })))
}

#[cfg(test)]
mod tests {
    use super::secure_transport;

    #[test]
    fn dm_sm_s_004_secure_transport_is_https_or_loopback() {
        assert!(secure_transport("https://dev.example/push"));
        assert!(secure_transport("http://127.0.0.1:8081/"));
        assert!(secure_transport("http://localhost/x"));
        assert!(secure_transport("http://[::1]:9000/p"));
        assert!(!secure_transport("http://10.0.0.7:8081/"));
        assert!(!secure_transport("http://127.0.0.1.evil.example/"));
        assert!(!secure_transport("ftp://127.0.0.1/"));
    }
}

#[derive(Deserialize)]
pub(super) struct BootstrapRequest {
    /// `NETWORKID`, `USERPIN` or `USERPIN_NETWORKID`.
    sec: String,
    /// The shared network secret (NETWORKID, USERPIN_NETWORKID).
    network_secret: Option<String>,
    /// The user PIN (USERPIN, USERPIN_NETWORKID).
    pin: Option<String>,
    /// The address the device's DMAcc gets (this server's DM endpoint URL).
    addr: String,
    /// The `<X>` of `./DMAcc/<X>` [default: from the ServerID].
    node: Option<String>,
}

/// `POST /devices/{id}/bootstrap`: a DMAcc account for this server (the device's client and
/// server credentials, AAuthPref its auth type) as WBXML TNDS with its MAC in the Content-Type
/// (DM Security, bootstrap profile), pushed.
pub(super) async fn bootstrap(
    State(app): State<App>,
    Path(id): Path<String>,
    Json(req): Json<BootstrapRequest>,
) -> ApiResult<Json<Value>> {
    let sec: SecMethod = req.sec.parse().map_err(|_| {
        bad(format!(
            "sec {:?}: expected NETWORKID, USERPIN or USERPIN_NETWORKID",
            req.sec
        ))
    })?;
    let device = device_or_404(&app, &id).await?;
    let server_id = app.cfg().engine.server_id.clone();
    let auth_type = match device.client_auth.type_ {
        ClientAuthType::Basic => "BASIC",
        ClientAuthType::Digest => "DIGEST",
        ClientAuthType::Hmac => "HMAC",
    };
    let node = req.node.clone().unwrap_or_else(|| {
        server_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    });
    let acc = DmAcc {
        node,
        server_id: server_id.clone(),
        name: None,
        pref_con_ref: None,
        addrs: vec![(req.addr.clone(), "URI".to_owned(), Vec::new())],
        aauth_pref: Some(auth_type.to_owned()),
        auths: vec![
            AppAuth {
                level: "CLCRED".to_owned(),
                auth_type: auth_type.to_owned(),
                name: device.client_auth.name.clone(),
                secret: device.client_auth.secret.clone(),
                data: device.client_nonce.clone(),
            },
            AppAuth {
                level: "SRVCRED".to_owned(),
                auth_type: if auth_type == "HMAC" {
                    "HMAC"
                } else {
                    "DIGEST"
                }
                .to_owned(),
                name: device.server_auth.name.clone(),
                secret: device.server_auth.secret.clone(),
                data: device.server_nonce.clone(),
            },
        ],
    };
    let secrets = Secrets {
        network_secret: req.network_secret.as_deref().map(str::as_bytes),
        pin: req.pin.as_deref(),
    };
    let (body, ct) = bootstrap::build(&dmacc_document(&acc), sec, &secrets)
        .map_err(|e| bad(format!("cannot build the bootstrap: {e}")))?;
    let size = body.len();
    let status = push(&app, &device, &ct, &[], body).await?;
    audit(
        &app,
        Some(&id),
        "bootstrap.pushed",
        json!({ "sec": req.sec, "bytes": size, "http_status": status }),
    )
    .await;
    Ok(Json(
        json!({ "bytes": size, "push_status": status, "content_type": ct }),
    ))
}
