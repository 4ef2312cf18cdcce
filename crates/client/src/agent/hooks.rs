//! Exec hooks: an Exec on a configured node runs a program (`[[exec]]` in `device.toml`).
//!
//! The program gets:
//! - on stdin, the Exec Item's Data exactly as received (then end of file);
//! - in its environment, `OMADM_EXEC_URI` (the node), `OMADM_CORRELATOR` (the Exec's Correlator,
//!   empty when it had none) and `OMADM_DIR` (the device directory);
//! - stderr shared with the agent (its log); stdout captured (the first 64 KiB).
//!
//! Its result, the DM status (DM RepPro 1.2 §10; DIGEST.md §2.4):
//! - exit code 0: 200;
//! - any other exit: the first line of stdout when it is a DM error status `400`..=`599`
//!   (so `echo 404; exit 1` answers 404 Not Found), else 500 Command failed;
//! - killed by a signal, or still running after its timeout (then killed), or not startable: 500.
//!
//! A synchronous hook (`async = false`) runs while the session waits and its status is the
//! Exec's. An asynchronous hook answers 202 Accepted for processing at once and runs in the
//! background (DM Protocol 1.3 §6.7.1.10); when it ends, a Generic Alert (1226) is queued in
//! `alerts.json` with the Exec's Correlator, Source the node, Meta Type the hook's `alert_type`
//! (default [`DEFAULT_EXEC_ALERT_TYPE`]), Format `chr`, the hook's Mark, and Data the status as
//! decimal text (`200`, `500`...).

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::{ExecHandler, ExecOutcome, Plugins};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

use super::alerts::GenericAlert;
use super::config::{
    DEFAULT_ASYNC_TIMEOUT_SECS, DEFAULT_EXEC_ALERT_TYPE, DEFAULT_SYNC_TIMEOUT_SECS,
};
use super::{AgentError, DeviceConfig, DeviceDir, ExecHook};

/// Most stdout bytes kept from a hook; the rest is read and dropped.
pub const MAX_STDOUT: usize = 64 * 1024;

/// How a hook program ended.
#[derive(Debug)]
pub enum RunOutcome {
    /// It exited with this code; the first line of its stdout.
    Exited {
        /// The exit code.
        code: i32,
        /// The first line of stdout, trimmed.
        first_line: String,
    },
    /// It was killed by a signal.
    Signalled,
    /// It ran past its timeout and was killed.
    TimedOut,
    /// It could not be started, or waited for.
    Failed(std::io::Error),
}

impl RunOutcome {
    /// The DM status of the module doc.
    pub fn status(&self) -> u16 {
        match self {
            RunOutcome::Exited { code: 0, .. } => 200,
            RunOutcome::Exited { first_line, .. } => first_line
                .parse::<u16>()
                .ok()
                .filter(|c| (400..=599).contains(c))
                .unwrap_or(500),
            RunOutcome::Signalled | RunOutcome::TimedOut | RunOutcome::Failed(_) => 500,
        }
    }

    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            RunOutcome::Exited { code, .. } => format!("exit {code}"),
            RunOutcome::Signalled => "killed by a signal".into(),
            RunOutcome::TimedOut => "timed out".into(),
            RunOutcome::Failed(e) => format!("failed: {e}"),
        }
    }
}

/// After the program exits, how long its stdout may stay open (a child it left behind holding
/// the pipe) before we stop reading.
const STDOUT_GRACE: Duration = Duration::from_secs(2);

/// Runs `program args` with `stdin` and `env`, killing it (and its process group: the programs
/// it started) after `timeout`.
pub fn run_program(
    program: &str,
    args: &[String],
    stdin: Vec<u8>,
    env: &[(&str, String)],
    timeout: Duration,
) -> RunOutcome {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return RunOutcome::Failed(e),
    };
    // Both pipes on their own threads: a program that ignores stdin, or fills stdout, must not
    // block us (or itself).
    if let Some(mut pipe) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = pipe.write_all(&stdin);
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut pipe) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let room = MAX_STDOUT.saturating_sub(kept.len());
                kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
            }
            let _ = tx.send(kept);
        });
    }
    let status = wait(&mut child, timeout);
    let out = rx.recv_timeout(STDOUT_GRACE).unwrap_or_default();
    match status {
        None => RunOutcome::TimedOut,
        Some(Err(e)) => RunOutcome::Failed(e),
        Some(Ok(s)) => match s.code() {
            Some(code) => RunOutcome::Exited {
                code,
                first_line: String::from_utf8_lossy(&out)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            },
            None => RunOutcome::Signalled,
        },
    }
}

/// Kills `child` and every process of its group.
fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for `child` at most `timeout`; `None` (after killing it) when it is still running.
fn wait(child: &mut std::process::Child, timeout: Duration) -> Option<std::io::Result<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(Ok(s)),
            Ok(None) if Instant::now() >= deadline => {
                kill(child);
                return None;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Some(Err(e)),
        }
    }
}

/// The environment of the module doc.
pub(crate) fn hook_env(
    dir: &DeviceDir,
    uri: &str,
    correlator: Option<&str>,
) -> Vec<(&'static str, String)> {
    vec![
        ("OMADM_EXEC_URI", uri.to_owned()),
        (
            "OMADM_CORRELATOR",
            correlator.unwrap_or_default().to_owned(),
        ),
        ("OMADM_DIR", dir.root().display().to_string()),
    ]
}

/// The [`ExecHandler`] of one `[[exec]]` entry.
#[derive(Debug)]
pub struct HookHandler {
    hook: ExecHook,
    dir: DeviceDir,
}

impl HookHandler {
    /// A handler running `hook` for the device at `dir`.
    pub fn new(hook: ExecHook, dir: DeviceDir) -> HookHandler {
        HookHandler { hook, dir }
    }

    fn timeout(&self) -> Duration {
        let default = if self.hook.async_ {
            DEFAULT_ASYNC_TIMEOUT_SECS
        } else {
            DEFAULT_SYNC_TIMEOUT_SECS
        };
        Duration::from_secs(self.hook.timeout_secs.unwrap_or(default))
    }
}

impl ExecHandler for HookHandler {
    fn exec(
        &mut self,
        uri: &str,
        data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, u16> {
        let env = hook_env(&self.dir, uri, correlator);
        let timeout = self.timeout();
        if !self.hook.async_ {
            let r = run_program(
                &self.hook.program,
                &self.hook.args,
                data.to_vec(),
                &env,
                timeout,
            );
            self.dir
                .log(&format!("exec {uri}: {} -> {}", r.describe(), r.status()));
            return match r.status() {
                200 => Ok(ExecOutcome::Done),
                code => Err(code),
            };
        }
        let hook = self.hook.clone();
        let dir = self.dir.clone();
        let (uri, data, correlator) =
            (uri.to_owned(), data.to_vec(), correlator.map(str::to_owned));
        self.dir.jobs().spawn("omadm-exec-hook", move || {
            let r = run_program(&hook.program, &hook.args, data, &env, timeout);
            let status = r.status();
            dir.log(&format!("exec {uri} (async): {} -> {status}", r.describe()));
            let alert = GenericAlert {
                correlator,
                source: Some(uri.clone()),
                alert_type: hook
                    .alert_type
                    .clone()
                    .unwrap_or_else(|| DEFAULT_EXEC_ALERT_TYPE.to_owned()),
                format: "chr".into(),
                mark: hook.mark.clone(),
                data: status.to_string(),
            };
            if let Err(e) = dir.queue_alert(alert) {
                dir.log(&format!("exec {uri}: cannot queue its Generic Alert: {e}"));
                eprintln!("omadm device: exec {uri}: cannot queue its Generic Alert: {e}");
            }
        });
        Ok(ExecOutcome::Accepted)
    }
}

/// Binds a [`HookHandler`] to the node of every `[[exec]]` entry of `config`.
pub fn install(
    plugins: &mut Plugins,
    config: &DeviceConfig,
    dir: &DeviceDir,
) -> Result<(), AgentError> {
    for hook in &config.exec {
        plugins
            .register_exec(
                &hook.uri,
                Box::new(HookHandler::new(hook.clone(), dir.clone())),
            )
            .map_err(|e| AgentError::BadConfig {
                path: dir.config_path(),
                what: format!("[[exec]] uri {:?}: {e}", hook.uri),
            })?;
    }
    Ok(())
}

/// Creates the node of every `[[exec]]` entry that the tree lacks (an interior node with ACL
/// `Get=<ServerID>&Exec=<ServerID>`, missing ancestors created as plain interior nodes), so that
/// an Exec finds it. Returns the nodes created.
pub fn ensure_nodes(tree: &mut Tree, config: &DeviceConfig) -> Result<Vec<String>, AgentError> {
    let mut created = Vec::new();
    for hook in &config.exec {
        if tree.resolve(&hook.uri).is_ok() {
            continue;
        }
        tree.add(Caller::Device, &hook.uri, NodeFormat::Node, None, b"")
            .map_err(|e| AgentError::tree(&hook.uri, e))?;
        let s = &config.server_id;
        tree.replace_prop(
            Caller::Device,
            &hook.uri,
            Property::Acl,
            &format!("Get={s}&Exec={s}"),
        )
        .map_err(|e| AgentError::tree(&hook.uri, e))?;
        created.push(hook.uri.clone());
    }
    Ok(created)
}
