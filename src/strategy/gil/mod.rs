//! `gil`: `w` scoped threads that must hold one emulated CPython interpreter lock
//! ([`lock::Gil`], in `lock.rs` beside this file) to compute, like Python threads. Countdown checks the lock's drop request
//! every [`crate::workload::SLICE`] decrements; a square job holds the lock except while it sleeps.
//! Expected: countdown at 2 workers takes twice its 1-worker time; square scales like `threads`.

use std::time::{Duration, Instant};

use super::{Hold, Observer, Outcome, Started, Strategy, StrategyKind, elapsed_ns, scoped_pull};
use crate::error::Result;
mod lock;

use crate::workload::{Job, countdown_with, square};
pub(crate) use lock::DEFAULT_SWITCH_INTERVAL;
use lock::{Gil, GilGuard, GilStats};

/// `w` threads and one interpreter lock, kept across maps so its counters accumulate.
#[derive(Debug)]
pub struct GilThreads {
    workers: usize,
    gil: Gil,
}

impl GilThreads {
    /// `workers` threads (spawned per map) sharing a lock with the given switch interval.
    pub fn new(workers: usize, switch_interval: Duration) -> Self {
        GilThreads {
            workers,
            gil: Gil::new(switch_interval),
        }
    }

    /// The lock's counters so far (handoffs, drop requests, overlaps).
    pub fn stats(&self) -> GilStats {
        self.gil.stats()
    }
}

/// Runs one job the way the interpreter would: computing only while holding the lock.
fn run_under_gil(job: &Job, guard: &mut GilGuard<'_>) -> u64 {
    match *job {
        Job::Countdown { n } => countdown_with(n, || guard.check()),
        // A workload of yours runs whole under the lock, as a C extension that keeps the GIL.
        Job::Custom { .. } => job.run(),
        Job::Square { x, nap_ns } => {
            if nap_ns > 0 {
                guard.allow_threads(|| std::thread::sleep(Duration::from_nanos(nap_ns)));
            }
            square(x)
        }
    }
}

impl Strategy for GilThreads {
    fn name(&self) -> &str {
        StrategyKind::Gil.as_str()
    }

    fn workers(&self) -> usize {
        self.workers
    }

    fn map_observed(&mut self, jobs: &[Job], on_start: Observer<'_>) -> Result<Vec<Outcome>> {
        self.run(jobs, Some(on_start), Instant::now())
    }

    fn map_untimed(&mut self, jobs: &[Job]) -> Result<Vec<Outcome>> {
        self.run(jobs, None, Instant::now())
    }

    fn map_traced(&mut self, jobs: &[Job]) -> Result<(Vec<Outcome>, Vec<Hold>)> {
        self.gil.start_recording();
        let t0 = Instant::now();
        let out = self.run(jobs, Some(&|_| {}), t0);
        let ns = |t: Instant| {
            u64::try_from(t.saturating_duration_since(t0).as_nanos()).unwrap_or(u64::MAX)
        };
        let holds = self
            .gil
            .take_record()
            .into_iter()
            .map(|(worker, from, to)| Hold {
                worker,
                from_ns: ns(from),
                to_ns: ns(to),
            })
            .collect();
        Ok((out?, holds))
    }
}

impl GilThreads {
    /// One map, its times measured from `t0` when there is an observer (none: no clock read).
    fn run(
        &mut self,
        jobs: &[Job],
        on_start: Option<Observer<'_>>,
        t0: Instant,
    ) -> Result<Vec<Outcome>> {
        let gil = &self.gil;
        let pid = super::this_pid();
        scoped_pull(self.workers, jobs.len(), "gil", |worker, i| {
            let mut guard = gil.acquire(worker);
            let started_ns = match on_start {
                Some(tell) => {
                    tell(Started {
                        job: i,
                        worker,
                        pid,
                    });
                    elapsed_ns(t0)
                }
                None => 0,
            };
            let value = run_under_gil(&jobs[i], &mut guard);
            drop(guard);
            Outcome {
                value,
                worker,
                pid,
                started_ns,
                finished_ns: if on_start.is_some() {
                    elapsed_ns(t0)
                } else {
                    0
                },
            }
        })
    }
}
