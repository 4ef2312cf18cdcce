//! The engine tests' harness: an in-memory store that applies [`Changes`] the way the real one
//! does, a device tree with a DMAcc for the server (built with `omadm_tree::stdobj`), and a
//! loop that runs the real client engine (`omadm_client::session::Session`) against
//! `omadm_server::engine::process`.
#![allow(dead_code)]

use omadm_client::session::{Env, Incoming, Outcome, Session, SessionConfig, Step};
use omadm_client::ui::{AutoAccept, UserInterface};
use omadm_server::engine::{self, Context, Inbound, Outbound, ServerConfig};
use omadm_server::model::{
    ClientAuth, ClientAuthType, CommandSpec, CommandState, Device, Op, QueuedCommand, ServerAuth,
    SessionRecord,
};
use omadm_server::store::{Changes, NewAlert, NewAudit};
use omadm_syncml::Message;
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::stdobj::{self, AppAuth, DevDetail, DevInfo, DmAcc};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

pub const SERVER_ID: &str = "omadm-test";
pub const SERVER_URI: &str = "http://127.0.0.1/dm";
pub const DEV_ID: &str = "IMEI:493005100592800";
pub const CL_NAME: &str = "Bruce2";
pub const CL_SECRET: &str = "OhBehave";
pub const SRV_NAME: &str = "omadm-test";
pub const SRV_SECRET: &str = "ServerSecret";
pub const NOW: i64 = 1_700_000_000;

/// The device's tree: DevInfo, DevDetail (LrgObj), a DMAcc for [`SERVER_ID`] whose CLCRED is
/// `cl` (AAuthType) with nonce `Nonce` and SRVCRED `srv` with an empty nonce, and `./Vendor`
/// the server may manage.
pub fn tree(cl: &str, srv: &str) -> Tree {
    let mut t = Tree::default();
    stdobj::install_devinfo(
        &mut t,
        &DevInfo {
            dev_id: DEV_ID.into(),
            man: "Device Factory, Inc.".into(),
            mod_: "SmartPhone2000".into(),
            dmv: "1.0.0.1".into(),
            lang: "en-US".into(),
        },
    )
    .unwrap();
    stdobj::install_devdetail(
        &mut t,
        &DevDetail {
            lrg_obj: true,
            ..DevDetail::default()
        },
    )
    .unwrap();
    let auths = vec![
        AppAuth {
            level: "CLCRED".into(),
            auth_type: cl.into(),
            name: CL_NAME.into(),
            secret: CL_SECRET.into(),
            data: b"Nonce".to_vec(),
        },
        AppAuth {
            level: "SRVCRED".into(),
            auth_type: srv.into(),
            name: SRV_NAME.into(),
            secret: SRV_SECRET.into(),
            data: Vec::new(),
        },
    ];
    stdobj::add_dmacc(
        &mut t,
        &DmAcc {
            node: "Srv".into(),
            server_id: SERVER_ID.into(),
            name: None,
            pref_con_ref: None,
            addrs: vec![(SERVER_URI.into(), "URI".into(), Vec::new())],
            aauth_pref: None,
            auths,
        },
    )
    .unwrap();
    t.add(Caller::Device, "./Vendor", NodeFormat::Node, None, b"")
        .unwrap();
    t.replace_prop(
        Caller::Device,
        "./Vendor",
        Property::Acl,
        &format!(
            "Add={SERVER_ID}&Get={SERVER_ID}&Replace={SERVER_ID}&Delete={SERVER_ID}&Exec={SERVER_ID}"
        ),
    )
    .unwrap();
    t
}

/// The enrolled device matching [`tree`]: client nonce `Nonce`, server nonce empty.
pub fn device(t: ClientAuthType) -> Device {
    Device {
        device_id: DEV_ID.into(),
        client_auth: ClientAuth {
            type_: t,
            name: CL_NAME.into(),
            secret: CL_SECRET.into(),
        },
        server_auth: ServerAuth {
            name: SRV_NAME.into(),
            secret: SRV_SECRET.into(),
        },
        push_url: None,
        client_nonce: b"Nonce".to_vec(),
        server_nonce: Vec::new(),
        devinfo: Default::default(),
        dm_version: None,
        created_at: NOW,
        last_seen: None,
    }
}

/// A tiny in-memory store: one device, its queue, its sessions, alerts and audit.
pub struct Store {
    pub cfg: ServerConfig,
    pub device: Device,
    pub commands: Vec<QueuedCommand>,
    pub sessions: Vec<SessionRecord>,
    pub alerts: Vec<NewAlert>,
    pub audit: Vec<NewAudit>,
    pub nonces: u32,
}

impl Store {
    pub fn new(device: Device) -> Store {
        Store {
            cfg: ServerConfig {
                server_id: SERVER_ID.into(),
                ..ServerConfig::default()
            },
            device,
            commands: Vec::new(),
            sessions: Vec::new(),
            alerts: Vec::new(),
            audit: Vec::new(),
            nonces: 0,
        }
    }

    /// Queues a command; its id.
    pub fn enqueue(&mut self, spec: CommandSpec) -> i64 {
        let id = self.commands.len() as i64 + 1;
        self.commands.push(QueuedCommand {
            id,
            device_id: DEV_ID.into(),
            spec,
            state: CommandState::Queued,
            status: None,
            results: Vec::new(),
            children: Vec::new(),
            session_id: None,
            created_at: NOW,
            updated_at: NOW,
        });
        id
    }

    pub fn cmd(&self, id: i64) -> &QueuedCommand {
        &self.commands[(id - 1) as usize]
    }

    /// What `process` answers, with its changes applied.
    pub fn deliver(&mut self, body: &[u8], hmac: Option<&str>) -> Outbound {
        self.try_deliver(body, hmac).expect("the engine answers")
    }

    pub fn try_deliver(
        &mut self,
        body: &[u8],
        hmac: Option<&str>,
    ) -> Result<Outbound, engine::EngineError> {
        let peek = engine::peek(&self.cfg, body)?;
        let known = peek.device_id == self.device.device_id;
        let session = self
            .sessions
            .iter()
            .find(|s| s.session_id == peek.session_id)
            .cloned();
        let pending: Vec<QueuedCommand> = self
            .commands
            .iter()
            .filter(|c| {
                matches!(c.state, CommandState::Queued | CommandState::Sent)
                    || (c.state == CommandState::Done && c.status == Some(202))
            })
            .cloned()
            .collect();
        let ctx = Context {
            device: known.then_some(&self.device),
            session: session.as_ref(),
            pending: &pending,
        };
        let n = &mut self.nonces;
        let mut nonce = || {
            *n += 1;
            format!("nonce-{n}").into_bytes()
        };
        let out = engine::process_peeked(
            &self.cfg,
            ctx,
            Inbound {
                body,
                hmac,
                now: NOW,
            },
            &peek,
            &mut nonce,
        )?;
        if known {
            self.apply(&out.changes);
        } else {
            self.audit.extend(out.changes.audit.iter().cloned());
        }
        Ok(out)
    }

    pub fn apply(&mut self, c: &Changes) {
        let d = &c.device;
        if let Some(n) = &d.client_nonce {
            self.device.client_nonce = n.clone();
        }
        if let Some(n) = &d.server_nonce {
            self.device.server_nonce = n.clone();
        }
        if let Some(v) = &d.devinfo {
            self.device.devinfo = v.clone();
        }
        if let Some(v) = &d.dm_version {
            self.device.dm_version = Some(v.clone());
        }
        if let Some(v) = d.last_seen {
            self.device.last_seen = Some(v);
        }
        if let Some(s) = &c.session {
            self.sessions.retain(|x| x.session_id != s.session_id);
            self.sessions.push(s.clone());
        }
        for u in &c.commands {
            let q = self
                .commands
                .iter_mut()
                .find(|q| q.id == u.id)
                .expect("an update names a queued command");
            q.state = u.state;
            if u.status.is_some() {
                q.status = u.status;
            }
            if let Some(r) = &u.results {
                q.results = r.clone();
            }
            if let Some(ch) = &u.children {
                q.children = ch.clone();
            }
            if let Some(s) = &u.session_id {
                q.session_id = Some(s.clone());
            }
        }
        self.alerts.extend(c.alerts.iter().cloned());
        self.audit.extend(c.audit.iter().cloned());
    }

    pub fn session(&self, id: &str) -> &SessionRecord {
        self.sessions
            .iter()
            .find(|s| s.session_id == id)
            .expect("the session is stored")
    }

    pub fn audited(&self, event: &str) -> bool {
        self.audit.iter().any(|a| a.event == event)
    }
}

/// The device side: its tree and what it ran.
pub struct Dev {
    pub tree: Tree,
    pub plugins: Plugins,
    pub ui: Box<dyn UserInterface>,
}

impl Dev {
    pub fn new(tree: Tree) -> Dev {
        Dev {
            tree,
            plugins: Plugins::default(),
            ui: Box::new(AutoAccept),
        }
    }

    pub fn get(&self, uri: &str) -> Option<Vec<u8>> {
        self.tree.get(Caller::Device, uri).ok().map(|v| v.data)
    }
}

/// A client session configuration for [`SERVER_ID`].
pub fn config(session_id: &str, ver_proto: &str) -> SessionConfig {
    let mut c = SessionConfig::new(SERVER_ID, session_id);
    c.ver_proto = ver_proto.into();
    c
}

/// What a whole session did.
pub struct Ran {
    pub outcome: Result<Outcome, String>,
    /// The server's answers, decoded.
    pub answers: Vec<Message>,
    /// The client's messages, decoded.
    pub requests: Vec<Message>,
    pub outbounds: Vec<Outbound>,
}

/// Runs a session of the real client against the engine to its end (at most 200 round trips).
pub fn run(store: &mut Store, dev: &mut Dev, cfg: SessionConfig) -> Ran {
    let mut s = Session::new(&dev.tree, cfg).expect("DMAcc readable");
    let mut out = s.start(&dev.tree).expect("package #1");
    let mut ran = Ran {
        outcome: Err("unfinished".into()),
        answers: Vec::new(),
        requests: Vec::new(),
        outbounds: Vec::new(),
    };
    for _ in 0..200 {
        ran.requests
            .push(Message::decode(&out.body).expect("client message decodes"));
        let answer = store.deliver(&out.body, out.hmac.as_deref());
        ran.answers
            .push(Message::decode(&answer.body).expect("server answer decodes"));
        let env = Env {
            tree: &mut dev.tree,
            plugins: &mut dev.plugins,
            ui: &mut *dev.ui,
            now: NOW as u64,
        };
        let step = s.receive(
            env,
            Incoming {
                body: &answer.body,
                hmac: answer.hmac.as_deref(),
            },
        );
        ran.outbounds.push(answer);
        match step {
            Ok(Step::Send(o)) => out = o,
            Ok(Step::End(o)) => {
                ran.outcome = Ok(o);
                return ran;
            }
            Err(e) => {
                ran.outcome = Err(e.to_string());
                return ran;
            }
        }
    }
    panic!("the session did not end in 200 round trips");
}

/// A queued command spec of `op` on `target`.
pub fn spec(op: Op, target: &str) -> CommandSpec {
    CommandSpec {
        op,
        target: Some(target.into()),
        source: None,
        data: None,
        format: None,
        type_: None,
        code: None,
        options: None,
        choices: Vec::new(),
        correlator: None,
        commands: Vec::new(),
    }
}

/// A spec carrying `data` in format `chr`.
pub fn with_data(op: Op, target: &str, data: &str) -> CommandSpec {
    CommandSpec {
        data: Some(data.into()),
        format: Some("chr".into()),
        ..spec(op, target)
    }
}
