//! User interaction alerts 1100-1104 through the executor, with the alerts of DM Protocol 1.3
//! §10.2 (DM-PRO-UI-C-001..006).

use std::io::Cursor;

use omadm_client::ui::{
    self, AutoAccept, AutoReject, EchoType, InputType, Interaction, Kind, ScriptError, Scripted,
    Terminal, UserInterface,
};
use omadm_client::{Executor, UiAnswer};
use omadm_syncml::{Alert, Command, Data, Message};
use omadm_tree::plugin::Plugins;
use omadm_tree::Tree;

const DISPLAY: &str = "<Alert><CmdID>2</CmdID><Data>1100</Data>\
    <Item><Data>MINDT=10</Data></Item>\
    <Item><Data>Management in progress</Data></Item></Alert>";
const CONFIRM: &str = "<Alert><CmdID>2</CmdID><Data>1101</Data>\
    <Item></Item> <!-- no optional parameters -->\
    <Item><Data>Do you want to add the CNN access point?</Data></Item></Alert>";
const TEXT_INPUT: &str = "<Alert><CmdID>2</CmdID><Data>1102</Data><Item></Item>\
    <Item><Data>Type in the name of the service you would like to configure</Data></Item>\
    </Alert>";
const SINGLE_CHOICE: &str = "<Alert><CmdID>2</CmdID><Data>1103</Data>\
    <Item><Data>MINDT=10</Data></Item>\
    <Item><Data>Select service to configure</Data></Item>\
    <Item><Data>CNN</Data></Item><Item><Data>Mobilbank</Data></Item>\
    <Item><Data>Game Channel</Data></Item></Alert>";
const MULTIPLE_CHOICE: &str = "<Alert><CmdID>2</CmdID><Data>1104</Data><Item></Item>\
    <Item><Data>Select service to configure</Data></Item>\
    <Item><Data>CNN</Data></Item><Item><Data>Mobilbank</Data></Item>\
    <Item><Data>Game Channel</Data></Item></Alert>";

/// The commands of a server message whose SyncBody is `body`.
fn body(body: &str) -> Vec<Command> {
    let xml = format!(
        "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD>\
         <VerProto>DM/1.3</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>\
         <Target><LocURI>IMEI:493005100592800</LocURI></Target>\
         <Source><LocURI>http://www.syncml.org/mgmt-server</LocURI></Source></SyncHdr>\
         <SyncBody>{body}<Final/></SyncBody></SyncML>"
    );
    Message::decode(xml.as_bytes()).unwrap().body.commands
}

fn alert(xml: &str) -> Alert {
    match body(xml).remove(0) {
        Command::Alert(a) => a,
        c => panic!("not an alert: {c:?}"),
    }
}

/// Runs `xml` with `ui`: (Cmd, CmdRef, Data, Status Item data) of each Status.
fn run(ui: &mut dyn UserInterface, xml: &str) -> Vec<(String, String, String, Vec<String>)> {
    let cmds = body(xml);
    let mut tree = Tree::default();
    let mut plugins = Plugins::default();
    let mut cb = ui::callback(ui);
    let out = Executor::new(&mut tree, &mut plugins, "srv", "1", 1)
        .with_ui(&mut cb)
        .execute_all(&cmds);
    out.into_iter()
        .map(|c| match c {
            Command::Status(s) => (
                s.cmd.to_string(),
                s.cmd_ref.to_string(),
                s.data.to_string(),
                s.items
                    .iter()
                    .map(|i| i.data.as_ref().map(|d| d.to_text_lossy().into_owned()))
                    .map(Option::unwrap_or_default)
                    .collect(),
            ),
            c => panic!("not a status: {c:?}"),
        })
        .collect()
}

fn st(code: &str, items: &[&str]) -> Vec<(String, String, String, Vec<String>)> {
    vec![(
        "Alert".into(),
        "2".into(),
        code.into(),
        items.iter().map(|s| s.to_string()).collect(),
    )]
}

fn script(s: &str) -> Scripted {
    Scripted::parse(s).unwrap()
}

#[test]
fn dm_pro_ui_c_001_10_2_1_display_answers_200() {
    let i = Interaction::from_alert(&alert(DISPLAY)).unwrap();
    assert_eq!(i.kind, Kind::Display);
    assert_eq!(i.text, "Management in progress");
    assert_eq!(i.options.min_dt, Some(10));
    assert_eq!(run(&mut AutoAccept, DISPLAY), st("200", &[]));
    // A display cannot be refused.
    assert_eq!(run(&mut AutoReject, DISPLAY), st("200", &[]));
}

#[test]
fn dm_pro_ui_c_002_10_2_2_confirm_yes_200_no_304_cancel_214() {
    let i = Interaction::from_alert(&alert(CONFIRM)).unwrap();
    assert_eq!(i.kind, Kind::Confirm);
    assert_eq!(i.text, "Do you want to add the CNN access point?");
    assert_eq!(run(&mut AutoAccept, CONFIRM), st("200", &[]));
    assert_eq!(run(&mut AutoReject, CONFIRM), st("304", &[]));
    assert_eq!(run(&mut script("cancel"), CONFIRM), st("214", &[]));
}

#[test]
fn dm_pro_ui_c_003_10_2_3_text_input_returned_in_status_item() {
    assert_eq!(
        run(&mut script("text:CNN"), TEXT_INPUT),
        st("200", &["CNN"])
    );
    // AutoAccept: the DR text (§10.3.3 `DR=John+Doe`), else an empty text.
    assert_eq!(run(&mut AutoAccept, TEXT_INPUT), st("200", &[""]));
    let with_dr = TEXT_INPUT.replace("<Item></Item>", "<Item><Data>DR=John+Doe</Data></Item>");
    assert_eq!(run(&mut AutoAccept, &with_dr), st("200", &["John Doe"]));
    assert_eq!(run(&mut AutoReject, TEXT_INPUT), st("214", &[]));
}

#[test]
fn dm_pro_ui_c_004_10_2_4_single_choice_returns_item_number() {
    let i = Interaction::from_alert(&alert(SINGLE_CHOICE)).unwrap();
    assert_eq!(i.kind, Kind::SingleChoice);
    assert_eq!(i.text, "Select service to configure");
    assert_eq!(i.choices, ["CNN", "Mobilbank", "Game Channel"]);
    // "User selected MobilBank": <Item><Data>2</Data></Item>.
    assert_eq!(
        run(&mut script("choose:2"), SINGLE_CHOICE),
        st("200", &["2"])
    );
    assert_eq!(run(&mut AutoAccept, SINGLE_CHOICE), st("200", &["1"]));
    let dr = SINGLE_CHOICE.replace("MINDT=10", "DR=3");
    assert_eq!(run(&mut AutoAccept, &dr), st("200", &["3"]));
    // Out of range, or two numbers for a single choice: cancelled.
    assert_eq!(run(&mut script("choose:4"), SINGLE_CHOICE), st("214", &[]));
    assert_eq!(
        run(&mut script("choose:1,2"), SINGLE_CHOICE),
        st("214", &[])
    );
}

#[test]
fn dm_pro_ui_c_005_10_2_4_multiple_choice_returns_one_item_per_choice() {
    // "User selected Mobilbank and Game Channel": Items 3 and 2 (any order).
    assert_eq!(
        run(&mut script("choose:3,2"), MULTIPLE_CHOICE),
        st("200", &["3", "2"])
    );
    assert_eq!(run(&mut AutoAccept, MULTIPLE_CHOICE), st("200", &[]));
    // §10.3.3: DR=2-3.
    let dr = MULTIPLE_CHOICE.replace("<Item></Item>", "<Item><Data>DR=2-3</Data></Item>");
    assert_eq!(run(&mut AutoAccept, &dr), st("200", &["2", "3"]));
    assert_eq!(run(&mut AutoReject, MULTIPLE_CHOICE), st("214", &[]));
}

#[test]
fn dm_pro_ui_c_006_10_2_items_used_in_order_sent() {
    let i = Interaction::from_alert(&alert(MULTIPLE_CHOICE)).unwrap();
    assert_eq!(i.choices, ["CNN", "Mobilbank", "Game Channel"]);
    let mut a = alert(MULTIPLE_CHOICE);
    a.items.swap(2, 4);
    let i = Interaction::from_alert(&a).unwrap();
    assert_eq!(i.choices, ["Game Channel", "Mobilbank", "CNN"]);
}

#[test]
fn dm_pro_10_2_cancel_214_stops_the_message_215() {
    let xml = format!(
        "{CONFIRM}{}",
        DISPLAY.replace("<CmdID>2</CmdID>", "<CmdID>3</CmdID>")
    );
    let out = run(&mut script("cancel\naccept"), &xml);
    let codes: Vec<_> = out.iter().map(|s| s.2.as_str()).collect();
    assert_eq!(codes, ["214", "215"]);
}

#[test]
fn dm_pro_10_3_2_maxdt_timeout_is_408() {
    assert_eq!(run(&mut script("timeout"), CONFIRM), st("408", &[]));
    assert_eq!(run(&mut script("timeout"), TEXT_INPUT), st("408", &[]));
}

#[test]
fn dm_pro_10_2_unsupported_alert_is_406_and_malformed_is_400() {
    let a = alert(&DISPLAY.replace("1100", "1105"));
    assert_eq!(Interaction::from_alert(&a), Err(406));
    // Only one Item: no text.
    let one = "<Alert><CmdID>2</CmdID><Data>1100</Data><Item><Data>hi</Data></Item></Alert>";
    assert_eq!(Interaction::from_alert(&alert(one)), Err(400));
    assert_eq!(run(&mut AutoAccept, one), st("400", &[]));
    // A choice without choices.
    let none = "<Alert><CmdID>2</CmdID><Data>1103</Data><Item></Item>\
        <Item><Data>Pick</Data></Item></Alert>";
    assert_eq!(run(&mut AutoAccept, none), st("400", &[]));
    // A malformed known option.
    let bad = DISPLAY.replace("MINDT=10", "MINDT=ten");
    assert_eq!(run(&mut AutoAccept, &bad), st("400", &[]));
    // An unknown option is skipped (§10.3).
    let unknown = DISPLAY.replace("MINDT=10", "FOO=1&amp;MINDT=10");
    assert_eq!(run(&mut AutoAccept, &unknown), st("200", &[]));
    // The user is not asked about an alert that does not parse.
    let mut s = script("reject");
    assert_eq!(ui::answer(&mut s, &alert(one)), UiAnswer::Malformed);
    assert_eq!(s.remaining(), 1);
}

#[test]
fn dm_pro_10_3_options_parsed_from_first_item() {
    let xml = TEXT_INPUT.replace(
        "<Item></Item>",
        "<Item><Data>MAXDT=30&amp;MAXLEN=5&amp;IT=N&amp;ET=P&amp;DR=1.5</Data></Item>",
    );
    let i = Interaction::from_alert(&alert(&xml)).unwrap();
    assert_eq!(i.options.max_dt, Some(30));
    assert_eq!(i.options.max_len, Some(5));
    assert_eq!(i.options.input_type, Some(InputType::Numeric));
    assert_eq!(i.options.echo, Some(EchoType::Password));
    assert_eq!(i.options.default.as_deref(), Some("1.5"));
}

#[test]
fn scripted_exhausted_cancels_and_errors_name_the_line() {
    let mut s = script("# comment\n\naccept\n");
    assert_eq!(run(&mut s, CONFIRM), st("200", &[]));
    assert_eq!(run(&mut s, CONFIRM), st("214", &[]));
    match Scripted::parse("accept\nchoose:1,x\n") {
        Err(ScriptError::BadChoice { line: 2, text }) => assert_eq!(text, "x"),
        r => panic!("{r:?}"),
    }
    match Scripted::parse("accept\nreject\nmaybe") {
        Err(e @ ScriptError::UnknownStep { line: 3, .. }) => {
            assert!(e.to_string().contains("line 3"))
        }
        r => panic!("{r:?}"),
    }
}

fn terminal(input: &str, xml: &str) -> (UiAnswer, String) {
    let mut t = Terminal::new(Cursor::new(input.to_owned()), Vec::new());
    let i = Interaction::from_alert(&alert(xml)).unwrap();
    let a = t.interact(&i);
    let (_, out) = t.into_inner();
    (a, String::from_utf8(out).unwrap())
}

#[test]
fn terminal_10_2_2_confirm_with_dr_default() {
    let (a, out) = terminal("n\n", CONFIRM);
    assert_eq!(a, UiAnswer::Reject);
    assert!(out.contains("CNN access point"));
    let dr = CONFIRM.replace("<Item></Item>", "<Item><Data>DR=1</Data></Item>");
    assert_eq!(terminal("\n", &dr).0, UiAnswer::Accept);
    assert_eq!(terminal("what\nc\n", CONFIRM).0, UiAnswer::Cancel);
    assert_eq!(terminal("", CONFIRM).0, UiAnswer::Cancel);
}

#[test]
fn terminal_10_3_4_maxlen_and_10_3_5_it_n_re_ask() {
    let xml = TEXT_INPUT.replace(
        "<Item></Item>",
        "<Item><Data>MAXLEN=5&amp;IT=N&amp;ET=P</Data></Item>",
    );
    let (a, out) = terminal("1234567\nabc\n-1.23\n", &xml);
    assert_eq!(a, UiAnswer::Input(vec!["-1.23".into()]));
    assert!(out.contains("at most 5 characters"));
    assert!(out.contains("a number"));
    assert!(out.contains("not hidden"));
}

#[test]
fn terminal_10_2_4_choices_numbered_from_1() {
    let (a, out) = terminal("2\n", SINGLE_CHOICE);
    assert_eq!(a, UiAnswer::Input(vec!["2".into()]));
    assert!(out.contains("1. CNN") && out.contains("3. Game Channel"));
    assert_eq!(
        terminal("0\n1 2\n3\n", SINGLE_CHOICE).0,
        UiAnswer::Input(vec!["3".into()])
    );
    assert_eq!(
        terminal("3,2\n", MULTIPLE_CHOICE).0,
        UiAnswer::Input(vec!["3".into(), "2".into()])
    );
    let (a, out) = terminal("", DISPLAY);
    assert_eq!(a, UiAnswer::Accept);
    assert!(out.contains("Management in progress"));
}

#[test]
fn status_items_carry_text_data() {
    let mut tree = Tree::default();
    let mut plugins = Plugins::default();
    let mut ui = script("text:CNN");
    let mut cb = ui::callback(&mut ui);
    let out = Executor::new(&mut tree, &mut plugins, "srv", "1", 1)
        .with_ui(&mut cb)
        .execute_all(&body(TEXT_INPUT));
    let Some(Command::Status(s)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(s.items.len(), 1);
    assert_eq!(s.items[0].data, Some(Data::Text("CNN".into())));
    assert!(s.items[0].target.is_none() && s.items[0].source.is_none());
}
