//! Every refusal is a precise error with the right byte offset, and no input panics.

use omadm_wbxml::{Error, Event, Limits, Reader};

const PKG1: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/spec/samples/libdmclient/basic_wbxml_01_client_pkg1.wbxml"
));

/// SyncML 1.2 header with the string table "ab\0cd" (index 3 is unterminated).
const HEAD: [u8; 10] = [0x02, 0xA4, 0x01, 0x6A, 0x05, b'a', b'b', 0x00, b'c', b'd'];

fn doc(body: &[u8]) -> Vec<u8> {
    let mut d = HEAD.to_vec();
    d.extend_from_slice(body);
    d
}

fn decode(bytes: &[u8], limits: Limits) -> Result<Vec<Event<'_>>, Error> {
    Reader::new(bytes, limits)?.collect()
}

fn first_error(bytes: &[u8]) -> Option<Error> {
    decode(bytes, Limits::default()).err()
}

#[test]
fn every_truncation_of_the_capture_errors() {
    assert!(decode(PKG1, Limits::default()).is_ok());
    for len in 0..PKG1.len() {
        let prefix = PKG1.get(..len).unwrap_or_default();
        let err = first_error(prefix);
        assert!(err.is_some(), "prefix of {len} bytes accepted");
        if len > 5 {
            assert!(
                matches!(err, Some(Error::UnexpectedEof { offset, open }) if offset == len && open > 0),
                "prefix {len}: {err:?}"
            );
        }
    }
}

#[test]
fn every_truncation_of_a_dense_document_errors() {
    let full = doc(&[
        0x6D, 0x44, 0x00, 0x83, 0x00, 0x02, 0x84, 0x01, 0x03, b'x', 0x00, 0xC3, 0x82, 0x00,
    ]);
    let mut full = full;
    full.extend_from_slice(&[7u8; 256]);
    full.extend_from_slice(&[0x00, 0x01, 0x45, 0x43, 0x05, 0x01, 0x01, 0x01, 0x01]);
    assert!(decode(&full, Limits::default()).is_ok());
    for len in 0..full.len() {
        assert!(
            first_error(full.get(..len).unwrap_or_default()).is_some(),
            "prefix {len}"
        );
    }
}

#[test]
fn attribute_bit_rejected_with_a_clear_message() {
    let bytes = doc(&[0x6D, 0xC5, 0x01, 0x01]);
    let err = first_error(&bytes);
    assert_eq!(
        err,
        Some(Error::AttributesNotSupported {
            offset: 11,
            token: 0xC5
        })
    );
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        "byte 11: tag 0xC5 has the attribute bit set; SyncML WBXML never uses attributes"
    );
    for literal in [0x84, 0xC4] {
        let bytes = doc(&[0x6D, literal, 0x00, 0x01, 0x01]);
        assert_eq!(
            first_error(&bytes),
            Some(Error::AttributesNotSupported {
                offset: 11,
                token: literal
            })
        );
    }
    // Attributes on the root itself.
    assert_eq!(
        first_error(&doc(&[0x85, 0x01])),
        Some(Error::AttributesNotSupported {
            offset: 10,
            token: 0x85
        })
    );
}

#[test]
fn unbalanced_end() {
    assert_eq!(
        first_error(&doc(&[0x01])),
        Some(Error::UnbalancedEnd { offset: 10 })
    );
    assert_eq!(
        first_error(&doc(&[0x6D, 0x01, 0x01])),
        Some(Error::UnbalancedEnd { offset: 12 })
    );
}

#[test]
fn trailing_data() {
    assert_eq!(
        first_error(&doc(&[0x6D, 0x01, 0x6D, 0x01])),
        Some(Error::TrailingData { offset: 12 })
    );
    assert_eq!(
        first_error(&doc(&[0x12, 0x00])),
        Some(Error::TrailingData { offset: 11 })
    );
    // A trailing PI is not trailing data.
    assert!(first_error(&doc(&[0x12, 0x43, 0x05, 0x01])).is_none());
}

#[test]
fn depth_limit() {
    let nested = |depth: usize| {
        let mut body = vec![0x45; depth];
        body.extend(std::iter::repeat_n(0x01, depth));
        doc(&body)
    };
    assert!(decode(&nested(64), Limits::default()).is_ok());
    assert_eq!(
        first_error(&nested(65)),
        Some(Error::TooDeep {
            offset: 74,
            limit: 64
        })
    );
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert_eq!(
        decode(&doc(&[0x45, 0x45, 0x45, 0x05, 0x01, 0x01, 0x01]), limits).err(),
        Some(Error::TooDeep {
            offset: 13,
            limit: 3
        })
    );
}

#[test]
fn bad_string_table_index() {
    let table_len = 5;
    for index in [3u8, 5, 0x7F] {
        for token in [0x83, 0x44] {
            let bytes = doc(&[0x6D, token, index, 0x01, 0x01]);
            assert_eq!(
                first_error(&bytes),
                Some(Error::BadStringTableIndex {
                    offset: 11,
                    index: u32::from(index),
                    table_len
                })
            );
        }
    }
    assert_eq!(
        decode(
            &doc(&[0x6D, 0x83, 0x01, 0x04, 0x00, 0x01]),
            Limits::default()
        ),
        Ok(vec![
            Event::Start {
                page: 0,
                token: 0x2D,
                content: true
            },
            Event::Text("b"),
            Event::LiteralStart {
                name: "ab",
                content: false
            },
            Event::End,
            Event::End,
        ])
    );
}

#[test]
fn bad_mb_uint_in_body() {
    assert_eq!(
        first_error(&doc(&[0x6D, 0xC3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])),
        Some(Error::BadMbUint { offset: 12 })
    );
    assert_eq!(
        first_error(&doc(&[0x6D, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])),
        Some(Error::BadMbUint { offset: 12 })
    );
}

#[test]
fn opaque_longer_than_input() {
    let bytes = doc(&[0x6D, 0xC3, 0x05, 1, 2, 3, 0x01]);
    assert_eq!(
        first_error(&bytes),
        Some(Error::UnexpectedEof {
            offset: bytes.len(),
            open: 1
        })
    );
    let bytes = doc(&[0x6D, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert_eq!(
        first_error(&bytes),
        Some(Error::UnexpectedEof {
            offset: bytes.len(),
            open: 1
        })
    );
}

#[test]
fn empty_input_and_missing_root() {
    assert_eq!(
        first_error(&[]),
        Some(Error::TruncatedHeader {
            offset: 0,
            field: "version byte"
        })
    );
    assert_eq!(first_error(&HEAD), Some(Error::MissingRoot { offset: 10 }));
    let msg = Error::MissingRoot { offset: 10 }.to_string();
    assert_eq!(
        msg,
        "byte 10: document has no root element; expected a tag token after the header"
    );
}

#[test]
fn unsupported_charset_message_names_the_mibenum() {
    let err = Reader::new(
        &[0x02, 0xA4, 0x01, 0x04, 0x00, 0x45, 0x01],
        Limits::default(),
    )
    .err();
    assert_eq!(err, Some(Error::UnsupportedCharset { offset: 3, mib: 4 }));
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        "byte 3: charset MIBenum 4 is not supported; expected 106 (UTF-8) or 3 (US-ASCII)"
    );
}

#[test]
fn iterator_stops_after_the_error() {
    let bytes = doc(&[0x6D, 0xC5]);
    let items: Vec<_> = match Reader::new(&bytes, Limits::default()) {
        Ok(r) => r.collect(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items.last(),
        Some(Err(Error::AttributesNotSupported { .. }))
    ));
}
