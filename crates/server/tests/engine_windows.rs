//! The Windows MDM samples (../shared/spec/samples/windows, DM 1.2 as Microsoft publishes it):
//! the commands of every server message can be queued as they are (Windows CSP paths, CDATA and
//! nested XML data, Atomic of eight children, `?list=StructData`), are sent by the engine with the
//! same targets and data, and every one of them gets a DM status recorded once the (real) client
//! answered; the client-side samples' Status/Results shapes decode, and the two malformed samples
//! (19, 20) are refused with an error, as the samples' README says.

mod common;

use common::*;
use omadm_server::model::{ClientAuthType, CommandSpec, CommandState, Op};
use omadm_syncml::{Command, Message};

fn samples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/samples/windows")
}

fn text(d: &Option<omadm_syncml::Data>) -> Option<String> {
    d.as_ref().and_then(|d| d.as_text()).map(str::to_owned)
}

/// The queued form of a command a Windows server sent.
fn spec_of(c: &Command) -> Option<CommandSpec> {
    let op = match c {
        Command::Get(_) => Op::Get,
        Command::Add(_) => Op::Add,
        Command::Replace(_) => Op::Replace,
        Command::Delete(_) => Op::Delete,
        Command::Exec(_) => Op::Exec,
        Command::Atomic(_) => Op::Atomic,
        Command::Sequence(_) => Op::Sequence,
        _ => return None,
    };
    let mut s = spec(op, "");
    s.target = None;
    match c {
        Command::Atomic(k) | Command::Sequence(k) => {
            s.commands = k.commands.iter().filter_map(spec_of).collect();
        }
        _ => {
            let it = c.items().first()?;
            s.target = it.target.as_ref().map(|t| t.loc_uri.trim().to_owned());
            s.data = text(&it.data);
            if let Some(m) = &it.meta {
                s.format = m.format.as_ref().map(|f| f.to_string());
                s.type_ = m.type_.as_ref().map(|t| t.to_string());
            }
        }
    }
    Some(s)
}

fn flat(cs: &[Command]) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    for c in cs {
        match c {
            Command::Atomic(k) | Command::Sequence(k) => {
                out.push((c.name().to_owned(), None, None));
                out.extend(flat(&k.commands));
            }
            Command::Status(_) | Command::Results(_) => {}
            _ => {
                let it = c.items().first();
                out.push((
                    c.name().to_owned(),
                    it.and_then(|i| i.target.as_ref())
                        .map(|t| t.loc_uri.trim().to_owned()),
                    it.and_then(|i| text(&i.data)),
                ));
            }
        }
    }
    out
}

#[test]
fn windows_server_commands_are_queued_sent_as_published_and_answered() {
    let mut queued = 0;
    let mut names: Vec<_> = std::fs::read_dir(samples())
        .expect("samples/windows")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("_server_"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        let bytes = std::fs::read(samples().join(&name)).expect("sample");
        let Ok(m) = Message::decode(&bytes) else {
            panic!("{name}: a server sample does not decode");
        };
        let specs: Vec<CommandSpec> = m.body.commands.iter().filter_map(spec_of).collect();
        assert!(!specs.is_empty(), "{name}: no command");
        let mut store = Store::new(device(ClientAuthType::Basic));
        let ids: Vec<i64> = specs.iter().cloned().map(|s| store.enqueue(s)).collect();
        let mut dev = Dev::new(tree("BASIC", "DIGEST"));
        let ran = run(&mut store, &mut dev, config("W1", "DM/1.2"));
        assert!(ran.outcome.is_ok(), "{name}: {:?}", ran.outcome);
        // What the engine sent, in order, is what the sample holds (targets trimmed).
        let sent: Vec<_> = ran
            .answers
            .iter()
            .flat_map(|a| flat(&a.body.commands))
            .collect();
        let want: Vec<_> = flat(&m.body.commands)
            .into_iter()
            .filter(|(n, _, _)| n != "Status" && n != "Results")
            .collect();
        assert_eq!(
            sent, want,
            "{name}: the commands sent differ from the sample's"
        );
        for id in ids {
            let c = store.cmd(id);
            assert!(
                matches!(c.state, CommandState::Done | CommandState::Failed) && c.status.is_some(),
                "{name}: command {id} has no status recorded: {c:?}"
            );
            queued += 1;
        }
    }
    assert!(queued >= 15, "{queued} commands");
}

#[test]
fn windows_client_samples_decode_or_are_refused_with_a_position() {
    for (name, ok) in [
        ("02_client_pkg1_generic_alert_1226_unenroll.xml", true),
        (
            "03_client_status_results_diagnosticlog_archiveresults.xml",
            true,
        ),
        (
            "19_client_status_results_reporting_edp_protectionremoved.xml",
            false,
        ),
        (
            "20_client_status_results_reporting_edp_datacopied.xml",
            false,
        ),
    ] {
        let bytes = std::fs::read(samples().join(name)).expect("sample");
        match Message::decode(&bytes) {
            Ok(m) => {
                assert!(ok, "{name} should be refused");
                let shapes: Vec<&str> = m.body.commands.iter().map(|c| c.name()).collect();
                assert!(!shapes.is_empty(), "{name}");
            }
            Err(e) => {
                assert!(!ok, "{name}: {e}");
                assert!(
                    e.to_string().contains("line"),
                    "{name}: the error names where: {e}"
                );
            }
        }
    }
}
