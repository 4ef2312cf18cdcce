//! Crash safety of `Tree::save`: a process killed (SIGKILL on Unix) at a random moment while it
//! saves, over and over, leaves the file holding one of the two trees it was saving, whole —
//! never a torn mix, never no file.
//!
//! The saver is this same test executable, re-run with `--exact child_saver` and
//! `OMADM_CRASH_CHILD=<dir>`; without that variable `child_saver` returns at once. A process kill
//! tests atomicity of the replace (the page cache survives it); the fsyncs that make the result
//! survive power loss cannot be tested this way.

mod persist_common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use omadm_tree::format::NodeFormat;
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};
use persist_common::TempDir;

const CHILD_ENV: &str = "OMADM_CRASH_CHILD";
/// Seed of the kill delays, to replay a failing run.
const SEED_ENV: &str = "OMADM_CRASH_SEED";
const KILLS: usize = 20;
const INTERIOR: usize = 100;
const LEAVES: usize = 499;

fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// 50,000 nodes (root, 100 interior nodes of 499 leaves each); `tag` makes every value, and one
/// Title, differ between the two trees.
fn big_tree(tag: &str) -> Tree {
    let mut t = Tree::default();
    t.set_now(1_700_000_000);
    for i in 0..INTERIOR {
        for j in 0..LEAVES {
            let uri = format!("./N{i}/L{j}");
            let value = format!("{tag}-{i}-{j}");
            ok(
                t.add(
                    Caller::Device,
                    &uri,
                    NodeFormat::Chr,
                    None,
                    value.as_bytes(),
                ),
                "add",
            );
        }
    }
    ok(
        t.replace_prop(Caller::Device, "./N7", Property::Title, tag),
        "title",
    );
    t
}

/// Not a test on its own: the saver process of `kill_during_save_leaves_old_or_new_tree`.
#[test]
fn child_saver() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    // Loaded side by side: the parent waits for this on every round.
    let (a, b) = std::thread::scope(|s| {
        let b = s.spawn(|| Tree::load(&dir.join("b.src")));
        let a = ok(Tree::load(&dir.join("a.src")), "load a.src");
        match b.join() {
            Ok(b) => (a, ok(b, "load b.src")),
            Err(_) => panic!("loading b.src panicked"),
        }
    });
    let path = dir.join("tree.bin");
    ok(std::fs::write(dir.join("started"), b""), "write started");
    // Bounded, so that a saver whose parent died stops by itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..100_000u32 {
        if Instant::now() > deadline {
            break;
        }
        let t = if i % 2 == 0 { &b } else { &a };
        ok(t.save(&path), "save");
    }
}

/// Kills the child if the parent's test fails half-way.
struct Saver(Child);

impl Drop for Saver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn wait_started(saver: &mut Saver, marker: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        if let Ok(Some(status)) = saver.0.try_wait() {
            panic!("the saver exited before saving: {status}");
        }
        assert!(Instant::now() < deadline, "the saver did not start");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn kill_during_save_leaves_old_or_new_tree() {
    let dir = TempDir::new("crash");
    let path = dir.0.join("tree.bin");
    let a = big_tree("a").to_bytes();
    let b = big_tree("b").to_bytes();
    assert_ne!(a, b);
    ok(std::fs::write(dir.0.join("a.src"), &a), "write a.src");
    ok(std::fs::write(dir.0.join("b.src"), &b), "write b.src");

    // From the first successful save on, the file must always hold a whole tree.
    let tree_a = ok(Tree::from_bytes(&a), "a");
    let t0 = Instant::now();
    ok(tree_a.save(&path), "first save");
    let save_ms = t0.elapsed().as_millis() as u64;
    // Delays up to about three saves, so that kills land before, inside and after a rename.
    let spread = (3 * save_ms).clamp(75, 400);

    let mut seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    eprintln!(
        "{SEED_ENV}={seed}; one save takes {save_ms} ms; delays 5..{} ms",
        5 + spread
    );

    let exe = ok(std::env::current_exe(), "current_exe");
    let marker = dir.0.join("started");
    let (mut seen_a, mut seen_b, mut torn_tmp) = (0, 0, 0);
    for round in 0..KILLS {
        let _ = std::fs::remove_file(&marker);
        let child = Command::new(&exe)
            .args(["--exact", "child_saver", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn();
        let mut saver = Saver(ok(child, "spawn the saver"));
        wait_started(&mut saver, &marker);
        let delay = 5 + xorshift(&mut seed) % spread;
        std::thread::sleep(Duration::from_millis(delay));
        ok(saver.0.kill(), "kill");
        let status = ok(saver.0.wait(), "wait");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal(),
                Some(9),
                "round {round}: the saver ended by itself ({status}) instead of being killed"
            );
        }
        #[cfg(not(unix))]
        let _ = status;

        // The encoding is canonical, so "holds tree A" is "holds A's bytes"; loading every round
        // would double the test's time, so the loader runs on every fifth, and on any mismatch.
        let loaded = ok(std::fs::read(&path), "read the tree file");
        if round % 5 == 0 || (loaded != a && loaded != b) {
            if let Err(e) = Tree::load(&path) {
                panic!("round {round}, killed after {delay} ms: no valid tree left: {e}");
            }
        }
        if loaded == a {
            seen_a += 1;
        } else if loaded == b {
            seen_b += 1;
        } else {
            panic!("round {round}, killed after {delay} ms: the file is neither tree A nor B");
        }
        torn_tmp += ok(std::fs::read_dir(&dir.0), "read_dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .count();
        // Left-over temporary files are the interrupted saves' own; the next run ignores them.
        for e in ok(std::fs::read_dir(&dir.0), "read_dir").filter_map(Result::ok) {
            if e.file_name().to_string_lossy().contains(".tmp.") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    eprintln!(
        "{KILLS} kills: file held A {seen_a}×, B {seen_b}×; {torn_tmp} kills interrupted a save \
         before its rename"
    );
}
