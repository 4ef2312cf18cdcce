//! SQLite's own page cache, wrapped so that a commit does not walk the whole cache.
//!
//! At the end of every write transaction SQLite drops from its page cache the pages past the
//! end of the database (`sqlite3PcacheTruncate(cache, dbSize)`). Its default cache (`pcache1`)
//! does that cheaply, visiting only the hash buckets between the database's size and the
//! largest page number it has held (`iMaxKey`), unless that range is wider than the hash table:
//! then it visits every bucket and every cached page header, a cache miss each.
//!
//! A B-tree page split makes that range wide. When `balance_nonroot` (SQLite 3.46) renumbers
//! the new sibling pages into ascending order it swaps two page numbers through a temporary
//! one, the lock-byte page (`PENDING_BYTE / page_size + 1`: page 262,145 with 4 KiB pages),
//! and `pcache1` keeps that number as its largest. So every transaction that split a page
//! (inserting audit rows and sessions, most DM messages) ends with a walk over the whole cache:
//! 6.6% of the server's CPU with 1,000 devices and 8.8% with 30,000, growing with the cache
//! (docs/performance.md, "fourth pass").
//!
//! [`install`] puts a thin layer in front of `pcache1`: per cache it keeps the largest page
//! number a page can really have (a fetch that returned a page, a renumbering to any number
//! but the lock-byte page's) and whether a page is parked on the lock-byte number. A
//! truncation that cannot drop any page is not passed on; everything else is `pcache1`,
//! unchanged.
//!
//! `unsafe` is the point of this crate (SQLite's C page-cache interface); the other crates
//! forbid it. The layer is process-wide and must be installed before SQLite is first used.

use std::ffi::{c_int, c_uint, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

/// SQLite's default `PENDING_BYTE`: the page holding it is the lock-byte page.
const PENDING_BYTE: c_uint = 0x4000_0000;

/// How [`install`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// The layer is in front of SQLite's default cache, for every connection opened from now.
    Yes,
    /// SQLite had already been initialised (or configured with another cache): unchanged.
    AlreadyInitialised,
}

/// Truncations seen by the layer (all caches, since [`install`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Passed on to `pcache1` (a page past the limit may exist).
    pub passed: u64,
    /// Answered by the layer alone (no page past the limit can exist).
    pub skipped: u64,
}

/// `pcache1`'s methods, as SQLite reported them.
struct Default1(ffi::sqlite3_pcache_methods2);

// SAFETY: function pointers and SQLite's (null) argument pointer, only ever read.
unsafe impl Send for Default1 {}
// SAFETY: as above.
unsafe impl Sync for Default1 {}

static DEFAULT: OnceLock<Default1> = OnceLock::new();
static INSTALLED: OnceLock<Installed> = OnceLock::new();
static PASSED: AtomicU64 = AtomicU64::new(0);
static SKIPPED: AtomicU64 = AtomicU64::new(0);

/// Puts the layer in front of SQLite's default page cache, once per process.
///
/// Must run before anything in the process opens an SQLite connection (SQLite accepts a page
/// cache only before it initialises); later calls return the first call's answer, after
/// waiting for it. When SQLite is already initialised nothing changes and the answer says so.
/// Code that opens SQLite connections of its own in a process that also opens stores (tests)
/// calls this first, so that no connection opens while SQLite's configuration changes.
pub fn install() -> Installed {
    *INSTALLED.get_or_init(|| {
        // SAFETY: SQLITE_CONFIG_GETPCACHE2 takes one `sqlite3_pcache_methods2*` and fills it;
        // before initialisation nothing else reads the configuration (callers run this first).
        let mut methods: ffi::sqlite3_pcache_methods2 = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_GETPCACHE2,
                &mut methods as *mut ffi::sqlite3_pcache_methods2,
            )
        };
        let complete = methods.xCreate.is_some()
            && methods.xCachesize.is_some()
            && methods.xPagecount.is_some()
            && methods.xFetch.is_some()
            && methods.xUnpin.is_some()
            && methods.xRekey.is_some()
            && methods.xTruncate.is_some()
            && methods.xDestroy.is_some();
        if rc != ffi::SQLITE_OK || !complete {
            return Installed::AlreadyInitialised;
        }
        let ours = ffi::sqlite3_pcache_methods2 {
            iVersion: methods.iVersion,
            pArg: ptr::null_mut(),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            xCreate: Some(create),
            xCachesize: Some(cachesize),
            xPagecount: Some(pagecount),
            xFetch: Some(fetch),
            xUnpin: Some(unpin),
            xRekey: Some(rekey),
            xTruncate: Some(truncate),
            xDestroy: Some(destroy),
            xShrink: methods
                .xShrink
                .map(|_| shrink as unsafe extern "C" fn(*mut ffi::sqlite3_pcache)),
        };
        if DEFAULT.set(Default1(methods)).is_err() {
            return Installed::AlreadyInitialised;
        }
        // SAFETY: SQLITE_CONFIG_PCACHE2 takes one `sqlite3_pcache_methods2*` and copies it.
        let rc = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_PCACHE2,
                &ours as *const ffi::sqlite3_pcache_methods2,
            )
        };
        if rc == ffi::SQLITE_OK {
            Installed::Yes
        } else {
            Installed::AlreadyInitialised
        }
    })
}

/// The truncation counters.
pub fn stats() -> Stats {
    Stats {
        passed: PASSED.load(Ordering::Relaxed),
        skipped: SKIPPED.load(Ordering::Relaxed),
    }
}

/// One cache: `pcache1`'s and what the layer knows of its page numbers.
struct Cache {
    inner: *mut ffi::sqlite3_pcache,
    /// The lock-byte page's number for this page size (the swap's temporary number).
    lock_page: c_uint,
    /// No page in the cache has a larger number, the lock-byte page aside.
    max_key: c_uint,
    /// A page may be numbered `lock_page`.
    parked: bool,
}

impl Cache {
    fn saw(&mut self, key: c_uint) {
        if key == self.lock_page {
            self.parked = true;
        } else if key > self.max_key {
            self.max_key = key;
        }
    }
}

fn default() -> &'static ffi::sqlite3_pcache_methods2 {
    // The layer's methods are handed to SQLite only after DEFAULT is set.
    match DEFAULT.get() {
        Some(methods) => &methods.0,
        None => std::process::abort(),
    }
}

/// # Safety
/// `p` is a pointer [`create`] returned and [`destroy`] has not freed; SQLite calls a cache's
/// methods one at a time.
unsafe fn cache<'a>(p: *mut ffi::sqlite3_pcache) -> &'a mut Cache {
    &mut *p.cast::<Cache>()
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    let d = default();
    match d.xInit {
        Some(f) => f(d.pArg),
        None => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn shutdown(_: *mut c_void) {
    let d = default();
    if let Some(f) = d.xShutdown {
        f(d.pArg);
    }
}

unsafe extern "C" fn create(
    sz_page: c_int,
    sz_extra: c_int,
    purgeable: c_int,
) -> *mut ffi::sqlite3_pcache {
    let Some(f) = default().xCreate else {
        return ptr::null_mut();
    };
    let inner = f(sz_page, sz_extra, purgeable);
    if inner.is_null() {
        return inner;
    }
    let lock_page = match c_uint::try_from(sz_page) {
        Ok(size) if size > 0 => PENDING_BYTE / size + 1,
        _ => 0,
    };
    Box::into_raw(Box::new(Cache {
        inner,
        lock_page,
        max_key: 0,
        parked: false,
    }))
    .cast()
}

unsafe extern "C" fn cachesize(p: *mut ffi::sqlite3_pcache, n: c_int) {
    if let Some(f) = default().xCachesize {
        f(cache(p).inner, n);
    }
}

unsafe extern "C" fn pagecount(p: *mut ffi::sqlite3_pcache) -> c_int {
    match default().xPagecount {
        Some(f) => f(cache(p).inner),
        None => 0,
    }
}

unsafe extern "C" fn fetch(
    p: *mut ffi::sqlite3_pcache,
    key: c_uint,
    create: c_int,
) -> *mut ffi::sqlite3_pcache_page {
    let Some(f) = default().xFetch else {
        return ptr::null_mut();
    };
    let c = cache(p);
    let page = f(c.inner, key, create);
    if !page.is_null() {
        c.saw(key);
    }
    page
}

unsafe extern "C" fn unpin(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    discard: c_int,
) {
    if let Some(f) = default().xUnpin {
        f(cache(p).inner, page, discard);
    }
}

unsafe extern "C" fn rekey(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    old: c_uint,
    new: c_uint,
) {
    let Some(f) = default().xRekey else {
        return;
    };
    let c = cache(p);
    f(c.inner, page, old, new);
    if old == c.lock_page {
        c.parked = false;
    }
    c.saw(new);
}

unsafe extern "C" fn truncate(p: *mut ffi::sqlite3_pcache, limit: c_uint) {
    let Some(f) = default().xTruncate else {
        return;
    };
    let c = cache(p);
    if !c.parked && limit > c.max_key {
        SKIPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    PASSED.fetch_add(1, Ordering::Relaxed);
    f(c.inner, limit);
    if limit <= c.max_key {
        c.max_key = limit.saturating_sub(1);
    }
    if limit <= c.lock_page {
        c.parked = false;
    }
}

unsafe extern "C" fn destroy(p: *mut ffi::sqlite3_pcache) {
    let c = Box::from_raw(p.cast::<Cache>());
    if let Some(f) = default().xDestroy {
        f(c.inner);
    }
}

unsafe extern "C" fn shrink(p: *mut ffi::sqlite3_pcache) {
    if let Some(f) = default().xShrink {
        f(cache(p).inner);
    }
}
