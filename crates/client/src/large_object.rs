//! Large object handling (DM Protocol 1.3 §8): reassembling the chunks of an `Add`/`Replace` the
//! server sends, and splitting a large `Results` item into chunks the server can take.
//!
//! Sizes are counted in the bytes of `Data` as carried. For `Format` `b64` that is the base64
//! text: chunk data is concatenated as text and never decoded per chunk (a chunk boundary may fall
//! inside a 4-character quantum), so the whole object is decoded, if at all, only after the last
//! chunk, by whoever executes it (the executor stores `b64` values as the text received). `Size`
//! is compared with the length of that concatenation.

use omadm_syncml::{AlertCode, Data, Item, Meta, StatusCode};

/// What [`ChunkAssembler::accept`] made of one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// DM Protocol 1.3 §8: a chunk other than the last was buffered; answer 213.
    Buffered,
    /// The last chunk arrived and the sizes agree: execute the command on the whole object now
    /// (§8: a chunked command is applied atomically, after its last chunk).
    Complete {
        /// The `Meta` of the first chunk (Format, Type, Size).
        meta: Meta,
        /// The reassembled `Data`, in the bytes carried (base64 text for `b64`).
        data: Vec<u8>,
    },
    /// An ordinary item: no `MoreData` and no object pending. Execute it as usual.
    NotChunked,
    /// The object is refused and its buffer dropped; answer the command with this status
    /// (411 Size required, 413 Request entity too large, 424 Size mismatch).
    Failed(u16),
}

#[derive(Clone, Debug)]
struct Pending {
    cmd: String,
    uri: String,
    meta: Meta,
    declared: u64,
    bytes: Vec<u8>,
}

/// Reassembles a chunked object (DM Protocol 1.3 §8), one at a time.
///
/// Feed every item of an `Add` or `Replace` to [`accept`](Self::accept). Before any command that
/// is not the continuation of the pending object (see [`is_continuation`](Self::is_continuation)),
/// and at the end of each package, call [`interrupted`](Self::interrupted) and send the Alert it
/// asks for. At most `max_obj_size` bytes are ever buffered.
#[derive(Clone, Debug)]
pub struct ChunkAssembler {
    pending: Option<Pending>,
    max_obj_size: u64,
    alert_owed: bool,
    /// The target of the last object dropped, for the Alert 1225's Item.
    dropped_uri: Option<String>,
}

impl ChunkAssembler {
    /// An assembler accepting objects of at most `max_obj_size` bytes (the `MaxObjSize` the client
    /// advertises, DM-PRO-LO-C-007).
    pub fn new(max_obj_size: u64) -> ChunkAssembler {
        ChunkAssembler {
            pending: None,
            max_obj_size,
            alert_owed: false,
            dropped_uri: None,
        }
    }

    /// The largest object accepted, to send as `MaxObjSize` in the `SyncHdr` `Meta`.
    pub fn max_obj_size(&self) -> u64 {
        self.max_obj_size
    }

    /// True while a chunked object awaits further chunks.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// True when `item` of command `cmd_name` continues the pending object: same command, same
    /// target URI (§8: no new command between the chunks of an object).
    pub fn is_continuation(&self, cmd_name: &str, item: &Item) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|p| p.cmd == cmd_name && p.uri == uri_of(item))
    }

    /// Takes one item of an `Add` or `Replace`.
    ///
    /// An item that does not continue a pending object drops that object (nothing is committed)
    /// and leaves Alert 1225 owed, which the next [`interrupted`](Self::interrupted) returns; the
    /// item is then taken as a new one.
    pub fn accept(&mut self, cmd_name: &str, item: &Item) -> ChunkOutcome {
        if self.pending.is_some() && !self.is_continuation(cmd_name, item) {
            self.dropped_uri = self.pending.take().map(|p| p.uri);
            self.alert_owed = true;
        }
        let chunk = item.data.as_ref().map_or(&[][..], Data::as_bytes);
        match self.pending.take() {
            Some(mut p) => {
                // §8: 424 when the reassembled size differs from Size; failing as soon as it
                // overflows also keeps the buffer within the declared (≤ MaxObjSize) size.
                let total = p.bytes.len() as u64 + chunk.len() as u64;
                if total > p.declared {
                    return ChunkOutcome::Failed(StatusCode::SIZE_MISMATCH.0);
                }
                p.bytes.extend_from_slice(chunk);
                if item.more_data {
                    self.pending = Some(p);
                    ChunkOutcome::Buffered
                } else if total == p.declared {
                    ChunkOutcome::Complete {
                        meta: p.meta,
                        data: p.bytes,
                    }
                } else {
                    ChunkOutcome::Failed(StatusCode::SIZE_MISMATCH.0)
                }
            }
            None if !item.more_data => ChunkOutcome::NotChunked,
            None => self.first_chunk(cmd_name, item, chunk),
        }
    }

    /// §8: the first chunk carries `Meta` `Size`, the size of the whole object.
    fn first_chunk(&mut self, cmd_name: &str, item: &Item, chunk: &[u8]) -> ChunkOutcome {
        let Some(declared) = item.meta.as_ref().and_then(Meta::size_value) else {
            return ChunkOutcome::Failed(StatusCode::SIZE_REQUIRED.0);
        };
        if declared > self.max_obj_size {
            return ChunkOutcome::Failed(StatusCode::REQUEST_ENTITY_TOO_LARGE.0);
        }
        if chunk.len() as u64 > declared {
            return ChunkOutcome::Failed(StatusCode::SIZE_MISMATCH.0);
        }
        self.pending = Some(Pending {
            cmd: cmd_name.to_owned(),
            uri: uri_of(item).to_owned(),
            meta: item.meta.clone().unwrap_or_default(),
            declared,
            bytes: chunk.to_vec(),
        });
        ChunkOutcome::Buffered
    }

    /// The pending object will not be continued (another command or target came, or the package
    /// ended): drops its buffer and returns 1225, the Alert "End of Data for chunked object not
    /// received" to send (§8: the recipient MUST NOT commit the command). `None` when nothing was
    /// pending.
    pub fn interrupted(&mut self) -> Option<u16> {
        let dropped = self.pending.take();
        let owed = dropped.is_some() | std::mem::take(&mut self.alert_owed);
        if let Some(p) = dropped {
            self.dropped_uri = Some(p.uri);
        }
        owed.then_some(AlertCode::NO_END_OF_DATA.0)
    }

    /// The target URI of the object the last [`interrupted`](Self::interrupted) reported (§8:
    /// the Alert 1225 "SHOULD contain the source and/or target information from the original
    /// command"); taken once.
    pub fn dropped_uri(&mut self) -> Option<String> {
        self.dropped_uri.take()
    }
}

fn uri_of(item: &Item) -> &str {
    item.target
        .as_ref()
        .or(item.source.as_ref())
        .map_or("", |l| l.loc_uri.as_str())
}

/// Splits `item` into chunks of at most `max_chunk` bytes of `Data` (DM Protocol 1.3 §8).
///
/// An item whose data fits is returned unchunked (DM-PRO-LO-C-006). Otherwise the first chunk's
/// `Meta` carries `Size`, the byte length of the whole data (DM-PRO-LO-C-009); later chunks repeat
/// the `Meta` without `Size`; every chunk but the last carries `MoreData` (DM-PRO-LO-C-004); every
/// chunk repeats `Target` and `Source`. Opaque data is split on byte boundaries, text on UTF-8
/// character boundaries. Chunks are never empty: a `max_chunk` smaller than one character still
/// yields that character whole.
pub fn split_item(item: &Item, max_chunk: usize) -> Vec<Item> {
    let max_chunk = max_chunk.max(1);
    let Some(data) = item.data.as_ref().filter(|d| d.len() > max_chunk) else {
        return vec![item.clone()];
    };
    let pieces: Vec<Data> = match data {
        Data::Text(s) => split_text(s, max_chunk)
            .map(|p| Data::Text(p.into()))
            .collect(),
        Data::Cdata(s) => split_text(s, max_chunk)
            .map(|p| Data::Cdata(p.into()))
            .collect(),
        Data::Xml(s) => split_text(s, max_chunk)
            .map(|p| Data::Xml(p.into()))
            .collect(),
        Data::Opaque(b) => b
            .chunks(max_chunk)
            .map(|c| Data::Opaque(c.to_vec()))
            .collect(),
    };
    let mut first_meta = item.meta.clone().unwrap_or_default();
    first_meta.more_mut().size = Some(data.len().to_string().into());
    let later_meta = item.meta.clone().and_then(|mut m| {
        if let Some(more) = m.more.as_mut() {
            more.size = None;
        }
        (!m.is_empty()).then_some(m)
    });
    let last = pieces.len().saturating_sub(1);
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| Item {
            target: item.target.clone(),
            source: item.source.clone(),
            meta: if i == 0 {
                Some(first_meta.clone())
            } else {
                later_meta.clone()
            },
            data: Some(piece),
            more_data: i < last,
        })
        .collect()
}

/// Pieces of `s` of at most `max` bytes each, cut only between characters (one character when a
/// single character is longer than `max`).
fn split_text(s: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = max.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_text_keeps_characters_whole() {
        let pieces: Vec<&str> = split_text("aé€😀", 2).collect();
        assert_eq!(pieces, ["a", "é", "€", "😀"]);
        assert!(pieces.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn interrupted_without_pending_is_none() {
        assert_eq!(ChunkAssembler::new(10).interrupted(), None);
    }
}
