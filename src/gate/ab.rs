//! `gate --ab OLD [--new NEW]`: an interleaved A/B comparison of two builds, the gate mode that
//! does not cry wolf on a machine whose speed drifts.
//!
//! Both builds run as persistent sampling sides ([`crate::gate::sampling`]). For each selected
//! benchmark both sides start their pool once, outside any timed region; the driver then
//! alternates OLD and NEW samples in randomised blocks (A B | B A, [`crate::measure::interleave`]), each
//! sample the same number of iterations on both sides and long enough to time well
//! ([`Plan::sample_time`]), every output verified by the side that produced it. The estimate is
//! the ratio NEW/OLD by Hodges–Lehmann on the per-pair log ratios, with its 95% Wilcoxon
//! interval ([`crate::stats`]). Sampling stops as soon as the interval is decided against the
//! threshold, or when the benchmark's budget is spent:
//!
//! - `regressed`: the whole interval is above `+threshold`;
//! - `improved`: the whole interval is below `-threshold`;
//! - `ok`: the whole interval is within `±threshold`;
//! - `inconclusive`: the budget ran out with the interval straddling a threshold.
//!
//! A benchmark only one build has is reported `new` or `missing`, not an error.

use std::path::PathBuf;

use regex::Regex;
use serde::Serialize;

use super::{Row, Thresholds, Verdict};
use crate::error::{Error, Result};
use crate::gate::sampling::{RemoteArm, RemoteBurst, Side};
use crate::group::Workloads;
use crate::group::{BenchId, Group};
use crate::measure::Arm;
use crate::measure::instrument::{Burst, Calibration};
use crate::measure::interleave::{Plan, interleave};
use crate::stats::{Estimate, median, paired_ratio};
use crate::strategy::StrategyName;

/// Default time per benchmark: with the default selection a run stays within about 3 minutes on
/// 2 cores even when every benchmark spends its budget.
pub const DEFAULT_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);

/// Each side starts the benchmark afresh every this many samples (see `RemoteArm`): pools are
/// re-placed by the scheduler every few pairs.
pub const RESTART_EVERY: u64 = 4;

/// What to compare and how.
#[derive(Clone, Debug)]
pub struct AbConfig {
    /// The target branch's poolscale binary.
    pub old: PathBuf,
    /// The change's poolscale binary.
    pub new: PathBuf,
    /// The benchmarks, in order.
    pub selection: Vec<BenchId>,
    /// The jobs' knobs, the same for both sides.
    pub workloads: Workloads,
    /// Regression thresholds.
    pub thresholds: Thresholds,
    /// Sampling plan per benchmark (its budget is per benchmark).
    pub plan: Plan,
    /// Seed of the randomised order.
    pub seed: u64,
    /// Code-layout variants per side (0: none). With K, OLD's and NEW's variants
    /// (`BINARY.layout-1` … `-K`, built by `poolscale layouts`) are sampled in turn, and each
    /// benchmark's layout spread is measured beside its change ([`crate::gate::layouts`]).
    pub layouts: u32,
}

/// The strategies two sides can measure: the union of what each announces, built-ins first,
/// then by name.
pub fn strategies_of(old: &std::path::Path, new: &std::path::Path) -> Result<Vec<StrategyName>> {
    let mut all: Vec<StrategyName> = Vec::new();
    for (name, program) in [("old", old), ("new", new)] {
        let side = Side::start(name, program)?;
        for d in side.strategies() {
            if !all.contains(d) {
                all.push(*d);
            }
        }
    }
    all.sort();
    Ok(all)
}

/// The worker counts `gate --ab` compares by default: the fewest points that show the
/// group's behaviour (1 and 2 for the weak countdown, where the seed's lesson is; the seed's
/// Pool(3) for square_sleep), keeping one A/B run to a few minutes.
pub fn gate_workers(group: Group) -> &'static [usize] {
    match group {
        Group::CountdownWeak => &[1, 2],
        Group::CountdownStrong => &[2],
        Group::SquareSleep => &[3],
        Group::Dispatch | Group::DispatchBulk | Group::Wakeup => &[1],
        Group::Startup => &[2],
        Group::BreakEven => &[2],
    }
}

/// The default selection: each group at the worker counts that show its behaviour
/// ([`gate_workers`]), every strategy of `strategies` the group measures.
pub fn default_selection(strategies: &[StrategyName]) -> Vec<BenchId> {
    Group::ALL
        .into_iter()
        .flat_map(|g| g.ids(strategies, gate_workers(g)))
        .collect()
}

/// Every benchmark of `strategies` at `workers` whose id matches `filter` (a regular expression,
/// as Criterion's filter).
pub fn filtered_selection(
    filter: &str,
    workers: &[usize],
    strategies: &[StrategyName],
) -> Result<Vec<BenchId>> {
    let re = Regex::new(filter).map_err(|e| Error::invalid("filter", filter, e))?;
    let mut all: Vec<BenchId> = Group::ALL
        .into_iter()
        .flat_map(|g| g.ids(strategies, workers))
        .chain(default_selection(strategies))
        .filter(|id| re.is_match(&id.to_string()))
        .collect();
    all.sort();
    all.dedup();
    Ok(all)
}

/// The verdict of a ratio estimate against `threshold`; `None` while undecided.
pub fn decide(ratio: Option<Estimate>, threshold: f64) -> Option<Verdict> {
    let e = ratio?;
    super::change_verdict(e.lower - 1.0, e.upper - 1.0, threshold)
}

/// How one benchmark's comparison went, beyond its row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AbDetail {
    /// Bench id.
    pub id: BenchId,
    /// Pairs of samples taken.
    pub pairs: usize,
    /// Iterations per sample (both sides).
    pub iters: u64,
    /// Seconds spent on this benchmark.
    pub seconds: f64,
    /// For a row first judged regressed or improved: whether a second measurement with fresh
    /// sides agreed (if not, the row is `inconclusive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
}

/// Starts benchmark `id` on every side; `Some(New)` or `Some(Missing)` when OLD's or NEW's build
/// does not have it.
fn start_on_all(
    olds: &mut [Side],
    news: &mut [Side],
    id: BenchId,
    workloads: &Workloads,
) -> Result<Option<Verdict>> {
    let mut in_old = true;
    for side in olds {
        in_old &= side.start_bench(id, workloads)?;
    }
    let mut in_new = true;
    for side in news {
        in_new &= side.start_bench(id, workloads)?;
    }
    Ok(match (in_old, in_new) {
        (true, true) => None,
        (_, true) => Some(Verdict::New),
        _ => Some(Verdict::Missing),
    })
}

impl AbDetail {
    /// How benchmark `id` was sampled: `rounds` of `iters` iterations per sample.
    fn of(
        id: BenchId,
        rounds: &crate::measure::interleave::Rounds,
        iters: u64,
        confirmed: Option<bool>,
    ) -> Self {
        AbDetail {
            id,
            pairs: rounds.samples.len(),
            iters,
            seconds: rounds.elapsed.as_secs_f64(),
            confirmed,
        }
    }
}

impl Row {
    /// The row with each side's median over `rounds` (OLD first) and the paired change `est`.
    fn measured(
        mut self,
        rounds: &crate::measure::interleave::Rounds,
        est: Option<Estimate>,
    ) -> Row {
        self.before = median(&rounds.arm(0));
        self.after = median(&rounds.arm(1));
        self.change = est.map(|e| e.point - 1.0);
        self.change_lower = est.map(|e| e.lower - 1.0);
        self.change_upper = est.map(|e| e.upper - 1.0);
        self
    }
}

/// One benchmark compared once: the rounds, the iterations per sample.
fn measure_once(
    cfg: &AbConfig,
    old: &mut Side,
    new: &mut Side,
    id: BenchId,
    threshold: f64,
    rng: &mut fastrand::Rng,
) -> Result<(crate::measure::interleave::Rounds, u64)> {
    let arm = |side| RemoteArm {
        side,
        id,
        workloads: cfg.workloads,
        restart_every: RESTART_EVERY,
        taken: 0,
    };
    let mut a = arm(old);
    let mut b = arm(new);
    // The same iterations on both sides, sized on the slower one.
    let ia = crate::measure::interleave::calibrate(&mut a, cfg.plan.sample_time)?;
    let ib = crate::measure::interleave::calibrate(&mut b, cfg.plan.sample_time)?;
    let iters = ia.min(ib);
    let rounds = interleave(
        &mut [&mut a, &mut b],
        Some(vec![iters, iters]),
        &cfg.plan,
        rng,
        |s| {
            let pairs: Vec<(f64, f64)> = s.iter().map(|r| (r[0], r[1])).collect();
            decide(paired_ratio(&pairs), threshold).is_some()
        },
    )?;
    a.side.stop_bench()?;
    b.side.stop_bench()?;
    Ok((rounds, iters))
}

/// The instrument check of both sides at `phase`: each times the countdown in its own process,
/// in alternation ([`crate::measure::instrument::calibrate`]). `None` when a side's build predates it.
pub fn instrument(old: &mut Side, new: &mut Side, phase: &str) -> Result<Option<Vec<Calibration>>> {
    if old.calibrate(1000)?.is_none() || new.calibrate(1000)?.is_none() {
        return Ok(None);
    }
    let (po, pn) = (old.program().to_path_buf(), new.program().to_path_buf());
    let mut a = RemoteBurst(old);
    let mut b = RemoteBurst(new);
    crate::measure::instrument::calibrate(
        phase,
        &mut [
            ("old".into(), po, &mut a as &mut dyn Burst),
            ("new".into(), pn, &mut b),
        ],
    )
    .map(Some)
}

/// What one `--ab` run measured.
#[derive(Clone, Debug, Default)]
pub struct AbOutcome {
    /// One row per benchmark.
    pub rows: Vec<Row>,
    /// How each was sampled.
    pub details: Vec<AbDetail>,
    /// The instrument check at the start and end (empty when a side predates it).
    pub instrument: Vec<Calibration>,
    /// Whether both sides could be checked.
    pub instrument_measured: bool,
}

/// Compares every selected benchmark, telling `progress` before each (`k`, `n`, id).
///
/// A benchmark judged `regressed` or `improved` is measured a second time with both sides started
/// afresh (new processes, so every thread and process is placed anew): the verdict stands only if
/// the confirmation agrees, and is `inconclusive` otherwise. On a machine whose cores differ in
/// speed, where a side's placement can persist for a whole measurement, this is what keeps such
/// an artefact from failing CI; a real change pays one more measurement.
pub fn run(cfg: &AbConfig, progress: &mut dyn FnMut(usize, usize, BenchId)) -> Result<AbOutcome> {
    if cfg.layouts > 0 {
        return run_layouts(cfg, progress);
    }
    let mut old = Side::start("old", &cfg.old)?;
    let mut new = Side::start("new", &cfg.new)?;
    let start = instrument(&mut old, &mut new, "start")?;
    let mut rng = fastrand::Rng::with_seed(cfg.seed);
    let mut rows = Vec::new();
    let mut details = Vec::new();
    let n = cfg.selection.len();
    for (k, &id) in cfg.selection.iter().enumerate() {
        progress(k + 1, n, id);
        let threshold = cfg.thresholds.for_group(id.group);
        let mut row = Row::new(id, threshold);
        if let Some(absent) = start_on_all(
            std::slice::from_mut(&mut old),
            std::slice::from_mut(&mut new),
            id,
            &cfg.workloads,
        )? {
            row.verdict = absent;
            rows.push(row);
            continue;
        }
        let (mut rounds, mut iters) =
            measure_once(cfg, &mut old, &mut new, id, threshold, &mut rng)?;
        let mut est = paired_ratio(&rounds.pairs(0, 1));
        let mut verdict = decide(est, threshold).unwrap_or(Verdict::Inconclusive);
        let mut confirmed = None;
        if matches!(verdict, Verdict::Regressed | Verdict::Improved) {
            // Fresh sides: a new draw of every placement.
            old = Side::start("old", &cfg.old)?;
            new = Side::start("new", &cfg.new)?;
            for side in [&mut old, &mut new] {
                side.start_bench(id, &cfg.workloads)?;
            }
            let (again, again_iters) =
                measure_once(cfg, &mut old, &mut new, id, threshold, &mut rng)?;
            let again_est = paired_ratio(&again.pairs(0, 1));
            let again_verdict = decide(again_est, threshold).unwrap_or(Verdict::Inconclusive);
            confirmed = Some(again_verdict == verdict);
            if again_verdict != verdict {
                verdict = Verdict::Inconclusive;
            }
            // Report the pooled pairs of both measurements.
            rounds.samples.extend(again.samples);
            rounds.elapsed += again.elapsed;
            iters = iters.min(again_iters);
            est = paired_ratio(&rounds.pairs(0, 1));
        }
        row.verdict = verdict;
        rows.push(row.measured(&rounds, est));
        details.push(AbDetail::of(id, &rounds, iters, confirmed));
    }
    finish(&mut old, &mut new, start, rows, details)
}

/// The comparison's outcome: its rows and details, and the instrument check timed again at the
/// end when it was at the start.
fn finish(
    old: &mut Side,
    new: &mut Side,
    start: Option<Vec<Calibration>>,
    rows: Vec<Row>,
    details: Vec<AbDetail>,
) -> Result<AbOutcome> {
    let end = match start {
        Some(_) => instrument(old, new, "end")?,
        None => None,
    };
    Ok(AbOutcome {
        rows,
        details,
        instrument_measured: start.is_some(),
        instrument: start.into_iter().chain(end).flatten().collect(),
    })
}

/// Side `side`'s benchmark `id` as an arm that restarts its pool every [`RESTART_EVERY`] samples.
fn remote_arm(side: &mut Side, id: BenchId, workloads: Workloads) -> RemoteArm<'_> {
    RemoteArm {
        side,
        id,
        workloads,
        restart_every: RESTART_EVERY,
        taken: 0,
    }
}

/// A side's layout variants as one arm: each sample goes to the next variant in turn, so round r
/// of an interleaved comparison measures variant `r % K` on both sides.
struct LayoutArm<'a> {
    arms: Vec<RemoteArm<'a>>,
    next: usize,
}

impl Arm for LayoutArm<'_> {
    fn label(&self) -> String {
        format!("{} ({} layouts)", self.arms[0].label(), self.arms.len())
    }

    fn sample(&mut self, iters: u64) -> Result<std::time::Duration> {
        let k = self.next;
        self.next = (self.next + 1) % self.arms.len();
        self.arms[k].sample(iters)
    }
}

/// `--layouts K`: every benchmark sampled across K layout variants of each build. The change is
/// NEW against OLD over all variants; the layout spread is how far one variant's median lies from
/// the others' within a side. A change judged beyond the threshold but within the spread is
/// `layout`: a shift of code placement, not of the code. Thresholds here have no noise floor: the
/// spread measured replaces the fixed 25% of the layout-sensitive groups.
fn run_layouts(
    cfg: &AbConfig,
    progress: &mut dyn FnMut(usize, usize, BenchId),
) -> Result<AbOutcome> {
    let k = cfg.layouts as usize;
    let start_all = |name: &'static str, binary: &std::path::Path| -> Result<Vec<Side>> {
        crate::gate::layouts::variants(binary, cfg.layouts)?
            .iter()
            .map(|p| Side::start(name, p))
            .collect()
    };
    let mut olds = start_all("old", &cfg.old)?;
    let mut news = start_all("new", &cfg.new)?;
    let start = instrument(&mut olds[0], &mut news[0], "start")?;
    let mut rng = fastrand::Rng::with_seed(cfg.seed);
    let plan = Plan {
        min_rounds: cfg.plan.min_rounds.max(2 * k).next_multiple_of(k),
        check_every: k,
        ..cfg.plan
    };
    let mut rows = Vec::new();
    let mut details = Vec::new();
    let n = cfg.selection.len();
    for (i, &id) in cfg.selection.iter().enumerate() {
        progress(i + 1, n, id);
        let threshold = cfg
            .thresholds
            .per_group
            .get(&id.group)
            .copied()
            .unwrap_or(cfg.thresholds.default);
        let mut row = Row::new(id, threshold);
        if let Some(absent) = start_on_all(&mut olds, &mut news, id, &cfg.workloads)? {
            row.verdict = absent;
            rows.push(row);
            continue;
        }
        let workloads = cfg.workloads;
        let mut a = LayoutArm {
            arms: olds
                .iter_mut()
                .map(|side| remote_arm(side, id, workloads))
                .collect(),
            next: 0,
        };
        let mut b = LayoutArm {
            arms: news
                .iter_mut()
                .map(|side| remote_arm(side, id, workloads))
                .collect(),
            next: 0,
        };
        let ia = crate::measure::interleave::calibrate(&mut a, cfg.plan.sample_time)?;
        let ib = crate::measure::interleave::calibrate(&mut b, cfg.plan.sample_time)?;
        let iters = ia.min(ib);
        (a.next, b.next) = (0, 0);
        let rounds = interleave(
            &mut [&mut a, &mut b],
            Some(vec![iters, iters]),
            &plan,
            &mut rng,
            |s| {
                let pairs: Vec<(f64, f64)> = s.iter().map(|r| (r[0], r[1])).collect();
                decide(paired_ratio(&pairs), threshold).is_some()
            },
        )?;
        drop((a, b));
        for side in olds.iter_mut().chain(news.iter_mut()) {
            side.stop_bench()?;
        }
        let per_variant = |arm: usize| -> Vec<Vec<f64>> {
            (0..k)
                .map(|v| {
                    rounds
                        .samples
                        .iter()
                        .enumerate()
                        .filter(|(r, _)| r % k == v)
                        .map(|(_, s)| s[arm])
                        .collect()
                })
                .collect()
        };
        let spread = [
            crate::gate::layouts::spread(&per_variant(0)),
            crate::gate::layouts::spread(&per_variant(1)),
        ]
        .into_iter()
        .flatten()
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        let est = paired_ratio(&rounds.pairs(0, 1));
        let mut verdict = decide(est, threshold).unwrap_or(Verdict::Inconclusive);
        if let (Some(e), Some(s)) = (est, spread)
            && matches!(verdict, Verdict::Regressed | Verdict::Improved)
            && (e.point - 1.0).abs() <= s
        {
            verdict = Verdict::Layout;
        }
        row.layout_spread = spread;
        row.verdict = verdict;
        rows.push(row.measured(&rounds, est));
        details.push(AbDetail::of(id, &rounds, iters, None));
    }
    finish(&mut olds[0], &mut news[0], start, rows, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(lo: f64, point: f64, hi: f64) -> Option<Estimate> {
        Some(Estimate {
            point,
            lower: lo,
            upper: hi,
        })
    }

    #[test]
    fn verdicts_follow_the_whole_interval() {
        assert_eq!(
            decide(est(1.12, 1.15, 1.18), 0.10),
            Some(Verdict::Regressed)
        );
        assert_eq!(decide(est(0.82, 0.85, 0.88), 0.10), Some(Verdict::Improved));
        assert_eq!(decide(est(0.95, 1.0, 1.05), 0.10), Some(Verdict::Ok));
        assert_eq!(decide(est(1.05, 1.10, 1.15), 0.10), None);
        assert_eq!(decide(est(0.85, 0.9, 0.95), 0.10), None);
        assert_eq!(decide(None, 0.10), None);
    }

    #[test]
    fn the_default_selection_covers_every_group_and_strategy() {
        let sel = default_selection(&crate::strategy::Strategies::builtin().names());
        for g in Group::ALL {
            for k in g.strategies() {
                assert!(
                    sel.iter().any(|id| id.group == g && id.strategy == k),
                    "{g}/{k}"
                );
            }
        }
    }

    #[test]
    fn filters_are_regular_expressions_over_ids() {
        let builtin = crate::strategy::Strategies::builtin().names();
        let sel = filtered_selection("^countdown_weak/threads/", &[1, 2, 4], &builtin).unwrap();
        let ids: Vec<String> = sel.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            ids,
            [
                "countdown_weak/threads/1",
                "countdown_weak/threads/2",
                "countdown_weak/threads/4"
            ]
        );
        assert!(
            filtered_selection("(", &[1], &builtin)
                .unwrap_err()
                .to_string()
                .contains("filter")
        );
    }
}
