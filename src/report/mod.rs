//! `poolscale report`: Criterion's results turned into scaling tables, charts and exports.
//!
//! [`Report::build`] reads a [`Dataset`] once and derives one [`BenchRecord`] per benchmark
//! (speedup, efficiency, the group's ideal time, measured/ideal, per-unit cost). Every output
//! format renders from those records: [`markdown`] (README.md with tables and charts), [`json`]
//! (results.json), [`bmf`] (Bencher Metric Format) and [`github`] (github-action-benchmark's
//! `customSmallerIsBetter`). [`svg`] draws the charts the Markdown embeds.

pub mod bmf;
pub mod github;
pub mod json;
pub mod markdown;
pub mod svg;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::group::{Group, Model};
use crate::settings::{Settings, Workloads};
use crate::strategy::StrategyKind;

/// One measured benchmark and what follows from it: the single source of every output format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchRecord {
    /// Bench id `group/strategy/workers`.
    pub id: String,
    /// The group (`countdown_weak`, ...).
    pub group: Group,
    /// The strategy (`threads`, ...).
    pub strategy: StrategyKind,
    /// Worker count.
    pub workers: usize,
    /// Median wall-clock time of one iteration, ns.
    pub median_ns: f64,
    /// Lower bound of the median's 95% confidence interval, ns.
    pub median_lower_ns: f64,
    /// Upper bound of the median's 95% confidence interval, ns.
    pub median_upper_ns: f64,
    /// Mean time of one iteration, ns.
    pub mean_ns: f64,
    /// Speedup over the same strategy at 1 worker (weak groups: `w × t1 / t`; others: `t1 / t`).
    /// Absent without a 1-worker measurement or where the group has no model.
    pub speedup: Option<f64>,
    /// Parallel efficiency, `speedup / w` (1.0 is perfect).
    pub efficiency: Option<f64>,
    /// The group's ideal time for this point, ns (see [`ideal_ns`]).
    pub ideal_ns: Option<f64>,
    /// `median_ns / ideal_ns`: 1.0 is ideal, 2.0 twice as slow as ideal.
    pub measured_over_ideal: Option<f64>,
    /// dispatch: time per task; startup: time per worker, ns.
    pub per_unit_ns: Option<f64>,
    /// What `per_unit_ns` is per: `task` or `worker`.
    pub per_unit: Option<String>,
}

/// The version of `results.json`'s layout this build writes. Version 1 (poolscale 0.1) had no
/// `schema_version`, `tool_version` or `stale`; they default when absent.
pub const REPORT_SCHEMA: u32 = 2;

fn schema_v1() -> u32 {
    1
}

/// A whole report: where the numbers came from, and one record per benchmark.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Layout version of this file (see [`REPORT_SCHEMA`]).
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    /// The poolscale version that wrote it (empty before 0.2).
    #[serde(default)]
    pub tool_version: String,
    /// Always `poolscale`; marks files this tool wrote.
    pub generator: String,
    /// The Criterion directory read.
    pub criterion_dir: PathBuf,
    /// `new` (the latest run) or a saved baseline's name.
    pub baseline: String,
    /// The benches' settings and machine (defaults for this machine if none were recorded).
    pub settings: Settings,
    /// Whether `settings` was recorded by the benches (false: assumed defaults).
    pub settings_recorded: bool,
    /// Cores the models assume (the benches' machine's logical cores).
    pub cores: usize,
    /// One record per benchmark found, sorted by group, strategy, workers.
    pub records: Vec<BenchRecord>,
    /// Bench ids expected from the worker list but absent.
    pub missing: Vec<String>,
    /// Bench ids whose results predate the run read (left by an earlier run): not reported.
    #[serde(default)]
    pub stale: Vec<String>,
}

/// The group's ideal time for `strategy` at `w` workers, given its 1-worker time `t1` (ns).
/// `sequential` runs on one thread whatever `w`, so its models assume one core and one worker.
pub fn ideal_ns(
    group: Group,
    strategy: StrategyKind,
    w: usize,
    t1: Option<f64>,
    cores: usize,
    workloads: &Workloads,
) -> Option<f64> {
    let (w_eff, cores_eff) = if strategy.is_parallel() {
        (w, cores.max(1))
    } else {
        (1, 1)
    };
    match group.model() {
        Model::Weak => t1.map(|t1| t1 * w.div_ceil(cores_eff) as f64),
        Model::Strong => t1.map(|t1| t1 / w_eff.min(cores_eff) as f64),
        Model::Rounds => Some(workloads.tasks.div_ceil(w_eff) as f64 * workloads.nap_ns as f64),
        Model::PerUnit => None,
    }
}

impl Report {
    /// Derives the records from a dataset.
    pub fn build(
        data: &Dataset,
        settings: Option<Settings>,
        criterion_dir: &Path,
        baseline: &str,
    ) -> Report {
        let settings_recorded = settings.is_some();
        let settings = settings.unwrap_or_else(|| {
            let mut s = Settings::defaults();
            s.workers = data.worker_counts();
            s
        });
        let cores = settings.machine.logical_cores.max(1);
        let records = data
            .measurements
            .iter()
            .map(|m| {
                let t = m.median.point_ns;
                let t1 = data
                    .get(m.group, m.strategy, 1)
                    .map(|one| one.median.point_ns);
                let w = m.workers as f64;
                let model = m.group.model();
                let speedup = match model {
                    Model::Weak => t1.map(|t1| w * t1 / t),
                    Model::Strong | Model::Rounds => t1.map(|t1| t1 / t),
                    Model::PerUnit => None,
                };
                let ideal = ideal_ns(
                    m.group,
                    m.strategy,
                    m.workers,
                    t1,
                    cores,
                    &settings.workloads(),
                );
                let (per_unit_ns, per_unit) = match m.group {
                    Group::Dispatch => (Some(t / settings.dispatch_tasks as f64), Some("task")),
                    Group::Startup => (Some(t / w), Some("worker")),
                    _ => (None, None),
                };
                BenchRecord {
                    id: m.id(),
                    group: m.group,
                    strategy: m.strategy,
                    workers: m.workers,
                    median_ns: t,
                    median_lower_ns: m.median.lower_ns,
                    median_upper_ns: m.median.upper_ns,
                    mean_ns: m.mean.point_ns,
                    speedup,
                    efficiency: speedup.map(|s| s / w),
                    ideal_ns: ideal,
                    measured_over_ideal: ideal.filter(|i| *i > 0.0).map(|i| t / i),
                    per_unit_ns,
                    per_unit: per_unit.map(String::from),
                }
            })
            .collect();
        Report {
            schema_version: REPORT_SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            stale: data.stale.clone(),
            generator: "poolscale".into(),
            criterion_dir: criterion_dir.to_path_buf(),
            baseline: baseline.to_string(),
            missing: data.missing(&settings.workers),
            settings,
            settings_recorded,
            cores,
            records,
        }
    }

    /// The records of one group.
    pub fn group(&self, group: Group) -> impl Iterator<Item = &BenchRecord> {
        self.records.iter().filter(move |r| r.group == group)
    }

    /// One record, if present.
    pub fn get(
        &self,
        group: Group,
        strategy: StrategyKind,
        workers: usize,
    ) -> Option<&BenchRecord> {
        self.records
            .iter()
            .find(|r| r.group == group && r.strategy == strategy && r.workers == workers)
    }

    /// The groups with at least one record, in report order.
    pub fn groups(&self) -> Vec<Group> {
        let present: BTreeSet<Group> = self.records.iter().map(|r| r.group).collect();
        Group::ALL
            .into_iter()
            .filter(|g| present.contains(g))
            .collect()
    }

    /// The strategies with at least one record in `group`, in [`StrategyKind::ALL`] order.
    pub fn strategies(&self, group: Group) -> Vec<StrategyKind> {
        let present: BTreeSet<StrategyKind> = self.group(group).map(|r| r.strategy).collect();
        StrategyKind::ALL
            .into_iter()
            .filter(|k| present.contains(k))
            .collect()
    }

    /// Reads a `results.json` written by [`json`].
    /// Reads a `results.json` written by any version of `poolscale report`, checking every number
    /// a comparison would use.
    pub fn load_json(path: &Path) -> Result<Report> {
        let text = crate::fsutil::read_small_file(path, 64 << 20)?;
        let report: Report =
            serde_json::from_str(&text).map_err(|source| Error::MalformedJson {
                path: path.to_path_buf(),
                source,
            })?;
        let bad = |reason: String| Error::invalid("results file", path.display(), reason);
        if report.schema_version > REPORT_SCHEMA {
            return Err(bad(format!(
                "schema version {} was written by a newer poolscale; this one reads up to {REPORT_SCHEMA}",
                report.schema_version
            )));
        }
        if report.records.is_empty() {
            return Err(bad("it has no records: nothing to compare against".into()));
        }
        for r in &report.records {
            crate::limits::workers(r.workers).map_err(|e| bad(format!("{}: {e}", r.id)))?;
            let (lo, m, hi) = (r.median_lower_ns, r.median_ns, r.median_upper_ns);
            let ok = [lo, m, hi].iter().all(|v| v.is_finite())
                && lo >= 0.0
                && m > 0.0
                && lo <= m
                && m <= hi;
            if !ok {
                return Err(bad(format!(
                    "{}: its median {m} ns is not a positive time inside its interval [{lo}, {hi}]",
                    r.id
                )));
            }
        }
        Ok(report)
    }
}

/// A report read from a Criterion directory, with what the reader should be told.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The report.
    pub report: Report,
    /// Warnings for stderr (stale results left out).
    pub warnings: Vec<String>,
}

/// Reads `baseline` (`new`: the latest run) from a Criterion directory into a report: only the
/// results of that baseline's latest recorded run; older ones are listed as stale, or with
/// `strict` refused ([`Error::Stale`]).
pub fn load(dir: &Path, baseline: &str, strict: bool) -> Result<Loaded> {
    let own = Settings::load_exact(dir, baseline)?;
    let since = own.as_ref().and_then(Settings::started);
    let data = Dataset::load(dir, baseline, since)?;
    let mut warnings = Vec::new();
    if !data.stale.is_empty() {
        if strict {
            return Err(Error::Stale {
                baseline: baseline.to_string(),
                ids: data.stale.clone(),
            });
        }
        warnings.push(format!(
            "{} benchmarks of `{baseline}` predate its latest run and are left out (stale): {}",
            data.stale.len(),
            data.stale.join(", ")
        ));
    }
    let settings = match own {
        Some(s) => Some(s),
        None => Settings::load(dir, Some(baseline).filter(|b| *b != "new"))?,
    };
    Ok(Loaded {
        report: Report::build(&data, settings, dir, baseline),
        warnings,
    })
}

/// An output format: one file rendered from a [`Report`].
pub trait Exporter {
    /// The file name written in the output directory.
    fn file_name(&self) -> &'static str;
    /// The file's contents.
    fn render(&self, report: &Report) -> Result<String>;
}

/// The formats `poolscale report` writes, each behind [`Exporter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `README.md`: tables and embedded charts.
    Markdown,
    /// `results.json`: the report itself.
    Json,
    /// `bmf.json`: Bencher Metric Format.
    Bmf,
    /// `github-benchmark.json`: github-action-benchmark's `customSmallerIsBetter`.
    GithubAction,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [
        Format::Markdown,
        Format::Json,
        Format::Bmf,
        Format::GithubAction,
    ];

    /// The exporter for this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Markdown => Box::new(markdown::Markdown),
            Format::Json => Box::new(json::Json),
            Format::Bmf => Box::new(bmf::Bmf),
            Format::GithubAction => Box::new(github::GithubAction),
        }
    }
}

/// Name of the manifest listing the files `report` wrote into an output directory. Only files
/// listed there (or absent ones) are ever replaced, so a user's own files are never overwritten.
pub const MANIFEST: &str = ".poolscale-report";

/// Guards an output directory: creates it, locks it against a concurrent `report`, and refuses
/// to replace files `report` did not write. The manifest names a file *before* the file is put in
/// place, so an interrupted run leaves only files a later run may replace.
pub struct OutDir {
    dir: PathBuf,
    ours: BTreeSet<String>,
    written: Vec<String>,
    force: bool,
    _lock: crate::fsutil::DirLock,
}

impl OutDir {
    /// Opens (creating) `dir`. With `force`, any file may be replaced.
    pub fn open(dir: &Path, force: bool) -> Result<OutDir> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create `{}`", dir.display()), e))?;
        let lock = crate::fsutil::DirLock::acquire(dir, std::time::Duration::from_secs(60))?;
        let manifest = dir.join(MANIFEST);
        let ours = if manifest.exists() {
            crate::fsutil::read_small_file(&manifest, 1 << 20)?
                .lines()
                .map(str::to_string)
                .collect()
        } else {
            BTreeSet::new()
        };
        Ok(OutDir {
            dir: dir.to_path_buf(),
            ours,
            written: Vec::new(),
            force,
            _lock: lock,
        })
    }

    /// Writes `name` (a plain file name) atomically, unless that would replace a file this tool
    /// did not write.
    pub fn write(&mut self, name: &str, contents: &[u8]) -> Result<PathBuf> {
        let path = self.dir.join(name);
        if path.exists() && !self.force && !self.ours.contains(name) {
            return Err(Error::WouldOverwrite {
                path,
                reason:
                    "it was not written by `poolscale report`; choose another --out or pass --force"
                        .into(),
            });
        }
        if self.ours.insert(name.to_string()) {
            self.save_manifest()?;
        }
        crate::fsutil::atomic_write(&path, contents)?;
        self.written.push(name.to_string());
        Ok(path)
    }

    fn save_manifest(&self) -> Result<()> {
        let list: Vec<&str> = self.ours.iter().map(String::as_str).collect();
        crate::fsutil::atomic_write(
            &self.dir.join(MANIFEST),
            (list.join("\n") + "\n").as_bytes(),
        )
    }

    /// The path a file would have.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether `name` may be written.
    pub fn may_write(&self, name: &str) -> bool {
        self.force || self.ours.contains(name) || !self.dir.join(name).exists()
    }

    /// The files written (the manifest already lists them).
    pub fn finish(self) -> Result<Vec<String>> {
        Ok(self.written)
    }
}

/// Writes every format and chart for `report` into `out`; returns the files written.
pub fn write_all(report: &Report, out: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let mut dir = OutDir::open(out, force)?;
    // Check every target first, so a refusal leaves the directory untouched.
    let mut names: Vec<String> = Format::ALL
        .iter()
        .map(|f| f.exporter().file_name().to_string())
        .collect();
    names.extend(svg::chart_names(report));
    if let Some(n) = names.iter().find(|n| !dir.may_write(n)) {
        return Err(Error::WouldOverwrite {
            path: dir.path(n),
            reason:
                "it was not written by `poolscale report`; choose another --out or pass --force"
                    .into(),
        });
    }
    let mut paths = Vec::new();
    for (name, svg) in svg::render_all(report)? {
        paths.push(dir.write(&name, svg.as_bytes())?);
    }
    for f in Format::ALL {
        let e = f.exporter();
        paths.push(dir.write(e.file_name(), e.render(report)?.as_bytes())?);
    }
    dir.finish()?;
    Ok(paths)
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    #[test]
    fn reads_the_results_json_that_poolscale_0_1_wrote() {
        // reports/results.json as committed before schema versions existed.
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/results.v1.json"
        ));
        let r = Report::load_json(path).unwrap();
        assert_eq!(r.schema_version, 1);
        assert!(r.tool_version.is_empty() && r.stale.is_empty());
        assert_eq!(r.settings.schema_version, 1);
        assert_eq!(r.records.len(), 145);
        assert!(r.get(Group::CountdownWeak, StrategyKind::Gil, 2).is_some());
    }
}
