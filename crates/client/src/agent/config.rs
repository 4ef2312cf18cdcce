//! `DIR/device.toml`: how the agent reaches its server and what it runs.
//!
//! ```toml
//! device_id = "IMEI:493005100592800"   # DevInfo/DevId, the SyncHdr Source LocURI
//! server_id = "dm.example"             # the DMAcc ServerID sessions and reports go to
//! server_url = "https://dm.example/dm" # where they are POSTed
//! encoding = "wbxml"                   # or "xml"
//! max_msg_size = 16384                 # MaxMsgSize the client announces
//! max_obj_size = 1048576               # MaxObjSize the client announces
//! user_agent = "omadm-device/0.1.0"
//! ver_proto = "DM/1.3"                 # SyncHdr VerProto; "DM/1.2" for a DM 1.2 server
//! # ca_file = "/etc/omadm/ca.pem"      # extra trusted root(s) for https, PEM
//!
//! [mo_codes]                           # DM 1.3 package #0 Requested-MO codes -> MO identifiers
//! "1" = "urn:oma:mo:oma-fumo:1.0"
//!
//! [bootstrap]                          # secrets to verify pushed bootstraps (SEC=...)
//! network_secret = "234150000000001"
//! pin = "1234"
//!
//! [[exec]]                             # an Exec on `uri` runs `program args...`
//! uri = "./Vendor/Reboot"
//! program = "/usr/local/bin/reboot-hook"
//! args = []
//! async = false                        # true: answer 202, report in a Generic Alert
//! # alert_type = "urn:oma:at:omadm:1.0:execresult"
//! # mark = "critical"
//! # timeout_secs = 60
//!
//! [fumo.download]                      # FUMO: fetches PkgURL (on stdin) to $OMADM_FUMO_PKG
//! program = "/bin/sh"
//! args = ["-c", "curl -fsS -o \"$OMADM_FUMO_PKG\" \"$(cat)\""]
//! [fumo.update]                        # FUMO: installs $OMADM_FUMO_PKG
//! program = "/usr/local/bin/flash"
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AgentError;

/// DM Protocol 1.3 §9 MaxMsgSize the client announces by default: 16 KiB.
pub const DEFAULT_MAX_MSG_SIZE: usize = 16 * 1024;
/// MaxObjSize the client announces by default: 1 MiB.
pub const DEFAULT_MAX_OBJ_SIZE: usize = 1024 * 1024;
/// Type of the Generic Alert reporting an asynchronous Exec hook's result, unless the hook names
/// another (DM Protocol 1.3 §6.7.1.6 URN form: `urn:oma:at:<enabler>:<version>:<info>`).
pub const DEFAULT_EXEC_ALERT_TYPE: &str = "urn:oma:at:omadm:1.0:execresult";
/// How long a synchronous Exec hook may run before it is killed (answer 500).
pub const DEFAULT_SYNC_TIMEOUT_SECS: u64 = 60;
/// How long an asynchronous Exec hook or a FUMO program may run before it is killed.
pub const DEFAULT_ASYNC_TIMEOUT_SECS: u64 = 3600;

/// The encoding sessions and reports use on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireEncoding {
    /// `application/vnd.syncml.dm+xml`.
    Xml,
    /// `application/vnd.syncml.dm+wbxml`.
    #[default]
    Wbxml,
}

impl WireEncoding {
    /// The codec's encoding.
    pub fn encoding(self) -> omadm_syncml::Encoding {
        match self {
            WireEncoding::Xml => omadm_syncml::Encoding::Xml,
            WireEncoding::Wbxml => omadm_syncml::Encoding::Wbxml,
        }
    }
}

/// A program and its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// Path of the program (or a name looked up in `PATH`).
    pub program: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
}

/// One `[[exec]]` entry: an Exec on `uri` runs `program` (see [`super::hooks`] for the contract).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecHook {
    /// The node the hook is bound to, e.g. `./Vendor/Reboot`.
    pub uri: String,
    /// Path of the program.
    pub program: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Answer 202 at once and report the result later in a Generic Alert (DM Protocol 1.3
    /// §6.7.1.10 Correlator).
    #[serde(default, rename = "async")]
    pub async_: bool,
    /// Meta Type of that Generic Alert [default: [`DEFAULT_EXEC_ALERT_TYPE`]].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_type: Option<String>,
    /// Meta Mark of that Generic Alert (omitted: `informational`, §6.7.1.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// Seconds before the program is killed [default: 60 sync, 3600 async].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// `[fumo]`: the programs behind the firmware update MO (see [`super::fumo`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FumoConfig {
    /// Fetches the package: PkgURL on stdin, writes `$OMADM_FUMO_PKG`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<Program>,
    /// Installs the package at `$OMADM_FUMO_PKG`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Program>,
    /// Seconds before either program is killed [default: 3600].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// `[bootstrap]`: the secrets a pushed bootstrap's MAC is checked with (DM Security, DIGEST.md
/// §3.7).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSecrets {
    /// NETWORKID / USERPIN_NETWORKID: the shared network secret (e.g. the IMSI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_secret: Option<String>,
    /// USERPIN / USERPIN_NETWORKID: the user PIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

impl BootstrapSecrets {
    /// Neither secret is set.
    pub fn is_empty(&self) -> bool {
        self.network_secret.is_none() && self.pin.is_none()
    }
}

impl FumoConfig {
    /// Nothing is configured.
    pub fn is_empty(&self) -> bool {
        self == &FumoConfig::default()
    }
}

impl std::fmt::Debug for BootstrapSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapSecrets")
            .field(
                "network_secret",
                &self.network_secret.as_ref().map(|_| "<set>"),
            )
            .field("pin", &self.pin.as_ref().map(|_| "<set>"))
            .finish()
    }
}

fn default_max_msg_size() -> usize {
    DEFAULT_MAX_MSG_SIZE
}

fn default_max_obj_size() -> usize {
    DEFAULT_MAX_OBJ_SIZE
}

/// DM Protocol 1.3 §6: VerProto `DM/1.3`.
fn default_ver_proto() -> String {
    "DM/1.3".to_owned()
}

/// `omadm-device/<version>`.
pub fn default_user_agent() -> String {
    format!("omadm-device/{}", super::VERSION)
}

/// The whole of `device.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// DevInfo/DevId: the client's SyncHdr Source LocURI.
    pub device_id: String,
    /// The ServerID of the DMAcc account sessions and reports use.
    pub server_id: String,
    /// The URL messages are POSTed to.
    pub server_url: String,
    /// The wire encoding [default: wbxml].
    #[serde(default)]
    pub encoding: WireEncoding,
    /// MaxMsgSize [default: 16384].
    #[serde(default = "default_max_msg_size")]
    pub max_msg_size: usize,
    /// MaxObjSize [default: 1 MiB].
    #[serde(default = "default_max_obj_size")]
    pub max_obj_size: usize,
    /// HTTP `User-Agent` [default: `omadm-device/<version>`].
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// SyncHdr VerProto of session messages [default: `DM/1.3`, which DM Protocol 1.3 §6 asks
    /// for; `DM/1.2` talks to a DM 1.2 server].
    #[serde(default = "default_ver_proto")]
    pub ver_proto: String,
    /// What the Requested-MO codes of a DM 1.3 notification mean (code, as decimal text, to MO
    /// identifier). The code table is not public (DIGEST-1.3.md), so the device owner supplies
    /// it; a code not listed here is logged and skipped.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mo_codes: std::collections::BTreeMap<String, String>,
    /// Extra trusted root certificates (PEM) for https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Secrets for pushed bootstraps.
    #[serde(default, skip_serializing_if = "BootstrapSecrets::is_empty")]
    pub bootstrap: BootstrapSecrets,
    /// Exec hooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec: Vec<ExecHook>,
    /// FUMO programs.
    #[serde(default, skip_serializing_if = "FumoConfig::is_empty")]
    pub fumo: FumoConfig,
}

impl DeviceConfig {
    /// A configuration with the defaults for everything but the three identities.
    pub fn new(device_id: &str, server_id: &str, server_url: &str) -> DeviceConfig {
        DeviceConfig {
            device_id: device_id.to_owned(),
            server_id: server_id.to_owned(),
            server_url: server_url.to_owned(),
            encoding: WireEncoding::default(),
            max_msg_size: DEFAULT_MAX_MSG_SIZE,
            max_obj_size: DEFAULT_MAX_OBJ_SIZE,
            user_agent: default_user_agent(),
            ver_proto: default_ver_proto(),
            mo_codes: std::collections::BTreeMap::new(),
            ca_file: None,
            bootstrap: BootstrapSecrets::default(),
            exec: Vec::new(),
            fumo: FumoConfig::default(),
        }
    }

    /// Parses `device.toml` text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<DeviceConfig, AgentError> {
        let c: DeviceConfig = toml::from_str(text).map_err(|source| AgentError::Config {
            path: path.to_path_buf(),
            source,
        })?;
        c.validate(path)?;
        Ok(c)
    }

    /// The TOML text of this configuration.
    pub fn to_toml(&self, path: &Path) -> Result<String, AgentError> {
        toml::to_string(self).map_err(|source| AgentError::ConfigWrite {
            path: path.to_path_buf(),
            source,
        })
    }

    fn validate(&self, path: &Path) -> Result<(), AgentError> {
        let bad = |what: String| AgentError::BadConfig {
            path: path.to_path_buf(),
            what,
        };
        if self.device_id.trim().is_empty() {
            return Err(bad("device_id is empty".into()));
        }
        if self.server_id.trim().is_empty() {
            return Err(bad("server_id is empty".into()));
        }
        if self.max_msg_size == 0 || self.max_obj_size == 0 {
            return Err(bad("max_msg_size and max_obj_size must be positive".into()));
        }
        if self.ver_proto != "DM/1.2" && self.ver_proto != "DM/1.3" {
            return Err(bad(format!(
                "ver_proto {:?}: must be \"DM/1.2\" or \"DM/1.3\"",
                self.ver_proto
            )));
        }
        for code in self.mo_codes.keys() {
            if code.parse::<u16>().is_err() {
                return Err(bad(format!(
                    "[mo_codes] key {code:?}: must be a Requested-MO code, 0-65535"
                )));
            }
        }
        for h in &self.exec {
            if h.program.is_empty() {
                return Err(bad(format!("[[exec]] {}: program is empty", h.uri)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the module doc, as written there.
    fn doc_example() -> String {
        let src = include_str!("config.rs");
        src.lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| {
                l.strip_prefix("//! ")
                    .unwrap_or(l.trim_start_matches("//!"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_documented_example_parses() {
        let c = DeviceConfig::parse(&doc_example(), Path::new("device.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.server_id, "dm.example");
        assert_eq!(c.encoding, WireEncoding::Wbxml);
        assert_eq!(c.exec.len(), 1);
        assert!(!c.exec[0].async_);
        assert_eq!(c.bootstrap.pin.as_deref(), Some("1234"));
        assert!(c.fumo.download.is_some() && c.fumo.update.is_some());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = DeviceConfig::parse(
            "device_id = \"d\"\nserver_id = \"s\"\nserver_url = \"u\"\nmax_msg_sise = 1\n",
            Path::new("dev/device.toml"),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("dev/device.toml") && e.contains("max_msg_sise"),
            "{e}"
        );
    }
}
