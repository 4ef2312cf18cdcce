//! The client's own commands: the session Alert (1200/1201), DevInfo in Replace (package #1,
//! DM Protocol 1.3 §6.3), Generic Alerts (1226, §6.7), tree-change and requested-MO alerts
//! (1227-1229, §6.8), requests for the next message (1222) and abort (1223). Each gets its
//! Status (DM-PRO-S-008); the alerts are recorded.

use std::collections::BTreeMap;

use omadm_syncml::{AlertCode, Command, Item, Message, Status};

use super::answer::status;
use crate::model::AlertItem;
use crate::store::NewAlert;

/// Most DevInfo leaves kept, and the longest value.
const MAX_DEVINFO: usize = 64;
const MAX_DEVINFO_VALUE: usize = 1024;
/// Most alerts recorded from one message.
const MAX_ALERTS: usize = 256;
/// Most items recorded per alert, and the longest Data kept of each.
const MAX_ALERT_ITEMS: usize = 256;

/// What the client's commands asked and what the server answers.
#[derive(Debug, Default)]
pub struct ClientCmds {
    /// Statuses for the client's commands, in order (CmdIDs given when packed).
    pub statuses: Vec<Status>,
    /// Alerts to record.
    pub alerts: Vec<NewAlert>,
    /// Generic Alerts refused with 415.
    pub rejected: Vec<String>,
    /// DevInfo from the Replace of package #1.
    pub devinfo: Option<BTreeMap<String, String>>,
    /// Alert 1223: the client aborts the session.
    pub abort: bool,
    /// Alert 1200/1201: package #1.
    pub session_alert: bool,
}

/// DM Protocol 1.3 §6.7.1.6: a Generic Alert's Type is a URN (`urn:oma:at:...`) or a reverse
/// domain name (`com.example.event`).
pub fn valid_alert_type(t: &str) -> bool {
    let t = t.trim();
    if t.is_empty() || t.len() > 256 {
        return false;
    }
    let good = |c: char| c.is_ascii_alphanumeric() || "-_.:+%".contains(c);
    if !t.chars().all(good) {
        return false;
    }
    if t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        let parts: Vec<&str> = t.get(4..).unwrap_or("").split(':').collect();
        return parts.len() >= 2 && parts.iter().all(|p| !p.is_empty());
    }
    let labels: Vec<&str> = t.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        })
}

fn text(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

/// One Item of an alert as recorded.
pub fn alert_item(it: &Item) -> AlertItem {
    let m = it.meta.as_ref();
    AlertItem {
        source: it.source.as_ref().map(|l| l.loc_uri.to_string()),
        target: it.target.as_ref().map(|l| l.loc_uri.to_string()),
        type_: text(m.and_then(|m| m.type_.as_deref())),
        format: text(m.and_then(|m| m.format.as_deref())),
        mark: text(m.and_then(|m| m.mark())),
        data: it.data.as_ref().map(|d| d.to_text_lossy().into_owned()),
    }
}

/// Answers the client's commands other than Status and Results.
pub fn handle(msg: &Message) -> ClientCmds {
    let mut out = ClientCmds::default();
    let msg_ref = msg.hdr.msg_id.as_str();
    for c in &msg.body.commands {
        let code = match c {
            Command::Status(_) | Command::Results(_) => continue,
            Command::Alert(a) => {
                let Some(code) = a.code() else {
                    push(&mut out, msg_ref, c, a.no_resp, 400);
                    continue;
                };
                let answer = match code {
                    AlertCode::CLIENT_INITIATED_MGMT | AlertCode::SERVER_INITIATED_MGMT => {
                        out.session_alert = true;
                        200
                    }
                    AlertCode::NEXT_MESSAGE => 200,
                    AlertCode::SESSION_ABORT => {
                        out.abort = true;
                        200
                    }
                    AlertCode::GENERIC => {
                        // §6.7: 415 when the Type is missing or not one the server can read.
                        let ok = !a.items.is_empty()
                            && a.items.iter().all(|it| {
                                it.meta
                                    .as_ref()
                                    .and_then(|m| m.type_.as_deref())
                                    .is_some_and(valid_alert_type)
                            });
                        if ok {
                            record(&mut out, code.0, a);
                            200
                        } else {
                            let t = a
                                .items
                                .iter()
                                .find_map(|it| it.meta.as_ref().and_then(|m| m.type_.clone()));
                            out.rejected
                                .push(t.map(|t| t.to_string()).unwrap_or_default());
                            415
                        }
                    }
                    _ => {
                        record(&mut out, code.0, a);
                        200
                    }
                };
                push(&mut out, msg_ref, c, a.no_resp, answer);
                continue;
            }
            Command::Replace(r) => {
                let devinfo = r.items.iter().all(|it| devinfo_leaf(it).is_some());
                if devinfo && !r.items.is_empty() {
                    let map = out.devinfo.get_or_insert_with(BTreeMap::new);
                    for it in &r.items {
                        if let Some(leaf) = devinfo_leaf(it) {
                            if map.len() < MAX_DEVINFO || map.contains_key(leaf) {
                                let mut v = it
                                    .data
                                    .as_ref()
                                    .map(|d| d.to_text_lossy().into_owned())
                                    .unwrap_or_default();
                                truncate(&mut v, MAX_DEVINFO_VALUE);
                                map.insert(leaf.to_owned(), v);
                            }
                        }
                    }
                    200
                } else {
                    // §5.5: the client sends no Replace but of DevInfo.
                    405
                }
            }
            Command::Unsupported(_) => 406,
            // §5.5: the client sends no management commands to the server.
            _ => 405,
        };
        let no_resp = match c {
            Command::Replace(r) => r.no_resp,
            _ => false,
        };
        push(&mut out, msg_ref, c, no_resp, code);
    }
    out
}

fn push(out: &mut ClientCmds, msg_ref: &str, c: &Command, no_resp: bool, code: u16) {
    if !no_resp {
        out.statuses
            .push(status(msg_ref, c.cmd_id(), c.name(), code));
    }
}

fn record(out: &mut ClientCmds, code: u16, a: &omadm_syncml::Alert) {
    if out.alerts.len() >= MAX_ALERTS {
        return;
    }
    out.alerts.push(NewAlert {
        code,
        correlator: a.correlator.as_ref().map(|c| c.to_string()),
        items: a
            .items
            .iter()
            .take(MAX_ALERT_ITEMS)
            .map(alert_item)
            .collect(),
    });
}

/// The leaf under `./DevInfo/` an item names (Source, or Target for older clients).
fn devinfo_leaf(it: &Item) -> Option<&str> {
    let uri = it.source.as_ref().or(it.target.as_ref())?.loc_uri.as_str();
    let rest = uri
        .strip_prefix("./DevInfo/")
        .or_else(|| uri.strip_prefix("DevInfo/"))?;
    (!rest.is_empty()).then_some(rest)
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut n = max;
        while n > 0 && !s.is_char_boundary(n) {
            n -= 1;
        }
        s.truncate(n);
    }
}
