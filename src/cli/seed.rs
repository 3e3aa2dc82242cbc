//! `poolscale seed`: arguments to [`crate::seed`]'s two programs, their tables printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{cli_options, emit, outln};
use crate::limits;
use crate::platform::machine::Machine;
use crate::seed;
use crate::strategy::{Strategies, StrategyKind, StrategyName};
use crate::units::text_table;

#[derive(Debug, Args)]
pub(super) struct SeedArgs {
    #[command(subcommand)]
    program: SeedProgram,
}

#[derive(Debug, Subcommand)]
pub(super) enum SeedProgram {
    /// Program 1: each of 1, then 2 workers counts down the full count.
    Countdown(SeedCountdownArgs),
    /// Program 2: `Pool(3).map(f, range(10))`, f napping then squaring.
    Pool(SeedPoolArgs),
}

#[derive(Debug, Args)]
pub(super) struct SeedShared {
    /// Also run the seed's programs in CPython (`python3`, or $POOLSCALE_PYTHON).
    #[arg(long)]
    python: bool,
    /// Write the tables as Markdown into FILE (a file written by this command is updated in
    /// place; any other existing file is refused).
    #[arg(long)]
    markdown: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct SeedCountdownArgs {
    /// Decrements per worker (the seed's 100,000,000).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_count, default_value = "100000000")]
    count: u64,
    /// Run only this strategy, built in or one the binary was built with (default: gil, threads
    /// and processes).
    #[arg(long)]
    strategy: Option<StrategyName>,
    /// Least pairs of runs (1 worker beside 2, in alternating order) per Rust strategy; more,
    /// up to 5 times as many, while the ratio's 95% interval is wider than ±2% (a busy machine).
    /// The ratio is estimated over the pairs, with an interval from 6 pairs on (the seed's lines
    /// are printed for the first pair).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_repeat, default_value = "8")]
    repeat: usize,
    #[command(flatten)]
    shared: SeedShared,
}

#[derive(Debug, Args)]
pub(super) struct SeedPoolArgs {
    /// Pool size (the seed's 3).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_workers, default_value = "3")]
    workers: usize,
    /// Items mapped, `range(items)` (the seed's 10).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_tasks, default_value = "10")]
    items: usize,
    /// Each item's nap (the seed's 1s).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_duration, default_value = "1s")]
    nap: Duration,
    /// The strategy, built in or one the binary was built with (the seed's processes).
    #[arg(long, default_value = "processes")]
    strategy: StrategyName,
    /// Draw who ran what and when into FILE.svg: a lane per worker (by pid), a bar per value.
    /// With --python, CPython's run goes to FILE-python.svg beside it.
    #[arg(long, value_name = "FILE.svg")]
    timeline: Option<PathBuf>,
    #[command(flatten)]
    shared: SeedShared,
}

fn find_python(wanted: bool) -> Option<seed::Python> {
    if !wanted {
        return None;
    }
    match seed::Python::find() {
        Ok(p) => Some(p),
        Err(why) => {
            let _ = outln!("note: --python: {why}; showing the Rust rows only");
            None
        }
    }
}

pub(super) fn command(args: &SeedArgs, suite: &Strategies) -> anyhow::Result<ExitCode> {
    let say = |l: &str| {
        let _ = outln!("{l}");
    };
    let options = cli_options()?;
    match &args.program {
        SeedProgram::Countdown(a) => {
            let names = match a.strategy {
                Some(name) => vec![name],
                None => [
                    StrategyKind::Gil,
                    StrategyKind::Threads,
                    StrategyKind::Processes,
                ]
                .map(StrategyName::from)
                .to_vec(),
            };
            let strategies = names
                .into_iter()
                .map(|n| suite.entry(n).cloned())
                .collect::<crate::Result<Vec<_>>>()?;
            let python = find_python(a.shared.python);
            // What the machine gives two workers, before and after: the lesson needs two cores.
            let given = || crate::measure::probe::capacity(2, "seed", &options).ok();
            let before = given();
            let rows = seed::countdown(
                &strategies,
                a.count,
                a.repeat,
                python.as_ref(),
                &options,
                &say,
            )
            .context("program 1 (countdown) failed")?;
            outln!()?;
            let samples: Vec<f64> = [before, given()]
                .into_iter()
                .flatten()
                .map(|c| c.given.point.min(2.0))
                .collect();
            if let Some(low) = samples.iter().copied().reduce(f64::min) {
                outln!(
                    "The machine gave {low:.2} of the 2 cores two workers need (capacity probe, lower of the samples before and after).",
                )?;
                if low < 1.5 {
                    outln!(
                        "It could not give two cores all the time: each ratio below holds only if its \
                         pairs caught moments when it did (the ratios read each side's fastest \
                         twentieth, and a wide interval says they did not), so the seed's lesson \
                         (threads and processes near 1×, a lock near 2×) may not show. Run again \
                         on a quieter machine to be sure."
                    )?;
                }
            }
            emit(&text_table(
                &seed::COUNTDOWN_HEADER,
                &seed::countdown_table(&rows),
            ))?;
            if let Some(path) = &a.shared.markdown {
                let md = seed::countdown_markdown(&rows, a.count, a.repeat, python.as_ref());
                seed::write_markdown(path, "countdown", &md, &Machine::current())?;
                outln!("wrote {}", path.display())?;
            }
        }
        SeedProgram::Pool(a) => {
            let mut runs = vec![
                seed::pool(
                    suite.entry(a.strategy)?,
                    a.workers,
                    a.items,
                    a.nap,
                    &options,
                    &say,
                )
                .context("program 2 (pool) failed")?,
            ];
            if let Some(py) = find_python(a.shared.python) {
                outln!("\n== CPython multiprocessing.Pool ==")?;
                runs.push(seed::pool_python(&py, a.workers, a.items, a.nap, &say)?);
            }
            for r in &runs {
                let (header, rows) = r.rounds_table();
                let header: Vec<&str> = header.iter().map(String::as_str).collect();
                outln!(
                    "\nRounds, {} ({} workers, {} items, {} nap): measured {:.3} s, model {} rounds = {:.3} s",
                    r.implementation,
                    r.workers,
                    r.items.len(),
                    humantime::format_duration(a.nap),
                    r.total_s,
                    r.model_rounds(),
                    r.model_rounds() as f64 * r.nap_s
                )?;
                emit(&text_table(&header, &rows))?;
            }
            if let Some(path) = &a.timeline {
                for (i, r) in runs.iter().enumerate() {
                    let p = if i == 0 {
                        path.clone()
                    } else {
                        sibling(path, "python")
                    };
                    crate::measure::timeline::write_svg(&p, &r.timeline(), &suite.names())?;
                    outln!("wrote {}", p.display())?;
                }
            }
            if let Some(path) = &a.shared.markdown {
                seed::write_markdown(
                    path,
                    "pool",
                    &seed::pool_markdown(&runs),
                    &Machine::current(),
                )?;
                outln!("wrote {}", path.display())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `dir/name.svg` → `dir/name-suffix.svg`.
fn sibling(path: &std::path::Path, suffix: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "timeline".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(|| "svg".into(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-{suffix}.{ext}"))
}
