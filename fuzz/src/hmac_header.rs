//! The checks of the `hmac_header` target, in a file of their own so that
//! `crates/security/tests/hmac_header_corpus.rs` can include them (the fuzz crate's lib depends
//! on syncml and wbxml only). `x-syncml-hmac` values (DIGEST.md §3.5): `HmacHeader::parse` never
//! panics, reports offsets inside the input, and what parses survives `to_header_value` and
//! re-parsing unchanged.

use omadm_security::hmac_header::{verify_mac, HeaderError, HmacHeader};

/// Parses `data` as an `x-syncml-hmac` value; panics on a broken invariant.
pub fn check(data: &[u8]) {
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
