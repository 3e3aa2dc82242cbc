//! `poolscale advise`: arguments to [`crate::advise`], its answer printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{cli_options, outln};
use crate::advise::{
    Advice, AdviseConfig, CheckVerdict, Question, Source, advise, check, from_sweep,
};
use crate::limits;
use crate::results::observe::Observations;
use crate::results::settings::Settings;
use crate::strategy::Strategies;
use crate::units::{fmt_ns, text_table};

#[derive(Debug, Args)]
pub(super) struct AdviseArgs {
    /// Work per task on one core, e.g. 500ns, 5us, 2ms (countdown decrements worth that long).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_positive_duration,
          required_unless_present = "workload", conflicts_with = "workload")]
    task: Option<Duration>,
    /// A workload this binary's suite registered (`poolscale::workload::register`) instead of
    /// countdown tasks: each task runs it with `--args`. Always measured on the spot.
    #[arg(long)]
    workload: Option<String>,
    /// The registered workload's two arguments, `A` or `A,B` (default 0,0).
    #[arg(long, requires = "workload", value_parser = parse_args)]
    args: Option<(u64, u64)>,
    /// Number of tasks.
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_tasks)]
    tasks: usize,
    /// Worker counts to try (default: 1, the cores and one more).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_workers)]
    workers: Option<Workers>,
    /// Measure on the spot even where the latest break-even sweep covers the question.
    #[arg(long)]
    measure: bool,
    /// Then run the fastest and the runner-up again, interleaved, and say whether the order
    /// holds.
    #[arg(long)]
    check: bool,
    /// Sampling time allowed for a measurement (it stops earlier once every ratio is within
    /// ±2%); `--check` has as much again.
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_positive_duration, default_value = "20s")]
    budget: Duration,
    /// Criterion's results directory, where the latest sweep lies (default: $CRITERION_HOME,
    /// else target/criterion).
    #[arg(long)]
    criterion_dir: Option<PathBuf>,
    /// `text` (default) or `json` (one object on stdout).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

/// `--workers`: a list such as `1,2,3`.
#[derive(Clone, Debug)]
pub(super) struct Workers(Vec<usize>);

fn parse_workers(s: &str) -> Result<Workers, crate::error::Error> {
    limits::parse_worker_list(s).map(Workers)
}

/// `--args A[,B]`.
fn parse_args(s: &str) -> Result<(u64, u64), crate::error::Error> {
    let bad = |why: &str| crate::error::Error::invalid("args", s, why.to_string());
    let mut parts = s.split(',').map(|p| p.trim().parse::<u64>());
    let a = parts
        .next()
        .ok_or_else(|| bad("expected A or A,B"))?
        .map_err(|_| bad("A must be a whole number"))?;
    let b = match parts.next() {
        None => 0,
        Some(b) => b.map_err(|_| bad("B must be a whole number"))?,
    };
    if parts.next().is_some() {
        return Err(bad("expected at most two numbers, A,B"));
    }
    Ok((a, b))
}

/// 1, the machine's cores and one more, deduplicated.
fn default_workers() -> Vec<usize> {
    let c = num_cpus::get().max(1);
    let mut w = vec![1, c, c + 1];
    w.dedup();
    w.into_iter()
        .filter(|&w| limits::workers(w).is_ok())
        .collect()
}

/// The answer read from the latest sweep in `dir`, or why there is none.
fn answer_from_sweep(
    dir: &std::path::Path,
    cfg: &AdviseConfig,
) -> anyhow::Result<Result<Advice, String>> {
    let Question::Countdown { task, tasks } = &cfg.question else {
        return Ok(Err("the sweep measured countdown tasks only".into()));
    };
    let Some(settings) = Settings::load_exact(dir, crate::results::data::LATEST)? else {
        return Ok(Err(format!(
            "no bench run in {} (`cargo bench` or `cargo bench -- breakeven` measures the sweep)",
            dir.display()
        )));
    };
    let sweep = match Observations::load(
        dir,
        crate::results::data::LATEST,
        settings.run_id.as_deref(),
    )? {
        Ok(Some(o)) => o.breakeven,
        Ok(None) => None,
        Err(why) => return Ok(Err(why)),
    };
    let Some(sweep) = sweep else {
        return Ok(Err(format!(
            "the latest bench run in {} measured no break-even sweep (`cargo bench -- breakeven` does)",
            dir.display()
        )));
    };
    Ok(from_sweep(
        &sweep,
        num_cpus::get().max(1),
        task.as_nanos() as f64,
        *tasks,
        &cfg.workers,
        &cfg.strategies.names(),
        (
            sweep.run_id.clone(),
            (!settings.machine.date.is_empty()).then(|| settings.machine.date.clone()),
            settings.machine.cpu.clone(),
        ),
    ))
}

pub(super) fn command(a: &AdviseArgs, strategies: &Strategies) -> anyhow::Result<ExitCode> {
    let question = match (&a.workload, a.task) {
        (Some(name), _) => {
            let (x, y) = a.args.unwrap_or((0, 0));
            Question::Registered {
                name: name.clone(),
                tasks: a.tasks,
                a: x,
                b: y,
            }
        }
        (None, Some(task)) => Question::Countdown {
            task,
            tasks: a.tasks,
        },
        (None, None) => anyhow::bail!("give `--task` (countdown tasks) or `--workload NAME`"),
    };
    let cfg = AdviseConfig {
        question,
        workers: a
            .workers
            .as_ref()
            .map_or_else(default_workers, |w| w.0.clone()),
        budget: a.budget,
        strategies: strategies.clone(),
        options: cli_options()?,
    };
    let dir = a
        .criterion_dir
        .clone()
        .unwrap_or_else(crate::results::store::criterion_home);
    let from = if a.measure {
        None
    } else {
        match answer_from_sweep(&dir, &cfg)? {
            Ok(advice) => Some(advice),
            Err(why) => {
                eprintln!(
                    "note: measuring on the spot: {}",
                    crate::escape::terminal(&why)
                );
                None
            }
        }
    };
    let mut advice = match from {
        Some(a) => a,
        None => advise(&cfg)?,
    };
    if a.check {
        advice.check = check(&cfg, &advice)?;
    }
    if a.format == "json" {
        outln!("{}", serde_json::to_string(&advice)?)?;
    } else {
        super::emit(&to_text(&advice))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn interval(e: &crate::stats::Estimate, f: impl Fn(f64) -> String) -> String {
    format!("{} [{}, {}]", f(e.point), f(e.lower), f(e.upper))
}

fn ratio(e: &crate::stats::Estimate) -> String {
    interval(e, |x| format!("{x:.2}×"))
}

fn to_text(a: &Advice) -> String {
    let one_took = a
        .task_measured_ns
        .as_ref()
        .map_or_else(|| "–".into(), |e| interval(e, fmt_ns));
    let mut out = match &a.source {
        Source::Measured {
            measured_tasks,
            decrements_per_task,
            ns_per_decrement,
            rounds,
        } => format!(
            "{}{}; in the rounds one took {one_took} on one core; measured now on {measured_tasks} tasks a map{}, {rounds} interleaved rounds\n\n",
            a.workload,
            match (decrements_per_task, ns_per_decrement) {
                (Some(d), Some(ns)) => format!(" ({d} countdown decrements at {ns:.3} ns)"),
                _ => String::new(),
            },
            if *measured_tasks < a.tasks {
                ", times scaled to the whole"
            } else {
                ""
            },
        ),
        Source::Sweep {
            run_id,
            date,
            cpu,
            between_ns,
        } => format!(
            "{}: from the break-even sweep of bench run {}{} on {}, each ratio interpolated between the sizes it measured around it ({}{}); `--measure` measures it now\n\n",
            a.workload,
            crate::escape::terminal_line(run_id.as_deref().unwrap_or("?")),
            date.as_deref().map_or_else(String::new, |d| format!(
                " ({})",
                crate::escape::terminal_line(d)
            )),
            crate::escape::terminal_line(cpu),
            fmt_ns(between_ns[0]),
            if between_ns[1] > between_ns[0] {
                format!(" and {}", fmt_ns(between_ns[1]))
            } else {
                ", measured there".into()
            },
        ),
    };
    let rows: Vec<Vec<String>> = a
        .candidates
        .iter()
        .map(|c| {
            vec![
                c.strategy.clone(),
                c.workers.to_string(),
                interval(&c.expected_ns, fmt_ns),
                c.vs_sequential.as_ref().map_or_else(|| "–".into(), ratio),
            ]
        })
        .collect();
    out.push_str(&text_table(
        &[
            "strategy",
            "workers",
            "expected time [95%]",
            "time / sequential's",
        ],
        &rows,
    ));
    out.push('\n');
    if let Some(f) = a.fastest() {
        let second = a.runner_up().map_or_else(String::new, |r| {
            format!(
                "; runner-up: {} with {} workers, {}{}",
                r.strategy,
                r.workers,
                fmt_ns(r.expected_ns.point),
                if a.tie {
                    " (a tie: their intervals overlap)"
                } else {
                    ""
                }
            )
        });
        out.push_str(&format!(
            "fastest: {} with {} workers, {} expected{second}\n",
            f.strategy,
            f.workers,
            fmt_ns(f.expected_ns.point)
        ));
        if f.strategy == "sequential" {
            out.push_str(
                "at this task size every pool's dispatch and wake-ups cost more than running in parallel saves: run the tasks in place\n",
            );
        }
    }
    if let (Some(c), Some(f), Some(r)) = (&a.check, a.fastest(), a.runner_up()) {
        let said = match c.verdict {
            CheckVerdict::Confirmed => "confirmed: the fastest was faster in the same rounds",
            CheckVerdict::Tie => "a tie in the same rounds: either will do",
            CheckVerdict::Reversed => "reversed: the runner-up was faster in the same rounds",
            CheckVerdict::Undecided => "undecided: too few rounds for an interval",
        };
        out.push_str(&format!(
            "check, {} rounds now: {} at {} over {} at {}: {}{}{}; {said}\n",
            c.rounds,
            f.strategy,
            f.workers,
            r.strategy,
            r.workers,
            c.fastest_over_runner_up
                .as_ref()
                .map_or_else(|| "–".into(), ratio),
            c.fastest_vs_sequential
                .as_ref()
                .map_or_else(String::new, |e| format!(" (over sequential: {}", ratio(e))),
            match (&c.fastest_vs_sequential, &c.runner_up_vs_sequential) {
                (Some(_), Some(e)) => format!(" and {})", ratio(e)),
                (Some(_), None) => ")".into(),
                (None, Some(e)) => format!(" (the runner-up over sequential: {})", ratio(e)),
                (None, None) => String::new(),
            },
        ));
    }
    out
}
