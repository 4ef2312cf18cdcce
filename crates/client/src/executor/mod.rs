//! The command executor: runs the management commands of a server's package on the tree and
//! answers each with its `Status`, and a Get also with its `Results` (DM RepPro 1.2 §4.1,
//! DIGEST.md §2.3, §2.4).
//!
//! Choices the spec leaves open:
//! - A command with several Items gets one Status per Item, each with the Item's TargetRef (and
//!   SourceRef); a command with one Item gets one Status. A Get's Results follow the Status of
//!   the Item they answer ("Results are sent after the Status for that command").
//! - Values are stored as the bytes received: a `b64` node stores base64 text, and a `bin` value
//!   that arrives over XML as base64 text is kept as that text (over WBXML it is the OPAQUE
//!   bytes). Get answers with the stored bytes.
//! - Status and Results from the server, and session alerts (1200-1299: 1222 next message, 1223
//!   abort...), are the session's business: the executor answers them with nothing.
//! - CmdIDs of the answers are numbered in the order the answers are returned.

mod alert;
mod container;
mod exec;
mod get;
mod item;
mod write;

use compact_str::{format_compact, CompactString};
use omadm_syncml::{Alert, Command, Item, Status};
use omadm_tree::plugin::Plugins;
use omadm_tree::{Caller, Tree};

pub use alert::UiAnswer;

/// An Exec that answered 202 (Accepted for processing): its result goes to the server later in
/// a Generic Alert (1226) echoing the Correlator (DM Protocol 1.3 §6.7.1.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncExec {
    /// The Exec's target URI.
    pub uri: CompactString,
    /// The Exec's `Correlator`, when it had one.
    pub correlator: Option<CompactString>,
    /// The Exec's `CmdID`.
    pub cmd_id: CompactString,
}

/// The user-interface callback for user interaction alerts (1100-1104).
pub type Ui<'a> = &'a mut (dyn FnMut(&Alert) -> UiAnswer + 'a);

/// Where a command runs: it decides what an Alert 1101 rejection and a Get or Exec mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Body,
    Sequence,
    Atomic,
}

/// What running one command gave.
#[derive(Debug, Default)]
struct Answer {
    /// Every status of the command (and of its children) is a success.
    ok: bool,
    /// The user answered "No" to a 1101 confirmation: the rest of a Sequence is bypassed.
    rejected: bool,
    /// The Status (and Results) to send, in order.
    out: Vec<Command>,
}

/// What one Item of a command gave.
#[derive(Debug)]
struct ItemAnswer {
    code: u16,
    results: Vec<Item>,
}

impl From<u16> for ItemAnswer {
    fn from(code: u16) -> ItemAnswer {
        ItemAnswer {
            code,
            results: Vec::new(),
        }
    }
}

/// A status code that means the command did what was asked: 2xx other than 214 (Operation
/// cancelled) and 215 (Not executed).
fn succeeded(code: u16) -> bool {
    (200..300).contains(&code) && code != 214 && code != 215
}

/// Runs server commands on a tree for one incoming message. Every tree operation is made as
/// `Caller::Server(server_id)`, so the ACLs of that server apply.
pub struct Executor<'a> {
    tree: &'a mut Tree,
    plugins: &'a mut Plugins,
    server_id: &'a str,
    msg_id: &'a str,
    next_cmd_id: u32,
    ui: Option<Ui<'a>>,
    pending: Vec<AsyncExec>,
    cancelled: bool,
}

impl std::fmt::Debug for Executor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("server_id", &self.server_id)
            .field("msg_id", &self.msg_id)
            .field("next_cmd_id", &self.next_cmd_id)
            .field("pending", &self.pending)
            .field("cancelled", &self.cancelled)
            .finish_non_exhaustive()
    }
}

impl<'a> Executor<'a> {
    /// An executor for the message `msg_id` (the answers' MsgRef) of server `server_id`; the
    /// answers get CmdIDs from `first_cmd_id` on. Without [`Executor::with_ui`] every user
    /// interaction alert is accepted.
    pub fn new(
        tree: &'a mut Tree,
        plugins: &'a mut Plugins,
        server_id: &'a str,
        msg_id: &'a str,
        first_cmd_id: u32,
    ) -> Executor<'a> {
        Executor {
            tree,
            plugins,
            server_id,
            msg_id,
            next_cmd_id: first_cmd_id,
            ui: None,
            pending: Vec::new(),
            cancelled: false,
        }
    }

    /// Asks `ui` how the user answers user interaction alerts (1100-1104).
    pub fn with_ui(mut self, ui: Ui<'a>) -> Executor<'a> {
        self.ui = Some(ui);
        self
    }

    /// The CmdID the next answer will get.
    pub fn next_cmd_id(&self) -> u32 {
        self.next_cmd_id
    }

    /// Execs that answered 202, for the Generic Alert that reports their result later.
    pub fn pending_async(&self) -> &[AsyncExec] {
        &self.pending
    }

    /// True once the user cancelled a user interaction (214): every later command of the
    /// message answers 215 (DM Protocol 1.3 §10.2).
    pub fn cancelled(&self) -> bool {
        self.cancelled
    }

    /// Runs one command of the SyncBody: the Status (and Results) answering it, in order. No
    /// Status for a command with NoResp.
    pub fn execute(&mut self, cmd: &Command) -> Vec<Command> {
        let mut out = if self.cancelled {
            self.skip(cmd)
        } else {
            self.run(cmd, Scope::Body).out
        };
        self.number(&mut out);
        out
    }

    /// Runs the commands of a SyncBody in order.
    pub fn execute_all(&mut self, cmds: &[Command]) -> Vec<Command> {
        cmds.iter().flat_map(|c| self.execute(c)).collect()
    }

    fn caller(&self) -> Caller<'a> {
        Caller::Server(self.server_id)
    }

    fn run(&mut self, cmd: &Command, scope: Scope) -> Answer {
        match cmd {
            Command::Add(c) => self.items(cmd.name(), c, |x, m, i| x.add_item(m, i)),
            Command::Replace(c) => self.items(cmd.name(), c, |x, m, i| x.replace_item(m, i)),
            Command::Delete(c) => self.items(cmd.name(), c, |x, _, i| x.delete_item(i)),
            Command::Copy(c) => self.items(cmd.name(), c, |x, _, i| x.copy_item(i)),
            Command::Get(c) => self.items(cmd.name(), c, |x, _, i| x.get_item(i)),
            Command::Exec(e) => self.exec(e),
            Command::Alert(a) => self.alert(a),
            Command::Atomic(c) => self.atomic(c, scope),
            Command::Sequence(c) => self.sequence(c, scope),
            Command::Status(_) | Command::Results(_) => Answer {
                ok: true,
                ..Answer::default()
            },
            // DM RepPro §4.1: Sync, Map, Put, Search are not used in DM.
            Command::Unsupported(u) => Answer {
                ok: false,
                rejected: false,
                out: vec![self.status(cmd.name(), &u.cmd_id, 406, None)],
            },
        }
    }

    /// A Status answering `cmd_ref` (CmdID filled in by [`Executor::number`]).
    fn status(&self, cmd: &str, cmd_ref: &str, code: u16, item: Option<&Item>) -> Command {
        let loc = |l: Option<&omadm_syncml::Location>| {
            l.map(|l| vec![l.loc_uri.clone()]).unwrap_or_default()
        };
        Command::Status(Status {
            msg_ref: self.msg_id.into(),
            cmd_ref: cmd_ref.into(),
            cmd: cmd.into(),
            target_refs: loc(item.and_then(|i| i.target.as_ref())),
            source_refs: loc(item.and_then(|i| i.source.as_ref())),
            data: format_compact!("{code}"),
            ..Status::default()
        })
    }

    /// Answers every Item with `f`: one Status for a single Item, one per Item otherwise, each
    /// followed by the Item's Results.
    fn items<F>(&mut self, name: &str, c: &omadm_syncml::ItemCommand, mut f: F) -> Answer
    where
        F: FnMut(&mut Self, Option<&omadm_syncml::Meta>, &Item) -> Result<ItemAnswer, u16>,
    {
        let mut ans = Answer {
            ok: true,
            ..Answer::default()
        };
        if c.items.is_empty() {
            // RepPro: Item+.
            ans.ok = false;
            if !c.no_resp {
                ans.out.push(self.status(name, &c.cmd_id, 400, None));
            }
            return ans;
        }
        for item in &c.items {
            let a = f(self, c.meta.as_ref(), item).unwrap_or_else(ItemAnswer::from);
            ans.ok &= succeeded(a.code);
            if !c.no_resp {
                ans.out
                    .push(self.status(name, &c.cmd_id, a.code, Some(item)));
            }
            if !a.results.is_empty() {
                ans.out.push(self.results(&c.cmd_id, a.results));
            }
        }
        ans
    }

    /// 215 (Not executed) for a command that is bypassed, and for everything inside it.
    fn skip(&self, cmd: &Command) -> Vec<Command> {
        let name = cmd.name();
        let (no_resp, items): (bool, &[Item]) = match cmd {
            Command::Add(c)
            | Command::Copy(c)
            | Command::Delete(c)
            | Command::Get(c)
            | Command::Replace(c) => (c.no_resp, &c.items),
            Command::Exec(e) => (e.no_resp, &e.items),
            Command::Alert(a) => (a.no_resp, &[]),
            Command::Atomic(c) | Command::Sequence(c) => {
                let mut out = Vec::new();
                if !c.no_resp {
                    out.push(self.status(name, &c.cmd_id, 215, None));
                }
                for k in &c.commands {
                    out.extend(self.skip(k));
                }
                return out;
            }
            Command::Status(_) | Command::Results(_) => return Vec::new(),
            Command::Unsupported(_) => (false, &[]),
        };
        if no_resp {
            return Vec::new();
        }
        if items.is_empty() {
            return vec![self.status(name, cmd.cmd_id(), 215, None)];
        }
        items
            .iter()
            .map(|i| self.status(name, cmd.cmd_id(), 215, Some(i)))
            .collect()
    }

    /// Gives the answers their CmdIDs, in the order they are sent.
    fn number(&mut self, out: &mut [Command]) {
        for c in out {
            let id = match c {
                Command::Status(s) => &mut s.cmd_id,
                Command::Results(r) => &mut r.cmd_id,
                _ => continue,
            };
            *id = format_compact!("{}", self.next_cmd_id);
            self.next_cmd_id = self.next_cmd_id.wrapping_add(1);
        }
    }
}
