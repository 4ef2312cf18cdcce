//! `omadm device run`: one client-initiated DM session.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use omadm_client::agent::driver::{describe, DEFAULT_MAX_MESSAGES};
use omadm_client::agent::transport::{Transport, TransportOptions};
use omadm_client::agent::{run_session_with, DeviceDir, RunOptions, SessionTrigger};
use omadm_client::session::{Event, Outcome};
use omadm_client::ui::{AutoAccept, AutoReject, Interaction, Scripted, Terminal, UserInterface};
use omadm_client::UiAnswer;

pub const LONG_ABOUT: &str = "\
Run one client-initiated DM session (OMA DM Protocol 1.3 §6) with the device's server.

The device sends package #1 to the server URL of device.toml (or the account's AppAddr): Alert
1201 (client-initiated management), its DevInfo in a Replace, the Generic Alerts (1226) queued
in DIR/alerts.json (results of asynchronous Execs, FUMO), MaxMsgSize and MaxObjSize, and Cred as
the DMAcc account's CLCRED entry says (BASIC, DIGEST = syncml:auth-md5 with the last nonce, or
HMAC in the x-syncml-hmac header). It then runs what the server sends (Add, Replace, Delete,
Get, Copy, Exec, Atomic, Sequence, user interaction alerts 1100-1104) against the tree, with
the ACL rights of that server, and answers with Status and Results until the server has nothing
more to send.

On the way it answers the server's challenges (401/407, switching scheme and nonce as told, and
resending package #1 when challenged there), keeps the server's NextNonce in the account,
checks the server's Cred against SRVCRED and challenges it when missing or wrong, follows
RespURI, splits its answers across messages at the server's MaxMsgSize (continuing on Alert
1222), asks for the rest of a multi-message package with 1222, reassembles large objects from
chunks (213, 424 on a size mismatch, 1225 when a chunk sequence breaks) and sends large Results
in chunks at the server's MaxObjSize.

The tree is saved after every server message, before the answer is sent, atomically: a crash
leaves it as it was before that message, never half-applied.

User interaction (--ui): auto-accept answers yes, the default (DR) or the first choice;
auto-reject answers no to 1101 and cancels 1102-1104 (214); tty asks on the terminal (prompts on
stderr); 'script FILE' takes one answer per line from FILE: accept, reject, cancel, timeout,
text:<text>, choose:<n>[,<n>...] (# starts a comment).

What happened is printed, one line per event: each command the server sent with the status it
got, the server's statuses for the client's commands, challenges and authentication. The
session runs at most --max-messages messages; a longer one is aborted with Alert 1223.

Exit status: 0 when the session ended normally (the server's last message needed no answer); 1
when it failed (transport, authentication, a message that does not decode, an abort by either
side); 2 on usage errors.";

/// Run one client-initiated DM session.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// User interaction: auto-accept, auto-reject, tty, or script FILE.
    #[arg(long, num_args = 1..=2, value_names = ["MODE", "FILE"], default_value = "auto-accept")]
    ui: Vec<String>,

    /// The DMAcc ServerID to talk to [default: server_id of device.toml].
    #[arg(long, value_name = "SID")]
    server_id: Option<String>,

    /// Extra trusted root certificate(s) for https, PEM [default: ca_file of device.toml].
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,

    /// At most this many messages sent in the session.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_MESSAGES)]
    max_messages: usize,

    /// Send a message again up to N times when the server cannot be reached or answers 5xx.
    #[arg(long, value_name = "N", default_value_t = 4)]
    retries: u32,

    /// Also print every message sent and received.
    #[arg(short, long)]
    verbose: bool,
}

/// The terminal UI, with its prompts on stderr (stdout carries the session's events). The
/// terminal is taken per interaction, so the UI is `Send`.
struct Tty;

impl UserInterface for Tty {
    fn interact(&mut self, i: &Interaction) -> UiAnswer {
        Terminal::new(std::io::stdin().lock(), std::io::stderr()).interact(i)
    }
}

/// The `--ui` choice.
pub fn user_interface(ui: &[String]) -> Result<Box<dyn UserInterface + Send>> {
    Ok(match ui {
        [m] if m == "auto-accept" => Box::new(AutoAccept),
        [m] if m == "auto-reject" => Box::new(AutoReject),
        [m] if m == "tty" => Box::new(Tty),
        [m, file] if m == "script" => {
            Box::new(Scripted::from_file(file).with_context(|| format!("--ui script {file}"))?)
        }
        [m] if m == "script" => bail!("--ui script needs a FILE: --ui script answers.txt"),
        other => bail!(
            "--ui {}: expected auto-accept, auto-reject, tty or script FILE",
            other.join(" ")
        ),
    })
}

pub fn run(a: &Args) -> Result<()> {
    let dir = DeviceDir::new(&a.dir);
    let config = dir.load_config()?;
    let mut topts = TransportOptions::from_config(&config)?;
    if let Some(ca) = &a.ca {
        topts = topts.with_ca_file(ca)?;
    }
    let verbose = a.verbose;
    let opts = RunOptions {
        ui: user_interface(&a.ui)?,
        max_messages: a.max_messages,
        retries: a.retries,
        transport: Some(Transport::new(&topts)?),
        on_event: Some(Box::new(move |e: &Event| {
            if verbose || !matches!(e, Event::Sent { .. } | Event::Received { .. }) {
                println!("{}", describe(e));
            }
        })),
        ..RunOptions::default()
    };
    let trigger = SessionTrigger::Client {
        server_id: a.server_id.clone(),
    };
    let rt = super::runtime()?;
    let result = rt.block_on(run_session_with(&dir, trigger, opts));
    // Background jobs (asynchronous Execs, FUMO) queue their Generic Alerts for the next
    // session; they must not die with this process.
    if !dir.jobs().wait_idle(Duration::from_secs(3600)) {
        eprintln!("omadm device run: background jobs still running after an hour; leaving them");
    }
    let report = result?;
    let (mut done, mut failed) = (0usize, 0usize);
    for e in &report.events {
        if let Event::Command { code, .. } = e {
            if (200..300).contains(code) {
                done += 1;
            } else {
                failed += 1;
            }
        }
    }
    for code in &report.unknown_mo_codes {
        println!("Requested-MO code {code} is not in [mo_codes] of device.toml: not sent");
    }
    let how = match report.outcome {
        Outcome::Completed => "ended normally",
        Outcome::AbortedByServer => "aborted by the server (1223)",
        Outcome::AbortedByClient => "aborted by the client (1223)",
    };
    println!(
        "session {} with {}: {how}; {} server command(s): {done} succeeded, {failed} failed; {} queued alert(s) delivered",
        report.session_id,
        report.server_id,
        done + failed,
        report.alerts_delivered
    );
    if report.outcome != Outcome::Completed {
        bail!("session {} {how}", report.session_id);
    }
    Ok(())
}
