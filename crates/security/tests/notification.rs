//! Package #0 digest (DIGEST.md §4.1; DIGEST-1.3.md §1.4, provisional for 1.3).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use omadm_security::notification::{
    build12, build13, digest12, verify, verify12, verify13, verify_with_resync, NonceUsed,
    NotificationError, ZERO_NONCE_ASCII, ZERO_NONCE_BYTES,
};
use omadm_syncml::pkg0::v13::{DigestAlg, VERSION_13};
use omadm_syncml::pkg0::{
    Digest13, Initiator, Notification12, Notification13, NotificationType, Pkg0Error, UiMode,
};

const SERVER_ID: &str = "com.mgmtsrv.manage";
const PASSWORD: &str = "secret";
const VECTOR: &str = "4e94c58c36a8c50aabcdbe0c296b2ba7";

fn trigger() -> Vec<u8> {
    let mut t = vec![0x02, 0xD0, 0x00, 0x00, 0x00, 0x12, 0x34, 0x12];
    t.extend_from_slice(SERVER_ID.as_bytes());
    t
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn package(digest: &[u8]) -> Vec<u8> {
    let mut p = digest.to_vec();
    p.extend_from_slice(&trigger());
    p
}

#[test]
fn test_vector_matches() {
    let d = digest12(SERVER_ID, PASSWORD, ZERO_NONCE_BYTES, &trigger());
    assert_eq!(hex(&d), VECTOR);
}

#[test]
fn test_vector_by_the_formula_written_out() {
    // H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger))), H = MD5, not via the crate.
    let cred = STANDARD.encode(Md5::digest(b"com.mgmtsrv.manage:secret"));
    let trig = STANDARD.encode(Md5::digest(trigger()));
    let mut input = cred.into_bytes();
    input.push(b':');
    input.extend_from_slice(&[0, 0, 0, 0]);
    input.push(b':');
    input.extend_from_slice(trig.as_bytes());
    assert_eq!(hex(&Md5::digest(&input)), VECTOR);
}

fn vector_digest() -> [u8; 16] {
    digest12(SERVER_ID, PASSWORD, ZERO_NONCE_BYTES, &trigger())
}

#[test]
fn verify_accepts_the_example_and_rejects_a_wrong_digest() {
    let good = package(&vector_digest());
    verify12(SERVER_ID, PASSWORD, ZERO_NONCE_BYTES, &good).unwrap();
    verify(
        NotificationType::Dm12,
        SERVER_ID,
        PASSWORD,
        ZERO_NONCE_BYTES,
        &good,
    )
    .unwrap();
    let mut bad = good.clone();
    bad[3] ^= 1;
    assert!(matches!(
        verify12(SERVER_ID, PASSWORD, ZERO_NONCE_BYTES, &bad),
        Err(NotificationError::DigestMismatch)
    ));
    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(matches!(
        verify12(SERVER_ID, PASSWORD, ZERO_NONCE_BYTES, &tampered),
        Err(NotificationError::DigestMismatch)
    ));
    assert!(verify12(SERVER_ID, "wrong", ZERO_NONCE_BYTES, &good).is_err());
}

#[test]
fn truncated_package_is_malformed() {
    assert!(matches!(
        verify12(SERVER_ID, PASSWORD, ZERO_NONCE_BYTES, &[0; 10]),
        Err(NotificationError::Malformed(Pkg0Error::Truncated {
            offset: 0,
            ..
        }))
    ));
    assert!(matches!(
        verify_with_resync(
            NotificationType::Dm13,
            SERVER_ID,
            PASSWORD,
            b"n",
            &[3, 0x58]
        ),
        Err(NotificationError::Malformed(Pkg0Error::Truncated { .. }))
    ));
}

#[test]
fn unknown_version_is_malformed_for_13() {
    let mut n = notification13();
    let mut bytes = build13(&mut n, DigestAlg::Md5, PASSWORD, b"n").unwrap();
    bytes[1] ^= 0x40; // version 13 → 12 in the 10-bit field
    assert!(matches!(
        verify13(SERVER_ID, PASSWORD, b"n", &bytes),
        Err(NotificationError::Malformed(
            Pkg0Error::UnsupportedVersion { .. }
        ))
    ));
}

#[test]
fn resync_tries_stored_then_both_zero_nonces() {
    let stored = b"stored-nonce";
    let with_stored = package(&digest12(SERVER_ID, PASSWORD, stored, &trigger()));
    let with_zero = package(&vector_digest());
    let with_ascii = package(&digest12(SERVER_ID, PASSWORD, ZERO_NONCE_ASCII, &trigger()));
    let ty = NotificationType::Dm12;
    assert_eq!(
        verify_with_resync(ty, SERVER_ID, PASSWORD, stored, &with_stored).unwrap(),
        NonceUsed::Stored
    );
    let used = verify_with_resync(ty, SERVER_ID, PASSWORD, stored, &with_zero).unwrap();
    assert_eq!(used, NonceUsed::ZeroBytes);
    assert!(used.is_resync());
    assert_eq!(
        verify_with_resync(ty, SERVER_ID, PASSWORD, stored, &with_ascii).unwrap(),
        NonceUsed::ZeroAscii
    );
    assert!(matches!(
        verify_with_resync(ty, SERVER_ID, "other", stored, &with_stored),
        Err(NotificationError::DigestMismatch)
    ));
}

#[test]
fn build12_fills_the_digest() {
    let mut n = Notification12 {
        digest: [0; 16],
        version: 11,
        ui_mode: UiMode::Background,
        initiator: Initiator::Client,
        session_id: 0x1234,
        server_id: SERVER_ID.into(),
        vendor: vec![],
    };
    let bytes = build12(&mut n, PASSWORD, ZERO_NONCE_BYTES).unwrap();
    assert_eq!(hex(&n.digest), VECTOR);
    assert_eq!(bytes, package(&vector_digest()));
}

fn notification13() -> Notification13 {
    Notification13 {
        version: VERSION_13,
        ui_mode: UiMode::UserInteraction,
        initiator: Initiator::Server,
        session_id: 0xAB,
        server_id: SERVER_ID.into(),
        targeted_mo: vec![],
        requested_mo: vec![3],
        preferred_bearer: vec![],
        connect_reason: None,
        vendor_info: None,
        unknown_options: vec![],
        digest: Digest13::Md5([0; 16]),
    }
}

#[test]
fn v13_md5_and_sha256_build_and_verify() {
    for alg in [DigestAlg::Md5, DigestAlg::Sha256] {
        let mut n = notification13();
        let bytes = build13(&mut n, alg, PASSWORD, b"nonce").unwrap();
        assert_eq!(n.digest.alg(), alg);
        verify13(SERVER_ID, PASSWORD, b"nonce", &bytes).unwrap();
        assert_eq!(
            verify_with_resync(NotificationType::Dm13, SERVER_ID, PASSWORD, b"x", &bytes).ok(),
            None
        );
        let mut bad = bytes.clone();
        bad[2] ^= 1; // session id is covered
        assert!(matches!(
            verify13(SERVER_ID, PASSWORD, b"nonce", &bad),
            Err(NotificationError::DigestMismatch)
        ));
    }
    // The 1.3 MD5 digest is the 1.2 construction over the bytes before the digest.
    let mut n = notification13();
    let bytes = build13(&mut n, DigestAlg::Md5, PASSWORD, b"nonce").unwrap();
    let trigger = &bytes[..bytes.len() - 16];
    assert_eq!(
        n.digest.as_bytes(),
        digest12(SERVER_ID, PASSWORD, b"nonce", trigger)
    );
}
