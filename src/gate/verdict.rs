//! The gate's vocabulary and its one judge: thresholds and limits, the verdict of a compared
//! benchmark ([`Row`], decided by [`change_verdict`]) and of an invariant ([`Check`], decided by
//! [`Bound::judge`]). Every mode (Criterion baselines, `--against`, `--ab`, the invariants, the
//! paired invariants) reaches its verdicts through these two functions.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::group::{BenchId, Group};
use crate::stats::Estimate;

/// A change's verdict from its interval `[lower, upper]` (of new/old − 1) against `±threshold`:
/// regressed or improved when the whole interval lies beyond, ok when it lies within, `None` while
/// it straddles a threshold (the A/B gate samples on, then says inconclusive; two Criterion runs
/// minutes apart, which cannot sample on, call that ok).
pub fn change_verdict(lower: f64, upper: f64, threshold: f64) -> Option<Verdict> {
    if lower > threshold {
        Some(Verdict::Regressed)
    } else if upper < -threshold {
        Some(Verdict::Improved)
    } else if lower >= -threshold && upper <= threshold {
        Some(Verdict::Ok)
    } else {
        None
    }
}

/// The bound an invariant holds its estimate to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// At least this.
    AtLeast(f64),
    /// At most this.
    AtMost(f64),
}

impl Bound {
    /// Pass when the whole interval keeps the bound, fail when the whole interval breaks it,
    /// `None` while it straddles the bound. A value without an interval is its own interval.
    pub fn judge(self, e: Estimate) -> Option<CheckVerdict> {
        let (keeps, breaks) = match self {
            Bound::AtLeast(min) => (e.lower >= min, e.upper < min),
            Bound::AtMost(max) => (e.upper <= max, e.lower > max),
        };
        if breaks {
            Some(CheckVerdict::Fail)
        } else if keeps {
            Some(CheckVerdict::Pass)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::AtLeast(v) => write!(f, ">= {v:.2}"),
            Bound::AtMost(v) => write!(f, "<= {v:.2}"),
        }
    }
}

/// Every invariant's limit, in one table: the Criterion-data invariants (`--invariants`) and the
/// live paired ones (`--paired-invariants`) read the same values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// square_sleep: measured/ideal at most this.
    pub max_square_ratio: f64,
    /// countdown_weak (`--invariants`): a compute-parallel strategy's efficiency at 2 workers at
    /// least this (checked only on machines with 2+ cores).
    pub min_weak_efficiency: f64,
    /// countdown_weak (`--paired-invariants`): a compute-parallel strategy's efficiency at `w`
    /// workers divided by the probe's, at least this. A serialised strategy on a machine that
    /// gives ≥ 1.3 cores scores ≤ 0.77 at 2 workers; a healthy one ~1.0.
    pub min_relative_efficiency: f64,
    /// countdown_weak: gil at 2 workers at least this many times its 1-worker time.
    pub min_gil_slowdown: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_square_ratio: 1.5,
            min_weak_efficiency: 0.70,
            min_relative_efficiency: 0.85,
            min_gil_slowdown: 1.5,
        }
    }
}

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

/// The smallest regression threshold the gate applies to this group unless told otherwise
/// (`--group-threshold`); 0 for the groups that follow `--threshold`. 25% for `wakeup`, whose
/// single wake-ups on a shared machine vary by tens of percent between identical builds (their
/// intervals on 2 cores: ±10-28%), and for `dispatch` and `dispatch_bulk`, whose few
/// nanoseconds per task depend on code layout: two builds of the same source, compiled in
/// different directories, differed by 20% on `dispatch_bulk/threads/1` (interval −25.6% to
/// −14.6%, confirmed by a second measurement with fresh sides).
pub fn noise_floor(group: Group) -> f64 {
    match group {
        Group::Wakeup | Group::Dispatch | Group::DispatchBulk => 0.25,
        _ => 0.0,
    }
}

impl Thresholds {
    /// The threshold for `group`: its override if given, else the default, but never below the
    /// group's noise floor ([`noise_floor`]).
    pub fn for_group(&self, group: Group) -> f64 {
        self.per_group
            .get(&group)
            .copied()
            .unwrap_or_else(|| self.default.max(noise_floor(group)))
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
    /// Beyond the threshold, but within the benchmark's layout spread (`gate --ab --layouts`):
    /// the change is as large as moving the same code elsewhere does. Not a failure.
    Layout,
}

/// One row of the comparison table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Bench id.
    pub id: BenchId,
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
    /// `--layouts`: how far one layout variant's median lies from the others', as a fraction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout_spread: Option<f64>,
}

impl Row {
    /// A row for benchmark `id` under `threshold`, nothing measured yet (`missing`).
    pub fn new(id: BenchId, threshold: f64) -> Row {
        Row {
            id,
            before: None,
            after: None,
            change: None,
            change_lower: None,
            change_upper: None,
            threshold,
            verdict: Verdict::Missing,
            layout_spread: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn est(lower: f64, upper: f64) -> Estimate {
        Estimate {
            point: (lower + upper) / 2.0,
            lower,
            upper,
        }
    }

    #[test]
    fn a_change_is_judged_by_where_its_whole_interval_lies() {
        assert_eq!(change_verdict(0.11, 0.20, 0.10), Some(Verdict::Regressed));
        assert_eq!(change_verdict(-0.20, -0.11, 0.10), Some(Verdict::Improved));
        assert_eq!(change_verdict(-0.10, 0.10, 0.10), Some(Verdict::Ok));
        assert_eq!(change_verdict(0.05, 0.15, 0.10), None);
        assert_eq!(change_verdict(-0.15, 0.0, 0.10), None);
    }

    #[test]
    fn a_bound_passes_fails_or_waits_on_the_whole_interval() {
        let min = Bound::AtLeast(0.85);
        assert_eq!(min.judge(est(0.86, 1.1)), Some(CheckVerdict::Pass));
        assert_eq!(min.judge(est(0.5, 0.84)), Some(CheckVerdict::Fail));
        assert_eq!(min.judge(est(0.8, 0.9)), None);
        let max = Bound::AtMost(1.5);
        assert_eq!(max.judge(est(1.0, 1.5)), Some(CheckVerdict::Pass));
        assert_eq!(max.judge(est(1.6, 2.0)), Some(CheckVerdict::Fail));
        assert_eq!(max.judge(est(1.4, 1.6)), None);
        // A single value is its own interval: always decided.
        assert_eq!(max.judge(est(1.5, 1.5)), Some(CheckVerdict::Pass));
        assert_eq!(min.to_string(), ">= 0.85");
        assert_eq!(max.to_string(), "<= 1.50");
    }

    #[test]
    fn a_noisy_group_keeps_its_floor_unless_told() {
        let mut t = Thresholds::default();
        assert_eq!(t.for_group(Group::CountdownWeak), 0.10);
        assert_eq!(t.for_group(Group::Wakeup), 0.25);
        assert_eq!(t.for_group(Group::DispatchBulk), 0.25);
        t.default = 0.40;
        assert_eq!(t.for_group(Group::Wakeup), 0.40);
        t.per_group.insert(Group::Wakeup, 0.05);
        assert_eq!(t.for_group(Group::Wakeup), 0.05);
    }
}
