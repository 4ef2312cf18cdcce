//! `POST /dm`: one DM message in, one answer out, in one store transaction.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::metrics as m;
use super::App;
use crate::engine::{self, Context, EngineError, Inbound, Outbound};
use crate::store::{MessageInput, MessageWork, StoreError, WorkOutput};

/// The media types a DM message may come with: the DM ones, and the plain SyncML ones older
/// clients send (DM 1.1).
const DM_TYPES: [&str; 4] = [
    "application/vnd.syncml.dm+xml",
    "application/vnd.syncml.dm+wbxml",
    "application/vnd.syncml+xml",
    "application/vnd.syncml+wbxml",
];

fn is_dm_media_type(ct: &str) -> bool {
    let base = ct.split(';').next().unwrap_or_default().trim();
    DM_TYPES.iter().any(|t| base.eq_ignore_ascii_case(t))
}

fn plain(code: StatusCode, text: String) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text + "\n",
    )
        .into_response()
}

fn store_failure(e: &StoreError) -> Response {
    tracing::error!("store: {e}");
    plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the server's store failed; send the message again".into(),
    )
}

pub(super) async fn handle(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_dm_media_type(ct) {
        m::message("unsupported_media_type");
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type {ct:?} is not a DM media type (expected one of {DM_TYPES:?})"),
        );
    }
    m::bytes_in(body.len());
    let hmac = headers
        .get("x-syncml-hmac")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let peek = match engine::peek(&app.cfg().engine, &body) {
        Ok(p) => p,
        Err(e) => {
            m::message("undecodable");
            return plain(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let now = super::now();
    if engine::is_report(&peek.message) {
        report(&app, &peek.device_id, &body, hmac.as_deref(), now).await;
        m::latency(started);
        return StatusCode::OK.into_response();
    }

    // The engine runs inside the message's transaction (on the SQLite writer thread for a
    // database file): everything it needs moves in, its answer comes back as the work's value.
    let engine_app = app.clone();
    let device_id = peek.device_id.clone();
    let session_id = peek.session_id.clone();
    let work: MessageWork = Box::new(move |input: MessageInput<'_>| {
        let ctx = Context {
            device: input.device,
            session: input.session,
            pending: input.pending,
        };
        let inbound = Inbound {
            body: &body,
            hmac: hmac.as_deref(),
            now,
        };
        let mut nonce = || omadm_security::nonce::Nonce::generate().as_bytes().to_vec();
        match engine::process_peeked(&engine_app.cfg().engine, ctx, inbound, &peek, &mut nonce) {
            Ok(mut out) => {
                let mut changes = std::mem::take(&mut out.changes);
                // Package #1 brings DevInfo every session; unchanged, it is not written again.
                if input
                    .device
                    .is_some_and(|d| changes.device.devinfo.as_ref() == Some(&d.devinfo))
                {
                    changes.device.devinfo = None;
                }
                WorkOutput {
                    changes: Some(changes),
                    value: Box::new(Ok::<_, EngineError>(out)),
                }
            }
            Err(e) => WorkOutput {
                changes: None,
                value: Box::new(Err::<Outbound, _>(e)),
            },
        }
    });
    let done = match app
        .store()
        .message(&device_id, &session_id, now, work)
        .await
    {
        Ok(d) => d,
        Err(e) => return store_failure(&e),
    };
    let Ok(answer) = done.value.downcast::<Result<Outbound, EngineError>>() else {
        tracing::error!("the message's work returned an unexpected value");
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into());
    };
    let mut out = match *answer {
        Ok(o) => o,
        Err(e @ EngineError::Decode(_)) => {
            m::message("undecodable");
            return plain(StatusCode::BAD_REQUEST, e.to_string());
        }
        Err(e) => {
            tracing::error!("engine: {e}");
            m::message("error");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        }
    };
    out.changes = done.changes.unwrap_or_default();
    if done.known && app.has_subscribers() {
        app.publish(super::events::of_changes(&device_id, &out.changes, now));
    }
    m::record_changes(&out.changes, !done.had_session);
    m::message("answered");
    m::bytes_out(out.body.len());
    m::latency(started);

    let mut resp = (StatusCode::OK, out.body).into_response();
    let h = resp.headers_mut();
    // A client that sent the plain SyncML media type (DM 1.1, libdmclient) gets it back, in the
    // encoding of the answer.
    let plain_request = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
        .starts_with("application/vnd.syncml+");
    let ct_out = if plain_request {
        out.content_type
            .replace("application/vnd.syncml.dm+", "application/vnd.syncml+")
    } else {
        out.content_type.clone()
    };
    if let Ok(v) = HeaderValue::from_str(&ct_out) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(mac) = out.hmac.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert("x-syncml-hmac", mac);
    }
    resp
}

/// A Sessionless Report Message (Sessionless Reporting 1.3): stored when it authenticates,
/// dropped silently otherwise (DM-SR-S-003); the HTTP answer is the same either way.
async fn report(app: &App, device_id: &str, body: &[u8], hmac: Option<&str>, now: i64) {
    let store = app.store();
    let device = match store.device(device_id).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            m::report(false);
            return;
        }
        Err(e) => {
            tracing::error!("store: {e}");
            return;
        }
    };
    match engine::verify_report(&device, body, hmac) {
        Some(items) => match store.add_report(device_id, &items, now).await {
            Ok(_) => {
                m::report(true);
                app.publish([super::events::Event::Report {
                    device_id: device_id.to_owned(),
                    at: now,
                }]);
            }
            Err(e) => tracing::error!("store: {e}"),
        },
        None => m::report(false),
    }
}
