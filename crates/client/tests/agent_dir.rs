//! The device state directory: factory init, device.toml, the tree lock, the alert and update
//! queues.

use std::time::Duration;

use omadm_client::agent::alerts::GenericAlert;
use omadm_client::agent::config::{BootstrapSecrets, FumoConfig};
use omadm_client::agent::init::{init, InitParams};
use omadm_client::agent::{account, AgentError, DeviceConfig, DeviceDir, ExecHook, Program};
use omadm_security::cred::AuthScheme;
use omadm_tree::{Caller, Tree};

fn params(auth: AuthScheme) -> InitParams {
    InitParams {
        device_id: "IMEI:493005100592800".into(),
        server_url: "https://dm.example/dm".into(),
        server_id: "dm.example".into(),
        client_name: "device".into(),
        client_secret: "dev-secret".into(),
        server_secret: "srv-secret".into(),
        auth,
        encoding: Default::default(),
        account_node: None,
        fumo: true,
    }
}

fn text(t: &Tree, uri: &str) -> String {
    let v = t
        .get(Caller::Device, uri)
        .unwrap_or_else(|e| panic!("{uri}: {e}"));
    String::from_utf8(v.data).unwrap()
}

fn fresh() -> (tempfile::TempDir, DeviceDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = DeviceDir::new(tmp.path().join("dev"));
    (tmp, dir)
}

#[test]
fn init_writes_the_factory_tree() {
    let (_tmp, dir) = fresh();
    let config = init(&dir, &params(AuthScheme::Md5), false).unwrap();
    assert_eq!(dir.load_config().unwrap(), config);
    let t = dir.read_tree().unwrap();
    assert_eq!(text(&t, "./DevInfo/DevId"), "IMEI:493005100592800");
    assert_eq!(text(&t, "./DevInfo/Man"), "omadm");
    assert_eq!(text(&t, "./DevInfo/Mod"), "omadm-device");
    assert_eq!(text(&t, "./DevInfo/DmV"), env!("CARGO_PKG_VERSION"));
    assert_eq!(text(&t, "./DevInfo/Lang"), "en-US");
    assert_eq!(text(&t, "./DevDetail/LrgObj"), "true");
    assert_eq!(text(&t, "./DevDetail/DevTyp"), "device");
    assert!(t.resolve("./Inbox").is_ok());
    let acc = "./DMAcc/dm.example";
    assert_eq!(text(&t, &format!("{acc}/ServerID")), "dm.example");
    assert_eq!(text(&t, &format!("{acc}/AAuthPref")), "DIGEST");
    assert_eq!(
        text(&t, &format!("{acc}/AppAddr/1/Addr")),
        "https://dm.example/dm"
    );
    assert_eq!(text(&t, &format!("{acc}/AppAddr/1/AddrType")), "URI");
    let cl = format!("{acc}/AppAuth/1");
    assert_eq!(text(&t, &format!("{cl}/AAuthLevel")), "CLCRED");
    assert_eq!(text(&t, &format!("{cl}/AAuthType")), "DIGEST");
    assert_eq!(text(&t, &format!("{cl}/AAuthName")), "device");
    assert_eq!(text(&t, &format!("{cl}/AAuthSecret")), "dev-secret");
    assert_eq!(text(&t, &format!("{cl}/AAuthData")), "");
    let srv = format!("{acc}/AppAuth/2");
    assert_eq!(text(&t, &format!("{srv}/AAuthLevel")), "SRVCRED");
    assert_eq!(text(&t, &format!("{srv}/AAuthType")), "DIGEST");
    assert_eq!(text(&t, &format!("{srv}/AAuthName")), "dm.example");
    assert_eq!(text(&t, &format!("{srv}/AAuthSecret")), "srv-secret");
    // The account belongs to its server; secrets are never readable by it.
    assert!(t
        .get(Caller::Server("dm.example"), &format!("{acc}/ServerID"))
        .is_ok());
    assert!(t
        .get(Caller::Server("dm.example"), &format!("{srv}/AAuthSecret"))
        .is_err());
    assert_eq!(text(&t, "./FUMO/1/State"), "10");
}

#[test]
fn init_auth_hmac_makes_both_credentials_hmac() {
    let (_tmp, dir) = fresh();
    let mut p = params(AuthScheme::Hmac);
    p.fumo = false;
    p.account_node = Some("A1".into());
    init(&dir, &p, false).unwrap();
    let t = dir.read_tree().unwrap();
    assert_eq!(text(&t, "./DMAcc/A1/AAuthPref"), "HMAC");
    assert_eq!(text(&t, "./DMAcc/A1/AppAuth/1/AAuthType"), "HMAC");
    assert_eq!(text(&t, "./DMAcc/A1/AppAuth/2/AAuthType"), "HMAC");
    assert!(t.resolve("./FUMO").is_err());
    let acc = account::find(&t, "dm.example").unwrap();
    let cred = acc.preferred_client_cred().unwrap();
    assert_eq!(cred.scheme, Some(AuthScheme::Hmac));
    assert_eq!(cred.name, "device");
    assert!(matches!(
        account::find(&t, "nobody"),
        Err(AgentError::NoAccount { .. })
    ));
}

#[test]
fn init_refuses_an_existing_tree_unless_forced() {
    let (_tmp, dir) = fresh();
    init(&dir, &params(AuthScheme::Basic), false).unwrap();
    dir.queue_alert(alert("x")).unwrap();
    let e = init(&dir, &params(AuthScheme::Basic), false).unwrap_err();
    assert!(matches!(e, AgentError::Exists { .. }), "{e}");
    assert!(e.to_string().contains("tree.bin"), "{e}");
    init(&dir, &params(AuthScheme::Basic), true).unwrap();
    assert!(
        dir.queued_alerts().unwrap().is_empty(),
        "--force empties the queues"
    );
}

#[test]
fn config_round_trips_through_toml() {
    let (_tmp, dir) = fresh();
    init(&dir, &params(AuthScheme::Md5), false).unwrap();
    let mut c = DeviceConfig::new("dev", "srv", "http://127.0.0.1:1/dm");
    c.bootstrap = BootstrapSecrets {
        network_secret: Some("234150000000001".into()),
        pin: None,
    };
    c.exec.push(ExecHook {
        uri: "./Vendor/Reboot".into(),
        program: "/bin/true".into(),
        args: vec!["-x".into()],
        async_: true,
        alert_type: Some("urn:oma:at:vendor:1.0:reboot".into()),
        mark: Some("critical".into()),
        timeout_secs: Some(5),
    });
    c.fumo = FumoConfig {
        download: Some(Program {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "cat".into()],
        }),
        update: None,
        timeout_secs: None,
    };
    dir.save_config(&c).unwrap();
    assert_eq!(dir.load_config().unwrap(), c);
    let text = std::fs::read_to_string(dir.config_path()).unwrap();
    assert!(text.contains("async = true"), "{text}");
}

#[test]
fn bad_config_names_the_file() {
    let (_tmp, dir) = fresh();
    init(&dir, &params(AuthScheme::Md5), false).unwrap();
    std::fs::write(dir.config_path(), "device_id = 3\n").unwrap();
    let e = dir.load_config().unwrap_err().to_string();
    assert!(e.contains("device.toml"), "{e}");
}

#[test]
fn tree_lock_saves_and_applies_queued_updates() {
    let (_tmp, dir) = fresh();
    init(&dir, &params(AuthScheme::Md5), false).unwrap();
    dir.queue_update("./FUMO/1/State", "30").unwrap();
    dir.queue_update("./Gone/Leaf", "x").unwrap();
    let mut lock = dir.lock_tree(Duration::from_secs(5)).unwrap();
    assert_eq!(text(lock.tree(), "./FUMO/1/State"), "30");
    assert_eq!(
        lock.skipped_updates().len(),
        1,
        "a node that is gone is skipped"
    );
    // Queued while the lock is held: not in this tree, kept for the next one.
    dir.queue_update("./FUMO/1/State", "40").unwrap();
    lock.tree_mut()
        .replace(Caller::Device, "./DevDetail/FwV", None, None, b"2.0")
        .unwrap();
    lock.save().unwrap();
    drop(lock);
    let left = dir.queued_updates().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].value, "40");
    let t = Tree::load(&dir.tree_path()).unwrap();
    assert_eq!(text(&t, "./DevDetail/FwV"), "2.0");
    assert_eq!(text(&t, "./FUMO/1/State"), "30");
    assert_eq!(text(&dir.read_tree().unwrap(), "./FUMO/1/State"), "40");
}

#[test]
fn the_tree_lock_is_exclusive() {
    let (_tmp, dir) = fresh();
    init(&dir, &params(AuthScheme::Md5), false).unwrap();
    let held = dir.lock_tree(Duration::from_secs(5)).unwrap();
    let other = DeviceDir::new(dir.root());
    let e = other.lock_tree(Duration::from_millis(100)).unwrap_err();
    assert!(matches!(e, AgentError::Locked { .. }), "{e}");
    drop(held);
    other.lock_tree(Duration::from_secs(5)).unwrap();
}

fn alert(data: &str) -> GenericAlert {
    GenericAlert {
        correlator: Some("c1".into()),
        source: Some("./Vendor/X".into()),
        alert_type: "urn:oma:at:vendor:1.0:x".into(),
        format: "chr".into(),
        mark: None,
        data: data.into(),
    }
}

#[test]
fn alerts_queue_in_order_and_are_removed_by_id() {
    let (_tmp, dir) = fresh();
    init(&dir, &params(AuthScheme::Md5), false).unwrap();
    let a = dir.queue_alert(alert("1")).unwrap();
    let b = dir.queue_alert(alert("2")).unwrap();
    assert!(b > a);
    let q = dir.queued_alerts().unwrap();
    assert_eq!(
        q.iter().map(|x| x.alert.data.as_str()).collect::<Vec<_>>(),
        ["1", "2"]
    );
    dir.remove_alerts(&[a]).unwrap();
    let q = dir.queued_alerts().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].id, b);
    // The alert as sent in package #1 (DM Protocol 1.3 §6.7.1).
    let omadm_syncml::Command::Alert(cmd) = q[0].alert.to_command("7") else {
        panic!("not an Alert")
    };
    assert_eq!(cmd.data.as_deref(), Some("1226"));
    assert_eq!(cmd.correlator.as_deref(), Some("c1"));
    let item = &cmd.items[0];
    assert_eq!(item.source.as_ref().unwrap().loc_uri, "./Vendor/X");
    let meta = item.meta.as_ref().unwrap();
    assert_eq!(meta.type_.as_deref(), Some("urn:oma:at:vendor:1.0:x"));
    assert_eq!(meta.format.as_deref(), Some("chr"));
}
