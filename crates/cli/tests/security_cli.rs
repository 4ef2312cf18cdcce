//! End-to-end tests of `omadm bootstrap` (and `omadm notify` when present).

mod common;

use common::{stderr, stdout, TempFile};

use omadm_security::bootstrap::{self, SecMethod};

const PIN: &str = "1234";
const IMSI: &str = "001010123456789";

fn omadm(args: &[&str]) -> std::process::Output {
    common::omadm(args, None)
}

fn build(method: &str, node: Option<&str>) -> (TempFile, String) {
    let out = TempFile::empty("bs.wbxml");
    let mut args = vec![
        "bootstrap",
        "build",
        "--server-id",
        "dm.example.com",
        "--addr",
        "https://dm.example.com/dm",
        "--port",
        "443",
        "--name",
        "Example DM",
        "--client-name",
        "device1",
        "--client-secret",
        "clientpw",
        "--server-secret",
        "serverpw",
        "--sec",
        method,
        "--pin",
        PIN,
        "--network-secret",
        IMSI,
        "-o",
        out.path(),
    ];
    if let Some(n) = node {
        args.extend(["--node", n]);
    }
    let o = omadm(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    let ct = line
        .trim()
        .strip_prefix("Content-Type: ")
        .unwrap_or_else(|| panic!("no Content-Type line: {line}"))
        .to_owned();
    (out, ct)
}

fn mac_of(ct: &str) -> &str {
    ct.rsplit_once("MAC=").map_or("", |(_, m)| m)
}

#[test]
fn build_then_verify_every_method() {
    for (method, m) in [
        ("NETWORKID", SecMethod::NetworkId),
        ("USERPIN", SecMethod::UserPin),
        ("USERPIN_NETWORKID", SecMethod::UserPinNetworkId),
    ] {
        let (file, ct) = build(method, None);
        assert!(
            ct.starts_with(&format!(
                "application/vnd.syncml.dm+wbxml; SEC={method}; MAC="
            )),
            "{ct}"
        );
        // The printed MAC is the HMAC-SHA1 of the file's bytes.
        let want = bootstrap::mac(m, Some(IMSI.as_bytes()), Some(PIN), &file.read());
        assert_eq!(want.ok().as_deref(), Some(mac_of(&ct)));
        let o = omadm(&[
            "bootstrap",
            "verify",
            file.path(),
            "--sec",
            method,
            "--mac",
            mac_of(&ct),
            "--pin",
            PIN,
            "--network-secret",
            IMSI,
        ]);
        assert!(o.status.success(), "{method}: {}", stderr(&o));
        assert!(stdout(&o).contains("MAC verifies"), "{}", stdout(&o));
        let o = omadm(&[
            "bootstrap",
            "verify",
            file.path(),
            "--content-type",
            &ct,
            "--pin",
            PIN,
            "--network-secret",
            IMSI,
        ]);
        assert!(o.status.success(), "{method}: {}", stderr(&o));
    }
}

#[test]
fn wrong_pin_fails_with_exit_1() {
    let (file, ct) = build("USERPIN", None);
    let o = omadm(&[
        "bootstrap",
        "verify",
        file.path(),
        "--sec",
        "USERPIN",
        "--mac",
        mac_of(&ct),
        "--pin",
        "9999",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("omadm bootstrap verify: "), "{err}");
    assert!(err.contains("MAC does not verify"), "{err}");
    assert!(stdout(&o).is_empty());

    // A missing secret is named.
    let o = omadm(&[
        "bootstrap",
        "verify",
        file.path(),
        "--sec",
        "USERPIN",
        "--mac",
        mac_of(&ct),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("needs the user PIN"), "{}", stderr(&o));

    // A malformed MAC.
    let o = omadm(&[
        "bootstrap",
        "verify",
        file.path(),
        "--sec",
        "USERPIN",
        "--mac",
        "abc",
        "--pin",
        PIN,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("40 hex digits"), "{}", stderr(&o));
}

#[test]
fn tampered_file_fails() {
    let (file, ct) = build("NETWORKID", None);
    let mut bytes = file.read();
    if let Some(b) = bytes.last_mut() {
        *b ^= 1;
    }
    let bad = TempFile::with("bad.wbxml", &bytes);
    let o = omadm(&[
        "bootstrap",
        "verify",
        bad.path(),
        "--content-type",
        &ct,
        "--network-secret",
        IMSI,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("MAC does not verify"), "{}", stderr(&o));
}

#[test]
fn apply_shows_the_account_and_hides_secrets() {
    let (file, ct) = build("USERPIN", Some("acc"));
    let o = omadm(&[
        "bootstrap",
        "verify",
        file.path(),
        "--content-type",
        &ct,
        "--pin",
        PIN,
        "--apply",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("./DMAcc/acc (urn:oma:mo:oma-dm-dmacc:1.0)"),
        "{out}"
    );
    assert!(
        out.contains("./DMAcc/acc/ServerID (text/plain) = \"dm.example.com\""),
        "{out}"
    );
    assert!(
        out.contains("./DMAcc/acc/AppAddr/1/Port/1/PortNbr"),
        "{out}"
    );
    assert!(
        !out.contains("clientpw") && !out.contains("serverpw"),
        "{out}"
    );
}

#[test]
fn apply_into_a_tree_that_has_the_name_picks_another() {
    let (file, ct) = build("USERPIN", Some("acc"));
    let tree = TempFile::with(
        "tree.xml",
        br#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>DMAcc</NodeName><RTProperties><Format><node/></Format></RTProperties>
<Node><NodeName>acc</NodeName><RTProperties><Format><node/></Format></RTProperties></Node>
</Node></MgmtTree>"#,
    );
    let o = omadm(&[
        "bootstrap",
        "verify",
        file.path(),
        "--content-type",
        &ct,
        "--pin",
        PIN,
        "--tree",
        tree.path(),
        "--apply",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("./DMAcc/acc2 ("), "{}", stdout(&o));
}

#[test]
fn usage_errors_exit_2() {
    let (file, _) = build("USERPIN", None);
    for args in [
        vec!["bootstrap", "verify", file.path(), "--sec", "USERPIN"],
        vec![
            "bootstrap",
            "verify",
            file.path(),
            "--sec",
            "NETWPIN",
            "--mac",
            "00",
        ],
        vec!["bootstrap", "verify", file.path(), "--tree", "x.xml"],
    ] {
        let o = omadm(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = omadm(&["bootstrap", "build", "--help"]);
    assert!(stdout(&o).contains("USERPIN_NETWORKID"));
}

/// DIGEST.md §4.1: the spec's worked example, with our test vector for password `secret` and
/// the nonce as 4 zero bytes.
const EXAMPLE_DIGEST: &str = "4e94c58c36a8c50aabcdbe0c296b2ba7";

fn example_package() -> Vec<u8> {
    let mut p: Vec<u8> = (0..EXAMPLE_DIGEST.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&EXAMPLE_DIGEST[i..i + 2], 16).ok())
        .collect();
    p.extend_from_slice(&[0x02, 0xD0, 0x00, 0x00, 0x00, 0x12, 0x34, 0x12]);
    p.extend_from_slice(b"com.mgmtsrv.manage");
    p
}

fn notify_build(extra: &[&str]) -> TempFile {
    let out = TempFile::empty("pkg0.bin");
    let mut args = vec![
        "notify",
        "build",
        "--server-id",
        "com.mgmtsrv.manage",
        "--password",
        "secret",
        "--nonce-b64",
        "AAAAAA==",
        "--session-id",
        "1234",
        "-o",
        out.path(),
    ];
    args.extend_from_slice(extra);
    let o = omadm(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

#[test]
fn notify_build_reproduces_the_spec_example() {
    let f = notify_build(&["--ui-mode", "background", "--initiator", "client"]);
    assert_eq!(f.read(), example_package());
}

#[test]
fn notify_decode_the_spec_example_as_sms() {
    let mut sms = vec![0x06, 0x05, 0x04, 0x0B, 0x84, 0xC0, 0x02];
    sms.extend_from_slice(&[0x01, 0x06, 0x03, 0xC4, 0xAF, 0x87]);
    sms.extend_from_slice(&example_package());
    let f = TempFile::with("sms.bin", &sms);
    let o = omadm(&[
        "notify",
        "decode",
        f.path(),
        "--udh",
        "--password",
        "secret",
        "--nonce-b64",
        "AAAAAA==",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "wdp-ports: 49154 -> 2948",
        "format: 1.2",
        "version: 11",
        "ui-mode: background",
        "initiator: client",
        "session-id: 1234",
        "server-id: com.mgmtsrv.manage",
        EXAMPLE_DIGEST,
        "digest verifies\n",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
}

#[test]
fn notify_decode_falls_back_to_the_zero_nonce_and_fails_on_a_wrong_password() {
    let f = TempFile::with("pkg0.bin", &example_package());
    let o = omadm(&[
        "notify",
        "decode",
        f.path(),
        "--password",
        "secret",
        "--nonce-b64",
        "Tm9uY2U=",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("resynchronisation nonce 0x00000000 (4 zero bytes)"),
        "{}",
        stdout(&o)
    );

    let o = omadm(&[
        "notify",
        "decode",
        f.path(),
        "--password",
        "wrong",
        "--nonce-b64",
        "AAAAAA==",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("omadm notify decode: "),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("does not match"), "{}", stderr(&o));

    // Without credentials the fields are printed and nothing is checked.
    let o = omadm(&["notify", "decode", f.path()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("verifies"));
}

#[test]
fn notify_1_3_round_trip_over_wsp() {
    for hash in ["md5", "sha256"] {
        let f = notify_build(&[
            "--format", "1.3", "--hash", hash, "--wsp", "--vendor", "cafe",
        ]);
        let o = omadm(&[
            "notify",
            "decode",
            f.path(),
            "--wsp",
            "--password",
            "secret",
            "--nonce-b64",
            "AAAAAA==",
        ]);
        assert!(o.status.success(), "{hash}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("format: 1.3"), "{out}");
        assert!(out.contains("vendor: cafe"), "{out}");
        assert!(out.contains("initiator: server"), "{out}");
        assert!(out.contains("digest verifies"), "{out}");
    }
}

#[test]
fn notify_usage_errors_exit_2() {
    let out = TempFile::empty("x.bin");
    for args in [
        vec![
            "notify",
            "build",
            "--server-id",
            "s",
            "--password",
            "p",
            "--nonce-b64",
            "!!",
            "--session-id",
            "1",
            "-o",
            out.path(),
        ],
        vec![
            "notify",
            "build",
            "--server-id",
            "s",
            "--password",
            "p",
            "--nonce-b64",
            "AA==",
            "--session-id",
            "12345",
            "-o",
            out.path(),
        ],
        vec!["notify", "decode", out.path(), "--password", "p"],
    ] {
        let o = omadm(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}
