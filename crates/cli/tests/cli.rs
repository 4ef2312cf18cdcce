//! End-to-end tests of the `omadm` binary: `convert` and `inspect` on the shared samples.

use std::path::Path;
use std::process::Output;

mod common;

use common::{omadm, stderr, temp};
use omadm_syncml::{
    Command as DmCommand, Data, Item, ItemCommand, Location, Message, Meta, SyncBody, SyncHdr,
};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/samples/");
const LIBDMCLIENT_WBXML: &str = "libdmclient/basic_wbxml_01_client_pkg1.wbxml";

fn sample(name: &str) -> String {
    format!("{SAMPLES}{name}")
}

/// The one sample whose name starts with `prefix` in `dir` (names are long; numbers are stable).
fn sample_starting(dir: &str, prefix: &str) -> String {
    let found = std::fs::read_dir(sample(dir))
        .map(|entries| {
            entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
        })
        .ok()
        .flatten();
    match found {
        Some(p) => p.display().to_string(),
        None => panic!("no sample {dir}/{prefix}*"),
    }
}

fn ok(args: &[&str]) -> Output {
    let out = omadm(args, None);
    assert!(
        out.status.success(),
        "omadm {args:?} failed: {}",
        stderr(&out)
    );
    out
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decode(bytes: &[u8]) -> Message {
    Message::decode(bytes).unwrap_or_else(|e| panic!("decode: {e}"))
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

#[test]
fn libdmclient_wbxml_to_xml_and_back_keeps_the_model() {
    let xml = temp("pkg1.xml");
    let wbxml = temp("pkg1.wbxml");
    ok(&[
        "convert",
        &sample(LIBDMCLIENT_WBXML),
        "--to",
        "xml",
        "-o",
        path_str(&xml),
    ]);
    ok(&[
        "convert",
        path_str(&xml),
        "--to",
        "wbxml",
        "-o",
        path_str(&wbxml),
    ]);

    let xml_bytes = read(&xml);
    let wbxml_bytes = read(&wbxml);
    assert!(
        xml_bytes.starts_with(b"<?xml"),
        "{}",
        String::from_utf8_lossy(&xml_bytes)
    );
    assert_eq!(wbxml_bytes.first(), Some(&0x02), "WBXML 1.2 by default");

    let original = decode(&read(Path::new(&sample(LIBDMCLIENT_WBXML))));
    let from_xml = decode(&xml_bytes);
    let from_wbxml = decode(&wbxml_bytes);
    assert_eq!(from_xml, from_wbxml);
    assert_eq!(original, from_xml);
    assert_eq!(from_xml.body.commands.len(), 2);
    for p in [&xml, &wbxml] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn dash_means_stdin_and_stdout() {
    let input = read(Path::new(&sample(LIBDMCLIENT_WBXML)));
    let to_xml = omadm(&["convert", "-", "--to", "xml", "--pretty"], Some(&input));
    assert!(to_xml.status.success(), "{}", stderr(&to_xml));
    assert!(to_xml
        .stdout
        .starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SyncML"));

    let back = omadm(
        &["convert", "-", "-o", "-", "--to", "wbxml"],
        Some(&to_xml.stdout),
    );
    assert!(back.status.success(), "{}", stderr(&back));
    assert_eq!(decode(&back.stdout), decode(&input));

    let inspected = omadm(&["inspect", "-"], Some(&input));
    assert!(inspected.status.success(), "{}", stderr(&inspected));
    assert!(String::from_utf8_lossy(&inspected.stdout).contains("<stdin>"));
}

#[test]
fn wbxml_version_sets_the_header_byte() {
    for (version, byte) in [("1.1", 0x01u8), ("1.2", 0x02), ("1.3", 0x03)] {
        let out = ok(&[
            "convert",
            &sample(LIBDMCLIENT_WBXML),
            "--to",
            "wbxml",
            "--wbxml-version",
            version,
        ]);
        assert_eq!(out.stdout.first(), Some(&byte), "--wbxml-version {version}");
        let msg = decode(&out.stdout);
        assert_eq!(msg.hdr.msg_id.to_string(), "1");
    }
}

#[test]
fn options_of_the_other_encoding_are_usage_errors() {
    let input = sample(LIBDMCLIENT_WBXML);
    for args in [
        vec!["convert", input.as_str(), "--to", "wbxml", "--pretty"],
        vec![
            "convert",
            input.as_str(),
            "--to",
            "xml",
            "--wbxml-version",
            "1.3",
        ],
        vec![
            "convert",
            input.as_str(),
            "--to",
            "wbxml",
            "--wbxml-version",
            "2.0",
        ],
        vec!["convert", input.as_str()],
    ] {
        let out = omadm(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn inspect_shows_opaque_cmd_ids_and_header() {
    let out = ok(&["inspect", &sample_starting("windows", "04_")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Exec CmdID VERIFYHEALTHV2"), "{text}");
    assert!(text.contains("Final:"), "{text}");

    let out = ok(&["inspect", &sample(LIBDMCLIENT_WBXML)]);
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "version 1.2, public id 0x1201 (SyncML 1.2), charset 106 (UTF-8)",
        "VerProto:   DM/1.2",
        "MaxMsgSize: 16384",
        "Cred:       type syncml:auth-basic, format b64",
        "Alert CmdID 1: 1201 Client-initiated management session",
        "As XML:",
        "Source ./DevInfo/Mod",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn inspect_json_lists_nested_commands() {
    let out = ok(&["inspect", "--json", &sample_starting("windows", "22_")]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect --json is JSON");
    assert_eq!(v["encoding"], "xml");
    assert_eq!(v["command_count"], 9);
    assert_eq!(v["item_count"], 8);
    assert_eq!(v["final"], true);
    let top = v["commands"].as_array().expect("commands array");
    assert_eq!(top.len(), 1);
    assert_eq!(top[0]["name"], "Atomic");
    assert_eq!(top[0]["cmd_id"], "8000");
    let nested = top[0]["commands"].as_array().expect("nested commands");
    assert_eq!(nested.len(), 8);
    assert!(nested.iter().all(|c| c["name"] == "Add"), "{nested:?}");
    assert_eq!(nested[0]["items"][0]["meta"]["format"], "chr");
    assert_eq!(nested[0]["items"][0]["data"]["kind"], "text");
    assert!(v["other_encoding"]["size"].as_u64().is_some_and(|n| n > 0));
}

#[test]
fn inspect_json_of_wbxml_status_and_chal() {
    let out = ok(&[
        "inspect",
        "--json",
        &sample("libdmclient/basic_wbxml_02_client_pkg3.wbxml"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["wbxml"]["public_id"], "0x1201");
    assert_eq!(v["wbxml"]["version"], "1.2");
    let status = &v["commands"][0]["status"];
    assert_eq!(status["cmd"], "SyncHdr");
    assert_eq!(status["code"], "212");
    assert_eq!(status["meaning"], "Authentication accepted");
    assert_eq!(status["chal"]["type"], "syncml:auth-md5");
}

#[test]
fn malformed_xml_names_line_and_column_and_writes_nothing() {
    let input = sample_starting("windows", "19_");
    let out = omadm(&["inspect", &input], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("omadm inspect: {input}: line ")),
        "{err}"
    );
    assert!(err.contains("column"), "{err}");
    assert!(err.contains("XML declaration"), "{err}");

    // A failed convert leaves an existing output alone and no temporary file behind.
    let target = temp("kept.wbxml");
    std::fs::write(&target, b"previous").ok();
    let out = omadm(
        &["convert", &input, "--to", "wbxml", "-o", path_str(&target)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("omadm convert: "),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&target), b"previous");
    assert!(!Path::new(&format!("{}.tmp", target.display())).exists());
    std::fs::remove_file(&target).ok();
}

#[test]
fn truncated_wbxml_names_a_byte_offset() {
    let bytes = read(Path::new(&sample(LIBDMCLIENT_WBXML)));
    let cut = temp("truncated.wbxml");
    std::fs::write(&cut, &bytes[..300]).expect("write truncated");
    let out = omadm(&["convert", path_str(&cut), "--to", "xml"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(path_str(&cut)), "{err}");
    assert!(err.contains("at byte "), "{err}");
    assert!(out.stdout.is_empty());
    std::fs::remove_file(&cut).ok();
}

#[test]
fn missing_file_is_named() {
    let missing = temp("does-not-exist.xml");
    for sub in [vec!["inspect"], vec!["convert", "--to", "xml"]] {
        let mut args = sub.clone();
        args.push(path_str(&missing));
        let out = omadm(&args, None);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains(path_str(&missing)),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn garbage_is_neither_xml_nor_wbxml() {
    let out = omadm(&["convert", "-", "--to", "xml"], Some(b"garbage\x99\x00"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("<stdin>"), "{err}");
    assert!(
        err.contains("neither XML") && err.contains("nor WBXML"),
        "{err}"
    );
}

/// A message whose Data is binary OPAQUE, as a device would send a binary node value.
fn binary_message() -> Message {
    let item = Item {
        target: Some(Location::new("./Vendor/Bin")),
        data: Some(Data::Opaque(vec![0xFF, 0x00, 0x10, 0x80])),
        ..Item::default()
    };
    Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.2".into(),
            session_id: "1".into(),
            msg_id: "1".into(),
            target: Location::new("http://dm.example/"),
            source: Location::new("IMEI:1"),
            ..SyncHdr::default()
        },
        body: SyncBody {
            commands: vec![DmCommand::Replace(ItemCommand {
                cmd_id: "2".into(),
                items: vec![item],
                ..ItemCommand::default()
            })],
            final_: true,
        },
    }
}

#[test]
fn binary_data_becomes_base64_with_format_b64() {
    let input = temp("binary.wbxml");
    std::fs::write(&input, binary_message().to_wbxml()).expect("write input");
    let out = ok(&["convert", path_str(&input), "--to", "xml"]);
    assert!(
        stderr(&out).contains(
            "Item ./Vendor/Bin: binary Data (4 bytes) written as base64; Format set to b64"
        ),
        "{}",
        stderr(&out)
    );
    let xml_len = out.stdout.len();
    let msg = decode(&out.stdout);
    let item = &msg.body.commands[0].items()[0];
    assert_eq!(item.data.as_ref().and_then(Data::as_text), Some("/wAQgA=="));
    assert_eq!(
        item.meta.as_ref().and_then(|m| m.format.as_deref()),
        Some("b64")
    );

    // inspect announces the size convert writes, rewrite included.
    let out = ok(&["inspect", "--json", path_str(&input)]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["other_encoding"]["rewritten_items"], 1);
    assert_eq!(
        v["other_encoding"]["size"].as_u64(),
        u64::try_from(xml_len).ok()
    );
    std::fs::remove_file(&input).ok();
}

/// `<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>x</NodeName></Node></MgmtTree>` as TNDS WBXML.
fn tnds_wbxml() -> Vec<u8> {
    use omadm_wbxml::{tables::DMDDF_12, PublicId, Version, Writer};
    let tok = |name: &str| DMDDF_12.tag_token(name).map(|(_, t)| t).expect("DDF tag");
    let mut w = Writer::new(
        Vec::new(),
        Version::V1_2,
        PublicId::Literal(DMDDF_12.fpi),
        106,
    );
    w.start(2, tok("MgmtTree"), true);
    w.start(2, tok("VerDTD"), true);
    w.str_i("1.2").expect("text");
    w.end();
    w.start(2, tok("Node"), true);
    w.start(2, tok("NodeName"), true);
    w.str_i("x").expect("text");
    w.end();
    w.end();
    w.end();
    w.finish()
}

#[test]
fn nested_tnds_wbxml_becomes_xml_and_its_type_follows() {
    let mut msg = binary_message();
    let meta = Meta {
        type_: Some("application/vnd.syncml.dmtnds+wbxml".into()),
        ..Meta::default()
    };
    if let DmCommand::Replace(c) = &mut msg.body.commands[0] {
        c.items[0].data = Some(Data::Opaque(tnds_wbxml()));
        c.items[0].meta = Some(meta);
    }
    let input = temp("tnds.wbxml");
    std::fs::write(&input, msg.to_wbxml()).expect("write input");

    let inspected = ok(&["inspect", "--json", path_str(&input)]);
    let v: serde_json::Value = serde_json::from_slice(&inspected.stdout).expect("JSON");
    assert_eq!(v["commands"][0]["items"][0]["data"]["nested_wbxml"], true);

    let out = ok(&["convert", path_str(&input), "--to", "xml"]);
    assert!(stderr(&out).contains("nested WBXML"), "{}", stderr(&out));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(
        xml.contains(
            "<Data><MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>x</NodeName></Node></MgmtTree></Data>"
        ),
        "{xml}"
    );
    let back = decode(&out.stdout);
    let item = &back.body.commands[0].items()[0];
    assert_eq!(item.data.as_ref().map(Data::kind), Some("xml"));
    assert_eq!(
        item.meta.as_ref().and_then(|m| m.type_.as_deref()),
        Some("application/vnd.syncml.dmtnds+xml")
    );
    std::fs::remove_file(&input).ok();
}
