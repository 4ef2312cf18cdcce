//! The libdmclient capture (SyncML RTK encoder) decodes, names itself through the tables, and
//! re-encodes to the same bytes.

use omadm_wbxml::tables::SYNCML_12;
use omadm_wbxml::{Error, Event, Limits, PublicId, Reader, Version, Writer};

const PKG1: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/spec/samples/libdmclient/basic_wbxml_01_client_pkg1.wbxml"
));
const PKG1_XML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/spec/samples/libdmclient/basic_wbxml_01_client_pkg1.decoded.xml"
));
const PKG3: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/spec/samples/libdmclient/basic_wbxml_02_client_pkg3.wbxml"
));
const PKG3_XML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/spec/samples/libdmclient/basic_wbxml_02_client_pkg3.decoded.xml"
));

fn decode(doc: &[u8]) -> Result<Vec<Event<'_>>, Error> {
    Reader::new(doc, Limits::default())?.collect()
}

/// Element names in document order, from the libwbxml rendering beside the capture.
fn xml_start_names(xml: &str) -> Vec<&str> {
    xml.split('<')
        .skip(1)
        .filter(|s| s.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|s| s.split([' ', '>', '/']).next())
        .collect()
}

#[test]
fn pkg1_header() -> Result<(), Error> {
    let r = Reader::new(PKG1, Limits::default())?;
    let h = r.header();
    assert_eq!(h.version, Version::V1_2);
    assert_eq!(h.public_id, PublicId::Numeric(0x1201));
    assert_eq!(h.charset, 106);
    assert!(h.string_table.is_empty());
    Ok(())
}

#[test]
fn pkg1_event_stream() -> Result<(), Error> {
    let mut r = Reader::new(PKG1, Limits::default())?;
    let mut events = Vec::new();
    while let Some(e) = r.next_event()? {
        events.push(e);
    }
    assert_eq!(r.next_event(), Ok(None));
    assert_eq!(r.depth(), 0);
    assert_eq!(r.offset(), PKG1.len());

    assert_eq!(
        events.first(),
        Some(&Event::Start {
            page: 0,
            token: 0x2D,
            content: true
        })
    );
    let first_metinf = events
        .iter()
        .position(|e| matches!(e, Event::Start { page: 1, .. }));
    let at = first_metinf.unwrap_or(usize::MAX);
    assert_eq!(
        events.get(at),
        Some(&Event::Start {
            page: 1,
            token: 0x07,
            content: true
        })
    );
    assert_eq!(events.get(at + 1), Some(&Event::Text("b64")));

    let starts = events
        .iter()
        .filter(|e| matches!(e, Event::Start { .. }))
        .count();
    let ends = events.iter().filter(|e| matches!(e, Event::End)).count();
    assert_eq!(starts, 111);
    assert_eq!(ends, starts);
    assert!(events.contains(&Event::Opaque(b"data of test3")));
    assert!(events.contains(&Event::Start {
        page: 0,
        token: 0x12,
        content: false
    }));
    Ok(())
}

#[test]
fn names_match_the_libwbxml_rendering() -> Result<(), Error> {
    for (doc, xml) in [(PKG1, PKG1_XML), (PKG3, PKG3_XML)] {
        let names: Vec<&str> = decode(doc)?
            .iter()
            .filter_map(|e| match *e {
                Event::Start { page, token, .. } => {
                    Some(SYNCML_12.tag_name(page, token).unwrap_or("?"))
                }
                _ => None,
            })
            .collect();
        assert_eq!(names, xml_start_names(xml));
    }
    Ok(())
}

#[test]
fn re_encoding_reproduces_the_rtk_bytes() -> Result<(), Error> {
    for doc in [PKG1, PKG3] {
        let mut w = Writer::new(Vec::new(), Version::V1_2, PublicId::Numeric(0x1201), 106);
        let mut r = Reader::new(doc, Limits::default())?;
        let mut pending_empty = false;
        while let Some(e) = r.next_event()? {
            match e {
                Event::Start {
                    page,
                    token,
                    content,
                } => {
                    w.start(page, token, content);
                    pending_empty = !content;
                }
                Event::End if pending_empty => pending_empty = false,
                Event::End => w.end(),
                Event::Text(s) => w.str_i(s)?,
                Event::Opaque(b) => w.opaque(b),
                Event::Entity(c) => w.entity(c),
                Event::LiteralStart { .. } => unreachable!("the capture has no literals"),
            }
        }
        assert_eq!(w.finish(), doc);
    }
    Ok(())
}
