//! `sequential`: every job on the calling thread, one after another. The baseline every other
//! strategy is checked and measured against; its time does not depend on the worker count.

use std::time::Instant;

use super::{InProcess, Observer, Outcome, StrategyKind, run_here};
use crate::error::Result;
use crate::workload::Job;

/// The baseline. The worker count is recorded but unused: there is one worker, index 0.
#[derive(Debug)]
pub struct Sequential {
    workers: usize,
}

impl Sequential {
    /// A baseline labelled with `workers` (for bench ids); it always runs on one thread.
    pub fn new(workers: usize) -> Self {
        Sequential { workers }
    }
}

impl InProcess for Sequential {
    const KIND: StrategyKind = StrategyKind::Sequential;

    fn worker_count(&self) -> usize {
        self.workers
    }

    fn run(&mut self, jobs: &[Job], on_start: Option<Observer<'_>>) -> Result<Vec<Outcome>> {
        let t0 = Instant::now();
        Ok(jobs
            .iter()
            .enumerate()
            .map(|(i, job)| run_here(job, i, 0, t0, on_start))
            .collect())
    }
}
