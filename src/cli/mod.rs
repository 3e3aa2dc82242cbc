//! The `poolscale` command line: one small file per command, each only translating arguments
//! into a library call and printing what it returns. Exit codes: 0 success, 1 a regression found
//! by `gate`, 2 any error (bad input, missing data, a failed worker), 130 interrupted.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::strategy::{Options, Strategies, processes};

mod advise;
mod calibrate;
mod gate;
mod layouts;
mod report;
mod run;
mod seed;

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
    Run(run::RunArgs),
    /// Turn Criterion's results into scaling tables, SVG charts and JSON exports.
    Report(report::ReportArgs),
    /// Re-enact the seed's two Python programs, live, beside what Rust changes.
    Seed(seed::SeedArgs),
    /// Exit 1 if a benchmark regressed or a scaling invariant failed, 2 if it cannot judge.
    Gate(gate::GateArgs),
    /// Time the countdown in this binary and in others, interleaved: the instrument check.
    Calibrate(calibrate::CalibrateArgs),
    /// Build a binary and K code-layout variants of it, for `gate --ab --layouts K`.
    Layouts(layouts::LayoutsArgs),
    /// Which strategy and worker count runs your workload fastest here: measured on the spot.
    Advise(advise::AdviseArgs),
}

/// Writes to stdout. A closed pipe (`poolscale gate | head -1`) means the reader has seen enough:
/// the output stops quietly and the command still exits with its own code.
/// Every string is escaped for the terminal ([`crate::escape::terminal`]): what a file, a side or
/// a program said cannot drive the terminal or fake a line of the CI log.
fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let text = crate::escape::terminal(text);
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A warning on stderr, escaped for the terminal.
fn warn(text: &str) {
    eprintln!("warning: {}", crate::escape::terminal(text));
}

/// `println!` through [`emit`].
macro_rules! outln {
    () => { $crate::cli::emit("\n") };
    ($($t:tt)*) => { $crate::cli::emit(&format!("{}\n", format_args!($($t)*))) };
}
pub(crate) use outln;

/// Pool options for the CLI: this very executable is the worker program, whatever its name. Its
/// commands start a pool or a few, so workers start by exec (`spawn`): a fork server would cost
/// one more program start than it saves, and would be one more child.
fn cli_options() -> anyhow::Result<Options> {
    let exe = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot locate the running executable: {e}"))?;
    Ok(Options {
        worker_program: Some(exe),
        start: processes::StartMethod::Spawn,
        ..Options::default()
    })
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

/// The `poolscale` command line, knowing `strategies`: call it as the whole of a binary's `main`
/// to get `run`, `seed`, `gate --paired-invariants` and the rest for a strategy of your own,
/// and a binary that is also its own worker program, fork server, probe and sampling side.
/// Register custom workloads before calling it.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     // Your strategies here, beside built-ins to compare with.
///     let suite = poolscale::strategy::Strategies::builtin();
///     poolscale::main_with(&suite)
/// }
/// ```
pub fn main_with(strategies: &Strategies) -> ExitCode {
    if let Some(code) = crate::hidden::serve(strategies) {
        return ExitCode::from(u8::try_from(code).unwrap_or(2));
    }
    crate::platform::interrupt::install();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::command(&args, strategies),
        Command::Report(args) => report::command(&args),
        Command::Seed(args) => seed::command(&args, strategies),
        Command::Gate(args) => gate::command(&args, strategies),
        Command::Calibrate(args) => calibrate::command(&args),
        Command::Layouts(args) => layouts::command(&args),
        Command::Advise(args) => advise::command(&args, strategies),
    };
    // A fork server (`run --start forkserver`) would exit at our exit anyway; reap it first.
    processes::forkserver::stop_all();
    match result {
        Ok(code) => code,
        Err(e) => {
            if e.chain()
                .any(|c| matches!(c.downcast_ref(), Some(crate::Error::Interrupted)))
            {
                eprintln!("poolscale: interrupted");
                return ExitCode::from(130);
            }
            // One line, whatever a side or a file put in the message.
            eprintln!("error: {}", crate::escape::terminal_line(&error_chain(&e)));
            ExitCode::from(2)
        }
    }
}
