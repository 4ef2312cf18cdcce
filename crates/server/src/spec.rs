//! Queued commands ([`CommandSpec`]) as SyncML commands, CmdIDs numbered in document order from 1.

use omadm_syncml::{
    Alert, AlertCode, Command, Container, Data, Exec, Item, ItemCommand, Location, Meta,
};

use crate::model::{CommandSpec, Op};

/// The commands of `specs`, numbered from 1 (nested ones too, depth first).
pub fn commands_for(specs: &[CommandSpec]) -> Vec<Command> {
    let mut next = 1u32;
    specs.iter().map(|s| command(s, &mut next)).collect()
}

/// One command, numbered from `*next` on.
pub fn command(s: &CommandSpec, next: &mut u32) -> Command {
    let cmd_id = next.to_string();
    *next += 1;
    let meta = || match (&s.format, &s.type_) {
        (None, None) => None,
        (f, t) => Some(Meta {
            format: f.as_deref().map(Into::into),
            type_: t.as_deref().map(Into::into),
            ..Meta::default()
        }),
    };
    let item = || Item {
        target: s.target.as_deref().map(Location::new),
        source: s.source.as_deref().map(Location::new),
        meta: meta(),
        data: s.data.as_deref().map(|d| Data::Text(d.into())),
        ..Item::default()
    };
    let items_cmd = || ItemCommand {
        cmd_id: cmd_id.as_str().into(),
        items: vec![item()],
        ..ItemCommand::default()
    };
    match s.op {
        Op::Get => Command::Get(ItemCommand {
            cmd_id: cmd_id.as_str().into(),
            items: vec![Item {
                target: s.target.as_deref().map(Location::new),
                ..Item::default()
            }],
            ..ItemCommand::default()
        }),
        Op::Add => Command::Add(items_cmd()),
        Op::Replace => Command::Replace(items_cmd()),
        Op::Delete => Command::Delete(ItemCommand {
            cmd_id: cmd_id.as_str().into(),
            items: vec![Item {
                target: s.target.as_deref().map(Location::new),
                ..Item::default()
            }],
            ..ItemCommand::default()
        }),
        Op::Copy => Command::Copy(items_cmd()),
        Op::Exec => Command::Exec(Exec {
            cmd_id: cmd_id.as_str().into(),
            correlator: s.correlator.as_deref().map(Into::into),
            items: vec![item()],
            ..Exec::default()
        }),
        Op::Alert => {
            let code = AlertCode(s.code.unwrap_or(0));
            let mut a = Alert::new(cmd_id.as_str(), code);
            if (1100..=1104).contains(&code.0) {
                // DM Protocol 1.3 §10.2: the options Item, the text Item, then the choices.
                let text = |t: &str| Item {
                    data: Some(Data::Text(t.into())),
                    ..Item::default()
                };
                a.items.push(text(s.options.as_deref().unwrap_or("")));
                a.items.push(text(s.data.as_deref().unwrap_or("")));
                a.items.extend(s.choices.iter().map(|c| text(c)));
            } else if s.target.is_some() || s.data.is_some() {
                a.items.push(item());
            }
            Command::Alert(a)
        }
        Op::Atomic | Op::Sequence => {
            let commands = s.commands.iter().map(|c| command(c, next)).collect();
            let k = Container {
                cmd_id: cmd_id.as_str().into(),
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
