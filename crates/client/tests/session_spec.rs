//! The protocol examples of DM Protocol 1.3 §9.4 and §11 replayed against the session engine:
//! the spec's server messages are fed in, the client's messages compared with the spec's.
//!
//! Where the spec shows a comment instead of a value (credentials, base64 documents) the test
//! fills in a real one; where the spec's own numbering is inconsistent (11.1.1 gives the Replace
//! CmdID 3 after Alert 1), the differences are listed at each comparison.

mod common;

use common::*;
use omadm_client::session::{Env, Incoming, Initiator, Outcome, Session, SessionConfig, Step};
use omadm_client::ui::AutoAccept;
use omadm_security::cred;
use omadm_syncml::{Command, Cred, Message, Meta};
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

fn config() -> SessionConfig {
    let mut c = SessionConfig::new(SERVER_ID, "1");
    c.initiator = Initiator::Server;
    c.ver_proto = "DM/1.3".into();
    c.max_msg_size = 5000;
    c
}

/// A spec server message with the server's basic credentials in place of the comment.
fn server_msg(name: &str) -> Vec<u8> {
    let text = String::from_utf8(spec_example(name)).unwrap();
    text.replace(
        "<Data><!-- base64 formatting of userid:password --> </Data>",
        &format!("<Data>{}</Data>", cred::basic(SRV_NAME, SRV_SECRET)),
    )
    .into_bytes()
}

fn receive(s: &mut Session, tree: &mut Tree, body: &[u8]) -> Step {
    let mut ui = AutoAccept;
    s.receive(
        Env {
            tree,
            plugins: &mut Plugins::default(),
            ui: &mut ui,
            now: 0,
        },
        Incoming { body, hmac: None },
    )
    .unwrap()
}

fn sent(step: Step) -> Message {
    match step {
        Step::Send(o) => Message::decode(&o.body).unwrap(),
        Step::End(o) => panic!("session ended ({o:?}) where the spec has a message"),
    }
}

/// The spec's package #1 with its placeholders filled: the Replace is CmdID 2 (the spec jumps
/// to 3), Cred Data is the real basic credential, and the SyncHdr Meta also carries the
/// client's MaxObjSize (§8: the client sends it since it takes large objects).
fn expected_pkg1(name: &str) -> Message {
    let mut m = Message::decode(&spec_example(name)).unwrap();
    if let Command::Replace(r) = &mut m.body.commands[1] {
        r.cmd_id = "2".into();
    }
    m.hdr.cred = Some(Box::new(Cred {
        meta: Some(Meta::format_type("b64", "syncml:auth-basic")),
        data: cred::basic(CL_NAME, CL_SECRET).into(),
    }));
    m.hdr.meta.as_mut().unwrap().more_mut().max_obj_size = Some("1048576".into());
    m
}

/// §11.1: server-initiated session, a Sequence with a 1101 confirmation and a Replace, the
/// client's package #3 and the server's closing package #4.
#[test]
fn dm_pro_11_1_confirmation_in_sequence() {
    let mut tree = device(Some("BASIC"), Some("BASIC"));
    for (uri, fmt) in [
        ("./settings", NodeFormat::Node),
        ("./settings/wap_settings", NodeFormat::Node),
        ("./settings/wap_settings/CNN", NodeFormat::B64),
    ] {
        tree.add(Caller::Device, uri, fmt, None, b"").unwrap();
    }
    tree.replace_prop(
        Caller::Device,
        "./settings",
        Property::Acl,
        &format!("Get={SERVER_ID}&Replace={SERVER_ID}"),
    )
    .unwrap();
    let mut s = Session::new(&tree, config()).unwrap();
    let pkg1 = Message::decode(&s.start(&tree).unwrap().body).unwrap();
    assert_eq!(pkg1, expected_pkg1("dmpro_11.1.1_pkg1_client_init.xml"));

    let pkg3 = sent(receive(
        &mut s,
        &mut tree,
        &server_msg("dmpro_11.1.2_pkg2_server_init.xml"),
    ));
    // Exactly the spec's package #3: SyncHdr 212, Sequence 200, Alert 200, Replace 200.
    let want = Message::decode(&spec_example("dmpro_11.1.3_pkg3_client_response.xml")).unwrap();
    assert_eq!(pkg3, want);

    let end = receive(
        &mut s,
        &mut tree,
        &spec_example("dmpro_11.1.4_pkg4_server_ack.xml"),
    );
    assert!(matches!(end, Step::End(Outcome::Completed)), "{end:?}");
}

/// (Cmd, CmdRef, TargetRefs, Data) of the Status commands and (CmdRef, Source, Data) of the
/// Results: what the §11.2 comparison holds the engine to.
fn answers(m: &Message) -> Vec<String> {
    m.body
        .commands
        .iter()
        .map(|c| match c {
            Command::Status(s) => format!(
                "Status {} ref={} targets={:?} {}",
                s.cmd,
                if s.cmd == "SyncHdr" { "0" } else { &s.cmd_ref },
                s.target_refs,
                s.data
            ),
            Command::Results(r) => format!(
                "Results ref={} {:?}",
                r.cmd_ref,
                r.items
                    .iter()
                    .map(|i| (
                        i.source.as_ref().map(|s| s.loc_uri.to_string()),
                        i.data.as_ref().map(|d| d.to_text_lossy().into_owned())
                    ))
                    .collect::<Vec<_>>()
            ),
            other => other.name().to_string(),
        })
        .collect()
}

/// §11.2: a display alert, a Get answered with Results, then a second package #4 with a Replace
/// and the closing package. The spec's 11.2.3 omits CmdRef 0 on the SyncHdr Status, numbers
/// its Results before the Get's Status and gives the Results no Meta (which §6.5 requires): the
/// comparison is on what each answer says, not on those.
#[test]
fn dm_pro_11_2_display_get_replace() {
    let mut tree = device(Some("BASIC"), Some("BASIC"));
    tree.replace(Caller::Device, "./DevInfo/Lang", None, None, b"US-en")
        .unwrap();
    tree.add(
        Caller::Device,
        "./antivirus_data",
        NodeFormat::Node,
        Some("application/antivirus-inc.virusdef"),
        b"",
    )
    .unwrap();
    tree.add(
        Caller::Device,
        "./antivirus_data/version",
        NodeFormat::Chr,
        None,
        b"antivirus-inc/20010522b/5",
    )
    .unwrap();
    tree.replace_prop(
        Caller::Device,
        "./antivirus_data",
        Property::Acl,
        &format!("Get={SERVER_ID}&Replace={SERVER_ID}"),
    )
    .unwrap();
    let mut s = Session::new(&tree, config()).unwrap();
    let pkg1 = Message::decode(&s.start(&tree).unwrap().body).unwrap();
    assert_eq!(pkg1, expected_pkg1("dmpro_11.2.1_pkg1_client_init.xml"));

    let pkg3 = sent(receive(
        &mut s,
        &mut tree,
        &server_msg("dmpro_11.2.2_pkg2_server_init.xml"),
    ));
    let want = Message::decode(&spec_example("dmpro_11.2.3_pkg3_client_response.xml")).unwrap();
    assert_eq!(answers(&pkg3), answers(&want));
    assert_eq!(pkg3.hdr, want.hdr);
    assert!(pkg3.body.final_);

    let pkg3b = sent(receive(
        &mut s,
        &mut tree,
        &spec_example("dmpro_11.2.4_pkg4_server_continue.xml"),
    ));
    let want = Message::decode(&spec_example("dmpro_11.2.5_pkg3_client_response.xml")).unwrap();
    assert_eq!(pkg3b.hdr, want.hdr);
    // The one place the engine answers differently: 11.2.2 Gets ./antivirus_data/version, so
    // ./antivirus_data is an interior node, and 11.2.4 then Replaces it with a file. An interior
    // node has no value (TND §5.1), so the tree answers 405 Command not allowed where the spec
    // shows 200.
    let mut want = answers(&want);
    want[1] = want[1].replace(" 200", " 405");
    assert_eq!(answers(&pkg3b), want);

    let end = receive(
        &mut s,
        &mut tree,
        &spec_example("dmpro_11.2.6_pkg4_server_finish.xml"),
    );
    assert!(matches!(end, Step::End(Outcome::Completed)), "{end:?}");
}
