//! The `poolscale` command line: `run`, `seed`, `report`, `gate`, and the hidden worker mode.
//! Exit codes: 0 success, 1 a regression found by `gate`, 2 any error (bad input, missing data,
//! a failed worker), 130 interrupted.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use std::path::{Path, PathBuf};

use crate::data::Dataset;
use crate::gate::{self, GateResult, InvariantLimits, Thresholds, paired::PairedLimits};
use crate::group::Group;
use crate::limits;
use crate::machine::Machine;
use crate::report::{self, Report};
use crate::seed;
use crate::settings::{Settings, criterion_home};
use crate::strategy::{Options, Outcome, StrategyKind, processes, verify};
use crate::units::{fmt_ns, text_table};
use crate::workload::{Job, countdown_jobs, square_jobs};

/// Writes to stdout. A closed pipe (`poolscale gate | head -1`) means the reader has seen enough:
/// the output stops quietly and the command still exits with its own code.
fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `print!` through [`emit`].
macro_rules! out {
    ($($t:tt)*) => { emit(&format!($($t)*)) };
}

/// `println!` through [`emit`].
macro_rules! outln {
    () => { emit("\n") };
    ($($t:tt)*) => { emit(&format!("{}\n", format_args!($($t)*))) };
}

/// How does each way of running work in parallel scale with the number of workers, and why?
#[derive(Debug, Parser)]
#[command(name = "poolscale", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one workload under one strategy and print the wall time and results.
    Run(RunArgs),
    /// Turn Criterion's results into scaling tables, SVG charts and JSON exports.
    Report(ReportArgs),
    /// Re-enact the seed's two Python programs, live, beside what Rust changes.
    Seed(SeedArgs),
    /// Exit 1 if a benchmark regressed or a scaling invariant failed, 2 if it cannot judge.
    Gate(GateArgs),
}

#[derive(Debug, Args)]
struct SeedArgs {
    #[command(subcommand)]
    program: SeedProgram,
}

#[derive(Debug, Subcommand)]
enum SeedProgram {
    /// Program 1: each of 1, then 2 workers counts down the full count.
    Countdown(SeedCountdownArgs),
    /// Program 2: `Pool(3).map(f, range(10))`, f napping then squaring.
    Pool(SeedPoolArgs),
}

#[derive(Debug, Args)]
struct SeedShared {
    /// Also run the seed's programs in CPython (`python3`, or $POOLSCALE_PYTHON).
    #[arg(long)]
    python: bool,
    /// Write the tables as Markdown into FILE (a file written by this command is updated in
    /// place; any other existing file is refused).
    #[arg(long)]
    markdown: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SeedCountdownArgs {
    /// Decrements per worker (the seed's 100,000,000).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_count, default_value = "100000000")]
    count: u64,
    /// Run only this strategy (default: gil, threads and processes).
    #[arg(long, value_parser = parse_strategy)]
    strategy: Option<StrategyKind>,
    /// Time each Rust configuration this many times and tabulate the median (the seed's lines
    /// are printed for the first run).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_repeat, default_value = "5")]
    repeat: usize,
    #[command(flatten)]
    shared: SeedShared,
}

#[derive(Debug, Args)]
struct SeedPoolArgs {
    /// Pool size (the seed's 3).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_workers, default_value = "3")]
    workers: usize,
    /// Items mapped, `range(items)` (the seed's 10).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_tasks, default_value = "10")]
    items: usize,
    /// Each item's nap (the seed's 1s).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_duration, default_value = "1s")]
    nap: Duration,
    /// The strategy (the seed's processes).
    #[arg(long, value_parser = parse_strategy, default_value = "processes")]
    strategy: StrategyKind,
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

fn seed_cmd(args: &SeedArgs) -> anyhow::Result<ExitCode> {
    let say = |l: &str| {
        let _ = outln!("{l}");
    };
    let options = Options::default();
    match &args.program {
        SeedProgram::Countdown(a) => {
            let strategies = match a.strategy {
                Some(k) => vec![k],
                None => vec![
                    StrategyKind::Gil,
                    StrategyKind::Threads,
                    StrategyKind::Processes,
                ],
            };
            let python = find_python(a.shared.python);
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
            out!(
                "{}",
                text_table(&seed::COUNTDOWN_HEADER, &seed::countdown_table(&rows))
            )?;
            if let Some(path) = &a.shared.markdown {
                let md = seed::countdown_markdown(&rows, a.count, a.repeat, python.as_ref());
                seed::write_markdown(path, "countdown", &md, &Machine::current())?;
                outln!("wrote {}", path.display())?;
            }
        }
        SeedProgram::Pool(a) => {
            let mut runs = vec![
                seed::pool(a.strategy, a.workers, a.items, a.nap, &options, &say)
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
                out!("{}", text_table(&header, &rows))?;
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

#[derive(Debug, Args)]
struct DataArgs {
    /// Criterion's results directory (default: $CRITERION_HOME, else target/criterion).
    #[arg(long)]
    criterion_dir: Option<PathBuf>,
}

impl DataArgs {
    fn dir(&self) -> PathBuf {
        self.criterion_dir.clone().unwrap_or_else(criterion_home)
    }
}

#[derive(Debug, Args)]
struct ReportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Report a saved baseline (`cargo bench -- --save-baseline NAME`) instead of the latest run.
    #[arg(long)]
    baseline: Option<String>,
    /// Where to write README.md, the charts and the JSON files.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Replace files in --out even if `poolscale report` did not write them.
    #[arg(long)]
    force: bool,
    /// Fail (exit 2) when some results predate the latest run (stale) instead of leaving them out.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Args)]
struct GateArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Compare the latest run against this saved Criterion baseline.
    #[arg(long)]
    baseline: Option<String>,
    /// Compare against a results.json written by `poolscale report`.
    #[arg(long)]
    against: Option<PathBuf>,
    /// With --against: compare times divided by the same run's 1-worker time (cancels machine speed).
    #[arg(long)]
    normalize: bool,
    /// Check the scaling invariants on the latest Criterion run (ratios of medians measured
    /// minutes apart: see --paired-invariants for the robust form).
    #[arg(long)]
    invariants: bool,
    /// Measure the scaling invariants live, in alternating rounds with a capacity probe, and
    /// judge each strategy relative to what the machine gave at that moment (the form CI uses).
    #[arg(long)]
    paired_invariants: bool,
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
    /// Time allowed per benchmark (--ab, default 8s) or per check (--paired-invariants, default
    /// 20s); sampling stops sooner once the verdict is decided.
    #[arg(long, value_parser = parse_duration)]
    budget: Option<Duration>,
    /// --paired-invariants: a compute-parallel strategy's efficiency at 2 workers divided by the
    /// capacity probe's, at least this.
    #[arg(long, default_value_t = PairedLimits::default().min_relative_efficiency, value_parser = parse_fraction)]
    min_relative_efficiency: f64,
    /// --paired-invariants: seed of the randomised sampling order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Regression threshold on the change's lower confidence bound (default 10%).
    #[arg(long, default_value = "10%", allow_hyphen_values = true, value_parser = parse_percent)]
    threshold: f64,
    /// A group's own threshold, e.g. square_sleep=5% (repeatable).
    #[arg(long, value_parser = parse_group_threshold)]
    group_threshold: Vec<(Group, f64)>,
    /// Fail (exit 1) when a benchmark of the baseline is missing now.
    #[arg(long)]
    strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: GateFormat,
    /// Invariant: square_sleep measured/ideal at most this (a number from 1 to 100).
    #[arg(long, default_value_t = InvariantLimits::default().max_square_ratio, value_parser = parse_ratio_limit)]
    max_square_ratio: f64,
    /// Invariant (--invariants): countdown_weak efficiency at 2 workers at least this (threads,
    /// rayon, crossbeam, processes; a fraction from 0 to 1).
    #[arg(long, default_value_t = InvariantLimits::default().min_weak_efficiency, value_parser = parse_fraction)]
    min_weak_efficiency: f64,
    /// Invariant: gil's countdown_weak time at 2 workers at least this many times its 1-worker
    /// time (a number from 1 to 100).
    #[arg(long, default_value_t = InvariantLimits::default().min_gil_slowdown, value_parser = parse_ratio_limit)]
    min_gil_slowdown: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GateFormat {
    Table,
    Json,
    /// Bencher Metric Format: each compared benchmark's ratio new/old with its interval (--ab).
    Bmf,
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    limits::parse_bounded(s, "fraction", 0.0, 1.0).map_err(|e| e.to_string())
}
fn parse_ratio_limit(s: &str) -> Result<f64, String> {
    limits::parse_bounded(s, "ratio", 1.0, 100.0).map_err(|e| e.to_string())
}
fn parse_percent(s: &str) -> Result<f64, String> {
    gate::parse_percent(s).map_err(|e| e.to_string())
}
fn parse_group_threshold(s: &str) -> Result<(Group, f64), String> {
    gate::parse_group_threshold(s).map_err(|e| e.to_string())
}

/// Reads a Criterion directory into a report: only the results of the baseline's latest recorded
/// run; older ones are listed as stale (an error with `strict`).
fn load_report(dir: &Path, baseline: &str, strict: bool) -> anyhow::Result<Report> {
    let own = Settings::load_exact(dir, baseline)?;
    let since = own.as_ref().and_then(Settings::started);
    let data = Dataset::load(dir, baseline, since)
        .with_context(|| format!("cannot read benchmark results from `{}`", dir.display()))?;
    if !data.stale.is_empty() {
        let msg = format!(
            "{} benchmarks of `{baseline}` predate its latest run and are left out (stale): {}",
            data.stale.len(),
            data.stale.join(", ")
        );
        if strict {
            bail!("{msg}; run the whole suite again (`cargo bench`) or drop --strict");
        }
        eprintln!("warning: {msg}");
    }
    let settings = match own {
        Some(s) => Some(s),
        None => Settings::load(dir, Some(baseline).filter(|b| *b != "new"))?,
    };
    Ok(Report::build(&data, settings, dir, baseline))
}

fn report_cmd(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let baseline = args.baseline.as_deref().unwrap_or("new");
    let report = load_report(&args.data.dir(), baseline, args.strict)?;
    let paths = report::write_all(&report, &args.out, args.force)
        .with_context(|| format!("cannot write the report into `{}`", args.out.display()))?;
    outln!(
        "read {} benchmarks from `{}` (baseline `{baseline}`)",
        report.records.len(),
        args.data.dir().display()
    )?;
    for p in paths {
        outln!("wrote {}", p.display())?;
    }
    if !report.missing.is_empty() {
        outln!(
            "missing {} expected benchmarks (listed in the report): {}",
            report.missing.len(),
            report.missing.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Warns (on stderr) when two runs were measured with different settings.
fn warn_settings(before: &Report, after: &Report, what: &str, normalized: bool) {
    let mut diffs = gate::settings_differences(&before.settings, &after.settings);
    if normalized {
        // Normalising cancels machine speed; a different machine is expected then.
        diffs.retain(|d| !d.starts_with("cpu ") && !d.starts_with("logical cores "));
    }
    if !diffs.is_empty() {
        eprintln!(
            "warning: {what} was measured with other settings ({}); changes may reflect them, not the code",
            diffs.join(", ")
        );
    }
}

fn gate_cmd(args: &GateArgs) -> anyhow::Result<ExitCode> {
    let modes = [
        args.ab.is_some(),
        args.paired_invariants,
        args.baseline.is_some() || args.against.is_some() || args.invariants,
    ];
    if modes.iter().filter(|m| **m).count() > 1 {
        bail!(
            "--ab and --paired-invariants measure live; give one of them on its own, without --baseline, --against or --invariants"
        );
    }
    if args.format == GateFormat::Bmf && args.ab.is_none() {
        bail!("--format bmf exports the A/B ratios; use it with --ab");
    }
    if let Some(old) = &args.ab {
        return ab_gate_cmd(old, args);
    }
    if args.paired_invariants {
        return paired_gate_cmd(args);
    }
    if args.baseline.is_none() && args.against.is_none() && !args.invariants {
        bail!(
            "nothing to check: give --ab OLD, --paired-invariants, --baseline NAME, --against results.json or --invariants"
        );
    }
    if args.normalize && args.against.is_none() && args.baseline.is_none() {
        bail!("--normalize needs --against or --baseline");
    }
    let dir = args.data.dir();
    let current = load_report(&dir, "new", args.strict)?;
    let thresholds = thresholds(args);
    let mut result = GateResult {
        strict: args.strict,
        ..GateResult::default()
    };
    let after = gate::points(&current, args.normalize);
    if let Some(b) = &args.baseline {
        match b.as_str() {
            "new" => bail!(
                "--baseline new is the latest run itself; compare against a baseline saved with `cargo bench -- --save-baseline NAME`"
            ),
            "base" => bail!(
                "--baseline base is not a saved baseline: Criterion copies every plain run's results to `base`, so it is the latest run; save one with `cargo bench -- --save-baseline NAME`"
            ),
            _ => {}
        }
        let before = load_report(&dir, b, args.strict)?;
        warn_settings(
            &before,
            &current,
            &format!("baseline `{b}`"),
            args.normalize,
        );
        result.rows.extend(gate::compare(
            &gate::points(&before, args.normalize),
            &after,
            &thresholds,
        ));
    }
    if let Some(path) = &args.against {
        let before = Report::load_json(path)
            .with_context(|| format!("cannot use `{}` as --against", path.display()))?;
        warn_settings(
            &before,
            &current,
            &path.display().to_string(),
            args.normalize,
        );
        result.rows.extend(gate::compare(
            &gate::points(&before, args.normalize),
            &after,
            &thresholds,
        ));
    }
    if args.invariants {
        let limits = InvariantLimits {
            max_square_ratio: args.max_square_ratio,
            min_weak_efficiency: args.min_weak_efficiency,
            min_gil_slowdown: args.min_gil_slowdown,
        };
        result.checks = gate::invariants(&current, &limits);
    }
    print_gate(&result, args)
}

/// `gate --paired-invariants`: measure the invariants live and judge them.
fn paired_gate_cmd(args: &GateArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_env()?;
    let cfg = gate::paired::PairedConfig {
        workloads: settings.workloads(),
        workers: 2,
        square_workers: 3,
        plan: crate::paired::Plan {
            budget: args.budget.unwrap_or(gate::paired::DEFAULT_BUDGET),
            ..crate::paired::Plan::default()
        },
        limits: PairedLimits {
            min_relative_efficiency: args.min_relative_efficiency,
            min_gil_slowdown: args.min_gil_slowdown,
            max_square_ratio: args.max_square_ratio,
        },
        options: cli_options()?,
        strategies: StrategyKind::ALL.to_vec(),
        seed: args.seed,
    };
    eprintln!(
        "paired invariants: countdown {} per job, nap {}, {} tasks; up to {} per check",
        cfg.workloads.count,
        humantime::format_duration(Duration::from_nanos(cfg.workloads.nap_ns)),
        cfg.workloads.tasks,
        humantime::format_duration(cfg.plan.budget)
    );
    let mut k = 0;
    let checks = gate::paired::run(&cfg, &mut |what| {
        k += 1;
        eprintln!("[{k}] {what}");
    })?;
    let result = GateResult {
        checks,
        strict: args.strict,
        ..GateResult::default()
    };
    print_gate(&result, args)
}

/// `gate --ab OLD`: the interleaved A/B comparison of two builds.
fn ab_gate_cmd(old: &Path, args: &GateArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_env()?;
    let new = match &args.new {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("cannot locate the running executable")?,
    };
    let selection = match &args.filter {
        Some(f) => gate::ab::filtered_selection(f, &settings.workers)?,
        None => gate::ab::default_selection(),
    };
    if selection.is_empty() {
        bail!(
            "no benchmark matches --filter `{}`; ids look like countdown_weak/threads/2",
            args.filter.as_deref().unwrap_or_default()
        );
    }
    let cfg = gate::ab::AbConfig {
        old: old.to_path_buf(),
        new,
        selection,
        workloads: settings.workloads(),
        thresholds: thresholds(args),
        plan: crate::paired::Plan {
            budget: args.budget.unwrap_or(gate::ab::DEFAULT_BUDGET),
            ..crate::paired::Plan::default()
        },
        seed: args.seed,
    };
    eprintln!(
        "A/B: old `{}` against new `{}`: {} benchmarks, up to {} each (countdown {}, nap {}, {} tasks, {} dispatch tasks)",
        cfg.old.display(),
        cfg.new.display(),
        cfg.selection.len(),
        humantime::format_duration(cfg.plan.budget),
        cfg.workloads.count,
        humantime::format_duration(Duration::from_nanos(cfg.workloads.nap_ns)),
        cfg.workloads.tasks,
        cfg.workloads.dispatch_tasks,
    );
    let t0 = Instant::now();
    let (rows, details) = gate::ab::run(&cfg, &mut |k, n, id| {
        let spent = t0.elapsed().as_secs_f64();
        let left = if k > 1 {
            format!(
                ", ~{:.0} s left",
                spent / (k - 1) as f64 * (n - k + 1) as f64
            )
        } else {
            String::new()
        };
        eprintln!("[{k}/{n}] {id} ({spent:.0} s{left})");
    })?;
    eprintln!("A/B done in {:.0} s", t0.elapsed().as_secs_f64());
    let result = GateResult {
        rows,
        strict: args.strict,
        ab: details,
        ..GateResult::default()
    };
    print_gate(&result, args)
}

fn thresholds(args: &GateArgs) -> Thresholds {
    Thresholds {
        default: args.threshold,
        per_group: args.group_threshold.iter().copied().collect(),
    }
}

/// Prints a gate result in the chosen format and returns its exit code.
fn print_gate(result: &GateResult, args: &GateArgs) -> anyhow::Result<ExitCode> {
    match args.format {
        GateFormat::Table => out!("{}", result.to_table(args.normalize))?,
        GateFormat::Bmf => outln!("{}", serde_json::to_string_pretty(&result.bmf_ratios())?)?,
        GateFormat::Json => {
            let v = serde_json::json!({
                "exit_code": result.exit_code(),
                "normalized": args.normalize,
                "rows": result.rows,
                "invariants": result.checks,
                "strict": result.strict,
                "tally": result.tally(),
                "ab": result.ab,
            });
            outln!("{}", serde_json::to_string_pretty(&v)?)?;
        }
    }
    Ok(ExitCode::from(result.exit_code()))
}

/// Pool options for the CLI: this very executable is the worker program (whatever its name).
fn cli_options() -> anyhow::Result<Options> {
    let exe = std::env::current_exe().context("cannot locate the running executable")?;
    Ok(Options {
        worker_program: Some(exe),
        ..Options::default()
    })
}

/// The seed's two workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// Program 1: count down from N in each job (CPU-bound).
    Countdown,
    /// Program 2: sleep a nap, then square the job's value (latency-bound).
    Square,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Which workload.
    #[arg(long, value_enum)]
    workload: Workload,
    /// Which strategy: sequential, threads, rayon, crossbeam, processes or gil.
    #[arg(long, value_parser = parse_strategy)]
    strategy: StrategyKind,
    /// Number of workers (1 to 256).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_workers)]
    workers: usize,
    /// countdown: decrements per job (default: the seed's 100,000,000).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_count, default_value = "100000000")]
    count: u64,
    /// countdown: divide one count over the workers' jobs (strong scaling) instead of a full
    /// count per worker (weak scaling, the seed's shape).
    #[arg(long)]
    split: bool,
    /// square: number of tasks (default: the seed's 10).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_tasks, default_value = "10")]
    tasks: usize,
    /// square: the nap before each square, e.g. 1s, 10ms, 250us (default: the seed's 1s).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_duration, default_value = "1s")]
    nap: Duration,
    /// gil: the switch interval (CPython's default 5ms).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_duration, default_value = "5ms")]
    switch_interval: Duration,
    /// processes: fail if a worker holds one job longer than this.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_duration)]
    job_timeout: Option<Duration>,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

fn parse_strategy(s: &str) -> Result<StrategyKind, String> {
    s.parse().map_err(|e: crate::Error| e.to_string())
}
fn parse_workers(s: &str) -> Result<usize, String> {
    limits::parse_workers(s).map_err(|e| e.to_string())
}
fn parse_repeat(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err(format!(
            "invalid repeat count `{s}`: expected a whole number from 1 to 100"
        )),
    }
}
fn parse_count(s: &str) -> Result<u64, String> {
    limits::parse_count(s).map_err(|e| e.to_string())
}
fn parse_tasks(s: &str) -> Result<usize, String> {
    limits::parse_tasks(s).map_err(|e| e.to_string())
}
fn parse_duration(s: &str) -> Result<Duration, String> {
    limits::parse_duration(s).map_err(|e| e.to_string())
}

/// What `run --json` prints: one object per run.
#[derive(Debug, Serialize)]
pub struct RunRecord {
    /// `countdown` or `square`.
    pub workload: Workload,
    /// The strategy's name.
    pub strategy: StrategyKind,
    /// Worker count.
    pub workers: usize,
    /// Number of jobs mapped.
    pub jobs: usize,
    /// countdown: decrements per job before splitting; square: absent.
    pub count: Option<u64>,
    /// countdown: whether the count was split over the jobs.
    pub split: bool,
    /// square: the nap, in nanoseconds; countdown: absent.
    pub nap_ns: Option<u64>,
    /// Time to start the pool, in nanoseconds (not part of `wall_ns`).
    pub startup_ns: u64,
    /// Wall-clock time of the map, in nanoseconds.
    pub wall_ns: u64,
    /// The jobs' results, in input order.
    pub results: Vec<u64>,
    /// Where and when each job ran, in input order.
    pub outcomes: Vec<Outcome>,
}

/// Runs one map as `run` describes and checks its results.
fn run(args: &RunArgs) -> anyhow::Result<RunRecord> {
    let jobs: Vec<Job> = match args.workload {
        Workload::Countdown => countdown_jobs(args.count, args.workers, args.split),
        Workload::Square => square_jobs(args.tasks, args.nap),
    };
    let options = Options {
        switch_interval: args.switch_interval,
        job_timeout: args.job_timeout,
        ..Options::default()
    };
    let t = Instant::now();
    let mut pool = args
        .strategy
        .start(args.workers, &options)
        .with_context(|| {
            format!(
                "cannot start {} with {} workers",
                args.strategy, args.workers
            )
        })?;
    let startup = t.elapsed();
    let t = Instant::now();
    let outcomes = pool
        .map(&jobs)
        .with_context(|| format!("{} failed to run {} jobs", args.strategy, jobs.len()))?;
    let wall = t.elapsed();
    drop(pool);
    if let Err(e) = verify(&jobs, &outcomes, args.workers) {
        bail!("{} returned wrong results: {e}", args.strategy);
    }
    Ok(RunRecord {
        workload: args.workload,
        strategy: args.strategy,
        workers: args.workers,
        jobs: jobs.len(),
        count: (args.workload == Workload::Countdown).then_some(args.count),
        split: args.split,
        nap_ns: (args.workload == Workload::Square).then_some(args.nap.as_nanos() as u64),
        startup_ns: startup.as_nanos() as u64,
        wall_ns: wall.as_nanos() as u64,
        results: outcomes.iter().map(|o| o.value).collect(),
        outcomes,
    })
}

fn print_run(rec: &RunRecord, out: &mut impl Write) -> std::io::Result<()> {
    let what = match rec.workload {
        Workload::Countdown => format!(
            "countdown of {} {} over {} jobs",
            rec.count.unwrap_or(0),
            if rec.split { "split" } else { "each" },
            rec.jobs
        ),
        Workload::Square => format!(
            "square of {} tasks after a {} nap",
            rec.jobs,
            humantime::format_duration(Duration::from_nanos(rec.nap_ns.unwrap_or(0)))
        ),
    };
    writeln!(out, "{what}: {} with {} workers", rec.strategy, rec.workers)?;
    writeln!(out, "results: {:?}", rec.results)?;
    writeln!(out, "pool start-up: {}", fmt_ns(rec.startup_ns as f64))?;
    writeln!(out, "wall time: {}", fmt_ns(rec.wall_ns as f64))
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    match std::env::args_os().nth(1) {
        Some(a) if a == processes::WORKER_ARG => {
            return ExitCode::from(processes::worker::serve() as u8);
        }
        Some(a) if a == crate::probe::PROBE_ARG => {
            return ExitCode::from(crate::probe::serve() as u8);
        }
        Some(a) if a == crate::sampling::SAMPLE_ARG => {
            return ExitCode::from(crate::sampling::serve() as u8);
        }
        _ => {}
    }
    crate::interrupt::install();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.chain()
                .any(|c| matches!(c.downcast_ref(), Some(crate::Error::Interrupted)))
            {
                eprintln!("poolscale: interrupted");
                return ExitCode::from(130);
            }
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once: a cause whose text its parent already includes (as
/// `Error::Io` includes the OS error) is not repeated.
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => {
            let rec = run(&args)?;
            let mut text = Vec::new();
            if args.json {
                serde_json::to_writer(&mut text, &rec)?;
                writeln!(text)?;
            } else {
                print_run(&rec, &mut text)?;
            }
            emit(&String::from_utf8_lossy(&text))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => report_cmd(&args),
        Command::Seed(args) => seed_cmd(&args),
        Command::Gate(args) => gate_cmd(&args),
    }
}
