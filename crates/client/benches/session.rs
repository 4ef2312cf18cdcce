//! One whole DM session through the sans-IO engine, for docs/performance.md: a 100,000-node tree,
//! a package #2 of 1,000 Replace and 1,000 Get, the client's answers packed into messages at the
//! server's MaxMsgSize and fetched with Alert 1222 until the session ends. Prints the time of
//! each phase and the process's peak RSS.
//!
//! ```sh
//! cargo bench -p omadm-client --bench session [-- --wbxml] [-- --max-msg 65536]
//! ```

use std::time::Instant;

use omadm_client::session::{Env, Incoming, Session, SessionConfig, Step};
use omadm_client::ui::AutoAccept;
use omadm_syncml::{
    Alert, AlertCode, Command, Data, Encoding, Item, ItemCommand, Location, Message, Meta, Status,
    SyncBody, SyncHdr,
};
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::stdobj::{self, AppAuth, DevDetail, DevInfo, DmAcc};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

const BRANCHES: usize = 1_000;
const LEAVES: usize = 100;
const COMMANDS: usize = 1_000;

fn tree() -> Tree {
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
                auth_type: "BASIC".into(),
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
        "Get=srv&Replace=srv",
    )
    .expect("acl");
    for b in 0..BRANCHES {
        let dir = format!("./Vendor/B{b}");
        t.add(Caller::Device, &dir, NodeFormat::Node, None, b"")
            .expect("branch");
        for l in 0..LEAVES {
            t.add(
                Caller::Device,
                &format!("{dir}/L{l}"),
                NodeFormat::Chr,
                None,
                format!("value {b}/{l}").as_bytes(),
            )
            .expect("leaf");
        }
    }
    t
}

fn hdr(msg_id: u32, max_msg: usize) -> SyncHdr {
    let mut meta = Meta::default();
    meta.more_mut().max_msg_size = Some(max_msg.to_string().into());
    SyncHdr {
        ver_dtd: "1.2".into(),
        ver_proto: "DM/1.2".into(),
        session_id: "1".into(),
        msg_id: msg_id.to_string().into(),
        target: Location::new("IMEI:1"),
        source: Location::new("http://127.0.0.1/dm"),
        meta: Some(meta),
        ..SyncHdr::default()
    }
}

fn hdr_status(msg_ref: &str) -> Command {
    Command::Status(Status {
        cmd_id: "1".into(),
        msg_ref: msg_ref.into(),
        cmd_ref: "0".into(),
        cmd: "SyncHdr".into(),
        data: "212".into(),
        ..Status::default()
    })
}

fn package2(max_msg: usize) -> Message {
    let mut cmds = vec![hdr_status("1")];
    for i in 0..COMMANDS {
        let uri = format!("./Vendor/B{}/L{}", i % BRANCHES, (i * 7) % LEAVES);
        cmds.push(Command::Replace(ItemCommand {
            cmd_id: format!("{}", 2 + i).into(),
            meta: Some(Meta::format_type("chr", "text/plain")),
            items: vec![Item {
                target: Some(Location::new(uri.as_str())),
                data: Some(Data::Text(format!("replaced {i}").into())),
                ..Item::default()
            }],
            ..ItemCommand::default()
        }));
    }
    for i in 0..COMMANDS {
        let uri = format!("./Vendor/B{}/L{}", (i * 3) % BRANCHES, (i * 11) % LEAVES);
        cmds.push(Command::Get(ItemCommand {
            cmd_id: format!("{}", 2 + COMMANDS + i).into(),
            items: vec![Item::target(uri.as_str())],
            ..ItemCommand::default()
        }));
    }
    Message {
        hdr: hdr(1, max_msg),
        body: SyncBody {
            commands: cmds,
            final_: true,
        },
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let enc = if args.iter().any(|a| a == "--wbxml") {
        Encoding::Wbxml
    } else {
        Encoding::Xml
    };
    let max_msg = args
        .iter()
        .position(|a| a == "--max-msg")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(65_536usize);

    let t0 = Instant::now();
    let mut tree = tree();
    let built = t0.elapsed();
    let pkg2 = package2(max_msg).encode(enc).expect("pkg2 encodes");
    let rss_before = peak_rss_kib();

    let t1 = Instant::now();
    let mut cfg = SessionConfig::new("srv", "1");
    cfg.encoding = enc;
    cfg.require_server_auth = false;
    let mut s = Session::new(&tree, cfg).expect("session");
    let _pkg1 = s.start(&tree).expect("pkg1");
    let mut plugins = Plugins::default();
    let mut ui = AutoAccept;
    let mut body = pkg2;
    let (mut messages, mut bytes_out, mut results) = (0usize, 0usize, 0usize);
    let mut server_msg = 1u32;
    loop {
        let env = Env {
            tree: &mut tree,
            plugins: &mut plugins,
            ui: &mut ui,
            now: 0,
        };
        match s
            .receive(
                env,
                Incoming {
                    body: &body,
                    hmac: None,
                },
            )
            .expect("session step")
        {
            Step::Send(o) => {
                messages += 1;
                bytes_out += o.body.len();
                let m = Message::decode(&o.body).expect("answer decodes");
                results += m
                    .body
                    .commands
                    .iter()
                    .filter(|c| matches!(c, Command::Results(_)))
                    .map(|c| c.items().len())
                    .sum::<usize>();
                server_msg += 1;
                // The server acknowledges; while the client's package is open, it asks for more.
                let mut cmds = vec![hdr_status(&o.msg_id.to_string())];
                if !o.final_ {
                    cmds.push(Command::Alert(Alert::new("2", AlertCode::NEXT_MESSAGE)));
                }
                body = Message {
                    hdr: hdr(server_msg, max_msg),
                    body: SyncBody {
                        commands: cmds,
                        final_: o.final_,
                    },
                }
                .encode(enc)
                .expect("ack encodes");
            }
            Step::End(_) => break,
        }
    }
    let session = t1.elapsed();
    assert_eq!(results, COMMANDS, "every Get answered");
    println!(
        "tree: {} nodes built in {:.1} ms; session ({enc:?}, MaxMsgSize {max_msg}): {COMMANDS} Replace + {COMMANDS} Get in {:.1} ms, {messages} client messages, {bytes_out} bytes out; peak RSS {} KiB (before the session {} KiB)",
        tree.len(),
        built.as_secs_f64() * 1e3,
        session.as_secs_f64() * 1e3,
        peak_rss_kib(),
        rss_before,
    );
}
