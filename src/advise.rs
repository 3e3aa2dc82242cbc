//! `advise`: the engineer's decision for one workload. Given the work per task and the number of
//! tasks, which strategy and worker count is fastest on this machine, with what expected time,
//! and what comes second?
//!
//! It measures on the spot, paired: a map of the workload (countdown tasks of the given size)
//! under every strategy of the suite at each worker count, and `sequential`'s, all sampled once a
//! round in alternating order ([`crate::interleave`]), each read at its fastest twentieth over the
//! same rounds with an interval from resampling them ([`crate::stats::ArmQuantiles`]): the
//! estimator of the report's paired ratios. A workload whose map would take long is measured on
//! fewer tasks (enough for every worker count to get several) and its times scaled to the whole.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::interleave::{Plan, Rounds, interleave};
use crate::measure::{Arm, Prepared};
use crate::stats::{ArmQuantiles, Estimate};
use crate::strategy::{Entry, Options, Strategies, StrategyKind, StrategyName};
use crate::workload::Job;

/// What to advise on.
#[derive(Clone, Debug)]
pub struct AdviseConfig {
    /// Work per task (countdown decrements worth this long on one core).
    pub task: Duration,
    /// Number of tasks.
    pub tasks: usize,
    /// Worker counts to try.
    pub workers: Vec<usize>,
    /// Wall time allowed for sampling (calibration and pool start-up not included).
    pub budget: Duration,
    /// The strategies to try (the suite the binary was built with).
    pub strategies: Strategies,
    /// Pool options.
    pub options: Options,
}

/// One way of running the workload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// The strategy.
    pub strategy: String,
    /// Its worker count.
    pub workers: usize,
    /// Expected wall time of the whole workload, ns (scaled from the tasks measured).
    pub expected_ns: Estimate,
    /// Its time over `sequential`'s in the same rounds (below 1: faster).
    pub vs_sequential: Option<Estimate>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// Work per task asked for, ns.
    pub task_ns: f64,
    /// Tasks asked for.
    pub tasks: usize,
    /// Tasks in each measured map (the times are scaled by `tasks / measured_tasks`).
    pub measured_tasks: usize,
    /// Countdown decrements per task.
    pub decrements_per_task: u64,
    /// This machine's cost of one decrement, ns (measured first).
    pub ns_per_decrement: f64,
    /// What one task took on one core in the measured rounds (`sequential`'s map over its tasks,
    /// fastest twentieth), ns: the task size the advice is for.
    pub task_measured_ns: Option<Estimate>,
    /// Interleaved rounds sampled.
    pub rounds: usize,
    /// Every candidate, fastest first (`sequential` among them, at 1 worker).
    pub candidates: Vec<Candidate>,
    /// Whether the runner-up's interval overlaps the fastest's: the two tie.
    pub tie: bool,
}

impl Advice {
    /// The fastest candidate.
    pub fn fastest(&self) -> Option<&Candidate> {
        self.candidates.first()
    }

    /// The runner-up.
    pub fn runner_up(&self) -> Option<&Candidate> {
        self.candidates.get(1)
    }
}

/// How long one measured map of `sequential` should take: long enough that dispatch and
/// wake-ups show as they do in the real workload, short enough for many rounds.
pub const MAP_TARGET: Duration = Duration::from_millis(30);

/// Decrements of the calibration burst (about a millisecond).
const CALIBRATION_DECREMENTS: u64 = 2_000_000;

/// The tasks to measure: all of them, or fewer when the map would be long, but at least eight
/// per worker of the largest count (so the scaling of the map with tasks is linear by then).
pub fn measured_tasks(task: Duration, tasks: usize, max_workers: usize) -> usize {
    let per_map = (MAP_TARGET.as_nanos() / task.as_nanos().max(1)) as usize;
    per_map.max(8 * max_workers).clamp(1, tasks)
}

/// Measures the candidates of `cfg` and ranks them.
pub fn advise(cfg: &AdviseConfig) -> Result<Advice> {
    crate::limits::tasks(cfg.tasks)?;
    if cfg.task.is_zero() {
        return Err(Error::invalid("task", "0s", "must take some time"));
    }
    let seq_entry = sequential_entry(&cfg.strategies)?;
    let (decrements, ns_per_decrement) =
        calibrate(&seq_entry, &cfg.options, cfg.task.as_nanos() as f64)?;
    let max_w = cfg.workers.iter().copied().max().unwrap_or(1);
    let m = measured_tasks(cfg.task, cfg.tasks, max_w);
    let plan = Plan {
        budget: cfg.budget,
        min_rounds: crate::stats::MIN_N,
        check_every: 2,
        max_rounds: 60,
        sample_time: Duration::ZERO,
    };
    let (labels, rounds) = sample_maps(
        &cfg.strategies,
        &seq_entry,
        &cfg.options,
        &cfg.workers,
        &vec![Job::Countdown { n: decrements }; m],
        &plan,
    )?;
    let q = ArmQuantiles::of(&rounds.samples).ok_or_else(|| {
        Error::invalid(
            "budget",
            humantime::format_duration(cfg.budget).to_string(),
            format!(
                "too short: {} rounds sampled, {} needed for an interval",
                rounds.samples.len(),
                crate::stats::MIN_N
            ),
        )
    })?;
    let scale = cfg.tasks as f64 / m as f64;
    let candidates = rank(&q, &labels, scale);
    let task_measured_ns = q.estimate(|r| r[0] / m as f64);
    let tie = match (candidates.first(), candidates.get(1)) {
        (Some(a), Some(b)) => b.expected_ns.lower <= a.expected_ns.upper,
        _ => false,
    };
    Ok(Advice {
        task_ns: cfg.task.as_nanos() as f64,
        tasks: cfg.tasks,
        measured_tasks: m,
        decrements_per_task: decrements,
        ns_per_decrement,
        task_measured_ns,
        rounds: rounds.samples.len(),
        candidates,
        tie,
    })
}

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
        crate::interrupt::check()?;
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

/// Samples one map of `jobs` under `seq` (arm 0) and under every other strategy of the suite at
/// each of `workers` (arms 1.., named by the labels returned), once a round in alternating order,
/// until every arm's time over `sequential`'s is within ±2% or `plan` says stop.
pub fn sample_maps(
    strategies: &Strategies,
    seq: &Entry,
    options: &Options,
    workers: &[usize],
    jobs: &[Job],
    plan: &Plan,
) -> Result<(Vec<(StrategyName, usize)>, Rounds)> {
    let mut labels: Vec<(StrategyName, usize)> = vec![(seq.name, 1)];
    let mut arms: Vec<Prepared> = vec![Prepared::with_pool(
        "sequential",
        seq.start(1, options)?,
        jobs.to_vec(),
    )];
    for e in strategies.entries() {
        if e.name == seq.name {
            continue;
        }
        for &w in workers {
            crate::interrupt::check()?;
            arms.push(Prepared::with_pool(
                format!("{}/{w}", e.name),
                e.start(w, options)?,
                jobs.to_vec(),
            ));
            labels.push((e.name, w));
        }
    }
    let n = arms.len();
    let mut all: Vec<&mut dyn Arm> = arms.iter_mut().map(|a| a as &mut dyn Arm).collect();
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

/// Every arm's expected time (its quantile × `scale`) and its ratio to arm 0 (`sequential`),
/// fastest first.
fn rank(q: &ArmQuantiles, labels: &[(StrategyName, usize)], scale: f64) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = labels
        .iter()
        .enumerate()
        .filter_map(|(i, (name, w))| {
            let t = q.estimate(|r| r[i])?;
            Some(Candidate {
                strategy: name.to_string(),
                workers: *w,
                expected_ns: t.map(|v| v * scale),
                vs_sequential: (i > 0).then(|| q.estimate(|r| r[i] / r[0])).flatten(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.expected_ns.point.total_cmp(&b.expected_ns.point));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_workloads_are_measured_on_fewer_tasks_and_short_ones_whole() {
        // 5 µs tasks: 6,000 fit in 30 ms; 10,000 asked for.
        assert_eq!(measured_tasks(Duration::from_micros(5), 10_000, 3), 6_000);
        // 100 tasks of 5 µs: all of them.
        assert_eq!(measured_tasks(Duration::from_micros(5), 100, 3), 100);
        // 20 ms tasks: one fits in 30 ms, but every worker gets eight.
        assert_eq!(measured_tasks(Duration::from_millis(20), 10_000, 3), 24);
        assert_eq!(measured_tasks(Duration::from_millis(20), 5, 3), 5);
    }

    #[test]
    fn candidates_rank_by_expected_time_and_carry_their_ratio_to_sequential() {
        // Arms: sequential 100, threads/2 52, processes/2 60 (ns), steady over 8 rounds.
        let rounds: Vec<Vec<f64>> = (0..8).map(|_| vec![100.0, 52.0, 60.0]).collect();
        let q = ArmQuantiles::of(&rounds).unwrap();
        let labels = vec![
            (StrategyKind::Sequential.into(), 1),
            (StrategyKind::Threads.into(), 2),
            (StrategyKind::Processes.into(), 2),
        ];
        let c = rank(&q, &labels, 10.0);
        let order: Vec<&str> = c.iter().map(|c| c.strategy.as_str()).collect();
        assert_eq!(order, ["threads", "processes", "sequential"]);
        assert!((c[0].expected_ns.point - 520.0).abs() < 1e-9);
        assert!((c[0].vs_sequential.unwrap().point - 0.52).abs() < 1e-9);
        assert!(c[2].vs_sequential.is_none());
    }
}
