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
//! Uncontended, taking and releasing the lock are a handful of atomic operations (no mutex, no
//! system call), and a check is one atomic load.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// CPython's default `sys.getswitchinterval()`.
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// What only the slow path touches, under the mutex that the condition variables wait on.
#[derive(Debug, Default)]
struct State {
    /// When recording: since when the current holder has held the lock, and the finished holds.
    record: Option<(Option<Instant>, Vec<HoldRecord>)>,
}

/// One hold of the lock: holder, taken, released.
pub type HoldRecord = (usize, Instant, Instant);

/// No thread has held the lock yet.
const NOBODY: usize = usize::MAX;

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
///
/// Uncontended (nobody waiting) a thread takes and releases it with atomic operations alone;
/// only when some thread waits do the mutex and condition variables come in, as CPython's
/// `take_gil` only blocks on its condition variable when the lock is held.
#[derive(Debug)]
pub struct Gil {
    /// The lock itself.
    locked: AtomicBool,
    /// Threads in the slow path of `take` (blocked or about to block).
    waiters: AtomicUsize,
    /// Threads in forced switching, waiting for another thread to take the lock.
    switchers: AtomicUsize,
    /// Increments on every acquisition (CPython's `switch_number`).
    switch_number: AtomicU64,
    /// The last thread to take the lock ([`NOBODY`] before the first).
    last_holder: AtomicUsize,
    /// Whether holds are being recorded (see [`Gil::start_recording`]).
    recording: AtomicBool,
    state: Mutex<State>,
    /// Signalled when the lock is released while someone waits.
    released: Condvar,
    /// Signalled when the lock is taken while someone is in forced switching.
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
            locked: AtomicBool::new(false),
            waiters: AtomicUsize::new(0),
            switchers: AtomicUsize::new(0),
            switch_number: AtomicU64::new(0),
            last_holder: AtomicUsize::new(NOBODY),
            recording: AtomicBool::new(false),
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
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Stops recording and returns the holds since [`Gil::start_recording`], in release order.
    pub fn take_record(&self) -> Vec<HoldRecord> {
        self.recording.store(false, Ordering::SeqCst);
        self.lock_state()
            .record
            .take()
            .map(|(_, holds)| holds)
            .unwrap_or_default()
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // The state is plain data updated under the mutex: still valid even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn try_lock(&self) -> bool {
        self.locked
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    fn take(&self, who: usize) {
        // Fast path: free and nobody queued (a waiter gets its turn rather than being overtaken).
        if self.waiters.load(Ordering::SeqCst) == 0 && self.try_lock() {
            self.took(who);
            return;
        }
        let mut st = self.lock_state();
        self.waiters.fetch_add(1, Ordering::SeqCst);
        // A releaser that sees `waiters > 0` takes the mutex to notify, so it cannot slip in
        // between our failed attempt and our wait (which releases the mutex atomically).
        while !self.try_lock() {
            let switch_before = self.switch_number.load(Ordering::SeqCst);
            let (guard, waited) = self
                .released
                .wait_timeout(st, self.interval)
                .unwrap_or_else(PoisonError::into_inner);
            st = guard;
            if waited.timed_out()
                && self.locked.load(Ordering::SeqCst)
                && self.switch_number.load(Ordering::SeqCst) == switch_before
            {
                self.drop_request.store(true, Ordering::Relaxed);
                self.drop_requests.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        drop(st);
        self.took(who);
    }

    /// Bookkeeping of an acquisition by `who`, who now holds the lock.
    fn took(&self, who: usize) {
        self.switch_number.fetch_add(1, Ordering::SeqCst);
        if self.last_holder.swap(who, Ordering::SeqCst) != who {
            self.handoffs.fetch_add(1, Ordering::Relaxed);
        }
        // A pending request was aimed at the previous holder.
        self.drop_request.store(false, Ordering::Relaxed);
        self.acquisitions.fetch_add(1, Ordering::Relaxed);
        if self.inside.fetch_add(1, Ordering::AcqRel) != 0 {
            self.overlaps.fetch_add(1, Ordering::Relaxed);
        }
        if self.recording.load(Ordering::Relaxed)
            && let Some((since, _)) = &mut self.lock_state().record
        {
            *since = Some(Instant::now());
        }
        if self.switchers.load(Ordering::SeqCst) > 0 {
            let _st = self.lock_state();
            self.taken.notify_all();
        }
    }

    fn release(&self, who: usize, forced: bool) {
        self.inside.fetch_sub(1, Ordering::AcqRel);
        if self.recording.load(Ordering::Relaxed)
            && let Some((since, holds)) = &mut self.lock_state().record
            && let Some(from) = since.take()
        {
            holds.push((who, from, Instant::now()));
        }
        self.locked.store(false, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut st = self.lock_state();
        self.released.notify_one();
        if forced {
            // Forced switching: do not compete for the lock until someone else has taken it.
            self.switchers.fetch_add(1, Ordering::SeqCst);
            while self.last_holder.load(Ordering::SeqCst) == who
                && self.waiters.load(Ordering::SeqCst) > 0
            {
                st = self
                    .taken
                    .wait_timeout(st, self.interval)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            self.switchers.fetch_sub(1, Ordering::SeqCst);
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
