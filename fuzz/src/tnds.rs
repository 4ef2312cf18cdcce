//! What the `tnds` fuzz target checks. A file of its own rather than a function in `lib.rs`:
//! `crates/syncml/tests/fuzz_corpus.rs` includes `lib.rs`, and omadm-syncml does not depend on
//! omadm-tree. `fuzz_targets/tnds.rs` and `crates/tree/tests/tnds_fuzz_corpus.rs` include this
//! file (`#[path]`), so keep it free of anything but `omadm_tree`.
//!
//! Decoding any bytes must never panic; errors are fine. `decode` agrees with the decoder the
//! first byte selects. What decodes must survive re-encoding: WBXML always, XML unless the tree
//! holds text XML cannot carry (then `to_xml` fails with 500, never silently).

use omadm_tree::tnds::{
    decode, from_wbxml, from_xml, to_wbxml, to_xml, ErrorKind, MgmtTree, TndsLimits,
};

/// `from_xml`, `from_wbxml` and `decode` on `data`; round trips of whatever decodes.
pub fn tnds(data: &[u8]) {
    let limits = TndsLimits::default();
    let xml = from_xml(data, &limits).ok();
    let wbxml = from_wbxml(data, &limits).ok();
    let chosen = match data.first() {
        Some(0x00..=0x03) => &wbxml,
        _ => &xml,
    };
    let decoded = decode(data, &limits).ok();
    if decoded.is_some() {
        assert_eq!(&decoded, chosen, "decode() disagrees with its decoder");
    }
    for tree in xml.iter().chain(wbxml.iter()) {
        same_after_wbxml(tree);
        same_after_xml_if_any(tree);
    }
}

/// The re-encoded document may be larger than the input (base64, escapes): no size limit.
fn unlimited() -> TndsLimits {
    TndsLimits {
        max_bytes: usize::MAX,
        ..TndsLimits::default()
    }
}

fn same_after_wbxml(tree: &MgmtTree) {
    let wb = to_wbxml(tree);
    match from_wbxml(&wb, &unlimited()) {
        Ok(back) => assert_eq!(&back, tree, "WBXML round trip"),
        Err(e) => panic!("our WBXML does not decode: {e}\ntree: {tree:?}\nwbxml: {wb:02x?}"),
    }
}

fn same_after_xml_if_any(tree: &MgmtTree) {
    let xml = match to_xml(tree) {
        Ok(xml) => xml,
        Err(e) => {
            assert!(
                matches!(
                    e.kind,
                    ErrorKind::CharacterNotAllowed { .. } | ErrorKind::ValueNotText
                ),
                "unexpected encoding error {e}"
            );
            assert_eq!(e.status(), 500);
            return;
        }
    };
    match from_xml(&xml, &unlimited()) {
        Ok(back) => assert_eq!(
            &back,
            tree,
            "XML round trip\nxml: {}",
            String::from_utf8_lossy(&xml)
        ),
        Err(e) => panic!(
            "our XML does not decode: {e}\ntree: {tree:?}\nxml: {}",
            String::from_utf8_lossy(&xml)
        ),
    }
}
