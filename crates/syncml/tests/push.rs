//! WAP Push framing with the bytes of the DM 1.2 worked SMS example (DIGEST.md §4.1).

use omadm_syncml::pkg0::{Notification, Notification12, NotificationType};
use omadm_syncml::push::{
    decode_wdp_udh, read_uintvar, wdp_udh_ports, write_uintvar, PushError, WdpPorts,
    WspContentType, WspPush, APP_ID_SYNCML_DM, DM_PUSH_PORT,
};

const UDH: [u8; 7] = [0x06, 0x05, 0x04, 0x0B, 0x84, 0xC0, 0x02];
const WSP: [u8; 6] = [0x01, 0x06, 0x03, 0xC4, 0xAF, 0x87];

fn body() -> Vec<u8> {
    let mut b = vec![0x11; 16];
    b.extend_from_slice(&[0x02, 0xD0, 0x00, 0x00, 0x00, 0x12, 0x34, 0x12]);
    b.extend_from_slice(b"com.mgmtsrv.manage");
    b
}

fn sms() -> Vec<u8> {
    let mut s = UDH.to_vec();
    s.extend_from_slice(&WSP);
    s.extend_from_slice(&body());
    s
}

#[test]
fn udh_of_the_example() {
    assert_eq!(DM_PUSH_PORT, 2948);
    assert_eq!(wdp_udh_ports(DM_PUSH_PORT, 0xC002), UDH);
    let (ports, at) = decode_wdp_udh(&sms()).unwrap();
    assert_eq!(
        ports,
        WdpPorts {
            dest: 2948,
            src: 0xC002
        }
    );
    assert_eq!(at, 7);
}

#[test]
fn wsp_push_of_the_example() {
    let s = sms();
    let push = WspPush::decode(&s[7..]).unwrap();
    assert_eq!(
        push,
        WspPush {
            transaction_id: 1,
            content_type: WspContentType::Notification,
            app_id: APP_ID_SYNCML_DM,
            body: body(),
        }
    );
    assert_eq!(push.encode().unwrap(), s[7..].to_vec());
    let ty = push.content_type.notification_type().unwrap();
    assert_eq!(ty, NotificationType::Dm12);
    match Notification::decode(&push.body, ty).unwrap() {
        Notification::V12(n) => {
            assert_eq!(n.version, 11);
            assert_eq!(n.server_id, "com.mgmtsrv.manage");
        }
        other => panic!("{other:?}"),
    }
    assert!(Notification12::decode(&push.body).is_ok());
}

#[test]
fn content_type_codes() {
    for (ct, code) in [
        (WspContentType::Notification, 0x44),
        (WspContentType::DmNotification, 0x58),
        (WspContentType::DmWbxml, 0x42),
        (WspContentType::DmXml, 0x43),
    ] {
        assert_eq!(ct.code(), code);
        assert_eq!(WspContentType::from_code(code | 0x80), ct);
        assert!(ct.mime().is_some());
    }
    assert_eq!(
        WspContentType::DmNotification.notification_type(),
        Some(NotificationType::Dm13)
    );
    assert_eq!(WspContentType::DmWbxml.notification_type(), None);
}

#[test]
fn other_headers_are_skipped() {
    // Content type, an X-WAP-Initiator-URI-like text header (0x80|0x37 with a text value),
    // a value-length header, then the app id.
    let mut pdu = vec![0x05, 0x06, 0x00, 0xC4];
    pdu.extend_from_slice(&[0xB7]);
    pdu.extend_from_slice(b"http://x\0");
    pdu.extend_from_slice(&[0x8E, 0x02, 0x01, 0x02]);
    pdu.extend_from_slice(b"X-Foo\0bar\0");
    pdu.extend_from_slice(&[0xAF, 0x87]);
    pdu[2] = (pdu.len() - 3) as u8;
    pdu.extend_from_slice(b"BODY");
    let push = WspPush::decode(&pdu).unwrap();
    assert_eq!(push.app_id, 7);
    assert_eq!(push.body, b"BODY");
}

#[test]
fn malformed_pushes() {
    assert!(matches!(
        WspPush::decode(&[0x01, 0x07, 0x03, 0xC4, 0xAF, 0x87]),
        Err(PushError::NotPush { offset: 1, .. })
    ));
    assert!(matches!(
        WspPush::decode(&[0x01, 0x06, 0x01, 0xC4]),
        Err(PushError::MissingAppId { .. })
    ));
    assert!(matches!(
        WspPush::decode(&[0x01, 0x06, 0x02, 0x03, 0x44]),
        Err(PushError::ContentTypeNotCode { offset: 3, .. })
    ));
    for len in 0..WSP.len() {
        assert!(WspPush::decode(&WSP[..len]).is_err(), "length {len}");
    }
    assert!(decode_wdp_udh(&UDH[..5]).is_err());
    assert!(matches!(
        decode_wdp_udh(&[0x03, 0x00, 0x01, 0x00]),
        Err(PushError::NoPorts { offset: 4 })
    ));
    let bad = WspPush {
        transaction_id: 0,
        content_type: WspContentType::Notification,
        app_id: 0x80,
        body: vec![],
    };
    assert!(bad.encode().is_err());
}

#[test]
fn uintvar_round_trip() {
    for v in [0u32, 1, 0x7F, 0x80, 0x3FFF, 0x4000, u32::MAX] {
        let mut out = Vec::new();
        write_uintvar(&mut out, v);
        assert_eq!(read_uintvar(&out, 0).unwrap(), (v, out.len()));
    }
    let mut out = Vec::new();
    write_uintvar(&mut out, 0x80);
    assert_eq!(out, [0x81, 0x00]);
    assert!(read_uintvar(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], 0).is_err());
}
