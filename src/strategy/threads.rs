//! `threads`: `w` scoped std threads that pull the next job index from one shared atomic counter.
//! The simplest dynamic load balancing there is; the threads are spawned per map (that is what
//! scoped threads are), which costs a few tens of microseconds per thread.

use std::time::Instant;

use super::{InProcess, Observer, Outcome, StrategyKind, run_here, scoped_pull};
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

impl InProcess for Threads {
    const KIND: StrategyKind = StrategyKind::Threads;

    fn worker_count(&self) -> usize {
        self.workers
    }

    fn run(&mut self, jobs: &[Job], on_start: Option<Observer<'_>>) -> Result<Vec<Outcome>> {
        let t0 = Instant::now();
        scoped_pull(self.workers, jobs.len(), "threads", |worker, i| {
            run_here(&jobs[i], i, worker, t0, on_start)
        })
    }
}
