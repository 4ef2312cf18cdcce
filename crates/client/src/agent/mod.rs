//! The persistent device agent behind `omadm device`: everything around the session engine that
//! touches the outside world.
//!
//! The sans-IO parts of this crate (the [`crate::executor`], [`crate::notification`],
//! [`crate::sessionless`]) take bytes and a tree; this module gives them a home on disk and on
//! the network:
//!
//! - [`DeviceDir`]: the state directory, `DIR/tree.bin` (the management tree), `DIR/device.toml`
//!   ([`DeviceConfig`]), `DIR/alerts.json` (Generic Alerts waiting for the next session,
//!   [`alerts`]), `DIR/tree-updates.json` (tree changes made by background jobs, [`updates`]) and
//!   `DIR/log`. Every write is atomic (temporary file, fsync, rename, fsync of the directory).
//! - [`init`]: the factory bootstrap that creates a directory (`omadm device init`).
//! - [`transport`]: DM over HTTP (SyncML HTTP Binding, DIGEST.md §8).
//! - [`hooks`]: Exec handlers that run configured programs, synchronously or in the background.
//! - [`fumo`]: the firmware update management object (OMA FUMO 1.0) on top of those hooks.
//! - [`report`]: sessionless reports (OMA DM Sessionless Reporting 1.3) sent over [`transport`].
//! - [`listen`]: the HTTP push receiver (`omadm device listen`): notifications, bootstraps and
//!   sessionless command messages.
//! - [`driver`]: [`run_session`], one DM session driven by the [`crate::session`] engine.
//!
//! # Who writes `tree.bin`
//!
//! Only a holder of the tree lock ([`DeviceDir::lock_tree`], an exclusive `flock` on
//! `DIR/tree.lock`): a session, or the push receiver while it applies one message. Background
//! jobs (an asynchronous Exec, a firmware download) never do: they queue their tree changes in
//! `DIR/tree-updates.json` and their results in `DIR/alerts.json` under a second, short-held lock
//! (`DIR/queue.lock`). The next [`DeviceDir::lock_tree`] applies the queued changes to the tree it
//! loads, and [`TreeLock::save`] drops them from the queue once they are in `tree.bin`. A crash
//! between the two re-applies them, which is harmless: each is "set this leaf to this value",
//! applied in order. This works across processes (`omadm device listen` and a session run from
//! another process) as well as across threads, which a `Mutex` in one process would not.

mod dir;
mod error;
mod fsutil;
mod jobs;

pub mod account;
pub mod alerts;
pub mod config;
pub mod driver;
pub mod fumo;
pub mod hooks;
pub mod init;
pub mod listen;
pub mod report;
pub mod transport;
pub mod updates;

pub use config::{DeviceConfig, ExecHook, FumoConfig, Program, WireEncoding};
pub use dir::{DeviceDir, TreeLock, DEFAULT_LOCK_WAIT};
pub use driver::{run_session, run_session_with, RunOptions, SessionReport, SessionTrigger};
pub use error::{error_chain, AgentError};
pub use jobs::Jobs;

use omadm_tree::plugin::Plugins;
use omadm_tree::Tree;

/// The plugins of a device directory: the configured Exec hooks ([`hooks::install`]) and the FUMO
/// handlers of every `./FUMO/<x>` in `tree` ([`fumo::install`]). A hook configured for a FUMO
/// node takes that node over. Build them anew for each tree taken from [`DeviceDir::lock_tree`]
/// (`applied_seq` is that lock's [`TreeLock::applied_seq`]); they share the directory's
/// background [`Jobs`].
pub fn plugins(
    dir: &DeviceDir,
    config: &DeviceConfig,
    tree: &Tree,
    applied_seq: u64,
) -> Result<Plugins, AgentError> {
    let mut p = Plugins::default();
    hooks::install(&mut p, config, dir)?;
    fumo::install(&mut p, config, dir, tree, applied_seq)?;
    Ok(p)
}

/// The agent's version, sent in `User-Agent` and stored as DevInfo DmV.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
