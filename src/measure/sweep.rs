//! The break-even sweep and the maps it samples: countdown tasks at log-spaced sizes
//! ([`SIZES_NS`], 30 ns to 1 ms of work per task), each map about [`MAP_TARGET`] of work in all,
//! under every strategy of the suite at 1 worker, the core count and one above, and under
//! `sequential`. At each size every arm is sampled once a round in alternating order and read at
//! its fastest twentieth over the same rounds ([`crate::stats::ArmQuantiles`], the estimator of
//! the report's paired ratios): each strategy's time over `sequential`'s at the same size is a
//! paired figure with a 95% interval. `crate::analysis::breakeven` reads the break-evens from it;
//! `crate::advise` reads it, and samples its own maps with [`calibrate`] and [`sample_maps`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::measure::interleave::{Plan, Rounds, interleave};
use crate::measure::{Arm, Prepared};
use crate::stats::{ArmQuantiles, Estimate};
use crate::strategy::{Entry, Options, Strategies, StrategyKind, StrategyName};
use crate::workload::Job;

/// The sweep's name: `cargo bench -- breakeven` runs it alone.
pub const NAME: &str = "breakeven";

/// Work per task of the sweep's sizes, ns on one core of the machine measured.
pub const SIZES_NS: [u64; 10] = [
    30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000,
];

/// Most tasks in one map: below about 100 ns per task the map holds less than [`MAP_TARGET`] of
/// work (a map of a million tiny tasks under `processes` would take a second).
pub const MAX_TASKS: usize = 200_000;

/// Work in one measured map (`sequential`'s time): long enough that dispatch and wake-ups show
/// as in a real workload, short enough for many rounds.
pub const MAP_TARGET: Duration = Duration::from_millis(20);

/// How long each size is sampled: at least `min_rounds`, then until every ratio is within ±2%,
/// at most `max_rounds` or `per_size`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Rounds before the first look.
    pub min_rounds: usize,
    /// Never more rounds than this.
    pub max_rounds: usize,
    /// Wall time per size (a round is never cut short).
    pub per_size: Duration,
}

/// A full run: about 3.5 s per size, 38 s in all on 2 cores.
pub const FULL: Budget = Budget {
    min_rounds: 8,
    max_rounds: 40,
    per_size: Duration::from_millis(3_500),
};

/// With Criterion's `--quick`.
pub const QUICK: Budget = Budget {
    min_rounds: 6,
    max_rounds: 12,
    per_size: Duration::from_millis(800),
};

impl Budget {
    /// About how long the sweep takes at this budget, s: each size's sampling, and about 0.3 s
    /// to calibrate it and start its pools.
    pub fn estimated_secs(&self) -> f64 {
        (self.per_size.as_secs_f64() + 0.3) * SIZES_NS.len() as f64
    }
}

/// The sweep's worker counts on a machine of `cores` logical cores: 1 (what a pool costs when it
/// cannot gain: `advise` reads it), the core count and one above (where a pool's workers
/// outnumber the cores).
pub fn worker_counts(cores: usize) -> Vec<usize> {
    let c = cores.clamp(1, crate::limits::MAX_WORKERS - 1);
    let mut w = vec![1, c, c + 1];
    w.dedup();
    w
}

/// Measures the sweep for `strategies` at [`worker_counts`]`(cores)`, at `sizes` (ns of work
/// per task; the benches pass [`SIZES_NS`]).
pub fn measure(
    strategies: &Strategies,
    options: &Options,
    cores: usize,
    sizes_ns: &[u64],
    budget: Budget,
) -> Result<Sweep> {
    // What the machine gives around the sweep, said beside its break-evens (a sample the
    // machine refuses leaves it unsaid, not the sweep undone).
    let start = crate::measure::probe::capacity(cores, "breakeven start", options).ok();
    let seq = sequential_entry(strategies)?;
    let workers = worker_counts(cores);
    let max_w = workers.iter().copied().max().unwrap_or(1);
    let mut sizes = Vec::with_capacity(sizes_ns.len());
    for &target_ns in sizes_ns {
        crate::platform::interrupt::check()?;
        let (decrements, _) = calibrate(&seq, options, target_ns as f64)?;
        // Enough tasks for MAP_TARGET of work (at most MAX_TASKS), and at least eight per worker.
        let tasks = ((MAP_TARGET.as_nanos() as u64 / target_ns.max(1)) as usize)
            .min(MAX_TASKS)
            .max(8 * max_w);
        let plan = Plan {
            budget: budget.per_size,
            min_rounds: budget.min_rounds,
            check_every: 2,
            max_rounds: budget.max_rounds,
            sample_time: Duration::ZERO,
        };
        let jobs = |_| vec![Job::Countdown { n: decrements }; tasks];
        let arms = every_arm(strategies, &seq, &workers);
        let (labels, rounds) = sample_maps(&seq, &arms, options, &jobs, &plan)?;
        let q = ArmQuantiles::of(&rounds.samples);
        let arms = labels
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, &(strategy, workers))| SweepArm {
                strategy,
                workers,
                vs_sequential: q.as_ref().and_then(|q| q.estimate(|r| r[i] / r[0])),
            })
            .collect();
        sizes.push(SizePoint {
            target_ns,
            decrements,
            tasks,
            task_ns: q.as_ref().and_then(|q| q.estimate(|r| r[0] / tasks as f64)),
            rounds: rounds.samples.len(),
            arms,
        });
    }
    let end = crate::measure::probe::capacity(cores, "breakeven end", options).ok();
    Ok(Sweep {
        run_id: None,
        cores,
        workers,
        sizes,
        capacity: start.into_iter().chain(end).collect(),
    })
}

/// What the break-even sweep measured (`crate::analysis::breakeven`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The run that measured it.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Logical cores of the machine measured (what the ideal speedups assume).
    pub cores: usize,
    /// Worker counts measured.
    pub workers: Vec<usize>,
    /// One entry per size, smallest first.
    pub sizes: Vec<SizePoint>,
    /// What the machine gave at the sweep's start and end (absent before poolscale 0.9): a
    /// machine that gave fewer cores than it has breaks even later.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity: Vec<crate::measure::probe::Capacity>,
}

/// Whether an estimate read from a file can stand on a log scale: finite, ordered, above zero
/// (a file another run or another version wrote may hold anything).
pub fn usable(e: &Estimate) -> bool {
    e.is_valid() && e.lower > 0.0
}

/// One task size of the sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizePoint {
    /// The work per task aimed at, ns.
    pub target_ns: u64,
    /// Countdown decrements per task (calibrated to `target_ns` here).
    pub decrements: u64,
    /// Tasks in each map.
    pub tasks: usize,
    /// What one task took in `sequential`'s map, ns: the size the ratios are plotted at.
    pub task_ns: Option<Estimate>,
    /// Interleaved rounds sampled.
    pub rounds: usize,
    /// Every strategy at every count.
    pub arms: Vec<SweepArm>,
}

/// One strategy at one worker count, at one size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepArm {
    /// The strategy.
    pub strategy: StrategyName,
    /// Worker count.
    pub workers: usize,
    /// Its map's time over `sequential`'s in the same rounds (below 1: it pays off).
    pub vs_sequential: Option<Estimate>,
}

impl Sweep {
    /// The cores' worth the machine gave around the sweep (the mean of its capacity samples, at
    /// least 1 and at most its logical cores); its logical cores where it was not sampled.
    pub fn cores_given(&self) -> f64 {
        let g: Vec<f64> = self
            .capacity
            .iter()
            .map(|c| c.given.point)
            .filter(|g| g.is_finite() && *g > 0.0)
            .collect();
        if g.is_empty() {
            return self.cores as f64;
        }
        (g.iter().sum::<f64>() / g.len() as f64).clamp(1.0, self.cores.max(1) as f64)
    }

    /// The fewest cores' worth the machine gave at the sweep's start or end, where sampled.
    pub fn lowest_given(&self) -> Option<f64> {
        self.capacity
            .iter()
            .map(|c| c.given.point)
            .filter(|g| g.is_finite() && *g > 0.0)
            .reduce(f64::min)
    }

    /// Whether any point at `workers` can be drawn (a task time and a ratio both usable).
    pub fn has_points_at(&self, workers: usize) -> bool {
        self.sizes.iter().any(|p| {
            p.task_ns.as_ref().is_some_and(usable)
                && p.arms
                    .iter()
                    .any(|a| a.workers == workers && a.vs_sequential.as_ref().is_some_and(usable))
        })
    }
}

/// Decrements of the calibration burst (about a millisecond).
const CALIBRATION_DECREMENTS: u64 = 2_000_000;

/// The suite's `sequential` (the built-in one where the suite has none): the baseline every
/// candidate is held to.
pub fn sequential_entry(strategies: &Strategies) -> Result<Entry> {
    Ok(match strategies.get(StrategyKind::Sequential.into()) {
        Some(e) => e.clone(),
        None => Strategies::builtin()
            .entry(StrategyKind::Sequential.into())?
            .clone(),
    })
}

/// The countdown decrements that take `target_ns` on one core here, and the cost of one
/// decrement, ns: a first guess from a burst of known length, then refined three times on about
/// a millisecond of tasks of that size, each time at the fastest twentieth of a few samples (the
/// machine's speed drifts; a neighbour only ever slows a sample).
pub fn calibrate(seq: &Entry, options: &Options, target_ns: f64) -> Result<(u64, f64)> {
    let fastest_twentieth = |arm: &mut Prepared, k: usize| -> Result<f64> {
        let mut t: Vec<f64> = (0..k)
            .map(|_| arm.sample(1).map(|d| d.as_nanos() as f64))
            .collect::<Result<_>>()?;
        Ok(crate::stats::quantile(&mut t, crate::stats::LOW_QUANTILE).unwrap_or(1.0))
    };
    let mut calibration = Prepared::with_pool(
        "calibration",
        seq.start(1, options)?,
        vec![Job::Countdown {
            n: CALIBRATION_DECREMENTS,
        }],
    );
    let mut ns_per_decrement =
        fastest_twentieth(&mut calibration, 15)? / CALIBRATION_DECREMENTS as f64;
    let mut decrements = ((target_ns / ns_per_decrement).round() as u64).max(1);
    let per_ms = ((1e6 / target_ns).ceil() as usize).clamp(1, 10_000);
    for _ in 0..3 {
        crate::platform::interrupt::check()?;
        let mut one = Prepared::with_pool(
            "calibration",
            seq.start(1, options)?,
            vec![Job::Countdown { n: decrements }; per_ms],
        );
        let t = fastest_twentieth(&mut one, 9)? / per_ms as f64;
        ns_per_decrement = t / decrements as f64;
        decrements = ((target_ns / ns_per_decrement).round() as u64).max(1);
    }
    Ok((decrements, ns_per_decrement))
}

/// Every strategy of `strategies` but `seq` at each of `workers`: the arms [`sample_maps`] holds
/// against `sequential`.
pub fn every_arm(strategies: &Strategies, seq: &Entry, workers: &[usize]) -> Vec<(Entry, usize)> {
    strategies
        .entries()
        .iter()
        .filter(|e| e.name != seq.name)
        .flat_map(|e| workers.iter().map(move |&w| (e.clone(), w)))
        .collect()
}

/// Samples one map under `seq` at 1 worker (arm 0) and under each of `arms` (arms 1.., named by
/// the labels returned), the jobs of a map at `w` workers being `jobs(w)`, once a round in
/// alternating order, until every arm's time over `sequential`'s is within ±2% or `plan` says
/// stop.
pub fn sample_maps(
    seq: &Entry,
    arms: &[(Entry, usize)],
    options: &Options,
    jobs: &dyn Fn(usize) -> Vec<Job>,
    plan: &Plan,
) -> Result<(Vec<(StrategyName, usize)>, Rounds)> {
    let mut labels: Vec<(StrategyName, usize)> = vec![(seq.name, 1)];
    let mut prepared: Vec<Prepared> = vec![Prepared::with_pool(
        "sequential",
        seq.start(1, options)?,
        jobs(1),
    )];
    for (e, w) in arms {
        crate::platform::interrupt::check()?;
        prepared.push(Prepared::with_pool(
            format!("{}/{w}", e.name),
            e.start(*w, options)?,
            jobs(*w),
        ));
        labels.push((e.name, *w));
    }
    let n = prepared.len();
    let mut all: Vec<&mut dyn Arm> = prepared.iter_mut().map(|a| a as &mut dyn Arm).collect();
    let rounds = interleave(
        &mut all,
        Some(vec![1; n]),
        plan,
        &mut fastrand::Rng::new(),
        |s| {
            ArmQuantiles::of(s).is_some_and(|q| {
                (1..n).all(|i| {
                    q.estimate(|r| r[i] / r[0])
                        .is_none_or(|v| crate::stats::half_width(&v) <= 0.02)
                })
            })
        },
    )?;
    Ok((labels, rounds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_measures_every_strategy_at_every_count_and_size_against_sequential() {
        let suite = Strategies::new()
            .with_builtin(StrategyKind::Sequential)
            .with_builtin(StrategyKind::Threads)
            .with_builtin(StrategyKind::Gil);
        let budget = Budget {
            min_rounds: 6,
            max_rounds: 6,
            per_size: Duration::from_secs(600),
        };
        let sweep = measure(&suite, &Options::default(), 2, &[1_000, 100_000], budget).unwrap();
        assert_eq!(sweep.workers, [1, 2, 3]);
        assert_eq!(sweep.sizes.len(), 2);
        for p in &sweep.sizes {
            assert_eq!(p.rounds, 6);
            assert!(p.decrements >= 1 && p.tasks >= 24, "{p:?}");
            assert!(p.task_ns.is_some_and(|t| t.is_valid()), "{p:?}");
            let arms: Vec<(&str, usize)> = p
                .arms
                .iter()
                .map(|a| (a.strategy.as_str(), a.workers))
                .collect();
            assert_eq!(
                arms,
                [
                    ("threads", 1),
                    ("threads", 2),
                    ("threads", 3),
                    ("gil", 1),
                    ("gil", 2),
                    ("gil", 3)
                ]
            );
            assert!(
                p.arms
                    .iter()
                    .all(|a| a.vs_sequential.is_some_and(|e| e.is_valid()))
            );
        }
        // A break-even per strategy at 2 and at 3 workers: none at 1, none for `sequential`.
        assert_eq!(
            crate::analysis::breakeven::BreakEven::of(&sweep, &|_, _| None).len(),
            4
        );
    }
}
