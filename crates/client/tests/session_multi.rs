//! Multiple messages (DM Protocol 1.3 §7) and large objects (§8) through the session engine:
//! the client's package cut to the server's MaxMsgSize, the server's package in several
//! messages, chunked objects in both directions.

mod common;
mod scenario;

use common::*;
use omadm_client::session::{Event, Outcome, Session};
use omadm_client::ui::AutoAccept;
use omadm_syncml::{AlertCode, Command, Data, Encoding, Message, Meta};
use omadm_tree::format::NodeFormat;
use omadm_tree::{Caller, Tree};
use scenario::*;

const BLOB: &str = "./Vendor/Blob";

/// A server message whose SyncHdr Meta carries MaxMsgSize and/or MaxObjSize.
fn with_limits(mut m: Message, max_msg: Option<u64>, max_obj: Option<u64>) -> Message {
    let mut meta = Meta::default();
    meta.more_mut().max_msg_size = max_msg.map(|n| n.to_string().into());
    meta.more_mut().max_obj_size = max_obj.map(|n| n.to_string().into());
    m.hdr.meta = Some(meta);
    m
}

/// `n` bytes of printable text that never repeats within 26 bytes (so a misplaced chunk shows).
fn text(n: usize, salt: u8) -> String {
    (0..n)
        .map(|i| (b'a' + ((i + salt as usize) % 26) as u8) as char)
        .collect()
}

fn device_with(nodes: &[(&str, &str)]) -> Tree {
    let mut t = device(Some("BASIC"), None);
    for (uri, value) in nodes {
        t.add(
            Caller::Device,
            uri,
            NodeFormat::Chr,
            Some("text/plain"),
            value.as_bytes(),
        )
        .unwrap();
    }
    t
}

/// §7.2 (DM-PRO-Mul-C-001): the answers to 60 Gets do not fit the server's MaxMsgSize of 2048:
/// package #3 goes in several messages, each at most 2048 bytes as encoded, only the last with
/// Final and none asking for more (the server's package is complete). The server answers each
/// non-final one with the "Next Message" response (Status for the SyncHdr, Alert 1222, no
/// Final). Every Status and Results arrives exactly once, in the order of the Gets, and no
/// Results is chunked since each fits a message (DM-PRO-LO-C-006). Driven by the common
/// scripted-server harness.
#[test]
fn dm_pro_mul_c_001_package_3_spans_messages_final_on_last() {
    sixty_gets(Encoding::Xml);
}

/// The same over WBXML: MaxMsgSize holds for the WBXML bytes sent.
#[test]
fn dm_pro_mul_c_001_package_3_spans_messages_final_on_last_wbxml() {
    sixty_gets(Encoding::Wbxml);
}

fn sixty_gets(encoding: Encoding) {
    let values: Vec<(String, String)> = (0..60)
        .map(|i| (format!("./Vendor/N{i:02}"), text(64, i as u8)))
        .collect();
    let nodes: Vec<(&str, &str)> = values
        .iter()
        .map(|(u, v)| (u.as_str(), v.as_str()))
        .collect();
    let mut tree = device_with(&nodes);
    let mut cfg = config();
    cfg.encoding = encoding;
    let mut session = Session::new(&tree, cfg).unwrap();
    let first = session.start(&tree).unwrap();
    let mut ui = AutoAccept;
    let mut next_alerts = Vec::new();
    let (sent, outcome) = drive(&mut session, &mut tree, &mut ui, first, |round, out, m| {
        let id = round as u32 + 1;
        if round == 0 {
            let mut cmds = answers_to_pkg1(1);
            cmds.extend(values.iter().map(|(u, _)| get(u)));
            let pkg2 = with_limits(server_msg(id, cmds, true), Some(2048), None);
            return Some((pkg2.encode(Encoding::Xml).unwrap(), None));
        }
        assert!(
            out.body.len() <= 2048,
            "message {} is {} bytes",
            out.msg_id,
            out.body.len()
        );
        assert!(
            !alerts(m).contains(&1222),
            "the server's package is complete: nothing to ask for"
        );
        let mut cmds = answers_to(m, 200);
        let final_ = m.body.final_;
        if !final_ {
            cmds.push(alert(AlertCode::NEXT_MESSAGE));
        }
        let reply = server_msg(id, cmds, final_);
        if !final_ {
            next_alerts.push((id, reply.body.commands.last().unwrap().cmd_id().to_owned()));
        }
        Some((reply.encode(Encoding::Xml).unwrap(), None))
    });
    check_client_messages(&sent);
    assert_eq!(outcome, Ok(Outcome::Completed));
    let pkg3: Vec<Message> = sent[1..].iter().map(decode).collect();
    assert!(pkg3.len() >= 3, "{} messages", pkg3.len());
    for (i, m) in pkg3.iter().enumerate() {
        assert_eq!(m.body.final_, i + 1 == pkg3.len(), "Final only on the last");
        assert!(matches!(&m.body.commands[0], Command::Status(s) if s.cmd == "SyncHdr"));
    }

    // Each Get: one Status 200 then its Results, in the order sent (server CmdIDs 4..=63).
    let answers: Vec<String> = pkg3
        .iter()
        .flat_map(|m| m.body.commands.iter())
        .filter_map(|c| match c {
            Command::Status(s) if s.cmd == "Get" => Some(format!("S{}:{}", s.cmd_ref, s.data)),
            Command::Results(r) => {
                assert_eq!(r.items.len(), 1);
                let it = &r.items[0];
                assert!(
                    !it.more_data,
                    "DM-PRO-LO-C-006: fits a message, not chunked"
                );
                let i: usize = r.cmd_ref.parse::<usize>().unwrap() - 4;
                assert_eq!(it.source.as_ref().unwrap().loc_uri, values[i].0);
                assert_eq!(it.data.as_ref().unwrap().as_bytes(), values[i].1.as_bytes());
                Some(format!("R{}", r.cmd_ref))
            }
            _ => None,
        })
        .collect();
    let want: Vec<String> = (4..64)
        .flat_map(|i| [format!("S{i}:200"), format!("R{i}")])
        .collect();
    assert_eq!(answers, want);

    // §7: a Status for every Alert 1222 of the server, exactly once.
    let mut alert_statuses: Vec<(u32, String)> = pkg3
        .iter()
        .flat_map(|m| m.body.commands.iter())
        .filter_map(|c| match c {
            Command::Status(s) if s.cmd == "Alert" => {
                assert_eq!(s.data, "200");
                Some((s.msg_ref.parse().unwrap(), s.cmd_ref.to_string()))
            }
            _ => None,
        })
        .collect();
    alert_statuses.sort();
    assert_eq!(alert_statuses, next_alerts);
}

/// §7.2 (DM-PRO-Mul-C-002): the server's package #2 comes in two messages; the client answers
/// the first (no Final) with its Statuses and Results and Alert 1222, without Final (it may not
/// close its package before the server closes its own), and the second normally.
#[test]
fn dm_pro_mul_c_002_server_package_in_two_messages_gets_1222() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    cmds.push(get("./Vendor/A"));
    let m2 = dev.answer(&server_msg(1, cmds, false));
    assert_eq!(
        statuses(&m2),
        [
            ("Add".into(), "4".into(), 200),
            ("Get".into(), "5".into(), 200)
        ]
    );
    assert_eq!(results(&m2).len(), 1);
    assert_eq!(alerts(&m2), [1222]);
    assert!(matches!(m2.body.commands.last(), Some(Command::Alert(_))));
    assert!(
        !m2.body.final_,
        "DM-PRO-Mul-C-001: no Final before the server's"
    );

    let mut cmds = answers_to(&m2, 200);
    cmds.push(replace("./Vendor/A", "b"));
    let m3 = dev.answer(&server_msg(2, cmds, true));
    assert_eq!(statuses(&m3), [("Replace".into(), "3".into(), 200)]);
    assert!(alerts(&m3).is_empty());
    assert!(m3.body.final_);
    assert_eq!(
        ended(dev.recv(&server_msg(3, answers_to(&m3, 200), true))),
        Outcome::Completed
    );
    assert_eq!(dev.value("./Vendor/A").unwrap(), b"b");
}

/// Sends `chunks` of one Replace of [`BLOB`], one per server message; the message holding the
/// last chunk (no MoreData) closes the server's package. Returns the client's answer to each.
fn send_chunks(dev: &mut Dev, chunks: &[Command], first_msg_id: u32) -> Vec<Message> {
    let mut answers = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let id = first_msg_id + i as u32;
        let mut cmds = match answers.last() {
            None => answers_to_pkg1(1),
            Some(prev) => answers_to(prev, 200),
        };
        let more = matches!(chunk, Command::Replace(r) if r.items[0].more_data);
        cmds.push(chunk.clone());
        answers.push(dev.answer(&server_msg(id, cmds, !more)));
    }
    answers
}

/// The chunks of `value` for a Replace of [`BLOB`]: `size` on the first, MoreData on all but
/// the last.
fn chunks_of(value: &str, chunk: usize, size: usize) -> Vec<Command> {
    let parts: Vec<&str> = value
        .as_bytes()
        .chunks(chunk)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| replace_chunk(BLOB, p, (i == 0).then_some(size), i + 1 < n))
        .collect()
}

/// §8 (DM-PRO-LO-C-002, DM-PRO-LO-C-003): a 5000-byte Replace in 1 KiB chunks, one per message:
/// 213 for each chunk but the last (with Alert 1222 and no Final, the server's package being
/// open), 200 for the last; the value is committed only then — after a middle chunk the tree
/// is unchanged.
#[test]
fn dm_pro_lo_c_002_003_chunked_replace_213_then_200_committed_at_end() {
    let mut dev = Dev::new(device_with(&[(BLOB, "old")]), config());
    dev.start();
    let value = text(5000, 3);
    let chunks = chunks_of(&value, 1024, 5000);
    assert_eq!(chunks.len(), 5);
    let before = dev.snapshot("./Vendor");

    let answers = send_chunks(&mut dev, &chunks[..3], 1);
    for a in &answers {
        let st = statuses(a);
        assert_eq!(st.last().unwrap().0, "Replace");
        assert_eq!(st.last().unwrap().2, 213);
        assert_eq!(alerts(a), [1222]);
        assert!(!a.body.final_);
    }
    assert_eq!(
        dev.snapshot("./Vendor"),
        before,
        "nothing committed mid-object"
    );
    assert_eq!(dev.value(BLOB).unwrap(), b"old");

    let mut cmds = answers_to(answers.last().unwrap(), 200);
    cmds.push(chunks[3].clone());
    let m = dev.answer(&server_msg(4, cmds, false));
    assert_eq!(statuses(&m).last().unwrap().2, 213);
    let mut cmds = answers_to(&m, 200);
    cmds.push(chunks[4].clone());
    let last = dev.answer(&server_msg(5, cmds, true));
    assert_eq!(statuses(&last).last().unwrap().2, 200);
    assert!(alerts(&last).is_empty());
    assert!(last.body.final_);
    assert_eq!(dev.value(BLOB).unwrap(), value.as_bytes());
    let buffered = dev
        .events
        .iter()
        .filter(|e| matches!(e, Event::ChunkBuffered { uri } if uri == BLOB))
        .count();
    assert_eq!(buffered, 4);
    assert_eq!(
        ended(dev.recv(&server_msg(6, answers_to(&last, 200), true))),
        Outcome::Completed
    );
}

/// §8 (DM-PRO-LO-C-010): the chunks add up to 4999 bytes where the first said Size 5000: the
/// last chunk gets 424 and nothing is committed.
#[test]
fn dm_pro_lo_c_010_size_mismatch_424_nothing_committed() {
    let mut dev = Dev::new(device_with(&[(BLOB, "old")]), config());
    dev.start();
    let value = text(4999, 5);
    let chunks = chunks_of(&value, 1024, 5000);
    let answers = send_chunks(&mut dev, &chunks, 1);
    let last = answers.last().unwrap();
    assert_eq!(
        statuses(last).last().unwrap(),
        &("Replace".into(), "3".into(), 424)
    );
    assert_eq!(dev.value(BLOB).unwrap(), b"old");
    assert_eq!(
        ended(dev.recv(&server_msg(6, answers_to(last, 200), true))),
        Outcome::Completed
    );
}

/// §8 (DM-PRO-LO-C-005): a new command where the next chunk should be: Alert 1225, the object
/// dropped (nothing committed), the new command run. The same when the server's package ends
/// with an object still open.
#[test]
fn dm_pro_lo_c_005_new_command_before_last_chunk_alert_1225() {
    let mut dev = Dev::new(device_with(&[(BLOB, "old")]), config());
    dev.start();
    let value = text(5000, 7);
    let chunks = chunks_of(&value, 1024, 5000);
    let answers = send_chunks(&mut dev, &chunks[..2], 1);
    assert_eq!(statuses(&answers[1]).last().unwrap().2, 213);

    let mut cmds = answers_to(&answers[1], 200);
    cmds.push(add("./Vendor/Other", "x"));
    let m = dev.answer(&server_msg(3, cmds, true));
    assert_eq!(alerts(&m), [1225]);
    let pos_alert = m
        .body
        .commands
        .iter()
        .position(|c| matches!(c, Command::Alert(_)))
        .unwrap();
    let pos_add = m
        .body
        .commands
        .iter()
        .position(|c| matches!(c, Command::Status(s) if s.cmd == "Add"))
        .unwrap();
    assert!(pos_alert < pos_add, "the object ended before the Add came");
    // §8: the Alert names the object whose chunks stopped (the original command's target).
    let Command::Alert(a) = &m.body.commands[pos_alert] else {
        unreachable!()
    };
    assert_eq!(
        a.items
            .iter()
            .map(|i| i.target.as_ref().map(|t| t.loc_uri.as_str()))
            .collect::<Vec<_>>(),
        [Some(BLOB)]
    );
    assert_eq!(
        statuses(&m).last().unwrap(),
        &("Add".into(), "3".into(), 200)
    );
    assert!(dev.events.contains(&Event::ChunkInterrupted));
    assert_eq!(dev.value(BLOB).unwrap(), b"old");
    assert_eq!(dev.value("./Vendor/Other").unwrap(), b"x");

    // The package ends (Final) after a first chunk: 1225 again, nothing committed.
    let mut cmds = answers_to(&m, 200);
    cmds.push(chunks[0].clone());
    let m = dev.answer(&server_msg(4, cmds, true));
    assert_eq!(statuses(&m).last().unwrap().2, 213);
    assert_eq!(alerts(&m), [1225]);
    assert!(m.body.final_);
    assert_eq!(dev.value(BLOB).unwrap(), b"old");
    assert_eq!(
        ended(dev.recv(&server_msg(5, answers_to(&m, 200), true))),
        Outcome::Completed
    );
}

/// §8 (DM-PRO-LO-C-007): the client's MaxObjSize is in package #1's SyncHdr Meta; an object
/// declared larger is refused with 413 at its first chunk, nothing committed.
#[test]
fn dm_pro_lo_c_007_object_over_client_max_obj_size_413() {
    let mut cfg = config();
    cfg.max_obj_size = 4096;
    let mut dev = Dev::new(device_with(&[(BLOB, "old")]), cfg);
    let pkg1 = dev.start();
    let meta = pkg1.hdr.meta.as_ref().unwrap();
    assert_eq!(meta.max_obj_size_value(), Some(4096));
    assert_eq!(meta.max_msg_size_value(), Some(16 * 1024));

    let chunks = chunks_of(&text(5000, 1), 1024, 5000);
    let m = send_chunks(&mut dev, &chunks[..1], 1).remove(0);
    assert_eq!(
        statuses(&m).last().unwrap(),
        &("Replace".into(), "4".into(), 413)
    );
    assert_eq!(dev.value(BLOB).unwrap(), b"old");
}

/// §8 (DM-PRO-LO-C-004, -005, -009): a Get of a 5000-byte node under a server MaxMsgSize of
/// 2048: the Results goes in chunks, each message at most 2048 bytes, MoreData on every chunk
/// but the last, Size (5000) on the first only, nothing between the chunks but the Statuses for
/// the server's SyncHdr and Alert, and the chunks put together give the value exactly. The
/// server answers each chunk 213 with Alert 1222 (the §8 "Get a Large Object" figure).
#[test]
fn dm_pro_lo_c_004_009_large_results_chunked_with_size_on_first() {
    large_results(Encoding::Xml);
}

/// The same over WBXML.
#[test]
fn dm_pro_lo_c_004_009_large_results_chunked_with_size_on_first_wbxml() {
    large_results(Encoding::Wbxml);
}

fn large_results(encoding: Encoding) {
    let value = text(5000, 11);
    let mut cfg = config();
    cfg.encoding = encoding;
    let mut dev = Dev::new(device_with(&[("./Vendor/Big", &value)]), cfg);
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(get("./Vendor/Big"));
    let mut m = dev.answer(&with_limits(server_msg(1, cmds, true), Some(2048), None));
    assert_eq!(statuses(&m), [("Get".into(), "4".into(), 200)]);
    let mut chunks = Vec::new();
    for id in 2.. {
        assert!(dev.last_out().body.len() <= 2048);
        for c in &m.body.commands {
            match c {
                Command::Results(r) => {
                    assert_eq!(r.cmd_ref, "4");
                    assert_eq!(r.items.len(), 1);
                    chunks.push(r.items[0].clone());
                }
                Command::Status(s) => {
                    assert!(
                        s.cmd == "SyncHdr" || s.cmd == "Alert" || s.cmd == "Get",
                        "{s:?}"
                    );
                }
                other => panic!("{} between chunks", other.name()),
            }
        }
        if m.body.final_ {
            break;
        }
        let mut cmds = answers_to(&m, 200);
        let results_id = results(&m)[0].cmd_id.to_string();
        cmds.insert(1, status_for(id - 1, &results_id, "Results", 213));
        cmds.push(alert(AlertCode::NEXT_MESSAGE));
        m = dev.answer(&server_msg(id, cmds, false));
        assert!(!alerts(&m).contains(&1222));
    }
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let n = chunks.len();
    let mut whole = Vec::new();
    for (i, it) in chunks.iter().enumerate() {
        assert_eq!(it.more_data, i + 1 < n, "chunk {i}: MoreData");
        let size = it.meta.as_ref().and_then(Meta::size_value);
        assert_eq!(size, (i == 0).then_some(5000), "chunk {i}: Size");
        assert_eq!(it.source.as_ref().unwrap().loc_uri, "./Vendor/Big");
        whole.extend_from_slice(it.data.as_ref().map_or(&[][..], Data::as_bytes));
    }
    assert_eq!(whole, value.as_bytes());
    let id = dev.sent.len() as u32;
    assert_eq!(
        ended(dev.recv(&server_msg(id, answers_to(&m, 200), true))),
        Outcome::Completed
    );
}

/// §8 (DM-PRO-LO-C-006): an object that fits a message is sent whole even when the message
/// being filled has no room left for it: it waits for the next message rather than being cut.
#[test]
fn dm_pro_lo_c_006_object_that_fits_a_message_is_not_chunked() {
    let big = text(1000, 2);
    let mut dev = Dev::new(
        device_with(&[("./Vendor/Small", &text(300, 1)), ("./Vendor/Mid", &big)]),
        config(),
    );
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(get("./Vendor/Small"));
    cmds.push(get("./Vendor/Mid"));
    let mut m = dev.answer(&with_limits(server_msg(1, cmds, true), Some(2048), None));
    let mut items = Vec::new();
    for id in 2..10 {
        assert!(dev.last_out().body.len() <= 2048);
        items.extend(results(&m).iter().flat_map(|r| r.items.clone()));
        if m.body.final_ {
            break;
        }
        let mut cmds = answers_to(&m, 200);
        cmds.push(alert(AlertCode::NEXT_MESSAGE));
        m = dev.answer(&server_msg(id, cmds, false));
    }
    assert!(m.body.final_);
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| !i.more_data));
    assert_eq!(items[1].data.as_ref().unwrap().as_bytes(), big.as_bytes());
}

/// §8 (DM-PRO-LO-C-008): the server's MaxObjSize (1000) is smaller than the value asked for: the
/// Get answers 413 and no Results goes; a Get of a small value in the same package is answered
/// as usual.
#[test]
fn dm_pro_lo_c_008_server_max_obj_size_get_413_no_results() {
    let mut dev = Dev::new(
        device_with(&[("./Vendor/Big", &text(5000, 0)), ("./Vendor/Small", "s")]),
        config(),
    );
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(get("./Vendor/Big"));
    cmds.push(get("./Vendor/Small"));
    let m = dev.answer(&with_limits(server_msg(1, cmds, true), None, Some(1000)));
    assert_eq!(
        statuses(&m),
        [
            ("Get".into(), "4".into(), 413),
            ("Get".into(), "5".into(), 200)
        ]
    );
    let r = results(&m);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].cmd_ref, "5");
    assert!(m.body.final_);
}

/// §8 (DM-PRO-LO-C-011): the client says it takes large objects: DevDetail/LrgObj is `true`
/// to the server.
#[test]
fn dm_pro_lo_c_011_devdetail_lrgobj_true() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(get("./DevDetail/LrgObj"));
    let m = dev.answer(&server_msg(1, cmds, true));
    assert_eq!(statuses(&m), [("Get".into(), "4".into(), 200)]);
    let r = results(&m);
    assert_eq!(r[0].items[0].data.as_ref().unwrap().as_bytes(), b"true");
}

/// §6.1.2 (DM-PRO-Abort-C-003, -004): a client that aborts while its package #3 is still going
/// out in several messages sends, with the Alert 1223, the Status and Results not sent yet that
/// fit the server's MaxMsgSize, and Final; when they do not fit, the abort goes alone.
#[test]
fn dm_pro_abort_c_003_abort_carries_the_answers_not_sent_yet() {
    // (Gets, server MaxMsgSize): the remaining answers fit the abort's message, or they do not.
    for (gets, max_msg, fits) in [(2usize, 1000u64, true), (60, 1000, false)] {
        let mut dev = Dev::new(device(Some("BASIC"), None), config());
        dev.start();
        let mut cmds = answers_to_pkg1(1);
        cmds.extend((0..gets).map(|_| get("./DevInfo/Man")));
        let first = dev.answer(&with_limits(server_msg(1, cmds, true), Some(max_msg), None));
        assert!(!first.body.final_, "{gets} Gets: the answers span messages");
        let sent = results(&first).len();
        assert!(sent < gets);
        let out = dev.session.abort(&mut dev.tree).unwrap();
        assert!(
            out.body.len() as u64 <= max_msg,
            "the abort respects MaxMsgSize"
        );
        dev.sent.push(out);
        let abort = dev.last();
        assert!(abort.body.final_, "DM-PRO-Abort-C-004");
        assert_eq!(alerts(&abort), [1223]);
        if fits {
            assert_eq!(
                sent + results(&abort).len(),
                gets,
                "every Results sent once"
            );
        } else {
            assert_eq!(abort.body.commands.len(), 1, "the abort alone");
        }
    }
}
