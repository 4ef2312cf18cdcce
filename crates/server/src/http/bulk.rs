//! Bulk operations under `/api/v1/bulk` (issue 7): a campaign queues the same commands for a set
//! of devices, named in a list or chosen by a filter on their DevInfo, in one store transaction,
//! and reports how many of its commands are in each state.
//!
//! The filter runs in Rust over the devices read in id order, a page at a time: the devices
//! table keeps DevInfo as JSON text, which SQLite and PostgreSQL query with different SQL.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::api::{audit, bad, validate_spec, ApiError, ApiResult};
use super::App;
use crate::model::{CommandSpec, Device};
use crate::store::{Campaign, CampaignStates, StoreError};

/// The most devices one campaign queues for.
pub(super) const MAX_DEVICES: usize = 100_000;
/// The most commands one campaign queues for each device.
pub(super) const MAX_COMMANDS: usize = 100;
/// Devices read per page while a filter runs.
const PAGE: u32 = 1000;

/// `POST /bulk/commands`: exactly one of `devices` and `filter`, and the commands.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BulkCommands {
    #[serde(default)]
    devices: Option<Vec<String>>,
    #[serde(default)]
    filter: Option<Filter>,
    commands: Vec<CommandSpec>,
}

/// Devices whose DevInfo has every one of these leaf values (and this DM version, when given).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    #[serde(default)]
    devinfo: BTreeMap<String, String>,
    #[serde(default)]
    dm_version: Option<String>,
}

impl Filter {
    fn matches(&self, d: &Device) -> bool {
        self.devinfo
            .iter()
            .all(|(k, v)| d.devinfo.get(k) == Some(v))
            && self
                .dm_version
                .as_ref()
                .is_none_or(|v| d.dm_version.as_ref() == Some(v))
    }
}

/// The devices a filter selects, in id order; 400 when more than [`MAX_DEVICES`].
async fn select(app: &App, filter: &Filter) -> ApiResult<Vec<String>> {
    let mut chosen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app.store().devices(after.as_deref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.device_id.clone());
        let full = page.len() == PAGE as usize;
        chosen.extend(
            page.into_iter()
                .filter(|d| filter.matches(d))
                .map(|d| d.device_id),
        );
        if chosen.len() > MAX_DEVICES {
            return Err(bad(format!(
                "the filter selects more than {MAX_DEVICES} devices; narrow it"
            )));
        }
        if !full {
            break;
        }
    }
    Ok(chosen)
}

/// The listed devices, each once, in the order given; 400 when more than [`MAX_DEVICES`].
fn listed(devices: Vec<String>) -> ApiResult<Vec<String>> {
    if devices.len() > MAX_DEVICES {
        return Err(bad(format!(
            "at most {MAX_DEVICES} devices per call ({} given)",
            devices.len()
        )));
    }
    let mut seen = HashSet::with_capacity(devices.len());
    Ok(devices
        .into_iter()
        .filter(|d| seen.insert(d.clone()))
        .collect())
}

pub(super) async fn create(
    State(app): State<App>,
    Json(req): Json<BulkCommands>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    if req.commands.is_empty() || req.commands.len() > MAX_COMMANDS {
        return Err(bad(format!(
            "commands must hold 1 to {MAX_COMMANDS} commands"
        )));
    }
    for spec in &req.commands {
        validate_spec(spec, 0, false)?;
    }
    let devices = match (req.devices, req.filter) {
        (Some(list), None) => listed(list)?,
        (None, Some(filter)) => select(&app, &filter).await?,
        _ => return Err(bad("give exactly one of \"devices\" and \"filter\"")),
    };
    if devices.is_empty() {
        return Err(bad("no device selected"));
    }
    let c = app
        .store()
        .create_campaign(&devices, &req.commands, super::now())
        .await
        .map_err(|e| match e {
            StoreError::UnknownDevices(ids) => {
                ApiError(StatusCode::NOT_FOUND, format!("no devices {ids:?}"))
            }
            other => other.into(),
        })?;
    audit(
        &app,
        None,
        "campaign.created",
        json!({
            "campaign": c.id,
            "devices": c.devices,
            "commands": c.commands,
            "ops": c.specs.iter().map(|s| s.op).collect::<Vec<_>>(),
        }),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "campaign": c.id, "devices": c.devices, "commands": c.commands })),
    ))
}

/// A campaign with its progress.
#[derive(Serialize)]
pub(super) struct CampaignView {
    #[serde(flatten)]
    campaign: Campaign,
    states: CampaignStates,
}

async fn campaign_or_404(app: &App, id: i64) -> ApiResult<Campaign> {
    app.store()
        .campaign(id)
        .await?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no campaign {id}")))
}

pub(super) async fn get(
    State(app): State<App>,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignView>> {
    let campaign = campaign_or_404(&app, id).await?;
    let states = app.store().campaign_states(id).await?;
    Ok(Json(CampaignView { campaign, states }))
}

#[derive(Deserialize)]
pub(super) struct Page {
    after: Option<i64>,
    limit: Option<u32>,
}

pub(super) async fn list(
    State(app): State<App>,
    Query(p): Query<Page>,
) -> ApiResult<Json<Vec<Campaign>>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(app.store().campaigns(p.after, limit).await?))
}

pub(super) async fn cancel(
    State(app): State<App>,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    campaign_or_404(&app, id).await?;
    let n = app.store().cancel_campaign(id, super::now()).await?;
    audit(
        &app,
        None,
        "campaign.cancelled",
        json!({ "campaign": id, "cancelled": n }),
    )
    .await;
    Ok(Json(json!({ "campaign": id, "cancelled": n })))
}
