//! `poolscale run`: arguments to [`crate::measure::run::execute`], its record printed.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::{cli_options, outln};
use crate::limits;
use crate::measure::run::{JobKind, RunConfig, execute};
use crate::strategy::processes::StartMethod;
use crate::strategy::{Strategies, StrategyName};

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Which workload.
    #[arg(long, value_enum)]
    workload: JobKind,
    /// Which strategy: sequential, threads, rayon, crossbeam, processes, gil, or one the binary
    /// was built with (an unknown name is refused with the list of known ones).
    #[arg(long)]
    strategy: StrategyName,
    /// Number of workers (1 to 256).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_workers)]
    workers: usize,
    /// countdown: decrements per job (default: the seed's 100,000,000).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_count, default_value = "100000000")]
    count: u64,
    /// countdown: divide one count over the workers' jobs (strong scaling) instead of a full
    /// count per worker (weak scaling, the seed's shape).
    #[arg(long)]
    split: bool,
    /// square: number of tasks (default: the seed's 10).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_tasks, default_value = "10")]
    tasks: usize,
    /// square: the nap before each square, e.g. 1s, 10ms, 250us (default: the seed's 1s).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_duration, default_value = "1s")]
    nap: Duration,
    /// gil: the switch interval (CPython's default 5ms).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_duration, default_value = "5ms")]
    switch_interval: Duration,
    /// processes: fail if a worker holds one job longer than this (default: 30 s plus ten times
    /// the job's nap, or 20 ns per decrement).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_positive_duration)]
    job_timeout: Option<Duration>,
    /// processes: jobs a worker takes from the shared pipe at once, `multiprocessing`'s chunksize
    /// (default `auto`: about four chunks per worker, at most 128).
    #[arg(long, value_parser = parse_chunk, default_value = "auto")]
    chunk: Chunk,
    /// processes: how workers start: `spawn` (each one an exec of this binary) or `forkserver`
    /// (forked from a fork server, started once, as `multiprocessing`'s forkserver). A one-shot
    /// run starts one pool, so `spawn` is cheaper here; the benches, which start many, use the
    /// fork server.
    #[arg(long, value_parser = parse_start, default_value = "spawn")]
    start: StartMethod,
    /// Draw the map into FILE.svg: a lane per worker (by pid for processes), a bar per job from
    /// start to finish labelled by its value, and the `gil`'s lock holds.
    #[arg(long, value_name = "FILE.svg")]
    timeline: Option<std::path::PathBuf>,
    /// Print exactly one JSON object on stdout, with each job's start and finish (recording them
    /// costs a clock read per job: without --json the map runs untimed per job).
    #[arg(long)]
    json: bool,
}

fn parse_start(s: &str) -> Result<StartMethod, crate::error::Error> {
    s.parse()
}

/// `--chunk`: `auto` (`None`) or a fixed size.
#[derive(Clone, Copy, Debug)]
pub(super) struct Chunk(Option<usize>);

fn parse_chunk(s: &str) -> Result<Chunk, crate::error::Error> {
    if s == "auto" {
        return Ok(Chunk(None));
    }
    let max = crate::strategy::processes::protocol::MAX_CHUNK;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Chunk(Some(n))),
        _ => Err(crate::error::Error::invalid(
            "chunk",
            s,
            format!("expected `auto` or a number from 1 to {max}"),
        )),
    }
}

pub(super) fn command(a: &RunArgs, strategies: &Strategies) -> anyhow::Result<ExitCode> {
    let entry = strategies.entry(a.strategy)?.clone();
    let mut options = cli_options()?;
    options.switch_interval = a.switch_interval;
    options.job_timeout = a.job_timeout;
    options.chunk = a.chunk.0;
    options.start = a.start;
    let cfg = RunConfig {
        workload: a.workload,
        strategy: entry,
        workers: a.workers,
        count: a.count,
        split: a.split,
        tasks: a.tasks,
        nap: a.nap,
        options,
        timeline: a.timeline.is_some(),
        job_times: a.json,
    };
    let rec = execute(&cfg).with_context(|| {
        format!(
            "{} failed to run with {}",
            a.strategy,
            crate::measure::run::workers_phrase(a.workers)
        )
    })?;
    if let (Some(path), Some(t)) = (&a.timeline, &rec.timeline) {
        crate::measure::timeline::write_svg(path, t, &strategies.names())?;
        if !a.json {
            outln!("wrote {}", path.display())?;
        }
    }
    if a.json {
        outln!("{}", serde_json::to_string(&rec)?)?;
    } else {
        super::emit(&rec.to_text())?;
    }
    Ok(ExitCode::SUCCESS)
}
