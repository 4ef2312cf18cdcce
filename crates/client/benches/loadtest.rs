//! The client's CPU cost of one DM session as `omadm loadtest` runs it (crates/cli/src/
//! loadtest_cmd/sim.rs), HTTP left out: the factory tree of `omadm device init` plus
//! `./Vendor/LoadTest`, digest authentication both ways, and 4 queued commands (Get
//! ./DevInfo/Mod, Replace and Get of ./Vendor/LoadTest, Get ./DevInfo/Mod). The server's engine
//! (with the in-memory store of its tests) plays the server; only the client's side is timed:
//! `Session::new`, package #1, each `receive`, and the events checked as the load generator does.
//! The device tree persists across sessions, so the nonces rotate as on a real device.
//!
//! ```sh
//! cargo bench -p omadm-client --bench loadtest -- --warm-up-time 1 --measurement-time 3
//! ```

#[path = "../../server/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Store, NOW, SERVER_ID};
use criterion::{criterion_group, criterion_main, Criterion};
use omadm_client::agent::init::{factory_tree, InitParams};
use omadm_client::agent::WireEncoding;
use omadm_client::session::{Env, Event, Incoming, Outcome, Session, SessionConfig, Step};
use omadm_client::ui::AutoAccept;
use omadm_security::cred::AuthScheme;
use omadm_server::model::{ClientAuth, ClientAuthType, CommandSpec, Device, Op, ServerAuth};
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

const DEVICE_ID: &str = "IMEI:493005100592800";
const CL_NAME: &str = "load-client";
const CL_SECRET: &str = "client-secret";
const SRV_SECRET: &str = "server-secret";
const VENDOR_LEAF: &str = "./Vendor/LoadTest";

/// sim.rs's device tree.
fn device_tree(encoding: WireEncoding) -> Tree {
    let mut tree = factory_tree(&InitParams {
        device_id: DEVICE_ID.into(),
        server_url: "http://127.0.0.1/dm".into(),
        server_id: SERVER_ID.into(),
        client_name: CL_NAME.into(),
        client_secret: CL_SECRET.into(),
        server_secret: SRV_SECRET.into(),
        auth: AuthScheme::Md5,
        encoding,
        account_node: None,
        fumo: false,
    })
    .expect("factory tree");
    tree.add(Caller::Device, "./Vendor", NodeFormat::Node, None, b"")
        .expect("vendor");
    tree.replace_prop(
        Caller::Device,
        "./Vendor",
        Property::Acl,
        &format!("Get={SERVER_ID}&Replace={SERVER_ID}"),
    )
    .expect("acl");
    tree.add(Caller::Device, VENDOR_LEAF, NodeFormat::Chr, None, b"0")
        .expect("leaf");
    tree
}

/// The device as the REST API enrolls it.
fn enrolled() -> Device {
    Device {
        device_id: DEVICE_ID.into(),
        client_auth: ClientAuth {
            type_: ClientAuthType::Digest,
            name: CL_NAME.into(),
            secret: CL_SECRET.into(),
        },
        server_auth: ServerAuth {
            name: SERVER_ID.into(),
            secret: SRV_SECRET.into(),
        },
        push_url: None,
        client_nonce: Vec::new(),
        server_nonce: Vec::new(),
        devinfo: Default::default(),
        dm_version: None,
        created_at: NOW,
        last_seen: None,
    }
}

/// sim.rs's `command(i)`.
fn command(session: u32, i: usize) -> CommandSpec {
    let spec = |op, target: &str| CommandSpec {
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
    };
    match i % 3 {
        0 => spec(Op::Get, "./DevInfo/Mod"),
        1 => CommandSpec {
            format: Some("chr".into()),
            type_: Some("text/plain".into()),
            data: Some(format!("s{session}c{i}")),
            ..spec(Op::Replace, VENDOR_LEAF)
        },
        _ => spec(Op::Get, VENDOR_LEAF),
    }
}

struct Sim {
    store: Store,
    tree: Tree,
    sessions: u32,
    encoding: WireEncoding,
}

impl Sim {
    fn new(encoding: WireEncoding) -> Sim {
        Sim {
            store: Store::new(enrolled()),
            tree: device_tree(encoding),
            sessions: 0,
            encoding,
        }
    }

    /// One session as sim.rs's `drive` runs it; the time spent on the client's side.
    fn session(&mut self) -> Duration {
        // The server's bookkeeping of the last session is not the client's cost: start afresh.
        self.store.commands.clear();
        self.store.sessions.clear();
        self.store.audit.clear();
        for i in 0..4 {
            self.store.enqueue(command(self.sessions, i));
        }
        let mut client = Duration::ZERO;
        let t = Instant::now();
        self.sessions += 1;
        let session_id = format!("{:X}", (self.sessions - 1) % 0xFFFF + 1);
        let mut cfg = SessionConfig::new(SERVER_ID, session_id);
        cfg.encoding = self.encoding.encoding();
        let mut session = Session::new(&self.tree, cfg).expect("DMAcc");
        let mut out = session.start(&self.tree).expect("package #1");
        let mut plugins = Plugins::default();
        let mut ui = AutoAccept;
        client += t.elapsed();
        let outcome = loop {
            let answer = self.store.deliver(&out.body, out.hmac.as_deref());
            let t = Instant::now();
            self.tree.set_now(NOW as u64);
            let env = Env {
                tree: &mut self.tree,
                plugins: &mut plugins,
                ui: &mut ui,
                now: NOW as u64,
            };
            let step = session.receive(
                env,
                Incoming {
                    body: &answer.body,
                    hmac: answer.hmac.as_deref(),
                },
            );
            client += t.elapsed();
            match step {
                Ok(Step::Send(next)) => out = next,
                Ok(Step::End(o)) => break o,
                Err(e) => panic!("the session failed: {e}"),
            }
        };
        let t = Instant::now();
        assert_eq!(outcome, Outcome::Completed);
        let mut ran = 0;
        for ev in session.take_events() {
            if let Event::Command { code, .. } = ev {
                assert!((200..300).contains(&code), "a command answered {code}");
                ran += 1;
            }
        }
        client += t.elapsed();
        assert_eq!(ran, 4, "the 4 queued commands ran");
        client
    }
}

fn bench(c: &mut Criterion) {
    for (name, enc) in [
        ("client_loadtest_session_xml", WireEncoding::Xml),
        ("client_loadtest_session_wbxml", WireEncoding::Wbxml),
    ] {
        let mut sim = Sim::new(enc);
        c.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| sim.session()).sum())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
