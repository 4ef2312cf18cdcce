//! Sessionless Report Messages (OMA DM Sessionless Reporting 1.3 §5, SCR B.1 DM-SR-C-001..008).

use omadm_client::sessionless::{build_report_message, Report, ReportCred, ReportError};
use omadm_security::cred::{self, AuthScheme};
use omadm_syncml::{Command, Data, Encoding, Message};

const SPEC_EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../syncml/testdata/spec/slrep_5.3_report.xml"
);

fn md5_cred(nonce: &[u8]) -> ReportCred {
    ReportCred {
        scheme: AuthScheme::Md5,
        name: "device".into(),
        password: "dev-secret".into(),
        nonce: nonce.to_vec(),
    }
}

fn report(mark: &str, type_: &str, source: &str) -> Report {
    Report {
        alert_type: type_.into(),
        format: "xml".into(),
        mark: Some(mark.into()),
        source: Some(source.into()),
        data: "<!-- Sessionless Report Alert data goes here -->".into(),
    }
}

/// The two reports of the §5.3 example.
fn example_reports() -> Vec<Report> {
    vec![
        report("informational", "urn:oma:mo:samplealert1:1.0", "./MOA/ExtA"),
        report("critical", "urn:oma:mo:samplealert2:1.0", "./MOB/ExtB"),
    ]
}

fn build(reports: &[Report]) -> Message {
    build_report_message(
        "IMEI:493005100592800",
        "http://www.syncml.org/mgmt-server",
        reports,
        md5_cred(b"last-nonce"),
        10_000,
    )
    .unwrap()
}

fn alerts(m: &Message) -> Vec<&omadm_syncml::Alert> {
    m.body
        .commands
        .iter()
        .map(|c| match c {
            Command::Alert(a) => a,
            other => panic!("not an Alert: {other:?}"),
        })
        .collect()
}

#[test]
fn dm_sr_c_001_matches_the_spec_example_shape() {
    let spec = Message::from_xml(&std::fs::read(SPEC_EXAMPLE).unwrap()).unwrap();
    let ours = build(&example_reports());
    assert_eq!(ours.hdr.ver_dtd, spec.hdr.ver_dtd);
    assert_eq!(ours.hdr.ver_proto.trim(), spec.hdr.ver_proto.trim());
    assert_eq!(ours.hdr.session_id, spec.hdr.session_id);
    assert_eq!(ours.hdr.msg_id, spec.hdr.msg_id);
    assert_eq!(ours.hdr.target, spec.hdr.target);
    assert_eq!(ours.hdr.source, spec.hdr.source);
    assert_eq!(ours.body.final_, spec.body.final_);
    let (a, b) = (alerts(&ours), alerts(&spec));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.data, y.data);
        assert_eq!(x.items.len(), y.items.len());
        let (i, j) = (&x.items[0], &y.items[0]);
        assert_eq!(i.source, j.source);
        assert_eq!(i.target, j.target);
        let (m, n) = (i.meta.as_ref().unwrap(), j.meta.as_ref().unwrap());
        assert_eq!(m.format, n.format);
        assert_eq!(m.type_.as_deref(), n.type_.as_deref().map(str::trim));
        assert_eq!(m.mark(), n.mark());
        assert_eq!(
            i.data.as_ref().unwrap().as_text().map(str::trim),
            j.data.as_ref().unwrap().as_text().map(str::trim)
        );
        assert!(matches!(j.data, Some(Data::Cdata(_))));
    }
    // The example elides its Cred ("</Cred>" alone); ours carries one (DM-SR-C-006).
    assert!(spec.hdr.cred.is_none());
    assert!(ours.hdr.cred.is_some());
    // It encodes both ways and reads back the same.
    let xml = ours.to_xml().unwrap();
    assert_eq!(Message::from_xml(&xml).unwrap(), ours);
    assert_eq!(Message::from_wbxml(&ours.to_wbxml()).unwrap(), ours);
}

#[test]
fn dm_sr_c_002_alert_code_is_1230() {
    for a in alerts(&build(&example_reports())) {
        assert_eq!(a.data.as_deref(), Some("1230"));
    }
}

#[test]
fn dm_sr_c_003_one_item_per_alert() {
    for a in alerts(&build(&example_reports())) {
        assert_eq!(a.items.len(), 1);
    }
}

#[test]
fn dm_sr_c_004_data_is_cdata() {
    let mut r = example_reports();
    r[0].data = "<a>&</a>".into();
    let m = build(&r);
    for a in alerts(&m) {
        assert!(matches!(a.items[0].data, Some(Data::Cdata(_))));
    }
    let xml = String::from_utf8(m.to_xml().unwrap()).unwrap();
    assert!(xml.contains("<![CDATA[<a>&</a>]]>"), "{xml}");
}

#[test]
fn dm_sr_c_005_meta_type_and_format_required() {
    let m = build(&example_reports());
    for a in alerts(&m) {
        let meta = a.items[0].meta.as_ref().unwrap();
        assert!(meta.type_.is_some() && meta.format.is_some());
    }
    for bad in [
        Report {
            alert_type: String::new(),
            ..example_reports().remove(0)
        },
        Report {
            format: " ".into(),
            ..example_reports().remove(0)
        },
    ] {
        let e = build_report_message("dev", "srv", &[bad], md5_cred(b"n"), 10_000);
        assert!(matches!(e, Err(ReportError::MissingMeta { index: 0 })));
    }
}

#[test]
fn dm_sr_c_006_cred_and_session_zero() {
    let m = build(&example_reports());
    assert_eq!(m.hdr.session_id, "0");
    let c = m.hdr.cred.as_ref().unwrap();
    let meta = c.meta.as_ref().unwrap();
    assert_eq!(meta.type_.as_deref(), Some("syncml:auth-md5"));
    assert_eq!(meta.format.as_deref(), Some("b64"));
    let basic = build_report_message(
        "dev",
        "srv",
        &example_reports(),
        ReportCred {
            scheme: AuthScheme::Basic,
            ..md5_cred(b"")
        },
        10_000,
    )
    .unwrap();
    let c = basic.hdr.cred.unwrap();
    assert_eq!(c.data, cred::basic("device", "dev-secret"));
    let hmac = build_report_message(
        "dev",
        "srv",
        &example_reports(),
        ReportCred {
            scheme: AuthScheme::Hmac,
            ..md5_cred(b"")
        },
        10_000,
    );
    assert!(matches!(hmac, Err(ReportError::SchemeNotInCred(_))));
}

#[test]
fn dm_sr_c_007_body_only_report_alerts() {
    let m = build(&example_reports());
    assert_eq!(m.body.commands.len(), 2);
    assert!(alerts(&m).iter().all(|a| a.data.as_deref() == Some("1230")));
    assert!(matches!(
        build_report_message("dev", "srv", &[], md5_cred(b"n"), 10_000),
        Err(ReportError::Empty)
    ));
}

#[test]
fn dm_sr_c_008_md5_uses_the_last_nonce() {
    let m = build(&example_reports());
    let data = &m.hdr.cred.as_ref().unwrap().data;
    assert_eq!(
        data.as_str(),
        cred::md5_digest("device", "dev-secret", b"last-nonce")
    );
    assert_ne!(
        data.as_str(),
        cred::md5_digest("device", "dev-secret", b"other")
    );
}

#[test]
fn report_size_within_max_msg_size() {
    let m = build(&example_reports());
    let len = m
        .encoded_len(Encoding::Xml)
        .unwrap()
        .max(m.encoded_len(Encoding::Wbxml).unwrap());
    let exact = build_report_message(
        "IMEI:493005100592800",
        "http://www.syncml.org/mgmt-server",
        &example_reports(),
        md5_cred(b"last-nonce"),
        len,
    );
    assert!(exact.is_ok());
    let e = build_report_message(
        "IMEI:493005100592800",
        "http://www.syncml.org/mgmt-server",
        &example_reports(),
        md5_cred(b"last-nonce"),
        len - 1,
    );
    assert!(matches!(e, Err(ReportError::TooLarge { .. })));
}
