//! Everything one gate run found ([`GateResult`]), counted once ([`Tally`]): the summary line, the
//! exit code, the table, the JSON and the BMF export all come from here.

use serde::Serialize;

use super::ab::AbDetail;
use super::{Check, CheckVerdict, Row, Verdict};
use crate::units::{fmt_change, fmt_ns, text_table};

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
    /// Stale results left out.
    pub stale: usize,
    /// Rows whose change lies within their layout spread (`--layouts`).
    pub layout: usize,
}

impl Tally {
    /// Judged and passed: ok and improved rows, passed invariants.
    pub fn passed(&self) -> usize {
        self.ok + self.improved + self.layout + self.checks_passed
    }

    /// Judged and failed: regressed rows, failed invariants (and, with `strict`, missing rows and
    /// anything inconclusive).
    pub fn failed(&self, strict: bool) -> usize {
        let strict_extra = if strict {
            self.missing + self.inconclusive + self.checks_inconclusive + self.stale
        } else {
            0
        };
        self.regressed + self.checks_failed + strict_extra
    }

    /// Measured or listed but neither passed nor failed: inconclusive rows and checks, skipped
    /// and unjudged checks (and, without `strict`, missing rows). New rows are not counted.
    pub fn not_judged(&self, strict: bool) -> usize {
        let loose = if strict {
            0
        } else {
            self.missing + self.inconclusive + self.checks_inconclusive
        };
        loose + self.checks_unjudged + self.checks_skipped
    }

    /// Whether anything at all was judged: a row or an invariant with a verdict. Inconclusive
    /// and skipped ones are measured or listed but not judged: a gate whose every row and check
    /// is inconclusive or skipped has decided nothing, and exits 2 like one that compared
    /// nothing.
    pub fn judged_anything(&self) -> bool {
        self.regressed
            + self.improved
            + self.ok
            + self.layout
            + self.checks_passed
            + self.checks_failed
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
    pub ab: Vec<AbDetail>,
    /// Warnings (different settings on the two sides, stale results left out).
    pub warnings: Vec<String>,
    /// Stale results left out (Criterion data older than the latest run).
    pub stale: usize,
    /// `--ab`: both sides' cost per countdown decrement at the start and end of the run.
    pub instrument: Vec<crate::measure::instrument::Calibration>,
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
            ab: &'a [AbDetail],
            warnings: &'a [String],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            instrument: &'a [crate::measure::instrument::Calibration],
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
            instrument: &self.instrument,
        }
        .serialize(s)
    }
}

impl GateResult {
    /// Counts every row and check by verdict.
    pub fn tally(&self) -> Tally {
        let mut t = Tally {
            stale: self.stale,
            ..Tally::default()
        };
        for r in &self.rows {
            match r.verdict {
                Verdict::Ok => t.ok += 1,
                Verdict::Regressed => t.regressed += 1,
                Verdict::Improved => t.improved += 1,
                Verdict::Inconclusive => t.inconclusive += 1,
                Verdict::Missing => t.missing += 1,
                Verdict::New => t.new += 1,
                Verdict::Layout => t.layout += 1,
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
                    r.id.to_string(),
                    serde_json::json!({"ratio": {"value": 1.0 + c, "lower_value": 1.0 + lo, "upper_value": 1.0 + hi}}),
                );
            }
        }
        serde_json::Value::Object(out)
    }

    /// The closing line: what was judged, and the rest named by kind.
    pub fn summary(&self) -> String {
        let t = self.tally();
        let mut parts = Vec::new();
        if !self.rows.is_empty() || self.checks.is_empty() {
            parts.push(format!(
                "{} regressed, {} improved, {} ok, {} inconclusive, {} missing, {} new{}",
                t.regressed,
                t.improved,
                t.ok,
                t.inconclusive,
                t.missing,
                t.new,
                if t.layout > 0 || self.rows.iter().any(|r| r.layout_spread.is_some()) {
                    format!(", {} within their layout spread", t.layout)
                } else {
                    String::new()
                }
            ));
        }
        if !self.checks.is_empty() {
            parts.push(format!(
                "invariants: {} passed, {} failed, {} inconclusive, {} could not be judged, {} skipped",
                t.checks_passed,
                t.checks_failed,
                t.checks_inconclusive,
                t.checks_unjudged,
                t.checks_skipped,
            ));
        }
        if t.stale > 0 {
            parts.push(format!(
                "{} stale results left out{}",
                t.stale,
                if self.strict {
                    " (failures under --strict)"
                } else {
                    ""
                }
            ));
        }
        let mut s = parts.join("; ") + "\n";
        if !t.judged_anything() {
            s.push_str(
                "gate: nothing was compared to a verdict (no benchmark or invariant in common, or every row inconclusive)\n",
            );
        }
        s.push_str(&format!(
            "gate: {} passed, {} failed, {} not judged\n",
            t.passed(),
            t.failed(self.strict),
            t.not_judged(self.strict)
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
            let layouts = self.rows.iter().any(|r| r.layout_spread.is_some());
            let mut rows = Vec::new();
            for r in &self.rows {
                let change = match (r.change, r.change_lower, r.change_upper) {
                    (Some(c), Some(lo), Some(hi)) => {
                        format!("{} [{}, {}]", fmt_change(c), fmt_change(lo), fmt_change(hi))
                    }
                    _ => "–".into(),
                };
                let mut row = vec![
                    r.id.to_string(),
                    show(r.before),
                    show(r.after),
                    change,
                    format!("{:.0}%", r.threshold * 100.0),
                    format!("{:?}", r.verdict).to_lowercase(),
                ];
                if layouts {
                    row.insert(
                        4,
                        r.layout_spread
                            .map_or_else(|| "–".into(), |s| format!("±{:.1}%", s * 100.0)),
                    );
                }
                rows.push(row);
            }
            let mut header = vec![
                "benchmark",
                "old",
                "new",
                "change [95% CI]",
                "threshold",
                "verdict",
            ];
            if layouts {
                header.insert(4, "layout spread");
            }
            out.push_str(&text_table(&header, &rows));
            if layouts {
                out.push_str(
                    "layout spread: how far one layout variant's median lay from the others' (the \
                     same code linked in another order); a change within it is `layout`, not a \
                     failure.\n",
                );
            }
            out.push_str(if self.ab.is_empty() {
                "old, new: the two runs' Criterion medians per iteration; change: new/old - 1 with \
                 the interval from both medians' intervals; –: no number (a benchmark only one side has).\n"
            } else {
                "old, new: each side's median per iteration over its samples; change: the paired \
                 estimate of new/old - 1 (Hodges-Lehmann over per-pair ratios) with its 95% interval. \
                 The paired estimate cancels the machine's drift, so it can disagree with the two \
                 medians; judge by it. –: no number (a benchmark only one side has, or too few pairs).\n"
            });
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
        if !self.instrument.is_empty() {
            out.push('\n');
            out.push_str(&instrument_table(&self.instrument));
        }
        out.push('\n');
        out.push_str(&self.summary());
        out
    }
}

/// The instrument check of an A/B run: each side's cost per decrement, and whether they agree.
pub fn instrument_table(calibrations: &[crate::measure::instrument::Calibration]) -> String {
    let mut out = String::from(
        "instrument: ns per countdown decrement, each side timing its own loop, interleaved\n",
    );
    let header = crate::measure::instrument::table_header("old");
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out.push_str(&text_table(
        &header,
        &crate::measure::instrument::table_rows(calibrations),
    ));
    if let Some(v) = crate::measure::instrument::verdict(calibrations) {
        if v.differ {
            out.push_str(&format!(
                "instrument: the two sides' countdowns differ by {:.1}% (more than {:.0}%): CPU-bound rows measure the loops as well as the change\n",
                v.spread * 100.0,
                crate::measure::instrument::TOLERANCE * 100.0
            ));
        } else {
            out.push_str(&format!(
                "instrument: the two sides' countdowns agree within {:.1}%\n",
                v.spread * 100.0
            ));
        }
        if !v.unpinned.is_empty() {
            out.push_str(&format!(
                "instrument: countdown loop not pinned in: {}\n",
                v.unpinned.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tally_tests {
    use super::*;

    #[test]
    fn a_gate_that_judged_nothing_exits_2() {
        // Every invariant inconclusive or skipped: nothing decided.
        let t = Tally {
            checks_inconclusive: 3,
            checks_skipped: 2,
            ..Tally::default()
        };
        assert_eq!(t.exit_code(false), 2);
        // One decided, the rest inconclusive: judged.
        let t = Tally {
            checks_passed: 1,
            ..t
        };
        assert_eq!(t.exit_code(false), 0);
        let t = Tally {
            inconclusive: 4,
            ..Tally::default()
        };
        assert_eq!(t.exit_code(false), 2);
    }

    #[test]
    fn the_closing_line_counts_what_was_not_judged() {
        let t = Tally {
            ok: 40,
            inconclusive: 6,
            missing: 1,
            checks_skipped: 2,
            ..Tally::default()
        };
        assert_eq!(
            (t.passed(), t.failed(false), t.not_judged(false)),
            (40, 0, 9)
        );
        // Under --strict the inconclusive and missing rows fail instead.
        assert_eq!((t.failed(true), t.not_judged(true)), (7, 2));
    }
}
