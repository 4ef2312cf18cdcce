//! Background jobs (asynchronous Exec hooks, FUMO downloads and updates): a count the process can
//! wait on before it exits, so that a job's result reaches `alerts.json`.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Counts running background jobs. Clones share the count.
#[derive(Clone, Debug, Default)]
pub struct Jobs {
    inner: Arc<(Mutex<usize>, Condvar)>,
}

impl Jobs {
    /// How many jobs are running.
    pub fn running(&self) -> usize {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until no job runs, at most `timeout`; true when none does.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.inner;
        let mut n = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            n = cv
                .wait_timeout(n, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Runs `f` on a new thread, counted until it returns (or panics).
    pub(crate) fn spawn(&self, name: &str, f: impl FnOnce() + Send + 'static) {
        struct Done(Jobs);
        impl Drop for Done {
            fn drop(&mut self) {
                let (lock, cv) = &*self.0.inner;
                let mut n = lock.lock().unwrap_or_else(PoisonError::into_inner);
                *n = n.saturating_sub(1);
                cv.notify_all();
            }
        }
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        let done = Done(self.clone());
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _done = done;
                f();
            });
        if let Err(e) = spawned {
            // The closure (and `done` with it) was dropped: the count is already back.
            eprintln!("omadm device: cannot start background job {name}: {e}");
        }
    }
}
