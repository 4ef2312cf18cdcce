//! FUMO with real /bin/sh programs: State moves as the operation runs, the Generic Alert is
//! queued with the Correlator, and the tree gets the State at the next lock.

use std::time::Duration;

use omadm_security::cred::AuthScheme;
use omadm_tree::plugin::{ExecOutcome, Plugins};
use omadm_tree::{Caller, Tree};

use super::{FumoState, Operation};
use crate::agent::init::{init, InitParams};
use crate::agent::{DeviceConfig, DeviceDir, FumoConfig, Program};

const SRV: &str = "dm.example";

fn sh(body: &str) -> Program {
    Program {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), body.into()],
    }
}

struct Device {
    _tmp: tempfile::TempDir,
    dir: DeviceDir,
    config: DeviceConfig,
}

fn device(fumo: FumoConfig) -> Device {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let dir = DeviceDir::new(tmp.path().join("dev"));
    let p = InitParams {
        device_id: "dev-1".into(),
        server_url: "http://127.0.0.1:9/dm".into(),
        server_id: SRV.into(),
        client_name: "device".into(),
        client_secret: "s".into(),
        server_secret: "ss".into(),
        auth: AuthScheme::Md5,
        encoding: Default::default(),
        account_node: None,
        fumo: true,
    };
    let mut config = init(&dir, &p, false).unwrap_or_else(|e| panic!("init: {e}"));
    config.fumo = fumo;
    Device {
        _tmp: tmp,
        dir,
        config,
    }
}

impl Device {
    /// The tree under the lock, with PkgURL set as a server would, and its plugins.
    fn session(&self, url: &str) -> (crate::agent::TreeLock, Plugins) {
        let mut lock = self.dir.lock_tree(Duration::from_secs(5)).unwrap();
        for node in ["Download/PkgURL", "DownloadAndUpdate/PkgURL"] {
            lock.tree_mut()
                .replace(
                    Caller::Server(SRV),
                    &format!("./FUMO/1/{node}"),
                    None,
                    None,
                    url.as_bytes(),
                )
                .unwrap_or_else(|e| panic!("Replace {node}: {e}"));
        }
        let seq = lock.applied_seq();
        let plugins = crate::agent::plugins(&self.dir, &self.config, lock.tree(), seq).unwrap();
        (lock, plugins)
    }

    fn exec(
        &self,
        p: &mut Plugins,
        t: &Tree,
        op: Operation,
        corr: &str,
    ) -> Result<ExecOutcome, u16> {
        let uri = format!("./FUMO/1/{}", op.node());
        p.exec(t, Caller::Server(SRV), &uri, b"", Some(corr))
            .unwrap_or_else(|e| panic!("Exec {uri}: {e}"))
    }

    fn state_seen(&self, p: &Plugins, t: &Tree) -> String {
        let v = p.get(t, Caller::Server(SRV), "./FUMO/1/State").unwrap();
        String::from_utf8(v.data).unwrap()
    }

    fn wait(&self) {
        assert!(
            self.dir.jobs().wait_idle(Duration::from_secs(20)),
            "FUMO job ends"
        );
    }
}

fn state_in_tree(dir: &DeviceDir) -> String {
    let t = dir.read_tree().unwrap();
    String::from_utf8(t.get(Caller::Device, "./FUMO/1/State").unwrap().data).unwrap()
}

/// Writes "firmware from <url>" to $OMADM_FUMO_PKG, after a pause that lets the test see State 30.
const DOWNLOAD: &str =
    "sleep 0.3; url=$(cat); printf 'firmware from %s' \"$url\" > \"$OMADM_FUMO_PKG\"";

#[test]
fn download_then_update_moves_state_and_queues_alerts() {
    let out = tempfile::tempdir().unwrap();
    let installed = out.path().join("installed");
    let d = device(FumoConfig {
        download: Some(sh(DOWNLOAD)),
        update: Some(sh(&format!(
            "cp \"$OMADM_FUMO_PKG\" '{}'",
            installed.display()
        ))),
        timeout_secs: Some(10),
    });
    let (lock, mut p) = d.session("http://127.0.0.1:9/fw.bin");
    assert_eq!(
        d.exec(&mut p, lock.tree(), Operation::Download, "dl-1"),
        Ok(ExecOutcome::Accepted)
    );
    // The Exec answered 202 with State already Download Progressing, seen by a Get at once.
    assert_eq!(d.state_seen(&p, lock.tree()), "30");
    // A second operation while one runs: 409.
    assert_eq!(
        d.exec(&mut p, lock.tree(), Operation::Update, "x"),
        Err(409)
    );
    d.wait();
    assert_eq!(d.state_seen(&p, lock.tree()), "40");
    let q = d.dir.queued_alerts().unwrap();
    assert_eq!(q.len(), 1);
    let a = &q[0].alert;
    assert_eq!(a.correlator.as_deref(), Some("dl-1"));
    assert_eq!(
        a.alert_type,
        "org.openmobilealliance.dm.firmwareupdate.download"
    );
    assert_eq!(a.source.as_deref(), Some("./FUMO/1/Download"));
    assert_eq!((a.format.as_str(), a.data.as_str()), ("int", "200"));
    assert_eq!(a.mark, None);
    let pkg = d.dir.fumo_dir("1").join("package");
    assert_eq!(
        std::fs::read_to_string(&pkg).unwrap(),
        "firmware from http://127.0.0.1:9/fw.bin"
    );
    // The session ends without the jobs' State in tree.bin; the next lock applies it.
    drop(lock);
    assert_eq!(state_in_tree(&d.dir), "40");

    let (mut lock, mut p) = d.session("");
    lock.save().unwrap();
    assert!(
        d.dir.queued_updates().unwrap().is_empty(),
        "saved, so dropped"
    );
    assert_eq!(
        d.exec(&mut p, lock.tree(), Operation::Update, "up-1"),
        Ok(ExecOutcome::Accepted)
    );
    d.wait();
    assert_eq!(d.state_seen(&p, lock.tree()), "100");
    assert_eq!(
        std::fs::read_to_string(&installed).unwrap(),
        "firmware from http://127.0.0.1:9/fw.bin"
    );
    assert!(!pkg.exists(), "Update Successful / No Data");
    let q = d.dir.queued_alerts().unwrap();
    let a = &q[1].alert;
    assert_eq!(
        a.alert_type,
        "org.openmobilealliance.dm.firmwareupdate.update"
    );
    assert_eq!(a.correlator.as_deref(), Some("up-1"));
    assert_eq!(a.data, "200");
    drop(lock);
    assert_eq!(
        state_in_tree(&d.dir),
        FumoState::UpdateSuccessfulNoData.code().to_string()
    );
}

#[test]
fn failures_set_failed_states_and_critical_alerts() {
    let d = device(FumoConfig {
        download: Some(sh("cat >/dev/null; echo 412; exit 1")),
        update: Some(sh("exit 2")),
        timeout_secs: Some(10),
    });
    let (lock, mut p) = d.session("http://127.0.0.1:9/fw.bin");
    d.exec(&mut p, lock.tree(), Operation::DownloadAndUpdate, "du")
        .unwrap();
    d.wait();
    assert_eq!(d.state_seen(&p, lock.tree()), "20");
    let q = d.dir.queued_alerts().unwrap();
    let a = &q[0].alert;
    assert_eq!(a.data, "412", "the program's own FUMO result code");
    assert_eq!(a.mark.as_deref(), Some("critical"));
    assert_eq!(
        a.alert_type,
        "org.openmobilealliance.dm.firmwareupdate.downloadandupdate"
    );
    // Update with nothing downloaded: Update Failed / No Data, 410.
    d.exec(&mut p, lock.tree(), Operation::Update, "u").unwrap();
    d.wait();
    assert_eq!(d.state_seen(&p, lock.tree()), "80");
    assert_eq!(d.dir.queued_alerts().unwrap()[1].alert.data, "410");
}

#[test]
fn update_from_pkgdata_and_failure_keeps_the_package() {
    let d = device(FumoConfig {
        download: None,
        update: Some(sh(
            "test \"$(cat \"$OMADM_FUMO_PKG\")\" = inline && exit 1; exit 0",
        )),
        timeout_secs: Some(10),
    });
    let (mut lock, mut p) = d.session("");
    // Download is not configured: refused at once, nothing runs.
    assert_eq!(
        d.exec(&mut p, lock.tree(), Operation::Download, "d"),
        Err(406)
    );
    lock.tree_mut()
        .replace(
            Caller::Server(SRV),
            "./FUMO/1/Update/PkgData",
            None,
            None,
            b"inline",
        )
        .unwrap();
    d.exec(&mut p, lock.tree(), Operation::Update, "u").unwrap();
    d.wait();
    assert_eq!(
        d.state_seen(&p, lock.tree()),
        FumoState::UpdateFailedHaveData.code().to_string()
    );
    assert!(d.dir.fumo_dir("1").join("package").exists());
    assert_eq!(d.dir.queued_alerts().unwrap()[0].alert.data, "410");
    // State is Get-only for the server.
    assert!(lock
        .tree_mut()
        .replace(Caller::Server(SRV), "./FUMO/1/State", None, None, b"10")
        .is_err());
}
