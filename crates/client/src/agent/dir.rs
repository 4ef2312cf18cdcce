//! The device state directory (see the [module doc](super) for the files and the locking rule).

use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use omadm_tree::{PersistError, Tree, TreeError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::alerts::{AlertFile, GenericAlert, QueuedAlert};
use super::fsutil::{read_optional, write_atomic, FileLock};
use super::updates::{TreeUpdate, UpdateFile};
use super::{now_secs, AgentError, DeviceConfig, Jobs};

/// How long [`DeviceDir::lock_tree`] callers wait by default for another holder (a session in
/// another process) to let go.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// The queue files are held for a read-modify-write only; this wait is generous.
const QUEUE_LOCK_WAIT: Duration = Duration::from_secs(10);

/// What the clones of one [`DeviceDir`] share in this process.
#[derive(Debug, Default)]
struct Shared {
    jobs: Jobs,
    /// Leaf values queued by this process's jobs: uri -> (seq, value). Read through
    /// [`DeviceDir::live_value`] so that a Get sees a job's progress before the update reaches
    /// `tree.bin`.
    live: Mutex<HashMap<String, (u64, String)>>,
    /// Keys of operations running in this process ([`DeviceDir::claim`]).
    busy: Mutex<HashSet<String>>,
}

/// A device state directory. Cheap to clone; clones share the background [`Jobs`].
#[derive(Clone, Debug)]
pub struct DeviceDir {
    root: PathBuf,
    shared: Arc<Shared>,
}

impl DeviceDir {
    /// The directory at `root` (nothing is read or created yet).
    pub fn new(root: impl Into<PathBuf>) -> DeviceDir {
        DeviceDir {
            root: root.into(),
            shared: Arc::default(),
        }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/tree.bin`: the management tree ([`Tree::save`] format).
    pub fn tree_path(&self) -> PathBuf {
        self.root.join("tree.bin")
    }

    /// `DIR/device.toml`: the [`DeviceConfig`].
    pub fn config_path(&self) -> PathBuf {
        self.root.join("device.toml")
    }

    /// `DIR/alerts.json`: queued Generic Alerts.
    pub fn alerts_path(&self) -> PathBuf {
        self.root.join("alerts.json")
    }

    /// `DIR/tree-updates.json`: queued tree updates.
    pub fn updates_path(&self) -> PathBuf {
        self.root.join("tree-updates.json")
    }

    /// `DIR/log`: one line per agent event, appended.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `DIR/fumo/<x>`: where FUMO instance `<x>` keeps its downloaded package.
    pub fn fumo_dir(&self, instance: &str) -> PathBuf {
        self.root.join("fumo").join(instance)
    }

    fn tree_lock_path(&self) -> PathBuf {
        self.root.join("tree.lock")
    }

    fn queue_lock_path(&self) -> PathBuf {
        self.root.join("queue.lock")
    }

    /// The background jobs started for this directory in this process. A process that ran a
    /// session must [`Jobs::wait_idle`] before it exits, or a job dies with it and its Generic
    /// Alert is never queued.
    pub fn jobs(&self) -> &Jobs {
        &self.shared.jobs
    }

    /// Creates the directory (mode 0700: the tree holds secrets) and writes a first tree and
    /// configuration. Refuses when `tree.bin` exists, unless `force`, which also empties the
    /// alert and update queues.
    pub fn create(
        &self,
        config: &DeviceConfig,
        tree: &Tree,
        force: bool,
    ) -> Result<(), AgentError> {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&self.root)
            .map_err(|e| AgentError::io(&self.root, e))?;
        let _lock = FileLock::acquire(&self.tree_lock_path(), DEFAULT_LOCK_WAIT)?;
        let tree_path = self.tree_path();
        if tree_path.exists() && !force {
            return Err(AgentError::Exists { path: tree_path });
        }
        self.save_config(config)?;
        save_tree(tree, &tree_path)?;
        let _q = FileLock::acquire(&self.queue_lock_path(), QUEUE_LOCK_WAIT)?;
        for p in [self.alerts_path(), self.updates_path()] {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(AgentError::io(p, e)),
            }
        }
        Ok(())
    }

    /// Reads `device.toml`.
    pub fn load_config(&self) -> Result<DeviceConfig, AgentError> {
        let path = self.config_path();
        let bytes = fs::read(&path).map_err(|e| AgentError::io(&path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            AgentError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        DeviceConfig::parse(&text, &path)
    }

    /// Replaces `device.toml` atomically.
    pub fn save_config(&self, config: &DeviceConfig) -> Result<(), AgentError> {
        let path = self.config_path();
        let text = config.to_toml(&path)?;
        write_atomic(&path, text.as_bytes())
    }

    /// Takes the tree lock (waiting at most `wait`), loads `tree.bin` and applies the queued
    /// tree updates to it. Nobody else writes `tree.bin` until the [`TreeLock`] is dropped.
    pub fn lock_tree(&self, wait: Duration) -> Result<TreeLock, AgentError> {
        let lock = FileLock::acquire(&self.tree_lock_path(), wait)?;
        let c = self.load_current()?;
        Ok(TreeLock {
            dir: self.clone(),
            _lock: lock,
            tree: c.tree,
            applied_seq: c.applied_seq,
            skipped: c.skipped,
        })
    }

    /// A copy of the current tree (queued updates applied), for reading only. Takes no tree
    /// lock: `tree.bin` is only ever replaced whole, so this never waits for a running session
    /// (and sees the tree as that session found it).
    pub fn read_tree(&self) -> Result<Tree, AgentError> {
        Ok(self.load_current()?.tree)
    }

    /// `tree.bin` with the queued updates applied.
    fn load_current(&self) -> Result<Current, AgentError> {
        let mut tree = load_tree(&self.tree_path())?;
        tree.set_now(now_secs());
        let mut skipped = Vec::new();
        let mut applied_seq = 0;
        for u in self.queued_updates()? {
            if let Err(e) = u.apply(&mut tree) {
                skipped.push((u.clone(), e));
            }
            applied_seq = applied_seq.max(u.seq);
        }
        Ok(Current {
            tree,
            applied_seq,
            skipped,
        })
    }

    /// Appends `alert` to `alerts.json`; its id.
    pub fn queue_alert(&self, alert: GenericAlert) -> Result<u64, AgentError> {
        let path = self.alerts_path();
        self.with_queue(&path, |f: &mut AlertFile| {
            f.next_id = f.next_id.max(1);
            let id = f.next_id;
            f.next_id += 1;
            f.alerts.push(QueuedAlert {
                id,
                queued_at: now_secs(),
                alert,
            });
            id
        })
    }

    /// The queued alerts, oldest first.
    pub fn queued_alerts(&self) -> Result<Vec<QueuedAlert>, AgentError> {
        let _q = FileLock::acquire(&self.queue_lock_path(), QUEUE_LOCK_WAIT)?;
        Ok(read_json::<AlertFile>(&self.alerts_path())?.alerts)
    }

    /// Drops the alerts with these ids (sent and answered).
    pub fn remove_alerts(&self, ids: &[u64]) -> Result<(), AgentError> {
        let path = self.alerts_path();
        self.with_queue(&path, |f: &mut AlertFile| {
            f.alerts.retain(|a| !ids.contains(&a.id))
        })
    }

    /// Queues "set leaf `uri` to `value`" for the next [`DeviceDir::lock_tree`]; its sequence
    /// number. The value is visible at once through [`DeviceDir::live_value`] in this process.
    pub fn queue_update(&self, uri: &str, value: &str) -> Result<u64, AgentError> {
        let path = self.updates_path();
        let seq = self.with_queue(&path, |f: &mut UpdateFile| {
            f.next_seq = f.next_seq.max(1);
            let seq = f.next_seq;
            f.next_seq += 1;
            f.updates.push(TreeUpdate {
                seq,
                uri: uri.to_owned(),
                value: value.to_owned(),
            });
            seq
        })?;
        let mut live = self
            .shared
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = live.entry(uri.to_owned()).or_insert((0, String::new()));
        if slot.0 < seq {
            *slot = (seq, value.to_owned());
        }
        Ok(seq)
    }

    /// The queued tree updates, in order.
    pub fn queued_updates(&self) -> Result<Vec<TreeUpdate>, AgentError> {
        let path = self.updates_path();
        let _q = FileLock::acquire(&self.queue_lock_path(), QUEUE_LOCK_WAIT)?;
        Ok(read_json::<UpdateFile>(&path)?.updates)
    }

    /// The value this process's jobs last queued for `uri`, if it is newer than `seq` (the
    /// [`TreeLock::applied_seq`] of the tree being read).
    pub fn live_value(&self, uri: &str, seq: u64) -> Option<String> {
        let live = self
            .shared
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        live.get(uri)
            .filter(|(s, _)| *s > seq)
            .map(|(_, v)| v.clone())
    }

    /// Marks `key` (e.g. a FUMO instance) busy in this process; false when it already is.
    pub(crate) fn claim(&self, key: &str) -> bool {
        self.shared
            .busy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned())
    }

    /// Ends a [`DeviceDir::claim`].
    pub(crate) fn release(&self, key: &str) {
        self.shared
            .busy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// Appends `<unix seconds> <line>` to `DIR/log`. Best effort: a log that cannot be written
    /// never stops the agent.
    pub fn log(&self, line: &str) {
        let path = self.log_path();
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{} {line}", now_secs());
        }
    }

    /// Read-modify-write of a JSON queue file under the queue lock.
    fn with_queue<T, R>(&self, path: &Path, f: impl FnOnce(&mut T) -> R) -> Result<R, AgentError>
    where
        T: Serialize + DeserializeOwned + Default,
    {
        let _q = FileLock::acquire(&self.queue_lock_path(), QUEUE_LOCK_WAIT)?;
        let mut file = read_json::<T>(path)?;
        let r = f(&mut file);
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| AgentError::json(path, e))?;
        write_atomic(path, &bytes)?;
        Ok(r)
    }
}

/// What [`DeviceDir::load_current`] gives.
struct Current {
    tree: Tree,
    /// The last sequence number applied.
    applied_seq: u64,
    /// The updates that could not be applied, and why.
    skipped: Vec<(TreeUpdate, TreeError)>,
}

fn read_json<T: DeserializeOwned + Default>(path: &Path) -> Result<T, AgentError> {
    match read_optional(path)? {
        None => Ok(T::default()),
        Some(b) => serde_json::from_slice(&b).map_err(|e| AgentError::json(path, e)),
    }
}

fn load_tree(path: &Path) -> Result<Tree, AgentError> {
    Tree::load(path).map_err(|e| persist_error(path, e))
}

fn save_tree(tree: &Tree, path: &Path) -> Result<(), AgentError> {
    tree.save(path).map_err(|e| persist_error(path, e))
}

fn persist_error(path: &Path, e: PersistError) -> AgentError {
    match e {
        // Already names its file.
        PersistError::Io { path, source } => AgentError::Io { path, source },
        source => AgentError::TreeFile {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// The tree of a [`DeviceDir`], held under its tree lock. Dropping it releases the lock without
/// saving.
#[derive(Debug)]
pub struct TreeLock {
    dir: DeviceDir,
    _lock: FileLock,
    tree: Tree,
    applied_seq: u64,
    skipped: Vec<(TreeUpdate, TreeError)>,
}

impl TreeLock {
    /// The tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The tree, to change. Changes reach `tree.bin` only on [`TreeLock::save`].
    pub fn tree_mut(&mut self) -> &mut Tree {
        &mut self.tree
    }

    /// The sequence number of the last queued update applied at load (0: none).
    pub fn applied_seq(&self) -> u64 {
        self.applied_seq
    }

    /// Queued updates that could not be applied at load (their node is gone), with why. They
    /// are dropped from the queue by the next save all the same.
    pub fn skipped_updates(&self) -> &[(TreeUpdate, TreeError)] {
        &self.skipped
    }

    /// Writes the tree to `tree.bin` (atomically), then drops the queued updates it now holds.
    pub fn save(&mut self) -> Result<(), AgentError> {
        save_tree(&self.tree, &self.dir.tree_path())?;
        let seq = self.applied_seq;
        if seq > 0 {
            let path = self.dir.updates_path();
            self.dir.with_queue(&path, |f: &mut UpdateFile| {
                f.updates.retain(|u| u.seq > seq)
            })?;
        }
        Ok(())
    }
}
