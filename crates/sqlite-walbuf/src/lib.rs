//! SQLite's default (unix) VFS, with the WAL frames of a transaction written in one system call.
//!
//! SQLite writes each WAL frame with two `pwrite`s, its 24-byte header and its page: a DM
//! message's commit (about 11 frames per session) made some 22 calls into ext4, each with its
//! own locking and page-cache bookkeeping, all inside the database's write lock (11% of the
//! server's CPU under `omadm loadtest`, docs/performance.md, "sixth pass").
//!
//! [`install`] registers, as the process's default VFS, a thin layer over the default one. Every
//! file but a WAL is the default VFS's own, untouched. A WAL's writes that follow each other in
//! the file are gathered in memory and written together when the transaction's commit frame
//! (the frame whose header carries the database size) is complete, inside that `xWrite`, so a
//! failure is the commit's own error, exactly as before. Anything else done to the WAL (a read,
//! a sync, a size, a truncation, a write elsewhere, closing) first writes what is gathered.
//!
//! Readers cannot see gathered frames: SQLite publishes frames only in the WAL index header,
//! which it updates after the commit frame's write has returned, so after they reached the file.
//! A commit therefore survives a crash of the process as before (`synchronous=NORMAL`), and a
//! frame written ahead of its commit (a cache spill) is gathered until the next commit, read, or
//! sync; SQLite ignores such frames until a commit frame follows them.
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

/// WAL writes since [`install`], all files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Writes SQLite asked for.
    pub writes: u64,
    /// Writes made to the files.
    pub flushes: u64,
}

/// The write counters.
pub fn stats() -> Stats {
    Stats {
        writes: WRITES.load(Ordering::Relaxed),
        flushes: FLUSHES.load(Ordering::Relaxed),
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

/// Whether [`install`] made the layer the default VFS.
pub fn installed() -> bool {
    matches!(VFS.get(), Some(Some(_)))
}

fn real_vfs() -> *mut ffi::sqlite3_vfs {
    match VFS.get() {
        Some(Some(v)) => v.real,
        _ => ptr::null_mut(),
    }
}

/// A WAL opened through the layer: our `sqlite3_file`, then the default VFS's file object at
/// [`header_size`] bytes from the start.
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    state: *mut Gather,
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
    std::mem::size_of::<WalFile>().next_multiple_of(16)
}

/// The default VFS's file object inside ours.
///
/// # Safety
/// `f` is a [`WalFile`] opened by [`open`].
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
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // Not a WAL: the default VFS's own file object, at the start of ours.
        return real_open(real_vfs, name, file, flags, out_flags);
    }
    let real = real_file(file);
    let rc = real_open(real_vfs, name, real, flags, out_flags);
    if rc != ffi::SQLITE_OK {
        (*file).pMethods = ptr::null();
        return rc;
    }
    let wal = file.cast::<WalFile>();
    (*wal).state = Box::into_raw(Box::new(Gather {
        offset: 0,
        bytes: Vec::new(),
        commit_header: false,
    }));
    (*wal).base.pMethods = wal_methods(methods(real));
    rc
}

/// Our methods for a WAL whose default methods are `m` (the same version).
fn wal_methods(m: &ffi::sqlite3_io_methods) -> *const ffi::sqlite3_io_methods {
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
/// `f` is a [`WalFile`] opened by [`open`].
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    let g = &mut *(*f.cast::<WalFile>()).state;
    g.commit_header = false;
    if g.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
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
    WRITES.fetch_add(1, Ordering::Relaxed);
    let data = std::slice::from_raw_parts(buf.cast::<u8>(), len);
    let g = &mut *(*f.cast::<WalFile>()).state;
    let end = g.offset + g.bytes.len() as i64;
    let follows = !g.bytes.is_empty() && offset == end;
    if !follows {
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let g = &mut *(*f.cast::<WalFile>()).state;
        g.offset = offset;
    }
    let g = &mut *(*f.cast::<WalFile>()).state;
    let completes_commit = g.commit_header;
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
    let wal = f.cast::<WalFile>();
    drop(Box::from_raw((*wal).state));
    (*wal).state = ptr::null_mut();
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
    pass!(f, xShmLock(offset, n, flags), ffi::SQLITE_IOERR)
}

unsafe extern "C" fn shm_barrier(f: *mut ffi::sqlite3_file) {
    pass!(f, xShmBarrier(), ())
}

unsafe extern "C" fn shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    pass!(f, xShmUnmap(delete), ffi::SQLITE_OK)
}

#[cfg(test)]
mod tests;
