//! SQLite's default (unix) VFS, with the WAL frames of a transaction written in one system call.
//!
//! SQLite writes each WAL frame with two `pwrite`s, its 24-byte header and its page: a DM
//! message's commit (about 11 frames per session) made some 22 calls into ext4, each with its
//! own locking and page-cache bookkeeping, all inside the database's write lock (11 to 13% of
//! the server's CPU under `omadm loadtest`, docs/performance.md, "sixth pass").
//!
//! [`install`] registers, as the process's default VFS, a thin layer over the default one. A
//! WAL's writes that follow each other in the file are gathered in memory and written together
//! when the transaction's commit frame (the frame whose header carries the database size) is
//! complete, inside that `xWrite`, so a failure is the commit's own error, exactly as before.
//! Anything else done to the WAL (a read, a sync, a size, a truncation, a write elsewhere,
//! closing) first writes what is gathered. Main database files pass everything through, except
//! that the release of the WAL write lock (their shared-memory lock 0) drops whatever the WAL of
//! that database still gathers: frames of a transaction that ended without a commit (a cache
//! spill, then a rollback), which written later could land on frames another connection has
//! committed since. Other files are the default VFS's own, untouched.
//!
//! Readers cannot see gathered frames: SQLite publishes frames only in the WAL index header,
//! which it updates after the commit frame's write has returned, so after they reached the file.
//! A commit therefore survives a crash of the process as before (`synchronous=NORMAL`), and a
//! frame written ahead of its commit (a cache spill) is gathered until the next commit, read, or
//! sync, or dropped when its transaction ends without one; SQLite ignores such frames until a
//! commit frame follows them.
//!
//! `unsafe` is the point of this crate (SQLite's C VFS interface); the other crates forbid it.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

/// The name the layer is registered under.
pub const VFS_NAME: &CStr = c"omadm-walbuf";

/// Gathered bytes above which a WAL's writes go to the file without waiting for the commit.
const MAX_GATHERED: usize = 1 << 20;

/// The most one write to the file carries: the unix VFS writes at most 0x1ffff bytes per call
/// (`seekAndWriteFd`) and calls a shorter write a full disk.
const MAX_WRITE: usize = 0x1f000;

/// The size of a WAL frame header (SQLite's file format).
const FRAME_HEADER: usize = 24;

/// How [`install`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// The layer is the default VFS for every connection opened from now on.
    Yes,
    /// SQLite has no default VFS, or registering failed: unchanged.
    No,
}

/// The default VFS as found (ours, registered, lives as long as the process).
struct Vfs {
    real: *mut ffi::sqlite3_vfs,
}

// SAFETY: a registered VFS object that lives as long as the process, only read.
unsafe impl Send for Vfs {}
// SAFETY: as above.
unsafe impl Sync for Vfs {}

static VFS: OnceLock<Option<Vfs>> = OnceLock::new();
static WRITES: AtomicU64 = AtomicU64::new(0);
static FLUSHES: AtomicU64 = AtomicU64::new(0);
static DISCARDS: AtomicU64 = AtomicU64::new(0);
static WRITE_ENDS: AtomicU64 = AtomicU64::new(0);

/// WAL writes since [`install`], all files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Writes SQLite asked for.
    pub writes: u64,
    /// Writes made to the files.
    pub flushes: u64,
    /// Gathered writes of transactions that ended without a commit, dropped.
    pub discards: u64,
    /// WAL write locks released (write transactions ended).
    pub write_ends: u64,
}

/// The write counters.
pub fn stats() -> Stats {
    Stats {
        writes: WRITES.load(Ordering::Relaxed),
        flushes: FLUSHES.load(Ordering::Relaxed),
        discards: DISCARDS.load(Ordering::Relaxed),
        write_ends: WRITE_ENDS.load(Ordering::Relaxed),
    }
}

/// Registers the layer as the default VFS, once per process (later calls return the first
/// call's answer). Connections opened before keep the VFS they had. Call it after
/// `omadm_sqlite_pcache::install` (registering a VFS initialises SQLite).
pub fn install() -> Installed {
    let vfs = VFS.get_or_init(|| {
        // SAFETY: a null name asks for the default VFS; SQLite returns a registered, static one.
        let real = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
        if real.is_null() {
            return None;
        }
        // SAFETY: `real` is a valid VFS (above); its fields are only read.
        let r = unsafe { &*real };
        let header = header_size();
        let size = usize::try_from(r.szOsFile).ok()? + header;
        let mut ours = ffi::sqlite3_vfs {
            szOsFile: c_int::try_from(size).ok()?,
            pNext: ptr::null_mut(),
            zName: VFS_NAME.as_ptr(),
            xOpen: Some(open),
            ..*r
        };
        ours.iVersion = r.iVersion;
        let ours = Box::into_raw(Box::new(ours));
        // SAFETY: `ours` is a complete VFS that is never freed; 1 makes it the default.
        if unsafe { ffi::sqlite3_vfs_register(ours, 1) } != ffi::SQLITE_OK {
            return None;
        }
        Some(Vfs { real })
    });
    match vfs {
        Some(_) => Installed::Yes,
        None => Installed::No,
    }
}

fn real_vfs() -> *mut ffi::sqlite3_vfs {
    match VFS.get() {
        Some(Some(v)) => v.real,
        _ => ptr::null_mut(),
    }
}

/// A WAL or a main database opened through the layer: our `sqlite3_file`, then the default
/// VFS's file object at [`header_size`] bytes from the start.
#[repr(C)]
struct Wrapped {
    base: ffi::sqlite3_file,
    /// A WAL's gathered writes; null for a main database.
    state: *mut Gather,
    /// The main database's path (a WAL's without `-wal`).
    db: *mut String,
}

/// The WALs holding gathered writes (the addresses of their [`Wrapped`]). Only the connection
/// holding a database's WAL write lock writes frames, so at most one WAL per database is here; when that lock is released (a commit, which wrote everything
/// gathered, or a rollback) whatever is still gathered belongs to a transaction that will never
/// commit, and is dropped: written later, it could land on frames another connection committed
/// meanwhile.
static GATHERING: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// SQLite's WAL write lock: the first lock of the shared-memory index (`WAL_WRITE_LOCK`).
const WAL_WRITE_LOCK: c_int = 0;

fn gathering() -> std::sync::MutexGuard<'static, Vec<usize>> {
    GATHERING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a WAL has gathered.
struct Gather {
    /// Where in the file `bytes` go.
    offset: i64,
    bytes: Vec<u8>,
    /// The last write was the header of a commit frame: its page completes the commit.
    commit_header: bool,
}

fn header_size() -> usize {
    std::mem::size_of::<Wrapped>().next_multiple_of(16)
}

/// The default VFS's file object inside ours.
///
/// # Safety
/// `f` is a [`Wrapped`] opened by [`open`].
unsafe fn real_file(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    f.cast::<u8>().add(header_size()).cast()
}

/// The default VFS's methods of a file it opened.
///
/// # Safety
/// `real` is an open file of the default VFS.
unsafe fn methods(real: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    &*(*real).pMethods
}

/// Flushes, then runs the default method on the default file object.
macro_rules! after_flush {
    ($f:ident, $method:ident ( $($arg:expr),* )) => {{
        let rc = flush($f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let real = real_file($f);
        match methods(real).$method {
            Some(x) => x(real $(, $arg)*),
            None => ffi::SQLITE_IOERR,
        }
    }};
}

/// Runs the default method on the default file object.
macro_rules! pass {
    ($f:ident, $method:ident ( $($arg:expr),* ), $none:expr) => {{
        let real = real_file($f);
        match methods(real).$method {
            Some(x) => x(real $(, $arg)*),
            None => $none,
        }
    }};
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let real_vfs = real_vfs();
    let Some(real_open) = real_vfs.as_ref().and_then(|v| v.xOpen) else {
        return ffi::SQLITE_ERROR;
    };
    let is_wal = flags & ffi::SQLITE_OPEN_WAL != 0;
    if name.is_null() || !(is_wal || flags & ffi::SQLITE_OPEN_MAIN_DB != 0) {
        // Neither a WAL nor a main database: the default VFS's own file object, at the start
        // of ours.
        return real_open(real_vfs, name, file, flags, out_flags);
    }
    let path = CStr::from_ptr(name).to_string_lossy();
    let db = if is_wal {
        path.strip_suffix("-wal").unwrap_or(&path).to_owned()
    } else {
        path.into_owned()
    };
    let real = real_file(file);
    let rc = real_open(real_vfs, name, real, flags, out_flags);
    if rc != ffi::SQLITE_OK {
        (*file).pMethods = ptr::null();
        return rc;
    }
    let wrapped = file.cast::<Wrapped>();
    (*wrapped).state = if is_wal {
        Box::into_raw(Box::new(Gather {
            offset: 0,
            bytes: Vec::new(),
            commit_header: false,
        }))
    } else {
        ptr::null_mut()
    };
    (*wrapped).db = Box::into_raw(Box::new(db));
    (*wrapped).base.pMethods = io_methods(methods(real));
    rc
}

/// Drops what `f` gathered, unwritten.
///
/// # Safety
/// `f` is a WAL opened by [`open`], not in use by another thread.
unsafe fn discard(f: *mut Wrapped) {
    if let Some(g) = (*f).state.as_mut() {
        if !g.bytes.is_empty() {
            DISCARDS.fetch_add(1, Ordering::Relaxed);
        }
        g.bytes.clear();
        g.commit_header = false;
    }
}

/// Registers `f` as holding gathered writes.
fn start_gathering(f: *mut Wrapped) {
    gathering().push(f as usize);
}

/// `f` holds no gathered writes any more.
fn stop_gathering(f: *mut Wrapped) {
    gathering().retain(|&w| w != f as usize);
}

/// Our methods for a file whose default methods are `m` (the same version): a WAL's and a main
/// database's, which [`Wrapped::state`] tells apart.
fn io_methods(m: &ffi::sqlite3_io_methods) -> *const ffi::sqlite3_io_methods {
    static METHODS: OnceLock<IoMethods> = OnceLock::new();
    &METHODS
        .get_or_init(|| {
            IoMethods(ffi::sqlite3_io_methods {
                iVersion: m.iVersion,
                xClose: Some(close),
                xRead: Some(read),
                xWrite: Some(write),
                xTruncate: Some(truncate),
                xSync: Some(sync),
                xFileSize: Some(file_size),
                xLock: Some(lock),
                xUnlock: Some(unlock),
                xCheckReservedLock: Some(check_reserved_lock),
                xFileControl: Some(file_control),
                xSectorSize: Some(sector_size),
                xDeviceCharacteristics: Some(device_characteristics),
                xShmMap: m.xShmMap.map(|_| shm_map as _),
                xShmLock: m.xShmLock.map(|_| shm_lock as _),
                xShmBarrier: m.xShmBarrier.map(|_| shm_barrier as _),
                xShmUnmap: m.xShmUnmap.map(|_| shm_unmap as _),
                xFetch: m.xFetch.map(|_| fetch as _),
                xUnfetch: m.xUnfetch.map(|_| unfetch as _),
            })
        })
        .0
}

struct IoMethods(ffi::sqlite3_io_methods);
// SAFETY: function pointers only, never changed.
unsafe impl Send for IoMethods {}
// SAFETY: as above.
unsafe impl Sync for IoMethods {}

/// Writes what `f` gathered; its error when the write failed (the gathered bytes are dropped:
/// SQLite fails the transaction they belong to).
///
/// # Safety
/// `f` is a [`Wrapped`] opened by [`open`].
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    let Some(g) = (*f.cast::<Wrapped>()).state.as_mut() else {
        return ffi::SQLITE_OK;
    };
    g.commit_header = false;
    if g.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    stop_gathering(f.cast());
    let real = real_file(f);
    let Some(x_write) = methods(real).xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    let mut rc = ffi::SQLITE_OK;
    let mut at = g.offset;
    for chunk in g.bytes.chunks(MAX_WRITE) {
        FLUSHES.fetch_add(1, Ordering::Relaxed);
        // At most MAX_WRITE: fits.
        let n = chunk.len() as c_int;
        rc = x_write(real, chunk.as_ptr().cast(), n, at);
        if rc != ffi::SQLITE_OK {
            break;
        }
        at += i64::from(n);
    }
    g.bytes.clear();
    if g.bytes.capacity() > MAX_GATHERED * 2 {
        g.bytes.shrink_to(MAX_GATHERED * 2);
    }
    rc
}

unsafe extern "C" fn write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amt: c_int,
    offset: i64,
) -> c_int {
    let Ok(len) = usize::try_from(amt) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    if (*f.cast::<Wrapped>()).state.is_null() {
        return pass!(f, xWrite(buf, amt, offset), ffi::SQLITE_IOERR_WRITE);
    }
    WRITES.fetch_add(1, Ordering::Relaxed);
    let data = std::slice::from_raw_parts(buf.cast::<u8>(), len);
    let g = &mut *(*f.cast::<Wrapped>()).state;
    let end = g.offset + g.bytes.len() as i64;
    let follows = !g.bytes.is_empty() && offset == end;
    if !follows {
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let g = &mut *(*f.cast::<Wrapped>()).state;
        g.offset = offset;
    }
    let g = &mut *(*f.cast::<Wrapped>()).state;
    let completes_commit = g.commit_header;
    if g.bytes.is_empty() {
        start_gathering(f.cast());
    }
    g.bytes.extend_from_slice(data);
    // A frame header's bytes 4..8 are the database size after a commit, 0 in other frames.
    g.commit_header = len == FRAME_HEADER && data[4..8] != [0, 0, 0, 0];
    if completes_commit || g.bytes.len() >= MAX_GATHERED {
        return flush(f);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
    let rc = flush(f);
    let wal = f.cast::<Wrapped>();
    stop_gathering(wal);
    if !(*wal).state.is_null() {
        drop(Box::from_raw((*wal).state));
        (*wal).state = ptr::null_mut();
    }
    if !(*wal).db.is_null() {
        drop(Box::from_raw((*wal).db));
        (*wal).db = ptr::null_mut();
    }
    let real = real_file(f);
    let closed = match methods(real).xClose {
        Some(x) => x(real),
        None => ffi::SQLITE_OK,
    };
    if rc != ffi::SQLITE_OK {
        rc
    } else {
        closed
    }
}

unsafe extern "C" fn read(
    f: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amt: c_int,
    off: i64,
) -> c_int {
    after_flush!(f, xRead(buf, amt, off))
}

unsafe extern "C" fn truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    after_flush!(f, xTruncate(size))
}

unsafe extern "C" fn sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    after_flush!(f, xSync(flags))
}

unsafe extern "C" fn file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    after_flush!(f, xFileSize(size))
}

unsafe extern "C" fn file_control(f: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    after_flush!(f, xFileControl(op, arg))
}

unsafe extern "C" fn fetch(
    f: *mut ffi::sqlite3_file,
    off: i64,
    amt: c_int,
    pp: *mut *mut c_void,
) -> c_int {
    after_flush!(f, xFetch(off, amt, pp))
}

unsafe extern "C" fn unfetch(f: *mut ffi::sqlite3_file, off: i64, p: *mut c_void) -> c_int {
    pass!(f, xUnfetch(off, p), ffi::SQLITE_OK)
}

unsafe extern "C" fn lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    pass!(f, xLock(level), ffi::SQLITE_OK)
}

unsafe extern "C" fn unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    pass!(f, xUnlock(level), ffi::SQLITE_OK)
}

unsafe extern "C" fn check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    pass!(f, xCheckReservedLock(out), ffi::SQLITE_OK)
}

unsafe extern "C" fn sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    pass!(f, xSectorSize(), 4096)
}

unsafe extern "C" fn device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    pass!(f, xDeviceCharacteristics(), 0)
}

unsafe extern "C" fn shm_map(
    f: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    pp: *mut *mut c_void,
) -> c_int {
    pass!(f, xShmMap(region, size, extend, pp), ffi::SQLITE_IOERR)
}

unsafe extern "C" fn shm_lock(
    f: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let rc = pass!(f, xShmLock(offset, n, flags), ffi::SQLITE_IOERR);
    if rc == ffi::SQLITE_OK
        && offset == WAL_WRITE_LOCK
        && flags == ffi::SQLITE_SHM_UNLOCK | ffi::SQLITE_SHM_EXCLUSIVE
    {
        // The write transaction is over: what its WAL still gathers was never committed.
        write_transaction_ended(&*(*f.cast::<Wrapped>()).db);
    }
    rc
}

/// Drops what the WAL of database `db` still gathers (see [`GATHERING`]).
///
/// # Safety
/// Called by the connection that held `db`'s WAL write lock, so that no other thread uses the
/// WAL gathering for it.
unsafe fn write_transaction_ended(db: &str) {
    WRITE_ENDS.fetch_add(1, Ordering::Relaxed);
    gathering().retain(|&w| {
        let wal = w as *mut Wrapped;
        if *(*wal).db == *db {
            discard(wal);
            false
        } else {
            true
        }
    });
}

unsafe extern "C" fn shm_barrier(f: *mut ffi::sqlite3_file) {
    pass!(f, xShmBarrier(), ())
}

unsafe extern "C" fn shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    pass!(f, xShmUnmap(delete), ffi::SQLITE_OK)
}

#[cfg(test)]
mod tests;
