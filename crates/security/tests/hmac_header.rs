//! `x-syncml-hmac` (DIGEST.md §3.5, DIGEST-1.3.md §2): header grammar and the MAC formula.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use omadm_security::hmac_header::{
    compute_mac, verify_mac, HeaderError, HmacHeader, MacAlgorithm, MacError, MAX_HEADER_LEN,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const BODY: &[u8] = b"<SyncML>...</SyncML>";

#[test]
fn dm_sec_hmac_md5_test_vector() {
    // DIGEST.md §3.5, computed with python3 hashlib/base64.
    let mac = compute_mac(MacAlgorithm::Md5, "Bruce2", "OhBehave", b"Nonce", BODY);
    assert_eq!(mac, "sApUT+tgL0x3wdVOn5GGlA==");
}

#[test]
fn dm_sec_hmac_sha256_formula_written_out() {
    // The same nested formula with H = SHA-256, written out with sha2 directly.
    let b64 = |d: &[u8]| STANDARD.encode(d);
    let secret = b64(&Sha256::digest(b"Bruce2:OhBehave"));
    let body = b64(&Sha256::digest(BODY));
    let want = b64(&Sha256::digest(format!("{secret}:Nonce:{body}").as_bytes()));
    // Also computed once with python3 hashlib (DIGEST-1.3.md §2.2 lists the same value).
    assert_eq!(want, "F2fI/z664iW7oFmsQr6+HdcGLq6mVPeck8/3zomQtvo=");
    let mac = compute_mac(MacAlgorithm::Sha256, "Bruce2", "OhBehave", b"Nonce", BODY);
    assert_eq!(mac, want);
    assert_eq!(mac.len(), 44);
}

#[test]
fn dm_sec_hmac_spec_example_header_parses() {
    let h = HmacHeader::parse(
        r#"algorithm=MD5, username="Robert Jordan", mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk"#,
    )
    .unwrap();
    assert_eq!(h.algorithm(), MacAlgorithm::Md5);
    assert_eq!(h.username(), "Robert Jordan");
    assert_eq!(h.mac(), "NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk");
    assert_eq!(
        h.to_header_value(),
        r#"algorithm=MD5, username="Robert Jordan", mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk"#
    );
}

#[test]
fn dm_sec_hmac_algorithm_defaults_to_md5() {
    let h = HmacHeader::parse(r#"username="a",mac=xyz="#).unwrap();
    assert_eq!(h.algorithm(), MacAlgorithm::Md5);
}

#[test]
fn dm_sec_hmac_names_and_algorithm_case_insensitive_unknown_ignored() {
    let h =
        HmacHeader::parse("\tMAC=abc , Foo=\"x,y\", USERNAME = bob ,Algorithm=sha-256 ").unwrap();
    assert_eq!(h.algorithm(), MacAlgorithm::Sha256);
    assert_eq!(h.username(), "bob");
    assert_eq!(h.mac(), "abc");
    for alias in ["SHA256", "hmac-sha256"] {
        let h = HmacHeader::parse(&format!("algorithm={alias}, username=\"u\", mac=m")).unwrap();
        assert_eq!(h.algorithm(), MacAlgorithm::Sha256);
    }
}

#[test]
fn dm_sec_hmac_sha256_token_is_provisional_sha_256() {
    assert_eq!(MacAlgorithm::Sha256.token(), "SHA-256");
    assert_eq!(MacAlgorithm::Md5.token(), "MD5");
}

#[test]
fn dm_sec_hmac_username_escapes_round_trip() {
    let h = HmacHeader::parse(r#"username="a \"quoted\" \\ name", mac=m"#).unwrap();
    assert_eq!(h.username(), r#"a "quoted" \ name"#);
    assert_eq!(HmacHeader::parse(&h.to_header_value()).unwrap(), h);
}

#[test]
fn dm_sec_hmac_bad_syntax() {
    use HeaderError::*;
    let cases: &[(&str, HeaderError)] = &[
        ("", ExpectedName { offset: 0 }),
        ("username", ExpectedEquals { offset: 8 }),
        ("username=", ExpectedValue { offset: 9 }),
        ("username=\"abc", UnterminatedQuote { offset: 9 }),
        ("username=\"abc\\", UnterminatedQuote { offset: 9 }),
        ("username=\"a\x01\", mac=m", InvalidChar { offset: 11 }),
        ("username=a mac=m", ExpectedComma { offset: 11 }),
        ("username=a, , mac=m", ExpectedName { offset: 12 }),
        ("username=a, mac=m,", ExpectedName { offset: 18 }),
        (
            "username=a, username=b, mac=m",
            Duplicate {
                name: "username",
                offset: 12,
            },
        ),
        (
            "algorithm=SHA1, username=a, mac=m",
            UnknownAlgorithm { offset: 10 },
        ),
        ("algorithm=MD5, mac=m", MissingUsername),
        ("algorithm=MD5, username=\"u\"", MissingMac),
        ("username=u, mac=\"\"", ExpectedValue { offset: 16 }),
        ("username=u; mac=m", ExpectedComma { offset: 10 }),
    ];
    for (input, want) in cases {
        assert_eq!(HmacHeader::parse(input).as_ref(), Err(want), "{input:?}");
        assert_eq!(want.status(), 401);
    }
}

#[test]
fn dm_sec_hmac_length_limit() {
    let long = format!("username=\"{}\", mac=m", "a".repeat(MAX_HEADER_LEN));
    assert!(matches!(
        HmacHeader::parse(&long),
        Err(HeaderError::TooLong { .. })
    ));
}

#[test]
fn dm_sec_hmac_new_rejects_header_injection() {
    assert!(HmacHeader::new(MacAlgorithm::Md5, "a\r\nX-Evil: 1", "m").is_err());
    assert!(HmacHeader::new(MacAlgorithm::Md5, "a", "m, x=1").is_err());
    assert!(HmacHeader::new(MacAlgorithm::Md5, "a", "").is_err());
}

#[test]
fn dm_sec_hmac_verify() {
    for alg in [MacAlgorithm::Md5, MacAlgorithm::Sha256] {
        let h = HmacHeader::sign(alg, "Bruce2", "OhBehave", b"Nonce", BODY).unwrap();
        let h = HmacHeader::parse(&h.to_header_value()).unwrap();
        assert_eq!(verify_mac(&h, "OhBehave", b"Nonce", BODY), Ok(()));
        assert_eq!(
            verify_mac(&h, "OhBehave", b"Nonce", b"<SyncML>..!</SyncML>"),
            Err(MacError::Mismatch)
        );
        assert_eq!(
            verify_mac(&h, "OhBehave", b"Nonc3", BODY),
            Err(MacError::Mismatch)
        );
        assert_eq!(
            verify_mac(&h, "wrong", b"Nonce", BODY),
            Err(MacError::Mismatch)
        );
    }
}

#[test]
fn dm_sec_hmac_algorithm_mismatch_fails() {
    // An MD5 mac announced as SHA-256 must not verify.
    let md5 = compute_mac(MacAlgorithm::Md5, "Bruce2", "OhBehave", b"Nonce", BODY);
    let h = HmacHeader::new(MacAlgorithm::Sha256, "Bruce2", &md5).unwrap();
    assert_eq!(
        verify_mac(&h, "OhBehave", b"Nonce", BODY),
        Err(MacError::Mismatch)
    );
}

#[test]
fn dm_sec_hmac_unpadded_mac_accepted() {
    let h = HmacHeader::parse(r#"username="Bruce2", mac=sApUT+tgL0x3wdVOn5GGlA"#).unwrap();
    assert_eq!(verify_mac(&h, "OhBehave", b"Nonce", BODY), Ok(()));
}

#[test]
fn dm_sec_hmac_error_statuses() {
    assert_eq!(MacError::Missing.status(), 407);
    assert_eq!(MacError::Mismatch.status(), 401);
    let h = HmacHeader::parse("username=u, mac=***").unwrap();
    let err = verify_mac(&h, "p", b"", b"").unwrap_err();
    assert_eq!(err, MacError::InvalidBase64);
    assert_eq!(err.status(), 401);
}

proptest! {
    #[test]
    fn parse_never_panics(s in ".{0,200}") {
        let _ = HmacHeader::parse(&s);
    }

    #[test]
    fn display_parse_round_trip(user in "[^\\x00-\\x1f\\x7f]{0,40}", alg in prop_oneof![Just(MacAlgorithm::Md5), Just(MacAlgorithm::Sha256)]) {
        let h = HmacHeader::sign(alg, &user, "pw", b"n", b"body").unwrap();
        let back = HmacHeader::parse(&h.to_header_value()).unwrap();
        prop_assert_eq!(&back, &h);
        prop_assert!(verify_mac(&back, "pw", b"n", b"body").is_ok());
    }
}
