//! Every field of `Limits` stops a message that exceeds it with an error naming the limit, in both
//! encodings; nothing panics and nothing allocates without bound.

use omadm_syncml::{Command, ErrorKind, Item, ItemCommand, Limits, Message, SyncBody};

fn get(n_items: usize, uri: &str) -> Command {
    Command::Get(ItemCommand {
        cmd_id: "1".into(),
        items: (0..n_items).map(|_| Item::target(uri)).collect(),
        ..ItemCommand::default()
    })
}

fn message(commands: Vec<Command>) -> Message {
    Message {
        body: SyncBody {
            commands,
            final_: true,
        },
        ..Message::default()
    }
}

fn limit_of(m: &Message, limits: &Limits) -> Vec<&'static str> {
    let xml = m.to_xml().unwrap();
    let wbxml = m.to_wbxml();
    [
        Message::from_xml_with(&xml, limits),
        Message::from_wbxml_with(&wbxml, limits),
    ]
    .into_iter()
    .map(|r| match r {
        Err(e) => match e.kind {
            ErrorKind::LimitExceeded { limit, .. } => limit,
            // The WBXML reader enforces depth and size itself.
            ErrorKind::Wbxml(omadm_wbxml::Error::TooDeep { .. }) => "max_depth",
            ErrorKind::Wbxml(omadm_wbxml::Error::InputTooLarge { .. }) => "max_message_bytes",
            k => panic!("unexpected error {k}"),
        },
        Ok(_) => "accepted",
    })
    .collect()
}

#[test]
fn max_commands() {
    let m = message((0..11).map(|_| get(1, "./A")).collect());
    let l = Limits {
        max_commands: 10,
        ..Limits::default()
    };
    assert_eq!(limit_of(&m, &l), ["max_commands", "max_commands"]);
    let l = Limits {
        max_commands: 11,
        ..Limits::default()
    };
    assert_eq!(limit_of(&m, &l), ["accepted", "accepted"]);
}

#[test]
fn max_items() {
    let m = message(vec![get(6, "./A")]);
    let l = Limits {
        max_items: 5,
        ..Limits::default()
    };
    assert_eq!(limit_of(&m, &l), ["max_items", "max_items"]);
}

#[test]
fn max_text_len() {
    let long = format!("./{}", "x".repeat(300));
    let m = message(vec![get(1, &long)]);
    let l = Limits {
        max_text_len: 256,
        ..Limits::default()
    };
    assert_eq!(limit_of(&m, &l), ["max_text_len", "max_text_len"]);
}

#[test]
fn max_data_len() {
    let mut item = Item::target("./A");
    item.data = Some("d".repeat(2000).into());
    let m = message(vec![Command::Replace(ItemCommand {
        cmd_id: "1".into(),
        items: vec![item],
        ..Default::default()
    })]);
    let l = Limits {
        max_data_len: 1000,
        ..Limits::default()
    };
    assert_eq!(limit_of(&m, &l), ["max_data_len", "max_data_len"]);
}

#[test]
fn max_depth_bounds_nested_atomics() {
    let mut c = get(1, "./A");
    for _ in 0..40 {
        c = Command::Atomic(omadm_syncml::Container {
            cmd_id: "1".into(),
            commands: vec![c],
            ..Default::default()
        });
    }
    let m = message(vec![c]);
    assert_eq!(limit_of(&m, &Limits::default()), ["max_depth", "max_depth"]);
}

#[test]
fn max_message_bytes() {
    let m = message((0..50).map(|_| get(1, "./A/B/C")).collect());
    let l = Limits {
        max_message_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(limit_of(&m, &l), ["max_message_bytes", "max_message_bytes"]);
}

#[test]
fn deep_xml_nesting_inside_data_is_bounded() {
    let depth = 10_000;
    let doc = format!(
        "<SyncML><SyncBody><Replace><CmdID>1</CmdID><Item><Data>{}{}</Data></Item></Replace></SyncBody></SyncML>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let e = Message::from_xml(doc.as_bytes()).unwrap_err();
    assert!(
        matches!(
            e.kind,
            ErrorKind::LimitExceeded {
                limit: "max_depth",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("max_depth"));
}
