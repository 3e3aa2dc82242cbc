//! An emulated CPython interpreter lock (the "new GIL" of CPython 3.2+, `Python/ceval_gil.c`), so
//! that the seed's lesson, two CPU-bound threads take twice as long as one, can be reproduced in
//! Rust.
//!
//! The protocol, as in CPython:
//! - A thread that wants the lock waits on a condition variable for at most the *switch interval*
//!   (5 ms by default). If the wait times out and no switch happened meanwhile, it sets a *drop
//!   request*.
//! - The holder checks the drop request cheaply (one relaxed atomic load) every few thousand
//!   iterations of its work ([`GilGuard::check`]); when set, it releases the lock and, with *forced
//!   switching*, does not take it back before another thread has taken it.
//! - Blocking calls release the lock while they wait ([`GilGuard::allow_threads`]), as
//!   `time.sleep` does, so sleeping threads overlap while computing ones take turns.
//!
//! Uncontended, the lock costs one mutex round trip per job and one atomic load per check.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// CPython's default `sys.getswitchinterval()`.
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
struct State {
    locked: bool,
    last_holder: Option<usize>,
    /// Increments on every acquisition (CPython's `switch_number`).
    switch_number: u64,
    /// Threads blocked in `take`.
    waiters: usize,
    /// When recording: since when the current holder has held the lock, and the finished holds
    /// (holder, taken, released).
    record: Option<(Option<Instant>, Vec<HoldRecord>)>,
}

/// One hold of the lock: holder, taken, released.
pub type HoldRecord = (usize, Instant, Instant);

/// Counters that show the lock at work; read them with [`Gil::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GilStats {
    /// Times any thread took the lock.
    pub acquisitions: u64,
    /// Acquisitions by a thread other than the previous holder.
    pub handoffs: u64,
    /// Drop requests set by waiters whose switch interval ran out.
    pub drop_requests: u64,
    /// Acquisitions that found another thread already inside: always 0 unless the lock is broken.
    pub overlaps: u64,
}

/// The emulated interpreter lock. Share it between threads by reference.
#[derive(Debug)]
pub struct Gil {
    state: Mutex<State>,
    /// Signalled when the lock is released.
    released: Condvar,
    /// Signalled when the lock is taken (forced switching waits on it).
    taken: Condvar,
    drop_request: AtomicBool,
    interval: Duration,
    /// Threads currently holding the lock, as seen by the overlap check.
    inside: AtomicUsize,
    acquisitions: AtomicU64,
    handoffs: AtomicU64,
    drop_requests: AtomicU64,
    overlaps: AtomicU64,
}

impl Default for Gil {
    fn default() -> Self {
        Gil::new(DEFAULT_SWITCH_INTERVAL)
    }
}

impl Gil {
    /// A free lock with the given switch interval (CPython's `sys.setswitchinterval`).
    pub fn new(interval: Duration) -> Self {
        Gil {
            state: Mutex::new(State::default()),
            released: Condvar::new(),
            taken: Condvar::new(),
            drop_request: AtomicBool::new(false),
            interval: interval.max(Duration::from_micros(1)),
            inside: AtomicUsize::new(0),
            acquisitions: AtomicU64::new(0),
            handoffs: AtomicU64::new(0),
            drop_requests: AtomicU64::new(0),
            overlaps: AtomicU64::new(0),
        }
    }

    /// The switch interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Blocks until thread `who` holds the lock.
    pub fn acquire(&self, who: usize) -> GilGuard<'_> {
        self.take(who);
        GilGuard { gil: self, who }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> GilStats {
        GilStats {
            acquisitions: self.acquisitions.load(Ordering::Relaxed),
            handoffs: self.handoffs.load(Ordering::Relaxed),
            drop_requests: self.drop_requests.load(Ordering::Relaxed),
            overlaps: self.overlaps.load(Ordering::Relaxed),
        }
    }

    /// Starts recording every hold of the lock (who, from, to), dropping an earlier record.
    pub fn start_recording(&self) {
        self.lock_state().record = Some((None, Vec::new()));
    }

    /// Stops recording and returns the holds since [`Gil::start_recording`], in release order.
    pub fn take_record(&self) -> Vec<HoldRecord> {
        self.lock_state()
            .record
            .take()
            .map(|(_, holds)| holds)
            .unwrap_or_default()
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // The state is a few plain fields updated atomically under the mutex: still valid even if
        // a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self, who: usize) {
        let mut st = self.lock_state();
        st.waiters += 1;
        while st.locked {
            let switch_before = st.switch_number;
            let (guard, waited) = self
                .released
                .wait_timeout(st, self.interval)
                .unwrap_or_else(PoisonError::into_inner);
            st = guard;
            if waited.timed_out() && st.locked && st.switch_number == switch_before {
                self.drop_request.store(true, Ordering::Relaxed);
                self.drop_requests.fetch_add(1, Ordering::Relaxed);
            }
        }
        st.waiters -= 1;
        st.locked = true;
        st.switch_number += 1;
        if st.last_holder != Some(who) {
            self.handoffs.fetch_add(1, Ordering::Relaxed);
        }
        st.last_holder = Some(who);
        if let Some((since, _)) = &mut st.record {
            *since = Some(Instant::now());
        }
        // A pending request was aimed at the previous holder.
        self.drop_request.store(false, Ordering::Relaxed);
        self.acquisitions.fetch_add(1, Ordering::Relaxed);
        if self.inside.fetch_add(1, Ordering::AcqRel) != 0 {
            self.overlaps.fetch_add(1, Ordering::Relaxed);
        }
        drop(st);
        self.taken.notify_all();
    }

    fn release(&self, who: usize, forced: bool) {
        self.inside.fetch_sub(1, Ordering::AcqRel);
        let mut st = self.lock_state();
        st.locked = false;
        if let Some((since, holds)) = &mut st.record
            && let Some(from) = since.take()
        {
            holds.push((who, from, Instant::now()));
        }
        self.released.notify_one();
        if forced {
            // Forced switching: do not compete for the lock until someone else has taken it.
            while st.last_holder == Some(who) && st.waiters > 0 {
                st = self
                    .taken
                    .wait_timeout(st, self.interval)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }
}

/// Proof that a thread holds the [`Gil`]; releases it when dropped.
#[derive(Debug)]
pub struct GilGuard<'a> {
    gil: &'a Gil,
    who: usize,
}

impl GilGuard<'_> {
    /// The periodic check of the interpreter loop: if another thread asked for the lock, hand it
    /// over and wait to get it back. One relaxed atomic load when nobody asked.
    #[inline]
    pub fn check(&mut self) {
        if self.gil.drop_request.load(Ordering::Relaxed) {
            self.gil.release(self.who, true);
            self.gil.take(self.who);
        }
    }

    /// Runs a blocking call (a sleep) without the lock, like CPython's
    /// `Py_BEGIN_ALLOW_THREADS`, and takes the lock back afterwards.
    pub fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.gil.release(self.who, false);
        let r = f();
        self.gil.take(self.who);
        r
    }
}

impl Drop for GilGuard<'_> {
    fn drop(&mut self) {
        self.gil.release(self.who, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncontended_lock_counts_acquisitions() {
        let gil = Gil::default();
        for _ in 0..3 {
            let mut g = gil.acquire(0);
            g.check();
            g.allow_threads(|| ());
        }
        let s = gil.stats();
        assert_eq!(s.acquisitions, 6);
        assert_eq!(s.handoffs, 1);
        assert_eq!(s.drop_requests, 0);
        assert_eq!(s.overlaps, 0);
    }

    #[test]
    fn a_waiter_gets_the_lock_through_a_drop_request() {
        let gil = Gil::new(Duration::from_micros(200));
        let mut holder = gil.acquire(0);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let _g = gil.acquire(1);
            });
            // The holder keeps checking until the waiter has had its turn.
            while !waiter.is_finished() {
                holder.check();
                std::thread::yield_now();
            }
        });
        drop(holder);
        let s = gil.stats();
        assert!(s.drop_requests >= 1, "{s:?}");
        assert!(s.handoffs >= 2, "{s:?}");
        assert_eq!(s.overlaps, 0);
    }
}
