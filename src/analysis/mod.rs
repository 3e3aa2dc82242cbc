//! Stage 4, the analysis: the results on disk turned into what a report says, pure (no rendering,
//! no I/O beyond reading the results): [`fit`] (Amdahl, Gustafson and the USL over a curve),
//! [`breakeven`] (the task sizes where pools break even, from the sweep) and this module.
//!
//! May import: every stage below (`results`, `measure` for the types it recorded, `group`,
//! `strategy`, ...). Nothing here renders or measures.
//!
//! The analysis: Criterion's measurements turned into one [`BenchRecord`] per benchmark (speedup,
//! efficiency, the group's ideal time, measured/ideal, per-unit cost), gathered in a [`Report`].
//! Pure: no rendering here ([`crate::report`] renders every format from these records) and no
//! I/O beyond reading the data ([`load`], [`Report::load_json`]).

#[cfg_attr(not(feature = "bench"), allow(dead_code))]
pub(crate) mod breakeven;
pub(crate) mod fit;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::group::Workloads;
use crate::group::{BenchId, Group, Model, ideal_ns, ideal_with_cores};
use crate::results::data::{Dataset, Freshness};
use crate::results::observe::Observations;
use crate::results::settings::Settings;
use crate::stats::Estimate;
use crate::strategy::StrategyName;

/// One measured benchmark and what follows from it: the single source of every output format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchRecord {
    /// Bench id `group/strategy/workers`, the record's one key. Written as `id` with its three
    /// parts beside it (`group`, `strategy`, `workers`) for readers of `results.json`; read from
    /// `id` alone.
    #[serde(flatten, with = "id_with_parts")]
    pub id: BenchId,
    /// Median wall-clock time of one iteration, ns.
    pub median_ns: f64,
    /// Lower bound of the median's 95% confidence interval, ns.
    pub median_lower_ns: f64,
    /// Upper bound of the median's 95% confidence interval, ns.
    pub median_upper_ns: f64,
    /// Mean time of one iteration, ns.
    pub mean_ns: f64,
    /// Speedup over the same strategy at 1 worker (weak groups: `w × t1 / t`; others: `t1 / t`).
    /// Absent without a 1-worker measurement or where the group has no model.
    pub speedup: Option<f64>,
    /// Parallel efficiency, `speedup / w` (1.0 is perfect).
    pub efficiency: Option<f64>,
    /// The group's ideal time for this point, ns (see [`ideal_ns`]).
    pub ideal_ns: Option<f64>,
    /// `median_ns / ideal_ns`: 1.0 is ideal, 2.0 twice as slow as ideal.
    pub measured_over_ideal: Option<f64>,
    /// dispatch: time per task; startup: time per worker, ns.
    pub per_unit_ns: Option<f64>,
    /// What `per_unit_ns` is per: `task` or `worker`.
    pub per_unit: Option<String>,
    /// CPU time per iteration spent in user code by the process and the pool's workers, ns
    /// (absent when the benches observed none, e.g. a report of poolscale 0.2's results).
    #[serde(default)]
    pub cpu_user_ns: Option<f64>,
    /// CPU time per iteration spent in the kernel, ns.
    #[serde(default)]
    pub cpu_sys_ns: Option<f64>,
    /// CPU time over wall time across the measuring windows: the cores kept busy on average.
    #[serde(default)]
    pub cores_busy: Option<f64>,
    /// More workers than the machine's cores (a parallel strategy only): the OS time-slices them,
    /// and scaling fits leave the point out.
    #[serde(default)]
    pub oversubscribed: bool,
    /// The ideal time with the cores the machine actually gave during the run (its capacity
    /// samples' median) instead of its nominal cores, ns; absent when the run sampled none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideal_given_ns: Option<f64>,
    /// `median_ns / ideal_given_ns`: how far from ideal the strategy was with what was there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_over_ideal_given: Option<f64>,
    /// The bench run that measured it, when the report keeps results of several runs with the
    /// same settings (see [`Settings::earlier_runs`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The ratios measured paired in the same run ([`crate::measure::scaling`]), with their 95%
    /// intervals. When present, `speedup`, `efficiency`, `measured_over_ideal` and
    /// `measured_over_ideal_given` above are their points, and `from_medians` keeps what
    /// Criterion's medians (taken apart) would have said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<PairedRatios>,
    /// The same ratios from Criterion's medians, kept beside the paired ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_medians: Option<MedianRatios>,
}

/// A benchmark's ratios measured paired: each with its 95% interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PairedRatios {
    /// Speedup over the same strategy at 1 worker (unitless).
    pub speedup: Option<Estimate>,
    /// Efficiency, speedup / w.
    pub efficiency: Option<Estimate>,
    /// Time over the model's ideal on all the machine's cores.
    pub measured_over_ideal: Option<Estimate>,
    /// Time over the ideal on the cores the capacity probe was given in the same rounds.
    pub measured_over_ideal_given: Option<Estimate>,
    /// Cores' worth the probe was given at this worker count, in the same rounds.
    pub cores_given: Option<Estimate>,
    /// At 1 worker: time over `sequential`'s 1-worker time (the same work), interleaved.
    pub vs_sequential: Option<Estimate>,
    /// Interleaved rounds.
    pub rounds: usize,
}

/// A benchmark's ratios from Criterion's medians (measured at different moments).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MedianRatios {
    /// See [`BenchRecord::speedup`].
    pub speedup: Option<f64>,
    /// See [`BenchRecord::efficiency`].
    pub efficiency: Option<f64>,
    /// See [`BenchRecord::measured_over_ideal`].
    pub measured_over_ideal: Option<f64>,
    /// See [`BenchRecord::measured_over_ideal_given`].
    pub measured_over_ideal_given: Option<f64>,
}

/// How a record's key is written: `id` and, beside it, its three parts.
mod id_with_parts {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::group::{BenchId, Group};
    use crate::strategy::StrategyName;

    #[derive(Serialize)]
    struct Written {
        id: BenchId,
        group: Group,
        strategy: StrategyName,
        workers: usize,
    }

    #[derive(Deserialize)]
    struct Read {
        id: BenchId,
    }

    pub fn serialize<S: Serializer>(id: &BenchId, s: S) -> Result<S::Ok, S::Error> {
        Written {
            id: *id,
            group: id.group,
            strategy: id.strategy,
            workers: id.workers,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BenchId, D::Error> {
        Read::deserialize(d).map(|r| r.id)
    }
}

impl BenchRecord {
    /// Takes the ratios measured paired (`p`), keeping the medians' in `from_medians`.
    fn apply_paired(
        &mut self,
        p: &crate::measure::scaling::Paired,
        cores: usize,
        workloads: &Workloads,
    ) {
        let w = self.id.workers as f64;
        let inv = |e: Estimate| Estimate {
            point: 1.0 / e.point,
            lower: 1.0 / e.upper,
            upper: 1.0 / e.lower,
        };
        let scale = |e: Estimate, k: f64| e.map(|x| x * k);
        let mut r = PairedRatios {
            cores_given: p.cores_given,
            measured_over_ideal_given: p.over_ideal_given,
            vs_sequential: p.vs_sequential,
            rounds: p.rounds,
            ..PairedRatios::default()
        };
        if let Some(to_one) = p.to_one.filter(Estimate::is_valid) {
            let speedup = match self.id.group.model() {
                Model::Weak => Some(scale(inv(to_one), w)),
                Model::Strong | Model::Rounds => Some(inv(to_one)),
                Model::PerUnit => None,
            };
            r.speedup = speedup;
            r.efficiency = speedup.map(|s| scale(s, 1.0 / w));
            r.measured_over_ideal = ideal_ns(
                self.id.group,
                &self.id.strategy.info(),
                self.id.workers,
                Some(1.0),
                cores,
                workloads,
            )
            .filter(|i| *i > 0.0)
            .map(|i| scale(to_one, 1.0 / i));
        }
        self.from_medians = Some(MedianRatios {
            speedup: self.speedup,
            efficiency: self.efficiency,
            measured_over_ideal: self.measured_over_ideal,
            measured_over_ideal_given: self.measured_over_ideal_given,
        });
        if r.speedup.is_some() {
            self.speedup = r.speedup.map(|e| e.point);
            self.efficiency = r.efficiency.map(|e| e.point);
            self.measured_over_ideal = r.measured_over_ideal.map(|e| e.point);
        }
        if let Some(g) = r.measured_over_ideal_given {
            self.measured_over_ideal_given = Some(g.point);
        }
        self.paired = Some(r);
    }
}

/// The three dispatch numbers of one strategy at one worker count, each with its 95% interval:
/// what a busy pool pays per task, what every map pays once, and how long an idle pool takes to
/// start a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DispatchCost {
    /// The strategy.
    pub strategy: StrategyName,
    /// Worker count.
    pub workers: usize,
    /// Marginal cost per task, ns: the slope between `dispatch` and `dispatch_bulk`.
    pub per_task_ns: Option<Estimate>,
    /// Fixed cost per map, ns: the intercept (spawning scoped threads, collecting results...).
    pub per_map_ns: Option<Estimate>,
    /// Idle wake-up latency, ns (`wakeup`).
    pub wakeup_ns: Option<Estimate>,
}

/// Slope and intercept of the line through `(n1, a)` and `(n2, b)`, their intervals from the
/// two medians' intervals (half-widths added in quadrature, as for independent estimates).
pub fn slope_intercept(n1: f64, a: Estimate, n2: f64, b: Estimate) -> Option<(Estimate, Estimate)> {
    let dn = n2 - n1;
    if dn <= 0.0 || !a.is_valid() || !b.is_valid() {
        return None;
    }
    let half = |e: Estimate| (e.upper - e.lower) / 2.0;
    let slope = (b.point - a.point) / dn;
    let slope_half = half(a).hypot(half(b)) / dn;
    let intercept = (n2 * a.point - n1 * b.point) / dn;
    let intercept_half = (n2 * half(a)).hypot(n1 * half(b)) / dn;
    Some((
        Estimate {
            point: slope,
            lower: slope - slope_half,
            upper: slope + slope_half,
        },
        Estimate {
            point: intercept,
            lower: intercept - intercept_half,
            upper: intercept + intercept_half,
        },
    ))
}

/// The dispatch costs of every strategy and worker count measured in `dispatch`,
/// `dispatch_bulk` or `wakeup`.
fn dispatch_costs(data: &Dataset, workloads: &Workloads) -> Vec<DispatchCost> {
    let mut keys: Vec<(StrategyName, usize)> = data
        .measurements
        .iter()
        .filter(|m| {
            matches!(
                m.id.group,
                Group::Dispatch | Group::DispatchBulk | Group::Wakeup
            )
        })
        .map(|m| (m.id.strategy, m.id.workers))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let n1 = workloads.dispatch_tasks as f64;
    let n2 = crate::group::bulk_tasks(workloads.dispatch_tasks) as f64;
    keys.into_iter()
        .map(|(k, w)| {
            let line = match (
                data.get(BenchId::new(Group::Dispatch, k, w)),
                data.get(BenchId::new(Group::DispatchBulk, k, w)),
            ) {
                (Some(a), Some(b)) => slope_intercept(n1, a.median, n2, b.median),
                _ => None,
            };
            DispatchCost {
                strategy: k,
                workers: w,
                per_task_ns: line.map(|l| l.0),
                per_map_ns: line.map(|l| l.1),
                wakeup_ns: data
                    .get(BenchId::new(Group::Wakeup, k, w))
                    .map(|m| m.median),
            }
        })
        .collect()
}

/// A scaling fit of one strategy in one group, or why there is none (see [`crate::analysis::fit`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupFit {
    /// The group.
    pub group: Group,
    /// The strategy.
    pub strategy: StrategyName,
    /// The fit, or the reason there is none.
    pub outcome: crate::analysis::fit::FitOutcome,
}

/// The version of `results.json`'s layout this build writes. Version 1 (poolscale 0.1) had no
/// `schema_version`, `tool_version` or `stale`; version 2 no CPU times or timelines; they default
/// when absent.
/// Version 4 added the paired ratios (`paired`, `from_medians`): the ratio fields hold the
/// paired points where they were measured.
pub const REPORT_SCHEMA: u32 = 4;

fn schema_v1() -> u32 {
    1
}

/// A whole report: where the numbers came from, and one record per benchmark.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Layout version of this file (see `REPORT_SCHEMA`).
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    /// The poolscale version that wrote it (empty before 0.2).
    #[serde(default)]
    pub tool_version: String,
    /// Always `poolscale`; marks files this tool wrote.
    pub generator: String,
    /// The Criterion directory read.
    pub criterion_dir: PathBuf,
    /// `new` (the latest run) or a saved baseline's name.
    pub baseline: String,
    /// The benches' settings and machine (defaults for this machine if none were recorded).
    pub settings: Settings,
    /// Whether `settings` was recorded by the benches (false: assumed defaults).
    pub settings_recorded: bool,
    /// Cores the models assume (the benches' machine's logical cores).
    pub cores: usize,
    /// One record per benchmark found, sorted by group, strategy, workers.
    pub records: Vec<BenchRecord>,
    /// Bench ids expected from the worker list but absent.
    pub missing: Vec<BenchId>,
    /// Bench ids whose results predate the run read (left by an earlier run): not reported.
    #[serde(default)]
    pub stale: Vec<BenchId>,
    /// One map of each benchmark the report draws as a timeline (see
    /// `crate::results::observe::draws_timeline`), in bench id order.
    #[serde(default)]
    pub timelines: Vec<crate::measure::timeline::Timeline>,
    /// Amdahl and USL fits per group and parallel strategy, where the group has a speedup curve.
    #[serde(default)]
    pub fits: Vec<GroupFit>,
    /// Per task, per map and wake-up costs, per strategy and worker count.
    #[serde(default)]
    pub dispatch: Vec<DispatchCost>,
    /// The break-even sweep's ratios, where the run measured it ([`crate::analysis::breakeven`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven: Option<crate::measure::sweep::Sweep>,
    /// The break-even task sizes found in it, per strategy and worker count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub break_evens: Vec<crate::analysis::breakeven::BreakEven>,
    /// Where Criterion's own pages are, relative to the directory the report is written into
    /// (set by `crate::report::write_all` when both lie in one `target` directory; a committed
    /// report links to none, since `target/` is not committed).
    #[serde(skip)]
    pub criterion_link: Option<String>,
}

impl crate::results::store::Versioned for Report {
    const WHAT: &'static str = "results file";
    const SCHEMA: u32 = REPORT_SCHEMA;
    const MAX_BYTES: u64 = 64 << 20;
    fn schema_version(&self) -> u32 {
        self.schema_version
    }
    fn written_by(&self) -> Option<&str> {
        Some(&self.tool_version)
    }
}

/// Fits every parallel strategy's curve in every group that has one.
fn fits(data: &Dataset, cores: usize) -> Vec<GroupFit> {
    let mut out = Vec::new();
    for group in Group::ALL {
        let Ok(scaling) = crate::analysis::fit::Scaling::of(group) else {
            continue;
        };
        let mut strategies: Vec<StrategyName> = data
            .measurements
            .iter()
            .filter(|m| m.id.group == group)
            .map(|m| m.id.strategy)
            .collect();
        strategies.sort();
        strategies.dedup();
        for strategy in strategies {
            let points: Vec<crate::analysis::fit::Point> = data
                .measurements
                .iter()
                .filter(|m| m.id.group == group && m.id.strategy == strategy)
                .map(|m| crate::analysis::fit::Point {
                    workers: m.id.workers,
                    time: m.median,
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            let outcome = if strategy.is_parallel() {
                crate::analysis::fit::fit(&points, scaling, cores)
            } else {
                crate::analysis::fit::FitOutcome::NotFitted(
                    "runs on one thread whatever w: nothing to fit".into(),
                )
            };
            out.push(GroupFit {
                group,
                strategy,
                outcome,
            });
        }
    }
    out
}

impl BenchRecord {
    /// The median with its 95% interval, ns.
    pub fn median(&self) -> Estimate {
        Estimate {
            point: self.median_ns,
            lower: self.median_lower_ns,
            upper: self.median_upper_ns,
        }
    }
}

/// How much of a report to derive: a gate comparing medians needs no scaling fits (their
/// bootstrap is most of a report's analysis) and no break-evens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Everything a report shows.
    Full,
    /// The records only (medians, ratios, per-unit costs, dispatch costs): what the gate reads.
    Records,
}

impl Report {
    /// Derives the records from a dataset (and, at [`Depth::Full`], the fits and break-evens).
    pub fn build(
        data: &Dataset,
        settings: Option<Settings>,
        observations: Option<&Observations>,
        criterion_dir: &Path,
        baseline: &str,
        depth: Depth,
    ) -> Report {
        let settings_recorded = settings.is_some();
        let settings = settings.unwrap_or_else(|| {
            let mut s = Settings::defaults();
            s.workers = data.worker_counts();
            s
        });
        let cores = settings.machine.logical_cores.max(1);
        // What the machine gave (CPU-bound ideals only: a latency-bound group needs no cores).
        let given = settings.given().map(|g| g.median.min(cores as f64));
        let records = data
            .measurements
            .iter()
            .map(|m| {
                let t = m.median.point;
                let t1 = data.get(m.id.at_one()).map(|one| one.median.point);
                let w = m.id.workers as f64;
                let model = m.id.group.model();
                let speedup = match model {
                    Model::Weak => t1.map(|t1| w * t1 / t),
                    Model::Strong | Model::Rounds => t1.map(|t1| t1 / t),
                    Model::PerUnit => None,
                };
                let ideal = ideal_ns(
                    m.id.group,
                    &m.id.strategy.info(),
                    m.id.workers,
                    t1,
                    cores,
                    &settings.workloads(),
                );
                let ideal_given = given.and_then(|c| {
                    ideal_with_cores(
                        m.id.group,
                        &m.id.strategy.info(),
                        m.id.workers,
                        t1,
                        c,
                        &settings.workloads(),
                    )
                });
                let per_unit_ns =
                    m.id.group
                        .units(&settings.workloads(), m.id.workers)
                        .map(|n| t / n);
                let per_unit = m.id.group.per_unit().map(|u| u.noun);
                let usage = observations
                    .and_then(|o| o.benches.get(&m.id))
                    .map(|o| o.usage)
                    .filter(|u| u.iters > 0);
                let per_iter = |ns: u64| ns as f64 / usage.map_or(1, |u| u.iters) as f64;
                let mut record = BenchRecord {
                    oversubscribed: m.id.strategy.is_parallel() && m.id.workers > cores,
                    cpu_user_ns: usage.map(|u| per_iter(u.cpu.user_ns)),
                    cpu_sys_ns: usage.map(|u| per_iter(u.cpu.sys_ns)),
                    cores_busy: usage.and_then(|u| u.cores_busy()),
                    id: m.id,
                    median_ns: t,
                    median_lower_ns: m.median.lower,
                    median_upper_ns: m.median.upper,
                    mean_ns: m.mean.point,
                    speedup,
                    efficiency: speedup.map(|s| s / w),
                    ideal_ns: ideal,
                    measured_over_ideal: ideal.filter(|i| *i > 0.0).map(|i| t / i),
                    per_unit_ns,
                    per_unit: per_unit.map(String::from),
                    ideal_given_ns: ideal_given,
                    measured_over_ideal_given: ideal_given.filter(|i| *i > 0.0).map(|i| t / i),
                    // The run the benches recorded for it; for older data, the run that had
                    // started when its file was written.
                    run_id: observations
                        .and_then(|o| o.benches.get(&m.id))
                        .filter(|b| b.estimates.is_some())
                        .and_then(|b| b.run_id.clone())
                        .or_else(|| m.written.and_then(|w| settings.run_of(w))),
                    paired: None,
                    from_medians: None,
                };
                if let Some(p) = observations
                    .and_then(|o| o.benches.get(&m.id))
                    .and_then(|b| b.paired.as_ref())
                {
                    record.apply_paired(p, cores, &settings.workloads());
                }
                record
            })
            .collect();
        let timelines = observations
            .map(|o| {
                o.benches
                    .iter()
                    .filter(|(id, _)| data.measurements.iter().any(|m| &m.id == *id))
                    .filter_map(|(_, b)| b.timeline.clone())
                    .collect()
            })
            .unwrap_or_default();
        let fits = if depth == Depth::Full {
            fits(data, cores)
        } else {
            Vec::new()
        };
        let dispatch = dispatch_costs(data, &settings.workloads());
        // A sweep's strategies carry the facts the benches recorded (a suite's own included).
        let breakeven = observations
            .and_then(|o| o.breakeven.clone())
            .filter(|_| depth == Depth::Full)
            .map(|mut s| {
                for a in s.sizes.iter_mut().flat_map(|p| p.arms.iter_mut()) {
                    a.strategy = a.strategy.resolve(&settings.strategies);
                }
                s
            });
        let break_evens = breakeven
            .as_ref()
            .map(|s| {
                crate::analysis::breakeven::BreakEven::of(s, &|strategy, workers| {
                    let d = dispatch
                        .iter()
                        .find(|d| d.strategy == strategy && d.workers == workers)?;
                    Some(crate::analysis::breakeven::Costs {
                        per_task: d.per_task_ns?.point,
                        per_map: d.per_map_ns?.point,
                    })
                })
            })
            .unwrap_or_default();
        Report {
            breakeven,
            break_evens,
            criterion_link: None,
            dispatch,
            fits,
            timelines,
            schema_version: REPORT_SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            stale: data.stale.clone(),
            generator: "poolscale".into(),
            criterion_dir: criterion_dir.to_path_buf(),
            baseline: baseline.to_string(),
            missing: data.missing(&settings.strategies, &settings.workers),
            settings,
            settings_recorded,
            cores,
            records,
        }
    }

    /// The records of one group.
    pub fn group(&self, group: Group) -> impl Iterator<Item = &BenchRecord> {
        self.records.iter().filter(move |r| r.id.group == group)
    }

    /// One record, if present.
    pub fn get(&self, id: BenchId) -> Option<&BenchRecord> {
        self.records.iter().find(|r| r.id == id)
    }

    /// The groups with at least one record, in report order.
    pub fn groups(&self) -> Vec<Group> {
        let present: BTreeSet<Group> = self.records.iter().map(|r| r.id.group).collect();
        Group::ALL
            .into_iter()
            .filter(|g| present.contains(g))
            .collect()
    }

    /// The strategies with at least one record in `group`: built-ins first in
    /// [`crate::StrategyKind::ALL`] order, then any other by name.
    pub fn strategies(&self, group: Group) -> Vec<StrategyName> {
        let present: BTreeSet<StrategyName> = self.group(group).map(|r| r.id.strategy).collect();
        present.into_iter().collect()
    }

    /// How much identical work varied across the run in a CPU-bound group: every strategy's
    /// 1-worker map there is the same countdown on one core, so the spread of their medians
    /// (`max / min − 1`) is the machine's drift between benchmarks measured at different moments,
    /// not a difference between strategies. `None` with fewer than two such rows, or for a group
    /// whose 1-worker maps differ in work.
    pub fn same_work_spread(&self, group: Group) -> Option<f64> {
        self.paired_same_work_spread(group)
            .or_else(|| self.median_same_work_spread(group))
    }

    /// Whether `group`'s ratios were measured paired in this run.
    pub fn paired(&self, group: Group) -> bool {
        self.group(group).any(|r| r.paired.is_some())
    }

    /// The same-work spread measured paired: every strategy's 1-worker map interleaved with
    /// `sequential`'s (the same countdown on one core), `max / min - 1` over their ratios
    /// (`sequential` itself 1.0). `None` unless measured.
    pub fn paired_same_work_spread(&self, group: Group) -> Option<f64> {
        let ratios: Vec<f64> = self
            .group(group)
            .filter(|r| r.id.workers == 1)
            .filter_map(|r| r.paired?.vs_sequential.map(|e| e.point))
            .chain(std::iter::once(1.0))
            .collect();
        if ratios.len() < 2 {
            return None;
        }
        let (lo, hi) = ratios
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), &t| (l.min(t), h.max(t)));
        (lo > 0.0).then(|| hi / lo - 1.0)
    }

    /// The same-work spread from Criterion's medians: how far the 1-worker countdowns, measured
    /// at different moments, lie apart.
    pub fn median_same_work_spread(&self, group: Group) -> Option<f64> {
        if !matches!(group.model(), Model::Weak | Model::Strong) {
            return None;
        }
        let ones: Vec<f64> = self
            .group(group)
            .filter(|r| r.id.workers == 1)
            .map(|r| r.median_ns)
            .collect();
        if ones.len() < 2 {
            return None;
        }
        let (lo, hi) = ones
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), &t| (l.min(t), h.max(t)));
        (lo > 0.0).then(|| hi / lo - 1.0)
    }

    /// Every strategy with a record, in the same order.
    pub fn all_strategies(&self) -> Vec<StrategyName> {
        let present: BTreeSet<StrategyName> = self.records.iter().map(|r| r.id.strategy).collect();
        present.into_iter().collect()
    }

    /// Reads a `results.json` written by any version of `poolscale report`, checking every number
    /// a comparison would use.
    pub fn load_json(path: &Path) -> Result<Report> {
        let mut report: Report = crate::results::store::read_versioned(path)?;
        let bad = |reason: String| Error::invalid("results file", path.display(), reason);
        if report.records.is_empty() {
            return Err(bad("it has no records: nothing to compare against".into()));
        }
        // Its strategies' facts are those its settings recorded.
        let known = report.settings.strategies.clone();
        for r in &mut report.records {
            r.id.strategy = r.id.strategy.resolve(&known);
        }
        for f in &mut report.fits {
            f.strategy = f.strategy.resolve(&known);
        }
        for d in &mut report.dispatch {
            d.strategy = d.strategy.resolve(&known);
        }
        for r in &report.records {
            crate::limits::workers(r.id.workers).map_err(|e| bad(format!("{}: {e}", r.id)))?;
            let (lo, m, hi) = (r.median_lower_ns, r.median_ns, r.median_upper_ns);
            let ok = [lo, m, hi].iter().all(|v| v.is_finite())
                && lo >= crate::results::data::MIN_PLAUSIBLE_NS
                && hi <= crate::results::data::MAX_PLAUSIBLE_NS
                && m > 0.0
                && lo <= m
                && m <= hi;
            if !ok {
                return Err(bad(format!(
                    "{}: its median {m} ns is not a plausible time inside its interval [{lo}, {hi}]",
                    r.id
                )));
            }
        }
        report
            .settings
            .machine
            .validate()
            .map_err(|e| bad(e.to_string()))?;
        if report.cores == 0 || report.cores > crate::platform::machine::Machine::MAX_CORES {
            return Err(bad(format!("{} cores is out of range", report.cores)));
        }
        for t in &report.timelines {
            t.validate().map_err(|e| bad(e.to_string()))?;
        }
        Ok(report)
    }
}

/// A report read from a Criterion directory, with what the reader should be told.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The report.
    pub report: Report,
    /// Warnings for stderr (stale results left out).
    pub warnings: Vec<String>,
}

/// Reads `baseline` (`new`: the latest run) from a Criterion directory into a report: only the
/// results of that baseline's latest recorded run; older ones are listed as stale, or with
/// `strict` refused ([`Error::Stale`]); derived to `depth`.
pub fn load(dir: &Path, baseline: &str, strict: bool, depth: Depth) -> Result<Loaded> {
    let own = Settings::load_exact(dir, baseline)?;
    let mut warnings = Vec::new();
    // Another run's observations (two `cargo bench` runs at once) are left out, and said so.
    let observations = match Observations::load(
        dir,
        baseline,
        own.as_ref().and_then(|s| s.run_id.as_deref()),
    )? {
        Ok(o) => o,
        Err(why) => {
            warnings.push(why);
            None
        }
    };
    // Results of earlier runs with the same settings are kept (a run of one group after a full
    // run); what is latest is what the series recorded (the digest of each result it wrote), or
    // for data recorded before digests, what was written since the series started.
    let fresh = match observations.as_ref().map(Observations::digests) {
        Some(d) if !d.is_empty() => Freshness::Recorded(d),
        _ => Freshness::WrittenSince(own.as_ref().and_then(Settings::series_start)),
    };
    let mut data = Dataset::load(dir, baseline, &fresh)?;
    if !data.stale.is_empty() {
        if strict {
            return Err(Error::Stale {
                baseline: baseline.to_string(),
                ids: data.stale.iter().map(ToString::to_string).collect(),
            });
        }
        warnings.push(format!(
            "{} benchmarks of `{baseline}` predate its latest run and are left out (stale): {}",
            data.stale.len(),
            crate::units::comma_list(&data.stale)
        ));
    }
    let settings = match own {
        Some(s) => Some(s),
        None => Settings::load(dir, Some(baseline).filter(|b| *b != "new"))?,
    };
    // A directory names a strategy; its facts are those the benches recorded beside it.
    if let Some(s) = &settings {
        data.resolve(&s.strategies);
    }
    Ok(Loaded {
        report: Report::build(&data, settings, observations.as_ref(), dir, baseline, depth),
        warnings,
    })
}

#[cfg(test)]
mod schema_tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::strategy::StrategyKind;

    #[test]
    fn reads_the_results_json_that_poolscale_0_1_wrote() {
        // reports/results.json as committed before schema versions existed.
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/results.v1.json"
        ));
        let r = Report::load_json(path).unwrap();
        assert_eq!(r.schema_version, 1);
        assert!(r.tool_version.is_empty() && r.stale.is_empty());
        assert_eq!(r.settings.schema_version, 1);
        assert_eq!(r.records.len(), 145);
        assert!(
            r.get(BenchId::new(Group::CountdownWeak, StrategyKind::Gil, 2))
                .is_some()
        );
    }
}

/// A dataset and report built in memory, for the unit tests of the analysis, the gate and the
/// exporters (no Criterion directory, no binary).
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::results::data::Measurement;
    #[allow(unused_imports)]
    use crate::strategy::StrategyKind;

    /// `(group, strategy, workers, median ns)` measurements with ±1% intervals, on 2 cores.
    pub(crate) fn report(points: &[(Group, StrategyKind, usize, f64)]) -> Report {
        let measurements = points
            .iter()
            .map(|&(group, strategy, workers, t)| {
                let e = Estimate {
                    point: t,
                    lower: t * 0.99,
                    upper: t * 1.01,
                };
                Measurement {
                    id: BenchId::new(group, strategy, workers),
                    median: e,
                    mean: e,
                    written: None,
                }
            })
            .collect();
        let data = Dataset {
            measurements,
            stale: Vec::new(),
        };
        let mut s = Settings::defaults();
        s.workers = vec![1, 2, 4];
        s.machine.logical_cores = 2;
        s.tasks = 10;
        s.nap_ns = 10_000_000;
        s.dispatch_tasks = 1000;
        Report::build(&data, Some(s), None, Path::new("mem"), "new", Depth::Full)
    }
}

#[cfg(test)]
mod model_tests {
    use super::fixture::report;
    use super::*;
    use crate::strategy::StrategyInfo;
    #[allow(unused_imports)]
    use crate::strategy::StrategyKind;

    #[test]
    fn the_same_work_spread_is_the_range_of_the_one_worker_countdowns() {
        use crate::strategy::StrategyKind::*;
        let r = report(&[
            (Group::CountdownWeak, Threads, 1, 100e6),
            (Group::CountdownWeak, Gil, 1, 110e6),
            (Group::CountdownWeak, Threads, 2, 90e6),
            (Group::SquareSleep, Threads, 1, 100e6),
            (Group::SquareSleep, Gil, 1, 150e6),
        ]);
        assert!((r.same_work_spread(Group::CountdownWeak).unwrap() - 0.10).abs() < 1e-9);
        assert_eq!(r.same_work_spread(Group::SquareSleep), None);
        assert_eq!(r.same_work_spread(Group::CountdownStrong), None);
    }

    const MS: f64 = 1e6;

    #[test]
    fn every_model_derives_its_numbers_from_the_one_worker_time() {
        use crate::strategy::StrategyKind::*;
        use Group::*;
        let r = report(&[
            (CountdownWeak, Threads, 1, 100.0 * MS),
            (CountdownWeak, Threads, 4, 200.0 * MS),
            (CountdownStrong, Threads, 1, 100.0 * MS),
            (CountdownStrong, Threads, 2, 50.0 * MS),
            (SquareSleep, Threads, 3, 40.0 * MS),
            (SquareSleep, Sequential, 3, 100.0 * MS),
            (Dispatch, Rayon, 1, 200_000.0),
            (Startup, Processes, 4, 4.0 * MS),
        ]);
        let weak = r.get(BenchId::new(CountdownWeak, Threads, 4)).unwrap();
        // Weak: speedup w·t1/t; ideal max(t1, w·t1/cores) for a preemptive strategy.
        assert_eq!((weak.speedup, weak.efficiency), (Some(2.0), Some(0.5)));
        assert_eq!(weak.ideal_ns, Some(200.0 * MS));
        let strong = r.get(BenchId::new(CountdownStrong, Threads, 2)).unwrap();
        assert_eq!(
            (strong.speedup, strong.ideal_ns),
            (Some(2.0), Some(50.0 * MS))
        );
        // Rounds: ceil(10/3) naps of 10 ms for a parallel strategy; one worker for sequential.
        let sq = r.get(BenchId::new(SquareSleep, Threads, 3)).unwrap();
        assert_eq!(sq.ideal_ns, Some(40.0 * MS));
        assert_eq!(sq.measured_over_ideal, Some(1.0));
        let seq = r.get(BenchId::new(SquareSleep, Sequential, 3)).unwrap();
        assert_eq!(seq.ideal_ns, Some(100.0 * MS));
        // Per unit: per task and per worker, named from the group.
        let d = r.get(BenchId::new(Dispatch, Rayon, 1)).unwrap();
        assert_eq!(
            (d.per_unit_ns, d.per_unit.as_deref()),
            (Some(200.0), Some("task"))
        );
        let st = r.get(BenchId::new(Startup, Processes, 4)).unwrap();
        assert_eq!(
            (st.per_unit_ns, st.per_unit.as_deref()),
            (Some(1.0 * MS), Some("worker"))
        );
        assert!(st.speedup.is_none() && st.ideal_ns.is_none());
    }

    #[test]
    fn ideals_are_lower_bounds_by_declared_facts() {
        let w = Workloads {
            count: 1,
            nap_ns: 10,
            tasks: 10,
            dispatch_tasks: 1,
        };
        let t1 = Some(100.0);
        let ideal = |g, info: &StrategyInfo, n| ideal_ns(g, info, n, t1, 2, &w).unwrap();
        let threads = StrategyKind::Threads.info();
        let gil = StrategyKind::Gil.info();
        let queue = StrategyInfo {
            preemptive: false,
            ..*threads
        };
        // Preemptive: three equal jobs on two cores fit in 1.5 t1 (not two rounds).
        assert_eq!(ideal(Group::CountdownWeak, threads, 3), 150.0);
        assert_eq!(ideal(Group::CountdownWeak, threads, 1), 100.0);
        assert_eq!(ideal(Group::CountdownStrong, threads, 3), 50.0);
        // Queue of jobs: whole jobs in rounds.
        assert_eq!(ideal(Group::CountdownWeak, &queue, 3), 200.0);
        assert!((ideal(Group::CountdownStrong, &queue, 3) - 200.0 / 3.0).abs() < 1e-9);
        // Serial computing (gil, sequential): w jobs one after another; strong stays at t1.
        assert_eq!(ideal(Group::CountdownWeak, gil, 2), 200.0);
        assert_eq!(ideal(Group::CountdownStrong, gil, 4), 100.0);
        // Sleeping releases the lock: gil's naps overlap like threads'.
        assert_eq!(ideal(Group::SquareSleep, gil, 3), 40.0);
        let seq = StrategyKind::Sequential.info();
        assert_eq!(ideal(Group::SquareSleep, seq, 3), 100.0);
    }

    #[test]
    fn slope_and_intercept_come_from_the_two_task_counts() {
        let e = |p: f64, h: f64| Estimate {
            point: p,
            lower: p - h,
            upper: p + h,
        };
        // 1000 tasks: 50 µs; 20000 tasks: 240 µs -> 10 ns per task, 40 µs per map.
        let (slope, icpt) =
            slope_intercept(1000.0, e(50_000.0, 0.0), 20_000.0, e(240_000.0, 0.0)).unwrap();
        assert!((slope.point - 10.0).abs() < 1e-9 && (icpt.point - 40_000.0).abs() < 1e-6);
        let (slope, icpt) =
            slope_intercept(1000.0, e(50_000.0, 300.0), 20_000.0, e(240_000.0, 400.0)).unwrap();
        assert!(
            (slope.upper - slope.point - 500.0 / 19_000.0).abs() < 1e-9,
            "{slope:?}"
        );
        assert!(icpt.lower < icpt.point && icpt.point < icpt.upper);
        assert!(slope_intercept(5.0, e(1.0, 0.0), 5.0, e(2.0, 0.0)).is_none());
    }
}
