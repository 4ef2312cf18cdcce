//! Sessionless Reporting 1.3 (seed 002): a report message is SessionID 0 and Alert 1230 only;
//! the server keeps it when its credentials verify and drops it silently otherwise
//! (DM-SR-S-003).

use omadm_security::cred::{self, AuthScheme};
use omadm_security::hmac_header::{verify_mac, HmacHeader};
use omadm_syncml::{AlertCode, Command, Message};

use super::client::alert_item;
use crate::model::{AlertItem, ClientAuthType, Device};

/// Most items kept from one report.
const MAX_ITEMS: usize = 1_000;

/// True for a Sessionless Report Message: SessionID 0 and nothing but Alert 1230.
pub fn is_report(msg: &Message) -> bool {
    msg.hdr.session_id.trim() == "0"
        && !msg.body.commands.is_empty()
        && msg.body.commands.iter().all(
            |c| matches!(c, Command::Alert(a) if a.code() == Some(AlertCode::SESSIONLESS_REPORT)),
        )
}

/// The items of a report from `device` when it is one and it authenticates (its `Cred`: basic,
/// or md5 over the device's `client_nonce`; an HMAC device's `x-syncml-hmac`); `None` otherwise.
pub fn verify_report(device: &Device, body: &[u8], hmac: Option<&str>) -> Option<Vec<AlertItem>> {
    let msg = Message::decode_with(body, &omadm_syncml::Limits::default())
        .ok()?
        .0;
    if !is_report(&msg) || msg.hdr.source.loc_uri != device.device_id.as_str() {
        return None;
    }
    let ca = &device.client_auth;
    let ok = match ca.type_ {
        ClientAuthType::Hmac => {
            let h = HmacHeader::parse(hmac?).ok()?;
            h.username() == ca.name
                && verify_mac(&h, &ca.secret, &device.client_nonce, body).is_ok()
        }
        ClientAuthType::Basic | ClientAuthType::Digest => {
            let c = msg.hdr.cred.as_deref()?;
            let sent = c
                .meta
                .as_ref()
                .and_then(|m| m.type_.as_deref())
                .map_or(Some(AuthScheme::Basic), AuthScheme::from_meta_type);
            match (ca.type_, sent) {
                (ClientAuthType::Basic, Some(AuthScheme::Basic)) => {
                    cred::verify_basic(&c.data, &ca.name, &ca.secret).is_ok()
                }
                (ClientAuthType::Digest, Some(AuthScheme::Md5)) => {
                    cred::verify_md5(&c.data, &ca.name, &ca.secret, &device.client_nonce).is_ok()
                }
                _ => false,
            }
        }
    };
    if !ok {
        return None;
    }
    let items = msg
        .body
        .commands
        .iter()
        .flat_map(|c| c.items())
        .take(MAX_ITEMS)
        .map(alert_item)
        .collect();
    Some(items)
}
