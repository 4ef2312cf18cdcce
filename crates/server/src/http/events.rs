//! `GET /api/v1/events`: what happens on this server as it happens, as server-sent events (the
//! dashboard's live view). Events are published after their transaction commits and are not
//! stored: a client that connects late, or falls behind by more than [`BACKLOG`] events, misses
//! them (it is told with a `lagged` event) and reads the REST API for the state. With several
//! replicas each streams only what it handled itself.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

use super::App;
use crate::model::{CommandState, Timestamp};
use crate::store::Changes;

/// Events kept for a slow subscriber before it misses some.
pub(super) const BACKLOG: usize = 1024;

/// One event; its SSE event name is [`Event::name`] and its data this, as JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub(super) enum Event {
    /// A DM message of a session was handled (`session`).
    Session {
        device_id: String,
        session_id: String,
        /// Messages received from the device in this session so far.
        message: u32,
        ended: bool,
        outcome: Option<String>,
        at: Timestamp,
    },
    /// A device sent an alert (`alert`).
    Alert {
        device_id: String,
        session_id: String,
        code: u16,
        at: Timestamp,
    },
    /// A sessionless report was stored (`report`).
    Report { device_id: String, at: Timestamp },
    /// A queued command changed state (`command`).
    Command {
        device_id: String,
        id: i64,
        state: CommandState,
        status: Option<u16>,
        at: Timestamp,
    },
    /// A device was enrolled or deleted (`device`).
    Device {
        device_id: String,
        change: &'static str,
        at: Timestamp,
    },
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Session { .. } => "session",
            Event::Alert { .. } => "alert",
            Event::Report { .. } => "report",
            Event::Command { .. } => "command",
            Event::Device { .. } => "device",
        }
    }
}

/// The events one committed DM message makes.
pub(super) fn of_changes(device_id: &str, changes: &Changes, now: Timestamp) -> Vec<Event> {
    let mut out = Vec::new();
    let session_id = changes
        .session
        .as_ref()
        .map(|s| s.session_id.clone())
        .unwrap_or_default();
    for a in &changes.alerts {
        out.push(Event::Alert {
            device_id: device_id.to_owned(),
            session_id: session_id.clone(),
            code: a.code,
            at: now,
        });
    }
    for c in &changes.commands {
        out.push(Event::Command {
            device_id: device_id.to_owned(),
            id: c.id,
            state: c.state,
            status: c.status,
            at: now,
        });
    }
    // Last, so that a session's end follows what its last message did.
    if let Some(s) = &changes.session {
        out.push(Event::Session {
            device_id: device_id.to_owned(),
            session_id: s.session_id.clone(),
            message: s.messages,
            ended: s.ended_at.is_some(),
            outcome: s.outcome.clone(),
            at: now,
        });
    }
    out
}

/// The sending side, kept in [`App`].
pub(super) fn channel() -> broadcast::Sender<Event> {
    broadcast::channel(BACKLOG).0
}

impl App {
    /// Publishes `events` to the current subscribers (none is fine).
    pub(super) fn publish(&self, events: impl IntoIterator<Item = Event>) {
        for e in events {
            let _ = self.inner.events.send(e);
        }
    }

    /// Whether anybody reads the events: the DM endpoint builds them only then.
    pub(super) fn has_subscribers(&self) -> bool {
        self.inner.events.receiver_count() > 0
    }
}

fn to_sse(e: &Event) -> SseEvent {
    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
    SseEvent::default().event(e.name()).data(data)
}

/// `GET /api/v1/events`.
pub(super) async fn stream(
    State(app): State<App>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = app.inner.events.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(e) => Some((Ok(to_sse(&e)), rx)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some((
                Ok(SseEvent::default()
                    .event("lagged")
                    .data(format!("{{\"missed\":{n}}}"))),
                rx,
            )),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("ping"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SessionRecord;
    use crate::store::{CommandUpdate, NewAlert};

    #[test]
    fn a_message_makes_session_alert_and_command_events() {
        let changes = Changes {
            session: Some(SessionRecord {
                device_id: "d".into(),
                session_id: "1A".into(),
                started_at: 5,
                updated_at: 9,
                ended_at: Some(9),
                outcome: Some("completed".into()),
                messages: 2,
                state: Vec::new(),
            }),
            alerts: vec![NewAlert {
                code: 1226,
                correlator: None,
                items: Vec::new(),
            }],
            commands: vec![CommandUpdate {
                id: 7,
                state: CommandState::Done,
                status: Some(200),
                results: None,
                children: None,
                session_id: None,
            }],
            ..Default::default()
        };
        let ev = of_changes("d", &changes, 9);
        let names: Vec<_> = ev.iter().map(Event::name).collect();
        assert_eq!(names, ["alert", "command", "session"]);
        let json = serde_json::to_value(&ev[2]).unwrap();
        assert_eq!(json["ended"], true);
        assert_eq!(json["message"], 2);
        assert_eq!(json["outcome"], "completed");
        let json = serde_json::to_value(&ev[1]).unwrap();
        assert_eq!(json["state"], "done");
        assert_eq!(json["status"], 200);
    }
}
