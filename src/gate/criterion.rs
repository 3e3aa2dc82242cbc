//! The checks that read Criterion's saved results: a saved baseline or a committed
//! `results.json` against the latest run (each benchmark's change with the conservative interval
//! of both medians), and the invariants computed from the latest run alone. These ratios come from
//! medians measured seconds to minutes apart, so they cannot see the machine changing between them;
//! `--ab` and `--paired-invariants` exist for that.

use std::collections::BTreeMap;

use super::invariants::{Invariant, Measured};
use super::{
    Bound, Check, CheckVerdict, GateResult, Limits, Row, Thresholds, Verdict, change_verdict,
};
use crate::analysis::{BenchRecord, Depth, Report};
use crate::error::{Error, Result};
use crate::group::{BenchId, Group};
use crate::results::data::{LATEST, PREVIOUS};
use crate::results::settings::Settings;
use crate::stats::Estimate;

/// The checks that read Criterion's results.
#[derive(Clone, Debug)]
pub struct DataChecks {
    /// Criterion's directory.
    pub criterion_dir: std::path::PathBuf,
    /// A saved baseline to compare the latest run against.
    pub baseline: Option<String>,
    /// A `results.json` to compare the latest run against.
    pub against: Option<std::path::PathBuf>,
    /// Compare times divided by each strategy's 1-worker time.
    pub normalize: bool,
    /// Check the invariants on the latest run, with these limits.
    pub invariants: Option<Limits>,
    /// Regression thresholds.
    pub thresholds: Thresholds,
}

/// Runs the checks of `d`, adding rows, checks and warnings to `result`.
pub(super) fn run(d: &DataChecks, result: &mut GateResult) -> Result<()> {
    if let Some(b) = d.baseline.as_deref() {
        match b {
            LATEST => {
                return Err(Error::invalid(
                    "baseline",
                    b,
                    "`new` is the latest run itself; compare against a baseline saved with `cargo bench -- --save-baseline NAME`",
                ));
            }
            PREVIOUS => {
                return Err(Error::invalid(
                    "baseline",
                    b,
                    "`base` is not a saved baseline: Criterion copies every plain run's results to `base`, so it is the latest run; save one with `cargo bench -- --save-baseline NAME`",
                ));
            }
            _ => {}
        }
    }
    // Stale results are left out and counted: with --strict they fail the gate (exit 1), like
    // a missing benchmark, rather than stopping it as an error.
    let current = crate::analysis::load(&d.criterion_dir, LATEST, false, Depth::Records)?;
    result.warnings.extend(current.warnings);
    let current = current.report;
    result.stale += current.stale.len();
    result.normalized = d.normalize;
    let after = points(&current, d.normalize);
    let mut befores = Vec::new();
    if let Some(b) = &d.baseline {
        let before = crate::analysis::load(&d.criterion_dir, b, false, Depth::Records)?;
        result.warnings.extend(before.warnings);
        result.stale += before.report.stale.len();
        befores.push((format!("baseline `{b}`"), before.report));
    }
    if let Some(path) = &d.against {
        befores.push((path.display().to_string(), Report::load_json(path)?));
    }
    for (what, before) in befores {
        let mut diffs = settings_differences(&before.settings, &current.settings);
        if d.normalize {
            // Normalising cancels machine speed; a different machine is expected then.
            diffs.retain(|x| !x.starts_with("cpu ") && !x.starts_with("logical cores "));
        }
        if !diffs.is_empty() {
            result.warnings.push(format!(
                "{what} was measured with other settings ({}); changes may reflect them, not the code",
                diffs.join(", ")
            ));
        }
        let mut rows = compare(&points(&before, d.normalize), &after, &d.thresholds);
        // Two runs minutes apart: where the recorded machine changed between them, a CPU-bound
        // row's change is the machine's as much as the code's.
        let mut doubted = Vec::new();
        for row in &mut rows {
            let id = row.id;
            if !matches!(row.verdict, Verdict::Regressed | Verdict::Improved) {
                continue;
            }
            if let Some(why) = machine_changed(&before.settings, &current.settings, id.group) {
                row.verdict = Verdict::Inconclusive;
                doubted.push(format!("{} ({why})", row.id));
            }
        }
        if !doubted.is_empty() {
            result.warnings.push(format!(
                "{} rows are inconclusive, not regressed or improved: the machine changed between {what}'s run and the latest: {}",
                doubted.len(),
                doubted.join("; ")
            ));
        }
        // Within each run, identical work measured at different moments lay this far apart: a
        // change between two runs no larger than both runs' drift together is not the code's.
        let (db, da) = (drift(&before), drift(&current));
        let drifted = hold_to_drift(&mut rows, db, da);
        if !drifted.is_empty() {
            result.warnings.push(format!(
                "{} rows are inconclusive, not regressed or improved: their change is within what each run's own drift allows (identical work, every strategy's 1-worker countdown, spread {:.1}% in {what}'s run and {:.1}% in the latest; `gate --ab` measures both sides interleaved instead): {}",
                drifted.len(),
                db * 100.0,
                da * 100.0,
                drifted.join(", ")
            ));
        }
        result.rows.extend(rows);
    }
    if let Some(limits) = &d.invariants {
        result.checks = invariants(&current, limits);
    }
    Ok(())
}

/// Two runs' capacities for one group may differ by this share before its rows are doubted.
pub const CAPACITY_TOLERANCE: f64 = 0.10;
/// Two runs' cost per countdown decrement (the bench binary's, at their start) may differ by
/// this share before CPU-bound rows are doubted.
pub const SPEED_TOLERANCE: f64 = 0.05;

/// Why a CPU-bound `group`'s rows cannot be compared between the runs of `before` and `after`:
/// the machine gave another number of cores after that group (beyond [`CAPACITY_TOLERANCE`]), or
/// counted at another speed (beyond [`SPEED_TOLERANCE`]). `None` when the runs recorded the same
/// machine, or did not record it (runs before poolscale 0.4), or the group is latency-bound.
pub fn machine_changed(before: &Settings, after: &Settings, group: Group) -> Option<String> {
    if group.model() == crate::group::Model::Rounds {
        return None;
    }
    let at = format!("after {group}");
    let given = |s: &Settings| {
        s.capacity
            .iter()
            .find(|c| c.at == at)
            .map(|c| c.given.point)
    };
    if let (Some(b), Some(a)) = (given(before), given(after))
        && (a / b - 1.0).abs() > CAPACITY_TOLERANCE
    {
        return Some(format!(
            "the machine gave {b:.2} cores after {group} in one run, {a:.2} in the other"
        ));
    }
    let speed = |s: &Settings| {
        s.instrument
            .iter()
            .find(|c| c.role == "bench" && c.phase == "start")
            .map(|c| c.ns_per_decrement.point)
    };
    if let (Some(b), Some(a)) = (speed(before), speed(after))
        && (a / b - 1.0).abs() > SPEED_TOLERANCE
    {
        return Some(format!(
            "one decrement cost {b:.3} ns in one run, {a:.3} ns in the other"
        ));
    }
    None
}

/// Makes inconclusive every regressed or improved row (but latency-bound ones) whose change,
/// interval and all, does not clear its threshold widened by both runs' drift `db` and `da`
/// (see [`drift`]); returns their ids.
pub fn hold_to_drift(rows: &mut [Row], db: f64, da: f64) -> Vec<String> {
    let mut drifted = Vec::new();
    for row in rows.iter_mut() {
        let (Some(lo), Some(hi)) = (row.change_lower, row.change_upper) else {
            continue;
        };
        if !matches!(row.verdict, Verdict::Regressed | Verdict::Improved)
            || row.id.group.model() == crate::group::Model::Rounds
        {
            continue;
        }
        let widened = (1.0 + row.threshold) * (1.0 + db) * (1.0 + da) - 1.0;
        if !matches!(
            change_verdict(lo, hi, widened),
            Some(Verdict::Regressed | Verdict::Improved)
        ) {
            row.verdict = Verdict::Inconclusive;
            drifted.push(row.id.to_string());
        }
    }
    drifted
}

/// How far a run's medians of identical work lay apart (the largest same-work spread of its
/// CPU-bound groups, Criterion's medians): the drift of the machine within that run, which a
/// comparison with another run carries. 0 where the run measured none.
pub fn drift(report: &Report) -> f64 {
    Group::ALL
        .iter()
        .filter_map(|&g| report.median_same_work_spread(g))
        .filter(|d| d.is_finite())
        .fold(0.0, f64::max)
}

/// The points of a report, optionally normalised by each (group, strategy)'s 1-worker median.
/// Benchmarks that cannot be normalised (no 1-worker time) are left out.
pub fn points(report: &Report, normalize: bool) -> BTreeMap<BenchId, Estimate> {
    let t1 = |r: &BenchRecord| report.get(r.id.at_one()).map(|one| one.median_ns);
    report
        .records
        .iter()
        .filter_map(|r| {
            let scale = if normalize { t1(r)? } else { 1.0 };
            let p = r.median().map(|v| v / scale);
            Some((r.id, p))
        })
        .collect()
}

/// Compares two sets of points benchmark by benchmark.
pub fn compare(
    before: &BTreeMap<BenchId, Estimate>,
    after: &BTreeMap<BenchId, Estimate>,
    thresholds: &Thresholds,
) -> Vec<Row> {
    let mut ids: Vec<&BenchId> = before.keys().chain(after.keys()).collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let b = before.get(id);
            let a = after.get(id);
            let threshold = thresholds.for_group(id.group);
            let mut row = Row {
                before: b.map(|p| p.point),
                after: a.map(|p| p.point),
                ..Row::new(*id, threshold)
            };
            match (b, a) {
                (Some(b), Some(a)) if b.point > 0.0 && b.lower > 0.0 => {
                    let lo = a.lower / b.upper - 1.0;
                    let hi = a.upper / b.lower - 1.0;
                    row.change = Some(a.point / b.point - 1.0);
                    row.change_lower = Some(lo);
                    row.change_upper = Some(hi);
                    row.verdict = change_verdict(lo, hi, threshold).unwrap_or(Verdict::Ok);
                }
                (None, Some(_)) => row.verdict = Verdict::New,
                _ => row.verdict = Verdict::Missing,
            }
            row
        })
        .collect()
}

/// The knobs that differ between two runs' settings, e.g. `nap 10ms → 13ms`: a comparison across
/// different settings measures the knob, not the code.
pub fn settings_differences(before: &Settings, after: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    let mut diff = |name: &str, b: String, a: String| {
        if b != a {
            out.push(format!("{name} {b} → {a}"));
        }
    };
    diff("count", before.count.to_string(), after.count.to_string());
    diff(
        "nap",
        humantime::format_duration(before.nap()).to_string(),
        humantime::format_duration(after.nap()).to_string(),
    );
    diff("tasks", before.tasks.to_string(), after.tasks.to_string());
    diff(
        "dispatch tasks",
        before.dispatch_tasks.to_string(),
        after.dispatch_tasks.to_string(),
    );
    let mode = |s: &Settings| if s.quick { "--quick" } else { "full" }.to_string();
    diff("Criterion sampling", mode(before), mode(after));
    diff("cpu", before.machine.cpu.clone(), after.machine.cpu.clone());
    diff(
        "logical cores",
        before.machine.logical_cores.to_string(),
        after.machine.logical_cores.to_string(),
    );
    out
}

/// An invariant's row from one measured value: `pass` or `fail` against `bound`, or `missing`
/// without a measurement.
fn judge(check: String, bound: Bound, measured: Option<f64>) -> Check {
    let verdict = match measured {
        Some(v) => bound
            .judge(Estimate {
                point: v,
                lower: v,
                upper: v,
            })
            .unwrap_or(CheckVerdict::Fail),
        None => CheckVerdict::Missing,
    };
    let bound = bound.to_string();
    Check {
        check,
        measured,
        lower: None,
        upper: None,
        bound,
        verdict,
        detail: None,
    }
}

/// Checks the machine-independent invariants ([`Invariant::ALL`]) on one report.
pub fn invariants(report: &Report, limits: &Limits) -> Vec<Check> {
    const W: usize = 2;
    let present = report.all_strategies();
    let mut checks = Vec::new();
    for inv in Invariant::ALL {
        for kind in inv.strategies(&present, Measured::Data) {
            if let Some(skip) = inv.skipped(kind, W, report.cores, limits, Measured::Data) {
                checks.push(skip);
                continue;
            }
            let at = |w: usize| report.get(BenchId::new(Group::CountdownWeak, kind, w));
            let measured = match inv {
                Invariant::WeakEfficiency => at(W).and_then(|r| r.efficiency),
                Invariant::GilSerialises => match (at(1), at(W)) {
                    (Some(one), Some(two)) if one.median_ns > 0.0 => {
                        Some(two.median_ns / one.median_ns)
                    }
                    _ => None,
                },
                // Its worst point over every worker count.
                Invariant::SquareNearIdeal => report
                    .group(Group::SquareSleep)
                    .filter(|r| r.id.strategy == kind)
                    .filter_map(|r| r.measured_over_ideal)
                    .reduce(f64::max),
            };
            checks.push(judge(
                inv.name(kind, W, Measured::Data),
                inv.bound(limits, Measured::Data),
                measured,
            ));
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::report;
    use crate::strategy::StrategyKind;
    use crate::strategy::StrategyKind::*;
    use Group::*;

    const MS: f64 = 1e6;

    fn est(point: f64, half: f64) -> Estimate {
        Estimate {
            point,
            lower: point - half,
            upper: point + half,
        }
    }

    fn id(threads: usize) -> BenchId {
        BenchId::new(CountdownWeak, Threads, threads)
    }

    #[test]
    fn a_change_is_judged_by_its_conservative_interval() {
        let (a, b, c, gone, fresh) = (id(1), id(2), id(3), id(4), id(5));
        let before: BTreeMap<BenchId, Estimate> = [
            (a, est(100.0, 1.0)),
            (b, est(100.0, 1.0)),
            (c, est(100.0, 1.0)),
            (gone, est(100.0, 1.0)),
        ]
        .into();
        let after: BTreeMap<BenchId, Estimate> = [
            (a, est(120.0, 1.0)), // +20%, interval [+17.8%, +22.2%]
            (b, est(111.0, 1.0)), // +11%, but the lower bound is +9.0%
            (c, est(80.0, 1.0)),  // -20%
            (fresh, est(1.0, 0.1)),
        ]
        .into();
        let rows = compare(&before, &after, &Thresholds::default());
        let verdict = |id: BenchId| rows.iter().find(|r| r.id == id).unwrap().verdict;
        assert_eq!(verdict(a), Verdict::Regressed);
        assert_eq!(verdict(b), Verdict::Ok);
        assert_eq!(verdict(c), Verdict::Improved);
        assert_eq!(verdict(gone), Verdict::Missing);
        assert_eq!(verdict(fresh), Verdict::New);
        let a = rows.iter().find(|r| r.id == a).unwrap();
        assert!((a.change_lower.unwrap() - (119.0 / 101.0 - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn invariants_pass_on_healthy_data_and_name_what_broke() {
        let mut points = Vec::new();
        for k in StrategyKind::ALL {
            let two = if k.computes_in_parallel() {
                100.0
            } else {
                200.0
            };
            let sleep = if k.is_parallel() { 20.0 } else { 100.0 };
            points.extend([
                (CountdownWeak, k, 1, 100.0 * MS),
                (CountdownWeak, k, 2, two * MS),
                (SquareSleep, k, 4, sleep * MS * 1.5),
            ]);
        }
        let healthy = invariants(&report(&points), &Limits::default());
        let expected = StrategyKind::ALL.len()
            + StrategyKind::ALL
                .iter()
                .filter(|k| k.computes_in_parallel())
                .count()
            + 1;
        assert_eq!(healthy.len(), expected);
        assert!(
            healthy.iter().all(|c| c.verdict == CheckVerdict::Pass),
            "{healthy:?}"
        );
        // threads stops scaling: its efficiency at 2 workers falls to 0.5.
        for p in &mut points {
            if (p.0, p.1, p.2) == (CountdownWeak, Threads, 2) {
                p.3 = 200.0 * MS;
            }
        }
        let broken = invariants(&report(&points), &Limits::default());
        let failed: Vec<&str> = broken
            .iter()
            .filter(|c| c.verdict == CheckVerdict::Fail)
            .map(|c| c.check.as_str())
            .collect();
        assert_eq!(failed, ["countdown_weak/threads efficiency at 2 workers"]);
    }

    #[test]
    fn a_change_within_both_runs_drift_is_inconclusive_and_one_beyond_it_stands() {
        let t = Thresholds::default();
        let before: BTreeMap<BenchId, Estimate> =
            [(id(1), est(100.0, 1.0)), (id(2), est(100.0, 1.0))].into();
        let after: BTreeMap<BenchId, Estimate> =
            [(id(1), est(130.0, 1.0)), (id(2), est(200.0, 1.0))].into();
        let mut rows = compare(&before, &after, &t);
        assert!(rows.iter().all(|r| r.verdict == Verdict::Regressed));
        // Each run measured identical work 10% apart: +30% is within 1.1 × 1.1 × (1 + threshold).
        let held = hold_to_drift(&mut rows, 0.10, 0.10);
        assert_eq!(held, vec![id(1).to_string()]);
        assert_eq!(rows[0].verdict, Verdict::Inconclusive);
        assert_eq!(
            rows[1].verdict,
            Verdict::Regressed,
            "+100% is beyond any drift here"
        );
        // No drift measured: the threshold alone.
        let mut rows = compare(&before, &after, &t);
        assert!(hold_to_drift(&mut rows, 0.0, 0.0).is_empty());
    }
}

#[cfg(test)]
mod machine_tests {
    use super::*;
    use crate::measure::probe::Capacity;

    fn with_capacity(given: f64, ns: f64) -> Settings {
        let mut s = Settings::defaults();
        s.capacity.push(Capacity {
            at_unix_ms: 0,
            at: "after countdown_strong".into(),
            cores: 2,
            given: Estimate {
                point: given,
                lower: given,
                upper: given,
            },
        });
        let e = Estimate {
            point: ns,
            lower: ns,
            upper: ns,
        };
        s.instrument.push(crate::measure::instrument::Calibration {
            role: "bench".into(),
            program: "bench".into(),
            phase: "start".into(),
            placement: crate::workload::Placement::Pinned,
            ns_per_decrement: e,
            relative: Estimate {
                point: 1.0,
                lower: 1.0,
                upper: 1.0,
            },
            bursts: 12,
        });
        s
    }

    #[test]
    fn rows_of_a_machine_that_changed_between_runs_are_doubted() {
        let quiet = with_capacity(1.98, 0.30);
        let busy = with_capacity(1.20, 0.30);
        let slower = with_capacity(1.97, 0.40);
        assert!(machine_changed(&quiet, &quiet, Group::CountdownStrong).is_none());
        let why = machine_changed(&quiet, &busy, Group::CountdownStrong).unwrap();
        assert!(why.contains("1.98") && why.contains("1.20"), "{why}");
        assert!(machine_changed(&quiet, &slower, Group::CountdownStrong).is_some());
        // Latency-bound rows do not depend on the cores; unrecorded runs are not doubted.
        assert!(machine_changed(&quiet, &busy, Group::SquareSleep).is_none());
        assert!(machine_changed(&Settings::defaults(), &busy, Group::CountdownStrong).is_none());
    }
}
