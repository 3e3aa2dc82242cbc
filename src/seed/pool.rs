//! Program 2, `Pool(3).map(f, range(10))`: the run, which worker took which value, and the
//! rounds model ceil(items / workers).

use std::collections::BTreeMap;
use std::time::Duration;

use super::python::PyPool;
use super::*;
use crate::error::Result;
use crate::measure::timed_map;
use crate::strategy::{Entry, Options, Started};
use crate::workload::square_jobs;

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

    /// The run as a [`crate::measure::timeline::Timeline`]: a lane per worker, labelled by pid where
    /// the workers are processes, a bar per input value `x` (as the rounds table shows them).
    pub fn timeline(&self) -> crate::measure::timeline::Timeline {
        let ns = |s: f64| (s.max(0.0) * 1e9) as u64;
        let jobs = self
            .items
            .iter()
            .map(|it| crate::strategy::Outcome {
                // Labelled by the input, as the seed's `value X handled by pid P` lines and the
                // rounds table are.
                value: it.x,
                worker: it.worker,
                pid: it.pid,
                started_ns: ns(it.start_s),
                finished_ns: ns(it.end_s),
            })
            .collect();
        crate::measure::timeline::Timeline::new(
            format!(
                "Pool({}).map(f, range({})), {}",
                self.workers,
                self.items.len(),
                self.implementation
            ),
            self.implementation.clone(),
            self.workers,
            Duration::from_secs_f64(self.total_s.max(0.0)),
            jobs,
            Vec::new(),
        )
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
    kind: &Entry,
    workers: usize,
    items: usize,
    nap: Duration,
    options: &Options,
    say: Sink<'_>,
) -> Result<PoolRun> {
    let jobs = square_jobs(items, nap);
    let mut pool = kind.start(workers, options)?;
    let what = format!("{} with {workers} workers", kind.name);
    let (wall, out) = timed_map(
        pool.as_mut(),
        &jobs,
        &what,
        Some(&|s: Started| {
            if kind.name.runs_in_child_processes() {
                say(&format!("value {} handled by pid {}", s.job, s.pid));
            } else {
                say(&format!(
                    "value {} handled by worker {}",
                    s.job,
                    s.worker + 1
                ));
            }
        }),
    )?;
    let total_s = wall.as_secs_f64();
    drop(pool);
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
        implementation: kind.name.to_string(),
        workers,
        nap_s: nap.as_secs_f64(),
        results,
        items,
        total_s,
    })
}

/// Numbers the workers 0, 1, 2... in the order they first started a job (as the seed's table
/// does), telling them apart by worker index and pid; returns how many there were.
pub(super) fn number_workers(items: &mut [PoolItem]) -> usize {
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
