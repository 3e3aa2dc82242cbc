//! `threads`: `w` scoped std threads that pull the next job index from one shared atomic counter.
//! The simplest dynamic load balancing there is; the threads are spawned per map (that is what
//! scoped threads are), which costs a few tens of microseconds per thread.

use std::time::Instant;

use super::{Observer, Outcome, Strategy, StrategyKind, run_here, scoped_pull};
use crate::error::Result;
use crate::workload::Job;

/// `w` std threads and a shared counter.
#[derive(Debug)]
pub struct Threads {
    workers: usize,
}

impl Threads {
    /// A strategy of `workers` threads (spawned by each map).
    pub fn new(workers: usize) -> Self {
        Threads { workers }
    }
}

impl Strategy for Threads {
    fn name(&self) -> &str {
        StrategyKind::Threads.as_str()
    }

    fn workers(&self) -> usize {
        self.workers
    }

    fn map_observed(&mut self, jobs: &[Job], on_start: Observer<'_>) -> Result<Vec<Outcome>> {
        self.run(jobs, Some(on_start))
    }

    fn map_untimed(&mut self, jobs: &[Job]) -> Result<Vec<Outcome>> {
        self.run(jobs, None)
    }
}

impl Threads {
    /// One map; `on_start`: time and announce each job (see `run_here`).
    fn run(&mut self, jobs: &[Job], on_start: Option<Observer<'_>>) -> Result<Vec<Outcome>> {
        let t0 = Instant::now();
        scoped_pull(self.workers, jobs.len(), "threads", |worker, i| {
            run_here(&jobs[i], i, worker, t0, on_start)
        })
    }
}
