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
    /// The answer, base64: of its LZ4 block when `size` is given, else of the message itself
    /// (states stored before compression).
    pub answer: String,
    /// The answer's length before compression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    /// Its `x-syncml-hmac`.
    pub hmac: Option<String>,
}

/// The largest answer a stored state may claim (a damaged row does not make the server
/// allocate more): far above any MaxMsgSize a device announces.
const MAX_REPLAY: usize = 64 << 20;

impl Replay {
    /// The exchange of client message `msg_id` (hashed as `digest`, `len` bytes) answered by
    /// `answer`, stored compressed: an answer is the bulk of a session's state (with LZ4 a
    /// load-test session's state is 1.7 KB mid-session instead of 2.8; docs/performance.md,
    /// fourth pass).
    pub fn new(
        msg_id: String,
        (digest, len): (u64, usize),
        answer: &[u8],
        hmac: Option<String>,
    ) -> Replay {
        Replay {
            msg_id,
            digest,
            len,
            answer: packed(answer),
            size: Some(answer.len()),
            hmac,
        }
    }

    /// The stored answer; `None` when the stored form does not decode.
    pub fn answer(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let stored = base64::engine::general_purpose::STANDARD
            .decode(&self.answer)
            .ok()?;
        match self.size {
            None => Some(stored),
            Some(size) if size <= MAX_REPLAY => {
                let body = lz4_flex::block::decompress(&stored, size).ok()?;
                (body.len() == size).then_some(body)
            }
            Some(_) => None,
        }
    }
}

/// Compression state kept per thread: `lz4_flex::block::compress` allocates and zeroes a hash
/// table and an output buffer for every answer (reusing them: −0.4% of the server's
/// instructions under load, callgrind).
struct Lz4 {
    table: lz4_flex::block::CompressTable,
    out: Vec<u8>,
}

/// The output buffer kept between answers, at most (a larger answer's is freed after use).
const LZ4_KEEP: usize = 256 << 10;

thread_local! {
    static LZ4: std::cell::RefCell<Lz4> = std::cell::RefCell::new(Lz4 {
        table: lz4_flex::block::CompressTable::default(),
        out: Vec::new(),
    });
}

/// `answer` as an LZ4 block (what `lz4_flex::block::compress` returns), in base64.
fn packed(answer: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = &base64::engine::general_purpose::STANDARD;
    LZ4.with_borrow_mut(|z| {
        let max = lz4_flex::block::get_maximum_output_size(answer.len());
        if z.out.len() < max {
            z.out.resize(max, 0);
        }
        // The buffer is sized for the worst case, so this always succeeds.
        let text = match lz4_flex::block::compress_into_with_table(answer, &mut z.out, &mut z.table)
        {
            Ok(n) => b64.encode(z.out.get(..n).unwrap_or_default()),
            Err(_) => b64.encode(lz4_flex::block::compress(answer)),
        };
        if z.out.len() > LZ4_KEEP {
            z.out = Vec::new();
        }
        text
    })
}

/// The hash [`Replay::digest`] holds: 64-bit FNV-1a, fixed for good (a stored state is
/// compared with messages received after an upgrade; std's `DefaultHasher` may change between
/// Rust releases). The MsgID and the length are compared too.
pub fn digest(body: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    body.iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_fnv_1a_64() {
        // The published FNV-1a 64 test vectors: stable across Rust releases and builds.
        assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(digest(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn replay_stores_the_answer_compressed_and_gives_it_back() {
        let answer = "<SyncML><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr><SyncBody>"
            .to_owned()
            + &"<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Mod</LocURI></Target></Item></Get>"
                .repeat(8)
            + "<Final/></SyncBody></SyncML>";
        let r = Replay::new("2".into(), (digest(b"x"), 1), answer.as_bytes(), None);
        assert_eq!(r.size, Some(answer.len()));
        assert!(
            r.answer.len() < answer.len() / 2,
            "stored {} bytes",
            r.answer.len()
        );
        assert_eq!(r.answer().as_deref(), Some(answer.as_bytes()));
        // Through the stored form (JSON) and back.
        let st = SessionState {
            replay: Some(r),
            ..SessionState::default()
        };
        let back = SessionState::from_bytes(&st.to_bytes()).unwrap();
        assert_eq!(
            back.replay.and_then(|r| r.answer()).as_deref(),
            Some(answer.as_bytes())
        );
    }

    #[test]
    fn answers_of_every_size_compress_as_lz4_does_with_the_thread_s_table() {
        // Small, large (the table grows to 32-bit entries, the buffer is then freed), small
        // again, empty: each stored as `lz4_flex::block::compress` stores it, and read back.
        let small: Vec<u8> = b"<Status><CmdID>1</CmdID></Status>".repeat(40);
        let large: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for answer in [&small[..], &large[..], &small[..], b""] {
            use base64::Engine as _;
            let lz4 = lz4_flex::block::compress(answer);
            assert_eq!(
                packed(answer),
                base64::engine::general_purpose::STANDARD.encode(lz4)
            );
            let r = Replay::new("2".into(), (digest(answer), answer.len()), answer, None);
            assert_eq!(r.answer().as_deref(), Some(answer));
        }
    }

    #[test]
    fn replay_reads_states_stored_before_compression() {
        let old = br#"{"msg_id":"3","digest":7,"len":5,"answer":"PFN5bmNNTC8+","hmac":null}"#;
        let r: Replay = serde_json::from_slice(old).unwrap();
        assert_eq!(r.size, None);
        assert_eq!(r.answer().as_deref(), Some(&b"<SyncML/>"[..]));
    }

    #[test]
    fn a_damaged_replay_gives_no_answer() {
        let mut r = Replay::new("2".into(), (1, 1), b"<SyncML>abcabcabcabc</SyncML>", None);
        // A claimed size that does not match, one far too large, and bytes that are not LZ4.
        r.size = Some(5);
        assert_eq!(r.answer(), None);
        r.size = Some(usize::MAX);
        assert_eq!(r.answer(), None);
        r.size = Some(10);
        r.answer = "////".into();
        assert_eq!(r.answer(), None);
    }
}
