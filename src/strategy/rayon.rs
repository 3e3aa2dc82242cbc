//! `rayon`: a dedicated `rayon::ThreadPool` of exactly `w` threads, built once; each map submits
//! one task per job (`with_max_len(1)`) and lets work stealing balance them.

use std::time::Instant;

use rayon::prelude::*;

use super::{InProcess, Observer, Outcome, StrategyKind, run_here};
use crate::error::{Error, Result};
use crate::workload::Job;

/// A rayon pool of `w` threads.
#[derive(Debug)]
pub struct Rayon {
    pool: rayon::ThreadPool,
    workers: usize,
}

impl Rayon {
    /// Builds the pool (its threads start now, outside any timed map).
    pub fn new(workers: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("poolscale-rayon-{i}"))
            .build()
            .map_err(|source| Error::RayonPool { workers, source })?;
        Ok(Rayon { pool, workers })
    }
}

impl InProcess for Rayon {
    const KIND: StrategyKind = StrategyKind::Rayon;

    fn worker_count(&self) -> usize {
        self.workers
    }

    fn run(&mut self, jobs: &[Job], on_start: Option<Observer<'_>>) -> Result<Vec<Outcome>> {
        let t0 = Instant::now();
        let out = self.pool.install(|| {
            jobs.par_iter()
                .with_max_len(1)
                .enumerate()
                .map(|(i, job)| {
                    let worker = rayon::current_thread_index().unwrap_or(0);
                    run_here(job, i, worker, t0, on_start)
                })
                .collect()
        });
        Ok(out)
    }
}
