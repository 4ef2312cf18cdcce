//! Sessionless Command Messages (OMA DM Sessionless 1.3 §5) the server sends: built here,
//! pushed by the HTTP layer.

use omadm_security::cred;
use omadm_security::hmac_header::{HmacHeader, MacAlgorithm};
use omadm_syncml::{Cred, Encoding, Location, Message, Meta, SyncBody, SyncHdr};

use crate::model::{CommandSpec, Device, Op};

/// A message ready to push.
#[derive(Clone, Debug)]
pub struct SessionlessMessage {
    /// The WBXML bytes.
    pub body: Vec<u8>,
    /// The `x-syncml-hmac` header value.
    pub hmac: String,
}

/// Why a sessionless command message cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SessionlessError {
    /// No command.
    #[error("a sessionless command message needs at least one command")]
    Empty,
    /// §5.2 (DM-SM-S-008): "The GET command MUST NOT be included".
    #[error("a sessionless command message must not hold a Get (DM Sessionless 1.3 §5.2)")]
    Get,
    /// The message does not encode.
    #[error("cannot encode the message: {0}")]
    Encode(#[from] omadm_syncml::EncodeError),
    /// The integrity header cannot be made.
    #[error("cannot sign the message: {0}")]
    Sign(#[from] omadm_security::hmac_header::HeaderError),
}

fn has_get(s: &CommandSpec) -> bool {
    s.op == Op::Get || s.commands.iter().any(has_get)
}

/// The message for `device` (DM Sessionless 1.3 §5.2): WBXML (DM-SM-S-002), SyncHdr Source =
/// `server_id` (DM-SM-S-003), SessionID 0, `Cred` in the SyncHdr with the server's
/// authentication (DM-SM-S-007: MD5 digest with the device's SRVCRED over its last nonce),
/// Final, the commands (no Get, DM-SM-S-008), and the transport-neutral integrity header
/// `x-syncml-hmac` (HMAC-SHA256 with the same credentials over the exact body, §5.5).
pub fn command_message(
    server_id: &str,
    device: &Device,
    specs: &[CommandSpec],
) -> Result<SessionlessMessage, SessionlessError> {
    if specs.is_empty() {
        return Err(SessionlessError::Empty);
    }
    if specs.iter().any(has_get) {
        return Err(SessionlessError::Get);
    }
    let msg = Message {
        hdr: SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.3".into(),
            session_id: "0".into(),
            msg_id: "1".into(),
            target: Location::new(device.device_id.as_str()),
            source: Location::new(server_id),
            cred: Some(Box::new(Cred {
                meta: Some(Meta::format_type("b64", "syncml:auth-md5")),
                data: cred::md5_digest(
                    &device.server_auth.name,
                    &device.server_auth.secret,
                    &device.server_nonce,
                )
                .into(),
            })),
            ..SyncHdr::default()
        },
        body: SyncBody {
            commands: super::commands_for(specs),
            final_: true,
        },
    };
    let body = msg.encode(Encoding::Wbxml)?;
    let hmac = HmacHeader::sign(
        MacAlgorithm::Sha256,
        &device.server_auth.name,
        &device.server_auth.secret,
        &device.server_nonce,
        &body,
    )?
    .to_header_value();
    Ok(SessionlessMessage { body, hmac })
}
