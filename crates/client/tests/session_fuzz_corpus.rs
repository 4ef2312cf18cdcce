//! The checks of the `client_session` fuzz target (included by
//! `fuzz/fuzz_targets/client_session.rs`), and, as a test on stable, their replay over every file
//! of `fuzz/corpus/client_session/`. Whatever a server sends, the engine answers with a message
//! that decodes or ends the session with an error; it never panics.

use omadm_client::session::{Env, Incoming, Session, SessionConfig, Step};
use omadm_client::ui::AutoAccept;
use omadm_syncml::Message;
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::stdobj::{self, AppAuth, DevDetail, DevInfo, DmAcc};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

fn device() -> Tree {
    let mut t = Tree::default();
    stdobj::install_devinfo(
        &mut t,
        &DevInfo {
            dev_id: "IMEI:1".into(),
            ..DevInfo::default()
        },
    )
    .expect("devinfo");
    stdobj::install_devdetail(&mut t, &DevDetail::default()).expect("devdetail");
    stdobj::add_dmacc(
        &mut t,
        &DmAcc {
            node: "S".into(),
            server_id: "srv".into(),
            name: None,
            pref_con_ref: None,
            addrs: vec![("http://127.0.0.1/dm".into(), "URI".into(), Vec::new())],
            aauth_pref: None,
            auths: vec![AppAuth {
                level: "CLCRED".into(),
                auth_type: "DIGEST".into(),
                name: "dev".into(),
                secret: "pw".into(),
                data: Vec::new(),
            }],
        },
    )
    .expect("dmacc");
    t.add(Caller::Device, "./Vendor", NodeFormat::Node, None, b"")
        .expect("vendor");
    t.replace_prop(
        Caller::Device,
        "./Vendor",
        Property::Acl,
        "Add=*&Get=*&Replace=*&Delete=*&Exec=*",
    )
    .expect("acl");
    t
}

/// Feeds `data` twice as the server's messages of an offline session (commands run as if
/// authenticated); every message the engine builds must decode again.
pub fn client_session(data: &[u8]) {
    let mut tree = device();
    let mut cfg = SessionConfig::new("srv", "1");
    cfg.offline = true;
    cfg.max_msg_size = 4096;
    let Ok(mut s) = Session::new(&tree, cfg) else {
        panic!("the fuzz device has its account");
    };
    let first = s.start(&tree).expect("package #1 encodes");
    Message::decode(&first.body).expect("package #1 decodes");
    let mut plugins = Plugins::default();
    let mut ui = AutoAccept;
    for _ in 0..2 {
        let env = Env {
            tree: &mut tree,
            plugins: &mut plugins,
            ui: &mut ui,
            now: 0,
        };
        match s.receive(
            env,
            Incoming {
                body: data,
                hmac: None,
            },
        ) {
            Ok(Step::Send(o)) => {
                Message::decode(&o.body).expect("an answer decodes");
            }
            Ok(Step::End(_)) | Err(_) => break,
        }
    }
}

#[test]
fn client_session_corpus_replays() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/client_session");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let path = entry.expect("corpus entry").path();
        if path.is_file() {
            client_session(&std::fs::read(&path).expect("corpus file"));
            n += 1;
        }
    }
    assert!(n >= 5, "corpus has {n} files");
}
