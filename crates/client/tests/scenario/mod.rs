//! Scenario harness for the session tests (session_auth, session_multi, session_commands): a
//! device holding its tree, plugins, user interface and session, a builder of server messages,
//! and the checks every client message of every scenario must pass (DM Protocol 1.3 §5.5: the
//! client sends no command but Replace (DevInfo), Results, Alert and Status; §6.2: one SessionID,
//! MsgIDs counting from 1).
#![allow(dead_code)]

use omadm_client::session::{Env, Event, Incoming, Outgoing, Session, SessionConfig, Step};
use omadm_client::ui::{AutoAccept, UserInterface};
use omadm_client::SessionError;
use omadm_security::cred;
use omadm_syncml::{
    Alert, AlertCode, Chal, Command, Container, Cred, Data, Encoding, Exec, Item, ItemCommand,
    Location, Message, Meta, Status, SyncBody, SyncHdr,
};
use omadm_tree::plugin::Plugins;
use omadm_tree::tnds;
use omadm_tree::uri::TndsSelection;
use omadm_tree::{Caller, Tree};

use crate::common::{DEV_ID, SERVER_ID, SERVER_URI, SRV_NAME, SRV_SECRET};

/// The session id of every scenario.
pub const SESSION_ID: &str = "1";

/// A client-initiated DM 1.3 session over XML.
pub fn config() -> SessionConfig {
    let mut c = SessionConfig::new(SERVER_ID, SESSION_ID);
    c.ver_proto = "DM/1.3".into();
    c
}

/// The device side of a scenario. Every message the session sends is kept; when the device is
/// dropped (at the end of each test that did not fail) all of them are checked with
/// [`check_client_messages`].
pub struct Dev {
    pub tree: Tree,
    pub plugins: Plugins,
    pub ui: Box<dyn UserInterface>,
    pub session: Session,
    pub sent: Vec<Outgoing>,
    pub events: Vec<Event>,
    pub now: u64,
}

impl Dev {
    /// A device with `tree`, accepting every user interaction.
    pub fn new(tree: Tree, cfg: SessionConfig) -> Dev {
        let session = Session::new(&tree, cfg).expect("the DMAcc account is readable");
        Dev {
            tree,
            plugins: Plugins::default(),
            ui: Box::new(AutoAccept),
            session,
            sent: Vec::new(),
            events: Vec::new(),
            now: 1_700_000_000,
        }
    }

    /// Package #1, decoded.
    pub fn start(&mut self) -> Message {
        let out = self.session.start(&self.tree).expect("package #1 builds");
        self.sent.push(out);
        self.last()
    }

    /// Feeds a server message (XML, no HMAC).
    pub fn recv(&mut self, msg: &Message) -> Result<Step, SessionError> {
        let body = msg.encode(Encoding::Xml).expect("server message encodes");
        self.recv_bytes(&body, None)
    }

    /// Feeds raw server bytes with an optional `x-syncml-hmac` header.
    pub fn recv_bytes(&mut self, body: &[u8], hmac: Option<&str>) -> Result<Step, SessionError> {
        let env = Env {
            tree: &mut self.tree,
            plugins: &mut self.plugins,
            ui: &mut *self.ui,
            now: self.now,
        };
        let step = self.session.receive(env, Incoming { body, hmac });
        self.events.extend(self.session.take_events());
        if let Ok(Step::Send(o)) = &step {
            self.sent.push(o.clone());
        }
        step
    }

    /// Feeds a server message and expects a message back, decoded.
    pub fn answer(&mut self, msg: &Message) -> Message {
        match self.recv(msg) {
            Ok(Step::Send(_)) => self.last(),
            other => panic!("expected a message from the client, got {other:?}"),
        }
    }

    /// The last message sent, decoded.
    pub fn last(&self) -> Message {
        decode(self.sent.last().expect("a message was sent"))
    }

    /// The last Outgoing.
    pub fn last_out(&self) -> &Outgoing {
        self.sent.last().expect("a message was sent")
    }

    /// The whole value of a node, as the device reads it.
    pub fn value(&self, uri: &str) -> Option<Vec<u8>> {
        self.tree.get(Caller::Device, uri).ok().map(|v| v.data)
    }

    /// The subtree at `uri` as TNDS XML with every property: equal snapshots mean an unchanged
    /// subtree.
    pub fn snapshot(&self, uri: &str) -> String {
        let t = self
            .tree
            .export_tnds(Caller::Device, uri, &TndsSelection::All)
            .expect("subtree exports");
        String::from_utf8(tnds::to_xml(&t).expect("TNDS encodes")).expect("TNDS XML is UTF-8")
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            check_client_messages(&self.sent);
        }
    }
}

pub fn decode(o: &Outgoing) -> Message {
    Message::decode(&o.body).expect("client message decodes")
}

/// The checks every message of every scenario passes:
/// - DM Protocol 1.3 §5.5: "The DM Client MUST NOT send any commands other than Replace command
///   containing DevInfo, Results and Alert to the DM Server" (plus the Status answers), and the
///   Replace only in package #1 (the message carrying the 1200/1201 Alert);
/// - §6.2/§6.3: the same SessionID throughout, MsgID counting from 1 one by one, the message's
///   MsgID and `Final` as the Outgoing reports them;
/// - every Status carries a 3-digit code (no `0`, no placeholder), a MsgRef and a CmdRef, and
///   CmdIDs are unique within a message.
pub fn check_client_messages(sent: &[Outgoing]) {
    let session_id = sent.first().map(|o| decode(o).hdr.session_id);
    for (i, out) in sent.iter().enumerate() {
        let m = decode(out);
        let n = i + 1;
        assert_eq!(
            Some(&m.hdr.session_id),
            session_id.as_ref(),
            "message {n}: SessionID"
        );
        assert_eq!(m.hdr.msg_id, n.to_string(), "message {n}: MsgID");
        assert_eq!(out.msg_id as usize, n, "message {n}: Outgoing.msg_id");
        assert_eq!(out.final_, m.body.final_, "message {n}: Outgoing.final_");
        assert_eq!(m.hdr.target.loc_uri, SERVER_URI, "message {n}: Target");
        assert_eq!(m.hdr.source.loc_uri, DEV_ID, "message {n}: Source");
        let pkg1 = m.body.commands.iter().any(|c| {
            matches!(c, Command::Alert(a) if matches!(a.code(),
                Some(AlertCode::CLIENT_INITIATED_MGMT | AlertCode::SERVER_INITIATED_MGMT)))
        });
        let mut ids = std::collections::HashSet::new();
        for c in &m.body.commands {
            assert!(
                ids.insert(c.cmd_id().to_owned()),
                "message {n}: CmdID {} repeated",
                c.cmd_id()
            );
            match c {
                Command::Status(s) => {
                    let code: u16 = s.data.parse().unwrap_or(0);
                    assert!(
                        (100..=599).contains(&code) || (1000..=1999).contains(&code),
                        "message {n}: Status data {:?}",
                        s.data
                    );
                    assert!(!s.msg_ref.is_empty(), "message {n}: Status without MsgRef");
                    assert!(!s.cmd_ref.is_empty(), "message {n}: Status without CmdRef");
                }
                Command::Results(r) => {
                    assert!(!r.cmd_ref.is_empty(), "message {n}: Results without CmdRef");
                    for it in &r.items {
                        assert!(
                            it.source.is_some(),
                            "message {n}: Results Item without Source"
                        );
                    }
                }
                Command::Alert(_) => {}
                Command::Replace(r) if pkg1 => {
                    for it in &r.items {
                        let src = it.source.as_ref().map_or("", |s| s.loc_uri.as_str());
                        assert!(
                            src.starts_with("./DevInfo/"),
                            "message {n}: Replace of {src} is not DevInfo"
                        );
                    }
                }
                other => panic!("message {n}: the client sent {}", other.name()),
            }
        }
    }
}

// ---- server messages ----

/// The server's SyncHdr for message `msg_id`.
pub fn server_hdr(msg_id: u32) -> SyncHdr {
    SyncHdr {
        ver_dtd: "1.2".into(),
        ver_proto: "DM/1.3".into(),
        session_id: SESSION_ID.into(),
        msg_id: msg_id.to_string().into(),
        target: Location::new(DEV_ID),
        source: Location::new(SERVER_URI),
        ..SyncHdr::default()
    }
}

/// A server message; commands without a CmdID are numbered in document order (nested ones too),
/// after the highest CmdID given.
pub fn server_msg(msg_id: u32, commands: Vec<Command>, final_: bool) -> Message {
    let mut commands = commands;
    let mut next = max_id(&commands) + 1;
    number(&mut commands, &mut next);
    Message {
        hdr: server_hdr(msg_id),
        body: SyncBody { commands, final_ },
    }
}

fn max_id(cmds: &[Command]) -> u32 {
    cmds.iter()
        .map(|c| {
            let own = c.cmd_id().parse().unwrap_or(0);
            match c {
                Command::Atomic(k) | Command::Sequence(k) => own.max(max_id(&k.commands)),
                _ => own,
            }
        })
        .max()
        .unwrap_or(0)
}

fn number(cmds: &mut [Command], next: &mut u32) {
    for c in cmds {
        let slot = match c {
            Command::Add(x)
            | Command::Copy(x)
            | Command::Delete(x)
            | Command::Get(x)
            | Command::Replace(x) => &mut x.cmd_id,
            Command::Alert(a) => &mut a.cmd_id,
            Command::Exec(e) => &mut e.cmd_id,
            Command::Status(s) => &mut s.cmd_id,
            Command::Results(r) => &mut r.cmd_id,
            Command::Atomic(k) | Command::Sequence(k) => {
                if k.cmd_id.is_empty() {
                    k.cmd_id = next.to_string().into();
                    *next += 1;
                }
                number(&mut k.commands, next);
                continue;
            }
            Command::Unsupported(u) => &mut u.cmd_id,
        };
        if slot.is_empty() {
            *slot = next.to_string().into();
            *next += 1;
        }
    }
}

/// The server's basic credentials (SRVCRED of [`crate::common::device`]).
pub fn server_basic_cred() -> Cred {
    Cred {
        meta: Some(Meta::format_type("b64", "syncml:auth-basic")),
        data: cred::basic(SRV_NAME, SRV_SECRET).into(),
    }
}

/// The server's MD5 credentials over `nonce`.
pub fn server_md5_cred(nonce: &[u8]) -> Cred {
    Cred {
        meta: Some(Meta::format_type("b64", "syncml:auth-md5")),
        data: cred::md5_digest(SRV_NAME, SRV_SECRET, nonce).into(),
    }
}

/// The server's Status for the client's SyncHdr of message `msg_ref`.
pub fn hdr_status(msg_ref: u32, code: u16) -> Command {
    Command::Status(Status {
        msg_ref: msg_ref.to_string().into(),
        cmd_ref: "0".into(),
        cmd: "SyncHdr".into(),
        target_refs: vec![SERVER_URI.into()],
        source_refs: vec![DEV_ID.into()],
        data: code.to_string().into(),
        ..Status::default()
    })
}

/// The same with a `Chal` for `meta_type` (and a NextNonce, b64).
pub fn hdr_status_chal(
    msg_ref: u32,
    code: u16,
    meta_type: &str,
    next_nonce: Option<&str>,
) -> Command {
    let Command::Status(mut s) = hdr_status(msg_ref, code) else {
        unreachable!()
    };
    let mut meta = Meta::format_type("b64", meta_type);
    if let Some(n) = next_nonce {
        meta = meta.with_next_nonce(n);
    }
    s.chal = Some(Box::new(Chal { meta }));
    Command::Status(s)
}

/// The server's Status for the client's command `cmd` `cmd_ref` of message `msg_ref`.
pub fn status_for(msg_ref: u32, cmd_ref: &str, cmd: &str, code: u16) -> Command {
    Command::Status(Status {
        msg_ref: msg_ref.to_string().into(),
        cmd_ref: cmd_ref.into(),
        cmd: cmd.into(),
        data: code.to_string().into(),
        ..Status::default()
    })
}

/// The server's answers to package #1 (Alert, Replace DevInfo): 212 for the SyncHdr, 200 for
/// the rest.
pub fn answers_to_pkg1(msg_ref: u32) -> Vec<Command> {
    vec![
        hdr_status(msg_ref, 212),
        status_for(msg_ref, "1", "Alert", 200),
        status_for(msg_ref, "2", "Replace", 200),
    ]
}

/// The server's answers to every Alert of client message `m` (§7: Status MUST be sent for an
/// Alert, not for Results), after the Status for its SyncHdr.
pub fn answers_to(m: &Message, hdr_code: u16) -> Vec<Command> {
    let msg_ref: u32 = m.hdr.msg_id.parse().expect("numeric MsgID");
    let mut out = vec![hdr_status(msg_ref, hdr_code)];
    for c in &m.body.commands {
        if let Command::Alert(a) = c {
            out.push(status_for(msg_ref, &a.cmd_id, "Alert", 200));
        }
    }
    out
}

fn meta_chr() -> Option<Meta> {
    Some(Meta::format_type("chr", "text/plain"))
}

fn item_cmd(target: &str, data: Option<&str>, meta: Option<Meta>) -> ItemCommand {
    ItemCommand {
        meta,
        items: vec![Item {
            data: data.map(Data::from),
            ..Item::target(target)
        }],
        ..ItemCommand::default()
    }
}

pub fn add(uri: &str, data: &str) -> Command {
    Command::Add(item_cmd(uri, Some(data), meta_chr()))
}

pub fn add_node(uri: &str) -> Command {
    let meta = Meta {
        format: Some("node".into()),
        ..Meta::default()
    };
    Command::Add(item_cmd(uri, None, Some(meta)))
}

pub fn replace(uri: &str, data: &str) -> Command {
    Command::Replace(item_cmd(uri, Some(data), meta_chr()))
}

pub fn delete(uri: &str) -> Command {
    Command::Delete(item_cmd(uri, None, None))
}

pub fn get(uri: &str) -> Command {
    Command::Get(item_cmd(uri, None, None))
}

/// Copy `from` to `to` (Item Target = the new node, Source = the copied one).
pub fn copy(to: &str, from: &str) -> Command {
    let mut c = item_cmd(to, None, None);
    c.items[0].source = Some(Location::new(from));
    Command::Copy(c)
}

pub fn exec(uri: &str, correlator: Option<&str>) -> Command {
    Command::Exec(Exec {
        correlator: correlator.map(Into::into),
        items: vec![Item::target(uri)],
        ..Exec::default()
    })
}

pub fn alert(code: AlertCode) -> Command {
    let mut a = Alert::new("", code);
    a.items = Vec::new();
    Command::Alert(a)
}

/// A 1101 confirmation with no options.
pub fn confirm(text: &str) -> Command {
    let mut a = Alert::new("", AlertCode::CONFIRM_OR_REJECT);
    a.items = vec![
        Item::default(),
        Item {
            data: Some(Data::from(text)),
            ..Item::default()
        },
    ];
    Command::Alert(a)
}

pub fn atomic(commands: Vec<Command>) -> Command {
    Command::Atomic(Container {
        commands,
        ..Container::default()
    })
}

pub fn sequence(commands: Vec<Command>) -> Command {
    Command::Sequence(Container {
        commands,
        ..Container::default()
    })
}

/// One chunk of a large object sent by Replace (§8): `Size` of the whole object on the first.
pub fn replace_chunk(uri: &str, data: &str, size: Option<usize>, more: bool) -> Command {
    let mut meta = Meta::format_type("chr", "text/plain");
    if let Some(s) = size {
        meta.more_mut().size = Some(s.to_string().into());
    }
    Command::Replace(ItemCommand {
        items: vec![Item {
            meta: Some(meta),
            data: Some(Data::from(data)),
            more_data: more,
            ..Item::target(uri)
        }],
        ..ItemCommand::default()
    })
}

// ---- reading the client's answers ----

/// (Cmd, CmdRef, code) of every Status of `m` but the one for the SyncHdr, in order.
pub fn statuses(m: &Message) -> Vec<(String, String, u16)> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) if s.cmd != "SyncHdr" => Some((
                s.cmd.to_string(),
                s.cmd_ref.to_string(),
                s.data.parse().unwrap_or(0),
            )),
            _ => None,
        })
        .collect()
}

/// The code of the Status for the server's SyncHdr.
pub fn hdr_code(m: &Message) -> Option<u16> {
    m.body.commands.iter().find_map(|c| match c {
        Command::Status(s) if s.cmd == "SyncHdr" => s.data.parse().ok(),
        _ => None,
    })
}

/// The Status for the server's SyncHdr.
pub fn hdr_status_of(m: &Message) -> Option<&Status> {
    m.body.commands.iter().find_map(|c| match c {
        Command::Status(s) if s.cmd == "SyncHdr" => Some(s),
        _ => None,
    })
}

/// The codes of the Alerts of `m`.
pub fn alerts(m: &Message) -> Vec<u16> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Alert(a) => a.code().map(|c| c.0),
            _ => None,
        })
        .collect()
}

/// The Results of `m`.
pub fn results(m: &Message) -> Vec<&omadm_syncml::Results> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Results(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The CmdID of the server command at `idx` in `m`.
pub fn id_of(m: &Message, idx: usize) -> String {
    m.body.commands[idx].cmd_id().to_owned()
}

/// The Step as an Outcome, panicking when a message was sent.
pub fn ended(step: Result<Step, SessionError>) -> omadm_client::session::Outcome {
    match step {
        Ok(Step::End(o)) => o,
        other => panic!("expected the end of the session, got {other:?}"),
    }
}
