//! `poolscale report`: arguments to [`crate::report::load`] and [`crate::report::write_all`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::{outln, warn};
use crate::report;
use crate::results::store::{criterion_home, default_report_dir};

/// Where Criterion's results are.
#[derive(Debug, Args)]
pub(super) struct DataArgs {
    /// Criterion's results directory (default: $CRITERION_HOME, else target/criterion).
    #[arg(long)]
    criterion_dir: Option<PathBuf>,
}

impl DataArgs {
    pub(super) fn dir(&self) -> PathBuf {
        self.criterion_dir.clone().unwrap_or_else(criterion_home)
    }
}

#[derive(Debug, Args)]
pub(super) struct ReportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Report a saved baseline (`cargo bench -- --save-baseline NAME`) instead of the latest run.
    #[arg(long)]
    baseline: Option<String>,
    /// Where to write README.md, the charts and the JSON files (default: target/poolscale/report,
    /// under $CARGO_TARGET_DIR if set; the committed reference is `--out reports`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace files in --out even if `poolscale report` did not write them.
    #[arg(long)]
    force: bool,
    /// Fail (exit 2) when some results predate the latest run (stale) instead of leaving them out.
    #[arg(long)]
    strict: bool,
}

pub(super) fn command(a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let baseline = a
        .baseline
        .as_deref()
        .unwrap_or(crate::results::data::LATEST);
    let dir = a.data.dir();
    let loaded = report::load(&dir, baseline, a.strict, crate::analysis::Depth::Full)
        .with_context(|| format!("cannot read benchmark results from `{}`", dir.display()))?;
    for w in &loaded.warnings {
        warn(w);
    }
    let out = a.out.clone().unwrap_or_else(default_report_dir);
    let written = report::write_all(&loaded.report, &out, a.force)
        .with_context(|| format!("cannot write the report into `{}`", out.display()))?;
    for w in &written.warnings {
        warn(w);
    }
    let r = &loaded.report;
    outln!(
        "read {} benchmarks from `{}` (baseline `{baseline}`)",
        r.records.len(),
        dir.display()
    )?;
    for p in &written.paths {
        outln!("wrote {}", p.display())?;
    }
    if !r.missing.is_empty() {
        outln!(
            "missing {} expected benchmarks (listed in the report): {}",
            r.missing.len(),
            crate::units::comma_list(&r.missing)
        )?;
    }
    if let Some(page) = written
        .paths
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == "index.html"))
    {
        outln!("open {}", page.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
