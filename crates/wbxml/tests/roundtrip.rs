//! Encoder/decoder round trips: any tree the writer can express reads back as the same events,
//! and a Counter predicts the encoded length exactly.

use omadm_wbxml::{Counter, Error, Event, Limits, Output, PublicId, Reader, Version, Writer};
use proptest::collection::vec;
use proptest::prelude::*;

/// Extra string table entries available to LITERAL tags.
const NAMES: [&str; 3] = ["x-custom", "Other", "naïve"];

#[derive(Clone, Debug)]
enum Node {
    /// A tag; `children: None` is an empty element (no content bit, no END).
    Tag {
        page: u8,
        token: u8,
        children: Option<Vec<Node>>,
    },
    Literal {
        name: usize,
        children: Option<Vec<Node>>,
    },
    Text(String),
    Opaque(Vec<u8>),
    Entity(char),
}

#[derive(Clone, Debug)]
struct Doc {
    version: Version,
    literal_fpi: bool,
    root: Node,
}

fn write_node<O: Output>(w: &mut Writer<O>, node: &Node) {
    let (children, content) = match node {
        Node::Tag {
            page,
            token,
            children,
        } => {
            w.start(*page, *token, children.is_some());
            (children, children.is_some())
        }
        Node::Literal { name, children } => {
            let index = NAMES
                .get(*name)
                .and_then(|n| w.string_offset(n))
                .unwrap_or(0);
            w.literal_start(index, children.is_some());
            (children, children.is_some())
        }
        Node::Text(s) => {
            assert_eq!(w.str_i(s), Ok(()));
            return;
        }
        Node::Opaque(b) => return w.opaque(b),
        Node::Entity(c) => return w.entity(*c),
    };
    for child in children.iter().flatten() {
        write_node(w, child);
    }
    if content {
        w.end();
    }
}

fn encode<O: Output>(out: O, doc: &Doc) -> O {
    let id = if doc.literal_fpi {
        PublicId::Literal("-//SYNCML//DTD SyncML 1.2//EN")
    } else {
        PublicId::Numeric(0x1201)
    };
    let mut w = Writer::with_string_table(out, doc.version, id, 106, &NAMES);
    write_node(&mut w, &doc.root);
    assert_eq!(w.depth(), 0);
    w.finish()
}

fn expected_events<'a>(node: &'a Node, out: &mut Vec<Event<'a>>) {
    let children = match node {
        Node::Tag {
            page,
            token,
            children,
        } => {
            out.push(Event::Start {
                page: *page,
                token: *token,
                content: children.is_some(),
            });
            children
        }
        Node::Literal { name, children } => {
            out.push(Event::LiteralStart {
                name: NAMES.get(*name).copied().unwrap_or_default(),
                content: children.is_some(),
            });
            children
        }
        Node::Text(s) => return out.push(Event::Text(s)),
        Node::Opaque(b) => return out.push(Event::Opaque(b)),
        Node::Entity(c) => return out.push(Event::Entity(*c)),
    };
    for child in children.iter().flatten() {
        expected_events(child, out);
    }
    out.push(Event::End);
}

fn decode(bytes: &[u8]) -> Result<Vec<Event<'_>>, Error> {
    Reader::new(bytes, Limits::default())?.collect()
}

fn tag(children: impl Strategy<Value = Option<Vec<Node>>> + Clone) -> impl Strategy<Value = Node> {
    prop_oneof![
        4 => (0u8..4, 5u8..64, children.clone())
            .prop_map(|(page, token, children)| Node::Tag { page, token, children }),
        1 => (0..NAMES.len(), children).prop_map(|(name, children)| Node::Literal { name, children }),
    ]
}

fn node() -> BoxedStrategy<Node> {
    let leaf = prop_oneof![
        "[^\u{0}]{0,12}".prop_map(Node::Text),
        vec(any::<u8>(), 0..24).prop_map(Node::Opaque),
        any::<char>().prop_map(Node::Entity),
        tag(Just(None)),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        tag(proptest::option::of(vec(inner, 0..8)))
    })
    .boxed()
}

fn doc() -> impl Strategy<Value = Doc> {
    let version = prop_oneof![
        Just(Version::V1_0),
        Just(Version::V1_1),
        Just(Version::V1_2),
        Just(Version::V1_3),
    ];
    let root = tag(proptest::option::of(vec(node(), 0..8)));
    (version, any::<bool>(), root).prop_map(|(version, literal_fpi, root)| Doc {
        version,
        literal_fpi,
        root,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tree_round_trips(doc in doc()) {
        let bytes = encode(Vec::new(), &doc);
        let mut expected = Vec::new();
        expected_events(&doc.root, &mut expected);
        prop_assert_eq!(decode(&bytes), Ok(expected));
        prop_assert_eq!(encode(Counter::default(), &doc).0, bytes.len());

        let r = Reader::new(&bytes, Limits::default());
        let header = r.as_ref().map(|r| r.header().clone());
        prop_assert_eq!(header.as_ref().map(|h| h.version), Ok(doc.version));
        let id = header.map(|h| h.public_id);
        if doc.literal_fpi {
            prop_assert_eq!(id, Ok(PublicId::Literal("-//SYNCML//DTD SyncML 1.2//EN")));
        } else {
            prop_assert_eq!(id, Ok(PublicId::Numeric(0x1201)));
        }
    }

    /// Any bytes after a valid header: an error or a clean end, never a panic or a hang.
    #[test]
    fn arbitrary_bodies_never_panic(body in vec(any::<u8>(), 0..256)) {
        let mut bytes = vec![0x03, 0x00, 0x00, 0x6A, 0x04, b'a', 0, b'b', 0];
        bytes.extend_from_slice(&body);
        if let Ok(mut r) = Reader::new(&bytes, Limits::default()) {
            for _ in 0..=bytes.len() * 2 {
                match r.next_event() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    /// Any bytes at all, header included.
    #[test]
    fn arbitrary_documents_never_panic(bytes in vec(any::<u8>(), 0..128)) {
        if let Ok(r) = Reader::new(&bytes, Limits::default()) {
            let _ = r.take(bytes.len() * 2 + 2).count();
        }
    }
}

#[test]
fn large_opaque_and_long_strings() -> Result<(), Error> {
    let blob: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let text = "é".repeat(40_000);
    let mut w = Writer::new(Vec::new(), Version::V1_3, PublicId::Numeric(0x1201), 106);
    w.start(0, 0x0F, true);
    w.opaque(&blob);
    w.str_i(&text)?;
    w.end();
    let bytes = w.finish();
    assert_eq!(
        decode(&bytes)?,
        [
            Event::Start {
                page: 0,
                token: 0x0F,
                content: true
            },
            Event::Opaque(&blob),
            Event::Text(&text),
            Event::End,
        ]
    );
    Ok(())
}
