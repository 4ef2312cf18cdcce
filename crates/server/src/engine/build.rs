//! Queued commands ([`CommandSpec`]) as SyncML commands (DM Protocol 1.3 §6.4, §10.2), with the
//! CmdIDs the message gives them and the depth-first index of every command inside an Atomic or
//! Sequence (the [`crate::model::ChildStatus`] index).

use omadm_syncml::{
    Alert, AlertCode, Command, Container, Data, Exec, Item, ItemCommand, Location, Meta,
};

use crate::model::{CommandSpec, Op};
use compact_str::ToCompactString;

/// Deepest Atomic/Sequence nesting the server sends.
pub const MAX_NESTING: usize = 8;
/// Most commands inside one queued Atomic/Sequence.
pub const MAX_CHILDREN: usize = 1_000;

/// A command ready to send and the CmdIDs it took: `(CmdID, None)` for itself, `(CmdID,
/// Some(i))` for the i-th command inside it, depth first.
#[derive(Debug)]
pub struct Built {
    pub cmd: Command,
    pub ids: Vec<(String, Option<usize>)>,
}

/// True when the spec can be sent: nesting and size of containers within bounds.
pub fn sendable(s: &CommandSpec) -> bool {
    fn walk(s: &CommandSpec, depth: usize, count: &mut usize) -> bool {
        *count += 1;
        if depth > MAX_NESTING || *count > MAX_CHILDREN + 1 {
            return false;
        }
        s.commands.iter().all(|c| walk(c, depth + 1, count))
    }
    let mut n = 0;
    walk(s, 0, &mut n)
}

/// The largest value the command carries (DM Protocol 1.3 §8: MaxObjSize applies per object).
pub fn largest_object(s: &CommandSpec) -> usize {
    let own = s.data.as_ref().map_or(0, String::len);
    s.commands.iter().map(largest_object).fold(own, usize::max)
}

/// Builds `s` with CmdIDs from `*next` on.
pub fn build(s: &CommandSpec, next: &mut u32) -> Built {
    let mut ids = Vec::new();
    let mut child = 0usize;
    let cmd = one(s, next, &mut ids, None, &mut child);
    Built { cmd, ids }
}

fn meta(s: &CommandSpec) -> Option<Meta> {
    match (&s.format, &s.type_) {
        (None, None) => None,
        (f, t) => Some(Meta {
            format: f.as_deref().map(Into::into),
            type_: t.as_deref().map(Into::into),
            more: None,
        }),
    }
}

/// The one Item of an Add/Replace/Copy/Exec/Alert: target, source, Meta, data.
pub fn item(s: &CommandSpec, data: Option<Data>) -> Item {
    Item {
        target: s.target.as_deref().map(Location::new),
        source: s.source.as_deref().map(Location::new),
        meta: meta(s),
        data,
        more_data: false,
    }
}

fn text(t: &str) -> Data {
    Data::Text(t.into())
}

fn one(
    s: &CommandSpec,
    next: &mut u32,
    ids: &mut Vec<(String, Option<usize>)>,
    index: Option<usize>,
    child: &mut usize,
) -> Command {
    let cmd_id: omadm_syncml::CompactString = next.to_compact_string();
    *next += 1;
    ids.push((cmd_id.to_string(), index));
    let target_only = || ItemCommand {
        cmd_id: cmd_id.clone(),
        items: vec![Item {
            target: s.target.as_deref().map(Location::new),
            meta: meta(s),
            ..Item::default()
        }],
        ..ItemCommand::default()
    };
    let with_data = || ItemCommand {
        cmd_id: cmd_id.clone(),
        items: vec![item(s, s.data.as_deref().map(text))],
        ..ItemCommand::default()
    };
    match s.op {
        Op::Get => Command::Get(target_only()),
        Op::Delete => Command::Delete(target_only()),
        Op::Add => Command::Add(with_data()),
        Op::Replace => Command::Replace(with_data()),
        Op::Copy => Command::Copy(with_data()),
        Op::Exec => Command::Exec(Exec {
            cmd_id: cmd_id.clone(),
            correlator: s.correlator.as_deref().map(Into::into),
            items: vec![item(s, s.data.as_deref().map(text))],
            ..Exec::default()
        }),
        Op::Alert => {
            let code = AlertCode(s.code.unwrap_or(AlertCode::DISPLAY.0));
            let mut a = Alert::new(cmd_id.clone(), code);
            a.correlator = s.correlator.as_deref().map(Into::into);
            if code.is_user_interaction() {
                // §10.2: the options Item first, then the text, then the choices in order.
                let plain = |t: &str| Item {
                    data: Some(text(t)),
                    ..Item::default()
                };
                a.items.push(plain(s.options.as_deref().unwrap_or("")));
                a.items.push(plain(s.data.as_deref().unwrap_or("")));
                a.items.extend(s.choices.iter().map(|c| plain(c)));
            } else if s.target.is_some() || s.source.is_some() || s.data.is_some() {
                a.items.push(item(s, s.data.as_deref().map(text)));
            }
            Command::Alert(a)
        }
        Op::Atomic | Op::Sequence => {
            let commands = s
                .commands
                .iter()
                .map(|c| {
                    let i = *child;
                    *child += 1;
                    one(c, next, ids, Some(i), child)
                })
                .collect();
            let k = Container {
                cmd_id: cmd_id.clone(),
                commands,
                ..Container::default()
            };
            if s.op == Op::Atomic {
                Command::Atomic(k)
            } else {
                Command::Sequence(k)
            }
        }
    }
}

/// The chunk of an Add/Replace carrying `data` (DM Protocol 1.3 §8): `MoreData` on all but the
/// last, `Size` of the whole object on the first only.
pub fn chunk(
    s: &CommandSpec,
    cmd_id: u32,
    data: &str,
    first_of: Option<usize>,
    more: bool,
) -> Command {
    let mut it = item(s, Some(text(data)));
    it.more_data = more;
    if let Some(total) = first_of {
        it.meta.get_or_insert_with(Meta::default).more_mut().size = Some(total.to_compact_string());
    }
    let c = ItemCommand {
        cmd_id: cmd_id.to_compact_string(),
        items: vec![it],
        ..ItemCommand::default()
    };
    if s.op == Op::Add {
        Command::Add(c)
    } else {
        Command::Replace(c)
    }
}

/// True for a command whose value may go in chunks: a top-level Add or Replace with data.
pub fn chunkable(s: &CommandSpec) -> bool {
    matches!(s.op, Op::Add | Op::Replace) && s.data.as_ref().is_some_and(|d| !d.is_empty())
}
