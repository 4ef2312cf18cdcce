//! Property tests: any `MgmtTree` survives the WBXML round trip; any tree whose text XML can
//! carry survives the XML round trip (and the others fail to encode with 500, never silently);
//! the decoders never panic on arbitrary bytes, nor on valid documents with bytes changed.

use proptest::collection::vec;
use proptest::prelude::*;

use omadm_tree::format::NodeFormat;
use omadm_tree::tnds::{
    decode, from_wbxml, from_xml, to_wbxml, to_xml, ErrorKind, MgmtTree, NodeType, RtProperties,
    TndsLimits, TndsNode,
};

/// Text XML can carry: printable ASCII, markup characters, whitespace with CR, and non-ASCII.
fn xml_text() -> impl Strategy<Value = String> {
    "[ -~\t\r\né€\u{1F600}<>&\"']{0,12}"
}

/// Any text, control characters and NUL included.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => xml_text(),
        1 => "[\u{0}-\u{1F}a\u{FFFF}]{0,6}",
    ]
}

fn format() -> impl Strategy<Value = NodeFormat> {
    proptest::sample::select(NodeFormat::ALL.to_vec())
}

fn rt(text: BoxedStrategy<String>) -> impl Strategy<Value = RtProperties> {
    let t = move || proptest::option::of(text.clone());
    let node_type = proptest::option::of(prop_oneof![
        t().prop_map(|s| NodeType::Mime(s.unwrap_or_default())),
        t().prop_map(|s| NodeType::DdfName(s.unwrap_or_default())),
    ]);
    (
        (t(), proptest::option::of(format()), t(), t()),
        (t(), t(), node_type, t()),
    )
        .prop_map(
            |((acl, format, name, size), (title, tstamp, type_, verno))| RtProperties {
                acl,
                format,
                name,
                size,
                title,
                tstamp,
                type_,
                verno,
            },
        )
}

/// NodeName, Path and RTProperties.
type Header = (Option<String>, Option<String>, RtProperties);

fn header(text: BoxedStrategy<String>) -> BoxedStrategy<Header> {
    (
        proptest::option::of(text.clone()),
        proptest::option::of(text.clone()),
        rt(text),
    )
        .boxed()
}

/// A Node: a leaf (Value or none) or an interior node with children; bin values any bytes,
/// other values text of `text`.
fn node(text: BoxedStrategy<String>) -> impl Strategy<Value = TndsNode> {
    let leaf = (
        header(text.clone()),
        proptest::option::of(text.clone()),
        vec(any::<u8>(), 0..12),
    )
        .prop_map(|((node_name, path, rt), text_value, bytes)| {
            let value = if rt.format == Some(NodeFormat::Bin) {
                text_value.map(|_| bytes)
            } else {
                text_value.map(String::into_bytes)
            };
            TndsNode {
                node_name,
                path,
                rt,
                value,
                children: Vec::new(),
            }
        });
    leaf.prop_recursive(4, 24, 4, move |inner| {
        (header(text.clone()), vec(inner, 1..4)).prop_map(|((node_name, path, rt), children)| {
            TndsNode {
                node_name,
                path,
                rt,
                value: None,
                children,
            }
        })
    })
}

fn tree(text: BoxedStrategy<String>) -> impl Strategy<Value = MgmtTree> {
    (
        text.clone(),
        proptest::option::of(text.clone()),
        proptest::option::of(text.clone()),
        vec(node(text), 1..4),
    )
        .prop_map(|(ver_dtd, man, mod_, nodes)| MgmtTree {
            ver_dtd,
            man,
            mod_,
            nodes,
        })
}

fn unlimited() -> TndsLimits {
    TndsLimits {
        max_bytes: usize::MAX,
        ..TndsLimits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_tree_survives_wbxml(t in tree(any_text().boxed())) {
        let wbxml = to_wbxml(&t);
        let back = from_wbxml(&wbxml, &unlimited());
        prop_assert!(back.is_ok(), "{:?}\n{:02x?}", back, wbxml);
        prop_assert_eq!(back.unwrap(), t);
    }

    #[test]
    fn xml_safe_tree_survives_xml_and_both_orders(t in tree(xml_text().boxed())) {
        let xml = to_xml(&t).expect("XML-safe text encodes");
        let back = from_xml(&xml, &unlimited());
        prop_assert!(back.is_ok(), "{:?}\n{}", back, String::from_utf8_lossy(&xml));
        let back = back.unwrap();
        prop_assert_eq!(&back, &t);
        // XML -> WBXML -> XML gives the same bytes.
        let via_wbxml = from_wbxml(&to_wbxml(&back), &unlimited()).unwrap();
        prop_assert_eq!(to_xml(&via_wbxml).unwrap(), xml);
    }

    #[test]
    fn any_tree_survives_xml_or_fails_to_encode_with_500(t in tree(any_text().boxed())) {
        match to_xml(&t) {
            Ok(xml) => prop_assert_eq!(from_xml(&xml, &unlimited()).unwrap(), t),
            Err(e) => {
                prop_assert!(
                    matches!(e.kind, ErrorKind::CharacterNotAllowed { .. } | ErrorKind::ValueNotText),
                    "{}", e
                );
                prop_assert_eq!(e.status(), 500);
            }
        }
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..256)) {
        let limits = TndsLimits::default();
        let _ = from_xml(&bytes, &limits);
        let _ = from_wbxml(&bytes, &limits);
        let _ = decode(&bytes, &limits);
    }

    #[test]
    fn decoders_never_panic_on_damaged_documents(
        t in tree(xml_text().boxed()),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let limits = TndsLimits::default();
        for mut doc in [to_wbxml(&t), to_xml(&t).unwrap()] {
            for (at, byte) in &edits {
                let i = at.index(doc.len());
                doc[i] = *byte;
            }
            for d in [&doc[..], &doc[..cut.index(doc.len() + 1)]] {
                let _ = from_xml(d, &limits);
                let _ = from_wbxml(d, &limits);
                if let Ok(again) = decode(d, &limits) {
                    // What decodes re-encodes to WBXML that decodes to the same tree.
                    prop_assert_eq!(from_wbxml(&to_wbxml(&again), &unlimited()).unwrap(), again);
                }
            }
        }
    }
}
