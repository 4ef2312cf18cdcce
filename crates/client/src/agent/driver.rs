//! The DM session driver: runs one management session of the device in `DIR` against its server
//! with the sans-IO [`crate::session`] engine, over [`Transport`].
//!
//! One session, in order:
//! 1. take the tree with [`DeviceDir::lock_tree`] (held for the whole session: nobody else writes
//!    `tree.bin` meanwhile), create the nodes of Exec hooks ([`super::hooks::ensure_nodes`]) and
//!    build [`super::plugins`] for it;
//! 2. build package #1 with the queued Generic Alerts ([`DeviceDir::queued_alerts`]) and, for a
//!    DM 1.3 notification, the Requested MOs its codes name (`[mo_codes]` of `device.toml`);
//! 3. exchange messages: POST what the engine gives, feed it the answer, until it says the
//!    session is over. After every server message the engine processed, the tree is saved
//!    ([`super::TreeLock::save`], an atomic replace) *before* the answer is sent, so that what the
//!    server is told was done is on disk, and a crash in the middle of a message (an Atomic, a
//!    large object still arriving in chunks) leaves `tree.bin` as it was before that message;
//! 4. drop the queued alerts the session delivered ([`DeviceDir::remove_alerts`]) once it ended
//!    normally; an aborted or failed session keeps them for the next one.
//!
//! A session is bounded: at most [`RunOptions::max_messages`] exchanges. When the server would go
//! on for longer, or its message makes the engine give up (it does not decode, it fails to
//! authenticate twice), the client aborts the session with Alert 1223 (DM Protocol 1.3 §6.1,
//! DM-PRO-Abort-C-001) and ignores the answer (DM-PRO-Abort-C-005).
//!
//! The engine runs on a blocking thread ([`tokio::task::spawn_blocking`]): an Exec hook may run a
//! program synchronously, and loading or saving a large tree is file I/O.

use std::time::Duration;

use omadm_syncml::pkg0::{Initiator as NoteInitiator, UiMode};
use omadm_tree::plugin::Plugins;

use super::transport::{Transport, TransportOptions};
use super::{hooks, AgentError, DeviceConfig, DeviceDir, TreeLock, DEFAULT_LOCK_WAIT};
use crate::notification::SessionRequest;
use crate::session::{
    Event, GenericAlert, Incoming, Initiator, Outcome, Outgoing, Session, SessionConfig,
    SessionError, Step,
};
use crate::ui::{AutoAccept, UserInterface};

/// At most this many messages are sent in one session by default.
pub const DEFAULT_MAX_MESSAGES: usize = 1_000;

/// Why a session starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionTrigger {
    /// Client-initiated (Alert 1201, DIGEST.md §2.5): by the user, a timer, or queued alerts.
    Client {
        /// The account's ServerID [default: `server_id` of `device.toml`].
        server_id: Option<String>,
    },
    /// Server-alerted by a verified package #0 (Alert 1200, DIGEST.md §4.1); the fields are those
    /// of [`SessionRequest`].
    Notification {
        /// The server identifier (= the account's ServerID).
        server_id: String,
        /// The `<X>` of the matching `./DMAcc/<X>`.
        account_node: String,
        /// §4.1: the SessionID to use, uppercase hex without leading zeros.
        session_id: String,
        /// §4.1: how the user is involved.
        ui_mode: UiMode,
        /// Who initiated the management action.
        initiator: NoteInitiator,
        /// §4.1: only the zero nonce verified; the session must Chal to refresh nonces.
        resync: bool,
        /// DM 1.3 Requested-MO codes (empty for a 1.2 package).
        requested_mos: Vec<u16>,
    },
}

impl From<SessionRequest> for SessionTrigger {
    fn from(r: SessionRequest) -> SessionTrigger {
        SessionTrigger::Notification {
            server_id: r.server_id,
            account_node: r.account_node,
            session_id: r.session_id_text,
            ui_mode: r.ui_mode,
            initiator: r.initiator,
            resync: r.resync,
            requested_mos: r.requested_mos,
        }
    }
}

/// A callback that sees each session event as it happens.
pub type EventSink = Box<dyn FnMut(&Event) + Send>;

/// How [`run_session_with`] runs a session.
pub struct RunOptions {
    /// Answers user interaction alerts (1100-1104) [default: [`AutoAccept`]].
    pub ui: Box<dyn UserInterface + Send>,
    /// How long to wait for the tree lock [default: [`DEFAULT_LOCK_WAIT`]].
    pub lock_wait: Duration,
    /// At most this many messages sent; the client aborts a longer session
    /// [default: [`DEFAULT_MAX_MESSAGES`]].
    pub max_messages: usize,
    /// The HTTP client [default: built from `device.toml`].
    pub transport: Option<Transport>,
    /// How many times a message is sent again when the server cannot be reached or answers
    /// HTTP 5xx (the same bytes, after 0.25 s, 0.5 s, 1 s...; a DM server recognises a repeated
    /// MsgID) [default: 4].
    pub retries: u32,
    /// Called with each event as it happens (they are also in the [`SessionReport`] and, one
    /// line each, in `DIR/log`).
    pub on_event: Option<EventSink>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            ui: Box::new(AutoAccept),
            lock_wait: DEFAULT_LOCK_WAIT,
            max_messages: DEFAULT_MAX_MESSAGES,
            transport: None,
            retries: 4,
            on_event: None,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("lock_wait", &self.lock_wait)
            .field("max_messages", &self.max_messages)
            .finish_non_exhaustive()
    }
}

/// What a session did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionReport {
    /// The ServerID of the account used.
    pub server_id: String,
    /// The SessionID.
    pub session_id: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Everything that happened, in order.
    pub events: Vec<Event>,
    /// Queued Generic Alerts delivered (and dropped from `alerts.json`).
    pub alerts_delivered: usize,
    /// Requested-MO codes of the notification that `[mo_codes]` does not name.
    pub unknown_mo_codes: Vec<u16>,
}

/// Runs one DM session of the device in `dir` with the default [`RunOptions`] (see the module
/// doc). The future is `Send` so that the push receiver can `tokio::spawn` it.
pub async fn run_session(
    dir: &DeviceDir,
    trigger: SessionTrigger,
) -> Result<SessionReport, AgentError> {
    run_session_with(dir, trigger, RunOptions::default()).await
}

/// Where a session's messages go: the account's address (`home`), or the RespURI the server
/// last gave, unless that one proved unreachable (`gone`).
struct Route {
    home: String,
    gone: Option<String>,
}

impl Route {
    fn url<'a>(&'a self, out: &'a Outgoing) -> &'a str {
        if self.gone.as_deref() == Some(out.url.as_str()) {
            &self.home
        } else {
            &out.url
        }
    }
}

/// POSTs `out`, again up to `retries` times while the server is unreachable or fails (5xx).
///
/// A RespURI that cannot be reached (the replica that gave it is gone) is not retried: the
/// message goes to the account's address instead, at once, and so do the later ones sent to
/// that RespURI. The session's state is the server's to keep (any replica of a shared store
/// continues it), and a message the lost replica did process before it went is a repeat the
/// server answers from its record of the last exchange.
async fn post_with_retries(
    transport: &Transport,
    out: &Outgoing,
    retries: u32,
    route: &mut Route,
) -> Result<super::transport::Response, AgentError> {
    use super::transport::TransportError;
    let mut delay = Duration::from_millis(250);
    let mut attempt = 0;
    loop {
        let url = route.url(out);
        let r = transport
            .post(url, out.body.clone(), out.content_type, out.hmac.clone())
            .await;
        let unreachable = matches!(&r, Err(TransportError::Request { .. }));
        if unreachable && url != route.home {
            route.gone = Some(out.url.clone());
            continue;
        }
        let transient = match &r {
            Err(TransportError::Request { .. }) => true,
            Err(TransportError::Status { status, .. }) => *status >= 500,
            _ => false,
        };
        if !transient || attempt >= retries {
            return Ok(r?);
        }
        attempt += 1;
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(4));
    }
}

/// What the blocking half of the driver owns between two messages.
struct Work {
    session: Session,
    lock: TreeLock,
    plugins: Plugins,
    ui: Box<dyn UserInterface + Send>,
}

impl Work {
    /// Feeds one server message to the engine and saves the tree it leaves.
    fn receive(
        &mut self,
        body: &[u8],
        hmac: Option<&str>,
    ) -> Result<Result<Step, SessionError>, AgentError> {
        let now = super::now_secs();
        let tree = self.lock.tree_mut();
        tree.set_now(now);
        let env = crate::session::Env {
            tree,
            plugins: &mut self.plugins,
            ui: self.ui.as_mut(),
            now,
        };
        let step = self.session.receive(env, Incoming { body, hmac });
        // Whatever the engine did to the tree (commands run, NextNonce kept) is saved before
        // the answer leaves; a failed step changed nothing that matters, saving is harmless.
        self.lock.save()?;
        Ok(step)
    }

    /// Builds the abort message (Alert 1223) and saves the tree.
    fn abort(&mut self) -> Result<Option<Outgoing>, AgentError> {
        let out = self.session.abort(self.lock.tree_mut()).ok();
        self.lock.save()?;
        Ok(out)
    }

    /// Builds the abort message that replaces `unsent` (its MsgID, its answers) and saves the
    /// tree.
    fn abort_instead_of(&mut self, unsent: &Outgoing) -> Result<Option<Outgoing>, AgentError> {
        let out = self
            .session
            .abort_instead_of(self.lock.tree_mut(), unsent)
            .ok();
        self.lock.save()?;
        Ok(out)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AgentError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AgentError::Task(e.to_string()))
}

/// A SessionID for a client-initiated session: 1 to FFFF, from the clock (DM Protocol 1.3 §6.2
/// only asks that it differ from the last session's).
fn fresh_session_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let id = ((nanos / 1000) % 0xFFFF) as u16 + 1;
    format!("{id:X}")
}

/// The engine's configuration for this trigger; the unknown Requested-MO codes.
fn session_config(config: &DeviceConfig, trigger: &SessionTrigger) -> (SessionConfig, Vec<u16>) {
    let mut unknown = Vec::new();
    let mut cfg = match trigger {
        SessionTrigger::Client { server_id } => SessionConfig::new(
            server_id.as_deref().unwrap_or(&config.server_id),
            fresh_session_id(),
        ),
        SessionTrigger::Notification {
            server_id,
            session_id,
            requested_mos,
            ..
        } => {
            let mut c = SessionConfig::new(server_id.as_str(), session_id.as_str());
            c.initiator = Initiator::Server;
            for code in requested_mos {
                match config.mo_codes.get(&code.to_string()) {
                    Some(moid) => c.requested_mos.push(moid.clone()),
                    None => unknown.push(*code),
                }
            }
            c
        }
    };
    cfg.encoding = config.encoding.encoding();
    cfg.ver_proto = config.ver_proto.clone();
    cfg.max_msg_size = config.max_msg_size as u64;
    cfg.max_obj_size = config.max_obj_size as u64;
    if cfg.ver_proto == "DM/1.2" {
        cfg.requested_mos.clear();
    } else {
        cfg.mac_algorithm = omadm_security::hmac_header::MacAlgorithm::Sha256;
    }
    (cfg, unknown)
}

/// Runs one DM session of the device in `dir` (see the module doc).
pub async fn run_session_with(
    dir: &DeviceDir,
    trigger: SessionTrigger,
    opts: RunOptions,
) -> Result<SessionReport, AgentError> {
    let config = dir.load_config()?;
    let transport = match opts.transport {
        Some(t) => t,
        None => Transport::new(&TransportOptions::from_config(&config)?)?,
    };
    let (mut cfg, unknown_mo_codes) = session_config(&config, &trigger);

    // 1 and 2: the tree, the plugins, package #1.
    let d = dir.clone();
    let (conf2, lock_wait, ui) = (config.clone(), opts.lock_wait, opts.ui);
    let queued = dir.queued_alerts()?;
    cfg.generic_alerts = queued
        .iter()
        .map(|q| GenericAlert::from(&q.alert))
        .collect();
    let server_id = cfg.server_id.clone();
    let (mut work, first) = blocking(move || -> Result<(Work, Outgoing), AgentError> {
        let mut lock = d.lock_tree(lock_wait)?;
        hooks::ensure_nodes(lock.tree_mut(), &conf2)?;
        let plugins = super::plugins(&d, &conf2, lock.tree(), lock.applied_seq())?;
        let mut session = Session::new(lock.tree(), cfg)?;
        let first = session.start(lock.tree())?;
        Ok((
            Work {
                session,
                lock,
                plugins,
                ui,
            },
            first,
        ))
    })
    .await??;
    let session_id = work.session.session_id().to_owned();
    dir.log(&format!(
        "session {session_id} with {server_id}: started ({})",
        match &trigger {
            SessionTrigger::Client { .. } => "client-initiated, Alert 1201",
            SessionTrigger::Notification { .. } => "server-alerted, Alert 1200",
        }
    ));
    let mut sink = Sink {
        dir,
        events: Vec::new(),
        on_event: opts.on_event,
    };

    // 3: the exchange.
    let mut route = Route {
        home: first.url.clone(),
        gone: None,
    };
    let mut out = first;
    let mut sent = 0usize;
    let outcome = loop {
        if sent >= opts.max_messages {
            // The abort goes in place of the message not sent, with its answers.
            let (w, abort) = blocking(move || {
                let r = work.abort_instead_of(&out);
                (work, r)
            })
            .await?;
            work = w;
            if let Some(a) = abort? {
                let url = route.url(&a).to_owned();
                let _ = transport.post(&url, a.body, a.content_type, a.hmac).await;
            }
            sink.take(&mut work.session);
            dir.log(&format!(
                "session {session_id}: aborted after {sent} messages"
            ));
            return Err(AgentError::SessionTooLong {
                max_messages: opts.max_messages,
            });
        }
        sink.take(&mut work.session);
        sent += 1;
        let was_gone = route.gone.clone();
        let resp = post_with_retries(&transport, &out, opts.retries, &mut route).await?;
        if route.gone != was_gone {
            dir.log(&format!(
                "session {session_id}: RespURI {} unreachable; continuing at {}",
                out.url, route.home
            ));
        }
        let (w, step) = blocking(move || {
            let r = work.receive(&resp.body, resp.hmac.as_deref());
            (work, r)
        })
        .await?;
        work = w;
        match step? {
            Ok(Step::Send(next)) => out = next,
            Ok(Step::End(outcome)) => break outcome,
            Err(e) => {
                // The engine gave up on the server's message: tell the server (1223) when the
                // session is still open, then report why.
                if !work.session.is_ended() {
                    let (w, abort) = blocking(move || {
                        let r = work.abort();
                        (work, r)
                    })
                    .await?;
                    work = w;
                    if let Some(a) = abort? {
                        let url = route.url(&a).to_owned();
                        let _ = transport.post(&url, a.body, a.content_type, a.hmac).await;
                    }
                }
                sink.take(&mut work.session);
                dir.log(&format!("session {session_id}: failed: {e}"));
                return Err(AgentError::Session(e));
            }
        }
    };
    sink.take(&mut work.session);
    drop(work);

    // 4: the delivered alerts.
    let mut alerts_delivered = 0;
    if outcome == Outcome::Completed && !queued.is_empty() {
        let ids: Vec<u64> = queued.iter().map(|q| q.id).collect();
        alerts_delivered = ids.len();
        dir.remove_alerts(&ids)?;
    }
    dir.log(&format!("session {session_id}: ended, {outcome:?}"));
    Ok(SessionReport {
        server_id,
        session_id,
        outcome,
        events: sink.events,
        alerts_delivered,
        unknown_mo_codes,
    })
}

/// Collects the engine's events, tells the caller and logs them.
struct Sink<'a> {
    dir: &'a DeviceDir,
    events: Vec<Event>,
    on_event: Option<EventSink>,
}

impl Sink<'_> {
    fn take(&mut self, session: &mut Session) {
        for e in session.take_events() {
            if let Some(f) = self.on_event.as_mut() {
                f(&e);
            }
            if !matches!(e, Event::Sent { .. } | Event::Received { .. }) {
                self.dir.log(&format!("session: {}", describe(&e)));
            }
            self.events.push(e);
        }
    }
}

/// One line that says what `e` was, for people.
pub fn describe(e: &Event) -> String {
    match e {
        Event::Sent {
            msg_id,
            commands,
            bytes,
            final_,
        } => format!(
            "sent message {msg_id}: {commands} command(s), {bytes} bytes{}",
            if *final_ { ", Final" } else { "" }
        ),
        Event::Received {
            msg_id,
            commands,
            final_,
        } => format!(
            "received message {msg_id}: {commands} command(s){}",
            if *final_ { ", Final" } else { "" }
        ),
        Event::ClientAuthenticated { code } => {
            format!("the server accepted the client's credentials ({code})")
        }
        Event::Challenged { code, scheme } => match scheme {
            Some(s) => format!("the server challenged the client ({code}) for {s:?}"),
            None => format!("the server challenged the client ({code})"),
        },
        Event::ServerAuthenticated { scheme } => {
            format!("the server's credentials verified ({scheme:?})")
        }
        Event::ServerChallenged { code } => {
            format!("the server's credentials were missing or wrong: challenged it ({code})")
        }
        Event::Command {
            cmd,
            cmd_id,
            uri,
            code,
        } => match uri {
            Some(u) => format!("{cmd} {u} (CmdID {cmd_id}): {code}"),
            None => format!("{cmd} (CmdID {cmd_id}): {code}"),
        },
        Event::ServerStatus { cmd, cmd_ref, code } => {
            format!("the server answered the client's {cmd} (CmdID {cmd_ref}): {code}")
        }
        Event::AsyncExec(a) => format!(
            "Exec {} accepted (202): its result follows in a Generic Alert{}",
            a.uri,
            a.correlator
                .as_deref()
                .map(|c| format!(" with Correlator {c}"))
                .unwrap_or_default()
        ),
        Event::ChunkBuffered { uri } => format!("chunk of {uri} buffered (213)"),
        Event::ChunkInterrupted => {
            "a large object was interrupted: Alert 1225 sent, nothing committed".to_owned()
        }
        Event::Aborted { by_server: true } => "the server aborted the session (1223)".to_owned(),
        Event::Aborted { by_server: false } => "the client aborted the session (1223)".to_owned(),
    }
}
