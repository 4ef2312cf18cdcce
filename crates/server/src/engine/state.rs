//! What a session remembers between messages ([`SessionState`]), stored as JSON in
//! [`crate::model::SessionRecord::state`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{ChildStatus, ResultItem};

/// Most commands the server keeps track of in one session (sent and awaiting an answer).
pub const MAX_SENT: usize = 10_000;
/// Most Results items recorded for one command.
pub const MAX_RESULT_ITEMS: usize = 10_000;

/// The engine's state between two messages of a session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// The client's VerDTD and VerProto: the server answers in the same (DM Protocol 1.3 §12).
    pub ver_dtd: String,
    pub ver_proto: String,
    /// The client's encoding: WBXML when true, else XML.
    pub wbxml: bool,
    /// The MsgID of the server's last message (0 before the first).
    pub msg_id: u32,
    /// The client authenticated in this session (212 given; basic and md5 need no more Cred).
    pub client_authenticated: bool,
    /// Authentication failures in a row.
    pub auth_failures: u32,
    /// The hash the client's `x-syncml-hmac` named (HMAC devices): the server signs with it.
    pub mac_sha256: bool,
    /// The client accepted the server's credentials (200/212 to a SyncHdr carrying them).
    pub server_authenticated: bool,
    /// The client's MaxMsgSize and MaxObjSize (SyncHdr Meta, DM Protocol 1.3 §8).
    pub max_msg_size: Option<u64>,
    pub max_obj_size: Option<u64>,
    /// Every command sent in this session and not yet settled, by (MsgID, CmdID).
    pub sent: Vec<Sent>,
    /// Answers gathered so far, per queued command.
    pub progress: BTreeMap<i64, Progress>,
    /// Commands the client refused with its challenge (401/407 to the server's SyncHdr): sent
    /// again first.
    pub resend: Vec<i64>,
    /// A large object the server is sending in chunks (§8).
    pub out_chunk: Option<OutChunk>,
    /// A large Results the client is sending in chunks (§8).
    pub in_chunk: Option<InChunk>,
    /// The server's package is not complete: its next message continues it (§7).
    pub package_open: bool,
    /// The client's last message and the server's answer to it, for a client that sends the
    /// same message again because the answer did not reach it (a dropped connection, a server
    /// restart between its commit and its reply): it gets the same answer, and nothing is
    /// applied twice.
    #[serde(default)]
    pub replay: Option<Replay>,
}

/// The last exchange of a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// The client's MsgID.
    pub msg_id: String,
    /// A hash and the length of the client's message bytes.
    pub digest: u64,
    pub len: usize,
    /// The answer, base64.
    pub answer: String,
    /// Its `x-syncml-hmac`.
    pub hmac: Option<String>,
}

/// The hash [`Replay::digest`] holds.
pub fn digest(body: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

/// One command the server sent: a top-level queued command, a command inside one (`child`: its
/// depth-first index), or a chunk of a large object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The server's MsgID.
    pub msg: u32,
    /// The CmdID.
    pub cmd: String,
    /// The queued command.
    pub id: i64,
    /// Depth-first index inside an Atomic/Sequence.
    pub child: Option<usize>,
    /// A chunk other than the last (its 213 settles nothing).
    pub chunk: bool,
}

/// What the client answered so far for one queued command.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The command's own Status.
    pub status: Option<u16>,
    pub children: Vec<ChildStatus>,
    pub results: Vec<ResultItem>,
}

/// The large object being sent: the queued command (Add/Replace of one value), how much of its
/// data went already.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutChunk {
    pub id: i64,
    /// Bytes of the data sent so far.
    pub offset: usize,
}

/// A chunked Results being reassembled (§8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InChunk {
    /// The queued command it answers.
    pub id: i64,
    /// Its Source, Format and Type (from the first chunk).
    pub source: Option<String>,
    pub format: Option<String>,
    pub type_: Option<String>,
    /// The Size the first chunk declared.
    pub size: Option<u64>,
    /// The data so far (text; binary data arrives base64-encoded with Format b64).
    pub data: String,
}

impl SessionState {
    /// Reads a stored state; `None` when empty or not ours.
    pub fn from_bytes(b: &[u8]) -> Option<SessionState> {
        if b.is_empty() {
            return None;
        }
        serde_json::from_slice(b).ok()
    }

    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Sized for the replayable answer it carries, so that the buffer does not grow in steps.
        let answer = self.replay.as_ref().map_or(0, |r| r.answer.len());
        let mut out = Vec::with_capacity(512 + answer + 64 * self.sent.len());
        match serde_json::to_writer(&mut out, self) {
            Ok(()) => out,
            Err(_) => Vec::new(),
        }
    }

    /// The entry a Status or Results refers to.
    pub fn find(&self, msg: u32, cmd: &str) -> Option<&Sent> {
        self.sent.iter().find(|s| s.msg == msg && s.cmd == cmd)
    }

    /// Ids of the queued commands sent and not yet answered with their own Status, in order.
    pub fn unanswered(&self) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::new();
        let ids = self
            .sent
            .iter()
            .map(|s| s.id)
            .chain(self.resend.iter().copied())
            .chain(self.out_chunk.iter().map(|c| c.id));
        for id in ids {
            let answered = self.progress.get(&id).is_some_and(|p| p.status.is_some());
            if !answered && !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// Forgets the commands whose Status came (the client's package is complete: nothing more
    /// will refer to them).
    pub fn settle(&mut self) {
        let done: Vec<i64> = self
            .progress
            .iter()
            .filter(|(_, p)| p.status.is_some())
            .map(|(id, _)| *id)
            .collect();
        self.sent.retain(|s| !done.contains(&s.id));
        for id in done {
            self.progress.remove(&id);
        }
    }
}
