//! One FUMO operation running in the background (the flow of the [module doc](super)).

use std::path::PathBuf;
use std::time::Duration;

use super::super::alerts::GenericAlert;
use super::super::config::DEFAULT_ASYNC_TIMEOUT_SECS;
use super::super::hooks::{hook_env, run_program, RunOutcome};
use super::super::{AgentError, DeviceDir, FumoConfig, Program};
use super::{result, FumoState, Operation};

/// Queues `State` of the instance at `base`.
pub(super) fn set_state(dir: &DeviceDir, base: &str, s: FumoState) -> Result<(), AgentError> {
    dir.queue_update(&format!("{base}/State"), &s.code().to_string())
        .map(|_| ())
}

/// Everything a job needs, taken from the tree when the Exec arrived.
pub(super) struct Job {
    pub dir: DeviceDir,
    pub config: FumoConfig,
    /// `./FUMO/<x>`.
    pub base: String,
    pub op: Operation,
    /// The Exec'd node (the alert's Source).
    pub uri: String,
    pub correlator: Option<String>,
    /// PkgURL (Download, DownloadAndUpdate).
    pub url: String,
    /// Update/PkgData (Update).
    pub pkg_data: Vec<u8>,
}

/// A failing program's own code (400-599 on its first stdout line), else `default`.
fn failure_code(r: &RunOutcome, default: u16) -> u16 {
    match r {
        RunOutcome::Exited { code, first_line } if *code != 0 => first_line
            .parse::<u16>()
            .ok()
            .filter(|c| (400..=599).contains(c))
            .unwrap_or(default),
        _ => default,
    }
}

impl Job {
    fn package(&self) -> PathBuf {
        let instance = self.base.rsplit('/').next().unwrap_or("fumo");
        self.dir.fumo_dir(instance).join("package")
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(
            self.config
                .timeout_secs
                .unwrap_or(DEFAULT_ASYNC_TIMEOUT_SECS),
        )
    }

    fn state(&self, s: FumoState) {
        if let Err(e) = set_state(&self.dir, &self.base, s) {
            self.log(&format!("cannot queue State {}: {e}", s.code()));
        }
    }

    fn log(&self, what: &str) {
        self.dir.log(&format!("fumo {}: {what}", self.uri));
        eprintln!("omadm device: fumo {}: {what}", self.uri);
    }

    fn run_hook(&self, p: &Program, stdin: Vec<u8>) -> RunOutcome {
        let mut env = hook_env(&self.dir, &self.uri, self.correlator.as_deref());
        env.push(("OMADM_FUMO_PKG", self.package().display().to_string()));
        env.push(("OMADM_FUMO_PKGURL", self.url.clone()));
        run_program(&p.program, &p.args, stdin, &env, self.timeout())
    }

    /// Runs the operation, queues the alert, frees the instance.
    pub(super) fn run(self) {
        let code = match self.op {
            Operation::Download => self.download(),
            Operation::Update => self.update(),
            Operation::DownloadAndUpdate => match self.download() {
                result::SUCCESSFUL => {
                    self.state(FumoState::UpdateProgressing);
                    self.update()
                }
                failed => failed,
            },
        };
        let alert = GenericAlert {
            correlator: self.correlator.clone(),
            source: Some(self.uri.clone()),
            alert_type: self.op.alert_type().to_owned(),
            format: "int".into(),
            mark: (code != result::SUCCESSFUL).then(|| "critical".to_owned()),
            data: code.to_string(),
        };
        match self.dir.queue_alert(alert) {
            Ok(_) => self.log(&format!("result {code} queued")),
            Err(e) => self.log(&format!("cannot queue the result {code}: {e}")),
        }
        self.dir.release(&self.base);
    }

    /// State 30 is already set. 40 and 200 on success, else 20 and the failure code.
    fn download(&self) -> u16 {
        let Some(p) = &self.config.download else {
            return self.fail(FumoState::DownloadFailed, result::UNDEFINED_ERROR);
        };
        if self.url.is_empty() {
            return self.fail(FumoState::DownloadFailed, result::BAD_URL);
        }
        let pkg = self.package();
        if let Some(d) = pkg.parent() {
            if let Err(e) = std::fs::create_dir_all(d) {
                self.log(&format!("{}: {e}", d.display()));
                return self.fail(FumoState::DownloadFailed, result::UNDEFINED_ERROR);
            }
        }
        let _ = std::fs::remove_file(&pkg);
        let r = self.run_hook(p, self.url.clone().into_bytes());
        self.log(&format!("download {}", r.describe()));
        if r.status() == 200 && pkg.is_file() {
            self.state(FumoState::DownloadComplete);
            result::SUCCESSFUL
        } else {
            let code = failure_code(&r, result::UNDEFINED_ERROR);
            self.fail(FumoState::DownloadFailed, code)
        }
    }

    /// State 60 is already set. 100 and 200 on success (the package deleted), else 70 (package
    /// kept) or 80 (none to install) and the failure code.
    fn update(&self) -> u16 {
        let Some(p) = &self.config.update else {
            return self.fail(FumoState::UpdateFailedNoData, result::UPDATE_FAILED);
        };
        let pkg = self.package();
        if !self.pkg_data.is_empty() {
            let written = pkg
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&pkg, &self.pkg_data));
            if let Err(e) = written {
                self.log(&format!("{}: {e}", pkg.display()));
                return self.fail(FumoState::UpdateFailedNoData, result::UPDATE_FAILED);
            }
        }
        if !pkg.is_file() {
            self.log("no package to install");
            return self.fail(FumoState::UpdateFailedNoData, result::UPDATE_FAILED);
        }
        let r = self.run_hook(p, Vec::new());
        self.log(&format!("update {}", r.describe()));
        if r.status() == 200 {
            let _ = std::fs::remove_file(&pkg);
            self.state(FumoState::UpdateSuccessfulNoData);
            result::SUCCESSFUL
        } else {
            let code = failure_code(&r, result::UPDATE_FAILED);
            self.fail(FumoState::UpdateFailedHaveData, code)
        }
    }

    fn fail(&self, s: FumoState, code: u16) -> u16 {
        self.state(s);
        code
    }
}
