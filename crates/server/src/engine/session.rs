//! One message of a session, start to end (DM Protocol 1.3 §6-§9): decode, find or start the
//! session, authenticate the client, take its answers and alerts, then send the next part of
//! the server's package, ask for the client's next message, abort, or end the session.

use omadm_syncml::{Alert, AlertCode, Command, Encoding, Message};
use serde_json::json;

use super::answer::{self, hdr_status, status};
use super::auth::{self, Verdict};
use super::pack::{self, Room};
use super::refuse::{refuse, unknown_device};
use super::state::SessionState;
use super::{client, matching, Context, EngineError, Inbound, Outbound, ServerConfig};
use crate::model::{CommandState, Device, QueuedCommand, SessionRecord};
use crate::store::{Changes, CommandUpdate, NewAudit};

/// Most queued commands considered for one package.
const MAX_CANDIDATES: usize = 2_000;
/// Authentication failures after which the session ends (DIGEST.md §3.3 allows one more
/// challenge after a failure; a client that resends package #1 gets one more).
const MAX_AUTH_FAILURES: u32 = 3;
/// The smallest and largest MaxMsgSize the server packs for.
const MIN_MSG: u64 = 1024;
const MAX_MSG: u64 = 16 << 20;

fn is_session_alert(c: &Command) -> bool {
    matches!(c, Command::Alert(a) if matches!(a.code(),
        Some(AlertCode::CLIENT_INITIATED_MGMT | AlertCode::SERVER_INITIATED_MGMT)))
}

/// The outcome names of [`SessionRecord::outcome`].
pub mod outcome {
    pub const COMPLETED: &str = "completed";
    pub const ABORTED_BY_CLIENT: &str = "aborted_by_client";
    pub const ABORTED_BY_SERVER: &str = "aborted_by_server";
    pub const AUTH_FAILED: &str = "auth_failed";
    pub const TOO_LARGE: &str = "message_too_large";
}

/// Everything one call builds up.
struct Run<'a> {
    cfg: &'a ServerConfig,
    dev: &'a Device,
    msg: &'a Message,
    enc: Encoding,
    st: SessionState,
    rec: SessionRecord,
    changes: Changes,
    server_nonce: Vec<u8>,
    /// The client's message: its hash and length ([`super::state::Replay`]).
    body_digest: (u64, usize),
}

impl Run<'_> {
    fn audit(&mut self, event: &str, detail: serde_json::Value) {
        self.changes.audit.push(NewAudit {
            device_id: Some(self.dev.device_id.clone()),
            session_id: Some(self.rec.session_id.clone()),
            event: event.into(),
            detail,
        });
    }

    /// The session is over: what was sent and never answered failed (no status).
    fn end(&mut self, outcome: &str, now: i64) {
        for id in self.st.unanswered() {
            self.changes.commands.push(CommandUpdate {
                id,
                state: CommandState::Failed,
                status: None,
                results: None,
                children: None,
                session_id: None,
            });
        }
        self.rec.ended_at = Some(now);
        self.rec.outcome = Some(outcome.into());
        self.audit("session.ended", json!({ "outcome": outcome }));
    }

    /// Encodes `msg` (signed for an HMAC device) and stores the session.
    fn finish(mut self, msg: Message, over: bool) -> Result<Outbound, EngineError> {
        let body = answer::encode(&msg, self.enc)?;
        let hmac = auth::sign(self.dev, &self.st, &self.server_nonce, &body);
        self.st.replay = Some(super::state::Replay::new(
            self.msg.hdr.msg_id.to_string(),
            self.body_digest,
            body,
            hmac.clone(),
        ));
        // An ended session keeps its (settled) state: it answers a repeat of its last message,
        // and a challenge of its last answer.
        self.rec.state = self.st.to_bytes();
        // The answer goes out as stored: taken back from the state, not copied into it.
        let body = self
            .st
            .replay
            .take()
            .and_then(super::state::Replay::into_answer)
            .unwrap_or_default();
        self.changes.session = Some(self.rec);
        Ok(Outbound {
            body,
            content_type: self.enc.content_type().into(),
            hmac,
            changes: self.changes,
            session_over: over,
        })
    }

    fn hdr(&self) -> omadm_syncml::SyncHdr {
        let cred = auth::server_cred(self.dev, &self.st, &self.server_nonce);
        answer::hdr(self.cfg, self.msg, self.st.msg_id, cred)
    }
}

/// See [`super::process`].
pub fn process(
    cfg: &ServerConfig,
    ctx: Context<'_>,
    inbound: Inbound<'_>,
    msg: &Message,
    enc: Encoding,
    nonce: &mut dyn FnMut() -> Vec<u8>,
) -> Result<Outbound, EngineError> {
    let now = inbound.now;
    let Some(dev) = ctx.device else {
        return unknown_device(cfg, msg, enc, nonce);
    };
    // Parsed once: the repeat check and the session both read it.
    let mut stored = ctx.session.and_then(|r| SessionState::from_bytes(&r.state));
    if let Some(out) = ctx
        .session
        .zip(stored.as_ref())
        .and_then(|(r, st)| replayed(r, st, msg, inbound, enc, now))
    {
        return Ok(out);
    }
    let pkg1 = msg.body.commands.iter().any(is_session_alert);
    let session_id = msg.hdr.session_id.to_string();
    let fresh_record = || SessionRecord {
        device_id: dev.device_id.clone(),
        session_id: session_id.clone(),
        started_at: now,
        updated_at: now,
        ended_at: None,
        outcome: None,
        messages: 0,
        state: Vec::new(),
    };
    let mut restarted = false;
    let (st, rec, fresh) = match ctx.session {
        Some(r) if r.ended_at.is_none() => match stored.take() {
            // A package #1 with MsgID 1 in a running session: the device started over (what
            // the old one left unanswered fails below, with every command still `sent`).
            Some(st) if pkg1 && msg.hdr.msg_id.trim() == "1" && st.msg_id > 0 => {
                restarted = true;
                (SessionState::default(), fresh_record(), true)
            }
            Some(st) => (st, without_state(r), false),
            None if pkg1 => (SessionState::default(), fresh_record(), true),
            None => return refuse(cfg, dev, msg, enc, 506, "session.unreadable", now),
        },
        // The device could not verify the server's credentials on the message that ended the
        // session (it kept an older nonce than the server: a session it gave up after the
        // server had committed) and challenges them (§9): the session goes on, so that the
        // server can authenticate over the new nonce, and ends again.
        Some(r)
            if !pkg1
                && r.outcome.as_deref() == Some(outcome::COMPLETED)
                && challenges_server(msg) =>
        {
            match stored.take() {
                Some(st) if st.msg_id > 0 => {
                    let mut rec = without_state(r);
                    rec.ended_at = None;
                    rec.outcome = None;
                    (st, rec, false)
                }
                _ => return refuse(cfg, dev, msg, enc, 506, "session.ended", now),
            }
        }
        Some(_) if !pkg1 => return refuse(cfg, dev, msg, enc, 506, "session.ended", now),
        None if !pkg1 => return refuse(cfg, dev, msg, enc, 404, "session.unknown", now),
        _ => (SessionState::default(), fresh_record(), true),
    };
    let mut run = Run {
        cfg,
        dev,
        msg,
        enc,
        st,
        rec,
        changes: Changes::default(),
        server_nonce: dev.server_nonce.clone(),
        body_digest: (super::state::digest(inbound.body), inbound.body.len()),
    };
    run.changes.device.last_seen = Some(now);
    if fresh {
        if restarted {
            run.audit("session.restarted", json!({}));
        }
        // 1201 client-initiated, 1200 server-alerted (after a notification).
        let alert = msg.body.commands.iter().find_map(|c| match c {
            Command::Alert(a) if is_session_alert(c) => a.code().map(|k| k.0),
            _ => None,
        });
        run.audit(
            "session.started",
            json!({ "ver_proto": msg.hdr.ver_proto.as_str(), "alert": alert }),
        );
    }
    run.rec.messages = run.rec.messages.saturating_add(1);
    run.rec.updated_at = now;
    run.st.ver_dtd = msg.hdr.ver_dtd.to_string();
    run.st.ver_proto = msg.hdr.ver_proto.to_string();
    run.st.wbxml = enc == Encoding::Wbxml;
    if let Some(m) = &msg.hdr.meta {
        run.st.max_msg_size = m.max_msg_size_value().or(run.st.max_msg_size);
        run.st.max_obj_size = m.max_obj_size_value().or(run.st.max_obj_size);
    }
    let last_sent = run.st.msg_id;
    run.st.msg_id = run.st.msg_id.saturating_add(1);

    if inbound.body.len() as u64 > cfg.max_msg_size && last_sent > 0 {
        // The client ignored the MaxMsgSize the server sent it (package #1 is sent before the
        // client knows it): refused, and the session ends.
        let statuses = vec![hdr_status(msg, 413, None)];
        let (out, _) = answer::message(run.hdr(), statuses);
        run.audit("message.too_large", json!({ "bytes": inbound.body.len() }));
        run.end(outcome::TOO_LARGE, now);
        return run.finish(out, true);
    }

    let verdict = auth::check_client(dev, &mut run.st, msg, inbound.body, inbound.hmac, nonce);
    if let Some(n) = &verdict.new_client_nonce {
        run.changes.device.client_nonce = Some(n.clone());
    }
    if !verdict.accepted() {
        return auth_failed(run, verdict, now);
    }
    run.st.auth_failures = 0;
    if fresh {
        requeue_stale(&mut run, ctx.pending, &session_id);
    }
    let refused = server_auth_answer(&mut run, last_sent);

    let cc = client::handle(msg);
    let matched = matching::apply(&mut run.st, msg, refused, last_sent, cfg.max_obj_size);
    run.changes.commands.extend(matched.updates);
    if matched.unmatched > 0 {
        run.audit("status.unmatched", json!({ "count": matched.unmatched }));
    }
    if let Some(d) = cc.devinfo {
        run.changes.device.devinfo = Some(d);
    }
    if cc.session_alert {
        run.changes.device.dm_version = Some(msg.hdr.ver_proto.to_string());
    }
    for t in &cc.rejected {
        run.audit("alert.rejected", json!({ "code": 1226, "type": t }));
    }
    async_results(&mut run, &cc.alerts, ctx.pending);
    run.changes.alerts.extend(cc.alerts);
    let mut statuses = vec![hdr_status(msg, verdict.code, verdict.chal)];
    statuses.extend(cc.statuses);
    statuses.extend(matched.statuses);

    if cc.abort {
        // §6.1.2: Status for the SyncHdr and the Alert, no new command; the session is over.
        let (out, _) = answer::message(run.hdr(), statuses);
        run.end(outcome::ABORTED_BY_CLIENT, now);
        return run.finish(out, true);
    }
    if run.rec.messages >= cfg.max_messages_per_session {
        // §6.1: the server aborts, with the statuses it owes and Final (DM-PRO-Abort-S-003/4).
        let (mut out, next) = answer::message(run.hdr(), statuses);
        let abort = Alert::new(next.to_string(), AlertCode::SESSION_ABORT);
        out.body.commands.push(Command::Alert(abort));
        run.end(outcome::ABORTED_BY_SERVER, now);
        return run.finish(out, true);
    }
    if msg.body.final_ {
        // The client's package is complete: what was answered is settled; a large Results
        // whose last chunk never came is dropped.
        if let Some(ch) = run.st.in_chunk.take() {
            let p = run.st.progress.entry(ch.id).or_default();
            p.status = Some(p.status.unwrap_or(500));
            let u = matching::update(ch.id, p);
            run.changes.commands.push(u);
        }
        run.st.settle();
    }
    respond(run, statuses, ctx.pending, &session_id, now)
}

/// A copy of the stored session for this message to update, without the stored state (parsed
/// already; [`Run::finish`] writes it anew), which holds the last answer and is the bulk of it.
fn without_state(r: &SessionRecord) -> SessionRecord {
    SessionRecord {
        device_id: r.device_id.clone(),
        session_id: r.session_id.clone(),
        started_at: r.started_at,
        updated_at: r.updated_at,
        ended_at: r.ended_at,
        outcome: r.outcome.clone(),
        messages: r.messages,
        state: Vec::new(),
    }
}

/// Builds the answer once the client's message is taken in: the next chunk of a large object,
/// a "Next Message" response while the client's package goes on, the next package, or the end.
fn respond(
    mut run: Run<'_>,
    statuses: Vec<omadm_syncml::Status>,
    pending: &[QueuedCommand],
    session_id: &str,
    now: i64,
) -> Result<Outbound, EngineError> {
    let (mut out, mut next) = answer::message(run.hdr(), statuses);
    let max_msg = run
        .st
        .max_msg_size
        .unwrap_or(run.cfg.max_msg_size)
        .clamp(MIN_MSG, MAX_MSG);
    let room = Room {
        enc: run.enc,
        max_msg: usize::try_from(max_msg).unwrap_or(usize::MAX),
        max_obj: run.st.max_obj_size,
        msg_id: run.st.msg_id,
    };
    if run.st.out_chunk.is_some() {
        // §8: the chunks of an object go in contiguous messages.
        let packed = pack::continue_chunk(&mut run.st, &mut out, &mut next, room, pending)?;
        out.body.final_ = packed.complete;
        run.st.package_open = !packed.complete;
        return run.finish(out, false);
    }
    if !run.msg.body.final_ && !run.st.package_open {
        // §7.2: "Next Message" response: Alert 1222, the statuses, no Final.
        let a = Alert::new(next.to_string(), AlertCode::NEXT_MESSAGE);
        out.body.commands.push(Command::Alert(a));
        out.body.final_ = false;
        return run.finish(out, false);
    }
    let busy: Vec<i64> = run
        .st
        .sent
        .iter()
        .map(|s| s.id)
        .chain(run.st.progress.keys().copied())
        .collect();
    let mut cands: Vec<&QueuedCommand> = run
        .st
        .resend
        .iter()
        .filter_map(|id| pending.iter().find(|q| q.id == *id))
        .collect();
    cands.extend(
        pending
            .iter()
            .filter(|q| {
                q.state == CommandState::Queued
                    || (q.state == CommandState::Sent
                        && q.session_id.as_deref() != Some(session_id))
            })
            .filter(|q| !run.st.resend.contains(&q.id) && !busy.contains(&q.id))
            .take(MAX_CANDIDATES),
    );
    let packed = pack::fill(&mut run.st, &mut out, &mut next, room, &cands)?;
    let settled: Vec<i64> = packed
        .sent
        .iter()
        .copied()
        .chain(packed.failed.iter().map(|f| f.0))
        .collect();
    run.st
        .resend
        .retain(|id| !settled.contains(id) && pending.iter().any(|q| q.id == *id));
    for (id, code) in &packed.failed {
        run.changes.commands.push(CommandUpdate {
            id: *id,
            state: CommandState::Failed,
            status: Some(*code),
            results: None,
            children: None,
            session_id: Some(session_id.to_owned()),
        });
        run.audit("command.refused", json!({ "id": id, "status": code }));
    }
    for id in &packed.sent {
        run.changes.commands.push(CommandUpdate {
            id: *id,
            state: CommandState::Sent,
            status: None,
            results: None,
            children: None,
            session_id: Some(session_id.to_owned()),
        });
    }
    if !packed.sent.is_empty() {
        run.audit("command.sent", json!({ "ids": packed.sent }));
    }
    let more_queued = packed.sent.is_empty() && !packed.complete;
    if packed.sent.is_empty() && !more_queued && run.st.out_chunk.is_none() {
        // §6.7 (DM-PRO-S-001/005): nothing left to send and nothing awaited: a final message
        // of statuses only ends the session.
        out.body.final_ = true;
        run.end(outcome::COMPLETED, now);
        return run.finish(out, true);
    }
    out.body.final_ = packed.complete;
    run.st.package_open = !packed.complete;
    run.finish(out, false)
}

/// The client's Status for the server's last SyncHdr (§9.3): a challenge (401/407) takes the
/// client's NextNonce and puts the refused message's commands back in line; 200/212 means the
/// server is authenticated. Returns the MsgID the client refused.
fn server_auth_answer(run: &mut Run<'_>, last_sent: u32) -> Option<u32> {
    let s = run.msg.body.commands.iter().find_map(|c| match c {
        Command::Status(s) if s.cmd_ref.trim() == "0" || s.cmd == "SyncHdr" => Some(s),
        _ => None,
    })?;
    if let Some(n) = s.chal.as_deref().and_then(auth::chal_nonce) {
        run.server_nonce = n.clone();
        run.changes.device.server_nonce = Some(n);
    }
    let code = s.code().map(|c| c.0)?;
    match code {
        401 | 407 => {
            run.st.server_authenticated = false;
            let refused: u32 = s.msg_ref.trim().parse().unwrap_or(last_sent);
            let mut again: Vec<i64> = Vec::new();
            for e in run.st.sent.iter().filter(|e| e.msg == refused) {
                if !again.contains(&e.id) {
                    again.push(e.id);
                }
            }
            run.st.sent.retain(|e| e.msg != refused);
            if run
                .st
                .out_chunk
                .as_ref()
                .is_some_and(|c| again.contains(&c.id))
            {
                run.st.out_chunk = None;
            }
            for id in again {
                run.st.progress.remove(&id);
                if !run.st.resend.contains(&id) {
                    run.st.resend.push(id);
                }
            }
            run.audit("server.challenged", json!({ "status": code }));
            Some(refused)
        }
        200..=299 => {
            run.st.server_authenticated = true;
            None
        }
        _ => None,
    }
}

/// §9.1: after an authentication failure, only Status (one per command received), with a
/// Chal; after [`MAX_AUTH_FAILURES`] the session ends.
fn auth_failed(mut run: Run<'_>, v: Verdict, now: i64) -> Result<Outbound, EngineError> {
    run.st.auth_failures += 1;
    let last = run.st.auth_failures >= MAX_AUTH_FAILURES;
    let chal = if last { None } else { v.chal };
    let msg = run.msg;
    let mut statuses = vec![hdr_status(msg, v.code, chal)];
    for c in &msg.body.commands {
        if !matches!(c, Command::Status(_) | Command::Results(_)) {
            statuses.push(status(&msg.hdr.msg_id, c.cmd_id(), c.name(), v.code));
        }
    }
    let (out, _) = answer::message(run.hdr(), statuses);
    run.audit(
        "auth.failed",
        json!({ "status": v.code, "attempt": run.st.auth_failures, "session_over": last }),
    );
    if last {
        run.end(outcome::AUTH_FAILED, now);
    }
    run.finish(out, last)
}

/// Commands left `sent` by a session that never ended (the device vanished, the server was
/// killed) go back to the queue when the device's next session is authenticated, and are sent
/// in it: delivery is at least once. (Within a session a message sent again is answered from
/// [`super::state::Replay`], so a lost answer does not cause a second send.)
fn requeue_stale(run: &mut Run<'_>, pending: &[QueuedCommand], session_id: &str) {
    let stale: Vec<i64> = pending
        .iter()
        .filter(|q| q.state == CommandState::Sent && q.session_id.as_deref() != Some(session_id))
        .map(|q| q.id)
        .collect();
    for id in &stale {
        run.changes.commands.push(CommandUpdate {
            id: *id,
            state: CommandState::Queued,
            status: None,
            results: None,
            children: None,
            session_id: None,
        });
    }
    if !stale.is_empty() {
        run.audit("command.requeued", json!({ "ids": stale }));
    }
}

/// DM Protocol 1.3 §6.7.1.10 (DM-PRO-GAlert-S-002): a Generic Alert whose Correlator is that of
/// an Exec the device accepted with 202 is that Exec's result: its Items become the command's
/// results, and a status code in its Data (FUMO result codes, hook exit statuses) its final
/// status (2xx done, else failed).
fn async_results(run: &mut Run<'_>, alerts: &[crate::store::NewAlert], pending: &[QueuedCommand]) {
    for a in alerts.iter().filter(|a| a.code == AlertCode::GENERIC.0) {
        let Some(corr) = a.correlator.as_deref() else {
            continue;
        };
        let Some(q) = pending.iter().find(|q| {
            q.state == CommandState::Done
                && q.status == Some(202)
                && q.spec.op == crate::model::Op::Exec
                && q.spec.correlator.as_deref() == Some(corr)
        }) else {
            continue;
        };
        let code = a
            .items
            .first()
            .and_then(|i| i.data.as_deref())
            .and_then(|d| d.trim().parse::<u16>().ok())
            .filter(|c| (100..=599).contains(c));
        let state = match code {
            Some(c) if !(200..300).contains(&c) => CommandState::Failed,
            _ => CommandState::Done,
        };
        let results = a
            .items
            .iter()
            .map(|i| crate::model::ResultItem {
                source: i.source.clone(),
                format: i.format.clone(),
                type_: i.type_.clone(),
                data: i.data.clone(),
            })
            .collect();
        run.changes.commands.push(CommandUpdate {
            id: q.id,
            state,
            status: code.or(Some(202)),
            results: Some(results),
            children: None,
            session_id: None,
        });
        run.audit(
            "command.async_result",
            json!({ "id": q.id, "status": code }),
        );
    }
}

/// True when the message's Status for the server's SyncHdr challenges the server (401/407).
fn challenges_server(msg: &Message) -> bool {
    msg.body.commands.iter().any(|c| {
        matches!(c, Command::Status(s) if s.cmd == "SyncHdr"
            && matches!(s.code().map(|c| c.0), Some(401 | 407)))
    })
}

/// The stored answer to a message sent again byte for byte (see [`super::state::Replay`]).
fn replayed(
    r: &SessionRecord,
    st: &SessionState,
    msg: &Message,
    inbound: Inbound<'_>,
    enc: Encoding,
    now: i64,
) -> Option<Outbound> {
    let rp = st.replay.as_ref()?;
    if rp.msg_id != msg.hdr.msg_id.as_str()
        || rp.len != inbound.body.len()
        || rp.digest != super::state::digest(inbound.body)
    {
        return None;
    }
    let body = rp.answer()?.to_vec();
    let mut rec = r.clone();
    rec.updated_at = now;
    let mut changes = Changes::default();
    changes.audit.push(NewAudit {
        device_id: Some(r.device_id.clone()),
        session_id: Some(r.session_id.clone()),
        event: "message.repeated".into(),
        detail: json!({ "msg_id": msg.hdr.msg_id.as_str() }),
    });
    changes.session = Some(rec);
    Some(Outbound {
        body,
        content_type: enc.content_type().into(),
        hmac: rp.hmac.clone(),
        changes,
        session_over: r.ended_at.is_some(),
    })
}
