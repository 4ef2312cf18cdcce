//! The client's DM session engine, sans-IO (DM Protocol 1.3 §6-§9).
//!
//! Like quinn-proto or rustls, the engine has no sockets, threads or clock of its own: the caller
//! feeds it the server's message bytes (and the `x-syncml-hmac` header that came with them, and
//! the time), and gets back the bytes to send next — or the end of the session — plus
//! [`Event`]s describing what happened. A whole session is therefore a unit test.
//!
//! ```text
//!   Session::new(tree, config)      reads the DMAcc account of the server
//!   session.start(tree)       ──▶   package #1 (Alert 1200/1201, Replace DevInfo, alerts)
//!   session.receive(env, in)  ──▶   Step::Send(package #3 ...) | Step::End(outcome)
//! ```
//!
//! What it does, with the rule each part follows:
//! - package #1 (§6.3): Alert 1200 after a notification or 1201, DevInfo in Replace, `Cred` per
//!   the DMAcc's CLCRED, `MaxMsgSize`/`MaxObjSize` in the SyncHdr `Meta`, queued Generic Alerts
//!   1226, tree-change alerts 1227/1228 and requested MOs 1229;
//! - packages #2/#4 (§6.4, §6.6): every command runs through the [`Executor`]; the answer holds
//!   the Status for the SyncHdr first, then a Status for every command and the Results in order;
//! - the session ends when the server sends a final message with nothing to answer (§6.7);
//! - RespURI (§6.2) changes where the next message goes; SessionID stays, MsgID counts from 1;
//! - authentication both ways (§9): challenges answered (scheme and nonce switched as told,
//!   package #1 resent when challenged there), NextNonce kept for the next session, the server's
//!   `Cred` (or HMAC) checked against SRVCRED and challenged when missing or wrong;
//! - multiple messages (§7) and large objects (§8) in both directions; abort (1223) both ways.

mod account;
mod auth;
mod outbox;
mod pkg1;
mod receive;

use compact_str::{CompactString, ToCompactString};
use omadm_security::cred::AuthScheme;
use omadm_security::hmac_header::{HmacHeader, MacAlgorithm};
use omadm_security::nonce::{Challenger, Nonce, NonceState};
use omadm_syncml::{
    Alert, AlertCode, Command, DecodeError, EncodeError, Encoding, Location, Meta, SyncHdr,
};
use omadm_tree::plugin::Plugins;
use omadm_tree::{Caller, Tree};

use crate::large_object::ChunkAssembler;
use crate::ui::UserInterface;
use crate::AsyncExec;
use account::Account;
use outbox::Outbox;

/// Who started the session (DM Protocol 1.3 §6.3: the Alert of package #1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// The device on its own: Alert 1201.
    Client,
    /// A notification (package #0) from the server: Alert 1200.
    Server,
}

/// A Generic Alert (1226) to send in package #1 (DM Protocol 1.3 §6.7.1): the asynchronous
/// result of an Exec (with its Correlator), or any other client event.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GenericAlert {
    /// §6.7.1.10: echoes the Exec's Correlator for an asynchronous result.
    pub correlator: Option<String>,
    /// Item Source LocURI: the node the alert is about.
    pub source: Option<String>,
    /// Item Target LocURI, if any.
    pub target: Option<String>,
    /// Meta Type: the alert type (a URN or reverse domain name).
    pub alert_type: String,
    /// Meta Format (`chr`, `int`, `xml`...).
    pub format: String,
    /// Meta Mark: severity (`critical`, `major`, `minor`, `warning`, `informational`...).
    pub mark: Option<String>,
    /// Item Data.
    pub data: String,
}

impl GenericAlert {
    /// The Alert command (§6.7.1): Data 1226, the Correlator, one Item with Source, Target,
    /// Meta Type/Format/Mark and Data.
    pub fn to_command(&self, cmd_id: &str) -> Command {
        let mut c = pkg1::generic(self);
        if let Command::Alert(a) = &mut c {
            a.cmd_id = cmd_id.into();
        }
        c
    }
}

/// The DM 1.3 tree-change alert of package #1 (DM Protocol 1.3 §6.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeChange {
    /// DM_TREE_UNCHANGED_ALERT (1227).
    Unchanged,
    /// DM_TREE_CHANGED_ALERT (1228) with the URIs of the MOs that changed.
    Changed(Vec<String>),
}

/// How one session runs.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// The ServerID of the DMAcc account to use.
    pub server_id: String,
    /// SessionID (§6.2): the notification's session id for a server-initiated session, any
    /// fresh value otherwise.
    pub session_id: String,
    /// Who started the session.
    pub initiator: Initiator,
    /// The encoding of the messages sent.
    pub encoding: Encoding,
    /// `VerProto` of the messages sent (`DM/1.2` or `DM/1.3`).
    pub ver_proto: String,
    /// The largest message the client accepts (SyncHdr Meta `MaxMsgSize`).
    pub max_msg_size: u64,
    /// The largest object the client accepts (SyncHdr Meta `MaxObjSize`, §8).
    pub max_obj_size: u64,
    /// Generic Alerts for package #1.
    pub generic_alerts: Vec<GenericAlert>,
    /// Tree-change alert for package #1.
    pub tree_change: Option<TreeChange>,
    /// MO identifiers a DM 1.3 notification asked for (Alert 1229 in package #1).
    pub requested_mos: Vec<String>,
    /// Challenge a server that sends no credentials when SRVCRED is configured (§9.3).
    pub require_server_auth: bool,
    /// The hash of `x-syncml-hmac` when the account says HMAC (MD5 in DM 1.2).
    pub mac_algorithm: MacAlgorithm,
    /// `omadm device respond`: take the server's message as authenticated and its SessionID as
    /// this session's (a tool to test MOs and servers offline).
    pub offline: bool,
}

impl SessionConfig {
    /// A client-initiated DM 1.2 session over XML with the server `server_id`, 16 KiB messages
    /// and 1 MiB objects.
    pub fn new(server_id: impl Into<String>, session_id: impl Into<String>) -> SessionConfig {
        SessionConfig {
            server_id: server_id.into(),
            session_id: session_id.into(),
            initiator: Initiator::Client,
            encoding: Encoding::Xml,
            ver_proto: "DM/1.2".into(),
            max_msg_size: 16 * 1024,
            max_obj_size: 1024 * 1024,
            generic_alerts: Vec::new(),
            tree_change: None,
            requested_mos: Vec::new(),
            require_server_auth: true,
            mac_algorithm: MacAlgorithm::Md5,
            offline: false,
        }
    }
}

/// What the engine needs to run the server's commands.
pub struct Env<'a> {
    /// The management tree.
    pub tree: &'a mut Tree,
    /// Computed values and Exec handlers.
    pub plugins: &'a mut Plugins,
    /// Answers user interaction alerts (1100-1104).
    pub ui: &'a mut dyn UserInterface,
    /// The time, in seconds since the Unix epoch (TStamp of changed nodes).
    pub now: u64,
}

/// A message the server sent.
#[derive(Clone, Copy, Debug)]
pub struct Incoming<'a> {
    /// The HTTP body, XML or WBXML.
    pub body: &'a [u8],
    /// The `x-syncml-hmac` header that came with it.
    pub hmac: Option<&'a str>,
}

/// A message to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// Where to POST it: the account's address, or the last RespURI.
    pub url: String,
    /// The encoded message.
    pub body: Vec<u8>,
    /// Its HTTP Content-Type.
    pub content_type: &'static str,
    /// The `x-syncml-hmac` header value, when HMAC is in force.
    pub hmac: Option<String>,
    /// Its MsgID.
    pub msg_id: u32,
    /// True when it closes the client's package (`Final`).
    pub final_: bool,
}

/// What to do after a message from the server.
#[derive(Clone, Debug)]
pub enum Step {
    /// Send this message and feed the answer to [`Session::receive`].
    Send(Outgoing),
    /// The session is over.
    End(Outcome),
}

/// How the session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server's last message needed no answer (§6.7).
    Completed,
    /// The server aborted with Alert 1223.
    AbortedByServer,
    /// The client aborted with Alert 1223.
    AbortedByClient,
}

/// What happened during a session, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message was built to be sent.
    Sent {
        /// Its MsgID.
        msg_id: u32,
        /// Commands in it.
        commands: usize,
        /// Encoded bytes.
        bytes: usize,
        /// It closed the client's package.
        final_: bool,
    },
    /// A server message arrived.
    Received {
        /// Its MsgID.
        msg_id: CompactString,
        /// Commands in it.
        commands: usize,
        /// It closed the server's package.
        final_: bool,
    },
    /// The server answered the client's credentials (212 or 200).
    ClientAuthenticated {
        /// The status.
        code: u16,
    },
    /// The server challenged the client (401/407) for `scheme`.
    Challenged {
        /// The status.
        code: u16,
        /// The scheme the Chal asks for.
        scheme: Option<AuthScheme>,
    },
    /// The server's credentials verified against SRVCRED.
    ServerAuthenticated {
        /// The scheme it used.
        scheme: AuthScheme,
    },
    /// The server's credentials were missing or wrong: challenged with this status.
    ServerChallenged {
        /// 401 or 407.
        code: u16,
    },
    /// A server command ran (or was refused) with this status.
    Command {
        /// The command name.
        cmd: CompactString,
        /// Its CmdID.
        cmd_id: CompactString,
        /// The target (or source) URI of the item answered.
        uri: Option<CompactString>,
        /// The status sent back.
        code: u16,
    },
    /// A status the server sent for one of the client's commands.
    ServerStatus {
        /// The command answered.
        cmd: CompactString,
        /// Its CmdID.
        cmd_ref: CompactString,
        /// The status.
        code: u16,
    },
    /// An Exec answered 202: its result goes in a Generic Alert later.
    AsyncExec(AsyncExec),
    /// A chunk of a large object was buffered (213).
    ChunkBuffered {
        /// The object's URI.
        uri: CompactString,
    },
    /// A chunked object was interrupted: Alert 1225 sent, nothing committed.
    ChunkInterrupted,
    /// The session was aborted (1223).
    Aborted {
        /// True when the server aborted.
        by_server: bool,
    },
}

/// Why a session cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No DMAcc account has this ServerID.
    #[error("no DMAcc account has ServerID {server_id:?}")]
    NoAccount {
        /// The ServerID.
        server_id: String,
    },
    /// Several DMAcc accounts have this ServerID.
    #[error("{count} DMAcc accounts have ServerID {server_id:?}")]
    SeveralAccounts {
        /// The ServerID.
        server_id: String,
        /// How many.
        count: usize,
    },
    /// The account has no AppAddr/<n>/Addr.
    #[error("{account} has no AppAddr/*/Addr to send package #1 to")]
    NoAddress {
        /// The account path.
        account: String,
    },
    /// The server's message does not decode.
    #[error("the server's message does not decode: {0}")]
    Decode(#[from] DecodeError),
    /// A message could not be encoded.
    #[error("cannot encode the message: {0}")]
    Encode(#[from] EncodeError),
    /// The server's SessionID is not this session's.
    #[error("the server's message has SessionID {got:?}, this session is {expected:?}")]
    SessionIdMismatch {
        /// This session's.
        expected: String,
        /// The server's.
        got: String,
    },
    /// The server refused the client's credentials after the retries the spec allows (§9.1).
    #[error("the server refused the client's credentials (status {code})")]
    AuthFailed {
        /// The last status.
        code: u16,
    },
    /// The server's credentials failed twice (DIGEST.md §3.3: one more challenge, then stop).
    #[error("the server failed to authenticate (status {code})")]
    ServerAuthFailed {
        /// The last status sent.
        code: u16,
    },
    /// The server answered the client's package with a SyncHdr status that ends the session.
    #[error("the server rejected the client's message with status {code}")]
    Rejected {
        /// The status.
        code: u16,
    },
    /// The server's Status for the client's SyncHdr carries no status code.
    #[error("the server's Status for the client's SyncHdr has no status code (Data {data:?})")]
    MalformedStatus {
        /// The Data it had.
        data: String,
    },
    /// A nonce from the server is not base64.
    #[error("the server's NextNonce {0:?} is not base64")]
    BadNonce(String),
    /// The session is over; nothing more is accepted.
    #[error("the session has ended")]
    Ended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Package #1 sent (or resent); awaiting package #2.
    Init,
    /// Packages #2 and later.
    Management,
    /// Over.
    Ended,
}

/// One DM session of the client with one server. See the module documentation.
pub struct Session {
    cfg: SessionConfig,
    acc: Account,
    device_id: String,
    url: String,
    msg_id: u32,
    state: State,
    /// Package #1, kept to resend when challenged there (§9.4).
    pkg1: Vec<Command>,
    /// The commands of the last message sent, to resend when it was challenged.
    last_sent: Vec<Command>,
    outbox: Outbox,
    // The client toward the server (CLCRED).
    cl_scheme: Option<AuthScheme>,
    cl_nonce: NonceState,
    send_cred: bool,
    challenges: u8,
    // The server toward the client (SRVCRED).
    srv_authenticated: bool,
    srv_sent: Option<Nonce>,
    srv_expected: Option<Nonce>,
    challenger: Challenger,
    srv_max_msg: Option<u64>,
    srv_max_obj: Option<u64>,
    assembler: ChunkAssembler,
    events: Vec<Event>,
    nonces: Box<dyn FnMut() -> Nonce + Send>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server_id", &self.cfg.server_id)
            .field("session_id", &self.cfg.session_id)
            .field("msg_id", &self.msg_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn device_text(tree: &Tree, uri: &str) -> String {
    tree.get(Caller::Device, uri)
        .ok()
        .and_then(|v| String::from_utf8(v.data).ok())
        .unwrap_or_default()
}

impl Session {
    /// A session with the server of `config.server_id`, whose DMAcc account must exist in
    /// `tree` exactly once.
    pub fn new(tree: &Tree, config: SessionConfig) -> Result<Session, SessionError> {
        let acc = Account::read(tree, &config.server_id)?;
        let cl_scheme = acc.client.as_ref().and_then(|c| c.scheme);
        let cl_nonce = NonceState::new(Nonce::from_bytes(
            acc.client
                .as_ref()
                .map(|c| c.nonce.clone())
                .unwrap_or_default(),
        ));
        Ok(Session {
            device_id: device_text(tree, "./DevInfo/DevId"),
            url: acc.addr.clone(),
            msg_id: 0,
            state: State::Init,
            pkg1: Vec::new(),
            last_sent: Vec::new(),
            outbox: Outbox::default(),
            cl_scheme,
            cl_nonce,
            // §9.2: credentials in the first request when the account is pre-configured.
            send_cred: cl_scheme.is_some(),
            challenges: 0,
            srv_authenticated: config.offline,
            srv_sent: None,
            srv_expected: None,
            challenger: Challenger::new(),
            srv_max_msg: None,
            srv_max_obj: None,
            assembler: ChunkAssembler::new(config.max_obj_size),
            events: Vec::new(),
            nonces: Box::new(Nonce::generate),
            acc,
            cfg: config,
        })
    }

    /// Replaces the source of the nonces the client issues in its challenges (tests use a
    /// fixed sequence; the default draws 16 random bytes).
    pub fn set_nonce_source(&mut self, f: Box<dyn FnMut() -> Nonce + Send>) {
        self.nonces = f;
    }

    /// The SessionID.
    pub fn session_id(&self) -> &str {
        &self.cfg.session_id
    }

    /// Where the next message goes (the account's address until a RespURI).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True once the session has ended.
    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// The events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Package #1 (DM Protocol 1.3 §6.3).
    pub fn start(&mut self, tree: &Tree) -> Result<Outgoing, SessionError> {
        self.pkg1 = pkg1::build(self, tree);
        self.outbox.extend(self.pkg1.clone());
        self.emit(Vec::new(), None, true)
    }

    /// Aborts the session (Alert 1223, DM Protocol 1.3 §6.1): the message to send, with the
    /// answers not sent yet when they fit; the session is over once it is built. Nonces are kept
    /// as the session left them.
    pub fn abort(&mut self, tree: &mut Tree) -> Result<Outgoing, SessionError> {
        self.abort_with(tree, Vec::new())
    }

    /// Aborts instead of sending `unsent`, the last message this session built (a caller that
    /// stops a session which runs too long): the abort takes its MsgID (no gap, §6.2) and
    /// carries its Status and Results when they fit (DM-PRO-Abort-C-003). Any other `unsent`
    /// is just dropped, as with [`Session::abort`].
    pub fn abort_instead_of(
        &mut self,
        tree: &mut Tree,
        unsent: &Outgoing,
    ) -> Result<Outgoing, SessionError> {
        if self.state == State::Ended || unsent.msg_id != self.msg_id {
            return self.abort(tree);
        }
        self.msg_id -= 1;
        if let Some(i) = self
            .events
            .iter()
            .rposition(|e| matches!(e, Event::Sent { msg_id, .. } if *msg_id == unsent.msg_id))
        {
            self.events.remove(i);
        }
        // Back in the queue, but for a request for more (the abort ends the session); the
        // Status for the server's SyncHdr stays first.
        let (lead, rest): (Vec<Command>, Vec<Command>) = std::mem::take(&mut self.last_sent)
            .into_iter()
            .filter(
                |c| !matches!(c, Command::Alert(a) if a.code() == Some(AlertCode::NEXT_MESSAGE)),
            )
            .partition(|c| matches!(c, Command::Status(st) if st.cmd == "SyncHdr"));
        self.outbox.prepend(rest);
        self.abort_with(tree, lead)
    }

    fn abort_with(
        &mut self,
        tree: &mut Tree,
        lead: Vec<Command>,
    ) -> Result<Outgoing, SessionError> {
        if self.state == State::Ended {
            return Err(SessionError::Ended);
        }
        // §6.1.2 (DM-PRO-Abort-C-003): the Status and Results of the commands already run go
        // with the abort when they fit in its message; when they do not, the abort goes alone
        // (it must carry Final, DM-PRO-Abort-C-004, and nothing follows it).
        let abort = || Command::Alert(Alert::new("1", AlertCode::SESSION_ABORT));
        let (msg_id, events) = (self.msg_id, self.events.len());
        let mut out = self.emit(lead.clone(), Some(abort()), true)?;
        if !out.final_ {
            self.msg_id = msg_id;
            self.events.truncate(events);
            self.outbox.clear();
            out = self.emit(lead, Some(abort()), true)?;
        }
        self.events.push(Event::Aborted { by_server: false });
        self.finish(tree);
        Ok(out)
    }

    /// The SyncHdr of the next message (MsgID already counted).
    fn hdr(&self, body_meta: bool) -> SyncHdr {
        let md5_or_mac = matches!(self.cl_scheme, Some(AuthScheme::Md5 | AuthScheme::Hmac));
        let meta = body_meta.then(|| {
            let mut m = Meta::default();
            let more = m.more_mut();
            more.max_msg_size = Some(self.cfg.max_msg_size.to_compact_string());
            more.max_obj_size = Some(self.cfg.max_obj_size.to_compact_string());
            m
        });
        SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: self.cfg.ver_proto.as_str().into(),
            session_id: self.cfg.session_id.as_str().into(),
            msg_id: self.msg_id.to_compact_string(),
            target: Location::new(self.acc.addr.as_str()),
            source: Location {
                loc_uri: self.device_id.as_str().into(),
                // §9.4.2: the user name rides in LocName for MD5 (and HMAC names it too).
                loc_name: md5_or_mac
                    .then(|| self.acc.client.as_ref().map(|c| c.name.as_str().into()))
                    .flatten(),
            },
            resp_uri: None,
            no_resp: false,
            cred: self.cred().map(Box::new),
            meta,
        }
    }

    /// Packs and encodes the next message.
    fn emit(
        &mut self,
        first: Vec<Command>,
        trailer: Option<Command>,
        may_finish: bool,
    ) -> Result<Outgoing, SessionError> {
        self.msg_id += 1;
        let hdr = self.hdr(self.state == State::Init);
        let max = self.srv_max_msg.unwrap_or(self.cfg.max_msg_size) as usize;
        let packed = self
            .outbox
            .pack(hdr, self.cfg.encoding, max, first, trailer, may_finish)?;
        let body = packed.msg.encode(self.cfg.encoding)?;
        let hmac = self.mac_for(&body);
        self.events.push(Event::Sent {
            msg_id: self.msg_id,
            commands: packed.msg.body.commands.len(),
            bytes: body.len(),
            final_: packed.msg.body.final_,
        });
        // The nonce a Chal of this message gives the server is the one its next credentials use.
        for c in &packed.msg.body.commands {
            if let Command::Status(s) = c {
                if let Some(n) = s
                    .chal
                    .as_ref()
                    .and_then(|ch| ch.meta.next_nonce())
                    .and_then(|n| Nonce::from_b64(n).ok())
                {
                    self.srv_sent = Some(n);
                }
            }
        }
        let final_ = packed.msg.body.final_;
        self.last_sent = packed.msg.body.commands;
        Ok(Outgoing {
            url: self.url.clone(),
            body,
            content_type: self.cfg.encoding.content_type(),
            hmac,
            msg_id: self.msg_id,
            final_,
        })
    }

    /// `x-syncml-hmac` over `body` when the client authenticates with HMAC (DIGEST.md §3.5).
    fn mac_for(&self, body: &[u8]) -> Option<String> {
        let c = self.acc.client.as_ref()?;
        if self.cl_scheme != Some(AuthScheme::Hmac) {
            return None;
        }
        HmacHeader::sign(
            self.cfg.mac_algorithm,
            &c.name,
            &c.secret,
            self.cl_nonce.for_next_credential().as_bytes(),
            body,
        )
        .ok()
        .map(|h| h.to_header_value())
    }

    /// The session is over: nonces that the spec lets us keep are written to the DMAcc.
    fn finish(&mut self, tree: &mut Tree) {
        self.state = State::Ended;
        self.outbox.clear();
        self.cl_nonce.on_session_end();
        if let Some(c) = &self.acc.client {
            if self.cl_nonce.current().as_bytes() != c.nonce.as_slice() {
                let _ = account::store_nonce(tree, &c.path, self.cl_nonce.current().as_bytes());
            }
        }
        if let (Some(s), Some(n)) = (&self.acc.server, &self.srv_expected) {
            let _ = account::store_nonce(tree, &s.path, n.as_bytes());
        }
    }
}
