//! Nonce rules (DIGEST.md §3.3–§3.5, §4.1) as both engines use them.

use omadm_security::cred::{md5_digest, verify_md5, AuthScheme};
use omadm_security::nonce::{
    success_status, Challenger, Nonce, NonceState, ZERO_ASCII, ZERO_BYTES,
};

#[test]
fn dm_sec_nonce_spec_examples_decode() {
    for text in ["ZG9iZWhhdmUNCg==", "LG3iZQhhdmKNHg=="] {
        let n = Nonce::from_b64(text).unwrap();
        assert_eq!(n.to_b64(), text);
    }
}

#[test]
fn dm_sec_digest_uses_decoded_nonce_bytes() {
    let n = Nonce::from_b64("Tm9uY2U=").unwrap();
    assert_eq!(
        md5_digest("Bruce2", "OhBehave", n.as_bytes()),
        "Zz6EivR3yeaaENcRN6lpAQ=="
    );
}

#[test]
fn dm_not_zero_nonce_readings_differ() {
    assert_eq!(ZERO_BYTES, &[0u8; 4]);
    assert_eq!(ZERO_ASCII, b"0x00000000");
    let a = md5_digest("srv", "pw", ZERO_BYTES);
    let b = md5_digest("srv", "pw", ZERO_ASCII);
    assert_ne!(a, b);
    assert!(verify_md5(&a, "srv", "pw", Nonce::zero_bytes().as_bytes()).is_ok());
    assert!(verify_md5(&b, "srv", "pw", Nonce::zero_ascii().as_bytes()).is_ok());
}

#[test]
fn dm_sec_fresh_nonce_each_time() {
    let nonces: Vec<Nonce> = (0..32).map(|_| Nonce::generate()).collect();
    for (i, a) in nonces.iter().enumerate() {
        assert!(a.as_bytes().len() >= Nonce::LEN);
        assert!(nonces.iter().skip(i + 1).all(|b| b != a));
    }
}

#[test]
fn dm_sec_cred_before_chal_reuses_last_nonce() {
    let s = NonceState::new(Nonce::from_bytes(*b"stored"));
    assert_eq!(s.for_next_credential().as_bytes(), b"stored");
}

#[test]
fn dm_sec_latest_chal_nonce_accepted_commit_on_auth() {
    // Client side: server challenges twice before it has authenticated itself.
    let mut s = NonceState::new(Nonce::from_bytes(*b"stored"));
    s.on_chal(Nonce::from_bytes(*b"first"));
    s.on_chal(Nonce::from_bytes(*b"second"));
    assert_eq!(s.for_next_credential().as_bytes(), b"second");
    assert_eq!(s.current().as_bytes(), b"stored");
    s.on_authenticated();
    assert_eq!(s.current().as_bytes(), b"second");
    assert_eq!(s.for_next_credential().as_bytes(), b"second");
}

#[test]
fn dm_sec_failed_session_does_not_overwrite_nonce() {
    let mut s = NonceState::new(Nonce::from_bytes(*b"stored"));
    s.on_chal(Nonce::from_bytes(*b"rogue"));
    s.on_session_end();
    assert_eq!(s.current().as_bytes(), b"stored");
    assert_eq!(s.pending(), None);
}

#[test]
fn dm_sec_exactly_one_more_challenge_with_fresh_nonce() {
    let mut c = Challenger::new();
    let retry = c.on_failure().unwrap();
    assert!(retry.as_bytes().len() >= Nonce::LEN);
    assert_eq!(c.on_failure(), None);
    assert_eq!(c.on_failure(), None);
}

#[test]
fn dm_sec_success_status_212_basic_md5_200_hmac() {
    assert_eq!(success_status(AuthScheme::Basic), 212);
    assert_eq!(success_status(AuthScheme::Md5), 212);
    assert_eq!(success_status(AuthScheme::Hmac), 200);
}
