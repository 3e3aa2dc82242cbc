//! `poolscale report`: Criterion's results turned into scaling tables, charts and exports.
//!
//! [`crate::analysis`] derives one [`BenchRecord`] per benchmark from Criterion's data
//! (speedup, efficiency, the group's ideal time, measured/ideal, per-unit cost). Every output
//! format renders from those records: [`markdown`] (README.md with tables and charts), [`html`]
//! (index.html, the same report as one self-contained page), [`json`]
//! (results.json), [`bmf`] (Bencher Metric Format) and [`github`] (github-action-benchmark's
//! `customSmallerIsBetter`). [`svg`] draws the charts the Markdown embeds.

pub mod bmf;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod svg;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use crate::analysis::{BenchRecord, Report, ideal_ns, load};

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
    /// `index.html`: the Markdown report as one page, charts inlined.
    Html,
    /// `results.json`: the report itself.
    Json,
    /// `bmf.json`: Bencher Metric Format.
    Bmf,
    /// `github-benchmark.json`: github-action-benchmark's `customSmallerIsBetter`.
    GithubAction,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Markdown,
        Format::Html,
        Format::Json,
        Format::Bmf,
        Format::GithubAction,
    ];

    /// The exporter for this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Markdown => Box::new(markdown::Markdown),
            Format::Html => Box::new(html::Html),
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
        // Under the lock no other report is writing here: temporary files are an interrupted
        // run's leftovers.
        crate::fsutil::remove_leftover_temps(dir);
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
        if present(&path) && !self.force && !self.ours.contains(name) {
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
        self.force || self.ours.contains(name) || !present(&self.dir.join(name))
    }

    /// Ends the run: files this tool wrote on an earlier run but not on this one (charts of a
    /// group no longer measured, say) are removed, so the directory holds one report, not a mix;
    /// returns the files written (the manifest lists exactly them).
    pub fn finish(mut self) -> Result<Vec<String>> {
        let stale: Vec<String> = self
            .ours
            .iter()
            .filter(|n| !self.written.contains(n))
            .cloned()
            .collect();
        for name in &stale {
            let path = self.dir.join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::io(
                        format!("cannot remove the stale `{}`", path.display()),
                        e,
                    ));
                }
            }
            self.ours.remove(name);
        }
        if !stale.is_empty() {
            self.save_manifest()?;
        }
        Ok(self.written)
    }
}

/// Whether anything is at `path`, a dangling symbolic link included (which `Path::exists` misses).
fn present(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// The path from `out` to `criterion`, when both lie inside one directory named `target` (where
/// `cargo bench` and `report` put them by default); `None` otherwise.
pub fn criterion_link(out: &Path, criterion: &Path) -> Option<String> {
    let out = out.canonicalize().ok()?;
    let crit = criterion.canonicalize().ok()?;
    let target = crit
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "target"))?;
    if !out.starts_with(target) {
        return None;
    }
    let common = out.ancestors().find(|a| crit.starts_with(a))?;
    let ups = out.strip_prefix(common).ok()?.components().count();
    let down = crit.strip_prefix(common).ok()?;
    let mut rel = PathBuf::new();
    for _ in 0..ups {
        rel.push("..");
    }
    rel.push(down);
    Some(rel.to_string_lossy().into_owned())
}

/// Writes every format and chart for `report` into `out`; returns the files written.
pub fn write_all(report: &Report, out: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let mut dir = OutDir::open(out, force)?;
    let linked;
    let report = match criterion_link(out, &report.criterion_dir) {
        Some(link) => {
            linked = Report {
                criterion_link: Some(link),
                ..report.clone()
            };
            &linked
        }
        None => report,
    };
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
mod snapshot_tests {
    use super::*;
    use crate::analysis::fixture::report;
    use crate::group::Group;
    use crate::strategy::StrategyKind;

    #[test]
    fn the_json_exports_render_exactly_this() {
        let r = report(&[(Group::Dispatch, StrategyKind::Rayon, 1, 200_000.0)]);
        let bmf = Format::ALL
            .iter()
            .map(|f| f.exporter())
            .find(|e| e.file_name() == "bmf.json")
            .unwrap()
            .render(&r)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&bmf).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"dispatch/rayon/1": {"latency": {
                "value": 200000.0, "lower_value": 198000.0, "upper_value": 202000.0}}})
        );
        let gh = Format::ALL
            .iter()
            .map(|f| f.exporter())
            .find(|e| e.file_name() == "github-benchmark.json")
            .unwrap()
            .render(&r)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&gh).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"name": "dispatch/rayon/1", "unit": "ns",
                "value": 200000.0, "range": "± 2000"}])
        );
    }
}
