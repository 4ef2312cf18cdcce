//! What each fuzz target checks, one function per target. `crates/syncml/tests/fuzz_corpus.rs`
//! includes this file (`#[path]`) to replay the corpus with the same checks on stable, so keep
//! it free of anything but `omadm_syncml` and `omadm_wbxml`.
//!
//! Decoding any bytes must never panic or loop; errors are fine. What decodes must survive
//! re-encoding: the same model comes back.

#![forbid(unsafe_code)]

use omadm_syncml::{Encoding, Message};
use omadm_wbxml::{Limits, Reader};

/// `omadm_wbxml::Reader` to the end: never panics, always advances, keeps its documented
/// promises (a failed reader repeats its error; depth within the limit; offset within input).
pub fn wbxml_reader(data: &[u8]) {
    let limits = Limits::default();
    let Ok(mut reader) = Reader::new(data, limits) else {
        return;
    };
    // Every event but a synthesized End consumes at least one byte, and each End closes a start.
    let bound = 2 * data.len() + 2;
    let mut events = 0usize;
    loop {
        assert!(
            reader.offset() <= data.len(),
            "offset {} beyond input {}",
            reader.offset(),
            data.len()
        );
        assert!(
            reader.depth() <= limits.max_depth,
            "depth {} beyond the limit",
            reader.depth()
        );
        match reader.next_event() {
            Ok(Some(_)) => {
                events += 1;
                assert!(
                    events <= bound,
                    "{events} events from {} bytes: the reader does not advance",
                    data.len()
                );
            }
            Ok(None) => return,
            Err(e) => {
                assert_eq!(
                    reader.next_event(),
                    Err(e),
                    "a failed reader must repeat its error"
                );
                return;
            }
        }
    }
}

/// `Message::from_wbxml`; what decodes re-encodes to WBXML that decodes to the same model, of
/// the size `encoded_len` promised; and, when XML can carry it, to XML that does too.
pub fn syncml_wbxml(data: &[u8]) {
    let Ok(m) = Message::from_wbxml(data) else {
        return;
    };
    same_after_wbxml(&m);
    same_after_xml_if_any(&m);
}

/// `Message::from_xml`; what decodes re-encodes to XML (when it can: C0 controls and binary
/// data have no XML form) and to WBXML, each decoding to the same model.
pub fn syncml_xml(data: &[u8]) {
    let Ok(m) = Message::from_xml(data) else {
        return;
    };
    same_after_xml_if_any(&m);
    same_after_wbxml(&m);
}

fn same_after_wbxml(m: &Message) {
    let wb = m.to_wbxml();
    assert_eq!(
        m.encoded_len(Encoding::Wbxml).ok(),
        Some(wb.len()),
        "WBXML size"
    );
    match Message::from_wbxml(&wb) {
        Ok(back) => assert_eq!(&back, m, "WBXML round trip"),
        Err(e) => panic!("our WBXML does not decode: {e}\nmodel: {m:?}\nwbxml: {wb:02x?}"),
    }
}

fn same_after_xml_if_any(m: &Message) {
    let Ok(xml) = m.to_xml() else { return };
    assert_eq!(
        m.encoded_len(Encoding::Xml).ok(),
        Some(xml.len()),
        "XML size"
    );
    match Message::from_xml(&xml) {
        Ok(back) => assert_eq!(
            &back,
            m,
            "XML round trip\nxml: {}",
            String::from_utf8_lossy(&xml)
        ),
        Err(e) => panic!(
            "our XML does not decode: {e}\nmodel: {m:?}\nxml: {}",
            String::from_utf8_lossy(&xml)
        ),
    }
}
