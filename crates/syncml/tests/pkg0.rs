//! Package #0 wire format: the DM 1.2 worked example (DIGEST.md §4.1) and the provisional 1.3 layout.

use omadm_syncml::pkg0::v13::{HEADER_13, VERSION_13};
use omadm_syncml::pkg0::{
    session_id_text, Digest13, Initiator, Notification, Notification12, Notification13,
    NotificationType, Pkg0Error, RawOption, UiMode, MAX_PKG0_LEN,
};

const DIGEST: [u8; 16] = [
    0x4e, 0x94, 0xc5, 0x8c, 0x36, 0xa8, 0xc5, 0x0a, 0xab, 0xcd, 0xbe, 0x0c, 0x29, 0x6b, 0x2b, 0xa7,
];

/// The body of the spec's worked SMS example, after the digest.
fn example_trigger() -> Vec<u8> {
    let mut t = vec![0x02, 0xD0, 0x00, 0x00, 0x00, 0x12, 0x34, 0x12];
    t.extend_from_slice(b"com.mgmtsrv.manage");
    t
}

fn example_package() -> Vec<u8> {
    let mut p = DIGEST.to_vec();
    p.extend_from_slice(&example_trigger());
    p
}

fn example_fields() -> Notification12 {
    Notification12 {
        digest: DIGEST,
        version: 11,
        ui_mode: UiMode::Background,
        initiator: Initiator::Client,
        session_id: 0x1234,
        server_id: "com.mgmtsrv.manage".into(),
        vendor: Vec::new(),
    }
}

#[test]
fn worked_sms_example_decodes() {
    let n = Notification12::decode(&example_package()).unwrap();
    assert_eq!(n, example_fields());
    assert_eq!(n.session_id_text(), "1234");
}

#[test]
fn worked_sms_example_encodes_to_the_same_bytes() {
    let n = example_fields();
    assert_eq!(n.encode().unwrap(), example_package());
    assert_eq!(n.trigger_bytes().unwrap(), example_trigger());
    let package = example_package();
    let (d, t) = Notification12::split(&package).unwrap();
    assert_eq!(d, &DIGEST);
    assert_eq!(t, example_trigger().as_slice());
}

#[test]
fn dispatch_by_content_type() {
    let ty = NotificationType::from_wsp(0xC4).unwrap();
    assert_eq!(ty, NotificationType::Dm12);
    assert_eq!(
        NotificationType::from_mime("Application/vnd.syncml.dm.notification; x=1"),
        Some(NotificationType::Dm13)
    );
    assert_eq!(
        NotificationType::from_wsp(0x58),
        Some(NotificationType::Dm13)
    );
    assert_eq!(NotificationType::from_mime("text/plain"), None);
    let n = Notification::decode(&example_package(), ty).unwrap();
    assert_eq!(n.server_id(), "com.mgmtsrv.manage");
    assert_eq!(n.session_id_text(), "1234");
    assert_eq!(n.ui_mode(), UiMode::Background);
    assert_eq!(n.initiator(), Initiator::Client);
    // The 1.2 bytes are not a valid 1.3 notification.
    assert!(Notification::decode(&example_package(), NotificationType::Dm13).is_err());
}

#[test]
fn session_id_text_is_uppercase_hex_without_leading_zeros() {
    assert_eq!(session_id_text(0x1234), "1234");
    assert_eq!(session_id_text(0x00AB), "AB");
    assert_eq!(session_id_text(0xBEEF), "BEEF");
    assert_eq!(session_id_text(0x0001), "1");
}

#[test]
fn version_12_and_all_modes_round_trip() {
    for (ui, init) in [
        (UiMode::NotSpecified, Initiator::Server),
        (UiMode::Informative, Initiator::Client),
        (UiMode::UserInteraction, Initiator::Server),
    ] {
        let n = Notification12 {
            version: 12,
            ui_mode: ui,
            initiator: init,
            vendor: vec![1, 2, 3],
            ..example_fields()
        };
        assert_eq!(Notification12::decode(&n.encode().unwrap()).unwrap(), n);
    }
}

#[test]
fn unknown_version_is_rejected_naming_the_value() {
    let mut p = example_package();
    // version 13: 0000001101 → first byte 0x03, second 0x40 | ui/initiator bits
    p[16] = 0x03;
    p[17] = 0x50;
    let err = Notification12::decode(&p).unwrap_err();
    assert_eq!(
        err,
        Pkg0Error::UnsupportedVersion {
            offset: 16,
            version: 13
        }
    );
    assert!(err.to_string().contains("13"));
}

#[test]
fn future_use_bits_are_rejected() {
    let mut p = example_package();
    p[20] = 0x01;
    assert!(matches!(
        Notification12::decode(&p),
        Err(Pkg0Error::ReservedBits { offset: 17, .. })
    ));
}

#[test]
fn truncation_at_every_length_names_an_offset() {
    let p = example_package();
    for len in 0..p.len() {
        match Notification12::decode(&p[..len]) {
            Err(Pkg0Error::Truncated { offset, .. }) => assert!(offset <= len),
            other => panic!("length {len}: {other:?}"),
        }
    }
}

#[test]
fn empty_and_non_utf8_server_id_rejected() {
    let mut p = example_package();
    p[23] = 0;
    p.truncate(24);
    assert_eq!(
        Notification12::decode(&p),
        Err(Pkg0Error::EmptyServerId { offset: 24 })
    );
    let mut p = example_package();
    p[24] = 0xFF;
    assert!(matches!(
        Notification12::decode(&p),
        Err(Pkg0Error::NotUtf8 { offset: 24, .. })
    ));
}

#[test]
fn size_limits() {
    let big = vec![0u8; MAX_PKG0_LEN + 1];
    assert!(matches!(
        Notification12::decode(&big),
        Err(Pkg0Error::TooLarge { .. })
    ));
    let n = Notification12 {
        server_id: "x".repeat(256),
        ..example_fields()
    };
    assert!(matches!(n.encode(), Err(Pkg0Error::FieldOverflow { .. })));
}

// ---- DM 1.3, PROVISIONAL layout (DIGEST-1.3.md §1.4) ----

fn example13() -> Notification13 {
    Notification13 {
        version: VERSION_13,
        ui_mode: UiMode::Background,
        initiator: Initiator::Server,
        session_id: 0x1234,
        server_id: "com.mgmtsrv.manage".into(),
        targeted_mo: vec![5, 0x0102],
        requested_mo: vec![],
        preferred_bearer: vec![1],
        connect_reason: Some("fw".into()),
        vendor_info: None,
        unknown_options: vec![RawOption {
            option: 9,
            value: vec![0xAA],
        }],
        digest: Digest13::Md5(DIGEST),
    }
}

#[test]
fn v13_header_packs_as_the_proposal_says() {
    assert_eq!(HEADER_13.len, 5);
    let bytes = example13().encode().unwrap();
    assert_eq!(&bytes[..2], &[0x03, 0x58]);
    assert_eq!(&bytes[2..4], &[0x12, 0x34]);
    assert_eq!(bytes[4], 6); // options
    assert_eq!(&bytes[5..7], &[0x10, 0x12]);
    assert_eq!(&bytes[7..25], b"com.mgmtsrv.manage");
    assert_eq!(&bytes[25..28], &[0x20, 0x01, 0x05]);
    assert_eq!(&bytes[28..32], &[0x20, 0x02, 0x01, 0x02]);
    assert_eq!(&bytes[bytes.len() - 16..], &DIGEST);
}

#[test]
fn v13_round_trips_md5_and_sha256() {
    let n = example13();
    assert_eq!(Notification13::decode(&n.encode().unwrap()).unwrap(), n);
    let n = Notification13 {
        digest: Digest13::Sha256([7; 32]),
        vendor_info: Some(vec![0xFF, 0]),
        connect_reason: None,
        unknown_options: vec![],
        ..example13()
    };
    let bytes = n.encode().unwrap();
    assert_eq!(Notification13::decode(&bytes).unwrap(), n);
    let (trigger, digest) = Notification13::split(&bytes).unwrap();
    assert_eq!(digest, &[7; 32]);
    assert_eq!(trigger, n.trigger_bytes().unwrap().as_slice());
}

fn v13_with(options: &[(u8, &[u8])], digest_len: usize) -> Vec<u8> {
    let mut b = vec![0x03, 0x58, 0x00, 0x01, options.len() as u8];
    for (o, v) in options {
        b.extend_from_slice(&((u16::from(*o) << 12) | v.len() as u16).to_be_bytes());
        b.extend_from_slice(v);
    }
    b.extend(std::iter::repeat_n(0u8, digest_len));
    b
}

#[test]
fn v13_rules() {
    let sid: &[u8] = b"srv";
    assert!(Notification13::decode(&v13_with(&[(1, sid)], 16)).is_ok());
    assert!(matches!(
        Notification13::decode(&v13_with(&[(1, sid)], 20)),
        Err(Pkg0Error::DigestLength {
            offset: 10,
            len: 20
        })
    ));
    assert!(matches!(
        Notification13::decode(&v13_with(&[(2, &[1])], 16)),
        Err(Pkg0Error::MissingServerId { .. })
    ));
    assert!(matches!(
        Notification13::decode(&v13_with(&[(1, sid), (1, sid)], 16)),
        Err(Pkg0Error::DuplicateOption {
            offset: 10,
            option: 1
        })
    ));
    assert!(matches!(
        Notification13::decode(&v13_with(&[(2, &[1]), (1, sid)], 16)),
        Err(Pkg0Error::OptionOrder {
            offset: 8,
            option: 1,
            previous: 2
        })
    ));
    assert!(matches!(
        Notification13::decode(&v13_with(&[(1, sid), (2, &[])], 16)),
        Err(Pkg0Error::EmptyOption { option: 2, .. })
    ));
    assert!(matches!(
        Notification13::decode(&v13_with(&[(1, sid), (2, &[1, 2, 3])], 16)),
        Err(Pkg0Error::OptionLength {
            option: 2,
            len: 3,
            ..
        })
    ));
    // Repeats of ZeroOrMore options and unknown options are fine.
    let n = Notification13::decode(&v13_with(
        &[(1, sid), (3, &[1]), (3, &[0, 2]), (4, &[9]), (12, &[1, 2])],
        32,
    ))
    .unwrap();
    assert_eq!(n.requested_mo, vec![1, 2]);
    assert_eq!(n.preferred_bearer, vec![9]);
    assert_eq!(n.unknown_options.len(), 1);
    let mut bad = v13_with(&[(1, sid)], 16);
    bad[1] = 0x98; // version 14
    assert!(matches!(
        Notification13::decode(&bad),
        Err(Pkg0Error::UnsupportedVersion { version: 14, .. })
    ));
    let full = v13_with(&[(1, sid)], 16);
    for len in 0..full.len() {
        assert!(
            Notification13::decode(&full[..len]).is_err(),
            "length {len}"
        );
    }
}
