//! Every message of ../shared/spec/samples decodes (19 and 20 of windows/ are rejected with a
//! position), re-encodes in both encodings, and decodes again to the same model.

use std::path::{Path, PathBuf};

use omadm_syncml::{Command, Data, ErrorKind, Message, Position};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/samples")
}

fn read(rel: &str) -> Vec<u8> {
    let p = samples_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn files(dir: &str, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(samples_dir().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(ext))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    v.sort();
    v
}

fn round_trips(m: &Message, name: &str) {
    let xml = m.to_xml().unwrap_or_else(|e| panic!("{name}: to_xml: {e}"));
    let back = Message::from_xml(&xml).unwrap_or_else(|e| {
        panic!(
            "{name}: reparse xml: {e}\n{}",
            String::from_utf8_lossy(&xml)
        )
    });
    assert_eq!(&back, m, "{name}: XML round trip");
    let wb = m.to_wbxml();
    let back = Message::from_wbxml(&wb).unwrap_or_else(|e| panic!("{name}: reparse wbxml: {e}"));
    assert_eq!(&back, m, "{name}: WBXML round trip");
    assert_eq!(
        m.encoded_len(omadm_syncml::Encoding::Xml).unwrap(),
        xml.len(),
        "{name}: exact XML size"
    );
    assert_eq!(
        m.encoded_len(omadm_syncml::Encoding::Wbxml).unwrap(),
        wb.len(),
        "{name}: exact WBXML size"
    );
    let pretty = m
        .to_xml_with(omadm_syncml::XmlOptions {
            pretty: true,
            declaration: true,
        })
        .unwrap();
    assert_eq!(
        &Message::from_xml(&pretty).unwrap(),
        m,
        "{name}: pretty XML round trip"
    );
}

#[test]
fn every_windows_sample_decodes_and_round_trips() {
    let all = files("windows", ".xml");
    assert_eq!(all.len(), 22);
    for name in all {
        let bytes = read(&name);
        let rejected = name.contains("/19_") || name.contains("/20_");
        match Message::decode(&bytes) {
            Ok(m) => {
                assert!(!rejected, "{name} is not well-formed and must be rejected");
                round_trips(&m, &name);
            }
            Err(e) => {
                assert!(rejected, "{name}: {e}");
                assert!(matches!(e.kind, ErrorKind::Forbidden { .. }), "{name}: {e}");
                assert!(matches!(e.position, Position::LineColumn { .. }));
                let msg = e.to_string();
                assert!(
                    msg.contains("line ") && msg.contains("XML declaration"),
                    "{msg}"
                );
            }
        }
    }
}

#[test]
fn every_libdmclient_sample_decodes_and_round_trips() {
    for name in files("libdmclient", ".xml")
        .into_iter()
        .chain(files("libdmclient", ".wbxml"))
    {
        let m = Message::decode(&read(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        round_trips(&m, &name);
    }
}

#[test]
fn libdmclient_wbxml_captures_match_their_decoded_xml() {
    for stem in ["basic_wbxml_01_client_pkg1", "basic_wbxml_02_client_pkg3"] {
        let wb = Message::from_wbxml(&read(&format!("libdmclient/{stem}.wbxml"))).unwrap();
        let xml = Message::from_xml(&read(&format!("libdmclient/{stem}.decoded.xml"))).unwrap();
        assert_eq!(wb, xml, "{stem}");
    }
}

#[test]
fn windows_quirks_are_tolerated() {
    // 02: misspelt metinf namespace, leading space in Type, duplicate CmdID.
    let m = Message::decode(&read(
        "windows/02_client_pkg1_generic_alert_1226_unenroll.xml",
    ))
    .unwrap();
    let Command::Alert(a) = &m.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.data.as_deref(), Some("1226"));
    let meta = a.items[0].meta.as_ref().unwrap();
    assert_eq!(
        meta.type_.as_deref(),
        Some("com.microsoft:mdm.unenrollment.userrequest")
    );
    assert_eq!(meta.format.as_deref(), Some("int"));
    assert_eq!(m.body.commands[1].cmd_id(), "2");
    // 04: opaque CmdID, whitespace around LocURI, JSON kept verbatim, no SyncHdr.
    let m = Message::decode(&read(
        "windows/04_server_exec_healthattestation_triggerattestation.xml",
    ))
    .unwrap();
    assert!(m.hdr.is_empty());
    let Command::Exec(e) = &m.body.commands[0] else {
        panic!()
    };
    assert_eq!(e.cmd_id, "VERIFYHEALTHV2");
    assert_eq!(
        e.items[0].target.as_ref().unwrap().loc_uri,
        "./Vendor/MSFT/HealthAttestation/TriggerAttestation"
    );
    assert!(e.items[0]
        .data
        .as_ref()
        .unwrap()
        .as_text()
        .unwrap()
        .contains("rpID : \"rpID\""));
    // 03: raw nested XML inside Data is kept verbatim.
    let m = Message::decode(&read(
        "windows/03_client_status_results_diagnosticlog_archiveresults.xml",
    ))
    .unwrap();
    let Command::Results(r) = &m.body.commands[2] else {
        panic!()
    };
    match r.items[0].data.as_ref().unwrap() {
        Data::Xml(s) => {
            assert!(s.contains("<Collection HRESULT=\"0\">") && s.contains("</Collection>"))
        }
        d => panic!("expected raw XML, got {d:?}"),
    }
    // 12: CDATA with U+F000 separators kept as sent.
    let m = Message::decode(&read("windows/12_server_replace_admx_multitext.xml")).unwrap();
    let d = m.body.commands[0].items()[0].data.as_ref().unwrap();
    assert!(matches!(d, Data::Cdata(_)));
    assert!(d.as_text().unwrap().contains("snot.exe&#xF000;C:"));
    // 21: ?list=StructData query kept in the LocURI.
    let m = Message::decode(&read(
        "windows/21_server_get_devicestatus_networkidentifiers_list_structdata.xml",
    ))
    .unwrap();
    assert_eq!(
        m.body.commands[0].items()[0]
            .target
            .as_ref()
            .unwrap()
            .loc_uri,
        "./Vendor/MSFT/DeviceStatus/NetworkIdentifiers?list=StructData"
    );
    // 22: Atomic with eight lower-case <add> children.
    let m = Message::decode(&read(
        "windows/22_server_atomic_lowercase_add_enterpriseapn.xml",
    ))
    .unwrap();
    let Command::Atomic(at) = &m.body.commands[0] else {
        panic!()
    };
    assert_eq!(at.commands.len(), 8);
    assert!(at.commands.iter().all(|c| matches!(c, Command::Add(_))));
}
