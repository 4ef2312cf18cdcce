//! A device for session tests: the tree of the DM Protocol 1.3 §11 examples (DevInfo of
//! `IMEI:493005100592800`, one DMAcc for the server at `http://www.syncml.org/mgmt-server`), and
//! a scripted server that answers each client message with a closure.
#![allow(dead_code)]

use omadm_client::session::{Env, Incoming, Outcome, Outgoing, Session, Step};
use omadm_client::ui::UserInterface;
use omadm_syncml::Message;
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::stdobj::{self, AppAuth, DevDetail, DevInfo, DmAcc};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

pub const SERVER_ID: &str = "mgmt-server";
pub const SERVER_URI: &str = "http://www.syncml.org/mgmt-server";
pub const DEV_ID: &str = "IMEI:493005100592800";
pub const CL_NAME: &str = "Bruce2";
pub const CL_SECRET: &str = "OhBehave";
pub const SRV_NAME: &str = "mgmt-server";
pub const SRV_SECRET: &str = "ServerSecret";

/// The tree of the examples. `cl` and `srv` are the AAuthType of CLCRED and SRVCRED (`None`:
/// no such entry); nonces start as `Nonce` (client) and empty (server).
pub fn device(cl: Option<&str>, srv: Option<&str>) -> Tree {
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
    stdobj::install_inbox(&mut t).unwrap();
    let mut auths = Vec::new();
    if let Some(ty) = cl {
        auths.push(AppAuth {
            level: "CLCRED".into(),
            auth_type: ty.into(),
            name: CL_NAME.into(),
            secret: CL_SECRET.into(),
            data: b"Nonce".to_vec(),
        });
    }
    if let Some(ty) = srv {
        auths.push(AppAuth {
            level: "SRVCRED".into(),
            auth_type: ty.into(),
            name: SRV_NAME.into(),
            secret: SRV_SECRET.into(),
            data: Vec::new(),
        });
    }
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
    // A place the server may manage.
    t.add(Caller::Device, "./Vendor", NodeFormat::Node, None, b"")
        .unwrap();
    t.replace_prop(
        Caller::Device,
        "./Vendor",
        Property::Acl,
        &format!("Add={SERVER_ID}&Get={SERVER_ID}&Replace={SERVER_ID}&Delete={SERVER_ID}&Exec={SERVER_ID}"),
    )
    .unwrap();
    t
}

/// What the scripted server answers to one client message: the bytes (and an
/// `x-syncml-hmac` header), or `None` to stop the test there.
pub type Reply = Option<(Vec<u8>, Option<String>)>;

/// Runs a session to its end: every message the client sends goes to `server` (with its
/// decoded form), every answer back to the client. At most `max` round trips.
pub fn drive(
    session: &mut Session,
    tree: &mut Tree,
    ui: &mut dyn UserInterface,
    first: Outgoing,
    mut server: impl FnMut(usize, &Outgoing, &Message) -> Reply,
) -> (Vec<Outgoing>, Result<Outcome, String>) {
    let mut plugins = Plugins::default();
    let mut sent = vec![first];
    for round in 0..64 {
        let out = sent.last().unwrap().clone();
        let decoded = Message::decode(&out.body).expect("client message decodes");
        let Some((reply, hmac)) = server(round, &out, &decoded) else {
            return (sent, Err("server stopped".into()));
        };
        let env = Env {
            tree: &mut *tree,
            plugins: &mut plugins,
            ui: &mut *ui,
            now: 1_700_000_000,
        };
        match session.receive(
            env,
            Incoming {
                body: &reply,
                hmac: hmac.as_deref(),
            },
        ) {
            Ok(Step::Send(o)) => sent.push(o),
            Ok(Step::End(outcome)) => return (sent, Ok(outcome)),
            Err(e) => return (sent, Err(e.to_string())),
        }
    }
    panic!("session did not end in 64 round trips");
}

/// A spec example file of omadm-syncml's golden set.
pub fn spec_example(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../syncml/testdata/spec/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
