//! Stage 2, measuring: everything that times something, in this process or in a child.
//!
//! - this module: the one measuring path ([`Prepared`], [`Arm`]);
//! - [`interleave`]: arms sampled in alternating rounds, the basis of every paired figure;
//! - [`scaling`]: the paired pass over a CPU-bound group (the report's ratios);
//! - [`sweep`]: the break-even sweep, and the maps `advise` samples;
//! - [`probe`]: how many cores the machine gives now; [`instrument`]: the countdown's cost per
//!   decrement in each binary; [`cpu`]: CPU time of a process and its workers; [`timeline`]: one
//!   map drawn job by job; [`run`]: one workload under one strategy (`poolscale run`).
//!
//! May import: `error`, `limits`, `units`, `escape`, `stats`, `platform`, `workload`, `strategy`,
//! `group`. Nothing here reads or writes a results file, analyses or renders.
//!
//! The one measuring path: start the pool outside the timed region, time `iters` maps, verify
//! every output outside the timed region. The benches (`benches/scaling.rs`), the sampling sides
//! of `gate --ab` and the paired invariants all measure through [`Prepared::sample`], so a number
//! from any of them means the same thing.
//!
//! [`Arm`] is what the interleaving driver ([`crate::measure::interleave`]) alternates between: a prepared
//! benchmark in this process, a capacity probe ([`crate::measure::probe`]) or a benchmark on the other end
//! of a pipe ([`crate::gate::sampling`]).

pub(crate) mod cpu;
pub(crate) mod instrument;
pub(crate) mod interleave;
pub(crate) mod probe;
pub(crate) mod run;
pub(crate) mod scaling;
#[cfg_attr(not(feature = "bench"), allow(dead_code))]
pub(crate) mod sweep;
pub(crate) mod timeline;

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::group::BenchId;
use crate::group::Workloads;
use crate::measure::timeline::Timeline;
use crate::strategy::{Observer, Options, Strategies, Strategy, verify};
use crate::workload::Job;

/// Something that can be timed on demand: `sample(iters)` runs `iters` iterations and returns
/// their total wall time.
pub trait Arm {
    /// What is measured, for messages and tables (e.g. a bench id).
    fn label(&self) -> String;

    /// Runs `iters` iterations (at least 1) and returns their total wall time. Every output is
    /// checked outside the timed region; a wrong one is an error, never a time.
    fn sample(&mut self, iters: u64) -> Result<Duration>;
}

/// Times one map of `jobs` on `pool` and checks its outputs outside the timed region; a wrong
/// one is [`Error::WrongResults`] naming `label`. With `on_start`, each job is timed and
/// announced as it starts ([`Strategy::map_observed`]); without, nothing but the results is
/// recorded ([`Strategy::map_untimed`]: the benchmarks' path, so the harness's bookkeeping is
/// not what is measured). Returns the map's wall time and its outcomes. Every timed map of
/// poolscale goes through here.
pub fn timed_map(
    pool: &mut dyn Strategy,
    jobs: &[Job],
    label: &str,
    on_start: Option<Observer<'_>>,
) -> Result<(Duration, Vec<crate::strategy::Outcome>)> {
    let t = Instant::now();
    let out = match on_start {
        Some(tell) => pool.map_observed(jobs, tell),
        None => pool.map_untimed(jobs),
    };
    let wall = t.elapsed();
    let out = out?;
    verify(jobs, &out, pool.workers()).map_err(|detail| Error::WrongResults {
        id: label.to_string(),
        detail,
    })?;
    Ok((wall, out))
}

/// One benchmark ready to be timed: its jobs built and, unless the group times start-up, its
/// pool started.
pub struct Prepared {
    label: String,
    /// Time the wait until the one job starts on an idle pool, not the map.
    wakeup: bool,
    usage: crate::measure::cpu::Usage,
    cancel: crate::platform::interrupt::Cancel,
    workers: usize,
    jobs: Vec<Job>,
    pool: Pool,
}

enum Pool {
    /// Started once, outside the timed region; every sample maps on it.
    Started(Box<dyn Strategy>),
    /// Start-up is what is measured: each iteration starts, maps and stops a pool, all timed.
    PerIteration(crate::strategy::Entry, Options),
}

impl Prepared {
    /// Builds the jobs of `id` and starts its pool (outside any timed region), for a built-in
    /// strategy.
    pub fn start(id: BenchId, workloads: &Workloads, options: &Options) -> Result<Prepared> {
        Prepared::start_in(&Strategies::builtin(), id, workloads, options)
    }

    /// [`Prepared::start`] for a strategy of `suite` (built into poolscale or not).
    pub fn start_in(
        suite: &Strategies,
        id: BenchId,
        workloads: &Workloads,
        options: &Options,
    ) -> Result<Prepared> {
        let entry = suite.entry(id.strategy)?;
        let pool = if id.group.times_startup() {
            Pool::PerIteration(entry.clone(), options.clone())
        } else {
            Pool::Started(entry.start(id.workers, options)?)
        };
        Ok(Prepared {
            wakeup: id.group.times_wakeup(),
            usage: Default::default(),
            label: id.to_string(),
            cancel: options.cancel.clone(),
            workers: id.workers,
            jobs: id.group.jobs(workloads, id.workers),
            pool,
        })
    }

    /// A pool started elsewhere (any [`Strategy`], including one defined outside this crate)
    /// mapping `jobs`; `label` names it in errors and tables.
    pub fn with_pool(
        label: impl Into<String>,
        pool: Box<dyn Strategy>,
        jobs: Vec<Job>,
    ) -> Prepared {
        Prepared {
            wakeup: false,
            usage: Default::default(),
            label: label.into(),
            cancel: crate::platform::interrupt::Cancel::default(),
            workers: pool.workers(),
            jobs,
            pool: Pool::Started(pool),
        }
    }

    /// Wall and CPU time over every [`Arm::sample`] window so far (see [`crate::measure::cpu`]).
    pub fn usage(&self) -> crate::measure::cpu::Usage {
        self.usage
    }

    /// Runs one more map (untimed by any benchmark) and returns it as a [`Timeline`] titled
    /// with this benchmark's label, its outputs checked. A group that times start-up starts a
    /// pool for it.
    pub fn timeline(&mut self) -> Result<Timeline> {
        let mut fresh;
        let pool: &mut dyn Strategy = match &mut self.pool {
            Pool::Started(pool) => pool.as_mut(),
            Pool::PerIteration(kind, options) => {
                fresh = kind.start(self.workers, options)?;
                fresh.as_mut()
            }
        };
        trace(pool, &self.jobs, &self.label)
    }
}

/// Runs one map of `jobs` on `pool`, recording its timeline (with the strategy's lock holds),
/// its outputs checked like [`timed_map`]'s.
pub fn trace(pool: &mut dyn Strategy, jobs: &[Job], label: &str) -> Result<Timeline> {
    let t = Instant::now();
    let (out, holds) = pool.map_traced(jobs)?;
    let wall = t.elapsed();
    verify(jobs, &out, pool.workers()).map_err(|detail| Error::WrongResults {
        id: label.to_string(),
        detail,
    })?;
    Ok(Timeline::new(
        label,
        pool.name(),
        pool.workers(),
        wall,
        out,
        holds,
    ))
}

impl Arm for Prepared {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn sample(&mut self, iters: u64) -> Result<Duration> {
        let pids = match &self.pool {
            Pool::Started(pool) => pool.worker_pids(),
            Pool::PerIteration(..) => Vec::new(),
        };
        let before = crate::measure::cpu::Snapshot::take(&pids);
        let mut total = Duration::ZERO;
        for _ in 0..iters.max(1) {
            self.cancel.check()?;
            total += match &mut self.pool {
                Pool::Started(pool) if self.wakeup => {
                    // Rest, so the pool goes idle; then the time until the job starts.
                    std::thread::sleep(crate::group::WAKEUP_IDLE);
                    let (_, out) =
                        timed_map(pool.as_mut(), &self.jobs, &self.label, Some(&|_| {}))?;
                    Duration::from_nanos(out.first().map_or(0, |o| o.started_ns))
                }
                Pool::Started(pool) => timed_map(pool.as_mut(), &self.jobs, &self.label, None)?.0,
                // Start-up is what is measured: start, map and stop are all timed.
                Pool::PerIteration(kind, options) => {
                    let t = Instant::now();
                    let out = kind
                        .start(self.workers, options)
                        .and_then(|mut pool| pool.map(&self.jobs));
                    let elapsed = t.elapsed();
                    verify(&self.jobs, &out?, self.workers).map_err(|detail| {
                        Error::WrongResults {
                            id: self.label.clone(),
                            detail,
                        }
                    })?;
                    elapsed
                }
            };
        }
        let (wall, cpu) = crate::measure::cpu::Snapshot::take(&pids).since(&before);
        self.usage.add(iters.max(1), wall, cpu);
        Ok(total)
    }
}
