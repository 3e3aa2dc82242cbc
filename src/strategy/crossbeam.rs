//! `crossbeam`: `w` scoped threads fed job indices by one crossbeam MPMC channel: the
//! message-passing shape of a worker pool. The channel is bounded (an array allocated once per
//! map) and each worker keeps its outcomes until it is joined, so no task allocates.

use std::time::Instant;

use crossbeam::channel;

use super::{
    InProcess, Observer, Outcome, StrategyKind, in_order, join_all, run_here, spawn_workers,
};
use crate::error::Result;
use crate::workload::Job;

/// `w` threads around two crossbeam channels.
#[derive(Debug)]
pub struct Crossbeam {
    workers: usize,
}

impl Crossbeam {
    /// A strategy of `workers` threads (spawned by each map).
    pub fn new(workers: usize) -> Self {
        Crossbeam { workers }
    }
}

impl InProcess for Crossbeam {
    const KIND: StrategyKind = StrategyKind::Crossbeam;

    fn worker_count(&self) -> usize {
        self.workers
    }

    fn run(&mut self, jobs: &[Job], on_start: Option<Observer<'_>>) -> Result<Vec<Outcome>> {
        let t0 = Instant::now();
        // A bounded (array) channel holding every index: one allocation per map, none per task.
        let (job_tx, job_rx) = channel::bounded::<usize>(jobs.len().max(1));
        for i in 0..jobs.len() {
            let _ = job_tx.send(i);
        }
        drop(job_tx);
        let parts = std::thread::scope(|s| {
            let handles = spawn_workers(s, self.workers, "crossbeam", |worker| {
                let job_rx = job_rx.clone();
                move || {
                    let mut mine = Vec::new();
                    for i in job_rx {
                        mine.push((i, run_here(&jobs[i], i, worker, t0, on_start)));
                    }
                    mine
                }
            });
            join_all(handles?, "crossbeam")
        })?;
        in_order(jobs.len(), parts.into_iter().flatten(), "crossbeam")
    }
}
