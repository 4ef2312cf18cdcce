//! Sessionless Command Messages (OMA DM Sessionless 1.3 §5) the server sends: built here,
//! pushed by the HTTP layer.

use omadm_security::cred;
use omadm_security::hmac_header::{HmacHeader, MacAlgorithm};
use omadm_syncml::{Cred, Encoding, Location, Message, Meta, SyncBody, SyncHdr};

use omadm_tree::tnds;

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
    /// DM Sessionless 1.3 §5.5 (DM-SM-S-005): every node a TNDS object creates must carry its
    /// ACL as an RTProperties ACL.
    #[error("the TNDS object for {target} has a node without an ACL property: {node} (DM Sessionless 1.3 §5.5: new nodes carry their ACL)")]
    TndsWithoutAcl {
        /// The command's target.
        target: String,
        /// The node's name (or path).
        node: String,
    },
    /// A command's data says it is TNDS but is not.
    #[error("the data of the command for {target} is not a TNDS object: {detail}")]
    BadTnds {
        /// The command's target.
        target: String,
        /// Why.
        detail: String,
    },
    /// The integrity header cannot be made.
    #[error("cannot sign the message: {0}")]
    Sign(#[from] omadm_security::hmac_header::HeaderError),
}

fn has_get(s: &CommandSpec) -> bool {
    s.op == Op::Get || s.commands.iter().any(has_get)
}

/// §5.5 (DM-SM-S-005): the TNDS objects the message adds carry an ACL on every node.
fn check_tnds_acls(s: &CommandSpec) -> Result<(), SessionlessError> {
    for c in &s.commands {
        check_tnds_acls(c)?;
    }
    let tnds_type = s
        .type_
        .as_deref()
        .map(|t| t.split(';').next().unwrap_or_default().trim());
    let wbxml = match tnds_type {
        Some(t) if t.eq_ignore_ascii_case(tnds::MIME_XML) => false,
        Some(t) if t.eq_ignore_ascii_case(tnds::MIME_WBXML) => true,
        _ => return Ok(()),
    };
    if !matches!(s.op, Op::Add | Op::Replace) {
        return Ok(());
    }
    let target = s.target.clone().unwrap_or_default();
    let bad = |detail: String| SessionlessError::BadTnds {
        target: target.clone(),
        detail,
    };
    let data = s.data.as_deref().unwrap_or_default();
    let bytes = if wbxml {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| bad(format!("WBXML TNDS data must be base64 (Format b64): {e}")))?
    } else {
        data.as_bytes().to_vec()
    };
    let doc = tnds::decode(&bytes, &tnds::TndsLimits::default()).map_err(|e| bad(e.to_string()))?;
    fn walk(n: &tnds::TndsNode, parent: &str) -> Option<String> {
        let name = format!(
            "{parent}{}{}",
            n.path
                .as_deref()
                .map(|p| format!("{p}/"))
                .unwrap_or_default(),
            n.node_name.as_deref().unwrap_or("<unnamed>")
        );
        if n.rt.acl.is_none() {
            return Some(name);
        }
        n.children.iter().find_map(|c| walk(c, &format!("{name}/")))
    }
    match doc.nodes.iter().find_map(|n| walk(n, "")) {
        Some(node) => Err(SessionlessError::TndsWithoutAcl { target, node }),
        None => Ok(()),
    }
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
    for s in specs {
        check_tnds_acls(s)?;
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
