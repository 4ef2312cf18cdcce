//! Exec hooks with real /bin/sh scripts: synchronous status mapping, asynchronous 202 and the
//! Generic Alert queued when the script ends (DM Protocol 1.3 §6.7.1.10).

use std::path::Path;
use std::time::Duration;

use omadm_client::agent::config::DEFAULT_EXEC_ALERT_TYPE;
use omadm_client::agent::init::{init, InitParams};
use omadm_client::agent::{hooks, DeviceDir, ExecHook};
use omadm_security::cred::AuthScheme;
use omadm_tree::plugin::{ExecOutcome, Plugins};
use omadm_tree::Caller;

const SRV: &str = "dm.example";

fn setup(hooks_: Vec<ExecHook>) -> (tempfile::TempDir, DeviceDir, omadm_tree::Tree, Plugins) {
    let tmp = tempfile::tempdir().unwrap();
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
        fumo: false,
    };
    let mut config = init(&dir, &p, false).unwrap();
    config.exec = hooks_;
    let mut tree = dir.read_tree().unwrap();
    let created = hooks::ensure_nodes(&mut tree, &config).unwrap();
    assert_eq!(created.len(), config.exec.len());
    let mut plugins = Plugins::default();
    hooks::install(&mut plugins, &config, &dir).unwrap();
    (tmp, dir, tree, plugins)
}

/// A script file running `body` under /bin/sh.
fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    path.display().to_string()
}

fn hook(uri: &str, program: String, async_: bool) -> ExecHook {
    ExecHook {
        uri: uri.into(),
        program,
        args: Vec::new(),
        async_,
        alert_type: None,
        mark: None,
        timeout_secs: Some(10),
    }
}

fn exec(
    plugins: &mut Plugins,
    tree: &omadm_tree::Tree,
    uri: &str,
    data: &[u8],
    corr: Option<&str>,
) -> Result<ExecOutcome, u16> {
    plugins
        .exec(tree, Caller::Server(SRV), uri, data, corr)
        .expect("the node exists and the server may Exec it")
}

#[test]
fn sync_hook_gets_data_and_environment_and_exit_0_is_200() {
    let scripts = tempfile::tempdir().unwrap();
    let out = scripts.path().join("seen");
    let body = format!(
        "cat > '{o}.stdin'; printf '%s|%s|%s' \"$OMADM_EXEC_URI\" \"$OMADM_CORRELATOR\" \"$OMADM_DIR\" > '{o}.env'",
        o = out.display()
    );
    let mut h = sh(scripts.path(), "ok.sh", &body);
    h.uri = "./Vendor/Reboot".into();
    let (_tmp, dir, tree, mut plugins) = setup(vec![h]);
    let r = exec(
        &mut plugins,
        &tree,
        "./Vendor/Reboot",
        b"payload",
        Some("corr-1"),
    );
    assert_eq!(r, Ok(ExecOutcome::Done));
    assert_eq!(
        std::fs::read(out.with_extension("stdin")).unwrap(),
        b"payload"
    );
    let env = std::fs::read_to_string(out.with_extension("env")).unwrap();
    assert_eq!(
        env,
        format!("./Vendor/Reboot|corr-1|{}", dir.root().display())
    );
}

/// A hook running `body` through /bin/sh (the script needs no exec bit).
fn sh(scripts: &Path, name: &str, body: &str) -> ExecHook {
    ExecHook {
        args: vec![script(scripts, name, body)],
        ..hook("./Vendor/Op", "/bin/sh".into(), false)
    }
}

fn run_sync(body: &str) -> Result<ExecOutcome, u16> {
    let scripts = tempfile::tempdir().unwrap();
    let (_tmp, _dir, tree, mut plugins) = setup(vec![sh(scripts.path(), "s.sh", body)]);
    exec(&mut plugins, &tree, "./Vendor/Op", b"", None)
}

#[test]
fn sync_hook_failure_statuses() {
    // A DM error status on the first stdout line is the answer.
    assert_eq!(run_sync("echo 404; echo detail; exit 1"), Err(404));
    // Anything else that fails is 500.
    assert_eq!(run_sync("echo oops; exit 3"), Err(500));
    assert_eq!(run_sync("echo 200; exit 1"), Err(500));
    assert_eq!(run_sync("kill -9 $$"), Err(500));
}

#[test]
fn sync_hook_past_its_timeout_is_killed_and_500() {
    let scripts = tempfile::tempdir().unwrap();
    let mut h = sh(scripts.path(), "slow.sh", "sleep 30");
    h.timeout_secs = Some(1);
    let (_tmp, _dir, tree, mut plugins) = setup(vec![h]);
    let start = std::time::Instant::now();
    assert_eq!(
        exec(&mut plugins, &tree, "./Vendor/Op", b"", None),
        Err(500)
    );
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn missing_program_is_500() {
    let (_tmp, _dir, tree, mut plugins) = setup(vec![hook(
        "./Vendor/Op",
        "/nonexistent/omadm-hook".into(),
        false,
    )]);
    assert_eq!(
        exec(&mut plugins, &tree, "./Vendor/Op", b"", None),
        Err(500)
    );
}

#[test]
fn async_hook_answers_202_then_queues_a_generic_alert() {
    let scripts = tempfile::tempdir().unwrap();
    let mut ok = sh(scripts.path(), "a.sh", "sleep 0.2; cat > /dev/null");
    ok.async_ = true;
    ok.mark = Some("warning".into());
    let mut bad = sh(scripts.path(), "b.sh", "echo 503; exit 7");
    bad.uri = "./Vendor/Bad".into();
    bad.async_ = true;
    bad.alert_type = Some("urn:oma:at:vendor:1.0:bad".into());
    let (_tmp, dir, tree, mut plugins) = setup(vec![ok, bad]);
    assert_eq!(
        exec(&mut plugins, &tree, "./Vendor/Op", b"x", Some("c-ok")),
        Ok(ExecOutcome::Accepted)
    );
    assert_eq!(
        exec(&mut plugins, &tree, "./Vendor/Bad", b"", Some("c-bad")),
        Ok(ExecOutcome::Accepted)
    );
    assert!(dir.jobs().wait_idle(Duration::from_secs(20)), "jobs end");
    let mut q = dir.queued_alerts().unwrap();
    q.sort_by(|a, b| a.alert.correlator.cmp(&b.alert.correlator));
    assert_eq!(q.len(), 2);
    let bad = &q[0].alert;
    assert_eq!(bad.correlator.as_deref(), Some("c-bad"));
    assert_eq!(bad.data, "503");
    assert_eq!(bad.alert_type, "urn:oma:at:vendor:1.0:bad");
    assert_eq!(bad.source.as_deref(), Some("./Vendor/Bad"));
    let ok = &q[1].alert;
    assert_eq!(ok.correlator.as_deref(), Some("c-ok"));
    assert_eq!(ok.data, "200");
    assert_eq!(ok.format, "chr");
    assert_eq!(ok.mark.as_deref(), Some("warning"));
    assert_eq!(ok.alert_type, DEFAULT_EXEC_ALERT_TYPE);
    assert_eq!(ok.source.as_deref(), Some("./Vendor/Op"));
}

#[test]
fn exec_without_the_acl_right_never_runs_the_hook() {
    let scripts = tempfile::tempdir().unwrap();
    let marker = scripts.path().join("ran");
    let h = sh(
        scripts.path(),
        "m.sh",
        &format!("touch '{}'", marker.display()),
    );
    let (_tmp, _dir, tree, mut plugins) = setup(vec![h]);
    let r = plugins.exec(&tree, Caller::Server("intruder"), "./Vendor/Op", b"", None);
    assert!(r.is_err(), "ACL refuses another server");
    assert!(!marker.exists());
}
