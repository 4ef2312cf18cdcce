//! Property tests of the codec (conventions: "any `Message` survives XML and WBXML round trips").
//!
//! Strategies build arbitrary [`Message`]s: every command kind, Atomic/Sequence nested three deep,
//! Status with Cred and Chal, Results, Alert and Exec with Correlator, Items with Target, Source
//! (LocName), Meta (every MetInf field, EMI list, Mem) and Data in each of its four forms, and a
//! SyncHdr with Cred, Meta, RespURI and NoResp, or no SyncHdr at all.
//!
//! What a generated value may hold follows what the encodings can carry:
//! - text elements are trimmed on decode, so their strings have no surrounding whitespace;
//!   `Data` is kept verbatim and gets any;
//! - XML carries no C0 control but tab, LF and CR, and no binary opaque data ([`Alphabet::Xml`]);
//! - WBXML carries any character, NUL included (the writer sends such text as OPAQUE), and
//!   binary opaque data ([`Alphabet::Wbxml`]).
//!
//! Failures are not persisted to a file (the crate has no proptest-regressions directory); a
//! failure found here becomes a named test at the end of this file.

use omadm_syncml::{
    Alert, Chal, Command, Container, Cred, Data, Encoding, Exec, Item, ItemCommand, Location, Mem,
    Message, Meta, MetaMore, Results, Status, SyncBody, SyncHdr, Tag, Unsupported, WbxmlOptions,
    XmlOptions,
};
use omadm_wbxml::Version;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Which characters and bytes generated values may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alphabet {
    /// What XML 1.0 can carry: no C0 control but tab, LF, CR; Opaque data is UTF-8.
    Xml,
    /// Anything: NUL and every other control, binary Opaque data.
    Wbxml,
}

/// Characters that exercise escaping, CDATA splitting, trimming and multi-byte UTF-8.
const MARKUP: [char; 20] = [
    '<', '>', '&', '"', '\'', ']', ';', '#', ' ', '\t', '\n', '\r', 'é', '€', '😀', '\u{85}',
    '\u{a0}', '\u{2028}', '\u{feff}', '\u{fffd}',
];

/// One generated number as a character: mostly printable ASCII, often markup, sometimes any
/// scalar value (and, for WBXML, any control). A plain mapping keeps generation fast in debug
/// builds and shrinks toward `' '`.
fn to_char(a: Alphabet, n: u32) -> char {
    let pick = n % 16;
    let rest = n / 16;
    let c = match pick {
        0..=9 => char::from(b' ' + (rest % 95) as u8),
        10..=13 => MARKUP[rest as usize % MARKUP.len()],
        14 if a == Alphabet::Wbxml => char::from((rest % 0x20) as u8),
        _ => char::from_u32(rest % 0x11_0000).unwrap_or('\u{fffd}'),
    };
    match a {
        Alphabet::Xml if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => '\u{fffd}',
        _ => c,
    }
}

/// A string of up to `max` characters, whitespace anywhere.
fn raw(a: Alphabet, max: usize) -> BoxedStrategy<String> {
    vec(any::<u32>(), 0..=max)
        .prop_map(move |ns| ns.into_iter().map(|n| to_char(a, n)).collect())
        .boxed()
}

/// The value of a text element: no surrounding whitespace (`str::trim`, as the decoder does).
fn text(a: Alphabet) -> BoxedStrategy<String> {
    const SEGMENTS: [&str; 7] = [
        "Vendor",
        "DevInfo",
        "DevDetail",
        "FwV",
        "Ext",
        "a b",
        "x?list=Struct",
    ];
    let digits = (0u32..100_000).prop_map(|n| n.to_string());
    let uri = vec(0..SEGMENTS.len(), 1..4).prop_map(|segs| {
        format!(
            "./{}",
            segs.into_iter()
                .map(|i| SEGMENTS[i])
                .collect::<Vec<_>>()
                .join("/")
        )
    });
    prop_oneof![3 => digits, 1 => uri, 4 => raw(a, 12).prop_map(|s| s.trim().to_owned())].boxed()
}

fn opt_text(a: Alphabet) -> BoxedStrategy<Option<String>> {
    option::of(text(a)).boxed()
}

/// Character data to paste into raw markup (which is XML whatever the alphabet), escaped.
fn escaped() -> BoxedStrategy<String> {
    raw(Alphabet::Xml, 8)
        .prop_map(|s| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        })
        .boxed()
}

/// Well-formed markup with at least one element, as `Data::Xml` carries it (Windows nests whole
/// documents): nested elements, empty elements, attributes, text between, a `Data` inside `Data`.
fn markup() -> BoxedStrategy<String> {
    let name = || prop::sample::select(vec!["a", "Node", "MgmtTree", "Data", "x:y", "enabled"]);
    let leaf = prop_oneof![
        (name(), escaped()).prop_map(|(n, t)| format!("<{n}>{t}</{n}>")),
        name().prop_map(|n| format!("<{n}/>")),
        (name(), escaped()).prop_map(|(n, v)| format!("<{n} id=\"{v}\" v='1'/>")),
    ];
    let element = leaf.prop_recursive(2, 8, 3, move |inner| {
        (name(), vec(inner, 1..3), escaped())
            .prop_map(|(n, kids, t)| format!("<{n}>{t}{}</{n}>", kids.concat()))
    });
    (escaped(), vec((element, escaped()), 1..3))
        .prop_map(|(before, parts)| {
            let mut s = before;
            for (e, after) in parts {
                s.push_str(&e);
                s.push_str(&after);
            }
            s
        })
        .boxed()
}

fn data(a: Alphabet) -> BoxedStrategy<Data> {
    let opaque = match a {
        Alphabet::Xml => raw(a, 24)
            .prop_map(|s| Data::Opaque(s.into_bytes()))
            .boxed(),
        Alphabet::Wbxml => vec(any::<u8>(), 0..40).prop_map(Data::Opaque).boxed(),
    };
    prop_oneof![
        raw(a, 24).prop_map(|s| Data::Text(s.into())),
        raw(a, 24).prop_map(|s| Data::Cdata(s.into())),
        markup().prop_map(|s| Data::Xml(s.into())),
        opaque,
    ]
    .boxed()
}

fn location(a: Alphabet) -> BoxedStrategy<Location> {
    (text(a), opt_text(a))
        .prop_map(|(loc_uri, loc_name)| Location {
            loc_uri: loc_uri.into(),
            loc_name: loc_name.map(Into::into),
        })
        .boxed()
}

fn mem(a: Alphabet) -> BoxedStrategy<Mem> {
    (any::<bool>(), opt_text(a), opt_text(a))
        .prop_map(|(shared_mem, free_mem, free_id)| Mem {
            shared_mem,
            free_mem: free_mem.map(Into::into),
            free_id: free_id.map(Into::into),
        })
        .boxed()
}

fn meta(a: Alphabet) -> BoxedStrategy<Meta> {
    let o = || opt_text(a);
    prop_oneof![
        1 => Just(Meta::default()),
        6 => ((o(), o(), o(), o(), o()), (o(), o(), o(), vec(text(a), 0..3), option::of(mem(a)))).prop_map(
            |((format, type_, mark, size, version), (next_nonce, max_msg_size, max_obj_size, emi, mem))| Meta {
                format: format.map(Into::into),
                type_: type_.map(Into::into),
                more: Some(Box::new(MetaMore {
                mark: mark.map(Into::into),
                size: size.map(Into::into),
                version: version.map(Into::into),
                next_nonce: next_nonce.map(Into::into),
                max_msg_size: max_msg_size.map(Into::into),
                max_obj_size: max_obj_size.map(Into::into),
                emi: emi.into_iter().map(Into::into).collect(),
                mem,
                })),
            },
        ),
    ]
    .boxed()
}

fn cred(a: Alphabet) -> BoxedStrategy<Cred> {
    (option::of(meta(a)), text(a))
        .prop_map(|(meta, data)| Cred {
            meta,
            data: data.into(),
        })
        .boxed()
}

fn item(a: Alphabet) -> BoxedStrategy<Item> {
    (
        option::of(location(a)),
        option::of(location(a)),
        option::of(meta(a)),
        option::of(data(a)),
        any::<bool>(),
    )
        .prop_map(|(target, source, meta, data, more_data)| Item {
            target,
            source,
            meta,
            data,
            more_data,
        })
        .boxed()
}

fn items(a: Alphabet) -> BoxedStrategy<Vec<Item>> {
    vec(item(a), 0..3).boxed()
}

fn item_command(a: Alphabet) -> BoxedStrategy<ItemCommand> {
    (
        text(a),
        any::<bool>(),
        option::of(cred(a)),
        option::of(meta(a)),
        items(a),
    )
        .prop_map(|(cmd_id, no_resp, cred, meta, items)| ItemCommand {
            cmd_id: cmd_id.into(),
            no_resp,
            cred: cred.map(Into::into),
            meta,
            items,
        })
        .boxed()
}

fn alert(a: Alphabet) -> BoxedStrategy<Alert> {
    (
        text(a),
        any::<bool>(),
        option::of(cred(a)),
        opt_text(a),
        opt_text(a),
        items(a),
    )
        .prop_map(|(cmd_id, no_resp, cred, data, correlator, items)| Alert {
            cmd_id: cmd_id.into(),
            no_resp,
            cred: cred.map(Into::into),
            data: data.map(Into::into),
            correlator: correlator.map(Into::into),
            items,
        })
        .boxed()
}

fn exec(a: Alphabet) -> BoxedStrategy<Exec> {
    (
        text(a),
        any::<bool>(),
        option::of(cred(a)),
        option::of(meta(a)),
        opt_text(a),
        items(a),
    )
        .prop_map(|(cmd_id, no_resp, cred, meta, correlator, items)| Exec {
            cmd_id: cmd_id.into(),
            no_resp,
            cred: cred.map(Into::into),
            meta,
            correlator: correlator.map(Into::into),
            items,
        })
        .boxed()
}

fn status(a: Alphabet) -> BoxedStrategy<Status> {
    let refs = || vec(text(a), 0..3);
    let chal = meta(a).prop_map(|meta| Chal { meta });
    (
        (text(a), text(a), text(a), text(a)),
        (
            refs(),
            refs(),
            option::of(cred(a)),
            option::of(chal),
            text(a),
            items(a),
        ),
    )
        .prop_map(
            |(
                (cmd_id, msg_ref, cmd_ref, cmd),
                (target_refs, source_refs, cred, chal, data, items),
            )| Status {
                cmd_id: cmd_id.into(),
                msg_ref: msg_ref.into(),
                cmd_ref: cmd_ref.into(),
                cmd: cmd.into(),
                target_refs: target_refs.into_iter().map(Into::into).collect(),
                source_refs: source_refs.into_iter().map(Into::into).collect(),
                cred: cred.map(Into::into),
                chal: chal.map(Into::into),
                data: data.into(),
                items,
            },
        )
        .boxed()
}

fn results(a: Alphabet) -> BoxedStrategy<Results> {
    (
        text(a),
        opt_text(a),
        text(a),
        option::of(meta(a)),
        opt_text(a),
        opt_text(a),
        items(a),
    )
        .prop_map(
            |(cmd_id, msg_ref, cmd_ref, meta, target_ref, source_ref, items)| Results {
                cmd_id: cmd_id.into(),
                msg_ref: msg_ref.map(Into::into),
                cmd_ref: cmd_ref.into(),
                meta,
                target_ref: target_ref.map(Into::into),
                source_ref: source_ref.map(Into::into),
                items,
            },
        )
        .boxed()
}

/// SyncML commands DM does not model: only the element and its CmdID are kept.
fn unsupported(a: Alphabet) -> BoxedStrategy<Unsupported> {
    (
        prop::sample::select(vec![Tag::Sync, Tag::Map, Tag::Put, Tag::Search, Tag::Move]),
        text(a),
    )
        .prop_map(|(tag, cmd_id)| Unsupported {
            tag,
            cmd_id: cmd_id.into(),
        })
        .boxed()
}

fn container(a: Alphabet, inner: BoxedStrategy<Command>) -> BoxedStrategy<Container> {
    (
        text(a),
        any::<bool>(),
        option::of(meta(a)),
        vec(inner, 0..4),
    )
        .prop_map(|(cmd_id, no_resp, meta, commands)| Container {
            cmd_id: cmd_id.into(),
            no_resp,
            meta,
            commands,
        })
        .boxed()
}

fn simple_command(a: Alphabet) -> BoxedStrategy<Command> {
    prop_oneof![
        item_command(a).prop_map(Command::Add),
        item_command(a).prop_map(Command::Copy),
        item_command(a).prop_map(Command::Delete),
        item_command(a).prop_map(Command::Get),
        item_command(a).prop_map(Command::Replace),
        alert(a).prop_map(Command::Alert),
        exec(a).prop_map(Command::Exec),
        status(a).prop_map(Command::Status),
        results(a).prop_map(Command::Results),
        unsupported(a).prop_map(Command::Unsupported),
    ]
    .boxed()
}

/// Any command; Atomic and Sequence nest up to three levels.
fn command(a: Alphabet) -> BoxedStrategy<Command> {
    simple_command(a)
        .prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                2 => simple_command(a),
                1 => container(a, inner.clone()).prop_map(Command::Atomic),
                1 => container(a, inner).prop_map(Command::Sequence),
            ]
        })
        .boxed()
}

fn hdr(a: Alphabet) -> BoxedStrategy<SyncHdr> {
    let ver_dtd = prop_oneof![3 => prop::sample::select(vec!["1.2", "1.1", "1.0"]).prop_map(String::from), 1 => text(a)];
    let full = (
        (ver_dtd, text(a), text(a), text(a), location(a), location(a)),
        (
            opt_text(a),
            any::<bool>(),
            option::of(cred(a)),
            option::of(meta(a)),
        ),
    )
        .prop_map(
            |(
                (ver_dtd, ver_proto, session_id, msg_id, target, source),
                (resp_uri, no_resp, cred, meta),
            )| {
                SyncHdr {
                    ver_dtd: ver_dtd.into(),
                    ver_proto: ver_proto.into(),
                    session_id: session_id.into(),
                    msg_id: msg_id.into(),
                    target,
                    source,
                    resp_uri: resp_uri.map(Into::into),
                    no_resp,
                    cred: cred.map(Into::into),
                    meta,
                }
            },
        );
    // Windows publishes messages without a SyncHdr.
    prop_oneof![1 => Just(SyncHdr::default()), 8 => full].boxed()
}

fn message(a: Alphabet) -> BoxedStrategy<Message> {
    (hdr(a), vec(command(a), 0..6), any::<bool>())
        .prop_map(|(hdr, commands, final_)| Message {
            hdr,
            body: SyncBody { commands, final_ },
        })
        .boxed()
}

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

const PRETTY: XmlOptions = XmlOptions {
    pretty: true,
    declaration: true,
};
const BARE: XmlOptions = XmlOptions {
    pretty: false,
    declaration: false,
};

fn xml_of(m: &Message, opts: XmlOptions) -> Result<Vec<u8>, TestCaseError> {
    m.to_xml_with(opts)
        .map_err(|e| TestCaseError::fail(format!("to_xml_with({opts:?}): {e}")))
}

fn from_xml(bytes: &[u8]) -> Result<Message, TestCaseError> {
    Message::from_xml(bytes).map_err(|e| {
        TestCaseError::fail(format!("from_xml: {e}\n{}", String::from_utf8_lossy(bytes)))
    })
}

fn from_wbxml(bytes: &[u8]) -> Result<Message, TestCaseError> {
    Message::from_wbxml(bytes)
        .map_err(|e| TestCaseError::fail(format!("from_wbxml: {e}\n{bytes:02x?}")))
}

const VERSIONS: [Version; 4] = [Version::V1_0, Version::V1_1, Version::V1_2, Version::V1_3];

proptest! {
    #![proptest_config(config())]

    /// (a) XML → model: compact, pretty and without declaration.
    #[test]
    fn xml_round_trip(m in message(Alphabet::Xml)) {
        let xml = m.to_xml().map_err(|e| TestCaseError::fail(format!("to_xml: {e}")))?;
        prop_assert_eq!(&from_xml(&xml)?, &m);
        prop_assert_eq!(&Message::decode(&xml).map_err(|e| TestCaseError::fail(e.to_string()))?, &m);
        prop_assert_eq!(&from_xml(&xml_of(&m, PRETTY)?)?, &m);
        prop_assert_eq!(&from_xml(&xml_of(&m, BARE)?)?, &m);
    }

    /// (b) WBXML → model, in every WBXML version, for values XML cannot carry too.
    #[test]
    fn wbxml_round_trip(m in message(Alphabet::Wbxml)) {
        let wb = m.to_wbxml();
        prop_assert_eq!(&from_wbxml(&wb)?, &m);
        prop_assert_eq!(&Message::decode(&wb).map_err(|e| TestCaseError::fail(e.to_string()))?, &m);
        for version in VERSIONS {
            let wb = m.to_wbxml_with(WbxmlOptions { version });
            prop_assert_eq!(wb[0], version.byte());
            prop_assert_eq!(&from_wbxml(&wb)?, &m, "WBXML {:?}", version);
        }
    }

    /// XML refuses what it cannot carry (an EncodeError, never a panic); what it writes round trips.
    #[test]
    fn xml_of_wbxml_only_values_is_refused_or_exact(m in message(Alphabet::Wbxml)) {
        if let Ok(xml) = m.to_xml() {
            prop_assert_eq!(&from_xml(&xml)?, &m);
            prop_assert_eq!(m.encoded_len(Encoding::Xml).ok(), Some(xml.len()));
        } else {
            prop_assert!(m.encoded_len(Encoding::Xml).is_err());
        }
    }

    /// (c) XML → model → WBXML → model → XML → model: all equal.
    #[test]
    fn xml_wbxml_xml_chain(m in message(Alphabet::Xml)) {
        let m1 = from_xml(&xml_of(&m, XmlOptions { pretty: false, declaration: true })?)?;
        let m2 = from_wbxml(&m1.to_wbxml())?;
        let m3 = from_xml(&xml_of(&m2, XmlOptions { pretty: false, declaration: true })?)?;
        prop_assert_eq!(&m1, &m);
        prop_assert_eq!(&m2, &m);
        prop_assert_eq!(&m3, &m);
    }

    /// (d) The computed sizes are the written sizes.
    #[test]
    fn encoded_len_is_exact(m in message(Alphabet::Xml)) {
        prop_assert_eq!(m.encoded_len(Encoding::Xml).ok(), Some(xml_of(&m, XmlOptions { pretty: false, declaration: true })?.len()));
        prop_assert_eq!(m.encoded_len(Encoding::Wbxml).ok(), Some(m.to_wbxml().len()));
        for opts in [PRETTY, BARE, XmlOptions { pretty: true, declaration: false }] {
            prop_assert_eq!(m.xml_len_with(opts).ok(), Some(xml_of(&m, opts)?.len()), "{:?}", opts);
        }
        for version in VERSIONS {
            let opts = WbxmlOptions { version };
            prop_assert_eq!(m.wbxml_len_with(opts), m.to_wbxml_with(opts).len(), "{:?}", version);
        }
    }

    /// Per-command sizes (MaxMsgSize packing): exact in compact XML; in WBXML never below the
    /// real contribution and at most a page switch (2 bytes) above it per command.
    #[test]
    fn command_encoded_len_adds_up(m in message(Alphabet::Xml)) {
        let empty = Message { hdr: m.hdr.clone(), body: SyncBody { commands: Vec::new(), final_: m.body.final_ } };
        let mut xml_sum = empty.encoded_len(Encoding::Xml).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut wbxml_sum = empty.encoded_len(Encoding::Wbxml).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for c in &m.body.commands {
            xml_sum += c.encoded_len(Encoding::Xml).map_err(|e| TestCaseError::fail(e.to_string()))?;
            wbxml_sum += c.encoded_len(Encoding::Wbxml).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        prop_assert_eq!(xml_sum, m.to_xml().map_err(|e| TestCaseError::fail(e.to_string()))?.len());
        let real = m.to_wbxml().len();
        prop_assert!(wbxml_sum >= real, "sum {} < real {}", wbxml_sum, real);
        prop_assert!(wbxml_sum <= real + 2 * m.body.commands.len(), "sum {} > real {} + 2 per command", wbxml_sum, real);
    }
}

proptest! {
    #![proptest_config(config())]

    /// In a message with Final, a command's `encoded_len` is exactly what it adds to the message,
    /// in both encodings: MaxMsgSize packing (client outbox, server pack) measures each command
    /// alone instead of in a probe message with the header.
    #[test]
    fn command_encoded_len_is_its_share_of_a_final_message(m in message(Alphabet::Xml)) {
        let fail = |e: omadm_syncml::EncodeError| TestCaseError::fail(e.to_string());
        let mut probe = Message { hdr: m.hdr.clone(), body: SyncBody { commands: Vec::new(), final_: true } };
        let base = [probe.encoded_len(Encoding::Xml).map_err(fail)?, probe.encoded_len(Encoding::Wbxml).map_err(fail)?];
        for c in &m.body.commands {
            probe.body.commands.push(c.clone());
            for (i, enc) in [Encoding::Xml, Encoding::Wbxml].into_iter().enumerate() {
                prop_assert_eq!(probe.encoded_len(enc).map_err(fail)? - base[i], c.encoded_len(enc).map_err(fail)?, "{:?}", enc);
            }
            probe.body.commands.pop();
        }
    }
}

/// An element tree as a peer may send it inline in WBXML `Data` (a DevInf or MetInf subtree
/// after a page switch): `(page, token, children)` or text.
#[derive(Clone, Debug)]
enum Node {
    Element(u8, u8, Vec<Node>),
    Text(String),
}

fn node() -> impl Strategy<Value = Node> {
    // Page 1 (MetInf) and page 0 (SyncML) tags, named by the code page tables.
    let tag = prop::sample::select(vec![
        (1u8, 0x07u8),
        (1, 0x13),
        (1, 0x0E),
        (1, 0x0D),
        (0, 0x17),
        (0, 0x16),
    ]);
    let leaf = prop_oneof![
        raw(Alphabet::Wbxml, 8)
            .prop_filter("STR_I holds no NUL", |s| !s.contains('\0'))
            .prop_map(Node::Text),
        tag.clone()
            .prop_map(|(p, t)| Node::Element(p, t, Vec::new())),
    ];
    leaf.prop_recursive(3, 12, 3, move |inner| {
        (tag.clone(), vec(inner, 0..3)).prop_map(|((p, t), kids)| Node::Element(p, t, kids))
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn write_node(w: &mut omadm_wbxml::Writer<Vec<u8>>, xml: &mut String, n: &Node) {
    match n {
        Node::Text(t) => {
            if !t.is_empty() {
                w.str_i(t).expect("no NUL");
                xml.push_str(&escape(t));
            }
        }
        Node::Element(page, token, kids) => {
            let name = omadm_wbxml::tables::SYNCML_12
                .tag_name(*page, *token)
                .expect("a tag of the table");
            w.start(*page, *token, !kids.is_empty());
            xml.push_str(&format!("<{name}>"));
            for k in kids {
                write_node(w, xml, k);
            }
            if !kids.is_empty() {
                w.end();
            }
            xml.push_str(&format!("</{name}>"));
        }
    }
}

/// `<SyncML><SyncBody><Replace><CmdID>1</CmdID><Item><Data>` text, then the elements `</Data>
/// </Item></Replace></SyncBody></SyncML>`; and the `Data::Xml` the reader should make of it.
fn inline_tree_message(before: &str, elements: &[Node]) -> (Vec<u8>, String) {
    use omadm_wbxml::{PublicId, Writer};
    let mut w = Writer::new(Vec::new(), Version::V1_2, PublicId::Numeric(0x1201), 106);
    for t in [Tag::SyncML, Tag::SyncBody, Tag::Replace, Tag::CmdID] {
        w.start(t.page(), t.token(), true);
    }
    w.str_i("1").expect("no NUL");
    w.end();
    for t in [Tag::Item, Tag::Data] {
        w.start(t.page(), t.token(), true);
    }
    let mut xml = String::new();
    write_node(&mut w, &mut xml, &Node::Text(before.to_owned()));
    for e in elements {
        write_node(&mut w, &mut xml, e);
    }
    for _ in 0..5 {
        w.end();
    }
    (w.finish(), xml)
}

fn inline_data(wbxml: &[u8]) -> Result<Data, TestCaseError> {
    let m = from_wbxml(wbxml)?;
    let Some(Command::Replace(r)) = m.body.commands.first() else {
        return Err(TestCaseError::fail(format!("expected one Replace: {m:?}")));
    };
    r.items
        .first()
        .and_then(|i| i.data.clone())
        .ok_or_else(|| TestCaseError::fail("no Data"))
}

fn element() -> impl Strategy<Value = Node> {
    node().prop_filter("an element", |n| matches!(n, Node::Element(..)))
}

proptest! {
    #![proptest_config(config())]

    /// An inline element tree in WBXML `Data`, after some text, becomes `Data::Xml` rendering it.
    #[test]
    fn inline_tree_in_wbxml_data_is_rendered_as_xml(
        before in raw(Alphabet::Xml, 6).prop_filter("text first", |s| !s.is_empty()),
        elements in vec(element(), 1..3),
    ) {
        let (wbxml, expected) = inline_tree_message(&before, &elements);
        let data = inline_data(&wbxml)?;
        prop_assert!(matches!(data, Data::Xml(_)), "{:?}", data);
        prop_assert_eq!(data.to_text_lossy(), expected);
    }
}

/// The same with the element first: the WBXML reader's fast path for `Data` reads the event
/// after the first one ahead and loses it when the first is an element (read_data_slow gets it
/// as `pending` but render_tree never sees it), so `<Data><Format/></Data>` fails to decode
/// ("the document ends inside <SyncML>") and `<Data><Format>x</Format></Data>` loses the `x`.
#[test]
fn inline_tree_first_in_wbxml_data() {
    let format = |kids| Node::Element(1, 0x07, kids);
    for elements in [
        vec![format(Vec::new())],
        vec![format(vec![Node::Text("x".into())])],
        vec![format(Vec::new()), format(vec![Node::Text("y".into())])],
    ] {
        let (wbxml, expected) = inline_tree_message("", &elements);
        match inline_data(&wbxml) {
            Ok(data) => assert_eq!(data.to_text_lossy(), expected, "{elements:?}"),
            Err(e) => panic!("{elements:?}: {e}"),
        }
    }
}

/// XML 1.0 has no C0 controls but tab, LF and CR, and `to_xml` refuses them with an EncodeError
/// in text, CDATA and opaque Data, but writes `Data::Xml` verbatim without a check. Such
/// Data::Xml comes from WBXML: the reader renders an inline tree's text and OPAQUE into it.
#[test]
fn control_characters_in_data_xml_are_refused() {
    let (wbxml, _) = inline_tree_message(
        "a\u{1}",
        &[Node::Element(1, 0x07, vec![Node::Text("\u{2}".into())])],
    );
    let m = Message::from_wbxml(&wbxml).expect("decodes");
    assert!(
        m.to_xml().is_err(),
        "{}",
        String::from_utf8_lossy(&m.to_xml().unwrap_or_default())
    );
    let mut item = Item::target("./a");
    item.data = Some(Data::Xml("<a>\u{0}</a>".into()));
    let m = Message {
        body: SyncBody {
            commands: vec![Command::Replace(ItemCommand {
                items: vec![item],
                ..ItemCommand::default()
            })],
            final_: false,
        },
        ..Message::default()
    };
    assert!(m.to_xml().is_err());
}
