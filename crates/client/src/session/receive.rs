//! One message from the server: statuses about the client's last message, the server's
//! authentication, its commands run on the tree, and the answer (DM Protocol 1.3 §6-§8).

use compact_str::ToCompactString;
use omadm_syncml::{
    Alert, AlertCode, Command, Data, Item, ItemCommand, Limits, Location, Message, Status,
};

use super::auth::{hdr_status, HdrVerdict};
use super::{Env, Event, Incoming, Outcome, Session, SessionError, State, Step};
use crate::executor::Executor;
use crate::large_object::ChunkOutcome;
use crate::ui;

/// A Status answering `cmd` (CmdID given when packed).
fn status(msg_ref: &str, cmd: &Command, code: u16, item: Option<&Item>) -> Command {
    let refs =
        |l: Option<&omadm_syncml::Location>| l.map(|l| vec![l.loc_uri.clone()]).unwrap_or_default();
    Command::Status(Status {
        msg_ref: msg_ref.into(),
        cmd_ref: cmd.cmd_id().into(),
        cmd: cmd.name().into(),
        target_refs: refs(item.and_then(|i| i.target.as_ref())),
        source_refs: refs(item.and_then(|i| i.source.as_ref())),
        data: code.to_compact_string(),
        ..Status::default()
    })
}

/// A chunked Add/Replace item: one item, and either `MoreData` or the end of a pending object.
fn chunk_item(cmd: &Command) -> Option<(&ItemCommand, &Item)> {
    match cmd {
        Command::Add(c) | Command::Replace(c) if c.items.len() == 1 => Some((c, &c.items[0])),
        _ => None,
    }
}

impl Session {
    /// Takes the server's next message and returns what to send, or the end of the session.
    pub fn receive(
        &mut self,
        mut env: Env<'_>,
        incoming: Incoming<'_>,
    ) -> Result<Step, SessionError> {
        if self.state == super::State::Ended {
            return Err(SessionError::Ended);
        }
        let limits = Limits::default();
        let (msg, _) = Message::decode_with(incoming.body, &limits)?;
        if self.cfg.offline {
            self.cfg.session_id = msg.hdr.session_id.to_string();
        } else if msg.hdr.session_id != self.cfg.session_id.as_str() {
            return Err(SessionError::SessionIdMismatch {
                expected: self.cfg.session_id.clone(),
                got: msg.hdr.session_id.to_string(),
            });
        }
        env.tree.set_now(env.now);
        self.events.push(Event::Received {
            msg_id: msg.hdr.msg_id.clone(),
            commands: msg.body.commands.len(),
            final_: msg.body.final_,
        });
        // The nonce our last message gave the server is the one it now holds.
        if let Some(n) = self.srv_sent.take() {
            self.srv_expected = Some(n);
        }
        if let Some(uri) = &msg.hdr.resp_uri {
            // §6.2: RespURI names where the rest of the session goes.
            self.url = uri.to_string();
        }
        if let Some(m) = &msg.hdr.meta {
            self.srv_max_msg = m.max_msg_size_value().or(self.srv_max_msg);
            self.srv_max_obj = m.max_obj_size_value().or(self.srv_max_obj);
        }

        // The server's answers to the client's last message.
        let mut challenged = None;
        for c in &msg.body.commands {
            if let Command::Status(s) = c {
                if s.cmd_ref == "0" || s.cmd.eq_ignore_ascii_case("SyncHdr") {
                    challenged = self.on_hdr_status(s)?.or(challenged);
                } else {
                    self.events.push(Event::ServerStatus {
                        cmd: s.cmd.clone(),
                        cmd_ref: s.cmd_ref.clone(),
                        code: s.code().map_or(0, |c| c.0),
                    });
                }
            }
        }
        let verdict = if challenged.is_some() && self.state == State::Init {
            // §9: challenged in package #2, the client resends package #1 and "MUST NOT
            // challenge the DM Server" there; the server's credentials are checked afterwards.
            HdrVerdict {
                code: 200,
                chal: None,
            }
        } else {
            self.check_server(&msg, incoming.hmac, incoming.body)?
        };

        // §7: Alert 1223 from the server ends the session at once.
        if msg
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code() == Some(AlertCode::SESSION_ABORT)))
        {
            self.events.push(Event::Aborted { by_server: true });
            self.finish(env.tree);
            return Ok(Step::End(Outcome::AbortedByServer));
        }

        if let Some(code) = challenged {
            return self.answer_challenge(&msg, verdict, code).map(Step::Send);
        }
        if self.state == State::Init {
            self.state = State::Management;
        }
        if !verdict.accepted() {
            // §9.1: after an authentication failure, only Status, one per command received.
            let answers = msg
                .body
                .commands
                .iter()
                .filter(|c| !matches!(c, Command::Status(_) | Command::Results(_)))
                .map(|c| status(&msg.hdr.msg_id, c, verdict.code, None))
                .collect::<Vec<_>>();
            let first = std::iter::once(Command::Status(hdr_status(&msg, verdict)))
                .chain(answers)
                .collect();
            return self.emit(first, None, msg.body.final_).map(Step::Send);
        }

        let (answers, saw_command) = self.execute(&mut env, &msg);
        let answers = self.enforce_max_obj(answers);
        self.record_commands(&answers);
        self.outbox.extend(answers);

        // §6.7: a final message with nothing to answer ends the session.
        if msg.body.final_ && !saw_command && self.outbox.is_empty() {
            self.finish(env.tree);
            return Ok(Step::End(Outcome::Completed));
        }
        // §7.2: while the server's package is not complete, ask for its next message. Its
        // "Next Message" response (only Alert 1222 and statuses, no Final) is not such a
        // package: the server has closed its own and waits for the rest of ours, Final included.
        let server_done = msg.body.final_ || is_next_message_response(&msg);
        let trailer = (!server_done).then(|| {
            let mut a = Alert::new("0", AlertCode::NEXT_MESSAGE);
            a.items = Vec::new();
            Command::Alert(a)
        });
        let first = vec![Command::Status(hdr_status(&msg, verdict))];
        self.emit(first, trailer, server_done).map(Step::Send)
    }

    /// The server challenged the client's last message (§9.1): resend package #1 when that was
    /// it, else the last message, with credentials for the scheme and nonce now known.
    fn answer_challenge(
        &mut self,
        msg: &Message,
        verdict: HdrVerdict,
        code: u16,
    ) -> Result<super::Outgoing, SessionError> {
        self.challenges += 1;
        // The first answer may have used a stale nonce; one more try after that (DIGEST §3.3).
        if self.challenges > 2 || self.cred().is_none() && self.mac_for(b"").is_none() {
            return Err(SessionError::AuthFailed { code });
        }
        if self.state == State::Init {
            self.outbox.clear();
            self.outbox.extend(self.pkg1.clone());
            return self.emit(Vec::new(), None, true);
        }
        // The refused message goes again, ahead of the rest of the package still queued.
        let again: Vec<Command> = std::mem::take(&mut self.last_sent)
            .into_iter()
            .filter(|c| !matches!(c, Command::Status(s) if s.cmd_ref == "0"))
            .collect();
        self.outbox.prepend(again);
        let first = vec![Command::Status(hdr_status(msg, verdict))];
        self.emit(first, None, msg.body.final_)
    }

    /// Runs the server's commands: the answers, and whether there was any command to answer.
    fn execute(&mut self, env: &mut Env<'_>, msg: &Message) -> (Vec<Command>, bool) {
        let server_id = self.cfg.server_id.clone();
        let msg_id = msg.hdr.msg_id.to_string();
        let mut out = Vec::new();
        let mut saw = false;
        let mut cb = ui::callback(&mut *env.ui);
        let mut ex = Executor::new(env.tree, env.plugins, &server_id, &msg_id, 1).with_ui(&mut cb);
        for cmd in &msg.body.commands {
            match cmd {
                Command::Status(_) | Command::Results(_) => continue,
                Command::Alert(a) if a.code() == Some(AlertCode::NEXT_MESSAGE) => {
                    // §7: the server asks for the client's next message; answered 200.
                    saw = true;
                    if !a.no_resp {
                        out.push(status(&msg_id, cmd, 200, None));
                    }
                    continue;
                }
                _ => saw = true,
            }
            match chunk_item(cmd) {
                Some((c, item)) if item.more_data || self.assembler.is_pending() => {
                    if self.assembler.is_pending()
                        && !self.assembler.is_continuation(cmd.name(), item)
                    {
                        self.interrupted(&mut out);
                    }
                    match self.assembler.accept(cmd.name(), item) {
                        ChunkOutcome::Buffered => {
                            let uri = item.target.as_ref().map(|t| t.loc_uri.clone());
                            self.events.push(Event::ChunkBuffered {
                                uri: uri.unwrap_or_default(),
                            });
                            if !c.no_resp {
                                out.push(status(&msg_id, cmd, 213, Some(item)));
                            }
                        }
                        ChunkOutcome::Complete { meta, data } => {
                            let whole = reassembled(cmd, c, item, meta, data);
                            out.extend(ex.execute(&whole));
                        }
                        ChunkOutcome::NotChunked => out.extend(ex.execute(cmd)),
                        ChunkOutcome::Failed(code) => {
                            if !c.no_resp {
                                out.push(status(&msg_id, cmd, code, Some(item)));
                            }
                        }
                    }
                    continue;
                }
                _ => {
                    if self.assembler.is_pending() {
                        self.interrupted(&mut out);
                    }
                }
            }
            out.extend(ex.execute(cmd));
        }
        if msg.body.final_ && self.assembler.is_pending() {
            // §8: the package ended before the object's last chunk.
            self.interrupted(&mut out);
        }
        for a in ex.pending_async() {
            self.events.push(Event::AsyncExec(a.clone()));
        }
        (out, saw)
    }

    /// One [`Event::Command`] per Status in the answers, as they will be sent.
    fn record_commands(&mut self, answers: &[Command]) {
        for c in answers {
            if let Command::Status(s) = c {
                self.events.push(Event::Command {
                    cmd: s.cmd.clone(),
                    cmd_id: s.cmd_ref.clone(),
                    uri: s
                        .target_refs
                        .first()
                        .or_else(|| s.source_refs.first())
                        .cloned(),
                    code: s.code().map_or(0, |c| c.0),
                });
            }
        }
    }

    /// §8: Alert 1225 for an object whose chunks stopped coming; nothing of it was committed.
    fn interrupted(&mut self, out: &mut Vec<Command>) {
        if self.assembler.interrupted().is_some() {
            self.events.push(Event::ChunkInterrupted);
            let mut a = Alert::new("0", AlertCode::NO_END_OF_DATA);
            // §8: with the target of the command that stopped, so the server knows which.
            if let Some(uri) = self.assembler.dropped_uri() {
                a.items = vec![Item {
                    target: Some(Location::new(uri.as_str())),
                    ..Item::default()
                }];
            }
            out.push(Command::Alert(a));
        }
    }

    /// §8: no object larger than the server's MaxObjSize goes to it: such a Results is dropped
    /// and its Get answers 413.
    fn enforce_max_obj(&self, mut out: Vec<Command>) -> Vec<Command> {
        let Some(max) = self.srv_max_obj else {
            return out;
        };
        let mut i = 0;
        while i < out.len() {
            let too_big = matches!(&out[i], Command::Results(r)
                if r.items.iter().any(|it| it.data.as_ref().map_or(0, Data::len) as u64 > max));
            if !too_big {
                i += 1;
                continue;
            }
            let cmd_ref = out[i].items().first().map(|_| ()).and(match &out[i] {
                Command::Results(r) => Some(r.cmd_ref.clone()),
                _ => None,
            });
            out.remove(i);
            if let Some(cmd_ref) = cmd_ref {
                for c in out[..i].iter_mut().rev() {
                    if let Command::Status(s) = c {
                        if s.cmd_ref == cmd_ref {
                            s.data = "413".into();
                            break;
                        }
                    }
                }
            }
        }
        out
    }
}

/// §7.2: the "Next Message" response holds Alert 1222, Status and Results, nothing else.
fn is_next_message_response(msg: &Message) -> bool {
    let next =
        |c: &Command| matches!(c, Command::Alert(a) if a.code() == Some(AlertCode::NEXT_MESSAGE));
    msg.body.commands.iter().any(next)
        && msg
            .body
            .commands
            .iter()
            .all(|c| next(c) || matches!(c, Command::Status(_) | Command::Results(_)))
}

/// The command of a chunked object with its whole data, as if it had come in one piece.
fn reassembled(
    cmd: &Command,
    c: &ItemCommand,
    item: &Item,
    mut meta: omadm_syncml::Meta,
    data: Vec<u8>,
) -> Command {
    if let Some(m) = meta.more.as_mut() {
        m.size = None;
    }
    let mut it = item.clone();
    it.more_data = false;
    it.meta = (!meta.is_empty()).then_some(meta);
    it.data = Some(match String::from_utf8(data) {
        Ok(s) => Data::Text(s.into()),
        Err(e) => Data::Opaque(e.into_bytes()),
    });
    let mut whole = c.clone();
    whole.items = vec![it];
    match cmd {
        Command::Add(_) => Command::Add(whole),
        _ => Command::Replace(whole),
    }
}
