//! `DIR/alerts.json`: Generic Alerts (1226) waiting to be sent in the next session's package #1
//! (DM Protocol 1.3 §6.7: "Anytime after the Client or Server Initiated Management Alert, the DM
//! Client MAY send a Generic Alert").
//!
//! Background jobs append ([`super::DeviceDir::queue_alert`]); the session driver reads them
//! ([`super::DeviceDir::queued_alerts`]), sends each with [`GenericAlert::to_command`], and drops
//! those the server answered ([`super::DeviceDir::remove_alerts`]), so an alert survives a failed
//! session and a crash.

use omadm_syncml::Command;
use serde::{Deserialize, Serialize};

/// One Generic Alert (DM Protocol 1.3 §6.7.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericAlert {
    /// §6.7.1.10: the Correlator of the Exec this alert answers, when it answers one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlator: Option<String>,
    /// §6.7.1.4: Item Source LocURI, the node the alert is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// §6.7.1.6: Meta Type, a `urn:oma:at:...` URN or a reversed domain name.
    #[serde(rename = "type")]
    pub alert_type: String,
    /// §6.7.1.7: Meta Format of the Data (`chr`, `int`, `xml`...).
    pub format: String,
    /// §6.7.1.8: Meta Mark; omitted means `informational`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// §6.7.1.9: the Item's Data.
    pub data: String,
}

impl GenericAlert {
    /// The Alert command: Data 1226, the Correlator, one Item with Source, Meta Type/Format/Mark
    /// and Data (§6.7.1), as the session engine sends it.
    pub fn to_command(&self, cmd_id: &str) -> Command {
        crate::session::GenericAlert::from(self).to_command(cmd_id)
    }
}

impl From<&GenericAlert> for crate::session::GenericAlert {
    fn from(a: &GenericAlert) -> crate::session::GenericAlert {
        crate::session::GenericAlert {
            correlator: a.correlator.clone(),
            source: a.source.clone(),
            target: None,
            alert_type: a.alert_type.clone(),
            format: a.format.clone(),
            mark: a.mark.clone(),
            data: a.data.clone(),
        }
    }
}

/// A queued alert: an id to remove it by once sent, and when it was queued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedAlert {
    /// Unique within the directory, increasing.
    pub id: u64,
    /// Seconds since the Unix epoch.
    pub queued_at: u64,
    /// The alert.
    #[serde(flatten)]
    pub alert: GenericAlert,
}

/// The file: the next id and the alerts, oldest first.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AlertFile {
    pub next_id: u64,
    pub alerts: Vec<QueuedAlert>,
}
