//! Prometheus metrics at `/metrics`, through the `metrics` facade.
//!
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `omadm_dm_messages_total` | `result` (answered, undecodable, unsupported_media_type, error) | messages at `/dm` |
//! | `omadm_dm_bytes_received_total`, `omadm_dm_bytes_sent_total` | | message bytes |
//! | `omadm_dm_message_duration_seconds` | | time to answer a message (histogram) |
//! | `omadm_sessions_started_total` | | first messages of sessions |
//! | `omadm_sessions_ended_total` | `outcome` | sessions over |
//! | `omadm_auth_failures_total` | | messages whose credentials failed |
//! | `omadm_command_outcomes_total` | `state` (sent, done, failed) | queue changes |
//! | `omadm_reports_total` | `accepted` (true, false) | sessionless reports |

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::App;
use crate::model::CommandState;
use crate::store::Changes;

const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The process's Prometheus recorder, installed on first use (the `metrics` facade has one
/// global recorder per process).
pub fn install() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "omadm_dm_message_duration_seconds".into(),
                    ),
                    &LATENCY_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

pub(super) async fn render(State(app): State<App>) -> Response {
    match &app.inner.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are off\n").into_response(),
    }
}

pub(super) fn message(result: &'static str) {
    metrics::counter!("omadm_dm_messages_total", "result" => result).increment(1);
}

pub(super) fn bytes_in(n: usize) {
    metrics::counter!("omadm_dm_bytes_received_total").increment(n as u64);
}

pub(super) fn bytes_out(n: usize) {
    metrics::counter!("omadm_dm_bytes_sent_total").increment(n as u64);
}

pub(super) fn latency(started: Instant) {
    metrics::histogram!("omadm_dm_message_duration_seconds")
        .record(started.elapsed().as_secs_f64());
}

pub(super) fn report(accepted: bool) {
    metrics::counter!("omadm_reports_total", "accepted" => if accepted { "true" } else { "false" })
        .increment(1);
}

/// Sessions, authentication failures and command outcomes from what a message changed.
pub(super) fn record_changes(c: &Changes, new_session: bool) {
    if new_session && c.session.is_some() {
        metrics::counter!("omadm_sessions_started_total").increment(1);
    }
    if let Some(s) = &c.session {
        if s.ended_at.is_some() {
            let outcome = s.outcome.clone().unwrap_or_else(|| "unknown".into());
            metrics::counter!("omadm_sessions_ended_total", "outcome" => outcome).increment(1);
        }
    }
    let auth_failures = c.audit.iter().filter(|a| a.event == "auth.failed").count();
    if auth_failures > 0 {
        metrics::counter!("omadm_auth_failures_total").increment(auth_failures as u64);
    }
    for u in &c.commands {
        let state = match u.state {
            CommandState::Sent => "sent",
            CommandState::Done => "done",
            CommandState::Failed => "failed",
            CommandState::Queued => "queued",
            CommandState::Cancelled => "cancelled",
        };
        metrics::counter!("omadm_command_outcomes_total", "state" => state).increment(1);
    }
}
