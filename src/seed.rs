//! `poolscale seed`: the seed's two programs, re-enacted live in the seed's own shape, then set
//! beside what Rust changes (and, with `--python`, beside CPython itself).
//!
//! - [`countdown`]: program 1 for 1 then 2 workers per strategy, each worker counting the full
//!   count; `gil` doubles like CPython threads, the others stay flat on 2+ cores.
//! - [`pool`]: program 2, `Pool(3).map(f, range(10))`; each `value X handled by ...` line is
//!   printed as the job starts, then the results, the total and the rounds table beside the
//!   model's ceil(items / workers) rounds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::machine::Machine;
use crate::report::markdown::table;
use crate::strategy::{Options, Outcome, Started, StrategyKind, verify};
use crate::workload::{countdown_jobs, square_jobs};

/// The CPython program 1, shipped in `benches/python/` and embedded here.
pub const PY_COUNTDOWN: &str = include_str!("../benches/python/seed_countdown.py");
/// The CPython program 2.
pub const PY_POOL: &str = include_str!("../benches/python/seed_pool.py");
/// Environment variable naming the Python interpreter (default `python3`).
pub const PYTHON_ENV: &str = "POOLSCALE_PYTHON";

/// Where printed lines go (stdout for the CLI; a collector in tests).
pub type Sink<'a> = &'a (dyn Fn(&str) + Sync);

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

fn worker_label(kind: StrategyKind) -> &'static str {
    if kind.runs_in_child_processes() {
        "Process"
    } else {
        "Thread"
    }
}

/// Runs program 1 under `kind` with `workers` workers `repeat` times, printing the seed's lines
/// for the first run; returns the median total seconds.
fn countdown_timed(
    kind: StrategyKind,
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

fn countdown_once(
    kind: StrategyKind,
    workers: usize,
    count: u64,
    options: &Options,
    say: Sink<'_>,
) -> Result<f64> {
    let jobs = countdown_jobs(count, workers, false);
    let mut pool = kind.start(workers, options)?;
    let label = worker_label(kind);
    let t = Instant::now();
    let out = pool.map_observed(&jobs, &|s: Started| {
        say(&format!("Starting {label}_{}", s.job + 1));
    })?;
    let total = t.elapsed().as_secs_f64();
    verify(&jobs, &out, workers).map_err(|e| Error::invalid("result", kind, e))?;
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
    strategies: &[StrategyKind],
    count: u64,
    repeat: usize,
    python: Option<&Python>,
    options: &Options,
    say: Sink<'_>,
) -> Result<Vec<CountdownRow>> {
    let mut rows = Vec::new();
    for &kind in strategies {
        let mut t = [0.0; 2];
        for (i, w) in [1, 2].into_iter().enumerate() {
            say(&format!(
                "\n== {kind}, {w} worker{} ==",
                if w > 1 { "s" } else { "" }
            ));
            t[i] = countdown_timed(kind, w, count, repeat, options, say)?;
        }
        rows.push(CountdownRow {
            implementation: kind.to_string(),
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

/// One job of program 2 as it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolItem {
    /// The value squared.
    pub x: u64,
    /// Worker (0-based), numbered in the order the workers first started a job.
    pub worker: usize,
    /// Process id of that worker.
    pub pid: u32,
    /// Start, seconds since the map began.
    pub start_s: f64,
    /// End, seconds since the map began.
    pub end_s: f64,
}

/// One run of program 2.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolRun {
    /// e.g. `processes` or `Python processes`.
    pub implementation: String,
    /// Worker count.
    pub workers: usize,
    /// The nap, seconds.
    pub nap_s: f64,
    /// The map's results.
    pub results: Vec<u64>,
    /// Each item, in input order.
    pub items: Vec<PoolItem>,
    /// Wall time of the map, seconds.
    pub total_s: f64,
}

impl PoolRun {
    /// The model's rounds: ceil(items / workers).
    pub fn model_rounds(&self) -> usize {
        self.items.len().div_ceil(self.workers.max(1))
    }

    /// Which round each item ran in: a worker's j-th job is in round j + 1.
    pub fn rounds(&self) -> Vec<Vec<(usize, &PoolItem)>> {
        let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
        let mut order: Vec<&PoolItem> = self.items.iter().collect();
        order.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        let mut rounds: Vec<Vec<(usize, &PoolItem)>> = Vec::new();
        for it in order {
            let n = seen.entry(it.worker).or_insert(0);
            if rounds.len() <= *n {
                rounds.resize_with(*n + 1, Vec::new);
            }
            rounds[*n].push((it.worker, it));
            *n += 1;
        }
        rounds
    }

    /// The rounds table: round, one column per worker (the value it took), measured elapsed
    /// (when the round's last job ended) and the model's elapsed (round × nap).
    pub fn rounds_table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut header = vec!["round".to_string()];
        header.extend((1..=self.workers).map(|w| format!("worker {w}")));
        header.extend(["elapsed".into(), "model".into()]);
        let rows = self
            .rounds()
            .iter()
            .enumerate()
            .map(|(r, items)| {
                let mut row = vec![(r + 1).to_string()];
                for w in 0..self.workers {
                    row.push(
                        items
                            .iter()
                            .find(|(k, _)| *k == w)
                            .map_or_else(|| "–".into(), |(_, it)| it.x.to_string()),
                    );
                }
                let elapsed = items.iter().map(|(_, it)| it.end_s).fold(0.0, f64::max);
                row.push(format!("{elapsed:.3} s"));
                row.push(format!("{:.3} s", (r + 1) as f64 * self.nap_s));
                row
            })
            .collect();
        (header, rows)
    }
}

/// Program 2 under `kind`: prints `value X handled by pid P` (or `by worker K`) as each job
/// starts, then the results and the total.
pub fn pool(
    kind: StrategyKind,
    workers: usize,
    items: usize,
    nap: Duration,
    options: &Options,
    say: Sink<'_>,
) -> Result<PoolRun> {
    let jobs = square_jobs(items, nap);
    let mut pool = kind.start(workers, options)?;
    let t = Instant::now();
    let out = pool.map_observed(&jobs, &|s: Started| {
        if kind.runs_in_child_processes() {
            say(&format!("value {} handled by pid {}", s.job, s.pid));
        } else {
            say(&format!(
                "value {} handled by worker {}",
                s.job,
                s.worker + 1
            ));
        }
    })?;
    let total_s = t.elapsed().as_secs_f64();
    drop(pool);
    verify(&jobs, &out, workers).map_err(|e| Error::invalid("result", kind, e))?;
    let results: Vec<u64> = out.iter().map(|o| o.value).collect();
    say(&format!("{results:?}"));
    say(&format!("Total work time {total_s:.3}"));
    let mut items: Vec<PoolItem> = out
        .iter()
        .enumerate()
        .map(|(x, o)| PoolItem {
            x: x as u64,
            worker: o.worker,
            pid: o.pid,
            start_s: o.started_ns as f64 / 1e9,
            end_s: o.finished_ns as f64 / 1e9,
        })
        .collect();
    number_workers(&mut items);
    Ok(PoolRun {
        implementation: kind.to_string(),
        workers,
        nap_s: nap.as_secs_f64(),
        results,
        items,
        total_s,
    })
}

/// Numbers the workers 0, 1, 2... in the order they first started a job (as the seed's table
/// does), telling them apart by worker index and pid; returns how many there were.
fn number_workers(items: &mut [PoolItem]) -> usize {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].start_s.total_cmp(&items[b].start_s));
    let mut ids: BTreeMap<(usize, u32), usize> = BTreeMap::new();
    for i in order {
        let next = ids.len();
        let key = (items[i].worker, items[i].pid);
        items[i].worker = *ids.entry(key).or_insert(next);
    }
    ids.len()
}

/// Program 2 in CPython (`Pool(workers).map`).
pub fn pool_python(
    py: &Python,
    workers: usize,
    items: usize,
    nap: Duration,
    say: Sink<'_>,
) -> Result<PoolRun> {
    let args = [
        "--workers".into(),
        workers.to_string(),
        "--items".into(),
        items.to_string(),
        "--nap".into(),
        format!("{}", nap.as_secs_f64()),
    ];
    let r: PyPool = py.run(PY_POOL, &args, say)?;
    let mut items: Vec<PoolItem> = r
        .items
        .iter()
        .map(|it| PoolItem {
            x: it.x,
            worker: 0,
            pid: it.pid,
            start_s: it.start_s,
            end_s: it.end_s,
        })
        .collect();
    let seen = number_workers(&mut items);
    Ok(PoolRun {
        implementation: "Python processes".into(),
        workers: workers.max(seen),
        nap_s: nap.as_secs_f64(),
        results: r.results,
        items,
        total_s: r.total_s,
    })
}

#[derive(Deserialize)]
struct PyCountdown {
    total_s: f64,
}

#[derive(Deserialize)]
struct PyPool {
    total_s: f64,
    results: Vec<u64>,
    items: Vec<PyItem>,
}

#[derive(Deserialize)]
struct PyItem {
    x: u64,
    pid: u32,
    start_s: f64,
    end_s: f64,
}

/// A CPython interpreter to run the seed's programs with.
#[derive(Clone, Debug)]
pub struct Python {
    /// The interpreter.
    pub program: PathBuf,
    /// Its `--version`.
    pub version: String,
}

impl Python {
    /// Finds `$POOLSCALE_PYTHON` or `python3`; `None` (with the reason) if it does not run.
    pub fn find() -> std::result::Result<Python, String> {
        let program =
            PathBuf::from(std::env::var_os(PYTHON_ENV).unwrap_or_else(|| "python3".into()));
        match Command::new(&program).arg("--version").output() {
            Ok(o) if o.status.success() => Ok(Python {
                version: String::from_utf8_lossy(if o.stdout.is_empty() {
                    &o.stderr
                } else {
                    &o.stdout
                })
                .trim()
                .to_string(),
                program,
            }),
            Ok(o) => Err(format!(
                "`{} --version` failed with {}",
                program.display(),
                o.status
            )),
            Err(e) => Err(format!("`{}` cannot be run: {e}", program.display())),
        }
    }

    /// Runs an embedded script, echoing its seed lines and parsing its `RESULT {json}` line.
    fn run<T: for<'de> Deserialize<'de>>(
        &self,
        script: &str,
        args: &[String],
        say: Sink<'_>,
    ) -> Result<T> {
        use std::os::unix::process::CommandExt;
        // Its own process group, so that Ctrl-C can kill it together with its pool's workers.
        let mut child = Command::new(&self.program)
            .arg("-c")
            .arg(script)
            .args(args)
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format!("cannot run `{}`", self.program.display()), e))?;
        let _group = crate::interrupt::GroupGuard::new(child.id());
        let mut result = None;
        if let Some(stdout) = child.stdout.take() {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let line = line.map_err(|e| Error::io("cannot read Python's output", e))?;
                match line.strip_prefix("RESULT ") {
                    Some(json) => result = Some(json.to_string()),
                    None => say(&line),
                }
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|e| Error::io("cannot wait for Python", e))?;
        if !out.status.success() {
            return Err(Error::invalid(
                "Python run",
                self.program.display(),
                format!(
                    "exited with {}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        let json = result.ok_or_else(|| {
            Error::invalid(
                "Python run",
                self.program.display(),
                "printed no RESULT line",
            )
        })?;
        serde_json::from_str(&json).map_err(|source| Error::MalformedJson {
            path: PathBuf::from("<python RESULT line>"),
            source,
        })
    }
}

/// First line of a Markdown file written by `seed --markdown`.
pub const MARKER: &str =
    "<!-- written by `poolscale seed --markdown`; sections are replaced on rerun -->";

/// Writes `section` (one program's tables) into `path`: creates the file, or replaces that
/// program's section in a file this command wrote before. Any other existing file is refused.
pub fn write_markdown(path: &Path, name: &str, section: &str, machine: &Machine) -> Result<()> {
    let begin = format!("<!-- seed:{name} -->");
    let end = format!("<!-- /seed:{name} -->");
    let block = format!(
        "{begin}\n{}\n\nMeasured {} at commit `{}`.\n{end}\n",
        section.trim_end(),
        machine.date,
        machine.commit
    );
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(format!("cannot read `{}`", path.display()), e)),
    };
    let text = match existing {
        None => format!(
            "{MARKER}\n# The seed, re-enacted\n\n`poolscale seed` runs the seed's two programs (see `SEED.md`) \
             in Rust and CPython on this machine: {}.\n\n{block}",
            machine.summary(),
        ),
        Some(old) if old.starts_with(MARKER) => match (old.find(&begin), old.find(&end)) {
            (Some(b), Some(e)) if b < e => {
                format!(
                    "{}{block}{}",
                    &old[..b],
                    old[e + end.len()..].trim_start_matches('\n')
                )
            }
            _ => format!("{}\n{block}", old.trim_end()),
        },
        Some(_) => {
            return Err(Error::WouldOverwrite {
                path: path.to_path_buf(),
                reason: "it was not written by `poolscale seed --markdown`; choose another file"
                    .into(),
            });
        }
    };
    crate::fsutil::atomic_write(path, text.as_bytes())
}

/// Markdown for program 1's table.
pub fn countdown_markdown(
    rows: &[CountdownRow],
    count: u64,
    repeat: usize,
    python: Option<&Python>,
) -> String {
    let mut out = format!(
        "## Program 1: countdown\n\nEach worker counts down {count} (weak scaling). \
         Ratio = 2-worker time / 1-worker time: about 2 where a lock serialises the workers, \
         about 1 where they run in parallel. Rust rows: median of {repeat} runs; Python rows: one run.{}\n\n",
        python.map_or(String::new(), |p| format!(" CPython: {}.", p.version))
    );
    table(&mut out, &COUNTDOWN_HEADER, &countdown_table(rows));
    out
}

/// Markdown for program 2's runs.
pub fn pool_markdown(runs: &[PoolRun]) -> String {
    let mut out = String::from("## Program 2: `Pool(w).map(f, range(items))`\n\n");
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.implementation.clone(),
                r.workers.to_string(),
                r.items.len().to_string(),
                format!("{:.3} s", r.nap_s),
                format!("{:.3} s", r.total_s),
                format!(
                    "{} rounds = {:.3} s",
                    r.model_rounds(),
                    r.model_rounds() as f64 * r.nap_s
                ),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "implementation",
            "workers",
            "items",
            "nap",
            "total",
            "model",
        ],
        &rows,
    );
    for r in runs {
        out.push_str(&format!("Rounds, {}:\n\n", r.implementation));
        let (header, rows) = r.rounds_table();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        table(&mut out, &header, &rows);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's table: three workers take 0..9 in turn, one nap per round.
    fn seed_run(workers: usize, items: u64) -> PoolRun {
        PoolRun {
            implementation: "test".into(),
            workers,
            nap_s: 1.0,
            results: (0..items).map(|x| x * x).collect(),
            items: (0..items)
                .map(|x| {
                    let round = (x as usize / workers) as f64;
                    PoolItem {
                        x,
                        worker: x as usize % workers,
                        pid: 100 + (x as u32 % workers as u32),
                        start_s: round,
                        end_s: round + 1.0,
                    }
                })
                .collect(),
            total_s: items.div_ceil(workers as u64) as f64,
        }
    }

    #[test]
    fn rounds_match_the_seed_table() {
        let run = seed_run(3, 10);
        assert_eq!(run.model_rounds(), 4);
        let (header, rows) = run.rounds_table();
        assert_eq!(
            header,
            [
                "round", "worker 1", "worker 2", "worker 3", "elapsed", "model"
            ]
        );
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0][1..4], ["0", "1", "2"]);
        assert_eq!(rows[3][1..4], ["9", "–", "–"]);
        assert_eq!(rows[3][4], "4.000 s");
        assert_eq!(rows[3][5], "4.000 s");
        assert_eq!(seed_run(4, 10).model_rounds(), 3);
        assert_eq!(seed_run(3, 9).rounds().len(), 3);
    }

    #[test]
    fn workers_are_numbered_by_first_job() {
        let mut run = seed_run(3, 6);
        // Pool index 2 started first, then 0, then 1.
        for it in &mut run.items {
            it.worker = [2, 0, 1][it.worker];
        }
        assert_eq!(number_workers(&mut run.items), 3);
        let first: Vec<usize> = run.items.iter().map(|i| i.worker).collect();
        assert_eq!(first, vec![0, 1, 2, 0, 1, 2]);
    }
}
