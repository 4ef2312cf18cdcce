//! The REST API under `/api/v1`: JSON, bearer-token protected (`Authorization: Bearer <token>`),
//! described by the OpenAPI document at `/api/v1/openapi.json` (the one path open without the
//! token).

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::events::Event;
use super::App;
use crate::model::{
    ClientAuthType, CommandSpec, CommandState, Device, NewDevice, Op, QueuedCommand,
};
use crate::store::{NewAudit, StoreError};

/// An API error: an HTTP status and a JSON body `{"error": "..."}`.
pub(super) struct ApiError(pub(super) StatusCode, pub(super) String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::DeviceExists(_) => ApiError(StatusCode::CONFLICT, e.to_string()),
            StoreError::NoDevice(_) => ApiError(StatusCode::NOT_FOUND, e.to_string()),
            other => {
                tracing::error!("store: {other}");
                ApiError(StatusCode::INTERNAL_SERVER_ERROR, other.to_string())
            }
        }
    }
}

pub(super) fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

fn not_found(what: impl Into<String>) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, what.into())
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

pub(super) fn router(app: App) -> Router<App> {
    let protected = Router::new()
        .route("/devices", post(create_device).get(list_devices))
        .route("/devices/{id}", get(get_device).delete(delete_device))
        .route("/devices/{id}/commands", post(enqueue).get(list_commands))
        .route(
            "/devices/{id}/commands/{cid}",
            get(get_command).delete(cancel_command),
        )
        .route("/devices/{id}/tree", get(get_tree))
        .route("/devices/{id}/alerts", get(list_alerts))
        .route("/devices/{id}/reports", get(list_reports))
        .route("/devices/{id}/sessions", get(list_sessions))
        .route("/devices/{id}/notify", post(super::push::notify))
        .route("/devices/{id}/sessionless", post(super::push::sessionless))
        .route("/devices/{id}/bootstrap", post(super::push::bootstrap))
        .route("/audit", get(audit_log))
        .route("/stats", get(stats))
        .route("/events", get(super::events::stream))
        .route("/bulk/commands", post(super::bulk::create))
        .route("/bulk/campaigns", get(super::bulk::list))
        .route(
            "/bulk/campaigns/{id}",
            get(super::bulk::get).delete(super::bulk::cancel),
        )
        .route_layer(middleware::from_fn_with_state(app, require_token));
    Router::new()
        .route("/openapi.json", get(super::openapi::document))
        .merge(protected)
}

/// Constant-time comparison, so that the token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(app): State<App>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(t) if same(t.as_bytes(), app.cfg().admin_token.as_bytes()) => next.run(req).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "missing or wrong bearer token (Authorization: Bearer <admin token>)" })),
        )
            .into_response(),
    }
}

/// A device as the API shows it: no secrets.
#[derive(Serialize)]
pub(super) struct DeviceView {
    device_id: String,
    client_auth: AuthView,
    server_auth_name: String,
    push_url: Option<String>,
    devinfo: std::collections::BTreeMap<String, String>,
    dm_version: Option<String>,
    created_at: i64,
    last_seen: Option<i64>,
}

#[derive(Serialize)]
struct AuthView {
    #[serde(rename = "type")]
    type_: ClientAuthType,
    name: String,
}

impl From<Device> for DeviceView {
    fn from(d: Device) -> DeviceView {
        DeviceView {
            device_id: d.device_id,
            client_auth: AuthView {
                type_: d.client_auth.type_,
                name: d.client_auth.name,
            },
            server_auth_name: d.server_auth.name,
            push_url: d.push_url,
            devinfo: d.devinfo,
            dm_version: d.dm_version,
            created_at: d.created_at,
            last_seen: d.last_seen,
        }
    }
}

fn validate_device(d: &NewDevice) -> ApiResult<()> {
    if d.device_id.trim().is_empty() || d.device_id.len() > 256 {
        return Err(bad("device_id must be 1 to 256 characters"));
    }
    if d.client_auth.name.is_empty() || d.client_auth.secret.is_empty() {
        return Err(bad("client_auth needs a name and a secret"));
    }
    if d.server_auth.name.is_empty() || d.server_auth.secret.is_empty() {
        return Err(bad("server_auth needs a name and a secret"));
    }
    if let Some(u) = &d.push_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(bad(format!(
                "push_url {u:?} must be an http:// or https:// URL"
            )));
        }
    }
    Ok(())
}

async fn create_device(
    State(app): State<App>,
    Json(d): Json<NewDevice>,
) -> ApiResult<(StatusCode, Json<DeviceView>)> {
    validate_device(&d)?;
    let now = super::now();
    let dev = app.store().create_device(&d, now).await?;
    app.publish([Event::Device {
        device_id: d.device_id.clone(),
        change: "enrolled",
        at: now,
    }]);
    audit(
        &app,
        Some(&d.device_id),
        "device.enrolled",
        json!({ "auth": d.client_auth.type_ }),
    )
    .await;
    Ok((StatusCode::CREATED, Json(dev.into())))
}

/// A device in the device list: the device and what it is doing.
#[derive(Serialize)]
struct DeviceRow {
    #[serde(flatten)]
    device: DeviceView,
    /// Commands waiting for its next session.
    queued: u64,
    /// Commands sent in a session, with no Status yet.
    sent: u64,
    /// A session of it is open and had a message in the last [`IN_SESSION`] seconds.
    in_session: bool,
}

/// How recent the last message of an open session must be for the device to show as in session
/// (a device that vanished mid-session leaves its session open).
const IN_SESSION: i64 = 300;

/// Devices scanned at most per `GET /devices` with a filter (so that a search over a large
/// fleet answers in bounded time; the answer's `X-Scanned-Through` header says where to go on).
const MAX_SCANNED: usize = 20_000;

/// What `GET /devices` selects: `q` (a substring of the id or of any DevInfo value),
/// `devinfo.<Leaf>=<value>` (a substring of that leaf's value), `dm_version` (exact). Substrings
/// match in any case, so that a half-typed search box finds something; the bulk API's filter,
/// which queues commands, stays exact.
#[derive(Default)]
struct DeviceFilter {
    q: Option<String>,
    devinfo: Vec<(String, String)>,
    dm_version: Option<String>,
}

impl DeviceFilter {
    fn is_empty(&self) -> bool {
        self.q.is_none() && self.devinfo.is_empty() && self.dm_version.is_none()
    }

    fn matches(&self, d: &Device) -> bool {
        let q_ok = self.q.as_deref().is_none_or(|q| {
            d.device_id.to_lowercase().contains(q)
                || d.devinfo.values().any(|v| v.to_lowercase().contains(q))
        });
        q_ok && self.devinfo.iter().all(|(k, v)| {
            d.devinfo
                .get(k)
                .is_some_and(|have| have.to_lowercase().contains(v))
        }) && self
            .dm_version
            .as_ref()
            .is_none_or(|v| d.dm_version.as_ref() == Some(v))
    }
}

async fn list_devices(
    State(app): State<App>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let mut after = None;
    let mut limit = 100u32;
    let mut filter = DeviceFilter::default();
    for (k, v) in params {
        match k.as_str() {
            "after" => after = Some(v),
            "limit" => {
                limit = v
                    .parse::<u32>()
                    .map_err(|_| bad(format!("limit {v:?} is not a number")))?
                    .clamp(1, 1000)
            }
            "q" if !v.trim().is_empty() => filter.q = Some(v.trim().to_lowercase()),
            "q" => {}
            "dm_version" if !v.is_empty() => filter.dm_version = Some(v),
            "dm_version" => {}
            _ => match k.strip_prefix("devinfo.") {
                Some(leaf) if !leaf.is_empty() => {
                    if !v.is_empty() {
                        filter.devinfo.push((leaf.to_owned(), v.to_lowercase()));
                    }
                }
                _ => {
                    return Err(bad(format!(
                        "unknown parameter {k:?} (expected after, limit, q, dm_version or devinfo.<Leaf>)"
                    )))
                }
            },
        }
    }
    let mut devs = Vec::new();
    let mut scanned = 0usize;
    let mut cursor = after;
    let mut scanned_through = None;
    loop {
        let page_size = if filter.is_empty() { limit } else { 1000 };
        let page = app.store().devices(cursor.as_deref(), page_size).await?;
        let full = page.len() == page_size as usize;
        let Some(last) = page.last() else { break };
        cursor = Some(last.device_id.clone());
        for d in page {
            scanned += 1;
            if filter.matches(&d) {
                devs.push(d);
                if devs.len() == limit as usize {
                    break;
                }
            }
        }
        if devs.len() == limit as usize || !full {
            break;
        }
        if scanned >= MAX_SCANNED {
            scanned_through = cursor.clone();
            break;
        }
    }
    let rows = with_activity(&app, devs).await?;
    let mut resp = Json(rows).into_response();
    if let Some(v) = scanned_through.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert("x-scanned-through", v);
    }
    Ok(resp)
}

/// The devices with their queue counts and session state (two queries for them all).
async fn with_activity(app: &App, devs: Vec<Device>) -> ApiResult<Vec<DeviceRow>> {
    if devs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = devs.iter().map(|d| d.device_id.clone()).collect();
    let activity = app.store().device_activity(&ids).await?;
    let by_id: std::collections::HashMap<_, _> = activity
        .into_iter()
        .map(|a| (a.device_id.clone(), a))
        .collect();
    let now = super::now();
    Ok(devs
        .into_iter()
        .map(|d| {
            let a = by_id.get(&d.device_id);
            DeviceRow {
                queued: a.map_or(0, |a| a.queued),
                sent: a.map_or(0, |a| a.sent),
                in_session: a
                    .and_then(|a| a.open_session_at)
                    .is_some_and(|t| now - t <= IN_SESSION),
                device: d.into(),
            }
        })
        .collect())
}

pub(super) async fn device_or_404(app: &App, id: &str) -> ApiResult<Device> {
    app.store()
        .device(id)
        .await?
        .ok_or_else(|| not_found(format!("no device {id:?}")))
}

async fn get_device(State(app): State<App>, Path(id): Path<String>) -> ApiResult<Json<DeviceRow>> {
    let d = device_or_404(&app, &id).await?;
    let mut rows = with_activity(&app, vec![d]).await?;
    rows.pop()
        .map(Json)
        .ok_or_else(|| not_found(format!("no device {id:?}")))
}

/// `GET /devices/{id}/tree`: the server's view of the device's tree ([`super::tree`]).
async fn get_tree(
    State(app): State<App>,
    Path(id): Path<String>,
) -> ApiResult<Json<super::tree::TreeNode>> {
    device_or_404(&app, &id).await?;
    let cs = app.store().commands(&id).await?;
    Ok(Json(super::tree::build(&cs)))
}

#[derive(Deserialize)]
struct StatsQuery {
    minutes: Option<u32>,
}

/// `GET /stats?minutes=N` (1 to 1440, default 60): sessions started and commands done and failed
/// in each of the last N minutes, oldest first, the current minute last.
async fn stats(
    State(app): State<App>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let minutes = i64::from(q.minutes.unwrap_or(60).clamp(1, 1440));
    let now = super::now();
    let first = (now / 60 - minutes + 1) * 60;
    let known = app.store().activity(first).await?;
    let by_start: std::collections::HashMap<_, _> =
        known.into_iter().map(|m| (m.start, m)).collect();
    let series: Vec<_> = (0..minutes)
        .map(|i| {
            let t = first + i * 60;
            let m = by_start.get(&t).copied().unwrap_or_default();
            json!({ "t": t, "sessions": m.sessions, "done": m.done, "failed": m.failed })
        })
        .collect();
    Ok(Json(json!({ "now": now, "minutes": series })))
}

async fn delete_device(State(app): State<App>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    if app.store().delete_device(&id).await? {
        app.publish([Event::Device {
            device_id: id.clone(),
            change: "deleted",
            at: super::now(),
        }]);
        audit(&app, Some(&id), "device.deleted", json!({})).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(format!("no device {id:?}")))
    }
}

/// What a queued command must hold, by operation (DM RepPro and DM Protocol 1.3 §10).
pub(super) fn validate_spec(s: &CommandSpec, depth: usize, in_atomic: bool) -> ApiResult<()> {
    if depth > 8 {
        return Err(bad("Atomic/Sequence nested more than 8 deep"));
    }
    let target = || {
        s.target
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad(format!("{:?} needs a target", s.op)))
    };
    match s.op {
        Op::Get | Op::Delete => {
            target()?;
        }
        Op::Add | Op::Replace | Op::Exec => {
            target()?;
        }
        Op::Copy => {
            target()?;
            if s.source.as_deref().is_none_or(str::is_empty) {
                return Err(bad("Copy needs a source"));
            }
        }
        Op::Alert => {
            let code = s
                .code
                .ok_or_else(|| bad("Alert needs a code (1100-1104 for user interaction)"))?;
            if (1100..=1104).contains(&code) && s.data.is_none() {
                return Err(bad("a user interaction Alert needs data (the text shown)"));
            }
            if (1103..=1104).contains(&code) && s.choices.is_empty() {
                return Err(bad("Alert 1103/1104 needs choices"));
            }
        }
        Op::Atomic | Op::Sequence => {
            if s.commands.is_empty() {
                return Err(bad(format!("{:?} needs commands", s.op)));
            }
            for c in &s.commands {
                validate_spec(c, depth + 1, in_atomic || s.op == Op::Atomic)?;
            }
        }
    }
    // DM RepPro: Get, Exec and a nested Atomic have no place in an Atomic (their effect cannot
    // be rolled back, or they return data).
    if in_atomic && matches!(s.op, Op::Get | Op::Exec | Op::Atomic) {
        return Err(bad(format!("{:?} is not allowed inside an Atomic", s.op)));
    }
    Ok(())
}

async fn enqueue(
    State(app): State<App>,
    Path(id): Path<String>,
    Json(spec): Json<CommandSpec>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    validate_spec(&spec, 0, false)?;
    device_or_404(&app, &id).await?;
    let now = super::now();
    let cid = app.store().enqueue(&id, &spec, now).await?;
    app.publish([Event::Command {
        device_id: id.clone(),
        id: cid,
        state: CommandState::Queued,
        status: None,
        at: now,
    }]);
    audit(
        &app,
        Some(&id),
        "command.queued",
        json!({ "id": cid, "op": spec.op }),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "id": cid }))))
}

/// A command as the API shows it.
#[derive(Serialize)]
struct CommandView {
    id: i64,
    state: CommandState,
    status: Option<u16>,
    results: Vec<crate::model::ResultItem>,
    children: Vec<crate::model::ChildStatus>,
    session_id: Option<String>,
    spec: CommandSpec,
    created_at: i64,
    updated_at: i64,
}

impl From<QueuedCommand> for CommandView {
    fn from(c: QueuedCommand) -> CommandView {
        CommandView {
            id: c.id,
            state: c.state,
            status: c.status,
            results: c.results,
            children: c.children,
            session_id: c.session_id,
            spec: c.spec,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

async fn get_command(
    State(app): State<App>,
    Path((id, cid)): Path<(String, i64)>,
) -> ApiResult<Json<CommandView>> {
    let c = app
        .store()
        .command(&id, cid)
        .await?
        .ok_or_else(|| not_found(format!("no command {cid} for device {id:?}")))?;
    Ok(Json(c.into()))
}

async fn cancel_command(
    State(app): State<App>,
    Path((id, cid)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    if app.store().cancel_command(&id, cid, super::now()).await? {
        app.publish([Event::Command {
            device_id: id.clone(),
            id: cid,
            state: CommandState::Cancelled,
            status: None,
            at: super::now(),
        }]);
        audit(&app, Some(&id), "command.cancelled", json!({ "id": cid })).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError(
            StatusCode::CONFLICT,
            format!("command {cid} of device {id:?} is not queued (or does not exist)"),
        ))
    }
}

async fn list_commands(
    State(app): State<App>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CommandView>>> {
    device_or_404(&app, &id).await?;
    let cs = app.store().commands(&id).await?;
    Ok(Json(cs.into_iter().map(CommandView::from).collect()))
}

async fn list_alerts(
    State(app): State<App>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<crate::model::AlertRecord>>> {
    device_or_404(&app, &id).await?;
    Ok(Json(app.store().alerts(&id).await?))
}

async fn list_reports(
    State(app): State<App>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<crate::model::ReportRecord>>> {
    device_or_404(&app, &id).await?;
    Ok(Json(app.store().reports(&id).await?))
}

async fn list_sessions(
    State(app): State<App>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<crate::model::SessionRecord>>> {
    device_or_404(&app, &id).await?;
    Ok(Json(app.store().sessions(&id).await?))
}

#[derive(Deserialize)]
struct AuditQuery {
    device_id: Option<String>,
    limit: Option<u32>,
}

async fn audit_log(
    State(app): State<App>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<crate::model::AuditEntry>>> {
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(Json(
        app.store().audit_log(q.device_id.as_deref(), limit).await?,
    ))
}

/// Appends to the audit log; a failure is logged, not returned (the action itself happened).
pub(super) async fn audit(
    app: &App,
    device_id: Option<&str>,
    event: &str,
    detail: serde_json::Value,
) {
    let a = NewAudit {
        device_id: device_id.map(str::to_owned),
        session_id: None,
        event: event.to_owned(),
        detail,
    };
    if let Err(e) = app.store().audit(&a, super::now()).await {
        tracing::error!("audit: {e}");
    }
}
