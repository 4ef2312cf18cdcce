//! DM Security credentials against the spec's worked values (DIGEST.md §3.1–§3.3).

use omadm_security::cred::{
    basic, md5_digest, md5_digest_from_secret, md5_stored_secret, parse_basic, verify_basic,
    verify_md5, verify_md5_with_secret, AuthScheme, CredError,
};
use proptest::prelude::*;

#[test]
fn dm_sec_scheme_meta_types() {
    assert_eq!(AuthScheme::Basic.meta_type(), "syncml:auth-basic");
    assert_eq!(AuthScheme::Md5.meta_type(), "syncml:auth-md5");
    assert_eq!(AuthScheme::Hmac.meta_type(), "syncml:auth-MAC");
    assert_eq!(
        AuthScheme::from_meta_type("SYNCML:AUTH-mac"),
        Some(AuthScheme::Hmac)
    );
    assert_eq!(AuthScheme::from_meta_type("syncml:auth-digipass"), None);
}

#[test]
fn dm_sec_aauth_types() {
    assert_eq!(AuthScheme::Basic.aauth_type(), "BASIC");
    assert_eq!(AuthScheme::Md5.aauth_type(), "DIGEST");
    assert_eq!(AuthScheme::Hmac.aauth_type(), "HMAC");
    assert_eq!(AuthScheme::from_aauth_type("digest"), Some(AuthScheme::Md5));
    assert_eq!(AuthScheme::from_aauth_type("HTTP-DIGEST"), None);
}

#[test]
fn dm_sec_basic_spec_vector() {
    assert_eq!(basic("Bruce2", "OhBehave"), "QnJ1Y2UyOk9oQmVoYXZl");
    assert_eq!(
        verify_basic("QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehave"),
        Ok(())
    );
    let cred = parse_basic("QnJ1Y2UyOk9oQmVoYXZl").unwrap();
    assert_eq!(cred.username, "Bruce2");
    assert_eq!(cred.password, "OhBehave");
}

#[test]
fn dm_sec_basic_wrong_password_is_401() {
    let err = verify_basic("QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehavf").unwrap_err();
    assert_eq!(err, CredError::Invalid);
    assert_eq!(err.status(), 401);
}

#[test]
fn dm_sec_basic_password_may_contain_colons() {
    let cred = parse_basic(&basic("user", "a:b:c")).unwrap();
    assert_eq!(
        (cred.username.as_str(), cred.password.as_str()),
        ("user", "a:b:c")
    );
}

#[test]
fn dm_sec_basic_malformed() {
    assert_eq!(parse_basic("***"), Err(CredError::InvalidBase64));
    // "nocolon"
    assert_eq!(parse_basic("bm9jb2xvbg=="), Err(CredError::MalformedBasic));
    // 0xff 0xfe: not UTF-8
    assert_eq!(parse_basic("//4="), Err(CredError::MalformedBasic));
    assert_eq!(CredError::Missing.status(), 407);
}

#[test]
fn dm_sec_md5_digest_spec_vector() {
    assert_eq!(
        md5_digest("Bruce2", "OhBehave", b"Nonce"),
        "Zz6EivR3yeaaENcRN6lpAQ=="
    );
    assert_eq!(
        verify_md5("Zz6EivR3yeaaENcRN6lpAQ==", "Bruce2", "OhBehave", b"Nonce"),
        Ok(())
    );
}

#[test]
fn dm_sec_md5_digest_wrong_readings_do_not_match() {
    let d = md5_digest("Bruce2", "OhBehave", b"Nonce");
    // DIGEST.md §3.3: MD5 of `Bruce2:OhBehave:Nonce`, and the formula without the inner B64.
    for wrong in ["UmkqAAZhiQvXXhfaf/u+OQ==", "rsHCZ5DWrfjZfxvC+nPnFg=="] {
        assert_ne!(d, wrong);
        assert_eq!(
            verify_md5(wrong, "Bruce2", "OhBehave", b"Nonce"),
            Err(CredError::Invalid)
        );
    }
    // Case matters: `...EncRN6lpAQ==` is not the vector.
    assert_eq!(
        verify_md5("Zz6EivR3yeaaEncRN6lpAQ==", "Bruce2", "OhBehave", b"Nonce"),
        Err(CredError::Invalid)
    );
    // The nonce is the raw bytes, not its b64 text.
    assert_ne!(md5_digest("Bruce2", "OhBehave", b"Tm9uY2U="), d);
}

#[test]
fn dm_sec_md5_authenticator_stores_only_the_secret() {
    let secret = md5_stored_secret("Bruce2", "OhBehave");
    assert_eq!(secret.len(), 24);
    assert_eq!(
        md5_digest_from_secret(&secret, b"Nonce"),
        "Zz6EivR3yeaaENcRN6lpAQ=="
    );
    assert_eq!(
        verify_md5_with_secret("Zz6EivR3yeaaENcRN6lpAQ==", &secret, b"Nonce"),
        Ok(())
    );
    assert_eq!(
        verify_md5_with_secret("Zz6EivR3yeaaENcRN6lpAQ==", &secret, b"nonce"),
        Err(CredError::Invalid)
    );
}

#[test]
fn dm_sec_md5_bad_base64_is_401() {
    let err = verify_md5("%%%", "Bruce2", "OhBehave", b"Nonce").unwrap_err();
    assert_eq!(err, CredError::InvalidBase64);
    assert_eq!(err.status(), 401);
}

proptest! {
    #[test]
    fn basic_round_trips(user in "[^:]{0,20}", password in ".{0,20}") {
        let data = basic(&user, &password);
        let cred = parse_basic(&data).unwrap();
        prop_assert_eq!(&cred.username, &user);
        prop_assert_eq!(&cred.password, &password);
        prop_assert!(verify_basic(&data, &user, &password).is_ok());
    }

    #[test]
    fn md5_verifies_only_its_own_nonce(
        nonce in proptest::collection::vec(any::<u8>(), 0..32),
        other in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let d = md5_digest("u", "p", &nonce);
        prop_assert!(verify_md5(&d, "u", "p", &nonce).is_ok());
        prop_assert_eq!(verify_md5(&d, "u", "p", &other).is_ok(), nonce == other);
    }
}
