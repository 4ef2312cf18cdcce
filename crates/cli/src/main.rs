//! `omadm`: the command-line face of the omadm crates.
//!
//! Thin glue: clap parses the command line, each subcommand lives in its own module and returns
//! `anyhow::Result`, and `main` turns an error into one line on stderr and exit code 1 (clap
//! itself exits with 2 on usage errors).

#![forbid(unsafe_code)]

mod bootstrap_cmd;
mod convert;
mod device_cmd;
mod inspect;
mod io;
mod loadtest_cmd;
mod notify_cmd;
mod opaque;
mod server_cmd;
mod status;
mod tnds;
mod tree;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

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

/// One variant per subcommand.
#[derive(Debug, Subcommand)]
enum Commands {
    #[command(subcommand, about = bootstrap_cmd::ABOUT, long_about = bootstrap_cmd::LONG_ABOUT)]
    Bootstrap(bootstrap_cmd::Command),
    Convert(convert::Args),
    #[command(subcommand, about = device_cmd::ABOUT, long_about = device_cmd::LONG_ABOUT)]
    Device(device_cmd::Command),
    Inspect(inspect::Args),
    /// Measure a running server with simulated devices (sessions/s, latency)
    #[command(long_about = loadtest_cmd::LONG_ABOUT)]
    Loadtest(loadtest_cmd::Args),
    /// Run the OMA DM server (DM endpoint, REST API, metrics)
    #[command(long_about = server_cmd::LONG_ABOUT)]
    Server(server_cmd::Args),
    #[command(subcommand, about = notify_cmd::ABOUT, long_about = notify_cmd::LONG_ABOUT)]
    Notify(notify_cmd::Command),
    #[command(subcommand, about = tnds::ABOUT, long_about = tnds::LONG_ABOUT)]
    Tnds(tnds::Command),
    #[command(subcommand, about = tree::ABOUT, long_about = tree::LONG_ABOUT)]
    Tree(tree::Command),
}

impl Commands {
    fn name(&self) -> &'static str {
        match self {
            Commands::Bootstrap(c) => c.name(),
            Commands::Convert(_) => "convert",
            Commands::Device(c) => c.name(),
            Commands::Inspect(_) => "inspect",
            Commands::Loadtest(_) => "loadtest",
            Commands::Server(_) => "server",
            Commands::Notify(c) => c.name(),
            Commands::Tnds(c) => c.name(),
            Commands::Tree(c) => c.name(),
        }
    }

    fn run(&self) -> anyhow::Result<()> {
        match self {
            Commands::Bootstrap(c) => c.run(),
            Commands::Convert(args) => convert::run(args),
            Commands::Device(c) => c.run(),
            Commands::Inspect(args) => inspect::run(args),
            Commands::Loadtest(args) => loadtest_cmd::run(args),
            Commands::Server(args) => server_cmd::run(args),
            Commands::Notify(c) => c.run(),
            Commands::Tnds(c) => c.run(),
            Commands::Tree(c) => c.run(),
        }
    }
}

/// Exits with a clap usage error (status 2) for `omadm <path...>`, for option combinations clap
/// cannot express.
fn usage_error(path: &[&str], msg: &str) -> ! {
    let mut cmd = Cli::command();
    let mut bin_name = "omadm".to_owned();
    for name in path {
        cmd = cmd.find_subcommand_mut(name).cloned().unwrap_or_default();
        bin_name = format!("{bin_name} {name}");
    }
    cmd.bin_name(bin_name)
        .error(clap::error::ErrorKind::ArgumentConflict, msg)
        .exit()
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

/// A multi-threaded tokio runtime for one command.
fn async_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
