//! Program 1, the countdown: each worker counts the full count, at 1 then 2 workers.

use super::python::PyCountdown;
use super::*;
use crate::error::Result;
use crate::measure::timed_map;
use crate::strategy::{Entry, Options, Outcome, Started};
use crate::workload::countdown_jobs;

/// One row of the countdown table.
#[derive(Clone, Debug, PartialEq)]
pub struct CountdownRow {
    /// e.g. `gil` or `Python threads`.
    pub implementation: String,
    /// Total wall time with 1 worker, seconds.
    pub one_s: f64,
    /// Total wall time with 2 workers, seconds.
    pub two_s: f64,
}

impl CountdownRow {
    /// 2-worker time / 1-worker time: ~2 with a GIL, ~1 without (on 2+ cores).
    pub fn ratio(&self) -> f64 {
        self.two_s / self.one_s
    }
}

pub(super) fn worker_label(kind: &Entry) -> &'static str {
    if kind.name.runs_in_child_processes() {
        "Process"
    } else {
        "Thread"
    }
}

/// Runs program 1 under `kind` with `workers` workers `repeat` times, printing the seed's lines
/// for the first run; returns the median total seconds.
pub(super) fn countdown_timed(
    kind: &Entry,
    workers: usize,
    count: u64,
    repeat: usize,
    options: &Options,
    say: Sink<'_>,
) -> Result<f64> {
    let quiet = |_: &str| {};
    let mut totals = (0..repeat.max(1))
        .map(|i| {
            countdown_once(
                kind,
                workers,
                count,
                options,
                if i == 0 { say } else { &quiet },
            )
        })
        .collect::<Result<Vec<f64>>>()?;
    totals.sort_by(f64::total_cmp);
    Ok(totals[totals.len() / 2])
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

/// Program 1 for each strategy at 1 and 2 workers (the median of `repeat` runs each: one run of
/// the seed's count lasts only ~20 ms in Rust), then (with `python`) CPython's threads and
/// processes, once each. Returns the table rows.
pub fn countdown(
    strategies: &[Entry],
    count: u64,
    repeat: usize,
    python: Option<&Python>,
    options: &Options,
    say: Sink<'_>,
) -> Result<Vec<CountdownRow>> {
    let mut rows = Vec::new();
    for kind in strategies {
        let mut t = [0.0; 2];
        for (i, w) in [1, 2].into_iter().enumerate() {
            say(&format!(
                "\n== {}, {w} worker{} ==",
                kind.name,
                if w > 1 { "s" } else { "" }
            ));
            t[i] = countdown_timed(kind, w, count, repeat, options, say)?;
        }
        rows.push(CountdownRow {
            implementation: kind.name.to_string(),
            one_s: t[0],
            two_s: t[1],
        });
    }
    if let Some(py) = python {
        for mode in ["threads", "processes"] {
            let mut t = [0.0; 2];
            for (i, w) in [1, 2].into_iter().enumerate() {
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
                let r: PyCountdown = py.run(PY_COUNTDOWN, &args, say)?;
                t[i] = r.total_s;
            }
            rows.push(CountdownRow {
                implementation: format!("Python {mode}"),
                one_s: t[0],
                two_s: t[1],
            });
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
                format!("{:.2}×", r.ratio()),
            ]
        })
        .collect()
}

/// Header of the countdown table.
pub const COUNTDOWN_HEADER: [&str; 4] = ["implementation", "1 worker", "2 workers", "ratio"];
