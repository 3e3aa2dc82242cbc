//! The eight bench groups, listed once: the benches iterate [`Group::ALL`] to measure, and
//! `report`/`gate` iterate it to read and model the results.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::strategy::StrategyName;
use crate::workload::{Job, countdown_jobs, square_jobs};

/// A bench group: one workload shape swept over strategies and worker counts. Written and read
/// everywhere (files, the sampling protocol, bench ids) as its stable name ([`Group::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// Program 1 as the seed runs it: each of `w` jobs counts the full count (weak scaling).
    CountdownWeak,
    /// One count split evenly over `w` jobs (strong scaling).
    CountdownStrong,
    /// Program 2: `tasks` jobs that nap then square.
    SquareSleep,
    /// A map of many zero-nap squares: the strategy's own cost per map and per task.
    Dispatch,
    /// The same with twenty times the tasks: with `dispatch`, the slope (marginal cost per task)
    /// and intercept (fixed cost per map).
    DispatchBulk,
    /// One zero-nap job handed to an idle, started pool: the time until it starts.
    Wakeup,
    /// Start a pool of `w` workers, run one trivial job per worker, stop it.
    Startup,
    /// A map of many countdown tasks of about a microsecond each: the task size near which pools
    /// break even with `sequential` (`crate::analysis::breakeven`), where a pool that got dearer per task
    /// loses its advantage first.
    BreakEven,
}

/// The knobs that shape the jobs of every group: what one measured map runs. Sent to a sampling
/// side as is (see `crate::gate::sampling`), recorded in the settings file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workloads {
    /// countdown decrements per job (countdown_weak) or in all (countdown_strong).
    pub count: u64,
    /// square_sleep's nap, in nanoseconds.
    pub nap_ns: u64,
    /// square_sleep's task count.
    pub tasks: usize,
    /// dispatch's task count.
    pub dispatch_tasks: usize,
}

impl Workloads {
    /// square_sleep's nap (kept in nanoseconds in files and on the wire).
    pub fn nap(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.nap_ns)
    }

    /// Checks every knob against the bounds of [`crate::limits`] (for values read from a file or a
    /// pipe rather than parsed from text).
    pub fn validate(&self) -> crate::error::Result<Workloads> {
        if self.count > crate::limits::MAX_COUNT {
            return Err(crate::error::Error::invalid(
                "count",
                self.count,
                format!("must be at most {}", crate::limits::MAX_COUNT),
            ));
        }
        if self.nap_ns > crate::limits::MAX_NAP.as_nanos() as u64 {
            return Err(crate::error::Error::invalid(
                "nap",
                self.nap_ns,
                "must be at most 1h",
            ));
        }
        crate::limits::tasks(self.tasks)?;
        crate::limits::tasks(self.dispatch_tasks)?;
        Ok(*self)
    }
}

/// How long a pool rests before each `wakeup` job: long enough for rayon's threads to stop
/// spinning and sleep, as they would between bursts.
pub const WAKEUP_IDLE: std::time::Duration = std::time::Duration::from_millis(1);

/// `dispatch_bulk`'s task count: twenty times `dispatch`'s, at most
/// [`crate::limits::MAX_TASKS`] (or twice `dispatch`'s, if that is more).
pub const fn bulk_tasks(dispatch_tasks: usize) -> usize {
    let twice = dispatch_tasks.saturating_mul(2);
    let cap = if crate::limits::MAX_TASKS > twice {
        crate::limits::MAX_TASKS
    } else {
        twice
    };
    let bulk = dispatch_tasks.saturating_mul(20);
    if bulk < cap { bulk } else { cap }
}

/// How the ideal time of a group depends on the worker count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Work grows with `w`: `max(t1, w·t1 / cores)` for a preemptive strategy (see
    /// [`ideal_ns`] for the serial and queue-of-jobs cases).
    Weak,
    /// Fixed work divided: `t1 / min(w, cores)` for a preemptive strategy.
    Strong,
    /// `ceil(tasks / w) × nap`: latency-bound rounds.
    Rounds,
    /// No ideal; report a per-unit cost instead (per task, per worker).
    PerUnit,
}

/// A group reported per unit (per task, per worker) instead of against a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerUnit {
    /// The unit, e.g. `task`.
    pub noun: &'static str,
    /// The chart's axis label.
    pub axis: &'static str,
    /// One sentence for the report: how the per-unit number is derived.
    pub note: &'static str,
}

/// What one map of a group runs.
#[derive(Clone, Copy, Debug)]
pub enum Jobs {
    /// `w` countdowns of the full count each (weak scaling).
    CountdownEach,
    /// One count split evenly over `w` countdowns (strong scaling).
    CountdownSplit,
    /// `tasks` squares, each after the nap.
    NappingSquares,
    /// Zero-nap squares: this many for the knobs and `w`.
    Squares(fn(&Workloads, usize) -> usize),
    /// Countdowns of [`BREAK_EVEN_DECREMENTS`] each: this many for the knobs and `w`.
    SmallCountdowns(fn(&Workloads, usize) -> usize),
}

/// What a group's measurement times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timed {
    /// One map of a started pool.
    Map,
    /// Starting a pool, one map, stopping it.
    StartMapStop,
    /// The wait until one job starts on a pool left idle for [`WAKEUP_IDLE`].
    WakeUp,
}

/// A group's facts: one row of [`Group::spec`]'s table. Modelling reads `model`, the bench
/// reads `jobs` and `timed`, the report reads `per_unit`; the gate's policy, the report's prose
/// and the bench's scheduling live with them, not here.
#[derive(Clone, Copy, Debug)]
pub struct GroupSpec {
    /// The group.
    pub group: Group,
    /// The stable snake_case name (the first part of a bench id).
    pub name: &'static str,
    /// What one map runs.
    pub jobs: Jobs,
    /// What is timed.
    pub timed: Timed,
    /// How the ideal time depends on the worker count.
    pub model: Model,
    /// Whether it needs a pool of workers (`sequential` has none to start or wake).
    pub needs_pool: bool,
    /// How it is reported per unit, for a [`Model::PerUnit`] group.
    pub per_unit: Option<PerUnit>,
}

const fn squares_dispatch(s: &Workloads, _: usize) -> usize {
    s.dispatch_tasks
}

const fn squares_bulk(s: &Workloads, _: usize) -> usize {
    bulk_tasks(s.dispatch_tasks)
}

const fn squares_one(_: &Workloads, _: usize) -> usize {
    1
}

const fn squares_per_worker(_: &Workloads, workers: usize) -> usize {
    workers
}

/// Countdown decrements in each `breakeven` task: about a microsecond of work (0.3 to 0.7 ns a
/// decrement on the CPUs measured), just above where the pools break even with `sequential` on
/// 2 cores (70 to 320 ns) and where a cost per task weighs most while a pool still pays off.
/// Fixed, not calibrated, so that two builds and two runs count the same work.
pub const BREAK_EVEN_DECREMENTS: u64 = 3_000;

/// `breakeven`'s task count: ten times `dispatch`'s (10,000 by default: 10 to 20 ms of work).
const fn small_countdowns(s: &Workloads, _: usize) -> usize {
    s.dispatch_tasks.saturating_mul(10)
}

const PER_TASK: PerUnit = PerUnit {
    noun: "task",
    axis: "time per task (µs)",
    note: "Per task: the median divided by the task count (fixed costs included; \
           see the dispatch costs below for the marginal cost).",
};

/// Every group's facts, in report order: adding a group is a variant and a row here (and its
/// heading sentence in the report).
const SPECS: [GroupSpec; 8] = [
    GroupSpec {
        group: Group::CountdownWeak,
        name: "countdown_weak",
        jobs: Jobs::CountdownEach,
        timed: Timed::Map,
        model: Model::Weak,
        needs_pool: false,
        per_unit: None,
    },
    GroupSpec {
        group: Group::CountdownStrong,
        name: "countdown_strong",
        jobs: Jobs::CountdownSplit,
        timed: Timed::Map,
        model: Model::Strong,
        needs_pool: false,
        per_unit: None,
    },
    GroupSpec {
        group: Group::SquareSleep,
        name: "square_sleep",
        jobs: Jobs::NappingSquares,
        timed: Timed::Map,
        model: Model::Rounds,
        needs_pool: false,
        per_unit: None,
    },
    GroupSpec {
        group: Group::Dispatch,
        name: "dispatch",
        jobs: Jobs::Squares(squares_dispatch),
        timed: Timed::Map,
        model: Model::PerUnit,
        needs_pool: false,
        per_unit: Some(PER_TASK),
    },
    GroupSpec {
        group: Group::DispatchBulk,
        name: "dispatch_bulk",
        jobs: Jobs::Squares(squares_bulk),
        timed: Timed::Map,
        model: Model::PerUnit,
        needs_pool: false,
        per_unit: Some(PER_TASK),
    },
    GroupSpec {
        group: Group::Wakeup,
        name: "wakeup",
        jobs: Jobs::Squares(squares_one),
        timed: Timed::WakeUp,
        model: Model::PerUnit,
        needs_pool: true,
        per_unit: Some(PerUnit {
            noun: "wake-up",
            axis: "wake-up latency (µs)",
            note: "Per wake-up: from the map's call until its one job starts (for `processes`, \
                   until the parent reads the worker's notice).",
        }),
    },
    GroupSpec {
        group: Group::Startup,
        name: "startup",
        jobs: Jobs::Squares(squares_per_worker),
        timed: Timed::StartMapStop,
        model: Model::PerUnit,
        needs_pool: true,
        per_unit: Some(PerUnit {
            noun: "worker",
            axis: "start-up per worker (µs)",
            note: "Per worker: the median divided by w. `processes` forks its workers from a \
                   fork server started once per process (`multiprocessing`'s forkserver); \
                   each exec'd instead (`spawn`, `poolscale run --start spawn`) costs about \
                   2 to 3 times as much here (`cargo run --release --example start_methods`).",
        }),
    },
    GroupSpec {
        group: Group::BreakEven,
        name: "breakeven",
        jobs: Jobs::SmallCountdowns(small_countdowns),
        timed: Timed::Map,
        model: Model::PerUnit,
        needs_pool: false,
        per_unit: Some(PerUnit {
            noun: "task",
            axis: "time per task (µs)",
            note: "Per task: the median divided by the task count, the work of one task included \
                   (compare `sequential`'s: a pool below it pays off at this task size).",
        }),
    },
];

// The table is in `Group` order, so a group finds its row by its index; checked when compiling.
const _: () = {
    let mut i = 0;
    while i < SPECS.len() {
        assert!(SPECS[i].group as usize == i);
        i += 1;
    }
};

impl Group {
    /// Every group, in report order.
    pub const ALL: [Group; 8] = {
        let mut all = [Group::CountdownWeak; 8];
        let mut i = 0;
        while i < SPECS.len() {
            all[i] = SPECS[i].group;
            i += 1;
        }
        all
    };

    /// The group's facts.
    pub fn spec(self) -> &'static GroupSpec {
        &SPECS[self as usize]
    }

    /// The stable snake_case name (the first part of a bench id).
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The built-in strategies measured in this group (the tests' sweeps).
    #[cfg(test)]
    pub fn strategies(self) -> Vec<crate::strategy::StrategyKind> {
        crate::strategy::StrategyKind::ALL
            .into_iter()
            .filter(|k| self.measures(k.info()))
            .collect()
    }

    /// Whether this group measures a strategy with these facts (`startup` and `wakeup` need a
    /// pool of workers: not `sequential`).
    pub fn measures(self, info: &crate::strategy::StrategyInfo) -> bool {
        !self.spec().needs_pool || info.parallel
    }

    /// Every bench id of this group for `strategies` at `workers`.
    pub fn ids(self, strategies: &[StrategyName], workers: &[usize]) -> Vec<BenchId> {
        strategies
            .iter()
            .filter(|d| self.measures(&d.info()))
            .flat_map(|&d| workers.iter().map(move |&w| BenchId::new(self, d, w)))
            .collect()
    }

    /// The jobs one measured map runs with `workers` workers.
    pub fn jobs(self, s: &Workloads, workers: usize) -> Vec<Job> {
        match self.spec().jobs {
            Jobs::CountdownEach => countdown_jobs(s.count, workers, false),
            Jobs::CountdownSplit => countdown_jobs(s.count, workers, true),
            Jobs::NappingSquares => square_jobs(s.tasks, s.nap()),
            Jobs::Squares(n) => square_jobs(n(s, workers), std::time::Duration::ZERO),
            Jobs::SmallCountdowns(n) => vec![
                Job::Countdown {
                    n: BREAK_EVEN_DECREMENTS
                };
                n(s, workers)
            ],
        }
    }

    /// Whether starting the pool is part of what is timed.
    pub fn times_startup(self) -> bool {
        self.spec().timed == Timed::StartMapStop
    }

    /// Whether what is timed is the wait until a job starts on an idle pool (after
    /// [`WAKEUP_IDLE`] of rest), not a whole map.
    pub fn times_wakeup(self) -> bool {
        self.spec().timed == Timed::WakeUp
    }

    /// Whether one routine is long (tens of milliseconds or more): flat sampling. The groups
    /// judged against a model are; those reported per unit are not.
    pub fn is_long(self) -> bool {
        self.model() != Model::PerUnit
    }

    /// The group's scaling model.
    pub fn model(self) -> Model {
        self.spec().model
    }

    /// How the group is reported per unit, if it is ([`Model::PerUnit`] groups).
    pub fn per_unit(self) -> Option<PerUnit> {
        self.spec().per_unit
    }

    /// How many units one iteration of this group has at `workers` workers (its jobs: tasks,
    /// the one woken job, one per worker; see [`Group::per_unit`]); `None` for groups judged
    /// against a model.
    pub fn units(self, s: &Workloads, workers: usize) -> Option<f64> {
        match (self.spec().per_unit, self.spec().jobs) {
            (Some(_), Jobs::Squares(n) | Jobs::SmallCountdowns(n)) => Some(n(s, workers) as f64),
            _ => None,
        }
    }
}

/// The group's ideal time for a strategy with the facts `info` at `w` workers, given its 1-worker
/// time `t1` (ns): a true lower bound, so `measured / ideal` is at least 1 up to noise.
///
/// - CPU-bound groups use what the strategy declares. A strategy that does not compute in
///   parallel (`sequential`, `gil`) is the serial case: weak `w·t1`, strong `t1`. A preemptive one
///   (OS threads and processes are time-sliced) can spread `w` jobs over `c` cores: weak
///   `max(t1, w·t1/c)`, strong `t1 / min(w, c)`. One with queue-of-jobs semantics runs whole jobs
///   in rounds: weak `t1·ceil(w/c)`, strong `(t1/w)·ceil(w/c)`.
/// - `square_sleep` is latency-bound: a worker holds one job at a time, so `ceil(tasks/w)` naps for
///   a parallel strategy (the seed's Pool(3): 4 rounds), all naps for one that is not.
pub fn ideal_ns(
    group: Group,
    info: &crate::strategy::StrategyInfo,
    w: usize,
    t1: Option<f64>,
    cores: usize,
    workloads: &Workloads,
) -> Option<f64> {
    ideal_with_cores(group, info, w, t1, cores.max(1) as f64, workloads)
}

/// [`ideal_ns`] for a machine that gives `cores` cores' worth of computing, a fraction when it
/// is shared (what a run's capacity samples measured): CPU-bound ideals spread over `cores`, at
/// least one.
pub fn ideal_with_cores(
    group: Group,
    info: &crate::strategy::StrategyInfo,
    w: usize,
    t1: Option<f64>,
    cores: f64,
    workloads: &Workloads,
) -> Option<f64> {
    let c = if cores.is_finite() {
        cores.max(1.0)
    } else {
        1.0
    };
    let wf = w.max(1) as f64;
    let rounds = (wf / c).ceil();
    match group.model() {
        Model::Weak => t1.map(|t1| {
            if !info.computes_in_parallel {
                wf * t1
            } else if info.preemptive {
                t1.max(wf * t1 / c)
            } else {
                t1 * rounds
            }
        }),
        Model::Strong => t1.map(|t1| {
            if !info.computes_in_parallel {
                t1
            } else if info.preemptive {
                t1 / wf.min(c)
            } else {
                t1 / wf * rounds
            }
        }),
        Model::Rounds => {
            let w_eff = if info.parallel { w.max(1) } else { 1 };
            Some(workloads.tasks.div_ceil(w_eff) as f64 * workloads.nap_ns as f64)
        }
        Model::PerUnit => None,
    }
}

/// One benchmark's key, `group/strategy/workers`: the id Criterion stores it under, the gate's row
/// key, the sampling protocol's request, and the key of every record, row and observation. It is
/// written and read as that string everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BenchId {
    /// The group.
    pub group: Group,
    /// The strategy.
    pub strategy: StrategyName,
    /// The worker count (1 to [`crate::limits::MAX_WORKERS`]).
    pub workers: usize,
}

impl BenchId {
    /// A bench id.
    pub fn new(group: Group, strategy: impl Into<StrategyName>, workers: usize) -> BenchId {
        BenchId {
            group,
            strategy: strategy.into(),
            workers,
        }
    }

    /// The same group and strategy at one worker: the benchmark its speedup is held to.
    pub fn at_one(self) -> BenchId {
        BenchId { workers: 1, ..self }
    }
}

impl Serialize for BenchId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BenchId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for BenchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.group, self.strategy, self.workers)
    }
}

impl FromStr for BenchId {
    type Err = Error;

    /// Parses `group/strategy/workers`; the worker count is a bare decimal number within the
    /// CLI's bounds (`+2` and `02` are not the id of 2 workers).
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut parts = s.split('/');
        let (Some(g), Some(k), Some(w), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::invalid(
                "bench id",
                s,
                "expected group/strategy/workers, e.g. countdown_weak/threads/2",
            ));
        };
        if !crate::limits::is_bare_number(w) {
            return Err(Error::invalid(
                "bench id",
                s,
                "the worker count must be a bare number such as 2",
            ));
        }
        Ok(BenchId::new(
            g.parse()?,
            k.parse::<StrategyName>()?,
            crate::limits::parse_workers(w)?,
        ))
    }
}

impl Serialize for Group {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Group {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Group {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Group::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Group::ALL.iter().map(|g| g.as_str()).collect();
                Error::invalid("group", s, format!("expected one of {}", names.join(", ")))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_has_its_row_and_its_per_unit_count_is_its_job_count() {
        let s = crate::results::settings::Settings::defaults().workloads();
        for g in Group::ALL {
            assert_eq!(g.spec().group, g);
            assert_eq!(g.as_str().parse::<Group>().unwrap(), g);
            // Written as its name everywhere, and read back.
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, format!("\"{}\"", g.as_str()));
            assert_eq!(serde_json::from_str::<Group>(&json).unwrap(), g);
            for w in [1, 3, 8] {
                let jobs = g.jobs(&s, w).len() as f64;
                assert_eq!(g.units(&s, w), g.per_unit().map(|_| jobs), "{g} at {w}");
            }
        }
        assert_eq!(Group::Startup.jobs(&s, 5).len(), 5);
        assert_eq!(Group::Wakeup.jobs(&s, 5).len(), 1);
        assert_eq!(
            Group::DispatchBulk.jobs(&s, 2).len(),
            20 * Group::Dispatch.jobs(&s, 2).len()
        );
        assert!(Group::Wakeup.times_wakeup() && Group::Startup.times_startup());
        let long: Vec<Group> = Group::ALL.into_iter().filter(|g| g.is_long()).collect();
        assert_eq!(
            long,
            [
                Group::CountdownWeak,
                Group::CountdownStrong,
                Group::SquareSleep
            ]
        );
    }
}
