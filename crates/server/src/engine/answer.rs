//! The server's messages: header (DM Protocol 1.3 §6.4: VerDTD/VerProto as the client's,
//! Target the device, Source the server, MaxMsgSize/MaxObjSize in Meta), Status commands, and
//! the encoded, signed result.

use omadm_syncml::{
    Chal, Command, Cred, Encoding, Location, Message, Meta, Status, SyncBody, SyncHdr,
};

use crate::engine::ServerConfig;
use compact_str::ToCompactString;

/// A Status answering the command `cmd_ref` (named `cmd`) of message `msg_ref`; its CmdID is
/// given when the message is numbered.
pub fn status(msg_ref: &str, cmd_ref: &str, cmd: &str, code: u16) -> Status {
    Status {
        msg_ref: msg_ref.into(),
        cmd_ref: cmd_ref.into(),
        cmd: cmd.into(),
        data: code.to_compact_string(),
        ..Status::default()
    }
}

/// The Status for the client's SyncHdr (CmdRef 0).
pub fn hdr_status(msg: &Message, code: u16, chal: Option<Box<Chal>>) -> Status {
    let mut s = status(&msg.hdr.msg_id, "0", "SyncHdr", code);
    // The SyncHdr Status names the session's endpoints (§11.1.2).
    s.target_refs = vec![msg.hdr.target.loc_uri.clone()];
    s.source_refs = vec![msg.hdr.source.loc_uri.clone()];
    s.chal = chal;
    s
}

/// The header of the server's message answering `client`.
pub fn hdr(cfg: &ServerConfig, client: &Message, msg_id: u32, cred: Option<Box<Cred>>) -> SyncHdr {
    let ver_dtd = match client.hdr.ver_dtd.trim() {
        "" => "1.2",
        v => v,
    };
    let ver_proto = match client.hdr.ver_proto.trim() {
        "" => "DM/1.2",
        v => v,
    };
    let mut meta = Meta::default();
    let more = meta.more_mut();
    more.max_msg_size = Some(cfg.max_msg_size.to_compact_string());
    more.max_obj_size = Some(cfg.max_obj_size.to_compact_string());
    SyncHdr {
        ver_dtd: ver_dtd.into(),
        ver_proto: ver_proto.into(),
        session_id: client.hdr.session_id.clone(),
        msg_id: msg_id.to_compact_string(),
        target: Location::new(client.hdr.source.loc_uri.clone()),
        source: Location::new(cfg.server_id.as_str()),
        resp_uri: cfg.resp_uri.as_deref().map(Into::into),
        no_resp: false,
        cred,
        meta: Some(meta),
    }
}

/// A message of `hdr` with `statuses` numbered from CmdID 1; the next free CmdID.
pub fn message(hdr: SyncHdr, statuses: Vec<Status>) -> (Message, u32) {
    let mut next = 1u32;
    let commands = statuses
        .into_iter()
        .map(|mut s| {
            s.cmd_id = next.to_compact_string();
            next += 1;
            Command::Status(s)
        })
        .collect();
    (
        Message {
            hdr,
            body: SyncBody {
                commands,
                final_: true,
            },
        },
        next,
    )
}

/// Encodes in `enc`.
pub fn encode(msg: &Message, enc: Encoding) -> Result<Vec<u8>, omadm_syncml::EncodeError> {
    msg.encode(enc)
}
