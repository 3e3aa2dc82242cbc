//! The process pool's two start methods compared by interleaving: for each worker count, rounds of
//! `spawn, forkserver, forkserver, spawn` (A B B A), each one pool started, given one trivial job
//! per worker and stopped, as the `startup` bench group does. Prints each method's median per
//! worker with its 95% interval, and their paired ratio.
//!
//! ```sh
//! cargo build --release && cargo run --release --example start_methods -- 40 1 2 4
//! ```
//!
//! Arguments: rounds (default 40), then worker counts (default 1 2 4). The worker program is the
//! `poolscale` binary of the same profile (`cargo build --release` first) or `$POOLSCALE_WORKER`.

use std::time::Instant;

use poolscale::internal::{ProcessPool, stats};
use poolscale::strategy::StartMethod;
use poolscale::{Options, Strategy, workload};

fn once(workers: usize, start: StartMethod) -> poolscale::Result<f64> {
    let options = Options {
        start,
        ..Options::default()
    };
    let jobs = workload::square_jobs(workers, std::time::Duration::ZERO);
    let t = Instant::now();
    let mut pool = ProcessPool::start(workers, &options)?;
    pool.map(&jobs)?;
    let method = pool.start_method();
    drop(pool);
    let ns = t.elapsed().as_nanos() as f64;
    if method != start {
        return Err(poolscale::Error::PoolBroken(format!(
            "asked for {} but the pool started by {}",
            start.as_str(),
            method.as_str()
        )));
    }
    Ok(ns)
}

fn show(e: Option<stats::Estimate>, scale: f64, unit: &str) -> String {
    match e {
        Some(e) => format!(
            "{:.0} {unit} [{:.0}, {:.0}]",
            e.point / scale,
            e.lower / scale,
            e.upper / scale
        ),
        None => "too few rounds".into(),
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed: Result<Vec<usize>, _> = args.iter().map(|a| a.parse::<usize>()).collect();
    let numbers = match parsed {
        Ok(n) => n,
        Err(_) => {
            eprintln!("usage: start_methods [ROUNDS [WORKERS...]] (whole numbers)");
            return std::process::ExitCode::from(2);
        }
    };
    let rounds = numbers.first().copied().unwrap_or(40);
    let counts: Vec<usize> = if numbers.len() > 1 {
        numbers[1..].to_vec()
    } else {
        vec![1, 2, 4]
    };
    if rounds < stats::MIN_N || counts.iter().any(|&w| w == 0 || w > 256) {
        eprintln!(
            "start_methods: need at least {} rounds and 1 to 256 workers",
            stats::MIN_N
        );
        return std::process::ExitCode::from(2);
    }
    // The first fork-server pool starts the server (once per program and process): not timed.
    if let Err(e) = once(1, StartMethod::ForkServer) {
        eprintln!("start_methods: {e}");
        return std::process::ExitCode::from(1);
    }
    println!(
        "pool start + one trivial job per worker + stop, per worker; {rounds} rounds of A B B A"
    );
    println!("workers | spawn (µs/worker) | forkserver (µs/worker) | forkserver/spawn");
    for &w in &counts {
        let (mut spawn, mut fork, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let mut round = [0.0; 4];
            for (slot, method) in [
                StartMethod::Spawn,
                StartMethod::ForkServer,
                StartMethod::ForkServer,
                StartMethod::Spawn,
            ]
            .into_iter()
            .enumerate()
            {
                match once(w, method) {
                    Ok(ns) => round[slot] = ns / w as f64,
                    Err(e) => {
                        eprintln!("start_methods: {w} workers by {}: {e}", method.as_str());
                        return std::process::ExitCode::from(1);
                    }
                }
            }
            let (a, b) = ((round[0] + round[3]) / 2.0, (round[1] + round[2]) / 2.0);
            spawn.push(a);
            fork.push(b);
            pairs.push((a, b));
        }
        println!(
            "{w} | {} | {} | {}",
            show(stats::hodges_lehmann(&spawn), 1e3, ""),
            show(stats::hodges_lehmann(&fork), 1e3, ""),
            stats::paired_ratio(&pairs)
                .map(|e| format!("{:.2} [{:.2}, {:.2}]", e.point, e.lower, e.upper))
                .unwrap_or_else(|| "too few rounds".into()),
        );
    }
    std::process::ExitCode::SUCCESS
}
