//! The command executor against a real tree (DM RepPro 1.2 §4.1, DIGEST.md §2.3, §2.4).

use omadm_client::{Executor, UiAnswer};
use omadm_syncml::{
    Alert, AlertCode, Command, Container, Data, Exec, Item, ItemCommand, Location, Message, Meta,
    Tag, Unsupported,
};
use omadm_tree::plugin::{ExecHandler, ExecOutcome, Plugins};
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};

const SRV: &str = "srv";

/// `./Vendor` manageable by `srv`; `./Locked` readable by another server only.
fn device() -> Tree {
    let mut t = Tree::default();
    t.add(
        Caller::Device,
        "./Vendor",
        omadm_tree::format::NodeFormat::Node,
        None,
        b"",
    )
    .unwrap();
    t.replace_prop(
        Caller::Device,
        "./Vendor",
        Property::Acl,
        "Add=srv&Get=srv&Replace=srv&Delete=srv&Exec=srv",
    )
    .unwrap();
    t.add(
        Caller::Device,
        "./Locked",
        omadm_tree::format::NodeFormat::Chr,
        None,
        b"x",
    )
    .unwrap();
    t.replace_prop(
        Caller::Device,
        "./Locked",
        Property::Acl,
        "Get=other&Replace=other",
    )
    .unwrap();
    t
}

fn run(tree: &mut Tree, plugins: &mut Plugins, cmds: &[Command]) -> Vec<Command> {
    Executor::new(tree, plugins, SRV, "1", 1).execute_all(cmds)
}

fn run_plain(tree: &mut Tree, cmds: &[Command]) -> Vec<Command> {
    run(tree, &mut Plugins::default(), cmds)
}

/// (Cmd, CmdRef, TargetRef, code) of every Status.
fn statuses(out: &[Command]) -> Vec<(String, String, String, String)> {
    out.iter()
        .filter_map(|c| match c {
            Command::Status(s) => Some((
                s.cmd.to_string(),
                s.cmd_ref.to_string(),
                s.target_refs
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                s.data.to_string(),
            )),
            _ => None,
        })
        .collect()
}

fn codes(out: &[Command]) -> Vec<String> {
    statuses(out).into_iter().map(|s| s.3).collect()
}

fn item(uri: &str, format: Option<&str>, data: Option<&str>) -> Item {
    Item {
        target: Some(Location::new(uri)),
        meta: format.map(|f| Meta {
            format: Some(f.into()),
            ..Meta::default()
        }),
        data: data.map(Data::from),
        ..Item::default()
    }
}

fn cmd(id: &str, items: Vec<Item>) -> ItemCommand {
    ItemCommand {
        cmd_id: id.into(),
        items,
        ..ItemCommand::default()
    }
}

fn add(id: &str, uri: &str, data: &str) -> Command {
    Command::Add(cmd(id, vec![item(uri, Some("chr"), Some(data))]))
}

fn get(id: &str, uri: &str) -> Command {
    Command::Get(cmd(id, vec![Item::target(uri)]))
}

fn results(out: &[Command]) -> Vec<&omadm_syncml::Results> {
    out.iter()
        .filter_map(|c| match c {
            Command::Results(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn confirm(id: &str) -> Command {
    let mut a = Alert::new(id, AlertCode::CONFIRM_OR_REJECT);
    a.items = vec![
        Item::default(),
        Item {
            data: Some("Go on?".into()),
            ..Item::default()
        },
    ];
    Command::Alert(a)
}

#[test]
fn dm_reppro_add_get_replace_delete_round_trip() {
    let mut t = device();
    let out = run_plain(
        &mut t,
        &[
            add("1", "./Vendor/Name", "one"),
            get("2", "./Vendor/Name"),
            Command::Replace(cmd("3", vec![item("./Vendor/Name", None, Some("two"))])),
            get("4", "./Vendor/Name"),
            Command::Delete(cmd("5", vec![Item::target("./Vendor/Name")])),
            get("6", "./Vendor/Name"),
            add("7", "./Vendor/Name/Sub", "x"),
        ],
    );
    let st = statuses(&out);
    let want = [
        ("Add", "1", "200"),
        ("Get", "2", "200"),
        ("Replace", "3", "200"),
        ("Get", "4", "200"),
        ("Delete", "5", "200"),
        ("Get", "6", "404"),
        ("Add", "7", "200"),
    ];
    for (s, w) in st.iter().zip(want) {
        assert_eq!((s.0.as_str(), s.1.as_str(), s.3.as_str()), w, "{st:?}");
    }
    assert_eq!(st.len(), want.len());
    assert_eq!(st[0].2, "./Vendor/Name");
    let r = results(&out);
    assert_eq!(r.len(), 2, "Results only for the successful Gets");
    assert_eq!(r[0].cmd_ref, "2");
    assert_eq!(r[0].msg_ref.as_deref(), Some("1"));
    assert_eq!(r[0].items[0].data, Some(Data::from("one")));
    assert_eq!(r[1].items[0].data, Some(Data::from("two")));
    let src = r[0].items[0].source.as_ref().map(|l| l.loc_uri.as_str());
    assert_eq!(src, Some("./Vendor/Name"));
    let meta = r[0].items[0].meta.as_ref().unwrap();
    assert_eq!(meta.format.as_deref(), Some("chr"));
    // Results come right after the Get's Status; CmdIDs follow the order of the answers.
    assert!(matches!(&out[2], Command::Results(_)));
    let ids: Vec<&str> = out.iter().map(Command::cmd_id).collect();
    let want_ids: Vec<String> = (1..=out.len()).map(|i| i.to_string()).collect();
    assert_eq!(ids, want_ids);
    // Add of an existing node: 418; unknown Format: 415; Add on ?prop: 405.
    let out = run_plain(
        &mut t,
        &[
            add("8", "./Vendor/Name", "again"),
            Command::Add(cmd(
                "9",
                vec![item("./Vendor/F", Some("colour"), Some("x"))],
            )),
            add("10", "./Vendor/Name?prop=Title", "t"),
            Command::Replace(cmd("11", vec![item("./Vendor/Nope", None, Some("x"))])),
        ],
    );
    assert_eq!(codes(&out), ["418", "415", "405", "404"]);
}

#[test]
fn dm_reppro_get_interior_node_lists_children() {
    let mut t = device();
    run_plain(
        &mut t,
        &[add("1", "./Vendor/A", "a"), add("2", "./Vendor/B", "b")],
    );
    let out = run_plain(&mut t, &[get("3", "./Vendor")]);
    assert_eq!(codes(&out), ["200"]);
    let it = &results(&out)[0].items[0];
    assert_eq!(it.data, Some(Data::from("A/B")));
    assert_eq!(
        it.meta.as_ref().and_then(|m| m.format.as_deref()),
        Some("node")
    );
}

#[test]
fn tnd_prop_acl_get_and_replace() {
    let mut t = device();
    run_plain(&mut t, &[add("1", "./Vendor/A", "a")]);
    let out = run_plain(
        &mut t,
        &[
            Command::Replace(cmd(
                "2",
                vec![item(
                    "./Vendor/A?prop=ACL",
                    Some("chr"),
                    Some("Get=srv&Replace=srv"),
                )],
            )),
            get("3", "./Vendor/A?prop=ACL"),
        ],
    );
    assert_eq!(codes(&out), ["200", "200"]);
    let it = &results(&out)[0].items[0];
    assert_eq!(it.data, Some(Data::from("Get=srv&Replace=srv")));
    assert_eq!(
        it.meta.as_ref().and_then(|m| m.format.as_deref()),
        Some("chr")
    );
    let src = it.source.as_ref().map(|l| l.loc_uri.as_str());
    assert_eq!(src, Some("./Vendor/A?prop=ACL"));
}

#[test]
fn tnd_list_structdata_one_results_item_per_node() {
    let mut t = device();
    run_plain(
        &mut t,
        &[add("1", "./Vendor/A", "a"), add("2", "./Vendor/B/C", "c")],
    );
    let out = run_plain(&mut t, &[get("3", "./Vendor?list=StructData")]);
    assert_eq!(codes(&out), ["200"]);
    let items = &results(&out)[0].items;
    let got: Vec<(&str, Option<String>)> = items
        .iter()
        .map(|i| {
            (
                i.source.as_ref().map_or("", |l| l.loc_uri.as_str()),
                i.data.as_ref().map(|d| d.to_text_lossy().into_owned()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("./Vendor", None),
            ("./Vendor/A", Some("a".into())),
            ("./Vendor/B", None),
            ("./Vendor/B/C", Some("c".into())),
        ]
    );
}

#[test]
fn dm_reppro_add_tnds_xml_creates_nodes() {
    let mut t = device();
    let xml = "<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>App</NodeName><RTProperties><Format><node/></Format></RTProperties><Node><NodeName>Port</NodeName><RTProperties><Format><int/></Format></RTProperties><Value>80</Value></Node></Node></MgmtTree>";
    let add = Command::Add(ItemCommand {
        cmd_id: "1".into(),
        meta: Some(Meta::format_type("xml", omadm_tree::tnds::MIME_XML)),
        items: vec![Item {
            target: Some(Location::new("./Vendor")),
            data: Some(Data::Cdata(xml.into())),
            ..Item::default()
        }],
        ..ItemCommand::default()
    });
    let out = run_plain(&mut t, &[add]);
    assert_eq!(codes(&out), ["200"]);
    let v = t.get(Caller::Server(SRV), "./Vendor/App/Port").unwrap();
    assert_eq!(v.data, b"80");
    assert_eq!(v.format, omadm_tree::format::NodeFormat::Int);
    // Get ?list=TNDS gives the object back as XML.
    let out = run_plain(&mut t, &[get("2", "./Vendor/App?list=TNDS+Value")]);
    let it = &results(&out)[0].items[0];
    let meta = it.meta.as_ref().unwrap();
    assert_eq!(meta.type_.as_deref(), Some(omadm_tree::tnds::MIME_XML));
    let text = it.data.as_ref().unwrap().to_text_lossy().into_owned();
    assert!(text.contains("<Value>80</Value>"), "{text}");
}

#[test]
fn dm_reppro_atomic_success_commits_200() {
    let mut t = device();
    let atomic = Command::Atomic(Container {
        cmd_id: "1".into(),
        commands: vec![add("2", "./Vendor/A", "a"), add("3", "./Vendor/B", "b")],
        ..Container::default()
    });
    let out = run_plain(&mut t, &[atomic]);
    assert_eq!(codes(&out), ["200", "200", "200"]);
    assert_eq!(statuses(&out)[0].0, "Atomic");
    assert!(!t.in_transaction());
    assert!(t.get(Caller::Device, "./Vendor/B").is_ok());
}

#[test]
fn dm_reppro_atomic_failing_child_rolls_back_507_216_215() {
    let mut t = device();
    let before = t.to_bytes();
    let atomic = Command::Atomic(Container {
        cmd_id: "1".into(),
        commands: vec![
            add("2", "./Vendor/A", "a"),
            Command::Delete(cmd("3", vec![Item::target("./Vendor/Missing")])),
            add("4", "./Vendor/C", "c"),
        ],
        ..Container::default()
    });
    let out = run_plain(&mut t, &[atomic]);
    assert_eq!(codes(&out), ["507", "216", "404", "215"]);
    assert_eq!(t.to_bytes(), before);
    assert!(!t.in_transaction());
}

#[test]
fn dm_reppro_atomic_with_get_or_nested_atomic_is_500() {
    let mut t = device();
    let before = t.to_bytes();
    let nested = Command::Atomic(Container {
        cmd_id: "3".into(),
        commands: vec![add("4", "./Vendor/B", "b")],
        ..Container::default()
    });
    for inner in [get("3", "./Vendor"), nested] {
        let atomic = Command::Atomic(Container {
            cmd_id: "1".into(),
            commands: vec![add("2", "./Vendor/A", "a"), inner],
            ..Container::default()
        });
        let out = run_plain(&mut t, &[atomic]);
        assert_eq!(codes(&out).first().map(String::as_str), Some("500"));
        assert!(results(&out).is_empty());
        assert_eq!(t.to_bytes(), before);
    }
}

#[test]
fn dm_pro_10_2_2_sequence_rejected_confirmation_bypasses_rest_215() {
    let mut t = device();
    let seq = Command::Sequence(Container {
        cmd_id: "1".into(),
        commands: vec![
            add("2", "./Vendor/A", "a"),
            confirm("3"),
            add("4", "./Vendor/B", "b"),
            get("5", "./Vendor"),
        ],
        ..Container::default()
    });
    let mut plugins = Plugins::default();
    let mut asked = 0;
    let mut ui = |a: &Alert| {
        asked += 1;
        assert_eq!(a.code(), Some(AlertCode::CONFIRM_OR_REJECT));
        UiAnswer::Reject
    };
    let out = Executor::new(&mut t, &mut plugins, SRV, "1", 1)
        .with_ui(&mut ui)
        .execute(&seq);
    assert_eq!(asked, 1);
    assert_eq!(codes(&out), ["200", "200", "304", "215", "215"]);
    assert!(results(&out).is_empty());
    assert!(t.get(Caller::Device, "./Vendor/A").is_ok());
    assert!(t.get(Caller::Device, "./Vendor/B").is_err());
    // Outside a Sequence a "No" has no effect on the package.
    let mut ui = |_: &Alert| UiAnswer::Reject;
    let out = Executor::new(&mut t, &mut plugins, SRV, "1", 1)
        .with_ui(&mut ui)
        .execute_all(&[confirm("6"), add("7", "./Vendor/B", "b")]);
    assert_eq!(codes(&out), ["304", "200"]);
}

#[test]
fn dm_pro_10_2_cancel_stops_processing_214_then_215() {
    let mut t = device();
    let mut plugins = Plugins::default();
    let mut ui = |_: &Alert| UiAnswer::Cancel;
    let out = Executor::new(&mut t, &mut plugins, SRV, "1", 1)
        .with_ui(&mut ui)
        .execute_all(&[confirm("1"), add("2", "./Vendor/A", "a")]);
    assert_eq!(codes(&out), ["214", "215"]);
}

#[test]
fn tnd_acl_denial_is_425() {
    let mut t = device();
    let out = run_plain(
        &mut t,
        &[
            get("1", "./Locked"),
            Command::Replace(cmd("2", vec![item("./Locked", None, Some("y"))])),
            Command::Delete(cmd("3", vec![Item::target("./Locked")])),
        ],
    );
    assert_eq!(codes(&out), ["425", "425", "425"]);
    assert!(results(&out).is_empty());
}

struct Later;

impl ExecHandler for Later {
    fn exec(&mut self, _: &str, _: &[u8], _: Option<&str>) -> Result<ExecOutcome, u16> {
        Ok(ExecOutcome::Accepted)
    }
}

#[test]
fn dm_reppro_exec_accepted_202_records_correlator() {
    let mut t = device();
    run_plain(&mut t, &[add("1", "./Vendor/Update", "")]);
    let mut plugins = Plugins::default();
    plugins
        .register_exec("./Vendor/Update", Box::new(Later))
        .unwrap();
    let exec = Command::Exec(Exec {
        cmd_id: "2".into(),
        correlator: Some("abc123".into()),
        items: vec![Item::target("./Vendor/Update")],
        ..Exec::default()
    });
    let mut ex = Executor::new(&mut t, &mut plugins, SRV, "1", 1);
    let out = ex.execute(&exec);
    assert_eq!(codes(&out), ["202"]);
    let p = ex.pending_async();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].uri, "./Vendor/Update");
    assert_eq!(p[0].correlator.as_deref(), Some("abc123"));
    // No handler bound: 405.
    let exec = Command::Exec(Exec {
        cmd_id: "3".into(),
        items: vec![Item::target("./Vendor")],
        ..Exec::default()
    });
    assert_eq!(codes(&ex.execute(&exec)), ["405"]);
}

#[test]
fn dm_reppro_noresp_suppresses_status() {
    let mut t = device();
    let mut c = cmd("1", vec![item("./Vendor/A", Some("chr"), Some("a"))]);
    c.no_resp = true;
    let out = run_plain(&mut t, &[Command::Add(c)]);
    assert!(out.is_empty());
    assert!(t.get(Caller::Device, "./Vendor/A").is_ok());
}

#[test]
fn dm_reppro_unsupported_command_is_406_and_status_gets_nothing() {
    let mut t = device();
    let out = run_plain(
        &mut t,
        &[
            Command::Unsupported(Unsupported {
                tag: Tag::Sync,
                cmd_id: "1".into(),
            }),
            Command::Status(omadm_syncml::Status::default()),
        ],
    );
    assert_eq!(
        statuses(&out),
        [("Sync".into(), "1".into(), String::new(), "406".into())]
    );
}

#[test]
fn multi_item_command_gets_one_status_per_item() {
    let mut t = device();
    let out = run_plain(
        &mut t,
        &[Command::Add(cmd(
            "1",
            vec![
                item("./Vendor/A", Some("chr"), Some("a")),
                item("./Locked/B", Some("chr"), Some("b")),
            ],
        ))],
    );
    let st = statuses(&out);
    assert_eq!(st.len(), 2);
    assert_eq!((st[0].2.as_str(), st[0].3.as_str()), ("./Vendor/A", "200"));
    assert_eq!(st[1].2, "./Locked/B");
    assert_ne!(st[1].3, "200");
}

#[test]
fn dm_pro_11_1_spec_example_pkg2_answered_as_pkg3() {
    let pkg2 = include_bytes!("../../syncml/testdata/spec/dmpro_11.1.2_pkg2_server_init.xml");
    let pkg3 = include_bytes!("../../syncml/testdata/spec/dmpro_11.1.3_pkg3_client_response.xml");
    let pkg2 = Message::decode(pkg2).unwrap();
    let pkg3 = Message::decode(pkg3).unwrap();
    let mut t = Tree::default();
    t.add(
        Caller::Device,
        "./settings/wap_settings/CNN",
        omadm_tree::format::NodeFormat::B64,
        None,
        b"",
    )
    .unwrap();
    t.replace_prop(
        Caller::Device,
        "./settings",
        Property::Acl,
        "Get=*&Replace=*",
    )
    .unwrap();
    let mut plugins = Plugins::default();
    let out = Executor::new(&mut t, &mut plugins, "mgmt-server", &pkg2.hdr.msg_id, 2)
        .execute_all(&pkg2.body.commands);
    let want: Vec<_> = statuses(&pkg3.body.commands)
        .into_iter()
        .filter(|s| s.0 != "SyncHdr")
        .collect();
    assert_eq!(statuses(&out), want);
    assert_eq!(want.len(), 3);
    let v = t
        .get(Caller::Device, "./settings/wap_settings/CNN")
        .unwrap();
    assert_eq!(v.type_, "application/vnd.wap.connectivity-wbxml");
}
