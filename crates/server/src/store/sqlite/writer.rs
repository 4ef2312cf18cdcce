//! The DM messages of a SQLite file: every message's transaction runs whole, synchronously, on
//! one connection of their own (rusqlite), by whichever message's task holds it (issue 7).
//!
//! Through sqlx each statement of a message was a round trip to the connection's worker thread,
//! about 9 per message, all inside the database's write lock; a thread of our own still cost two
//! thread switches per message and left the runtime's workers idle meanwhile. Here a message's
//! task puts its message in the queue and takes the connection; the task that gets it runs, in
//! one `BEGIN IMMEDIATE` ... `COMMIT`, every message then waiting (up to [`MAX_BATCH`]): its own
//! and those of the tasks queued behind it, whose answers it hands over (group commit). Every
//! answer is released only after the commit. The connection keeps its page cache warm
//! (SQLite empties a connection's cache when another connection wrote since its last
//! transaction).
//!
//! A message that fails is rolled back alone. The messages run without a savepoint each: a
//! savepoint copies every page a message changes first into the statement journal, which was
//! 5% of the server's CPU under load (perf, issue 7) for the rare message that fails. Instead,
//! a failed message rolls the whole transaction back; a new one begins, the messages before it
//! are written again from the changes they returned (their reads saw only what the messages
//! before them wrote, which is written again in the same order), and the messages after it
//! run inside savepoints. If another process wrote to the file in between (`PRAGMA
//! data_version`), the earlier messages fail instead of being written again over its writes;
//! as with any failed message, their devices send them again.
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
use super::direct::{self, Batch, Control, Statements};
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
        transaction(conn, batch).await;
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

/// A message that ran, waiting for the commit.
struct Ran {
    reply: oneshot::Sender<Result<MessageDone, StoreError>>,
    result: Result<MessageDone, StoreError>,
    device_id: String,
    now: Timestamp,
}

/// One open transaction over `batch`, committed; answers every job.
async fn transaction(conn: &mut Conn, batch: Vec<Job>) {
    let mut ran: Vec<Ran> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    if !run_plain(conn, &mut jobs, &mut ran) {
        // A message failed. The rest of the batch runs inside savepoints: at most one restart
        // per transaction, however many of its messages fail.
        if let Err(e) = restart(conn, &mut ran).await {
            // The messages before it are not written: they fail, their devices send them
            // again. The rest of the batch needs a transaction of its own.
            let _ = direct::control(&conn.db, Control::Rollback);
            for r in ran.drain(..) {
                let _ = r.reply.send(Err(same(&e)));
            }
            if let Err(e) = begin(conn).await {
                for job in jobs {
                    let _ = job.reply.send(Err(same(&e)));
                }
                return;
            }
        }
        run_guarded(conn, jobs, &mut ran);
    }
    match direct::control(&conn.db, Control::Commit) {
        Ok(()) => {
            for r in ran {
                let _ = r.reply.send(r.result);
            }
        }
        Err(e) => {
            // Nothing of the batch is written: every message fails, the devices send again.
            let _ = direct::control(&conn.db, Control::Rollback);
            for r in ran {
                let _ = r.reply.send(Err(same(&e)));
            }
        }
    }
}

/// Runs `jobs` in the open transaction until one fails (answered at once: nothing of it will
/// be written) and says whether none did. Synchronous, so that the batch's statements need
/// not live across an await.
fn run_plain(conn: &mut Conn, jobs: &mut impl Iterator<Item = Job>, ran: &mut Vec<Ran>) -> bool {
    let Conn { db, stmts } = conn;
    let mut b = Batch::new(db, stmts);
    for job in jobs {
        let Job {
            device_id,
            session_id,
            now,
            work,
            reply,
        } = job;
        match one(&mut b, &device_id, &session_id, now, work) {
            Ok(done) => ran.push(Ran {
                reply,
                result: Ok(done),
                device_id,
                now,
            }),
            Err(e) => {
                let _ = reply.send(Err(e));
                return false;
            }
        }
    }
    true
}

/// Runs `jobs` in the open transaction, each inside a savepoint of its own.
fn run_guarded(conn: &mut Conn, jobs: impl Iterator<Item = Job>, ran: &mut Vec<Ran>) {
    let Conn { db, stmts } = conn;
    let db: &Connection = db;
    let mut b = Batch::new(db, stmts);
    for job in jobs {
        let result = savepoint(
            db,
            &mut b,
            &job.device_id,
            &job.session_id,
            job.now,
            job.work,
        );
        ran.push(Ran {
            reply: job.reply,
            result,
            device_id: job.device_id,
            now: job.now,
        });
    }
}

/// After a message failed halfway: rolls the transaction back, begins a new one and writes
/// again what the messages before it (`ran`, all of them done) wrote. An error means the
/// transaction holds nothing of theirs, or is not open.
async fn restart(conn: &mut Conn, ran: &mut [Ran]) -> Result<(), StoreError> {
    // Inside the transaction, with the file's write lock held since it began: the version of
    // the file those messages read.
    let read = direct::data_version(&conn.db)?;
    // Errors such as a full disk make SQLite roll the transaction back itself; this ROLLBACK
    // then fails, and so the earlier messages do (another process may have written since).
    direct::control(&conn.db, Control::Rollback)?;
    begin(conn).await?;
    if direct::data_version(&conn.db)? != read {
        return Err(StoreError::Interrupted);
    }
    let Conn { db, stmts } = conn;
    let mut b = Batch::new(db, stmts);
    for r in ran.iter() {
        let Ok(done) = &r.result else { continue };
        let Some(changes) = &done.changes else {
            continue;
        };
        if done.known {
            b.apply(&r.device_id, changes, r.now)?;
        } else {
            b.audit(&changes.audit, r.now)?;
        }
    }
    Ok(())
}

/// One message inside its own savepoint: released when it succeeds, rolled back when not.
fn savepoint(
    db: &Connection,
    b: &mut Batch<'_, '_>,
    device_id: &str,
    session_id: &str,
    now: Timestamp,
    work: MessageWork,
) -> Result<MessageDone, StoreError> {
    direct::control(db, Control::Savepoint)?;
    let result = one(b, device_id, session_id, now, work);
    if result.is_err() {
        direct::control(db, Control::RollbackTo)?;
    }
    direct::control(db, Control::Release)?;
    result
}

/// What [`crate::store::Store::message`] promises, on this connection.
fn one(
    b: &mut Batch<'_, '_>,
    device_id: &str,
    session_id: &str,
    now: Timestamp,
    work: MessageWork,
) -> Result<MessageDone, StoreError> {
    let device = b.device(device_id)?;
    let (session, pending) = match &device {
        Some(_) => (b.session(device_id, session_id)?, b.pending(device_id)?),
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
            b.apply(device_id, changes, now)?;
        } else {
            b.audit(&changes.audit, now)?;
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
        StoreError::Interrupted => StoreError::Interrupted,
        _ => StoreError::WriterGone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SessionRecord;
    use crate::store::{Changes, DeviceUpdate, NewAudit, WorkOutput};

    /// A message of `device` that adds one to the counter kept in its session (`messages`),
    /// sets the device's client nonce to the new count and writes an audit line `event`; the
    /// count it read is the work's value.
    fn counting(
        device: &str,
        event: &str,
    ) -> (Job, oneshot::Receiver<Result<MessageDone, StoreError>>) {
        let (reply, answer) = oneshot::channel();
        let (dev, ev) = (device.to_owned(), event.to_owned());
        let work: MessageWork = Box::new(move |input| {
            let n = input.session.map_or(0, |s| s.messages);
            let changes = Changes {
                device: DeviceUpdate {
                    client_nonce: Some(format!("n{}", n + 1).into_bytes()),
                    ..DeviceUpdate::default()
                },
                session: Some(SessionRecord {
                    device_id: dev.clone(),
                    session_id: "1F".into(),
                    started_at: 1,
                    updated_at: 1,
                    ended_at: None,
                    outcome: None,
                    messages: n + 1,
                    state: Vec::new(),
                }),
                audit: vec![NewAudit {
                    device_id: Some(dev),
                    session_id: None,
                    event: ev,
                    detail: serde_json::json!({}),
                }],
                ..Changes::default()
            };
            WorkOutput {
                changes: Some(changes),
                value: Box::new(n),
            }
        });
        let job = Job {
            device_id: device.to_owned(),
            session_id: "1F".to_owned(),
            now: 5,
            work,
            reply,
        };
        (job, answer)
    }

    /// Messages run without a savepoint each: when one fails halfway (a trigger refuses its
    /// audit line after its device and session were written), the transaction is rolled back
    /// and begun again, the messages before it are written again once, the ones after it run
    /// inside savepoints, and only the failed messages leave nothing behind. dev-1's messages
    /// read each other's counter, so a message written twice, or a failed one's writes left in
    /// place, would show in the counts.
    #[tokio::test]
    async fn failed_messages_of_a_batch_leave_the_others_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let url = format!("sqlite://{}", path.display());
        let _store = crate::store::sqlite::SqliteStore::open(&url).await.unwrap();
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON audit WHEN NEW.event = 'boom' \
                 BEGIN SELECT RAISE(ABORT, 'boom refused'); END;",
            )
            .unwrap();
        for d in ["dev-1", "dev-2"] {
            setup
                .execute(
                    "INSERT INTO devices (device_id, client_auth_type, client_auth_name, \
                     client_auth_secret, server_auth_name, server_auth_secret, client_nonce, \
                     server_nonce, devinfo, created_at) \
                     VALUES (?1, 'basic', 'u', 's', 'omadm', 's', x'', x'', '{}', 1)",
                    [d],
                )
                .unwrap();
        }
        let writer = Writer::open(
            &WriterOptions {
                path: &path,
                full_sync: false,
                cache_size: "-2000",
            },
            Arc::new(Mutex::new(())),
        )
        .unwrap();

        // (device, event, whether it commits, the count it reads)
        let plan = [
            ("dev-1", "fine", true, 0),
            ("dev-2", "fine", true, 0),
            ("dev-1", "fine", true, 1),
            ("dev-1", "boom", false, 2),
            ("dev-2", "fine", true, 1),
            ("dev-1", "fine", true, 2),
            ("dev-1", "boom", false, 3),
            ("dev-1", "fine", true, 3),
        ];
        let (jobs, answers): (Vec<_>, Vec<_>) =
            plan.iter().map(|&(d, e, _, _)| counting(d, e)).unzip();
        {
            let mut conn = writer.conn.lock().await;
            begin(&mut conn).await.unwrap();
            transaction(&mut conn, jobs).await;
        }
        for ((d, e, commits, read), answer) in plan.iter().zip(answers) {
            match answer.await.unwrap() {
                Ok(done) => {
                    assert!(commits, "{d} {e} should fail");
                    assert_eq!(*done.value.downcast::<u32>().unwrap(), *read, "{d}");
                }
                Err(err) => {
                    assert!(!commits, "{d} {e}: {err}");
                    assert!(err.to_string().contains("boom refused"), "{err}");
                }
            }
        }
        let counter = |d: &str| -> (u32, Vec<u8>) {
            setup
                .query_row(
                    "SELECT s.messages, d.client_nonce FROM sessions s \
                     JOIN devices d USING (device_id) WHERE device_id = ?1",
                    [d],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
        };
        assert_eq!(counter("dev-1"), (4, b"n4".to_vec()));
        assert_eq!(counter("dev-2"), (2, b"n2".to_vec()));
        let audit: i64 = setup
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(audit, 6, "one line per committed message");
    }

    /// What a restart checks before writing the earlier messages again: `PRAGMA data_version`
    /// moves when another connection commits, not when this one does.
    #[test]
    fn data_version_shows_only_other_connections_commits() {
        omadm_sqlite_pcache::install();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let a = Connection::open(&path).unwrap();
        let b = Connection::open(&path).unwrap();
        a.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER);")
            .unwrap();
        let v0 = direct::data_version(&a).unwrap();
        a.execute("INSERT INTO t VALUES (1)", []).unwrap();
        assert_eq!(direct::data_version(&a).unwrap(), v0, "its own commit");
        b.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_ne!(direct::data_version(&a).unwrap(), v0, "another's commit");
    }
}
