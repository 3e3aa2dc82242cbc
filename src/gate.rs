//! `poolscale gate`: fail CI on scaling regressions without crying wolf on a noisy machine.
//!
//! Three checks, any combination:
//! - **Baseline**: each benchmark's latest median against a saved Criterion baseline. The change's
//!   interval is the conservative one `[after_lo / before_hi − 1, after_hi / before_lo − 1]` from
//!   both medians' 95% intervals; a benchmark regresses only when the whole interval lies above the
//!   threshold, so run-to-run noise that Criterion's intervals already cover cannot trip it.
//! - **Against**: the same, against a `results.json` written by `poolscale report`, possibly from
//!   another machine. With `normalize`, every time is first divided by the same run's 1-worker time
//!   of the same group and strategy, so machine speed cancels and only the scaling shape is compared.
//! - **Invariants**: facts that hold on any machine, no baseline needed (see [`InvariantLimits`]).
//!
//! Exit status: 0 nothing regressed, 1 something regressed or an invariant failed (or, with
//! `strict`, a benchmark is missing), 2 the gate could not judge (no data, malformed data, an
//! invariant without the points it needs).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::group::Group;
use crate::report::{BenchRecord, Report};
use crate::settings::Settings;
use crate::strategy::StrategyKind;
use crate::units::{fmt_change, fmt_ns, text_table};

/// Parses a percentage: `10%`, `10` (percent) or `0.1%`; returns a fraction (0.10).
pub fn parse_percent(s: &str) -> Result<f64> {
    let t = s.trim();
    let num = t.strip_suffix('%').unwrap_or(t).trim();
    let v: f64 = num.parse().map_err(|e| {
        Error::invalid("percentage", s, format!("{e}; expected a form such as 10%"))
    })?;
    if !v.is_finite() || !(0.0..=1000.0).contains(&v) {
        return Err(Error::invalid(
            "percentage",
            s,
            "must be between 0% and 1000%",
        ));
    }
    Ok(v / 100.0)
}

/// Parses `GROUP=PERCENT`, e.g. `square_sleep=5%`.
pub fn parse_group_threshold(s: &str) -> Result<(Group, f64)> {
    let (g, p) = s.split_once('=').ok_or_else(|| {
        Error::invalid(
            "group threshold",
            s,
            "expected GROUP=PERCENT, e.g. square_sleep=5%",
        )
    })?;
    Ok((g.trim().parse()?, parse_percent(p)?))
}

/// Regression thresholds: a default and per-group overrides (fractions: 0.10 = 10%).
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// Applies to groups without an override.
    pub default: f64,
    /// Per-group overrides.
    pub per_group: BTreeMap<Group, f64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            default: 0.10,
            per_group: BTreeMap::new(),
        }
    }
}

impl Thresholds {
    /// The threshold for `group`.
    pub fn for_group(&self, group: Group) -> f64 {
        self.per_group.get(&group).copied().unwrap_or(self.default)
    }
}

/// A comparison's outcome for one benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Within the threshold.
    Ok,
    /// Slower beyond the threshold, with confidence.
    Regressed,
    /// Faster beyond the threshold, with confidence.
    Improved,
    /// In the baseline, absent now (or not comparable).
    Missing,
    /// Absent from the baseline.
    New,
}

/// One benchmark's time: a point and its interval, in ns or (normalised) in units of t1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The estimate.
    pub value: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// One row of the comparison table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Bench id.
    pub id: String,
    /// Before (ns, or a ratio to t1 when normalised).
    pub before: Option<f64>,
    /// After, in the same unit.
    pub after: Option<f64>,
    /// `after / before − 1`.
    pub change: Option<f64>,
    /// Lower bound of the change's interval.
    pub change_lower: Option<f64>,
    /// Upper bound of the change's interval.
    pub change_upper: Option<f64>,
    /// The threshold applied (fraction).
    pub threshold: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Bounds for the invariants (`--invariants`); the defaults leave room for a noisy 2-core CI
/// machine while still catching a broken strategy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvariantLimits {
    /// square_sleep: measured/ideal at most this, for every strategy and worker count.
    pub max_square_ratio: f64,
    /// countdown_weak: efficiency at 2 workers at least this for threads, rayon, crossbeam and
    /// processes (checked only on machines with 2+ cores).
    pub min_weak_efficiency: f64,
    /// countdown_weak: gil at 2 workers at least this many times its 1-worker time.
    pub min_gil_slowdown: f64,
}

impl Default for InvariantLimits {
    fn default() -> Self {
        InvariantLimits {
            max_square_ratio: 1.5,
            min_weak_efficiency: 0.70,
            min_gil_slowdown: 1.5,
        }
    }
}

/// One invariant's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// What was checked, e.g. "countdown_weak/threads efficiency at 2 workers".
    pub check: String,
    /// The measured value, if the data was there.
    pub measured: Option<f64>,
    /// The bound, e.g. ">= 0.70".
    pub bound: String,
    /// `pass`, `fail`, `missing` (could not judge) or `skipped` (does not apply here).
    pub verdict: &'static str,
}

/// Everything the gate found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GateResult {
    /// Comparison rows (baseline or against mode).
    pub rows: Vec<Row>,
    /// Invariant checks.
    pub checks: Vec<Check>,
    /// Whether missing benchmarks fail the gate.
    pub strict: bool,
}

impl GateResult {
    /// 0 pass, 1 regression or failed invariant (or missing with strict), 2 could not judge.
    pub fn exit_code(&self) -> u8 {
        let regressed = self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
            || self.checks.iter().any(|c| c.verdict == "fail")
            || (self.strict && self.rows.iter().any(|r| r.verdict == Verdict::Missing));
        let unjudged = self.checks.iter().any(|c| c.verdict == "missing");
        if regressed {
            1
        } else if unjudged {
            2
        } else {
            0
        }
    }

    /// The human table.
    pub fn to_table(&self, normalized: bool) -> String {
        let mut out = String::new();
        let show = |v: Option<f64>| match v {
            Some(v) if normalized => format!("{v:.3}×t1"),
            Some(v) => fmt_ns(v),
            None => "–".into(),
        };
        if !self.rows.is_empty() {
            let mut rows = Vec::new();
            for r in &self.rows {
                let change = match (r.change, r.change_lower, r.change_upper) {
                    (Some(c), Some(lo), Some(hi)) => {
                        format!("{} [{}, {}]", fmt_change(c), fmt_change(lo), fmt_change(hi))
                    }
                    _ => "–".into(),
                };
                rows.push(vec![
                    r.id.clone(),
                    show(r.before),
                    show(r.after),
                    change,
                    format!("{:.0}%", r.threshold * 100.0),
                    format!("{:?}", r.verdict).to_lowercase(),
                ]);
            }
            let header = [
                "benchmark",
                "before",
                "after",
                "change [95% CI]",
                "threshold",
                "verdict",
            ];
            out.push_str(&text_table(&header, &rows));
        }
        if !self.checks.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            let mut rows = Vec::new();
            for c in &self.checks {
                rows.push(vec![
                    c.check.clone(),
                    c.measured.map_or_else(|| "–".into(), |m| format!("{m:.3}")),
                    c.bound.clone(),
                    c.verdict.to_string(),
                ]);
            }
            out.push_str(&text_table(
                &["invariant", "measured", "bound", "verdict"],
                &rows,
            ));
        }
        let count = |v: Verdict| self.rows.iter().filter(|r| r.verdict == v).count();
        let checks = |v: &str| self.checks.iter().filter(|c| c.verdict == v).count();
        out.push_str(&format!(
            "\n{} regressed, {} improved, {} ok, {} missing, {} new; invariants: {} passed, {} failed, {} could not be judged, {} skipped\n",
            count(Verdict::Regressed),
            count(Verdict::Improved),
            count(Verdict::Ok),
            count(Verdict::Missing),
            count(Verdict::New),
            checks("pass"),
            checks("fail"),
            checks("missing"),
            checks("skipped"),
        ));
        let missing_fails = if self.strict {
            count(Verdict::Missing)
        } else {
            0
        };
        let failed = count(Verdict::Regressed) + checks("fail") + checks("missing") + missing_fails;
        let passed =
            count(Verdict::Ok) + count(Verdict::Improved) + count(Verdict::New) + checks("pass");
        out.push_str(&format!("gate: {passed} passed, {failed} failed\n"));
        out
    }
}

/// The points of a report, optionally normalised by each (group, strategy)'s 1-worker median.
/// Benchmarks that cannot be normalised (no 1-worker time) are left out.
pub fn points(report: &Report, normalize: bool) -> BTreeMap<String, (Group, Point)> {
    let t1 = |r: &BenchRecord| report.get(r.group, r.strategy, 1).map(|one| one.median_ns);
    report
        .records
        .iter()
        .filter_map(|r| {
            let scale = if normalize { t1(r)? } else { 1.0 };
            let p = Point {
                value: r.median_ns / scale,
                lower: r.median_lower_ns / scale,
                upper: r.median_upper_ns / scale,
            };
            Some((r.id.clone(), (r.group, p)))
        })
        .collect()
}

/// Compares two sets of points benchmark by benchmark.
pub fn compare(
    before: &BTreeMap<String, (Group, Point)>,
    after: &BTreeMap<String, (Group, Point)>,
    thresholds: &Thresholds,
) -> Vec<Row> {
    let mut ids: Vec<&String> = before.keys().chain(after.keys()).collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let b = before.get(id);
            let a = after.get(id);
            let group = b.or(a).map(|(g, _)| *g).unwrap_or(Group::Dispatch);
            let threshold = thresholds.for_group(group);
            let mut row = Row {
                id: id.clone(),
                before: b.map(|(_, p)| p.value),
                after: a.map(|(_, p)| p.value),
                change: None,
                change_lower: None,
                change_upper: None,
                threshold,
                verdict: Verdict::Missing,
            };
            match (b, a) {
                (Some((_, b)), Some((_, a))) if b.value > 0.0 && b.lower > 0.0 => {
                    let lo = a.lower / b.upper - 1.0;
                    let hi = a.upper / b.lower - 1.0;
                    row.change = Some(a.value / b.value - 1.0);
                    row.change_lower = Some(lo);
                    row.change_upper = Some(hi);
                    row.verdict = if lo > threshold {
                        Verdict::Regressed
                    } else if hi < -threshold {
                        Verdict::Improved
                    } else {
                        Verdict::Ok
                    };
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
    diff("cpu", before.machine.cpu.clone(), after.machine.cpu.clone());
    diff(
        "logical cores",
        before.machine.logical_cores.to_string(),
        after.machine.logical_cores.to_string(),
    );
    out
}

/// An invariant's row: `pass` or `fail` by `ok`, or `missing` without a measurement.
fn judge(check: String, bound: String, measured: Option<f64>, ok: impl Fn(f64) -> bool) -> Check {
    let verdict = match measured {
        Some(v) if ok(v) => "pass",
        Some(_) => "fail",
        None => "missing",
    };
    Check {
        check,
        measured,
        bound,
        verdict,
    }
}

/// Checks the machine-independent invariants on one report.
pub fn invariants(report: &Report, limits: &InvariantLimits) -> Vec<Check> {
    let mut checks = Vec::new();
    // square_sleep: every strategy near its ideal at every worker count (its worst point).
    for kind in StrategyKind::ALL {
        let worst = report
            .group(Group::SquareSleep)
            .filter(|r| r.strategy == kind)
            .filter_map(|r| r.measured_over_ideal)
            .reduce(f64::max);
        checks.push(judge(
            format!("square_sleep/{kind} worst measured/ideal"),
            format!("<= {:.2}", limits.max_square_ratio),
            worst,
            |v| v <= limits.max_square_ratio,
        ));
    }
    // countdown_weak: compute-parallel strategies keep their efficiency at 2 workers.
    for kind in StrategyKind::ALL
        .into_iter()
        .filter(|k| k.computes_in_parallel())
    {
        let check = format!("countdown_weak/{kind} efficiency at 2 workers");
        let bound = format!(">= {:.2}", limits.min_weak_efficiency);
        if report.cores < 2 {
            checks.push(Check {
                check,
                measured: None,
                bound: format!("{bound} (needs 2+ cores; this machine has 1)"),
                verdict: "skipped",
            });
            continue;
        }
        let eff = report
            .get(Group::CountdownWeak, kind, 2)
            .and_then(|r| r.efficiency);
        checks.push(judge(check, bound, eff, |e| {
            e >= limits.min_weak_efficiency
        }));
    }
    // gil: the seed's effect shows.
    let ratio = match (
        report.get(Group::CountdownWeak, StrategyKind::Gil, 1),
        report.get(Group::CountdownWeak, StrategyKind::Gil, 2),
    ) {
        (Some(one), Some(two)) if one.median_ns > 0.0 => Some(two.median_ns / one.median_ns),
        _ => None,
    };
    checks.push(judge(
        "countdown_weak/gil 2-worker time / 1-worker time".to_string(),
        format!(">= {:.2}", limits.min_gil_slowdown),
        ratio,
        |r| r >= limits.min_gil_slowdown,
    ));
    checks
}
