//! `poolscale seed`: the seed's two programs, re-enacted live in the seed's own shape, then set
//! beside what Rust changes (and, with `--python`, beside CPython itself).
//!
//! - [`countdown`]: program 1 for 1 then 2 workers per strategy, each worker counting the full
//!   count; `gil` doubles like CPython threads, the others stay flat on 2+ cores.
//! - [`pool`]: program 2, `Pool(3).map(f, range(10))`; each `value X handled by ...` line is
//!   printed as the job starts, then the results, the total and the rounds table beside the
//!   model's ceil(items / workers) rounds.

mod countdown;
mod markdown;
mod pool;
mod python;

pub use countdown::{COUNTDOWN_HEADER, CountdownRow, countdown, countdown_table};
pub use markdown::{countdown_markdown, pool_markdown, write_markdown};
#[cfg(test)]
use pool::{PoolItem, number_workers};
pub use pool::{PoolRun, pool, pool_python};
pub use python::Python;

/// The CPython program 1, shipped in `benches/python/` and embedded here.
pub const PY_COUNTDOWN: &str = include_str!("../../benches/python/seed_countdown.py");
/// The CPython program 2.
pub const PY_POOL: &str = include_str!("../../benches/python/seed_pool.py");
/// Environment variable naming the Python interpreter (default `python3`).
pub const PYTHON_ENV: &str = "POOLSCALE_PYTHON";

/// Where printed lines go (stdout for the CLI; a collector in tests).
pub type Sink<'a> = &'a (dyn Fn(&str) + Sync);

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
