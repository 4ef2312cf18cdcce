//! The DM commands of `SyncBody`, `Atomic` and `Sequence`.

use super::{
    hdr::{Chal, Cred},
    item::Item,
    meta::Meta,
};
use crate::codes::{AlertCode, StatusCode};
use crate::tag::Tag;
use compact_str::CompactString;

/// One command, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `Add`: create nodes.
    Add(ItemCommand),
    /// `Alert`.
    Alert(Alert),
    /// `Atomic`: all or nothing.
    Atomic(Container),
    /// `Copy`.
    Copy(ItemCommand),
    /// `Delete`.
    Delete(ItemCommand),
    /// `Exec`.
    Exec(Exec),
    /// `Get`.
    Get(ItemCommand),
    /// `Replace`.
    Replace(ItemCommand),
    /// `Sequence`: in order.
    Sequence(Container),
    /// `Status`.
    Status(Status),
    /// `Results`.
    Results(Results),
    /// A SyncML command DM does not use (`Sync`, `Map`, `Put`, `Search`, `Move`): kept by name and
    /// CmdID so that the receiver can answer it with a Status.
    Unsupported(Unsupported),
}

/// Add, Copy, Delete, Get, Replace: `CmdID, NoResp?, Cred?, Meta?, Item+`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemCommand {
    /// `CmdID`: an opaque string (samples/windows/04 sends `VERIFYHEALTHV2`).
    pub cmd_id: CompactString,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred` (not used in DM, carried if present).
    pub cred: Option<Box<Cred>>,
    /// `Meta` applying to every Item.
    pub meta: Option<Meta>,
    /// The items.
    pub items: Vec<Item>,
}

/// `Exec := CmdID, NoResp?, Cred?, Meta?, Correlator?, Item`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exec {
    /// `CmdID`.
    pub cmd_id: CompactString,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Box<Cred>>,
    /// `Meta`.
    pub meta: Option<Meta>,
    /// `Correlator`: echoed in the Generic Alert of an asynchronous result.
    pub correlator: Option<CompactString>,
    /// The item(s); the DTD has one.
    pub items: Vec<Item>,
}

/// `Alert := CmdID, NoResp?, Cred?, Data?, Correlator?, Item*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alert {
    /// `CmdID`.
    pub cmd_id: CompactString,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Cred`.
    pub cred: Option<Box<Cred>>,
    /// `Data`: the alert code as sent.
    pub data: Option<CompactString>,
    /// `Correlator`.
    pub correlator: Option<CompactString>,
    /// The items.
    pub items: Vec<Item>,
}

impl Alert {
    /// 1100: display.
    pub const DISPLAY: AlertCode = AlertCode::DISPLAY;
    /// 1101: confirm or reject.
    pub const CONFIRM_OR_REJECT: AlertCode = AlertCode::CONFIRM_OR_REJECT;
    /// 1200: server-initiated session.
    pub const SERVER_INITIATED_MGMT: AlertCode = AlertCode::SERVER_INITIATED_MGMT;
    /// 1201: client-initiated session.
    pub const CLIENT_INITIATED_MGMT: AlertCode = AlertCode::CLIENT_INITIATED_MGMT;
    /// 1222: next message.
    pub const NEXT_MESSAGE: AlertCode = AlertCode::NEXT_MESSAGE;
    /// 1223: session abort.
    pub const SESSION_ABORT: AlertCode = AlertCode::SESSION_ABORT;
    /// 1226: generic alert.
    pub const GENERIC: AlertCode = AlertCode::GENERIC;

    /// The alert code, when `Data` is a decimal number.
    pub fn code(&self) -> Option<AlertCode> {
        self.data.as_deref().and_then(AlertCode::parse)
    }

    /// An alert with the given code and no items.
    pub fn new(cmd_id: impl Into<CompactString>, code: AlertCode) -> Alert {
        Alert {
            cmd_id: cmd_id.into(),
            data: Some(compact_str::ToCompactString::to_compact_string(&code.0)),
            ..Alert::default()
        }
    }
}

/// Atomic and Sequence: `CmdID, NoResp?, Meta?, (commands)+`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Container {
    /// `CmdID`.
    pub cmd_id: CompactString,
    /// `NoResp`.
    pub no_resp: bool,
    /// `Meta`.
    pub meta: Option<Meta>,
    /// The nested commands, in order.
    pub commands: Vec<Command>,
}

/// `Status := CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// `CmdID`.
    pub cmd_id: CompactString,
    /// `MsgRef`: the MsgID of the message holding the command answered.
    pub msg_ref: CompactString,
    /// `CmdRef`: the CmdID answered (`0` for the SyncHdr).
    pub cmd_ref: CompactString,
    /// `Cmd`: the name of the command answered (`SyncHdr` for the header).
    pub cmd: CompactString,
    /// `TargetRef`s.
    pub target_refs: Vec<CompactString>,
    /// `SourceRef`s.
    pub source_refs: Vec<CompactString>,
    /// `Cred`.
    pub cred: Option<Box<Cred>>,
    /// `Chal`: an authentication challenge (with 401/407, or a NextNonce with 200/212).
    pub chal: Option<Box<Chal>>,
    /// `Data`: the status code as sent.
    pub data: CompactString,
    /// Items (e.g. the user's answer to a 1102/1103 alert).
    pub items: Vec<Item>,
}

impl Status {
    /// The status code, when `Data` is a decimal number.
    pub fn code(&self) -> Option<StatusCode> {
        StatusCode::parse(&self.data)
    }
}

/// `Results := CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Results {
    /// `CmdID`.
    pub cmd_id: CompactString,
    /// `MsgRef`.
    pub msg_ref: Option<CompactString>,
    /// `CmdRef`: the Get answered.
    pub cmd_ref: CompactString,
    /// `Meta`.
    pub meta: Option<Meta>,
    /// `TargetRef`.
    pub target_ref: Option<CompactString>,
    /// `SourceRef`.
    pub source_ref: Option<CompactString>,
    /// The items.
    pub items: Vec<Item>,
}

/// A SyncML command outside DM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The element (`Sync`, `Map`, `Put`, `Search`, `Move`).
    pub tag: Tag,
    /// Its `CmdID`, when it had one.
    pub cmd_id: CompactString,
}

impl Command {
    /// The element name of the command (the value a Status puts in `Cmd`).
    pub fn name(&self) -> &'static str {
        self.tag().name()
    }

    /// The element of the command.
    pub fn tag(&self) -> Tag {
        match self {
            Command::Add(_) => Tag::Add,
            Command::Alert(_) => Tag::Alert,
            Command::Atomic(_) => Tag::Atomic,
            Command::Copy(_) => Tag::Copy,
            Command::Delete(_) => Tag::Delete,
            Command::Exec(_) => Tag::Exec,
            Command::Get(_) => Tag::Get,
            Command::Replace(_) => Tag::Replace,
            Command::Sequence(_) => Tag::Sequence,
            Command::Status(_) => Tag::Status,
            Command::Results(_) => Tag::Results,
            Command::Unsupported(u) => u.tag,
        }
    }

    /// The `CmdID`.
    pub fn cmd_id(&self) -> &str {
        match self {
            Command::Add(c)
            | Command::Copy(c)
            | Command::Delete(c)
            | Command::Get(c)
            | Command::Replace(c) => &c.cmd_id,
            Command::Alert(c) => &c.cmd_id,
            Command::Atomic(c) | Command::Sequence(c) => &c.cmd_id,
            Command::Exec(c) => &c.cmd_id,
            Command::Status(c) => &c.cmd_id,
            Command::Results(c) => &c.cmd_id,
            Command::Unsupported(c) => &c.cmd_id,
        }
    }

    /// The items of the command (none for Atomic, Sequence and unsupported commands).
    pub fn items(&self) -> &[Item] {
        match self {
            Command::Add(c)
            | Command::Copy(c)
            | Command::Delete(c)
            | Command::Get(c)
            | Command::Replace(c) => &c.items,
            Command::Alert(c) => &c.items,
            Command::Exec(c) => &c.items,
            Command::Status(c) => &c.items,
            Command::Results(c) => &c.items,
            Command::Atomic(_) | Command::Sequence(_) | Command::Unsupported(_) => &[],
        }
    }
}
