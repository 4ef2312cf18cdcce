//! The server's half of a DM 1.3 session for end-to-end tests of `omadm device run` against the
//! scripted [`crate::dm_server`]: messages built from the client's request (its SessionID echoed,
//! MsgRef/CmdRef pointing at its commands, Target = its device id, Source = the ServerID), the
//! server's credentials toward the device (MD5 `Cred` over the nonce the device gave it, or an
//! `x-syncml-hmac` header on every message), and readers of the client's answers.
//!
//! [`Srv::next`] plays the usual server: it answers every client message (Status for its SyncHdr,
//! its Alerts and Replace), asks for the rest of a client package with Alert 1222, and sends the
//! server packages of a script one per client package; with the script exhausted it sends a
//! final message with nothing to answer, which ends the session (DM Protocol 1.3 §6.7).
#![allow(dead_code)]

use std::collections::VecDeque;

use omadm_security::cred::{self, AuthScheme};
use omadm_security::hmac_header::{HmacHeader, MacAlgorithm};
use omadm_syncml::{
    Alert, AlertCode, Chal, Command, Container, Cred, Data, Encoding, Exec, Item, ItemCommand,
    Location, Message, Meta, Results, Status, SyncBody, SyncHdr,
};

use crate::dm_server::{Reply, Request};

/// DevInfo/DevId of the test device: its SyncHdr Source LocURI.
pub const DEV: &str = "IMEI:359876543210987";
/// The ServerID (DMAcc ServerID, SRVCRED AAuthName): the server's SyncHdr Source LocURI.
pub const SID: &str = "dm.example";
/// CLCRED AAuthName / AAuthSecret.
pub const CL_NAME: &str = "device";
pub const CL_SECRET: &str = "dev-secret";
/// SRVCRED AAuthSecret.
pub const SRV_SECRET: &str = "srv-secret";

/// How the scripted server proves itself to the device (the device checks it against SRVCRED,
/// DM Protocol 1.3 §9.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrvAuth {
    /// No credentials at all.
    Nothing,
    /// MD5 `Cred` in the SyncHdr, over the latest nonce the device gave, until the device
    /// accepts it (200/212 for the server's SyncHdr).
    Md5,
    /// MD5 `Cred` made with a wrong secret, in every message.
    WrongMd5,
    /// `x-syncml-hmac` over every message, with the latest nonce the device gave.
    Hmac,
}

/// One server message of a script: its commands (the Statuses for the client's message are
/// added in front) and whether it closes the server's package.
#[derive(Clone, Debug)]
pub struct Pkg {
    pub cmds: Vec<Command>,
    pub final_: bool,
}

/// A whole server package in one message.
pub fn pkg(cmds: Vec<Command>) -> Pkg {
    Pkg { cmds, final_: true }
}

/// A server message that does not close its package (DM Protocol 1.3 §7.2).
pub fn part(cmds: Vec<Command>) -> Pkg {
    Pkg {
        cmds,
        final_: false,
    }
}

/// The server's side of one session (and, with [`Srv::new_session`], of the next).
#[derive(Clone, Debug)]
pub struct Srv {
    pub auth: SrvAuth,
    /// The nonce the device told the server to use next (the NextNonce of the device's last
    /// Chal), starting from SRVCRED AAuthData.
    pub nonce: Vec<u8>,
    /// The device accepted the server's credentials.
    pub authenticated: bool,
    /// The server's last MsgID.
    pub msg_id: u32,
    /// SyncHdr Meta of every server message (MaxMsgSize, MaxObjSize).
    pub hdr_meta: Option<Meta>,
    /// When set, every Status for the client's SyncHdr carries a Chal of this scheme with the
    /// NextNonce [`client_nonce`]`(MsgID of the server message)`.
    pub client_chal: Option<AuthScheme>,
    /// The server packages still to send.
    pub script: VecDeque<Pkg>,
}

/// The NextNonce the server gives the client in its message `msg_id` when
/// [`Srv::client_chal`] is set.
pub fn client_nonce(msg_id: u32) -> Vec<u8> {
    format!("cn-{msg_id}").into_bytes()
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("{text:?} is not base64: {e}"))
}

impl Srv {
    /// A server authenticating with `auth`, the device's stored SRVCRED nonce being empty (as
    /// `omadm device init` leaves it), sending `script`.
    pub fn new(auth: SrvAuth, script: Vec<Pkg>) -> Srv {
        Srv {
            auth,
            nonce: Vec::new(),
            authenticated: false,
            msg_id: 0,
            hdr_meta: None,
            client_chal: None,
            script: script.into(),
        }
    }

    /// Declares MaxMsgSize and/or MaxObjSize in every SyncHdr.
    pub fn with_limits(mut self, max_msg: Option<u64>, max_obj: Option<u64>) -> Srv {
        let mut meta = Meta::default();
        meta.more_mut().max_msg_size = max_msg.map(|n| n.to_string().into());
        meta.more_mut().max_obj_size = max_obj.map(|n| n.to_string().into());
        self.hdr_meta = Some(meta);
        self
    }

    /// The next session: MsgIDs from 1 again, the server to authenticate again (with the
    /// nonce the device gave last), and `script`.
    pub fn new_session(&mut self, script: Vec<Pkg>) {
        self.msg_id = 0;
        self.authenticated = false;
        self.script = script.into();
    }

    /// Learns from the client's message what it said about the server's last one: accepted
    /// (200/212), challenged (401/407), and the nonce to use next.
    pub fn observe(&mut self, m: &Message) {
        if let Some(s) = hdr_status_of(m) {
            match s.data.as_str() {
                "200" | "212" => self.authenticated = true,
                "401" | "407" => self.authenticated = false,
                _ => {}
            }
            if let Some(n) = s.chal.as_ref().and_then(|c| c.meta.next_nonce()) {
                self.nonce = unb64(n);
            }
        }
    }

    /// The Status for the client's SyncHdr: 212 when it carried credentials (Cred or MAC), 200
    /// otherwise; with a Chal when [`Srv::client_chal`] is set.
    pub fn hdr_status(&self, req: &Message, with_cred: bool) -> Command {
        let code = if with_cred { 212 } else { 200 };
        let mut st = hdr_status(req, code);
        if let (Some(scheme), Command::Status(s)) = (self.client_chal, &mut st) {
            s.chal = Some(Box::new(Chal {
                meta: Meta::format_type("b64", scheme.meta_type())
                    .with_next_nonce(b64(&client_nonce(self.msg_id + 1))),
            }));
        }
        st
    }

    /// The server's answers to the client's message: Status for its SyncHdr, then one for each
    /// of its Alerts and Replaces (DM Protocol 1.3 §7: no Status for Results nor Status).
    pub fn answers(&self, req: &Request) -> Vec<Command> {
        let m = req.message();
        let with_cred = m.hdr.cred.is_some() || req.header("x-syncml-hmac").is_some();
        let mut out = vec![self.hdr_status(m, with_cred)];
        out.extend(answers_to_commands(m));
        out
    }

    /// The server's next message to `req`: the SyncHdr from the request, `cmds` numbered, and
    /// credentials as [`Srv::auth`] says.
    pub fn message(&mut self, req: &Message, cmds: Vec<Command>, final_: bool) -> Message {
        self.msg_id += 1;
        let mut msg = server_msg(req, self.msg_id, cmds, final_);
        msg.hdr.meta = self.hdr_meta.clone();
        msg.hdr.cred = match self.auth {
            SrvAuth::Md5 if !self.authenticated => Some(Box::new(srv_md5_cred(&self.nonce))),
            SrvAuth::WrongMd5 => Some(Box::new(Cred {
                meta: Some(Meta::format_type("b64", "syncml:auth-md5")),
                data: cred::md5_digest(SID, "not-the-secret", &self.nonce).into(),
            })),
            _ => None,
        };
        msg
    }

    /// `msg` as the HTTP answer to `req`: in the request's encoding, signed with
    /// `x-syncml-hmac` when the server authenticates with HMAC.
    pub fn reply(&self, req: &Request, msg: &Message) -> Reply {
        let enc = req.encoding.unwrap_or(Encoding::Xml);
        if self.auth != SrvAuth::Hmac {
            return Reply::Message {
                msg: msg.clone(),
                encoding: Some(enc),
                hmac: None,
            };
        }
        let body = msg.encode(enc).expect("the server message encodes");
        let hmac = HmacHeader::sign(MacAlgorithm::Sha256, SID, SRV_SECRET, &self.nonce, &body)
            .expect("HMAC header")
            .to_header_value();
        Reply::Bytes {
            body,
            content_type: enc.content_type().to_owned(),
            hmac: Some(hmac),
        }
    }

    /// [`Srv::message`] then [`Srv::reply`].
    pub fn send(&mut self, req: &Request, cmds: Vec<Command>, final_: bool) -> Reply {
        let msg = self.message(req.message(), cmds, final_);
        self.reply(req, &msg)
    }

    /// The usual server (see the module doc): answers to `req`, then
    /// - the client asked for more of the server's package (Alert 1222): the next script part;
    /// - the client's package goes on (no Final): Alert 1222, no Final;
    /// - else the next script package, or, with none left, a final message that ends the
    ///   session.
    pub fn next(&mut self, req: &Request) -> Reply {
        let m = req.message();
        self.observe(m);
        let mut cmds = self.answers(req);
        let (more, final_) = if alerts(m).contains(&AlertCode::NEXT_MESSAGE.0) || m.body.final_ {
            match self.script.pop_front() {
                Some(p) => (p.cmds, p.final_),
                None => (Vec::new(), true),
            }
        } else {
            (vec![alert(AlertCode::NEXT_MESSAGE)], false)
        };
        cmds.extend(more);
        self.send(req, cmds, final_)
    }

    /// A handler for [`crate::dm_server::DmServer::start`] running [`Srv::next`]; a request
    /// that is not a SyncML message gets HTTP 400.
    pub fn handler(mut self) -> impl FnMut(&Request) -> Reply + Send + 'static {
        move |req: &Request| {
            if req.msg.is_none() {
                return Reply::Status(400);
            }
            self.next(req)
        }
    }
}

// ---- server messages ----

/// The server's SyncHdr answering `req`: its SessionID, Target = the client's Source (device
/// id), Source = the ServerID.
pub fn server_hdr(req: &Message, msg_id: u32) -> SyncHdr {
    SyncHdr {
        ver_dtd: "1.2".into(),
        ver_proto: "DM/1.3".into(),
        session_id: req.hdr.session_id.clone(),
        msg_id: msg_id.to_string().into(),
        target: Location::new(req.hdr.source.loc_uri.clone()),
        source: Location::new(SID),
        ..SyncHdr::default()
    }
}

/// A server message; commands without a CmdID are numbered in document order (nested ones
/// too), after the highest CmdID given.
pub fn server_msg(req: &Message, msg_id: u32, commands: Vec<Command>, final_: bool) -> Message {
    let mut commands = commands;
    let mut next = max_id(&commands) + 1;
    number(&mut commands, &mut next);
    Message {
        hdr: server_hdr(req, msg_id),
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

/// The server's MD5 credentials over `nonce` (SRVCRED: name = ServerID).
pub fn srv_md5_cred(nonce: &[u8]) -> Cred {
    Cred {
        meta: Some(Meta::format_type("b64", "syncml:auth-md5")),
        data: cred::md5_digest(SID, SRV_SECRET, nonce).into(),
    }
}

/// The Status for the SyncHdr of the client's message `req`.
pub fn hdr_status(req: &Message, code: u16) -> Command {
    Command::Status(Status {
        msg_ref: req.hdr.msg_id.clone(),
        cmd_ref: "0".into(),
        cmd: "SyncHdr".into(),
        target_refs: vec![req.hdr.target.loc_uri.clone()],
        source_refs: vec![req.hdr.source.loc_uri.clone()],
        data: code.to_string().into(),
        ..Status::default()
    })
}

/// The same with a Chal for `scheme` and a NextNonce.
pub fn hdr_status_chal(req: &Message, code: u16, scheme: AuthScheme, nonce: &[u8]) -> Command {
    let Command::Status(mut s) = hdr_status(req, code) else {
        unreachable!()
    };
    s.chal = Some(Box::new(Chal {
        meta: Meta::format_type("b64", scheme.meta_type()).with_next_nonce(b64(nonce)),
    }));
    Command::Status(s)
}

/// The Status for the client's command `cmd_ref` (named `cmd`) of message `req`.
pub fn status_for(req: &Message, cmd_ref: &str, cmd: &str, code: u16) -> Command {
    Command::Status(Status {
        msg_ref: req.hdr.msg_id.clone(),
        cmd_ref: cmd_ref.into(),
        cmd: cmd.into(),
        data: code.to_string().into(),
        ..Status::default()
    })
}

/// 200 for every Alert and Replace of the client's message (package #1's 1201 and DevInfo),
/// 213 for a Results chunk with MoreData (§8).
pub fn answers_to_commands(m: &Message) -> Vec<Command> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Alert(a) => Some(status_for(m, &a.cmd_id, "Alert", 200)),
            Command::Replace(r) => Some(status_for(m, &r.cmd_id, "Replace", 200)),
            Command::Results(r) if r.items.iter().any(|i| i.more_data) => {
                Some(status_for(m, &r.cmd_id, "Results", 213))
            }
            _ => None,
        })
        .collect()
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

/// Exec of `uri` with `data` as the Item's Data.
pub fn exec(uri: &str, data: Option<&str>, correlator: Option<&str>) -> Command {
    Command::Exec(Exec {
        correlator: correlator.map(Into::into),
        items: vec![Item {
            data: data.map(Data::from),
            ..Item::target(uri)
        }],
        ..Exec::default()
    })
}

pub fn alert(code: AlertCode) -> Command {
    let mut a = Alert::new("", code);
    a.items = Vec::new();
    Command::Alert(a)
}

/// A user interaction alert (1100 Display, 1101 Confirm) with no options and `text`.
pub fn ui_alert(code: AlertCode, text: &str) -> Command {
    let mut a = Alert::new("", code);
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

/// The chunks of `value` for a Replace of `uri`, `chunk` bytes each: Size on the first,
/// MoreData on all but the last.
pub fn chunks_of(uri: &str, value: &str, chunk: usize) -> Vec<Command> {
    let parts: Vec<&str> = value
        .as_bytes()
        .chunks(chunk)
        .map(|c| std::str::from_utf8(c).expect("ASCII value"))
        .collect();
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| replace_chunk(uri, p, (i == 0).then_some(value.len()), i + 1 < n))
        .collect()
}

/// `n` bytes of printable text that never repeats within 26 bytes (so a misplaced chunk shows).
pub fn text(n: usize, salt: u8) -> String {
    (0..n)
        .map(|i| (b'a' + ((i + salt as usize) % 26) as u8) as char)
        .collect()
}

// ---- reading the client's messages ----

/// `"<Cmd> <CmdRef> <code>"` for each Status but the SyncHdr's, `"Results <CmdRef>"` for each
/// Results, `"Alert <code>"` for each Alert, in order.
pub fn answer_lines(m: &Message) -> Vec<String> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) if s.cmd == "SyncHdr" => None,
            Command::Status(s) => Some(format!("{} {} {}", s.cmd, s.cmd_ref, s.data)),
            Command::Results(r) => Some(format!("Results {}", r.cmd_ref)),
            Command::Alert(a) => Some(format!("Alert {}", a.code().map_or(0, |c| c.0))),
            other => Some(other.name().to_owned()),
        })
        .collect()
}

/// The Status for the server's SyncHdr in the client's message.
pub fn hdr_status_of(m: &Message) -> Option<&Status> {
    m.body.commands.iter().find_map(|c| match c {
        Command::Status(s) if s.cmd == "SyncHdr" => Some(s),
        _ => None,
    })
}

/// The code of the Status for the server's SyncHdr.
pub fn hdr_code(m: &Message) -> Option<u16> {
    hdr_status_of(m).and_then(|s| s.data.parse().ok())
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
pub fn results(m: &Message) -> Vec<&Results> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Results(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The Data of the first Item of the Results answering `cmd_ref`, as text.
pub fn result_text(m: &Message, cmd_ref: &str) -> Option<String> {
    results(m)
        .into_iter()
        .find(|r| r.cmd_ref == cmd_ref)
        .and_then(|r| r.items.first())
        .and_then(|i| i.data.as_ref())
        .map(|d| d.to_text_lossy().into_owned())
}

/// The CmdID the server gave its command at `idx` in `m`.
pub fn id_of(m: &Message, idx: usize) -> String {
    m.body.commands[idx].cmd_id().to_owned()
}
