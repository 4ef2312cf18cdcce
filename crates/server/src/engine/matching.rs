//! The client's Status and Results matched to what the server sent, by MsgRef/CmdRef (DM
//! Protocol 1.3 §6.5): statuses of commands and of the commands inside Atomic and Sequence,
//! Results (several Items, or one large object in chunks reassembled across messages, §8), and
//! the user's answers to user interaction alerts (Status Items, §10.2).

use omadm_syncml::{Command, Item, Message, Results, Status};

use super::answer::status;
use super::state::{InChunk, Progress, SessionState, MAX_RESULT_ITEMS};
use crate::model::{ChildStatus, CommandState, ResultItem};
use crate::store::CommandUpdate;

/// What the answers changed.
#[derive(Debug, Default)]
pub struct Matched {
    /// One update per queued command touched, with everything gathered so far.
    pub updates: Vec<CommandUpdate>,
    /// Statuses the server owes for chunks of Results (213, or 413/424).
    pub statuses: Vec<Status>,
    /// Status or Results that refer to nothing the server sent.
    pub unmatched: usize,
}

fn parse_msg(s: Option<&str>) -> Option<u32> {
    s.and_then(|s| s.trim().parse().ok())
}

/// Matches every Status and Results of `msg`. Statuses of the message `skip` (one the client
/// refused with its challenge) are ignored; a Results without MsgRef refers to `last_sent`.
pub fn apply(
    st: &mut SessionState,
    msg: &Message,
    skip: Option<u32>,
    last_sent: u32,
    max_obj: u64,
) -> Matched {
    let mut out = Matched::default();
    let mut touched: Vec<i64> = Vec::new();
    for c in &msg.body.commands {
        match c {
            Command::Status(s) if s.cmd_ref.trim() != "0" && s.cmd != "SyncHdr" => {
                let m = parse_msg(Some(&s.msg_ref));
                if m.is_some() && m == skip {
                    continue;
                }
                match m.and_then(|m| st.find(m, s.cmd_ref.trim()).cloned()) {
                    Some(e) => {
                        on_status(st, &e, s);
                        if !touched.contains(&e.id) {
                            touched.push(e.id);
                        }
                    }
                    None => out.unmatched += 1,
                }
            }
            Command::Results(r) => {
                let m = parse_msg(r.msg_ref.as_deref()).unwrap_or(last_sent);
                match st.find(m, r.cmd_ref.trim()).cloned() {
                    Some(e) => {
                        if let Some(code) = on_results(st, e.id, r, max_obj) {
                            out.statuses
                                .push(status(&msg.hdr.msg_id, &r.cmd_id, "Results", code));
                        }
                        if !touched.contains(&e.id) {
                            touched.push(e.id);
                        }
                    }
                    None => out.unmatched += 1,
                }
            }
            _ => {}
        }
    }
    out.updates = touched
        .into_iter()
        .filter_map(|id| st.progress.get(&id).map(|p| update(id, p)))
        .collect();
    out
}

/// The update of a command from what was gathered.
pub fn update(id: i64, p: &Progress) -> CommandUpdate {
    let state = match p.status {
        Some(c) if (200..300).contains(&c) => CommandState::Done,
        Some(_) => CommandState::Failed,
        None => CommandState::Sent,
    };
    CommandUpdate {
        id,
        state,
        status: p.status,
        results: (!p.results.is_empty()).then(|| p.results.clone()),
        children: (!p.children.is_empty()).then(|| p.children.clone()),
        session_id: None,
    }
}

fn on_status(st: &mut SessionState, e: &super::state::Sent, s: &Status) {
    let code = s.code().map(|c| c.0);
    if e.chunk {
        // §8: 213 for every chunk but the last; anything else ends the object.
        if code == Some(213) {
            return;
        }
        if st.out_chunk.as_ref().is_some_and(|c| c.id == e.id) {
            st.out_chunk = None;
        }
    }
    let p = st.progress.entry(e.id).or_default();
    match e.child {
        Some(index) => {
            let status = code.unwrap_or(0);
            match p.children.iter_mut().find(|c| c.index == index) {
                Some(c) => c.status = status,
                None => {
                    p.children.push(ChildStatus { index, status });
                    p.children.sort_by_key(|c| c.index);
                }
            }
        }
        // An unreadable status counts as a failure (500).
        None => p.status = Some(code.unwrap_or(500)),
    }
    // §10.2: the user's answer (text input, choices) rides in the Status Items.
    for it in s.items.iter().filter(|it| it.data.is_some()) {
        if p.results.len() < MAX_RESULT_ITEMS {
            p.results.push(result_item(it, None));
        }
    }
}

fn result_item(it: &Item, r: Option<&Results>) -> ResultItem {
    let m = it.meta.as_ref().or(r.and_then(|r| r.meta.as_ref()));
    ResultItem {
        source: it
            .source
            .as_ref()
            .map(|l| l.loc_uri.to_string())
            .or_else(|| r.and_then(|r| r.source_ref.as_ref().map(|s| s.to_string()))),
        format: m.and_then(|m| m.format.as_ref().map(|f| f.to_string())),
        type_: m.and_then(|m| m.type_.as_ref().map(|t| t.to_string())),
        data: it.data.as_ref().map(|d| d.to_text_lossy().into_owned()),
    }
}

/// Records a Results; the status the server must answer for it, if any (§8: 213 for a chunk,
/// 424 when the reassembled size is not the announced one, 413 over the server's MaxObjSize).
fn on_results(st: &mut SessionState, id: i64, r: &Results, max_obj: u64) -> Option<u16> {
    let mut answer = None;
    for it in &r.items {
        let chunk_data = || it.data.as_ref().map(|d| d.to_text_lossy().into_owned());
        if let Some(mut ch) = st.in_chunk.take() {
            if ch.id == id {
                ch.data.push_str(&chunk_data().unwrap_or_default());
                if ch.data.len() as u64 > max_obj {
                    fail(st, id, 413);
                    answer = Some(413);
                    continue;
                }
                if it.more_data {
                    st.in_chunk = Some(ch);
                    answer = Some(213);
                    continue;
                }
                if ch.size.is_some_and(|s| s != ch.data.len() as u64) {
                    // §8 (DM-PRO-LO-S-009): the object is not committed.
                    fail(st, id, 424);
                    answer = Some(424);
                    continue;
                }
                let item = ResultItem {
                    source: ch.source,
                    format: ch.format,
                    type_: ch.type_,
                    data: Some(ch.data),
                };
                push_result(st, id, item);
                continue;
            }
            // Another object before the last chunk of this one: this one is dropped (§8).
            fail(st, ch.id, 500);
        }
        if it.more_data {
            let first = result_item(it, Some(r));
            let size = it
                .meta
                .as_ref()
                .or(r.meta.as_ref())
                .and_then(|m| m.size_value());
            if size.is_some_and(|s| s > max_obj) {
                fail(st, id, 413);
                answer = Some(413);
                continue;
            }
            st.in_chunk = Some(InChunk {
                id,
                source: first.source,
                format: first.format,
                type_: first.type_,
                size,
                data: first.data.unwrap_or_default(),
            });
            answer = Some(213);
            continue;
        }
        push_result(st, id, result_item(it, Some(r)));
    }
    answer
}

fn push_result(st: &mut SessionState, id: i64, item: ResultItem) {
    let p = st.progress.entry(id).or_default();
    if p.results.len() < MAX_RESULT_ITEMS {
        p.results.push(item);
    }
}

fn fail(st: &mut SessionState, id: i64, code: u16) {
    let p = st.progress.entry(id).or_default();
    p.status = Some(code);
    p.results.clear();
}
