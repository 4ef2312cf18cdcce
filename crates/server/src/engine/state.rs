//! What a session remembers between messages ([`SessionState`]), stored in
//! [`crate::model::SessionRecord::state`] (binary; JSON in earlier versions, still read).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{ChildStatus, ResultItem};

/// Most commands the server keeps track of in one session (sent and awaiting an answer).
pub const MAX_SENT: usize = 10_000;
/// Most Results items recorded for one command.
pub const MAX_RESULT_ITEMS: usize = 10_000;

/// What a stored state in the binary form starts with (a JSON one starts with `{`).
const BINARY: &[u8] = b"\0S1";

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
///
/// Stored in the binary form (see [`SessionState::to_bytes`]) the answer is kept as sent, bytes
/// as they are. States stored as JSON before (base64 of the answer, of its LZ4 block when
/// `size` is given) still read: serde's human-readable formats get that shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// The client's MsgID.
    pub msg_id: String,
    /// A hash and the length of the client's message bytes.
    pub digest: u64,
    pub len: usize,
    /// The answer; `None` when a stored one did not decode.
    answer: Option<Vec<u8>>,
    /// Its `x-syncml-hmac`.
    pub hmac: Option<String>,
}

/// The largest answer a stored JSON state may claim (a damaged row does not make the server
/// allocate more): far above any MaxMsgSize a device announces.
const MAX_REPLAY: usize = 64 << 20;

impl Replay {
    /// The exchange of client message `msg_id` (hashed as `digest`, `len` bytes) answered by
    /// `answer` (taken, not copied: [`Replay::into_answer`] gives it back once the state is
    /// stored).
    pub fn new(
        msg_id: String,
        (digest, len): (u64, usize),
        answer: Vec<u8>,
        hmac: Option<String>,
    ) -> Replay {
        Replay {
            msg_id,
            digest,
            len,
            answer: (!answer.is_empty()).then_some(answer),
            hmac,
        }
    }

    /// The stored answer; `None` when the stored form did not decode (or was empty: no
    /// answer is).
    pub fn answer(&self) -> Option<&[u8]> {
        self.answer.as_deref()
    }

    /// The answer, taken out.
    pub fn into_answer(self) -> Option<Vec<u8>> {
        self.answer
    }
}

/// The binary form of [`Replay`] (an empty answer: none).
#[derive(Serialize, Deserialize)]
struct BinaryReplay<'a> {
    msg_id: std::borrow::Cow<'a, str>,
    digest: u64,
    len: usize,
    #[serde(with = "serde_bytes", borrow)]
    answer: std::borrow::Cow<'a, [u8]>,
    hmac: Option<std::borrow::Cow<'a, str>>,
}

/// The JSON form of [`Replay`], as stored before the binary form.
#[derive(Serialize, Deserialize)]
struct JsonReplay {
    msg_id: String,
    digest: u64,
    len: usize,
    /// Base64: of the answer's LZ4 block when `size` is given, else of the answer.
    answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<usize>,
    hmac: Option<String>,
}

impl JsonReplay {
    fn answer(&self) -> Option<Vec<u8>> {
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

impl Serialize for Replay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use std::borrow::Cow;
        if s.is_human_readable() {
            use base64::Engine as _;
            let answer = self.answer.as_deref().unwrap_or_default();
            return JsonReplay {
                msg_id: self.msg_id.clone(),
                digest: self.digest,
                len: self.len,
                answer: base64::engine::general_purpose::STANDARD
                    .encode(lz4_flex::block::compress(answer)),
                size: Some(answer.len()),
                hmac: self.hmac.clone(),
            }
            .serialize(s);
        }
        BinaryReplay {
            msg_id: Cow::Borrowed(&self.msg_id),
            digest: self.digest,
            len: self.len,
            answer: Cow::Borrowed(self.answer.as_deref().unwrap_or_default()),
            hmac: self.hmac.as_deref().map(Cow::Borrowed),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Replay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Replay, D::Error> {
        if d.is_human_readable() {
            let j = JsonReplay::deserialize(d)?;
            return Ok(Replay {
                answer: j.answer().filter(|a| !a.is_empty()),
                msg_id: j.msg_id,
                digest: j.digest,
                len: j.len,
                hmac: j.hmac,
            });
        }
        let b = BinaryReplay::deserialize(d)?;
        Ok(Replay {
            msg_id: b.msg_id.into_owned(),
            digest: b.digest,
            len: b.len,
            answer: (!b.answer.is_empty()).then(|| b.answer.into_owned()),
            hmac: b.hmac.map(std::borrow::Cow::into_owned),
        })
    }
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
    /// Reads a stored state, binary or JSON (as earlier versions stored it); `None` when empty or
    /// not ours.
    pub fn from_bytes(b: &[u8]) -> Option<SessionState> {
        match b {
            [] => None,
            [b'{', ..] => serde_json::from_slice(b).ok(),
            _ => postcard::from_bytes(b.strip_prefix(BINARY)?).ok(),
        }
    }

    /// The stored form: [`BINARY`], then the state in postcard's format (a JSON state and
    /// its base64 answer cost about 4% of the server's instructions per session, and the
    /// answer's LZ4 as much again, all while the message holds the database: issue 7,
    /// docs/performance.md).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Sized for the replayable answer it carries, so that the buffer does not grow in steps.
        let answer = self
            .replay
            .as_ref()
            .and_then(Replay::answer)
            .map_or(0, <[u8]>::len);
        let mut out = Vec::with_capacity(256 + answer + 32 * self.sent.len());
        out.extend_from_slice(BINARY);
        postcard::to_extend(self, out).unwrap_or_default()
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

    /// A state with every part set, as a session in the middle of chunks and a replay.
    fn full_state(answer: &[u8]) -> SessionState {
        SessionState {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.2".into(),
            wbxml: true,
            msg_id: 3,
            client_authenticated: true,
            auth_failures: 1,
            mac_sha256: true,
            server_authenticated: true,
            max_msg_size: Some(16_384),
            max_obj_size: None,
            sent: vec![Sent {
                msg: 2,
                cmd: "4".into(),
                id: 77,
                child: Some(1),
                chunk: false,
            }],
            progress: BTreeMap::from([(
                77,
                Progress {
                    status: Some(200),
                    children: vec![ChildStatus {
                        index: 0,
                        status: 215,
                    }],
                    results: vec![ResultItem {
                        source: Some("./DevInfo/Mod".into()),
                        format: None,
                        type_: Some("text/plain".into()),
                        data: Some("é <&> ünïcode".into()),
                    }],
                },
            )]),
            resend: vec![5, 6],
            out_chunk: Some(OutChunk {
                id: 8,
                offset: 1024,
            }),
            in_chunk: Some(InChunk {
                id: 9,
                source: None,
                format: Some("b64".into()),
                type_: None,
                size: Some(3),
                data: "QUJD".into(),
            }),
            package_open: true,
            replay: Some(Replay::new(
                "2".into(),
                (digest(b"x"), 1),
                answer.to_vec(),
                Some("algorithm=MD5, username=\"a\", mac=x".into()),
            )),
        }
    }

    #[test]
    fn the_binary_form_keeps_every_part_and_the_answer_as_sent() {
        let answer: Vec<u8> = (0..=255u8).cycle().take(1500).collect();
        let st = full_state(&answer);
        let bytes = st.to_bytes();
        assert!(bytes.starts_with(BINARY));
        // The answer's bytes themselves, with little around them.
        assert!(bytes.windows(answer.len()).any(|w| w == answer));
        assert!(bytes.len() < answer.len() + 200, "{} bytes", bytes.len());
        assert_eq!(SessionState::from_bytes(&bytes), Some(st));
        assert_eq!(
            SessionState::from_bytes(&SessionState::default().to_bytes()),
            Some(SessionState::default())
        );
    }

    #[test]
    fn json_states_stored_before_still_read() {
        // The shape the JSON form had (answer LZ4-compressed, base64), written by serde_json.
        let st = full_state(b"<SyncML><SyncBody><Final/></SyncBody></SyncML>");
        let json = serde_json::to_vec(&st).unwrap();
        assert!(json.starts_with(b"{"));
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains(r#""size":46"#), "{text}");
        assert_eq!(SessionState::from_bytes(&json), Some(st));
        // A state as the server wrote it before: a 9-byte answer as one LZ4 literal run.
        let old = br#"{"ver_dtd":"1.2","ver_proto":"DM/1.2","wbxml":false,"msg_id":1,
            "client_authenticated":true,"auth_failures":0,"mac_sha256":false,
            "server_authenticated":false,"max_msg_size":null,"max_obj_size":null,"sent":[],
            "progress":{},"resend":[],"out_chunk":null,"in_chunk":null,"package_open":false,
            "replay":{"msg_id":"1","digest":7,"len":5,"answer":"kDxTeW5jTUwvPg==","size":9,
            "hmac":null}}"#;
        let st = SessionState::from_bytes(old).unwrap();
        let r = st.replay.unwrap();
        assert_eq!((r.msg_id.as_str(), r.digest, r.len), ("1", 7, 5));
        assert_eq!(r.answer(), Some(&b"<SyncML/>"[..]));
    }

    #[test]
    fn replay_reads_states_stored_before_compression() {
        let old = br#"{"msg_id":"3","digest":7,"len":5,"answer":"PFN5bmNNTC8+","hmac":null}"#;
        let r: Replay = serde_json::from_slice(old).unwrap();
        assert_eq!(r.answer(), Some(&b"<SyncML/>"[..]));
    }

    #[test]
    fn a_damaged_replay_gives_no_answer() {
        // A claimed size that does not match, one far too large, and bytes that are not LZ4.
        for (answer, size) in [
            ("kDxTeW5jTUwvPg==", "5"),
            ("kDxTeW5jTUwvPg==", "18446744073709551615"),
            ("////", "10"),
            ("not base64!", "10"),
        ] {
            let json = format!(
                r#"{{"msg_id":"3","digest":7,"len":5,"answer":"{answer}","size":{size},"hmac":null}}"#
            );
            let r: Replay = serde_json::from_str(&json).unwrap();
            assert_eq!(r.answer(), None, "{json}");
        }
    }

    #[test]
    fn damaged_or_foreign_stored_states_read_as_none() {
        let good = full_state(b"<SyncML/>").to_bytes();
        // Every truncation, a flipped magic, garbage after the magic, not JSON.
        for n in 0..good.len() {
            let _ = SessionState::from_bytes(&good[..n]);
        }
        assert_eq!(SessionState::from_bytes(&good[..BINARY.len()]), None);
        let mut other = good.clone();
        other[1] = b'X';
        assert_eq!(SessionState::from_bytes(&other), None);
        let mut garbage = BINARY.to_vec();
        garbage.extend_from_slice(&[0xff; 40]);
        assert_eq!(SessionState::from_bytes(&garbage), None);
        assert_eq!(SessionState::from_bytes(b"{not json"), None);
        assert_eq!(SessionState::from_bytes(b""), None);
    }
}
