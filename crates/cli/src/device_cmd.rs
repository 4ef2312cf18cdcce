//! `omadm device`: a persistent OMA DM device (client) kept in a state directory.

mod init;
mod listen;
mod report;
mod respond;
mod run;

use anyhow::{Context, Result};
use clap::Subcommand;

pub const ABOUT: &str = "Run an OMA DM device kept in a state directory";

pub const LONG_ABOUT: &str = "\
Run an OMA DM device (the DM client) whose state lives in a directory.

A device keeps its management tree, the nodes a DM server reads and changes, between runs. The
directory DIR holds:

  tree.bin           the whole management tree (DevInfo, DevDetail, DMAcc, Inbox, FUMO...)
  device.toml        the agent's settings: DevId, ServerID, server URL, encoding (xml|wbxml),
                     MaxMsgSize, MaxObjSize, Exec hooks ([[exec]]), FUMO programs ([fumo]),
                     bootstrap secrets ([bootstrap])
  alerts.json        Generic Alerts (1226) waiting for the next session's package #1
  tree-updates.json  tree changes made by background jobs, applied at the next load
  log                one line per event

Every file is replaced atomically (temporary file, fsync, rename), and one process at a time
writes the tree (an exclusive lock on DIR/tree.lock), so a crash or two commands at once never
leave a torn tree.";

/// The `omadm device` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(long_about = init::LONG_ABOUT)]
    Init(init::Args),
    #[command(long_about = run::LONG_ABOUT)]
    Run(run::Args),
    #[command(long_about = respond::LONG_ABOUT)]
    Respond(respond::Args),
    #[command(long_about = report::LONG_ABOUT)]
    Report(report::Args),
    #[command(long_about = listen::LONG_ABOUT)]
    Listen(listen::Args),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init(_) => "device init",
            Command::Run(_) => "device run",
            Command::Respond(_) => "device respond",
            Command::Report(_) => "device report",
            Command::Listen(_) => "device listen",
        }
    }

    pub fn run(&self) -> Result<()> {
        match self {
            Command::Init(a) => init::run(a),
            Command::Run(a) => run::run(a),
            Command::Respond(a) => respond::run(a),
            Command::Report(a) => report::run(a),
            Command::Listen(a) => listen::run(a),
        }
    }
}

/// A tokio runtime for one command.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
