//! The client's outgoing package, cut into messages that fit the server's `MaxMsgSize`
//! (DM Protocol 1.3 §7), with `Results` too large for one message sent as a large object in
//! chunks (§8).
//!
//! Sizes are exact: every command is measured by encoding it in the message being built (the
//! codec's byte counter, no output), so a message never exceeds `MaxMsgSize` unless a single
//! indivisible command (a Status) is larger than that on its own.

use std::collections::VecDeque;

use compact_str::{format_compact, ToCompactString};
use omadm_syncml::{Command, Data, EncodeError, Encoding, Item, Message, Meta, SyncBody, SyncHdr};

/// Below this many bytes of room, a Results that does not fit waits for the next message
/// rather than being cut into a tiny chunk.
const MIN_CHUNK_ROOM: usize = 128;

/// Bytes allowed per command for WBXML code page switches at its boundaries.
const PAGE_SLACK: usize = 4;

/// One command waiting to be sent.
#[derive(Clone, Debug)]
struct Pending {
    cmd: Command,
    /// The rest of a chunked Results item: later chunks carry no `Size` (§8).
    continues: bool,
}

/// What one packed message holds, for the engine's bookkeeping.
#[derive(Debug)]
pub(crate) struct Packed {
    /// The message, CmdIDs assigned from 1.
    pub msg: Message,
}

/// The queue of commands of the client's current package.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queue: VecDeque<Pending>,
}

fn set_cmd_id(cmd: &mut Command, id: u32) {
    let slot = match cmd {
        Command::Status(s) => &mut s.cmd_id,
        Command::Results(r) => &mut r.cmd_id,
        Command::Alert(a) => &mut a.cmd_id,
        Command::Replace(c) | Command::Add(c) | Command::Get(c) | Command::Delete(c) => {
            &mut c.cmd_id
        }
        _ => return,
    };
    *slot = id.to_compact_string();
}

impl Outbox {
    /// Queues commands at the end of the package.
    pub fn extend(&mut self, cmds: impl IntoIterator<Item = Command>) {
        self.queue.extend(cmds.into_iter().map(|cmd| Pending {
            cmd,
            continues: false,
        }));
    }

    /// Queues commands at the head of the package, in their order (a refused message sent
    /// again before the rest).
    pub fn prepend(&mut self, cmds: Vec<Command>) {
        for cmd in cmds.into_iter().rev() {
            self.queue.push_front(Pending {
                cmd,
                continues: false,
            });
        }
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Drops everything queued (session abort).
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// Builds the next message: `first` (always sent: the Status for the server's SyncHdr),
    /// then queued commands while they fit in `max_msg_size`, then `trailer` (Alert 1222), with
    /// `Final` when `may_finish` and the queue is then empty.
    pub fn pack(
        &mut self,
        hdr: SyncHdr,
        enc: Encoding,
        max_msg_size: usize,
        first: Vec<Command>,
        trailer: Option<Command>,
        may_finish: bool,
    ) -> Result<Packed, EncodeError> {
        let mut msg = Message {
            hdr,
            body: SyncBody {
                commands: Vec::new(),
                final_: true,
            },
        };
        let mut next_id = 1u32;
        for mut c in first {
            set_cmd_id(&mut c, next_id);
            next_id += 1;
            msg.body.commands.push(c);
        }
        // Each command is measured alone (linear, not quadratic, in the message size): in a
        // message with Final, `Command::encoded_len` is exactly what the command adds, header
        // or not, so the header is measured once, not once per command. The slack is kept
        // from when commands were measured in a probe message; it is part of the wire
        // behaviour (where messages are cut).
        // Room the trailer will take, measured with the CmdID it will get.
        let trailer_len = match &trailer {
            Some(t) => {
                let mut t = t.clone();
                set_cmd_id(&mut t, next_id + self.queue.len() as u32);
                t.encoded_len(enc)?
            }
            None => 0,
        };
        let budget = max_msg_size.saturating_sub(trailer_len);
        let mut used = msg.encoded_len(enc)?;
        let first_len = used;
        let mut taken = 0usize;
        while let Some(mut p) = self.queue.pop_front() {
            set_cmd_id(&mut p.cmd, next_id);
            let delta = p.cmd.encoded_len(enc)? + PAGE_SLACK;
            let cmd = p.cmd;
            if used + delta <= budget {
                msg.body.commands.push(cmd);
                used += delta;
                next_id += 1;
                taken += 1;
                continue;
            }
            let Command::Results(_) = cmd else {
                if taken == 0 {
                    // An indivisible command larger than a whole message: it goes alone,
                    // oversize, rather than never.
                    msg.body.commands.push(cmd);
                    next_id += 1;
                } else {
                    self.queue.push_front(Pending {
                        cmd,
                        continues: p.continues,
                    });
                }
                break;
            };
            let room = budget.saturating_sub(used);
            // §8 (DM-PRO-LO-C-006): a Results that fits a message of its own is not cut into
            // chunks; it leads the next message.
            let fits_alone = !p.continues && first_len + delta <= budget;
            if (room < MIN_CHUNK_ROOM || fits_alone) && taken > 0 {
                self.queue.push_front(Pending {
                    cmd,
                    continues: p.continues,
                });
                break;
            }
            if self
                .split_results(cmd, p.continues, &mut msg, enc, budget)?
                .is_some()
            {
                next_id += 1;
            } else if taken == 0 {
                // Not even a minimal chunk fits an empty message: send the head oversize
                // rather than stall the session.
                if let Some(head) = self.queue.pop_front() {
                    msg.body.commands.push(head.cmd);
                    next_id += 1;
                }
            }
            // A chunk fills the message; the rest of the object leads the next one (§8: no
            // other command between the chunks of an object).
            break;
        }
        let more = !self.queue.is_empty();
        msg.body.final_ = may_finish && !more;
        if let Some(mut t) = trailer {
            set_cmd_id(&mut t, next_id);
            msg.body.commands.push(t);
        }
        Ok(Packed { msg })
    }

    /// Fits as much of a Results into `msg` as `budget` allows: a Results with several items is
    /// cut between items; a single item is cut into a chunk with `MoreData`. The rest goes back
    /// to the head of the queue. Returns the message length with the part added, or `None`
    /// when not even a minimal part fits (the Results then waits whole).
    fn split_results(
        &mut self,
        cmd: Command,
        continues: bool,
        msg: &mut Message,
        enc: Encoding,
        budget: usize,
    ) -> Result<Option<usize>, EncodeError> {
        let Command::Results(mut r) = cmd else {
            return Ok(None);
        };
        if r.items.len() > 1 {
            // Take the longest run of whole items that fits.
            let all = std::mem::take(&mut r.items);
            let mut taken = Vec::new();
            let mut rest: VecDeque<Item> = all.into();
            while let Some(it) = rest.pop_front() {
                taken.push(it);
                let mut trial = r.clone();
                trial.items = taken.clone();
                msg.body.commands.push(Command::Results(trial));
                let len = msg.encoded_len(enc)?;
                msg.body.commands.pop();
                if len > budget {
                    let last = taken.pop();
                    if let Some(last) = last {
                        rest.push_front(last);
                    }
                    break;
                }
            }
            if taken.is_empty() {
                // The first item alone is too large: chunk it on its own.
                let first = rest.pop_front();
                let mut tail = r.clone();
                tail.items = rest.into();
                if !tail.items.is_empty() {
                    self.queue.push_front(Pending {
                        cmd: Command::Results(tail),
                        continues: false,
                    });
                }
                r.items = first.into_iter().collect();
                return self.split_results(Command::Results(r), continues, msg, enc, budget);
            }
            let mut tail = r.clone();
            tail.items = rest.into();
            r.items = taken;
            msg.body.commands.push(Command::Results(r));
            let len = msg.encoded_len(enc)?;
            if !tail.items.is_empty() {
                self.queue.push_front(Pending {
                    cmd: Command::Results(tail),
                    continues: false,
                });
            }
            return Ok(Some(len));
        }
        let Some(item) = r.items.pop() else {
            msg.body.commands.push(Command::Results(r));
            return Ok(Some(msg.encoded_len(enc)?));
        };
        let total = item.data.as_ref().map_or(0, Data::len);
        // Measure the Results with the chunk's framing (MoreData, Size) and no data.
        let mut frame = item.clone();
        frame.data = Some(Data::Opaque(Vec::new()));
        frame.more_data = true;
        if !continues {
            set_size(&mut frame, total);
        }
        let mut shell = r.clone();
        shell.items = vec![frame];
        msg.body.commands.push(Command::Results(shell));
        let framed = msg.encoded_len(enc)?;
        msg.body.commands.pop();
        let mut n = budget.saturating_sub(framed);
        // Text may grow when escaped (XML) — shrink until the chunk fits.
        for _ in 0..8 {
            if n == 0 {
                break;
            }
            let (chunk, rest) = cut(&item, n, continues, total);
            let mut part = r.clone();
            part.items = vec![chunk];
            msg.body.commands.push(Command::Results(part));
            let len = msg.encoded_len(enc)?;
            if len <= budget {
                let mut tail = r.clone();
                tail.items = vec![rest];
                self.queue.push_front(Pending {
                    cmd: Command::Results(tail),
                    continues: true,
                });
                return Ok(Some(len));
            }
            msg.body.commands.pop();
            n = n.saturating_sub((len - budget).max(n / 8).max(1));
        }
        r.items = vec![item];
        self.queue.push_front(Pending {
            cmd: Command::Results(r),
            continues,
        });
        Ok(None)
    }
}

fn set_size(item: &mut Item, total: usize) {
    let meta = item.meta.get_or_insert_with(Meta::default);
    meta.more_mut().size = Some(format_compact!("{total}"));
}

/// The first `n` bytes of `item`'s data as a chunk with `MoreData` (and `Size` of the whole
/// object when it is the first chunk), and the rest as the item to continue with. Text is cut
/// on a character boundary.
fn cut(item: &Item, n: usize, continues: bool, total: usize) -> (Item, Item) {
    let (head, tail) = match &item.data {
        Some(Data::Opaque(b)) => {
            let n = n.min(b.len());
            (Data::Opaque(b[..n].to_vec()), Data::Opaque(b[n..].to_vec()))
        }
        Some(d) => {
            let s = d.to_text_lossy();
            let mut n = n.min(s.len());
            while n > 0 && !s.is_char_boundary(n) {
                n -= 1;
            }
            let (a, b) = s.split_at(n);
            let wrap = |t: &str| match d {
                Data::Cdata(_) => Data::Cdata(t.into()),
                _ => Data::Text(t.into()),
            };
            (wrap(a), wrap(b))
        }
        None => (Data::Text("".into()), Data::Text("".into())),
    };
    let mut chunk = item.clone();
    chunk.data = Some(head);
    chunk.more_data = true;
    if continues {
        if let Some(m) = chunk.meta.as_mut().and_then(|m| m.more.as_mut()) {
            m.size = None;
        }
    } else {
        set_size(&mut chunk, total);
    }
    let mut rest = item.clone();
    rest.data = Some(tail);
    rest.more_data = false;
    if let Some(m) = rest.meta.as_mut().and_then(|m| m.more.as_mut()) {
        m.size = None;
    }
    (chunk, rest)
}
