//! Messages the server refuses before any session work: for an unknown device (item 9 of the
//! server issue) and for a session it does not know or that is over.

use omadm_syncml::{Command, Encoding, Message};
use serde_json::json;

use super::answer::{self, hdr_status, status};
use super::auth;
use super::{EngineError, Outbound, ServerConfig};
use crate::model::Device;
use crate::store::{Changes, NewAudit};

/// A message for no session the server knows, or for one that is over: a SyncHdr Status
/// (404 unknown, 506 ended or unreadable) and nothing else.
pub fn refuse(
    cfg: &ServerConfig,
    dev: &Device,
    msg: &Message,
    enc: Encoding,
    code: u16,
    event: &str,
    now: i64,
) -> Result<Outbound, EngineError> {
    let hdr = answer::hdr(cfg, msg, 1, None);
    let (out, _) = answer::message(hdr, vec![hdr_status(msg, code, None)]);
    let body = answer::encode(&out, enc)?;
    let mut changes = Changes::default();
    changes.device.last_seen = Some(now);
    changes.audit.push(NewAudit {
        device_id: Some(dev.device_id.clone()),
        session_id: Some(msg.hdr.session_id.to_string()),
        event: event.into(),
        detail: json!({ "status": code, "msg_id": msg.hdr.msg_id.as_str() }),
    });
    Ok(Outbound {
        body,
        content_type: enc.content_type().into(),
        hmac: None,
        changes,
        session_over: true,
    })
}

/// No enrolled device has the message's Source (item 9 of the server issue): a SyncML refusal
/// (401 with a Chal, and 401 for every command), audited without a device.
pub fn unknown_device(
    cfg: &ServerConfig,
    msg: &Message,
    enc: Encoding,
    nonce: &mut dyn FnMut() -> Vec<u8>,
) -> Result<Outbound, EngineError> {
    let n = nonce();
    let chal = auth::chal(omadm_security::cred::AuthScheme::Md5, Some(&n));
    let mut statuses = vec![hdr_status(msg, 401, Some(chal))];
    for c in &msg.body.commands {
        if !matches!(c, Command::Status(_) | Command::Results(_)) {
            statuses.push(status(&msg.hdr.msg_id, c.cmd_id(), c.name(), 401));
        }
    }
    let (out, _) = answer::message(answer::hdr(cfg, msg, 1, None), statuses);
    let body = answer::encode(&out, enc)?;
    let mut changes = Changes::default();
    changes.audit.push(NewAudit {
        device_id: None,
        session_id: None,
        event: "device.unknown".into(),
        detail: json!({
            "device_id": msg.hdr.source.loc_uri.as_str(),
            "session_id": msg.hdr.session_id.as_str(),
        }),
    });
    Ok(Outbound {
        body,
        content_type: enc.content_type().into(),
        hmac: None,
        changes,
        session_over: true,
    })
}
