//! Program 1, the countdown: each worker counts the full count, at 1 then 2 workers.

use super::python::PyCountdown;
use super::*;
use crate::error::Result;
use crate::measure::timed_map;
use crate::stats::Estimate;
use crate::strategy::{Entry, Options, Outcome, Started};
use crate::workload::countdown_jobs;

/// One row of the countdown table.
#[derive(Clone, Debug, PartialEq)]
pub struct CountdownRow {
    /// e.g. `gil` or `Python threads`.
    pub implementation: String,
    /// Total wall time with 1 worker, seconds (median of the runs).
    pub one_s: f64,
    /// Total wall time with 2 workers, seconds (median of the runs).
    pub two_s: f64,
    /// 2-worker time / 1-worker time, paired: each 2-worker run beside a 1-worker run (in
    /// alternating order), the estimate over the pairs' ratios ([`pair_estimate`]).
    pub ratio: Estimate,
    /// Pairs measured.
    pub pairs: usize,
}

/// The estimate of `t2 / t1` over pairs `(t1, t2)` measured in alternation: from
/// [`crate::stats::MIN_N`] pairs on, the report's paired estimator (each side read at its fastest
/// twentieth over the same pairs, [`crate::stats::ArmQuantiles`]); below that, the median of the
/// pairs' ratios within their range.
pub fn pair_estimate(pairs: &[(f64, f64)]) -> Option<Estimate> {
    let rounds: Vec<Vec<f64>> = pairs.iter().map(|&(a, b)| vec![a, b]).collect();
    if let Some(e) = crate::measure::scaling::ratio(&rounds, 0, 1) {
        return Some(e);
    }
    let ratios: Vec<f64> = pairs.iter().map(|&(a, b)| b / a).collect();
    let ratios = &ratios;
    let point = crate::stats::median(ratios)?;
    let lower = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let upper = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(Estimate {
        point,
        lower,
        upper,
    })
}

/// Half-width (relative) of the 2-worker / 1-worker ratio that ends a Rust row's sampling
/// before its most pairs.
pub const RATIO_TARGET: f64 = 0.02;

/// How many times its least pairs a Rust row may sample while its ratio is not resolved.
pub const MOST_PAIRS_FACTOR: usize = 5;

/// Runs `one` (1 worker) and `two` (2 workers) in pairs, alternating which goes first
/// (A B, B A, ...), so the machine's drift hits both alike: `least` pairs, then two at a time
/// while the ratio's interval is wider than ±[`RATIO_TARGET`], at most `most`. Returns each
/// run's times and the paired row.
fn paired_row(
    implementation: String,
    least: usize,
    most: usize,
    mut run: impl FnMut(usize, bool) -> Result<f64>,
) -> Result<CountdownRow> {
    let (mut ones, mut twos, mut measured) = (Vec::new(), Vec::new(), Vec::new());
    let least = least.max(1);
    for i in 0..most.max(least) {
        if i >= least
            && i % 2 == 0
            && pair_estimate(&measured)
                .is_some_and(|e| crate::stats::half_width(&e) <= RATIO_TARGET)
        {
            break;
        }
        // The first pair shows the seed's lines: 1 worker, then 2.
        let (t1, t2) = if i % 2 == 0 {
            let t1 = run(1, i == 0)?;
            (t1, run(2, i == 0)?)
        } else {
            let t2 = run(2, false)?;
            (run(1, false)?, t2)
        };
        ones.push(t1);
        twos.push(t2);
        measured.push((t1, t2));
    }
    let bad = || {
        crate::Error::invalid(
            "countdown times",
            format!("{ones:?} / {twos:?}"),
            "no valid pair",
        )
    };
    Ok(CountdownRow {
        implementation,
        one_s: crate::stats::median(&ones).ok_or_else(bad)?,
        two_s: crate::stats::median(&twos).ok_or_else(bad)?,
        ratio: pair_estimate(&measured).ok_or_else(bad)?,
        pairs: measured.len(),
    })
}

pub(super) fn worker_label(kind: &Entry) -> &'static str {
    if kind.name.runs_in_child_processes() {
        "Process"
    } else {
        "Thread"
    }
}

pub(super) fn countdown_once(
    kind: &Entry,
    workers: usize,
    count: u64,
    options: &Options,
    say: Sink<'_>,
) -> Result<f64> {
    let jobs = countdown_jobs(count, workers, false);
    let mut pool = kind.start(workers, options)?;
    let label = worker_label(kind);
    let what = format!("{} with {workers} workers", kind.name);
    let (wall, out) = timed_map(
        pool.as_mut(),
        &jobs,
        &what,
        Some(&|s: Started| {
            say(&format!("Starting {label}_{}", s.job + 1));
        }),
    )?;
    let total = wall.as_secs_f64();
    let mut by_end: Vec<(usize, &Outcome)> = out.iter().enumerate().collect();
    by_end.sort_by_key(|(_, o)| o.finished_ns);
    for (i, o) in by_end {
        let secs = (o.finished_ns - o.started_ns) as f64 / 1e9;
        say(&format!("{label}_{} work time {secs:.3}", i + 1));
        say(&format!("Exiting {label}_{}", i + 1));
    }
    say("Exiting Main Thread");
    say(&format!("Total work time {total:.3}"));
    Ok(total)
}

/// Program 1 for each strategy at 1 and 2 workers, `repeat` pairs each at least, more while the
/// ratio is unresolved (one run of the seed's count lasts only ~30 ms in Rust), then (with `python`) CPython's threads and processes, two
/// pairs each (A B | B A). Returns the table rows; every ratio is paired.
pub fn countdown(
    strategies: &[Entry],
    count: u64,
    repeat: usize,
    python: Option<&Python>,
    options: &Options,
    say: Sink<'_>,
) -> Result<Vec<CountdownRow>> {
    let quiet = |_: &str| {};
    let mut rows = Vec::new();
    for kind in strategies {
        let most = repeat.saturating_mul(MOST_PAIRS_FACTOR);
        rows.push(paired_row(
            kind.name.to_string(),
            repeat,
            most,
            |w, loud| {
                if loud {
                    say(&format!(
                        "\n== {}, {w} worker{} ==",
                        kind.name,
                        if w > 1 { "s" } else { "" }
                    ));
                }
                countdown_once(kind, w, count, options, if loud { say } else { &quiet })
            },
        )?);
    }
    if let Some(py) = python {
        for mode in ["threads", "processes"] {
            rows.push(paired_row(format!("Python {mode}"), 2, 2, |w, loud| {
                say(&format!(
                    "\n== CPython {mode}, {w} worker{} ==",
                    if w > 1 { "s" } else { "" }
                ));
                let args = [
                    "--count".into(),
                    count.to_string(),
                    "--workers".into(),
                    w.to_string(),
                    "--mode".into(),
                    mode.into(),
                ];
                let r: PyCountdown =
                    py.run(PY_COUNTDOWN, &args, if loud { say } else { &quiet })?;
                Ok(r.total_s)
            })?);
        }
    }
    Ok(rows)
}

/// The countdown table as text for the terminal.
pub fn countdown_table(rows: &[CountdownRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                r.implementation.clone(),
                format!("{:.3} s", r.one_s),
                format!("{:.3} s", r.two_s),
                format!("{:.2}×", r.ratio.point),
                format!(
                    "[{:.2}, {:.2}] {}",
                    r.ratio.lower,
                    r.ratio.upper,
                    if r.pairs >= crate::stats::MIN_N {
                        format!("95%, {} pairs", r.pairs)
                    } else {
                        format!("range of {} pairs", r.pairs)
                    }
                ),
            ]
        })
        .collect()
}

/// Header of the countdown table.
pub const COUNTDOWN_HEADER: [&str; 5] = [
    "implementation",
    "1 worker",
    "2 workers",
    "ratio (paired)",
    "interval",
];
