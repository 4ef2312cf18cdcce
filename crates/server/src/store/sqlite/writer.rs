//! The DM messages of a SQLite file: every message's transaction runs whole, synchronously, on
//! one connection of their own (rusqlite), by whichever message's task holds it (issue 7).
//!
//! Through sqlx each statement of a message was a round trip to the connection's worker thread,
//! about 9 per message, all inside the database's write lock; a thread of our own still cost two
//! thread switches per message and left the runtime's workers idle meanwhile. Here a message's
//! task puts its message in the queue and takes the connection; the task that gets it runs, in
//! one `BEGIN IMMEDIATE` ... `COMMIT`, every message then waiting (up to [`MAX_BATCH`]): its own
//! and those of the tasks queued behind it, whose answers it hands over (group commit). Each
//! message runs inside a savepoint of its own, so a message that fails is rolled back alone;
//! every answer is released only after the commit. The connection keeps its page cache warm
//! (SQLite empties a connection's cache when another connection wrote since its last
//! transaction).
//!
//! The transaction holds the store's in-process write gate, as every other writer of the store
//! does. Another process's write lock on the file is waited for without blocking the runtime:
//! the connection's own busy timeout is zero, and a busy `BEGIN IMMEDIATE` is tried again after
//! a short sleep, for up to [`super::BUSY_TIMEOUT`].

use std::path::Path;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::{oneshot, Mutex};

use super::checkpoint::Checkpointer;
use super::direct::{self, Control, Statements};
use crate::model::Timestamp;
use crate::store::{run_work, MessageDone, MessageInput, MessageWork, StoreError};

/// The most messages one transaction carries.
pub const MAX_BATCH: usize = 64;
/// The first wait after a busy `BEGIN IMMEDIATE`; it doubles up to [`BUSY_WAIT_MAX`].
const BUSY_WAIT: Duration = Duration::from_millis(1);
const BUSY_WAIT_MAX: Duration = Duration::from_millis(20);

/// One message waiting for the connection.
struct Job {
    device_id: String,
    session_id: String,
    now: Timestamp,
    work: MessageWork,
    reply: oneshot::Sender<Result<MessageDone, StoreError>>,
}

/// The connection and its statements.
struct Conn {
    db: Connection,
    stmts: Statements,
}

/// The DM messages' connection of a file database.
pub(super) struct Writer {
    conn: Arc<Mutex<Conn>>,
    /// Checkpoints the WAL (the connection does not, see [`super::checkpoint`]).
    checkpoints: Checkpointer,
    /// Messages waiting for the connection.
    queue: StdMutex<Vec<Job>>,
    /// The store's in-process write gate.
    gate: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// How the connection is set up, from the store's URL.
pub(super) struct WriterOptions<'a> {
    pub path: &'a Path,
    pub full_sync: bool,
    pub cache_size: &'a str,
}

impl Writer {
    /// Opens the connection (the schema must be migrated already) and checks every statement.
    pub(super) fn open(
        opts: &WriterOptions<'_>,
        gate: Arc<Mutex<()>>,
    ) -> Result<Writer, StoreError> {
        let db = Connection::open_with_flags(
            opts.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(Duration::ZERO)?;
        db.set_prepared_statement_cache_capacity(direct::STATEMENT_CACHE);
        let sync = if opts.full_sync { "FULL" } else { "NORMAL" };
        // Savepoints' statement journals stay in memory (no temporary file per transaction);
        // checkpoints are the checkpointer's.
        db.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {sync}; PRAGMA cache_size = {}; \
             PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
            opts.cache_size
        ))?;
        let stmts = Statements::prepare(&db)?;
        let conn = Arc::new(Mutex::new(Conn { db, stmts }));
        Ok(Writer {
            checkpoints: Checkpointer::start(opts.path, Arc::clone(&conn))?,
            conn,
            queue: StdMutex::new(Vec::new()),
            gate,
        })
    }

    /// Runs one message and waits for its commit.
    pub(super) async fn message(
        &self,
        device_id: &str,
        session_id: &str,
        now: Timestamp,
        work: MessageWork,
    ) -> Result<MessageDone, StoreError> {
        let (reply, mut answer) = oneshot::channel();
        self.lock_queue().push(Job {
            device_id: device_id.to_owned(),
            session_id: session_id.to_owned(),
            now,
            work,
            reply,
        });
        // Until the message is done: by the task that holds the connection, or by this one
        // once it holds it (a batch that stops short of this message leaves it for the next).
        loop {
            let conn = self.conn.lock();
            tokio::pin!(conn);
            tokio::select! {
                biased;
                done = &mut answer => return done.map_err(|_| StoreError::WriterGone)?,
                mut conn = &mut conn => self.run(&mut conn).await,
            }
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        // A panic while holding the queue's lock cannot leave it half-changed (push and take).
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// With the connection held: one transaction over the waiting messages, if any.
    async fn run(&self, conn: &mut Conn) {
        if self.lock_queue().is_empty() {
            return;
        }
        // Messages whose tasks are ready to run on this worker join this transaction first
        // (a larger group commit for the cost of one turn of the scheduler).
        tokio::task::yield_now().await;
        let _gate = self.gate.lock().await;
        if let Err(e) = begin(conn).await {
            for job in self.take() {
                let _ = job.reply.send(Err(same(&e)));
            }
            return;
        }
        // Taken only now: a task dropped while waiting above leaves the messages queued for
        // the next one.
        let batch = self.take();
        let n = batch.len() as u64;
        transaction(conn, batch);
        self.checkpoints.committed(n);
    }

    /// The next batch. Messages whose task is gone (its HTTP request was dropped while it
    /// waited) are dropped, not run: nobody would get their answer, and the device sends them
    /// again.
    fn take(&self) -> Vec<Job> {
        let mut queue = self.lock_queue();
        queue.retain(|j| !j.reply.is_closed());
        let n = queue.len().min(MAX_BATCH);
        queue.drain(..n).collect()
    }
}

/// `BEGIN IMMEDIATE`, waiting (asleep) while another process holds the write lock.
async fn begin(conn: &mut Conn) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut wait = BUSY_WAIT;
    loop {
        match direct::control(&conn.db, Control::Begin) {
            Err(StoreError::Sqlite(e))
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < super::BUSY_TIMEOUT =>
            {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(BUSY_WAIT_MAX);
            }
            other => return other,
        }
    }
}

/// One open transaction over `batch`, committed; answers every job.
fn transaction(conn: &mut Conn, batch: Vec<Job>) {
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch {
        let Job {
            device_id,
            session_id,
            now,
            work,
            reply,
        } = job;
        let result = savepoint(conn, &device_id, &session_id, now, work);
        answers.push((reply, result));
    }
    match direct::control(&conn.db, Control::Commit) {
        Ok(()) => {
            for (reply, result) in answers {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            // Nothing of the batch is written: every message fails, the devices send again.
            let _ = direct::control(&conn.db, Control::Rollback);
            for (reply, _) in answers {
                let _ = reply.send(Err(same(&e)));
            }
        }
    }
}

/// One message inside its own savepoint: released when it succeeds, rolled back when not.
fn savepoint(
    conn: &mut Conn,
    device_id: &str,
    session_id: &str,
    now: Timestamp,
    work: MessageWork,
) -> Result<MessageDone, StoreError> {
    direct::control(&conn.db, Control::Savepoint)?;
    let result = one(conn, device_id, session_id, now, work);
    if result.is_err() {
        direct::control(&conn.db, Control::RollbackTo)?;
    }
    direct::control(&conn.db, Control::Release)?;
    result
}

/// What [`crate::store::Store::message`] promises, on this connection.
fn one(
    conn: &mut Conn,
    device_id: &str,
    session_id: &str,
    now: Timestamp,
    work: MessageWork,
) -> Result<MessageDone, StoreError> {
    let Conn { db, stmts } = conn;
    let device = stmts.device(db, device_id)?;
    let (session, pending) = match &device {
        Some(_) => (
            stmts.session(db, device_id, session_id)?,
            stmts.pending(db, device_id)?,
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
            stmts.apply(db, device_id, changes, now)?;
        } else {
            stmts.audit(db, &changes.audit, now)?;
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
