//! `poolscale gate`: arguments to one [`crate::gate::GateConfig`], its result printed in the
//! chosen format, its exit code returned.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};

use super::report::DataArgs;
use super::{cli_options, emit, outln};
use crate::gate::ab::{
    AbConfig, DEFAULT_BUDGET as AB_BUDGET, default_selection, filtered_selection,
};
use crate::gate::paired::{DEFAULT_BUDGET as PAIRED_BUDGET, PairedConfig};
use crate::gate::{
    self, DataChecks, GateConfig, GateMode, Limits, Thresholds, parse_group_threshold,
    parse_percent,
};
use crate::group::Group;
use crate::limits;
use crate::measure::interleave::Plan;
use crate::results::settings::Settings;
use crate::strategy::Strategies;

#[derive(Debug, Args)]
pub(super) struct GateArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Interleaved A/B: compare this poolscale binary (the target branch's build) against --new,
    /// alternating their samples benchmark by benchmark.
    #[arg(long, value_name = "OLD")]
    ab: Option<PathBuf>,
    /// --ab: the change's poolscale binary (default: this one).
    #[arg(long, value_name = "NEW", requires = "ab")]
    new: Option<PathBuf>,
    /// --ab: only benchmarks whose id matches this regular expression (as Criterion's filter),
    /// at POOLSCALE_WORKERS' counts (default: each group at the counts that show its shape).
    #[arg(long, requires = "ab")]
    filter: Option<String>,
    /// Measure the scaling invariants live, in alternating rounds with a capacity probe, and
    /// judge each strategy relative to what the machine gave at that moment (the form CI uses).
    #[arg(long)]
    paired_invariants: bool,
    /// Time allowed per benchmark (--ab, default 8s) or per check (--paired-invariants, default
    /// 20s); sampling stops sooner once the verdict is decided.
    #[arg(long, value_parser = limits::parse_positive_duration)]
    budget: Option<Duration>,
    /// --ab and --paired-invariants: seed of the randomised sampling order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// --ab: sample K code-layout variants of each build (`BINARY.layout-1` … `-K`, built by
    /// `poolscale layouts`) and judge each change against its measured layout spread.
    #[arg(long, requires = "ab", value_parser = clap::value_parser!(u32).range(2..=32))]
    layouts: Option<u32>,
    /// Compare the latest run against this saved Criterion baseline.
    #[arg(long)]
    baseline: Option<String>,
    /// Compare against a results.json written by `poolscale report`.
    #[arg(long)]
    against: Option<PathBuf>,
    /// With --against or --baseline: compare times divided by the same run's 1-worker time
    /// (cancels machine speed).
    #[arg(long)]
    normalize: bool,
    /// Check the scaling invariants on the latest Criterion run (ratios of medians measured
    /// minutes apart: see --paired-invariants for the robust form).
    #[arg(long)]
    invariants: bool,
    /// Regression threshold (default 10%): a benchmark regresses when its change's whole
    /// interval lies above it.
    #[arg(long, default_value = "10%", allow_hyphen_values = true, value_parser = parse_percent)]
    threshold: f64,
    /// A group's own threshold, e.g. square_sleep=5% (repeatable).
    #[arg(long, value_parser = parse_group_threshold)]
    group_threshold: Vec<(Group, f64)>,
    /// Fail (exit 1) on a missing or inconclusive benchmark, or stale results.
    #[arg(long)]
    strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: GateFormat,
    /// --paired-invariants: a compute-parallel strategy's efficiency at 2 workers divided by the
    /// capacity probe's, at least this (a fraction from 0 to 1).
    #[arg(long, default_value_t = Limits::default().min_relative_efficiency, value_parser = limits::parse_fraction)]
    min_relative_efficiency: f64,
    /// Invariant: square_sleep measured/ideal at most this (a number from 1 to 100).
    #[arg(long, default_value_t = Limits::default().max_square_ratio, value_parser = limits::parse_ratio_limit)]
    max_square_ratio: f64,
    /// --invariants: countdown_weak efficiency at 2 workers at least this (threads, rayon,
    /// crossbeam, processes; a fraction from 0 to 1).
    #[arg(long, default_value_t = Limits::default().min_weak_efficiency, value_parser = limits::parse_fraction)]
    min_weak_efficiency: f64,
    /// Invariant: gil's countdown_weak time at 2 workers at least this many times its 1-worker
    /// time (a number from 1 to 100).
    #[arg(long, default_value_t = Limits::default().min_gil_slowdown, value_parser = limits::parse_ratio_limit)]
    min_gil_slowdown: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GateFormat {
    /// Aligned tables and a summary line.
    Table,
    /// One JSON object (the gate's result, its exit code and tally).
    Json,
    /// Bencher Metric Format: each compared benchmark's ratio new/old with its interval (--ab).
    Bmf,
}

/// The limits given (each a default unless its flag is).
fn limits_of(a: &GateArgs) -> Limits {
    Limits {
        max_square_ratio: a.max_square_ratio,
        min_weak_efficiency: a.min_weak_efficiency,
        min_relative_efficiency: a.min_relative_efficiency,
        min_gil_slowdown: a.min_gil_slowdown,
    }
}

/// Turns the arguments into the gate's configuration, refusing contradictory ones.
fn config(a: &GateArgs, suite: &Strategies) -> anyhow::Result<GateConfig> {
    let data = a.baseline.is_some() || a.against.is_some() || a.invariants;
    if [a.ab.is_some(), a.paired_invariants, data]
        .iter()
        .filter(|m| **m)
        .count()
        > 1
    {
        bail!(
            "--ab and --paired-invariants measure live; give one of them on its own, without --baseline, --against or --invariants"
        );
    }
    if a.format == GateFormat::Bmf && a.ab.is_none() {
        bail!("--format bmf exports the A/B ratios; use it with --ab");
    }
    let thresholds = Thresholds {
        default: a.threshold,
        per_group: a.group_threshold.iter().copied().collect(),
    };
    let mode = if let Some(old) = &a.ab {
        let settings = Settings::from_env()?;
        let new = match &a.new {
            Some(p) => p.clone(),
            None => cli_options()?.worker_program.unwrap_or_default(),
        };
        // What the two builds can measure: the union of the strategies their sides announce
        // (a build of your own crate announces yours), built-ins first.
        let strategies = crate::gate::ab::strategies_of(old, &new)?;
        let selection = match &a.filter {
            Some(f) => filtered_selection(f, &settings.workers, &strategies)?,
            None => default_selection(&strategies),
        };
        if selection.is_empty() {
            bail!(
                "no benchmark matches --filter `{}`; ids look like countdown_weak/threads/2",
                a.filter.as_deref().unwrap_or_default()
            );
        }
        GateMode::Ab(AbConfig {
            old: old.clone(),
            new,
            selection,
            workloads: settings.workloads(),
            thresholds,
            plan: Plan {
                budget: a.budget.unwrap_or(AB_BUDGET),
                ..Plan::default()
            },
            seed: a.seed,
            layouts: a.layouts.unwrap_or(0),
        })
    } else if a.paired_invariants {
        GateMode::Paired(PairedConfig {
            workloads: Settings::from_env()?.workloads(),
            workers: 2,
            square_workers: 3,
            plan: Plan {
                budget: a.budget.unwrap_or(PAIRED_BUDGET),
                ..Plan::default()
            },
            limits: limits_of(a),
            options: cli_options()?,
            strategies: suite.clone(),
            seed: a.seed,
        })
    } else if data {
        if a.normalize && a.against.is_none() && a.baseline.is_none() {
            bail!("--normalize needs --against or --baseline");
        }
        GateMode::Data(DataChecks {
            criterion_dir: a.data.dir(),
            baseline: a.baseline.clone(),
            against: a.against.clone(),
            normalize: a.normalize,
            invariants: a.invariants.then(|| limits_of(a)),
            thresholds,
        })
    } else {
        bail!(
            "nothing to check: give --ab OLD, --paired-invariants, --baseline NAME, --against results.json or --invariants"
        );
    };
    Ok(GateConfig {
        mode,
        strict: a.strict,
    })
}

/// One line on stderr saying what a live gate is about to measure.
fn banner(cfg: &GateConfig) {
    let knobs = |w: &crate::group::Workloads| {
        format!(
            "countdown {}, nap {}, {} tasks, {} dispatch tasks",
            w.count,
            humantime::format_duration(w.nap()),
            w.tasks,
            w.dispatch_tasks
        )
    };
    match &cfg.mode {
        GateMode::Ab(c) => eprintln!(
            "A/B: old `{}` against new `{}`: {} benchmarks, up to {} each ({})",
            crate::escape::terminal_line(&c.old.display().to_string()),
            crate::escape::terminal_line(&c.new.display().to_string()),
            c.selection.len(),
            humantime::format_duration(c.plan.budget),
            knobs(&c.workloads)
        ),
        GateMode::Paired(c) => eprintln!(
            "paired invariants: up to {} per check ({})",
            humantime::format_duration(c.plan.budget),
            knobs(&c.workloads)
        ),
        GateMode::Data(_) => {}
    }
}

pub(super) fn command(a: &GateArgs, suite: &Strategies) -> anyhow::Result<ExitCode> {
    let outcome = judge(a, suite);
    if let Err(e) = &outcome {
        let interrupted = e
            .chain()
            .any(|c| matches!(c.downcast_ref(), Some(crate::Error::Interrupted)));
        if !interrupted {
            // Could not judge (exit 2): the documented last line, or one JSON object, still
            // comes on stdout; the error itself goes to stderr.
            match a.format {
                GateFormat::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "exit_code": 2,
                        "error": super::error_chain(e),
                    }))?
                )?,
                _ => outln!(
                    "gate: 0 passed, 0 failed, 0 not judged (could not judge; the error is on stderr)"
                )?,
            }
        }
    }
    outcome
}

fn judge(a: &GateArgs, suite: &Strategies) -> anyhow::Result<ExitCode> {
    let cfg = config(a, suite)?;
    banner(&cfg);
    let t0 = std::time::Instant::now();
    let result = gate::run(&cfg, &mut |line| {
        eprintln!("{}", crate::escape::terminal(line));
    })?;
    if !matches!(cfg.mode, GateMode::Data(_)) {
        eprintln!("measured in {:.0} s", t0.elapsed().as_secs_f64());
    }
    for w in &result.warnings {
        super::warn(w);
    }
    match a.format {
        GateFormat::Table => emit(&result.to_table())?,
        GateFormat::Json => outln!("{}", serde_json::to_string_pretty(&result)?)?,
        GateFormat::Bmf => outln!("{}", serde_json::to_string_pretty(&result.bmf_ratios())?)?,
    }
    Ok(ExitCode::from(result.exit_code()))
}
