//! `poolscale advise`: arguments to [`crate::advise::advise`], its answer printed.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{cli_options, outln};
use crate::advise::{Advice, AdviseConfig, advise};
use crate::limits;
use crate::strategy::Strategies;
use crate::units::{fmt_ns, text_table};

#[derive(Debug, Args)]
pub(super) struct AdviseArgs {
    /// Work per task on one core, e.g. 500ns, 5us, 2ms (countdown decrements worth that long).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_positive_duration)]
    task: Duration,
    /// Number of tasks.
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_tasks)]
    tasks: usize,
    /// Worker counts to try (default: 1, the cores and one more).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_workers)]
    workers: Option<Workers>,
    /// Sampling time allowed (it stops earlier once every ratio is within ±2%).
    #[arg(long, allow_hyphen_values = true, value_parser = limits::parse_positive_duration, default_value = "20s")]
    budget: Duration,
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

/// 1, the machine's cores and one more, deduplicated.
fn default_workers() -> Vec<usize> {
    let c = num_cpus::get().max(1);
    let mut w = vec![1, c, c + 1];
    w.dedup();
    w.into_iter()
        .filter(|&w| limits::workers(w).is_ok())
        .collect()
}

pub(super) fn command(a: &AdviseArgs, strategies: &Strategies) -> anyhow::Result<ExitCode> {
    let cfg = AdviseConfig {
        task: a.task,
        tasks: a.tasks,
        workers: a
            .workers
            .as_ref()
            .map_or_else(default_workers, |w| w.0.clone()),
        budget: a.budget,
        strategies: strategies.clone(),
        options: cli_options()?,
    };
    let advice = advise(&cfg)?;
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

fn to_text(a: &Advice) -> String {
    let mut out = format!(
        "{} tasks of {} each ({} countdown decrements at {:.3} ns; in the rounds one took {} on \
         one core); measured on {} tasks a map{}, {} interleaved rounds\n\n",
        a.tasks,
        fmt_ns(a.task_ns),
        a.decrements_per_task,
        a.ns_per_decrement,
        a.task_measured_ns
            .as_ref()
            .map_or_else(|| "–".into(), |e| interval(e, fmt_ns)),
        a.measured_tasks,
        if a.measured_tasks < a.tasks {
            ", times scaled to the whole"
        } else {
            ""
        },
        a.rounds
    );
    let rows: Vec<Vec<String>> = a
        .candidates
        .iter()
        .map(|c| {
            vec![
                c.strategy.clone(),
                c.workers.to_string(),
                interval(&c.expected_ns, fmt_ns),
                c.vs_sequential
                    .as_ref()
                    .map_or_else(|| "–".into(), |v| interval(v, |x| format!("{x:.2}×"))),
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
    out
}
