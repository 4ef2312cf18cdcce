//! The firmware update management object (OMA FUMO 1.0), `urn:oma:mo:oma-fumo:1.0`.
//!
//! ```text
//! ./FUMO/<x>                 node   the instance (Type urn:oma:mo:oma-fumo:1.0)
//!   PkgName                  chr    name of the package
//!   PkgVersion               chr    version of the package
//!   Download                 node   Exec: download the package from Download/PkgURL
//!     PkgURL                 chr
//!   Update                   node   Exec: install the package (downloaded, or Update/PkgData)
//!     PkgData                bin
//!   DownloadAndUpdate        node   Exec: both, from DownloadAndUpdate/PkgURL
//!     PkgURL                 chr
//!   State                    int    see [`FumoState`]; Get only
//!   Ext                      node
//! ```
//!
//! ACLs (our choice): `./FUMO` `Get=*&Add=<ServerID>`; `./FUMO/<x>`
//! `Get=<ServerID>&Replace=<ServerID>&Exec=<ServerID>`, inherited; `State` `Get=<ServerID>` only.
//!
//! An Exec on Download, Update or DownloadAndUpdate answers 202 Accepted for processing and runs
//! the `[fumo]` programs of `device.toml` in the background ([`job`]):
//! - **download**: stdin the PkgURL, env `OMADM_FUMO_PKGURL` (the same) and `OMADM_FUMO_PKG`
//!   (the file to write the package to, `DIR/fumo/<x>/package`), plus the Exec hook variables
//!   ([`super::hooks`]). State 30, then 40 when it exits 0 having written the file, else 20.
//! - **update**: stdin empty, env `OMADM_FUMO_PKG` (the package: the downloaded file, or
//!   `Update/PkgData` written there when that node holds data). State 60, then 100 (the package
//!   is deleted) when it exits 0, else 70 (the package is kept).
//!
//! Then a Generic Alert is queued (FUMO 1.0 "Generic Alert"): Correlator the Exec's, Source the
//! Exec'd node, Type `org.openmobilealliance.dm.firmwareupdate.{download,update,downloadandupdate}`,
//! Format `int`, Data the result code ([`result`]), Mark `critical` on failure (omitted, i.e.
//! informational, on success). A failing program chooses its result code by printing it (400-599)
//! as its first line of stdout; otherwise download failures report 409 Undefined error and update
//! failures 410 Firmware update failed.
//!
//! Tree changes go through [`super::DeviceDir::queue_update`] (see the agent's module doc): a Get
//! of `State` in the same process sees them at once through a value provider; `tree.bin` gets
//! them at the next [`super::DeviceDir::lock_tree`] and save.
//!
//! Synchronous refusals: 406 when the `[fumo]` program the operation needs is not configured,
//! 409 (Conflict) while another operation of the same instance runs in this process.

mod job;

use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::{ExecHandler, ExecOutcome, Plugins, ValueProvider};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

use super::{AgentError, DeviceConfig, DeviceDir};

/// MO identifier of FUMO 1.0.
pub const FUMO_MO: &str = "urn:oma:mo:oma-fumo:1.0";

/// FUMO 1.0 `State` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FumoState {
    /// 10: Idle / Start.
    Idle,
    /// 20: Download Failed.
    DownloadFailed,
    /// 30: Download Progressing.
    DownloadProgressing,
    /// 40: Download Complete.
    DownloadComplete,
    /// 50: Ready to Update.
    ReadyToUpdate,
    /// 60: Update Progressing.
    UpdateProgressing,
    /// 70: Update Failed / Have Data.
    UpdateFailedHaveData,
    /// 80: Update Failed / No Data.
    UpdateFailedNoData,
    /// 90: Update Successful / Have Data.
    UpdateSuccessfulHaveData,
    /// 100: Update Successful / No Data.
    UpdateSuccessfulNoData,
}

impl FumoState {
    /// The integer stored in `State`.
    pub fn code(self) -> u32 {
        match self {
            FumoState::Idle => 10,
            FumoState::DownloadFailed => 20,
            FumoState::DownloadProgressing => 30,
            FumoState::DownloadComplete => 40,
            FumoState::ReadyToUpdate => 50,
            FumoState::UpdateProgressing => 60,
            FumoState::UpdateFailedHaveData => 70,
            FumoState::UpdateFailedNoData => 80,
            FumoState::UpdateSuccessfulHaveData => 90,
            FumoState::UpdateSuccessfulNoData => 100,
        }
    }
}

/// FUMO 1.0 result codes carried in the Generic Alert's Data (those this agent sends itself; a
/// program may report any 400-599).
pub mod result {
    /// Successful.
    pub const SUCCESSFUL: u16 = 200;
    /// Undefined error: a download program failed without saying why.
    pub const UNDEFINED_ERROR: u16 = 409;
    /// Firmware update failed: an update program failed without saying why, or had no package.
    pub const UPDATE_FAILED: u16 = 410;
    /// Malformed or bad URL: PkgURL is empty.
    pub const BAD_URL: u16 = 411;
}

/// The three executable operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `Download`.
    Download,
    /// `Update`.
    Update,
    /// `DownloadAndUpdate`.
    DownloadAndUpdate,
}

impl Operation {
    /// All three.
    pub const ALL: [Operation; 3] = [
        Operation::Download,
        Operation::Update,
        Operation::DownloadAndUpdate,
    ];

    /// The node name under `./FUMO/<x>`.
    pub fn node(self) -> &'static str {
        match self {
            Operation::Download => "Download",
            Operation::Update => "Update",
            Operation::DownloadAndUpdate => "DownloadAndUpdate",
        }
    }

    /// The Generic Alert type reporting its result.
    pub fn alert_type(self) -> &'static str {
        match self {
            Operation::Download => "org.openmobilealliance.dm.firmwareupdate.download",
            Operation::Update => "org.openmobilealliance.dm.firmwareupdate.update",
            Operation::DownloadAndUpdate => {
                "org.openmobilealliance.dm.firmwareupdate.downloadandupdate"
            }
        }
    }
}

fn add(
    t: &mut Tree,
    uri: &str,
    format: NodeFormat,
    type_: Option<&str>,
    value: &[u8],
) -> Result<(), AgentError> {
    t.add(Caller::Device, uri, format, type_, value)
        .map(|_| ())
        .map_err(|e| AgentError::tree(uri, e))
}

fn acl(t: &mut Tree, uri: &str, acl: &str) -> Result<(), AgentError> {
    t.replace_prop(Caller::Device, uri, Property::Acl, acl)
        .map_err(|e| AgentError::tree(uri, e))
}

/// Creates `./FUMO/<instance>` (and `./FUMO` when absent) in state Idle, managed by `server_id`.
pub fn install_mo(t: &mut Tree, instance: &str, server_id: &str) -> Result<(), AgentError> {
    let s = server_id;
    if t.resolve("./FUMO").is_err() {
        add(t, "./FUMO", NodeFormat::Node, None, b"")?;
        acl(t, "./FUMO", &format!("Get=*&Add={s}"))?;
    }
    let base = format!("./FUMO/{instance}");
    add(t, &base, NodeFormat::Node, Some(FUMO_MO), b"")?;
    acl(t, &base, &format!("Get={s}&Replace={s}&Exec={s}"))?;
    let text = Some("text/plain");
    for (name, format, type_) in [
        ("PkgName", NodeFormat::Chr, text),
        ("PkgVersion", NodeFormat::Chr, text),
        ("Download", NodeFormat::Node, None),
        ("Download/PkgURL", NodeFormat::Chr, text),
        ("Update", NodeFormat::Node, None),
        (
            "Update/PkgData",
            NodeFormat::Bin,
            Some("application/octet-stream"),
        ),
        ("DownloadAndUpdate", NodeFormat::Node, None),
        ("DownloadAndUpdate/PkgURL", NodeFormat::Chr, text),
        ("Ext", NodeFormat::Node, None),
    ] {
        add(t, &format!("{base}/{name}"), format, type_, b"")?;
    }
    let state = FumoState::Idle.code().to_string();
    add(
        t,
        &format!("{base}/State"),
        NodeFormat::Int,
        text,
        state.as_bytes(),
    )?;
    acl(t, &format!("{base}/State"), &format!("Get={s}"))
}

/// Every `./FUMO/<x>` whose Type is [`FUMO_MO`].
pub fn instances(tree: &Tree) -> Vec<String> {
    let Ok((_, root)) = tree.resolve("./FUMO") else {
        return Vec::new();
    };
    tree.children(root)
        .iter()
        .map(|&id| tree.path_of(id))
        .filter(|p| {
            tree.get(Caller::Device, p)
                .is_ok_and(|v| v.type_ == FUMO_MO)
        })
        .collect()
}

/// `State` as a Get sees it: the value a job of this process queued, when newer than the tree
/// read, else the tree's value at install.
struct StateValue {
    dir: DeviceDir,
    applied_seq: u64,
    tree_value: Vec<u8>,
}

impl ValueProvider for StateValue {
    fn value(&self, uri: &str) -> Vec<u8> {
        self.dir
            .live_value(uri, self.applied_seq)
            .map(String::into_bytes)
            .unwrap_or_else(|| self.tree_value.clone())
    }
}

/// Binds the FUMO handlers of every instance in `tree` (except nodes an `[[exec]]` hook already
/// has) and the live `State` values. `applied_seq` is [`super::TreeLock::applied_seq`] of the
/// lock `tree` came from.
pub fn install(
    plugins: &mut Plugins,
    config: &DeviceConfig,
    dir: &DeviceDir,
    tree: &Tree,
    applied_seq: u64,
) -> Result<(), AgentError> {
    let registered = |e| AgentError::BadConfig {
        path: dir.config_path(),
        what: format!("FUMO: {e}"),
    };
    for base in instances(tree) {
        for op in Operation::ALL {
            let uri = format!("{base}/{}", op.node());
            if config.exec.iter().any(|h| h.uri == uri) {
                continue;
            }
            let h = FumoHandler {
                base: base.clone(),
                op,
                config: config.fumo.clone(),
                dir: dir.clone(),
            };
            plugins
                .register_exec(&uri, Box::new(h))
                .map_err(registered)?;
        }
        let state = format!("{base}/State");
        let tree_value = tree
            .get(Caller::Device, &state)
            .map(|v| v.data)
            .unwrap_or_default();
        let p = StateValue {
            dir: dir.clone(),
            applied_seq,
            tree_value,
        };
        plugins
            .register_value(&state, Box::new(p))
            .map_err(registered)?;
    }
    Ok(())
}

/// The Exec handler of one operation of one instance.
struct FumoHandler {
    base: String,
    op: Operation,
    config: super::FumoConfig,
    dir: DeviceDir,
}

impl ExecHandler for FumoHandler {
    fn exec(&mut self, _: &str, _: &[u8], _: Option<&str>) -> Result<ExecOutcome, u16> {
        // Plugins always call exec_in: the parameters are in the tree.
        Err(500)
    }

    fn exec_in(
        &mut self,
        tree: &Tree,
        uri: &str,
        _data: &[u8],
        correlator: Option<&str>,
    ) -> Result<ExecOutcome, u16> {
        let read = |name: &str| {
            tree.get(Caller::Device, &format!("{}/{name}", self.base))
                .map(|v| v.data)
                .unwrap_or_default()
        };
        let needs_download = self.op != Operation::Update;
        let needs_update = self.op != Operation::Download;
        if (needs_download && self.config.download.is_none())
            || (needs_update && self.config.update.is_none())
        {
            return Err(406);
        }
        let url = match self.op {
            Operation::Download => read("Download/PkgURL"),
            Operation::DownloadAndUpdate => read("DownloadAndUpdate/PkgURL"),
            Operation::Update => Vec::new(),
        };
        let pkg_data = match self.op {
            Operation::Update => read("Update/PkgData"),
            _ => Vec::new(),
        };
        if !self.dir.claim(&self.base) {
            return Err(409);
        }
        // The first State change is made before answering, so that a Get later in the same
        // message already sees it.
        let first = if needs_download {
            FumoState::DownloadProgressing
        } else {
            FumoState::UpdateProgressing
        };
        if let Err(e) = job::set_state(&self.dir, &self.base, first) {
            self.dir.log(&format!("fumo {uri}: {e}"));
            self.dir.release(&self.base);
            return Err(500);
        }
        let j = job::Job {
            dir: self.dir.clone(),
            config: self.config.clone(),
            base: self.base.clone(),
            op: self.op,
            uri: uri.to_owned(),
            correlator: correlator.map(str::to_owned),
            url: String::from_utf8_lossy(&url).trim().to_owned(),
            pkg_data,
        };
        self.dir.jobs().spawn("omadm-fumo", move || j.run());
        Ok(ExecOutcome::Accepted)
    }
}

#[cfg(test)]
mod tests;
