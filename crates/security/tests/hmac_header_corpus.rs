//! Replays fuzz/corpus/hmac_header on stable with the fuzz target's own checks.

use omadm_security::hmac_header::{verify_mac, HeaderError, HmacHeader};

fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match HmacHeader::parse(text) {
        Ok(header) => {
            let again = HmacHeader::parse(&header.to_header_value());
            assert_eq!(again.as_ref(), Ok(&header), "round trip of {text:?}");
            let _ = verify_mac(&header, "password", b"nonce", data);
        }
        Err(err) => {
            let offset = match err {
                HeaderError::ExpectedName { offset }
                | HeaderError::ExpectedEquals { offset }
                | HeaderError::ExpectedValue { offset }
                | HeaderError::UnterminatedQuote { offset }
                | HeaderError::InvalidChar { offset }
                | HeaderError::ExpectedComma { offset }
                | HeaderError::Duplicate { offset, .. }
                | HeaderError::UnknownAlgorithm { offset } => offset,
                HeaderError::TooLong { .. }
                | HeaderError::MissingUsername
                | HeaderError::MissingMac => 0,
            };
            assert!(
                offset <= text.len(),
                "offset {offset} beyond {}",
                text.len()
            );
            assert_eq!(err.status(), 401);
        }
    }
}

#[test]
fn hmac_header_corpus() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/hmac_header");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("corpus dir") {
        let p = e.expect("entry").path();
        check(&std::fs::read(&p).expect("read"));
        n += 1;
    }
    assert!(n > 0, "empty corpus");
}
