//! Packages #2/#4 within the client's MaxMsgSize (DM Protocol 1.3 §7), values larger than a
//! message sent as a large object in chunks (§8), objects over the client's MaxObjSize refused
//! locally (413).
//!
//! Every command is measured by encoding it alone in a message with the same header (the
//! codec's byte counter, no output) plus a few bytes of slack for WBXML page switches; the
//! whole message is then measured exactly and trimmed if the slack was not enough. A package is
//! one message (§7.1: no new commands before the client answered the previous ones) unless a
//! large object spans several.

use omadm_syncml::{Command, EncodeError, Encoding, Message};

use super::build::{self, Built};
use super::state::{OutChunk, Sent, SessionState};
use crate::model::{CommandSpec, QueuedCommand};

/// Below this many bytes of room a large object waits for the next message rather than being
/// cut into a tiny first chunk.
const MIN_CHUNK_ROOM: usize = 256;
/// Bytes allowed per command for WBXML code page switches at its boundaries.
const PAGE_SLACK: usize = 4;
/// Most new commands in one message.
const MAX_PER_MESSAGE: usize = 1_000;

/// What packing decided.
#[derive(Debug, Default)]
pub struct Packed {
    /// Queued commands that went out (first time in this message).
    pub sent: Vec<i64>,
    /// Queued commands refused locally, with their status (413: over the client's MaxObjSize
    /// or larger than any message it accepts).
    pub failed: Vec<(i64, u16)>,
    /// The package is complete with this message (it carries Final).
    pub complete: bool,
}

/// Limits of the client the package must honour.
#[derive(Clone, Copy, Debug)]
pub struct Room {
    pub enc: Encoding,
    pub max_msg: usize,
    pub max_obj: Option<u64>,
    pub msg_id: u32,
}

fn len(msg: &Message, enc: Encoding) -> Result<usize, EncodeError> {
    msg.encoded_len(enc)
}

/// Puts the next chunk of `spec`'s data, from `offset`, into `msg`: the chunk and whether
/// more follows, or `None` when not even a minimal chunk fits.
fn put_chunk(
    msg: &mut Message,
    room: Room,
    spec: &CommandSpec,
    offset: usize,
    cmd_id: u32,
) -> Result<Option<(usize, bool)>, EncodeError> {
    let data = spec.data.as_deref().unwrap_or("");
    let total = data.len();
    let rest = data.get(offset..).unwrap_or("");
    let first_of = (offset == 0).then_some(total);
    msg.body
        .commands
        .push(build::chunk(spec, cmd_id, "", first_of, true));
    let framed = len(msg, room.enc)?;
    msg.body.commands.pop();
    let mut n = room.max_msg.saturating_sub(framed).min(rest.len());
    // Text grows when escaped: shrink until the chunk fits.
    for _ in 0..16 {
        while n > 0 && !rest.is_char_boundary(n) {
            n -= 1;
        }
        if n == 0 {
            return Ok(None);
        }
        let more = n < rest.len();
        let part = rest.get(..n).unwrap_or("");
        msg.body
            .commands
            .push(build::chunk(spec, cmd_id, part, first_of, more));
        let l = len(msg, room.enc)?;
        if l <= room.max_msg {
            return Ok(Some((n, more)));
        }
        msg.body.commands.pop();
        n = n.saturating_sub((l - room.max_msg).max(n / 8).max(1));
    }
    Ok(None)
}

/// The next chunk of the large object in progress; `complete` when it was the last.
pub fn continue_chunk(
    st: &mut SessionState,
    msg: &mut Message,
    next: &mut u32,
    room: Room,
    pending: &[QueuedCommand],
) -> Result<Packed, EncodeError> {
    let mut out = Packed::default();
    let Some(oc) = st.out_chunk.clone() else {
        out.complete = true;
        return Ok(out);
    };
    let Some(q) = pending.iter().find(|q| q.id == oc.id) else {
        // Withdrawn meanwhile: nothing more of it goes.
        st.out_chunk = None;
        out.complete = true;
        return Ok(out);
    };
    if let Some((n, more)) = put_chunk(msg, room, &q.spec, oc.offset, *next)? {
        st.sent.push(Sent {
            msg: room.msg_id,
            cmd: next.to_string(),
            id: q.id,
            child: None,
            chunk: more,
        });
        *next += 1;
        if more {
            st.out_chunk = Some(OutChunk {
                id: oc.id,
                offset: oc.offset + n,
            });
        } else {
            st.out_chunk = None;
            out.complete = true;
        }
    }
    Ok(out)
}

/// Fills `msg` (its header and the Status already in it) with `candidates`, in order.
pub fn fill(
    st: &mut SessionState,
    msg: &mut Message,
    next: &mut u32,
    room: Room,
    candidates: &[&QueuedCommand],
) -> Result<Packed, EncodeError> {
    let mut out = Packed {
        complete: true,
        ..Packed::default()
    };
    // In a message with Final, `Command::encoded_len` is exactly what a command adds to it:
    // the header is measured once, not once per command.
    let commands = std::mem::take(&mut msg.body.commands);
    let final_ = std::mem::replace(&mut msg.body.final_, true);
    let base = len(msg, room.enc);
    msg.body.commands = commands;
    msg.body.final_ = final_;
    let base = base?;
    // The smallest message this package could be: the header and the Status for the client's.
    let empty_len = match msg.body.commands.first() {
        Some(c) => base + c.encoded_len(room.enc)?,
        None => base,
    };
    let mut used = len(msg, room.enc)?;
    let mut taken: Vec<(i64, usize)> = Vec::new();
    for q in candidates {
        if taken.len() >= MAX_PER_MESSAGE {
            out.complete = !taken.is_empty();
            break;
        }
        if !build::sendable(&q.spec) {
            out.failed.push((q.id, 500));
            continue;
        }
        if room
            .max_obj
            .is_some_and(|m| build::largest_object(&q.spec) as u64 > m)
        {
            // §8 (DM-PRO-LO-S-007): never an object over the client's MaxObjSize.
            out.failed.push((q.id, 413));
            continue;
        }
        let mut n = *next;
        let Built { cmd, ids } = build::build(&q.spec, &mut n);
        let delta = cmd.encoded_len(room.enc)? + PAGE_SLACK;
        if used + delta <= room.max_msg {
            take(st, msg, &mut taken, q.id, cmd, &ids, room.msg_id);
            *next = n;
            used += delta;
            out.sent.push(q.id);
            continue;
        }
        let fits_alone = empty_len + delta <= room.max_msg;
        if build::chunkable(&q.spec) && !fits_alone {
            // §8: a value larger than a message goes in chunks, starting here when there is
            // room enough, else leading the next message.
            if room.max_msg.saturating_sub(used) < MIN_CHUNK_ROOM && !taken.is_empty() {
                break;
            }
            match put_chunk(msg, room, &q.spec, 0, *next)? {
                Some((len, more)) => {
                    st.sent.push(Sent {
                        msg: room.msg_id,
                        cmd: next.to_string(),
                        id: q.id,
                        child: None,
                        chunk: more,
                    });
                    *next += 1;
                    out.sent.push(q.id);
                    if more {
                        st.out_chunk = Some(OutChunk {
                            id: q.id,
                            offset: len,
                        });
                        out.complete = false;
                    }
                    return Ok(out);
                }
                None if taken.is_empty() => {
                    out.failed.push((q.id, 413));
                    continue;
                }
                None => break,
            }
        }
        if !fits_alone {
            // An indivisible command no message of the client can hold.
            out.failed.push((q.id, 413));
            continue;
        }
        // The rest waits for the next package; with nothing taken, the package stays open
        // (no Final) so that the client asks for the next message.
        out.complete = !taken.is_empty();
        break;
    }
    // The slack is an estimate: trim what the exact size does not allow. `used` bounds the
    // exact size from above (every share is exact, plus slack), so the message is measured
    // again only when that bound is over.
    while used > room.max_msg && taken.len() > 1 && len(msg, room.enc)? > room.max_msg {
        let Some((id, entries)) = taken.pop() else {
            break;
        };
        msg.body.commands.pop();
        let keep = st.sent.len().saturating_sub(entries);
        st.sent.truncate(keep);
        // CmdIDs may skip a number; they stay unique.
        out.sent.retain(|s| *s != id);
    }
    Ok(out)
}

fn take(
    st: &mut SessionState,
    msg: &mut Message,
    taken: &mut Vec<(i64, usize)>,
    id: i64,
    cmd: Command,
    ids: &[(String, Option<usize>)],
    msg_id: u32,
) {
    msg.body.commands.push(cmd);
    for (cmd_id, child) in ids {
        st.sent.push(Sent {
            msg: msg_id,
            cmd: cmd_id.clone(),
            id,
            child: *child,
            chunk: false,
        });
    }
    taken.push((id, ids.len()));
}
