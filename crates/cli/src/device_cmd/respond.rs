//! `omadm device respond`: one server package processed offline.

use std::path::PathBuf;

use anyhow::{Context, Result};
use omadm_client::agent::driver::describe;
use omadm_client::agent::{hooks, plugins, DeviceDir, DEFAULT_LOCK_WAIT};
use omadm_client::session::{Env, Incoming, Session, SessionConfig, Step};
use omadm_syncml::{Limits, Message, XmlOptions};

use crate::io::{read_input, Output};

pub const LONG_ABOUT: &str = "\
Process one server package offline, as the device would in a session, and print its answer.

IN (a file, or - for stdin) is a server message in XML or WBXML: a package #2 or #4 with any
commands (Add, Replace, Delete, Get, Copy, Exec, Atomic, Sequence, Alert 1100-1104...). The
device runs them against its tree exactly as in a session, with the ACL rights of the server
the message names in its SyncHdr Source (or --server-id), and answers with Status and Results.
Unlike a session, the message is taken as authenticated (its Cred is not checked) and its
SessionID is taken as this session's: the tool is for trying management objects and servers
without a network.

The answer (the client's package #3) is printed as XML on stdout, or written to OUT (-o) in the
encoding of IN. When it does not fit the server's MaxMsgSize it is the first message of the
package; the rest would follow the server's Alert 1222. What each command did is printed on
stderr.

The tree is not changed unless --save is given; with --save the changes are saved (atomically,
under the tree lock) as after a session.";

/// Process one server package offline and print the answer.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// The server message, XML or WBXML (- for stdin).
    #[arg(value_name = "IN")]
    input: String,

    /// Write the answer here, in the encoding of IN, instead of XML on stdout.
    #[arg(short, long, value_name = "OUT")]
    output: Option<String>,

    /// Keep the changes in the device's tree.
    #[arg(long)]
    save: bool,

    /// The DMAcc ServerID whose rights apply [default: the message's SyncHdr Source, when an
    /// account has it, else server_id of device.toml].
    #[arg(long, value_name = "SID")]
    server_id: Option<String>,

    /// User interaction: auto-accept, auto-reject, tty, or script FILE.
    #[arg(long, num_args = 1..=2, value_names = ["MODE", "FILE"], default_value = "auto-accept")]
    ui: Vec<String>,
}

pub fn run(a: &Args) -> Result<()> {
    let dir = DeviceDir::new(&a.dir);
    let config = dir.load_config()?;
    let limits = Limits::default();
    let input = read_input(&a.input, limits.max_message_bytes)?;
    let (msg, encoding) =
        Message::decode_with(&input.bytes, &limits).with_context(|| input.name.clone())?;

    let mut lock = if a.save {
        Some(dir.lock_tree(DEFAULT_LOCK_WAIT)?)
    } else {
        None
    };
    let mut read_only;
    let tree = match lock.as_mut() {
        Some(l) => l.tree_mut(),
        None => {
            read_only = dir.read_tree()?;
            &mut read_only
        }
    };
    let server_id = a.server_id.clone().unwrap_or_else(|| {
        let src = msg.hdr.source.loc_uri.as_str();
        if omadm_client::agent::account::find(tree, src).is_ok() {
            src.to_owned()
        } else {
            config.server_id.clone()
        }
    });
    hooks::ensure_nodes(tree, &config)?;
    let mut p = plugins(&dir, &config, tree, 0)?;
    let mut ui = super::run::user_interface(&a.ui)?;

    let mut cfg = SessionConfig::new(server_id.as_str(), msg.hdr.session_id.as_str());
    cfg.offline = true;
    cfg.encoding = encoding;
    cfg.ver_proto = msg.hdr.ver_proto.to_string();
    cfg.max_msg_size = config.max_msg_size as u64;
    cfg.max_obj_size = config.max_obj_size as u64;
    let mut session = Session::new(tree, cfg)?;
    session.start(tree)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let step = session.receive(
        Env {
            tree,
            plugins: &mut p,
            ui: ui.as_mut(),
            now,
        },
        Incoming {
            body: &input.bytes,
            hmac: None,
        },
    );
    for e in session.take_events() {
        eprintln!("{}", describe(&e));
    }
    let step = step.with_context(|| input.name.clone())?;
    if let Some(l) = lock.as_mut() {
        l.save()?;
        eprintln!("tree saved");
    }
    // Background jobs (asynchronous Execs) queue their results for the next session.
    dir.jobs().wait_idle(std::time::Duration::from_secs(3600));
    let out = match step {
        Step::Send(o) => o,
        Step::End(outcome) => {
            eprintln!("no answer: the session ends here ({outcome:?})");
            return Ok(());
        }
    };
    if !out.final_ {
        eprintln!(
            "the answer does not fit the server's MaxMsgSize: this is its first message (MsgID {}); the rest follows Alert 1222",
            out.msg_id
        );
    }
    match &a.output {
        Some(path) => Output::from_arg(Some(path)).write(&out.body)?,
        None => {
            let xml = Message::decode(&out.body)?
                .to_xml_with(XmlOptions {
                    pretty: true,
                    declaration: false,
                })
                .context("cannot render the answer as XML")?;
            Output::Stdout.write(&xml)?;
        }
    }
    Ok(())
}
