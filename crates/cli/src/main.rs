//! `omadm`: the command-line face of the omadm crates.
//!
//! Thin glue: clap parses the command line, each subcommand lives in its own module and returns
//! `anyhow::Result`, and `main` turns an error into one line on stderr and exit code 1 (clap
//! itself exits with 2 on usage errors).

#![forbid(unsafe_code)]

mod convert;
mod inspect;
mod io;
mod opaque;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the decoders allocate many small strings; it is measurably faster than the system
/// allocator for that (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ABOUT: &str = "OMA Device Management (SyncML DM) tools";

const LONG_ABOUT: &str = "\
OMA Device Management (SyncML DM) tools.

SyncML DM is the OMA protocol a management server uses to read and change settings on a device:
each message is a SyncML document (a SyncHdr plus a SyncBody of commands such as Get, Replace,
Exec, Status and Results) sent over HTTP.

A DM message travels in one of two encodings: XML (content type
application/vnd.syncml.dm+xml) or WBXML (application/vnd.syncml.dm+wbxml), the WAP Binary XML
form that replaces each element name with a one-byte token. Both carry the same message.";

#[derive(Debug, Parser)]
#[command(name = "omadm", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

/// One variant per subcommand; later milestones add server, device, notify, bootstrap and
/// loadtest here.
#[derive(Debug, Subcommand)]
enum Commands {
    Convert(convert::Args),
    Inspect(inspect::Args),
}

impl Commands {
    fn name(&self) -> &'static str {
        match self {
            Commands::Convert(_) => "convert",
            Commands::Inspect(_) => "inspect",
        }
    }

    fn run(&self) -> anyhow::Result<()> {
        match self {
            Commands::Convert(args) => convert::run(args),
            Commands::Inspect(args) => inspect::run(args),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` joins the context chain: "IN.xml: line 3, column 14: ...".
            eprintln!("omadm {}: {e:#}", cli.command.name());
            ExitCode::FAILURE
        }
    }
}
