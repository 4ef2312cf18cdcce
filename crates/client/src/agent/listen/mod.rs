//! The HTTP push receiver of `omadm device listen`: a server (or a push proxy) POSTs to it what
//! it would push to a device over WAP Push, and the body's `Content-Type` says what it is
//! (DIGEST.md §4.3, §3.7; Sessionless 1.3 §5):
//!
//! | Content-Type | What | Answer |
//! |---|---|---|
//! | `application/vnd.syncml.notification` (1.2), `application/vnd.syncml.dm.notification` (1.3) | package #0 ([`crate::notification::NotificationHandler`]) | 202 and a session is started ([`super::run_session`]); 200 for a duplicate (ignored) |
//! | `application/vnd.syncml.dm+wbxml; SEC=...; MAC=...` | bootstrap (`omadm_security::bootstrap`), secrets from `[bootstrap]` | 200, tree saved |
//! | `application/vnd.syncml.dm+wbxml` (or `+xml`), `x-syncml-hmac` | Sessionless Command Message ([`crate::sessionless::process_command_message`]) | 200, tree saved |
//!
//! A message that does not verify is answered 403, one that does not decode or breaks a rule 400,
//! each with a one-line reason; another media type 415; a body over the limit 413; a method
//! other than POST 405. Nothing of a refused message changes the tree. While a session (or
//! another message) holds the tree lock, a message waits for it (at most
//! [`ListenOptions::lock_wait`], then 503).

mod handle;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Router;
use omadm_syncml::pkg0::NotificationType;
use omadm_syncml::Encoding;

use super::{DeviceConfig, DeviceDir};
use crate::notification::NotificationHandler;
use crate::ui::UserInterface;

/// Default bound on a pushed body: a bootstrap or sessionless message larger than 1 MiB is not a
/// push.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Makes the user interface of one session: it answers the session's user interaction alerts,
/// and the consent a ui-mode `11` notification asks for before the session starts.
pub type UiFactory = Arc<dyn Fn() -> Box<dyn UserInterface + Send> + Send + Sync>;

/// How the receiver behaves.
#[derive(Clone)]
pub struct ListenOptions {
    /// Largest body accepted (413 above).
    pub max_body: usize,
    /// How long a message waits for the tree lock.
    pub lock_wait: Duration,
    /// The user interface of the sessions notifications start [default: auto-accept].
    pub ui: UiFactory,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            max_body: DEFAULT_MAX_BODY,
            lock_wait: super::DEFAULT_LOCK_WAIT,
            ui: Arc::new(|| Box::new(crate::ui::AutoAccept)),
        }
    }
}

impl std::fmt::Debug for ListenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenOptions")
            .field("max_body", &self.max_body)
            .field("lock_wait", &self.lock_wait)
            .finish_non_exhaustive()
    }
}

/// Where the receiver's log lines go (besides `DIR/log`).
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The receiver's state, shared by every request.
#[derive(Clone)]
pub struct Listener {
    inner: Arc<Inner>,
}

struct Inner {
    dir: DeviceDir,
    config: DeviceConfig,
    opts: ListenOptions,
    notifications: Mutex<NotificationHandler>,
    log: LogSink,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("dir", &self.inner.dir)
            .field("opts", &self.inner.opts)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// A receiver for the device in `dir` configured by `config`; every event is passed to `log`
    /// and appended to `DIR/log`.
    pub fn new(dir: DeviceDir, config: DeviceConfig, opts: ListenOptions, log: LogSink) -> Self {
        Listener {
            inner: Arc::new(Inner {
                dir,
                config,
                opts,
                notifications: Mutex::new(NotificationHandler::new()),
                log,
            }),
        }
    }

    /// The device directory.
    pub fn dir(&self) -> &DeviceDir {
        &self.inner.dir
    }

    fn log(&self, line: &str) {
        self.inner.dir.log(line);
        (self.inner.log)(line);
    }

    /// The axum application: every path, POST only.
    pub fn router(self) -> Router {
        let limit = self.inner.opts.max_body;
        Router::new()
            .fallback(receive)
            .layer(DefaultBodyLimit::max(limit))
            .with_state(self)
    }
}

/// Serves `listener` on `tcp` until the process ends.
pub async fn serve(tcp: tokio::net::TcpListener, listener: Listener) -> std::io::Result<()> {
    axum::serve(tcp, listener.router()).await
}

/// What a body is, by its media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Package #0 of this layout.
    Notification(NotificationType),
    /// A bootstrap (`SEC` or `MAC` parameter present).
    Bootstrap,
    /// A DM message outside a session: a sessionless command message.
    Sessionless,
}

/// Tells the [`Kind`] from a `Content-Type` value; `None` for other media types.
pub fn classify(content_type: &str) -> Option<Kind> {
    if let Some(n) = NotificationType::from_mime(content_type) {
        return Some(Kind::Notification(n));
    }
    Encoding::from_content_type(content_type)?;
    let has_sec_or_mac = content_type.split(';').skip(1).any(|p| {
        let name = p.split('=').next().unwrap_or_default().trim();
        name.eq_ignore_ascii_case("SEC") || name.eq_ignore_ascii_case("MAC")
    });
    Some(if has_sec_or_mac {
        Kind::Bootstrap
    } else {
        Kind::Sessionless
    })
}

/// An answer: status and one line.
type Answer = (StatusCode, String);

async fn receive(
    State(l): State<Listener>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "POST only\n".into());
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let ct = header("content-type").unwrap_or_default();
    let (status, line) = match classify(&ct) {
        None => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content type {ct:?}"),
        ),
        Some(Kind::Notification(kind)) => handle::notification(&l, kind, body).await,
        Some(Kind::Bootstrap) => handle::bootstrap(&l, ct, body).await,
        Some(Kind::Sessionless) => {
            handle::sessionless(&l, header(super::transport::HMAC_HEADER), body).await
        }
    };
    l.log(&format!("{} {line}", status.as_u16()));
    (status, format!("{line}\n"))
}
