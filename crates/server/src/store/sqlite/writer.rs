//! The writer thread of a SQLite file: every DM message's transaction runs here, whole, on one
//! connection of its own (issue 7).
//!
//! Through sqlx each statement of a message was a round trip to the connection's worker thread,
//! about 9 per message, all inside the database's write lock, and the thread switches were most
//! of the server's CPU time (docs/performance.md). Here a message is one hand-off: its reads,
//! its work (the engine) and its writes run in a row on this thread, statements prepared once.
//!
//! Group commit: the messages waiting when the thread turns to the queue (up to [`MAX_BATCH`])
//! run in one `BEGIN IMMEDIATE` ... `COMMIT`, each inside a savepoint of its own, so a message
//! that fails is rolled back alone; every answer is released only after the commit. The
//! connection's page cache stays warm (SQLite empties a connection's cache when another
//! connection wrote since its last transaction).
//!
//! The thread holds the store's in-process write gate for each transaction, as every other
//! writer of the store does, and SQLite's write lock guards against other processes on the file
//! (busy timeout [`super::BUSY_TIMEOUT`]).

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{oneshot, Mutex};

use super::direct::{Control, Statements};
use crate::model::Timestamp;
use crate::store::{run_work, MessageDone, MessageInput, MessageWork, StoreError};

/// The most messages one transaction carries.
pub const MAX_BATCH: usize = 64;
/// WAL pages between automatic checkpoints (16 MiB of 4 KiB pages; SQLite's default is 1,000).
const WAL_PAGES: u32 = 4096;
/// Messages waiting for the thread, at most; more wait in their tasks (back-pressure).
const QUEUE: usize = 1024;

/// One message for the thread.
struct Job {
    device_id: String,
    session_id: String,
    now: Timestamp,
    work: MessageWork,
    reply: oneshot::Sender<Result<MessageDone, StoreError>>,
}

/// The handle the store keeps; dropping it stops the thread once the queue is empty.
#[derive(Debug)]
pub(super) struct Writer {
    jobs: SyncSender<Job>,
}

/// How the writer's connection is set up, from the store's URL.
pub(super) struct WriterOptions<'a> {
    pub path: &'a Path,
    pub full_sync: bool,
    pub cache_size: &'a str,
}

impl Writer {
    /// Opens the writer's connection (the schema must be migrated already) and starts its thread.
    pub(super) fn start(
        opts: &WriterOptions<'_>,
        gate: Arc<Mutex<()>>,
    ) -> Result<Writer, StoreError> {
        let conn = Connection::open_with_flags(
            opts.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        let sync = if opts.full_sync { "FULL" } else { "NORMAL" };
        // Savepoints' statement journals stay in memory (no temporary file per transaction);
        // a checkpoint copies each page once however often it changed since the last one, so
        // a larger WAL between checkpoints means less copying per message.
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {sync}; PRAGMA cache_size = {}; \
             PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {WAL_PAGES};",
            opts.cache_size
        ))?;
        let (jobs, queue) = mpsc::sync_channel(QUEUE);
        let (ready, started) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("omadm-sqlite-writer".into())
            .spawn(move || match Statements::prepare(&conn) {
                Ok(mut stmts) => {
                    let _ = ready.send(Ok(()));
                    run(&mut stmts, &queue, &gate);
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(|_| StoreError::WriterGone)?;
        started.recv().map_err(|_| StoreError::WriterGone)??;
        Ok(Writer { jobs })
    }

    /// Runs one message on the thread and waits for its commit.
    pub(super) async fn message(
        &self,
        device_id: &str,
        session_id: &str,
        now: Timestamp,
        work: MessageWork,
    ) -> Result<MessageDone, StoreError> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job {
            device_id: device_id.to_owned(),
            session_id: session_id.to_owned(),
            now,
            work,
            reply,
        };
        // A full queue waits here, on the runtime, without blocking a worker thread.
        loop {
            match self.jobs.try_send(job) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(j)) => {
                    job = j;
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                Err(mpsc::TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
            }
        }
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// The thread: a transaction per batch of waiting messages, until the store is dropped.
fn run(stmts: &mut Statements<'_>, queue: &Receiver<Job>, gate: &Mutex<()>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let _gate = gate.blocking_lock();
        transaction(stmts, batch);
    }
}

/// One transaction over `batch`; answers every job.
fn transaction(stmts: &mut Statements<'_>, batch: Vec<Job>) {
    if let Err(e) = stmts.control(Control::Begin) {
        for job in batch {
            let _ = job.reply.send(Err(same(&e)));
        }
        return;
    }
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch {
        let Job {
            device_id,
            session_id,
            now,
            work,
            reply,
        } = job;
        let result = savepoint(stmts, &device_id, &session_id, now, work);
        answers.push((reply, result));
    }
    match stmts.control(Control::Commit) {
        Ok(()) => {
            for (reply, result) in answers {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            // Nothing of the batch is written: every message fails, the devices send again.
            let _ = stmts.control(Control::Rollback);
            for (reply, _) in answers {
                let _ = reply.send(Err(same(&e)));
            }
        }
    }
}

/// One message inside its own savepoint: released when it succeeds, rolled back when not.
fn savepoint(
    stmts: &mut Statements<'_>,
    device_id: &str,
    session_id: &str,
    now: Timestamp,
    work: MessageWork,
) -> Result<MessageDone, StoreError> {
    stmts.control(Control::Savepoint)?;
    let result = one(stmts, device_id, session_id, now, work);
    if result.is_err() {
        stmts.control(Control::RollbackTo)?;
    }
    stmts.control(Control::Release)?;
    result
}

/// What [`crate::store::Store::message`] promises, on this connection.
fn one(
    stmts: &mut Statements<'_>,
    device_id: &str,
    session_id: &str,
    now: Timestamp,
    work: MessageWork,
) -> Result<MessageDone, StoreError> {
    let device = stmts.device(device_id)?;
    let (session, pending) = match &device {
        Some(_) => (
            stmts.session(device_id, session_id)?,
            stmts.pending(device_id)?,
        ),
        None => (None, Vec::new()),
    };
    let input = MessageInput {
        device: device.as_ref(),
        session: session.as_ref(),
        pending: &pending,
    };
    let out = run_work(work, input)?;
    if let Some(changes) = &out.changes {
        if device.is_some() {
            stmts.apply(device_id, changes, now)?;
        } else {
            stmts.audit(&changes.audit, now)?;
        }
    }
    Ok(MessageDone {
        known: device.is_some(),
        had_session: session.is_some(),
        changes: out.changes,
        value: out.value,
    })
}

/// The error a whole batch failed with, for each of its messages.
fn same(e: &StoreError) -> StoreError {
    match e {
        StoreError::Sqlite(e) => StoreError::Sqlite(Arc::clone(e)),
        _ => StoreError::WriterGone,
    }
}
