//! `advise`: the engineer's decision for one workload. Given the work per task and the number of
//! tasks (or a workload the suite registered), which strategy and worker count is fastest on this
//! machine, with what expected time, and what comes second?
//!
//! Two ways to answer, the same shape of answer ([`Advice`]):
//!
//! - **From the latest break-even sweep** ([`from_sweep`]): the sweep of [`crate::analysis::breakeven`]
//!   measured every strategy's time over `sequential`'s at ten task sizes, paired; the answer
//!   reads each ratio at the task size asked for, interpolated on log scales between the two
//!   measured sizes around it (its interval from theirs), and scales `sequential`'s time (the
//!   tasks × the work per task) by it. Instant; it answers only what the sweep covers (the task
//!   size within its sizes, the worker counts it measured, enough work for a map's fixed costs
//!   to be as small a share as in the sweep's maps, a machine with its core count).
//! - **Measured on the spot** ([`advise`]): a map of the workload under every strategy of the suite
//!   at each worker count, and `sequential`'s, all sampled once a round in alternating order
//!   ([`crate::measure::interleave`]), each read at its fastest twentieth over the same rounds with an
//!   interval from resampling them ([`crate::stats::ArmQuantiles`]): the estimator of the report's
//!   paired ratios. A workload whose map would take long is measured on fewer tasks (enough for
//!   every worker count to get several) and its times scaled to the whole.
//!
//! [`check`] then runs the workload under the top two answers and `sequential`, interleaved, and
//! says whether the fastest is faster than the runner-up in the same rounds.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::measure::interleave::{Plan, Rounds};
use crate::measure::sweep::{
    SizePoint, Sweep, calibrate, every_arm, sample_maps, sequential_entry, usable,
};
use crate::measure::{Arm, Prepared};
use crate::stats::{ArmQuantiles, Estimate};
use crate::strategy::{Entry, Options, Strategies, StrategyKind, StrategyName};
use crate::workload::Job;

/// What to run: tasks of countdown work of one size, or a workload the suite registered.
#[derive(Clone, Debug, PartialEq)]
pub enum Question {
    /// `tasks` countdown tasks, each `task` of work on one core.
    Countdown {
        /// Work per task (countdown decrements worth this long on one core).
        task: Duration,
        /// Number of tasks.
        tasks: usize,
    },
    /// `tasks` jobs of a workload registered with [`crate::workload::register`], each
    /// `run(a, b)`.
    Registered {
        /// Its name, as registered.
        name: String,
        /// Number of tasks.
        tasks: usize,
        /// Its first argument.
        a: u64,
        /// Its second argument.
        b: u64,
    },
}

impl Question {
    /// Number of tasks.
    pub fn tasks(&self) -> usize {
        match *self {
            Question::Countdown { tasks, .. } | Question::Registered { tasks, .. } => tasks,
        }
    }
}

/// What to advise on.
#[derive(Clone, Debug)]
pub struct AdviseConfig {
    /// The workload.
    pub question: Question,
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

/// Where an answer's figures come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// Measured now, paired.
    Measured {
        /// Tasks in each measured map (the times are scaled by `tasks / measured_tasks`).
        measured_tasks: usize,
        /// Countdown decrements per task (countdown tasks only).
        #[serde(skip_serializing_if = "Option::is_none")]
        decrements_per_task: Option<u64>,
        /// This machine's cost of one decrement, ns, measured first (countdown tasks only).
        #[serde(skip_serializing_if = "Option::is_none")]
        ns_per_decrement: Option<f64>,
        /// Interleaved rounds sampled.
        rounds: usize,
    },
    /// Read from the latest break-even sweep, interpolated between two of its sizes.
    Sweep {
        /// The bench run that measured it.
        run_id: Option<String>,
        /// When that run started (RFC 3339, UTC), where recorded.
        #[serde(skip_serializing_if = "Option::is_none")]
        date: Option<String>,
        /// The CPU it ran on.
        cpu: String,
        /// The measured task sizes around the one asked for, ns (equal where it was measured).
        between_ns: [f64; 2],
    },
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// The workload, in words (`10000 tasks of 5 µs`, `200 tasks of collatz(27, 0)`).
    pub workload: String,
    /// Work per task asked for, ns (countdown tasks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_ns: Option<f64>,
    /// Tasks asked for.
    pub tasks: usize,
    /// What one task took on one core (`sequential`'s map over its tasks, fastest twentieth),
    /// ns: the task size the advice is for.
    pub task_measured_ns: Option<Estimate>,
    /// Where the figures come from.
    pub source: Source,
    /// Every candidate, fastest first (`sequential` among them, at 1 worker).
    pub candidates: Vec<Candidate>,
    /// Whether the runner-up's interval overlaps the fastest's: the two tie.
    pub tie: bool,
    /// The fastest against the runner-up, measured afterwards (`--check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
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

/// The top two answers run again, interleaved with each other and with `sequential`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// The fastest's time over the runner-up's in the same rounds (below 1: the order holds).
    pub fastest_over_runner_up: Option<Estimate>,
    /// The fastest's time over `sequential`'s in the same rounds.
    pub fastest_vs_sequential: Option<Estimate>,
    /// The runner-up's time over `sequential`'s in the same rounds.
    pub runner_up_vs_sequential: Option<Estimate>,
    /// Rounds sampled.
    pub rounds: usize,
    /// What the rounds say of the order.
    pub verdict: CheckVerdict,
}

/// What a [`Check`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckVerdict {
    /// The fastest was faster, its whole interval below 1.
    Confirmed,
    /// The interval holds 1: the two are as fast as each other here.
    Tie,
    /// The runner-up was faster, the whole interval above 1.
    Reversed,
    /// Too few rounds for an interval.
    Undecided,
}

/// How long one measured map of `sequential` should take: long enough that dispatch and
/// wake-ups show as they do in the real workload, short enough for many rounds.
pub const MAP_TARGET: Duration = Duration::from_millis(30);

/// The tasks to measure: all of them, or fewer when the map would be long, but at least eight
/// per worker of the largest count (so the scaling of the map with tasks is linear by then).
pub fn measured_tasks(task: Duration, tasks: usize, max_workers: usize) -> usize {
    let per_map = (MAP_TARGET.as_nanos() / task.as_nanos().max(1)) as usize;
    per_map.max(8 * max_workers).clamp(1, tasks)
}

/// The maps one answer measures: the jobs of a map at a worker count (the same at every count),
/// how many of the workload's tasks they are, and the calibration of countdown tasks.
struct Maps {
    jobs: Vec<Job>,
    decrements: Option<u64>,
    ns_per_decrement: Option<f64>,
}

impl Maps {
    /// Calibrates (countdown tasks) or looks up (a registered workload) the jobs of `q`, a map
    /// measuring at most [`measured_tasks`] of them.
    fn of(q: &Question, seq: &Entry, options: &Options, max_workers: usize) -> Result<Maps> {
        crate::limits::tasks(q.tasks())?;
        match q {
            Question::Countdown { task, tasks } => {
                if task.is_zero() {
                    return Err(Error::invalid("task", "0s", "must take some time"));
                }
                let (decrements, ns) = calibrate(seq, options, task.as_nanos() as f64)?;
                let m = measured_tasks(*task, *tasks, max_workers);
                Ok(Maps {
                    jobs: vec![Job::Countdown { n: decrements }; m],
                    decrements: Some(decrements),
                    ns_per_decrement: Some(ns),
                })
            }
            Question::Registered { name, tasks, a, b } => {
                let (id, _) = crate::workload::registered_by_name(name)?;
                let job = Job::Custom {
                    workload: id,
                    a: *a,
                    b: *b,
                };
                // One job's time, at its fastest of five, sizes the measured map like a
                // countdown task's.
                let mut one = Prepared::with_pool("one task", seq.start(1, options)?, vec![job]);
                let fastest = (0..5)
                    .map(|_| one.sample(1))
                    .collect::<Result<Vec<Duration>>>()?
                    .into_iter()
                    .min()
                    .unwrap_or(Duration::from_nanos(1));
                let m = measured_tasks(fastest, *tasks, max_workers);
                Ok(Maps {
                    jobs: vec![job; m],
                    decrements: None,
                    ns_per_decrement: None,
                })
            }
        }
    }
}

/// `10000 tasks of 5 µs`, `200 tasks of collatz(27, 0)`.
fn describe(q: &Question) -> String {
    match q {
        Question::Countdown { task, tasks } => format!(
            "{tasks} tasks of {}",
            crate::units::fmt_ns(task.as_nanos() as f64)
        ),
        Question::Registered { name, tasks, a, b } => format!("{tasks} tasks of {name}({a}, {b})"),
    }
}

/// How long an answer samples: at least enough rounds for an interval, then until every ratio
/// is within ±2%, at most 60 rounds or `budget`.
fn plan(budget: Duration) -> Plan {
    Plan {
        budget,
        min_rounds: crate::stats::MIN_N,
        check_every: 2,
        max_rounds: 60,
        sample_time: Duration::ZERO,
    }
}

/// Measures the candidates of `cfg` on the spot and ranks them.
pub fn advise(cfg: &AdviseConfig) -> Result<Advice> {
    let seq_entry = sequential_entry(&cfg.strategies)?;
    let max_w = cfg.workers.iter().copied().max().unwrap_or(1);
    let maps = Maps::of(&cfg.question, &seq_entry, &cfg.options, max_w)?;
    let m = maps.jobs.len();
    let plan = plan(cfg.budget);
    let (labels, rounds) = sample_maps(
        &seq_entry,
        &every_arm(&cfg.strategies, &seq_entry, &cfg.workers),
        &cfg.options,
        &|_| maps.jobs.clone(),
        &plan,
    )?;
    let q = quantiles(&rounds, cfg.budget)?;
    let tasks = cfg.question.tasks();
    let candidates = rank(&q, &labels, tasks as f64 / m as f64);
    Ok(Advice {
        workload: describe(&cfg.question),
        task_ns: match cfg.question {
            Question::Countdown { task, .. } => Some(task.as_nanos() as f64),
            Question::Registered { .. } => None,
        },
        tasks,
        task_measured_ns: q.estimate(|r| r[0] / m as f64),
        source: Source::Measured {
            measured_tasks: m,
            decrements_per_task: maps.decrements,
            ns_per_decrement: maps.ns_per_decrement,
            rounds: rounds.samples.len(),
        },
        tie: ties(&candidates),
        candidates,
        check: None,
    })
}

/// The rounds' quantiles, or an error saying the budget was too short for an interval.
fn quantiles(rounds: &Rounds, budget: Duration) -> Result<ArmQuantiles> {
    ArmQuantiles::of(&rounds.samples).ok_or_else(|| {
        Error::invalid(
            "budget",
            humantime::format_duration(budget).to_string(),
            format!(
                "too short: {} rounds sampled, {} needed for an interval",
                rounds.samples.len(),
                crate::stats::MIN_N
            ),
        )
    })
}

/// Whether the runner-up's interval overlaps the fastest's.
fn ties(candidates: &[Candidate]) -> bool {
    match (candidates.first(), candidates.get(1)) {
        (Some(a), Some(b)) => b.expected_ns.lower <= a.expected_ns.upper,
        _ => false,
    }
}

/// Least work in the whole workload for the sweep to answer for it: half a sweep map's. Below
/// it a map's fixed costs (a wake-up per worker, tens of µs) weigh more than in the sweep's maps.
pub const SWEEP_LEAST_WORK: Duration = Duration::from_millis(10);

/// The answer for `tasks` countdown tasks of `task_ns` each at `workers` (and `sequential`),
/// read from `sweep` (measured on a machine with `cpu`, in the run `run_id` started at `date`):
/// each strategy's ratio to `sequential` interpolated on log scales between the two measured
/// sizes around `task_ns`. `Err(why)` names what the sweep does not cover; `cores` is this
/// machine's core count (a sweep of another is not read).
#[allow(clippy::too_many_arguments)]
pub fn from_sweep(
    sweep: &Sweep,
    cores: usize,
    task_ns: f64,
    tasks: usize,
    workers: &[usize],
    strategies: &[StrategyName],
    provenance: (Option<String>, Option<String>, String),
) -> std::result::Result<Advice, String> {
    if sweep.cores != cores {
        return Err(format!(
            "the sweep ran on {} cores, this machine has {cores}",
            sweep.cores
        ));
    }
    if let Some(w) = workers.iter().find(|w| !sweep.workers.contains(w)) {
        return Err(format!(
            "the sweep measured {} workers, not {w}",
            crate::units::and_list(&sweep.workers)
        ));
    }
    let max_w = workers.iter().copied().max().unwrap_or(1);
    if tasks < 8 * max_w {
        return Err(format!(
            "{tasks} tasks are fewer than eight per worker, where the rounds of tasks matter more than the sweep's maps show"
        ));
    }
    if task_ns * (tasks as f64) < SWEEP_LEAST_WORK.as_nanos() as f64 {
        return Err(format!(
            "the workload holds less than {} of work, where a map's fixed costs weigh more than in the sweep's maps",
            crate::units::fmt_ns(SWEEP_LEAST_WORK.as_nanos() as f64)
        ));
    }
    let points: Vec<(f64, &SizePoint)> = sweep
        .sizes
        .iter()
        .filter_map(|p| Some((p.task_ns.filter(usable)?.point, p)))
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Err("the sweep holds no usable size".into());
    };
    if task_ns < first.0 || task_ns > last.0 {
        return Err(format!(
            "{} is outside the sizes the sweep measured ({} to {})",
            crate::units::fmt_ns(task_ns),
            crate::units::fmt_ns(first.0),
            crate::units::fmt_ns(last.0)
        ));
    }
    let j = points
        .windows(2)
        .position(|w| w[0].0 <= task_ns && task_ns <= w[1].0)
        .unwrap_or(0);
    let (lo, hi) = if points.len() == 1 {
        (points[0], points[0])
    } else {
        (points[j], points[j + 1])
    };
    let t = if hi.0 > lo.0 {
        (task_ns.ln() - lo.0.ln()) / (hi.0.ln() - lo.0.ln())
    } else {
        0.0
    };
    let between = |a: f64, b: f64| (a.ln() + t * (b.ln() - a.ln())).exp();
    let ratio_at = |p: &SizePoint, s: StrategyName, w: usize| {
        p.arms
            .iter()
            .find(|a| a.strategy == s && a.workers == w)
            .and_then(|a| a.vs_sequential.filter(usable))
    };
    let sequential_ns = task_ns * tasks as f64;
    let mut candidates = vec![Candidate {
        strategy: StrategyKind::Sequential.as_str().into(),
        workers: 1,
        expected_ns: Estimate {
            point: sequential_ns,
            lower: sequential_ns,
            upper: sequential_ns,
        },
        vs_sequential: None,
    }];
    for &s in strategies {
        if s == StrategyKind::Sequential {
            continue;
        }
        for &w in workers {
            let (Some(a), Some(b)) = (ratio_at(lo.1, s, w), ratio_at(hi.1, s, w)) else {
                continue;
            };
            let r = Estimate {
                point: between(a.point, b.point),
                lower: between(a.lower, b.lower),
                upper: between(a.upper, b.upper),
            };
            candidates.push(Candidate {
                strategy: s.to_string(),
                workers: w,
                expected_ns: r.map(|v| v * sequential_ns),
                vs_sequential: Some(r),
            });
        }
    }
    if candidates.len() == 1 {
        return Err("the sweep measured none of this suite's strategies".into());
    }
    candidates.sort_by(|a, b| a.expected_ns.point.total_cmp(&b.expected_ns.point));
    let (run_id, date, cpu) = provenance;
    Ok(Advice {
        workload: format!("{tasks} tasks of {}", crate::units::fmt_ns(task_ns)),
        task_ns: Some(task_ns),
        tasks,
        task_measured_ns: None,
        source: Source::Sweep {
            run_id,
            date,
            cpu,
            between_ns: [lo.0, hi.0],
        },
        tie: ties(&candidates),
        candidates,
        check: None,
    })
}

/// Runs the workload of `cfg` under `advice`'s fastest and runner-up and under `sequential`,
/// interleaved, and says whether the fastest is faster than the runner-up in the same rounds.
/// `None` when the advice has fewer than two candidates.
pub fn check(cfg: &AdviseConfig, advice: &Advice) -> Result<Option<Check>> {
    let (Some(first), Some(second)) = (advice.fastest(), advice.runner_up()) else {
        return Ok(None);
    };
    let seq_entry = sequential_entry(&cfg.strategies)?;
    let entry_of = |c: &Candidate| -> Result<Option<(Entry, usize)>> {
        if c.strategy == seq_entry.name.as_str() {
            return Ok(None);
        }
        let e = cfg
            .strategies
            .entries()
            .iter()
            .find(|e| e.name.as_str() == c.strategy)
            .ok_or_else(|| Error::invalid("strategy", &c.strategy, "not in this suite"))?;
        Ok(Some((e.clone(), c.workers)))
    };
    let arms: Vec<(Entry, usize)> = [entry_of(first)?, entry_of(second)?]
        .into_iter()
        .flatten()
        .collect();
    // Arm index of each of the two: 0 is `sequential`.
    let index = |c: &Candidate| -> usize {
        arms.iter()
            .position(|(e, w)| e.name.as_str() == c.strategy && *w == c.workers)
            .map_or(0, |i| i + 1)
    };
    let (i1, i2) = (index(first), index(second));
    let max_w = arms.iter().map(|a| a.1).max().unwrap_or(1);
    let maps = Maps::of(&cfg.question, &seq_entry, &cfg.options, max_w)?;
    let plan = plan(cfg.budget);
    let (_, rounds) = sample_maps(
        &seq_entry,
        &arms,
        &cfg.options,
        &|_| maps.jobs.clone(),
        &plan,
    )?;
    let q = ArmQuantiles::of(&rounds.samples);
    let ratio = |i: usize, j: usize| q.as_ref().and_then(|q| q.estimate(|r| r[i] / r[j]));
    let over = ratio(i1, i2);
    let verdict = match over {
        None => CheckVerdict::Undecided,
        Some(e) if e.upper < 1.0 => CheckVerdict::Confirmed,
        Some(e) if e.lower > 1.0 => CheckVerdict::Reversed,
        Some(_) => CheckVerdict::Tie,
    };
    Ok(Some(Check {
        fastest_over_runner_up: over,
        fastest_vs_sequential: (i1 > 0).then(|| ratio(i1, 0)).flatten(),
        runner_up_vs_sequential: (i2 > 0).then(|| ratio(i2, 0)).flatten(),
        rounds: rounds.samples.len(),
        verdict,
    }))
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

    fn est(point: f64, half: f64) -> Estimate {
        Estimate::around(point, half)
    }

    /// A sweep at 1 µs and 10 µs: threads/2 at 0.8× then 0.55×, rayon/2 at 0.7× then 0.6×.
    fn sweep() -> Sweep {
        let point = |t: f64, threads: f64, rayon: f64| SizePoint {
            target_ns: t as u64,
            decrements: 1,
            tasks: 1,
            task_ns: Some(est(t, t * 0.01)),
            rounds: 8,
            arms: vec![
                crate::measure::sweep::SweepArm {
                    strategy: StrategyKind::Threads.into(),
                    workers: 2,
                    vs_sequential: Some(est(threads, 0.01)),
                },
                crate::measure::sweep::SweepArm {
                    strategy: StrategyKind::Rayon.into(),
                    workers: 2,
                    vs_sequential: Some(est(rayon, 0.01)),
                },
            ],
        };
        Sweep {
            run_id: Some("r1".into()),
            capacity: Vec::new(),
            cores: 2,
            workers: vec![2],
            sizes: vec![point(1_000.0, 0.8, 0.7), point(10_000.0, 0.55, 0.6)],
        }
    }

    fn names() -> Vec<StrategyName> {
        [
            StrategyKind::Sequential,
            StrategyKind::Threads,
            StrategyKind::Rayon,
        ]
        .map(Into::into)
        .to_vec()
    }

    fn provenance() -> (Option<String>, Option<String>, String) {
        (Some("r1".into()), None, "cpu".into())
    }

    #[test]
    fn the_sweep_answers_between_its_sizes_on_log_scales() {
        // 10,000 tasks at the geometric middle of 1 µs and 10 µs.
        let t = 10f64.powf(3.5);
        let a = from_sweep(&sweep(), 2, t, 10_000, &[2], &names(), provenance()).unwrap();
        let order: Vec<&str> = a.candidates.iter().map(|c| c.strategy.as_str()).collect();
        // threads: sqrt(0.8 × 0.55) = 0.663; rayon: sqrt(0.7 × 0.6) = 0.648.
        assert_eq!(order, ["rayon", "threads", "sequential"]);
        let r = a.candidates[0].vs_sequential.unwrap();
        assert!((r.point - (0.7f64 * 0.6).sqrt()).abs() < 1e-9, "{r:?}");
        assert!(r.lower < r.point && r.point < r.upper);
        let seq = t * 10_000.0;
        assert!((a.candidates[2].expected_ns.point - seq).abs() < 1e-6);
        assert!((a.candidates[0].expected_ns.point - seq * r.point).abs() < 1e-3);
        assert!(
            a.tie,
            "0.648 and 0.663, each ±0.01: their intervals overlap"
        );
        assert_eq!(
            a.source,
            Source::Sweep {
                run_id: Some("r1".into()),
                date: None,
                cpu: "cpu".into(),
                between_ns: [1_000.0, 10_000.0],
            }
        );
        // At a measured size the ratio is the measured one.
        let a = from_sweep(&sweep(), 2, 10_000.0, 10_000, &[2], &names(), provenance()).unwrap();
        let threads = a
            .candidates
            .iter()
            .find(|c| c.strategy == "threads")
            .unwrap();
        assert!((threads.vs_sequential.unwrap().point - 0.55).abs() < 1e-9);
    }

    #[test]
    fn the_sweep_refuses_what_it_does_not_cover() {
        let ask = |cores, task: f64, tasks, workers: &[usize]| {
            from_sweep(
                &sweep(),
                cores,
                task,
                tasks,
                workers,
                &names(),
                provenance(),
            )
            .unwrap_err()
        };
        assert!(ask(2, 100.0, 1_000_000, &[2]).contains("outside the sizes"));
        assert!(ask(2, 50_000.0, 10_000, &[2]).contains("outside the sizes"));
        assert!(ask(2, 5_000.0, 10_000, &[1, 2]).contains("not 1"));
        assert!(ask(16, 5_000.0, 10_000, &[2]).contains("16"));
        assert!(ask(2, 5_000.0, 10, &[2]).contains("eight per worker"));
        assert!(ask(2, 5_000.0, 100, &[2]).contains("less than"));
        let suite_of_its_own = vec![StrategyKind::Sequential.into()];
        assert!(
            from_sweep(
                &sweep(),
                2,
                5_000.0,
                10_000,
                &[2],
                &suite_of_its_own,
                provenance()
            )
            .unwrap_err()
            .contains("none of this suite")
        );
    }
}
