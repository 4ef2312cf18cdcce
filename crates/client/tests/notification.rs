//! Server-alerted sessions from package #0 (DIGEST.md §4.1).

use omadm_client::notification::{
    NotificationHandler, NotificationRejected, DUPLICATE_WINDOW_SECS,
};
use omadm_security::notification::{build12, build13};
use omadm_syncml::pkg0::v12::VERSION_11;
use omadm_syncml::pkg0::v13::{DigestAlg, VERSION_13};
use omadm_syncml::pkg0::{
    Digest13, Initiator, Notification12, Notification13, NotificationType, UiMode,
};
use omadm_tree::stdobj::{add_dmacc, AppAuth, DmAcc};
use omadm_tree::Tree;

/// The DIGEST §4.1 worked example's server, password and resynchronisation nonce.
const SERVER: &str = "com.mgmtsrv.manage";
const PASSWORD: &str = "secret";
const ZERO: &[u8] = &[0, 0, 0, 0];
const T0: u64 = 1_000_000;

fn device(stored_nonce: &[u8]) -> Tree {
    let mut t = Tree::default();
    let auth = |level: &str, name: &str, secret: &str, data: &[u8]| AppAuth {
        level: level.into(),
        auth_type: "DIGEST".into(),
        name: name.into(),
        secret: secret.into(),
        data: data.to_vec(),
    };
    add_dmacc(
        &mut t,
        &DmAcc {
            node: "MgmtSrv".into(),
            server_id: SERVER.into(),
            name: None,
            pref_con_ref: None,
            addrs: vec![("https://mgmtsrv.example/dm".into(), "URI".into(), vec![])],
            aauth_pref: None,
            auths: vec![
                auth("CLCRED", "device", "client-secret", b"client-nonce"),
                auth("SRVCRED", SERVER, PASSWORD, stored_nonce),
            ],
        },
    )
    .unwrap();
    t
}

fn note(server_id: &str, ui_mode: UiMode, session_id: u16) -> Notification12 {
    Notification12 {
        digest: [0; 16],
        version: VERSION_11,
        ui_mode,
        initiator: Initiator::Client,
        session_id,
        server_id: server_id.into(),
        vendor: Vec::new(),
    }
}

/// The DIGEST §4.1 example package: ui-mode background, client initiated, session 0x1234.
fn example(password: &str, nonce: &[u8]) -> Vec<u8> {
    build12(
        &mut note(SERVER, UiMode::Background, 0x1234),
        password,
        nonce,
    )
    .unwrap()
}

#[test]
fn spec_example_matches_digest_test_vector() {
    let bytes = example(PASSWORD, ZERO);
    let hex: String = bytes[..16].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "4e94c58c36a8c50aabcdbe0c296b2ba7");
    assert_eq!(bytes[16..21], [0x02, 0xD0, 0x00, 0x00, 0x00]);
}

#[test]
fn zero_nonce_match_is_accepted_with_resync() {
    let tree = device(b"stale-nonce");
    let req = NotificationHandler::new()
        .handle(&tree, &example(PASSWORD, ZERO), NotificationType::Dm12, T0)
        .unwrap();
    assert!(req.resync);
    assert_eq!(req.server_id, SERVER);
    assert_eq!(req.account_node, "MgmtSrv");
    assert_eq!(req.session_id_text, "1234");
    assert_eq!(req.ui_mode, UiMode::Background);
    assert_eq!(req.initiator, Initiator::Client);
    assert!(req.requested_mos.is_empty());
    assert!(!req.needs_user_consent());
}

#[test]
fn stored_nonce_match_is_accepted_without_resync() {
    let tree = device(b"current-nonce");
    let req = NotificationHandler::new()
        .handle(
            &tree,
            &example(PASSWORD, b"current-nonce"),
            NotificationType::Dm12,
            T0,
        )
        .unwrap();
    assert!(!req.resync);
    // The stored nonce being the zero nonce itself is no resynchronisation.
    let tree = device(ZERO);
    let req = NotificationHandler::new()
        .handle(&tree, &example(PASSWORD, ZERO), NotificationType::Dm12, T0)
        .unwrap();
    assert!(!req.resync);
}

#[test]
fn wrong_password_is_rejected() {
    let tree = device(ZERO);
    let err = NotificationHandler::new()
        .handle(&tree, &example("wrong", ZERO), NotificationType::Dm12, T0)
        .unwrap_err();
    assert!(matches!(err, NotificationRejected::DigestMismatch), "{err}");
}

#[test]
fn unknown_server_is_rejected() {
    let tree = device(ZERO);
    let bytes = build12(
        &mut note("other.server", UiMode::Background, 1),
        PASSWORD,
        ZERO,
    )
    .unwrap();
    let err = NotificationHandler::new()
        .handle(&tree, &bytes, NotificationType::Dm12, T0)
        .unwrap_err();
    assert!(
        matches!(err, NotificationRejected::NoAccount { .. }),
        "{err}"
    );
}

#[test]
fn truncated_package_is_malformed() {
    let tree = device(ZERO);
    let bytes = example(PASSWORD, ZERO);
    let err = NotificationHandler::new()
        .handle(&tree, &bytes[..20], NotificationType::Dm12, T0)
        .unwrap_err();
    assert!(matches!(err, NotificationRejected::Malformed(_)), "{err}");
}

#[test]
fn duplicate_session_is_ignored_within_window_only() {
    let tree = device(ZERO);
    let bytes = example(PASSWORD, ZERO);
    let mut h = NotificationHandler::new();
    h.handle(&tree, &bytes, NotificationType::Dm12, T0).unwrap();
    let err = h
        .handle(&tree, &bytes, NotificationType::Dm12, T0 + 10)
        .unwrap_err();
    assert!(
        matches!(&err, NotificationRejected::Duplicate { session_id, .. } if session_id == "1234"),
        "{err}"
    );
    // Another session id of the same server is a new session.
    let other = build12(&mut note(SERVER, UiMode::Background, 0xAB), PASSWORD, ZERO).unwrap();
    let req = h
        .handle(&tree, &other, NotificationType::Dm12, T0 + 20)
        .unwrap();
    assert_eq!(req.session_id_text, "AB");
    h.handle(
        &tree,
        &bytes,
        NotificationType::Dm12,
        T0 + DUPLICATE_WINDOW_SECS - 1,
    )
    .unwrap_err();
    h.handle(
        &tree,
        &bytes,
        NotificationType::Dm12,
        T0 + DUPLICATE_WINDOW_SECS,
    )
    .unwrap();
}

#[test]
fn rejected_package_does_not_mark_session_started() {
    let tree = device(ZERO);
    let mut h = NotificationHandler::new();
    h.handle(&tree, &example("wrong", ZERO), NotificationType::Dm12, T0)
        .unwrap_err();
    h.handle(&tree, &example(PASSWORD, ZERO), NotificationType::Dm12, T0)
        .unwrap();
}

#[test]
fn ui_mode_decides_consent() {
    let tree = device(ZERO);
    let mut h = NotificationHandler::new();
    for (sid, mode, consent) in [
        (1, UiMode::UserInteraction, true),
        (2, UiMode::Informative, false),
        (3, UiMode::Background, false),
        (4, UiMode::NotSpecified, false),
    ] {
        let bytes = build12(&mut note(SERVER, mode, sid), PASSWORD, ZERO).unwrap();
        let req = h.handle(&tree, &bytes, NotificationType::Dm12, T0).unwrap();
        assert_eq!(req.needs_user_consent(), consent, "{mode:?}");
        assert_eq!(req.shows_message(), mode == UiMode::Informative);
    }
}

#[test]
fn dm13_requested_mos_are_returned() {
    let tree = device(b"n13");
    let mut n = Notification13 {
        version: VERSION_13,
        ui_mode: UiMode::Informative,
        initiator: Initiator::Server,
        session_id: 0x0042,
        server_id: SERVER.into(),
        targeted_mo: vec![],
        requested_mo: vec![7, 300],
        preferred_bearer: vec![],
        connect_reason: None,
        vendor_info: None,
        unknown_options: vec![],
        digest: Digest13::Md5([0; 16]),
    };
    let bytes = build13(&mut n, DigestAlg::Sha256, PASSWORD, b"n13").unwrap();
    let req = NotificationHandler::new()
        .handle(&tree, &bytes, NotificationType::Dm13, T0)
        .unwrap();
    assert_eq!(req.requested_mos, vec![7, 300]);
    assert_eq!(req.session_id_text, "42");
    assert_eq!(req.initiator, Initiator::Server);
    assert!(!req.resync);
}
