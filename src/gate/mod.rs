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

pub mod ab;
pub mod paired;

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
    /// Measured on both sides, but the interval still straddles the threshold when the budget
    /// ran out (`gate --ab`).
    Inconclusive,
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

/// An invariant's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckVerdict {
    /// The invariant holds (with confidence, for paired checks).
    Pass,
    /// The invariant is broken (with confidence, for paired checks).
    Fail,
    /// Measured, but the interval still straddles the bound when the budget ran out (or the
    /// machine had no spare capacity to tell): neither pass nor fail.
    Inconclusive,
    /// Could not be judged: the data it needs is absent.
    Missing,
    /// Does not apply here (e.g. a 2-worker invariant on a 1-core machine).
    Skipped,
}

/// One invariant's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// What was checked, e.g. "countdown_weak/threads efficiency at 2 workers".
    pub check: String,
    /// The measured value, if the data was there.
    pub measured: Option<f64>,
    /// Lower bound of the measured value's 95% interval (paired checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    /// Upper bound of the measured value's 95% interval (paired checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// The bound, e.g. ">= 0.70".
    pub bound: String,
    /// The verdict.
    pub verdict: CheckVerdict,
    /// What else was measured alongside (the probe's efficiency, the rounds taken, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What the gate judged, counted once: the summary line and the exit code both come from here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Rows regressed beyond their threshold.
    pub regressed: usize,
    /// Rows improved beyond their threshold.
    pub improved: usize,
    /// Rows within their threshold.
    pub ok: usize,
    /// Rows whose interval straddled the threshold when sampling stopped.
    pub inconclusive: usize,
    /// Rows in the baseline but absent now.
    pub missing: usize,
    /// Rows absent from the baseline.
    pub new: usize,
    /// Invariants that hold.
    pub checks_passed: usize,
    /// Invariants that are broken.
    pub checks_failed: usize,
    /// Invariants measured without a decision.
    pub checks_inconclusive: usize,
    /// Invariants that could not be judged (data absent).
    pub checks_unjudged: usize,
    /// Invariants that do not apply here.
    pub checks_skipped: usize,
}

impl Tally {
    /// Judged and passed: ok and improved rows, passed invariants.
    pub fn passed(&self) -> usize {
        self.ok + self.improved + self.checks_passed
    }

    /// Judged and failed: regressed rows, failed invariants (and, with `strict`, missing rows and
    /// anything inconclusive).
    pub fn failed(&self, strict: bool) -> usize {
        let strict_extra = if strict {
            self.missing + self.inconclusive + self.checks_inconclusive
        } else {
            0
        };
        self.regressed + self.checks_failed + strict_extra
    }

    /// Whether anything at all was measured and compared.
    pub fn judged_anything(&self) -> bool {
        self.regressed
            + self.improved
            + self.ok
            + self.inconclusive
            + self.checks_passed
            + self.checks_failed
            + self.checks_inconclusive
            > 0
    }

    /// 1 when something failed; 2 when an invariant could not be judged or nothing was
    /// compared at all; 0 otherwise.
    pub fn exit_code(&self, strict: bool) -> u8 {
        if self.failed(strict) > 0 {
            1
        } else if self.checks_unjudged > 0 || !self.judged_anything() {
            2
        } else {
            0
        }
    }
}

/// Everything the gate found. Its `Serialize` is `gate --format json`'s output.
#[derive(Clone, Debug, Default)]
pub struct GateResult {
    /// Comparison rows (baseline, against or A/B mode).
    pub rows: Vec<Row>,
    /// Invariant checks.
    pub checks: Vec<Check>,
    /// Whether missing or inconclusive benchmarks fail the gate.
    pub strict: bool,
    /// Whether the rows compare times normalised by each strategy's 1-worker time.
    pub normalized: bool,
    /// `--ab`: how each comparison was sampled.
    pub ab: Vec<ab::AbDetail>,
    /// Warnings (different settings on the two sides, stale results left out).
    pub warnings: Vec<String>,
}

impl Serialize for GateResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            exit_code: u8,
            normalized: bool,
            rows: &'a [Row],
            invariants: &'a [Check],
            strict: bool,
            tally: Tally,
            ab: &'a [ab::AbDetail],
            warnings: &'a [String],
        }
        Json {
            exit_code: self.exit_code(),
            normalized: self.normalized,
            rows: &self.rows,
            invariants: &self.checks,
            strict: self.strict,
            tally: self.tally(),
            ab: &self.ab,
            warnings: &self.warnings,
        }
        .serialize(s)
    }
}

/// Which comparison the gate makes.
#[derive(Clone, Debug)]
pub enum GateMode {
    /// Interleaved A/B of two builds (`--ab`).
    Ab(ab::AbConfig),
    /// The paired invariants, measured live (`--paired-invariants`).
    Paired(paired::PairedConfig),
    /// Checks on Criterion's saved results (`--baseline`, `--against`, `--invariants`).
    Data(DataChecks),
}

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
    pub invariants: Option<InvariantLimits>,
    /// Regression thresholds.
    pub thresholds: Thresholds,
}

/// What `poolscale gate` does.
#[derive(Clone, Debug)]
pub struct GateConfig {
    /// The comparison.
    pub mode: GateMode,
    /// Missing, inconclusive or stale results fail the gate.
    pub strict: bool,
}

/// Runs the gate, telling `progress` what it is measuring (for stderr).
pub fn run(cfg: &GateConfig, progress: &mut dyn FnMut(&str)) -> Result<GateResult> {
    let mut result = GateResult {
        strict: cfg.strict,
        ..GateResult::default()
    };
    match &cfg.mode {
        GateMode::Ab(ab) => {
            let t0 = std::time::Instant::now();
            let (rows, details) = ab::run(ab, &mut |k, n, id| {
                let spent = t0.elapsed().as_secs_f64();
                let left = if k > 1 {
                    format!(
                        ", ~{:.0} s left",
                        spent / (k - 1) as f64 * (n - k + 1) as f64
                    )
                } else {
                    String::new()
                };
                progress(&format!("[{k}/{n}] {id} ({spent:.0} s{left})"));
            })?;
            result.rows = rows;
            result.ab = details;
        }
        GateMode::Paired(p) => {
            let mut k = 0;
            result.checks = paired::run(p, &mut |what| {
                k += 1;
                progress(&format!("[{k}] {what}"));
            })?;
        }
        GateMode::Data(d) => run_data_checks(d, cfg.strict, &mut result)?,
    }
    Ok(result)
}

fn run_data_checks(d: &DataChecks, strict: bool, result: &mut GateResult) -> Result<()> {
    if let Some(b) = d.baseline.as_deref() {
        match b {
            "new" => {
                return Err(Error::invalid(
                    "baseline",
                    b,
                    "`new` is the latest run itself; compare against a baseline saved with `cargo bench -- --save-baseline NAME`",
                ));
            }
            "base" => {
                return Err(Error::invalid(
                    "baseline",
                    b,
                    "`base` is not a saved baseline: Criterion copies every plain run's results to `base`, so it is the latest run; save one with `cargo bench -- --save-baseline NAME`",
                ));
            }
            _ => {}
        }
    }
    let current = crate::report::load(&d.criterion_dir, "new", strict)?;
    result.warnings.extend(current.warnings);
    let current = current.report;
    result.normalized = d.normalize;
    let after = points(&current, d.normalize);
    let mut befores = Vec::new();
    if let Some(b) = &d.baseline {
        let before = crate::report::load(&d.criterion_dir, b, strict)?;
        result.warnings.extend(before.warnings);
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
        result.rows.extend(compare(
            &points(&before, d.normalize),
            &after,
            &d.thresholds,
        ));
    }
    if let Some(limits) = &d.invariants {
        result.checks = invariants(&current, limits);
    }
    Ok(())
}

impl GateResult {
    /// Counts every row and check by verdict.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for r in &self.rows {
            match r.verdict {
                Verdict::Ok => t.ok += 1,
                Verdict::Regressed => t.regressed += 1,
                Verdict::Improved => t.improved += 1,
                Verdict::Inconclusive => t.inconclusive += 1,
                Verdict::Missing => t.missing += 1,
                Verdict::New => t.new += 1,
            }
        }
        for c in &self.checks {
            match c.verdict {
                CheckVerdict::Pass => t.checks_passed += 1,
                CheckVerdict::Fail => t.checks_failed += 1,
                CheckVerdict::Inconclusive => t.checks_inconclusive += 1,
                CheckVerdict::Missing => t.checks_unjudged += 1,
                CheckVerdict::Skipped => t.checks_skipped += 1,
            }
        }
        t
    }

    /// 0 pass, 1 regression or failed invariant (with `strict`: or a missing or inconclusive
    /// one), 2 could not judge (an invariant without its data, or nothing compared at all).
    pub fn exit_code(&self) -> u8 {
        self.tally().exit_code(self.strict)
    }

    /// Bencher Metric Format of the compared rows: `{id: {"ratio": {value, lower_value,
    /// upper_value}}}`, the ratio being after/before (1.10 = 10% slower).
    pub fn bmf_ratios(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for r in &self.rows {
            if let (Some(c), Some(lo), Some(hi)) = (r.change, r.change_lower, r.change_upper) {
                out.insert(
                    r.id.clone(),
                    serde_json::json!({"ratio": {"value": 1.0 + c, "lower_value": 1.0 + lo, "upper_value": 1.0 + hi}}),
                );
            }
        }
        serde_json::Value::Object(out)
    }

    /// The closing line: what was judged, and the rest named by kind.
    pub fn summary(&self) -> String {
        let t = self.tally();
        let mut s = format!(
            "{} regressed, {} improved, {} ok, {} inconclusive, {} missing, {} new; invariants: {} passed, {} failed, {} inconclusive, {} could not be judged, {} skipped\n",
            t.regressed,
            t.improved,
            t.ok,
            t.inconclusive,
            t.missing,
            t.new,
            t.checks_passed,
            t.checks_failed,
            t.checks_inconclusive,
            t.checks_unjudged,
            t.checks_skipped,
        );
        if !t.judged_anything() {
            s.push_str("gate: nothing was compared (no benchmark or invariant in common)\n");
        }
        s.push_str(&format!(
            "gate: {} passed, {} failed\n",
            t.passed(),
            t.failed(self.strict)
        ));
        s
    }

    /// The human table.
    pub fn to_table(&self) -> String {
        let normalized = self.normalized;
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
                let measured = match (c.measured, c.lower, c.upper) {
                    (Some(m), Some(lo), Some(hi)) => format!("{m:.3} [{lo:.3}, {hi:.3}]"),
                    (Some(m), _, _) => format!("{m:.3}"),
                    _ => "–".into(),
                };
                let verdict = serde_json::to_value(c.verdict)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                rows.push(vec![
                    c.check.clone(),
                    measured,
                    c.bound.clone(),
                    verdict,
                    c.detail.clone().unwrap_or_default(),
                ]);
            }
            out.push_str(&text_table(
                &[
                    "invariant",
                    "measured [95% CI]",
                    "bound",
                    "verdict",
                    "detail",
                ],
                &rows,
            ));
        }
        out.push('\n');
        out.push_str(&self.summary());
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
        Some(v) if ok(v) => CheckVerdict::Pass,
        Some(_) => CheckVerdict::Fail,
        None => CheckVerdict::Missing,
    };
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
                lower: None,
                upper: None,
                bound: format!("{bound} (needs 2+ cores; this machine has 1)"),
                verdict: CheckVerdict::Skipped,
                detail: None,
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
