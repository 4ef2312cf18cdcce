//! The three kinds of pushed bodies. The tree work runs on tokio's blocking pool: it waits for
//! the tree lock and writes files.

use axum::body::Bytes;
use axum::http::StatusCode;
use omadm_security::bootstrap::{self, BootstrapError, ImportPolicy, Secrets};
use omadm_syncml::pkg0::NotificationType;

use super::{Answer, Listener};
use crate::agent::{hooks, now_secs, run_session_with, AgentError, RunOptions, SessionTrigger};
use crate::notification::NotificationRejected;
use crate::sessionless::{process_command_message, LogEntry, Rejected};
use crate::ui::{Interaction, UiOptions};
use crate::UiAnswer;

/// 503 when the tree is locked by a session, 500 for other agent failures.
fn agent_failure(e: &AgentError) -> Answer {
    let status = match e {
        AgentError::Locked { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, format!("device error: {e}"))
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Answer> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("device error: {e}"),
        )
    })
}

/// Package #0: verified against the account's SRVCRED; an accepted one starts a session in the
/// background.
pub(super) async fn notification(l: &Listener, kind: NotificationType, body: Bytes) -> Answer {
    let dir = l.dir().clone();
    let tree = match blocking(move || dir.read_tree()).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return agent_failure(&e),
        Err(a) => return a,
    };
    let verdict = l
        .inner
        .notifications
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .handle(&tree, &body, kind, now_secs());
    match verdict {
        Ok(req) => {
            let line = format!(
                "notification: server {} session {} ui-mode {:?}{}: starting a session",
                req.server_id,
                req.session_id_text,
                req.ui_mode,
                if req.resync { " (nonce resync)" } else { "" }
            );
            // §4.1 ui-mode: 10 informative, the user is told; 11 user interaction, the user is
            // asked first and a refusal means no session.
            if req.shows_message() {
                l.log(&format!(
                    "notification: the user is told that server {} starts a management session",
                    req.server_id
                ));
            }
            if req.needs_user_consent() {
                let mut ui = (l.inner.opts.ui)();
                let ask = Interaction {
                    kind: crate::ui::Kind::Confirm,
                    text: format!(
                        "The management server {} asks to start a session. Allow it?",
                        req.server_id
                    ),
                    choices: Vec::new(),
                    options: UiOptions::default(),
                };
                let answer = match blocking(move || ui.interact(&ask)).await {
                    Ok(a) => a,
                    Err(a) => return a,
                };
                if answer != UiAnswer::Accept {
                    let line = format!(
                        "notification: server {} session {}: the user declined the session ({answer:?})",
                        req.server_id, req.session_id_text
                    );
                    l.log(&line);
                    return (StatusCode::OK, line);
                }
            }
            let l2 = l.clone();
            let (server_id, session_id) = (req.server_id.clone(), req.session_id_text.clone());
            let trigger = SessionTrigger::from(req);
            let opts = RunOptions {
                ui: (l.inner.opts.ui)(),
                lock_wait: l.inner.opts.lock_wait,
                ..RunOptions::default()
            };
            tokio::spawn(async move {
                let dir = l2.dir().clone();
                match run_session_with(&dir, trigger, opts).await {
                    Ok(r) => l2.log(&format!(
                        "session {}: {:?}, {} event(s)",
                        r.session_id,
                        r.outcome,
                        r.events.len()
                    )),
                    Err(e) => {
                        // A retry of the notification may start it again.
                        l2.inner
                            .notifications
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .forget(&server_id, &session_id);
                        l2.log(&format!("session: {}", crate::agent::error_chain(&e)));
                    }
                }
            });
            (StatusCode::ACCEPTED, line)
        }
        Err(e @ NotificationRejected::Duplicate { .. }) => {
            (StatusCode::OK, format!("notification ignored: {e}"))
        }
        Err(e @ NotificationRejected::Malformed(_)) => (
            StatusCode::BAD_REQUEST,
            format!("notification refused: {e}"),
        ),
        Err(e) => (StatusCode::FORBIDDEN, format!("notification refused: {e}")),
    }
}

/// A bootstrap: MAC verified with the `[bootstrap]` secrets, then the document imported and
/// the tree saved.
pub(super) async fn bootstrap(l: &Listener, content_type: String, body: Bytes) -> Answer {
    let dir = l.dir().clone();
    let secrets = l.inner.config.bootstrap.clone();
    let wait = l.inner.opts.lock_wait;
    let r = blocking(
        move || -> Result<Result<Vec<String>, BootstrapError>, AgentError> {
            let mut lock = dir.lock_tree(wait)?;
            let s = Secrets {
                network_secret: secrets.network_secret.as_deref().map(str::as_bytes),
                pin: secrets.pin.as_deref(),
            };
            let created = bootstrap::verify_and_apply_with(
                lock.tree_mut(),
                &body,
                &content_type,
                &s,
                &ImportPolicy::default(),
            );
            if created.is_ok() {
                lock.save()?;
            }
            Ok(created)
        },
    )
    .await;
    match r {
        Err(a) => a,
        Ok(Err(e)) => agent_failure(&e),
        Ok(Ok(Ok(created))) => (
            StatusCode::OK,
            format!("bootstrap applied: {}", created.join(", ")),
        ),
        Ok(Ok(Err(e))) => {
            let status = match e {
                BootstrapError::MacMismatch | BootstrapError::MissingSecret { .. } => {
                    StatusCode::FORBIDDEN
                }
                _ => StatusCode::BAD_REQUEST,
            };
            (status, format!("bootstrap refused: {e}"))
        }
    }
}

/// A Sessionless Command Message: checked and applied as one, the tree saved only when it was.
pub(super) async fn sessionless(l: &Listener, hmac: Option<String>, body: Bytes) -> Answer {
    let dir = l.dir().clone();
    let config = l.inner.config.clone();
    let wait = l.inner.opts.lock_wait;
    let r = blocking(move || -> Result<_, AgentError> {
        let mut lock = dir.lock_tree(wait)?;
        hooks::ensure_nodes(lock.tree_mut(), &config)?;
        let seq = lock.applied_seq();
        let mut plugins = crate::agent::plugins(&dir, &config, lock.tree(), seq)?;
        let mut log = Vec::new();
        let r = process_command_message(
            lock.tree_mut(),
            &mut plugins,
            &body,
            hmac.as_deref(),
            &mut log,
        );
        if r.is_ok() {
            lock.save()?;
        }
        Ok((r, log))
    })
    .await;
    let (r, log) = match r {
        Err(a) => return a,
        Ok(Err(e)) => return agent_failure(&e),
        Ok(Ok(x)) => x,
    };
    for entry in &log {
        match entry {
            LogEntry::Accepted { server_id, account } => l.log(&format!(
                "sessionless: accepted from {server_id} ({account})"
            )),
            LogEntry::Command { cmd, uri, code } => {
                l.log(&format!("sessionless: {cmd} {uri} -> {code}"))
            }
            LogEntry::Rejected { reason } => l.log(&format!("sessionless: rejected: {reason}")),
        }
    }
    match r {
        Ok(applied) => (
            StatusCode::OK,
            format!(
                "sessionless message from {} applied ({} statuses)",
                applied.server_id,
                applied.statuses.len()
            ),
        ),
        Err(e) => {
            let status = match e {
                Rejected::NotWbxml
                | Rejected::Decode(_)
                | Rejected::NoFinal
                | Rejected::Get { .. }
                | Rejected::VirtualUri { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            };
            (status, format!("sessionless message refused: {e}"))
        }
    }
}
