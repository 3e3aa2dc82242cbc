//! `poolscale run`: one workload under one strategy, timed once through the measuring path, its
//! results checked. [`execute`] returns the [`RunRecord`] that `--json` prints as is and
//! [`RunRecord::to_text`] renders for people.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Result;
use crate::measure::timed_map;
use crate::strategy::{Entry, Options, Outcome, StrategyName};
use crate::units::fmt_ns;
use crate::workload::{Job, countdown_jobs, square_jobs};

/// Which of the seed's two kinds of job `run` maps (`--workload`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Program 1: count down from N in each job (CPU-bound).
    Countdown,
    /// Program 2: sleep a nap, then square the job's value (latency-bound).
    Square,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The workload.
    pub workload: JobKind,
    /// The strategy.
    pub strategy: Entry,
    /// Worker count.
    pub workers: usize,
    /// countdown: decrements per job (or in all, with `split`).
    pub count: u64,
    /// countdown: divide one count over the jobs (strong scaling).
    pub split: bool,
    /// square: number of tasks.
    pub tasks: usize,
    /// square: the nap before each square.
    pub nap: Duration,
    /// Pool options.
    pub options: Options,
    /// Record when each job started and finished ([`RunRecord::outcomes`]); without it the map
    /// runs on the strategy's untimed path and the outcomes' times are 0.
    pub job_times: bool,
    /// Record the map's timeline (with the `gil`'s lock holds) into [`RunRecord::timeline`].
    pub timeline: bool,
}

/// What `run --json` prints: one object per run.
#[derive(Debug, Serialize)]
pub struct RunRecord {
    /// `countdown` or `square`.
    pub workload: JobKind,
    /// The strategy's name.
    pub strategy: StrategyName,
    /// Worker count.
    pub workers: usize,
    /// Number of jobs mapped.
    pub jobs: usize,
    /// countdown: decrements per job before splitting; square: absent.
    pub count: Option<u64>,
    /// countdown: whether the count was split over the jobs.
    pub split: bool,
    /// square: the nap, in nanoseconds; countdown: absent.
    pub nap_ns: Option<u64>,
    /// Time to start the pool, in nanoseconds (not part of `wall_ns`).
    pub startup_ns: u64,
    /// Wall-clock time of the map, in nanoseconds.
    pub wall_ns: u64,
    /// The jobs' results, in input order.
    pub results: Vec<u64>,
    /// Where and when each job ran, in input order.
    pub outcomes: Vec<Outcome>,
    /// With [`RunConfig::timeline`]: the map as a timeline (not printed by `--json`; `run
    /// --timeline` draws it).
    #[serde(skip)]
    pub timeline: Option<crate::measure::timeline::Timeline>,
}

/// Starts the pool (timed separately), runs one map, checks its results.
pub fn execute(cfg: &RunConfig) -> Result<RunRecord> {
    let jobs: Vec<Job> = match cfg.workload {
        JobKind::Countdown => countdown_jobs(cfg.count, cfg.workers, cfg.split),
        JobKind::Square => square_jobs(cfg.tasks, cfg.nap),
    };
    let t = Instant::now();
    let mut pool = cfg.strategy.start(cfg.workers, &cfg.options)?;
    let startup = t.elapsed();
    let label = format!("{} with {}", cfg.strategy.name, workers_phrase(cfg.workers));
    let (wall, outcomes, timeline) = if cfg.timeline {
        let t = crate::measure::trace(pool.as_mut(), &jobs, &label)?;
        (Duration::from_nanos(t.wall_ns), t.jobs.clone(), Some(t))
    } else {
        let tell: Option<crate::strategy::Observer<'_>> = cfg.job_times.then_some(&|_| {});
        let (wall, out) = timed_map(pool.as_mut(), &jobs, &label, tell)?;
        (wall, out, None)
    };
    drop(pool);
    let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    Ok(RunRecord {
        workload: cfg.workload,
        strategy: cfg.strategy.name,
        workers: cfg.workers,
        jobs: jobs.len(),
        count: (cfg.workload == JobKind::Countdown).then_some(cfg.count),
        split: cfg.split,
        nap_ns: (cfg.workload == JobKind::Square).then_some(ns(cfg.nap)),
        startup_ns: ns(startup),
        wall_ns: ns(wall),
        results: outcomes.iter().map(|o| o.value).collect(),
        outcomes,
        timeline,
    })
}

impl RunRecord {
    /// The human form: what ran, the results, start-up and wall time.
    pub fn to_text(&self) -> String {
        let what = match self.workload {
            JobKind::Countdown => format!(
                "countdown of {} {} over {} jobs",
                self.count.unwrap_or(0),
                if self.split { "split" } else { "each" },
                self.jobs
            ),
            JobKind::Square => format!(
                "square of {} tasks after a {} nap",
                self.jobs,
                humantime::format_duration(Duration::from_nanos(self.nap_ns.unwrap_or(0)))
            ),
        };
        // A long result list is summarised: every value was checked against the expected one.
        let results = if self.results.len() <= SHOWN_RESULTS {
            format!("{:?}", self.results)
        } else {
            format!(
                "{} values, each as expected; the first {SHOWN_RESULTS}: {:?} … (--json prints all)",
                self.results.len(),
                &self.results[..SHOWN_RESULTS]
            )
        };
        format!(
            "{what}: {} with {}\nresults: {results}\npool start-up: {}\nwall time: {}\n",
            self.strategy,
            workers_phrase(self.workers),
            fmt_ns(self.startup_ns as f64),
            fmt_ns(self.wall_ns as f64)
        )
    }
}

/// Results `run` prints in full; a longer list is summarised.
pub const SHOWN_RESULTS: usize = 20;

/// `1 worker`, `3 workers`.
pub fn workers_phrase(w: usize) -> String {
    if w == 1 {
        "1 worker".into()
    } else {
        format!("{w} workers")
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn one_worker_is_singular_and_long_result_lists_are_summarised() {
        assert_eq!(workers_phrase(1), "1 worker");
        assert_eq!(workers_phrase(3), "3 workers");
    }
}
