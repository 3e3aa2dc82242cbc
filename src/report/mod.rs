//! `poolscale report`: Criterion's results turned into scaling tables, charts and exports.
//!
//! [`crate::analysis`] derives one [`BenchRecord`] per benchmark from Criterion's data
//! (speedup, efficiency, the group's ideal time, measured/ideal, per-unit cost). Every output
//! format renders from those records: [`markdown`] (README.md with tables and charts), [`html`]
//! (index.html, the same report as one self-contained page), [`json`]
//! (results.json), [`bmf`] (Bencher Metric Format) and [`github`] (github-action-benchmark's
//! `customSmallerIsBetter`). [`svg`] draws the charts the Markdown embeds.

pub mod bmf;
pub mod breakeven;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod svg;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use crate::analysis::{BenchRecord, Report, load};
pub use crate::group::ideal_ns;

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

/// Name of the manifest listing the files `report` wrote into an output directory, each with
/// the SHA-256 of what it wrote. The manifest is a hint that is checked, never an instruction:
/// a file is replaced or removed only when its name is one `report` gives
/// ([`is_report_file_name`]: a plain name, no path) and its contents still hash to what the
/// manifest recorded, so an edited, planted or foreign manifest can neither reach outside the
/// directory nor make `report` overwrite or delete a user's file.
pub const MANIFEST: &str = ".poolscale-report";

/// The manifest's first line (lines after it: `sha256-hex  name`).
const MANIFEST_HEADER: &str = "# poolscale report manifest v2: sha256  file";

/// Whether `name` is a file name `report` writes: one of the formats' files, or a chart
/// (`group-plot.svg`, `timeline-group-strategy-workers.svg`): a plain name of ASCII letters,
/// digits, `_` and `-`, never a path, never hidden.
pub fn is_report_file_name(name: &str) -> bool {
    if Format::ALL.iter().any(|f| f.exporter().file_name() == name) {
        return true;
    }
    name.strip_suffix(".svg").is_some_and(|stem| {
        !stem.is_empty()
            && !stem.starts_with('-')
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

use crate::platform::fsutil::sha256_hex as digest;

/// Guards an output directory: creates it, locks it against a concurrent `report`, and refuses
/// to replace files `report` did not write. The manifest names a file with the digest of its new
/// contents *before* the file is put in place, so an interrupted run leaves only files a later
/// run may replace (the old contents or the new, each recorded).
pub struct OutDir {
    dir: PathBuf,
    /// Each name `report` wrote here, with the digests its contents may have.
    ours: BTreeMap<String, BTreeSet<String>>,
    written: Vec<String>,
    /// Manifest entries refused (not a name `report` gives), for a warning.
    refused: Vec<String>,
    force: bool,
    _lock: crate::platform::fsutil::DirLock,
}

impl OutDir {
    /// Opens (creating) `dir`. With `force`, any file may be replaced (but only files named as
    /// `report` names them, inside `dir`, are ever removed).
    pub fn open(dir: &Path, force: bool) -> Result<OutDir> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create `{}`", dir.display()), e))?;
        let lock =
            crate::platform::fsutil::DirLock::acquire(dir, std::time::Duration::from_secs(60))?;
        // Under the lock no other report is writing here: temporary files are an interrupted
        // run's leftovers.
        crate::platform::fsutil::remove_leftover_temps(dir);
        let text = crate::platform::fsutil::read_small_file_if_any(&dir.join(MANIFEST), 1 << 20)?
            .unwrap_or_default();
        let mut ours: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut refused = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            // A line of an older manifest (a bare name) vouches for nothing: no digest.
            match line.split_once("  ") {
                Some((hash, name))
                    if is_report_file_name(name)
                        && hash.len() == 64
                        && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    ours.entry(name.to_string())
                        .or_default()
                        .insert(hash.to_ascii_lowercase());
                }
                Some((_, name)) if is_report_file_name(name) => {}
                None if is_report_file_name(line) => {}
                _ => refused.push(line.to_string()),
            }
        }
        Ok(OutDir {
            dir: dir.to_path_buf(),
            ours,
            written: Vec::new(),
            refused,
            force,
            _lock: lock,
        })
    }

    /// Whether the file `name` holds what `report` recorded writing: a regular file (never a
    /// link) whose digest the manifest lists.
    fn holds_ours(&self, name: &str) -> bool {
        let Some(hashes) = self.ours.get(name) else {
            return false;
        };
        let path = self.dir.join(name);
        let regular = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        regular
            && crate::platform::fsutil::read_small_bytes(&path, MAX_REPORT_FILE)
                .is_ok_and(|bytes| hashes.contains(&digest(&bytes)))
    }

    /// Writes `name` (a name [`is_report_file_name`] accepts) atomically, unless that would
    /// replace a file this tool did not write.
    pub fn write(&mut self, name: &str, contents: &[u8]) -> Result<PathBuf> {
        let path = self.dir.join(name);
        if !is_report_file_name(name) {
            return Err(Error::invalid(
                "report file name",
                name,
                "not a name `poolscale report` gives (letters, digits, `_`, `-`, a known extension)",
            ));
        }
        if !self.may_write(name) {
            return Err(refusal(path));
        }
        self.ours
            .entry(name.to_string())
            .or_default()
            .insert(digest(contents));
        self.save_manifest()?;
        crate::platform::fsutil::atomic_write(&path, contents)?;
        // From now on only the new contents are this name's.
        self.ours.insert(
            name.to_string(),
            std::iter::once(digest(contents)).collect(),
        );
        self.written.push(name.to_string());
        Ok(path)
    }

    fn save_manifest(&self) -> Result<()> {
        let mut text = format!("{MANIFEST_HEADER}\n");
        for (name, hashes) in &self.ours {
            for h in hashes {
                text.push_str(&format!("{h}  {name}\n"));
            }
        }
        crate::platform::fsutil::atomic_write(&self.dir.join(MANIFEST), text.as_bytes())
    }

    /// The path a file would have.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether `name` may be written: nothing is there, or what is there is what `report` wrote
    /// (or `force`).
    pub fn may_write(&self, name: &str) -> bool {
        self.force || !present(&self.dir.join(name)) || self.holds_ours(name)
    }

    /// Manifest entries that were not names `report` gives, ignored (a warning's matter).
    pub fn refused(&self) -> &[String] {
        &self.refused
    }

    /// Ends the run: files this tool wrote on an earlier run but not on this one (charts of a
    /// group no longer measured, say) are removed when they still hold what it wrote, so the
    /// directory holds one report, not a mix; a file edited since is left alone and forgotten.
    /// Returns the files written (the manifest lists exactly them).
    pub fn finish(mut self) -> Result<Vec<String>> {
        let stale: Vec<String> = self
            .ours
            .keys()
            .filter(|n| !self.written.contains(n))
            .cloned()
            .collect();
        for name in &stale {
            if self.holds_ours(name) {
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
            }
            self.ours.remove(name);
        }
        self.save_manifest()?;
        Ok(self.written)
    }
}

/// The largest file `report` writes and reads back to check its digest (bytes).
const MAX_REPORT_FILE: u64 = 64 << 20;

/// The error for a file `report` may not replace.
fn refusal(path: PathBuf) -> Error {
    Error::WouldOverwrite {
        path,
        reason:
            "it is not what `poolscale report` wrote there (its manifest does not vouch for it); \
                 choose another --out or pass --force"
                .into(),
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
    Some(crate::escape::url_path(&rel.to_string_lossy()))
}

/// What [`write_all`] did.
#[derive(Debug)]
pub struct Written {
    /// The files written, charts first.
    pub paths: Vec<PathBuf>,
    /// What the reader should know: manifest entries that were ignored.
    pub warnings: Vec<String>,
}

/// Writes every format and chart for `report` into `out`. Everything is rendered before the
/// first file is replaced, so a failure leaves the directory as it was.
pub fn write_all(report: &Report, out: &Path, force: bool) -> Result<Written> {
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
    let mut files = svg::render_all(report)?;
    for f in Format::ALL {
        let e = f.exporter();
        files.push((e.file_name().to_string(), e.render(report)?));
    }
    // Check every target first, so a refusal leaves the directory untouched.
    if let Some((n, _)) = files.iter().find(|(n, _)| !dir.may_write(n)) {
        return Err(refusal(dir.path(n)));
    }
    let warnings = dir
        .refused()
        .iter()
        .map(|e| {
            format!(
                "ignored the entry `{}` of `{}`: not a file `poolscale report` writes",
                e,
                dir.path(MANIFEST).display()
            )
        })
        .collect();
    let mut paths = Vec::new();
    for (name, contents) in &files {
        paths.push(dir.write(name, contents.as_bytes())?);
    }
    dir.finish()?;
    Ok(Written { paths, warnings })
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
