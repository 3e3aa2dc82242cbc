//! Reads Criterion's results. The one place that knows Criterion's on-disk layout:
//!
//! ```text
//! <criterion dir>/                      target/criterion, or $CRITERION_HOME
//!   poolscale-settings.json             what the benches ran with (see crate::results::settings)
//!   <group>/<strategy>/<workers>/       one directory per bench id `group/strategy/workers`
//!     new/estimates.json                the latest run
//!     base/estimates.json               the run before it
//!     <baseline>/estimates.json         a run saved with `--save-baseline <baseline>`
//! ```
//!
//! `estimates.json` holds `{"mean": E, "median": E, "median_abs_dev": E, "std_dev": E,
//! "slope": E|null}` with `E = {"point_estimate": ns, "standard_error": ns,
//! "confidence_interval": {"confidence_level": 0.95, "lower_bound": ns, "upper_bound": ns}}`.
//! Only `median` and `mean` are read. Directories that are not a known group, strategy and worker
//! count are ignored (Criterion's own `report/` among them); a worker directory must be a bare
//! number within the CLI's bounds (`0`, `+2` or `100000000` are not bench ids). Symbolic links are
//! followed; only regular files of at most [`MAX_ESTIMATES_BYTES`] are read (a FIFO or a link to a
//! device is an error naming it, never a hang). A run's start time, recorded by the benches in
//! `poolscale-settings.json`, marks results older than that run as stale (a filtered run leaves
//! the other groups' older results in place).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::group::{BenchId, Group};
use crate::stats::Estimate;
use crate::strategy::StrategyName;

/// One benchmark's measurement as Criterion recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Its bench id, parsed once from Criterion's folder `<group>/<strategy>/<workers>`.
    pub id: BenchId,
    /// Median time per iteration, ns.
    pub median: Estimate,
    /// Mean time per iteration, ns.
    pub mean: Estimate,
    /// When Criterion wrote it (the file's modification time), if known.
    pub written: Option<SystemTime>,
}

/// How [`Dataset::load`] tells the results of the run being read from older ones left in place.
#[derive(Clone, Debug)]
pub enum Freshness {
    /// What the benches recorded: the SHA-256 of each `estimates.json` their run (or the series
    /// it continues) wrote, by bench id. A result whose file does not hash to its record, or
    /// that has none, is stale, wherever its file's time says it came from (a copy, a restore).
    Recorded(std::collections::BTreeMap<BenchId, String>),
    /// Data written before the benches recorded digests: results whose file is older than this
    /// (the series' start) are stale.
    WrittenSince(Option<SystemTime>),
}

/// Criterion's name for the latest run's results.
pub const LATEST: &str = "new";

/// Criterion's copy of the previous plain run (what `new` was before): never a saved baseline.
pub const PREVIOUS: &str = "base";

/// Criterion's page of one benchmark, relative to its results directory.
pub fn bench_page(id: BenchId) -> String {
    format!(
        "{}/{}/{}/report/index.html",
        id.group, id.strategy, id.workers
    )
}

/// Criterion's page of one group, relative to its results directory.
pub fn group_page(group: Group) -> String {
    format!("{group}/report/index.html")
}

/// Where Criterion keeps the estimates of `id` for `baseline` (`new`: the latest run).
pub fn estimates_path(dir: &Path, id: BenchId, baseline: &str) -> PathBuf {
    dir.join(id.group.as_str())
        .join(id.strategy.as_str())
        .join(id.workers.to_string())
        .join(baseline)
        .join("estimates.json")
}

/// The SHA-256 of the estimates Criterion wrote for `id` in `dir`'s latest run, if readable.
pub fn estimates_digest(dir: &Path, id: BenchId) -> Option<String> {
    crate::platform::fsutil::read_small_bytes(&estimates_path(dir, id, LATEST), MAX_ESTIMATES_BYTES)
        .ok()
        .map(|b| crate::platform::fsutil::sha256_hex(&b))
}

/// Largest `estimates.json` read (Criterion's are ~1 KiB).
pub const MAX_ESTIMATES_BYTES: u64 = 1 << 20;

/// Every measurement found for one baseline.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// The measurements, sorted by group, strategy, workers.
    pub measurements: Vec<Measurement>,
    /// Ids whose results predate the run being read (left by an earlier, wider run): not in
    /// `measurements`.
    pub stale: Vec<BenchId>,
}

#[derive(Deserialize)]
struct RawEstimates {
    mean: RawEstimate,
    median: RawEstimate,
}

#[derive(Deserialize)]
struct RawEstimate {
    point_estimate: f64,
    confidence_interval: RawInterval,
}

#[derive(Deserialize)]
struct RawInterval {
    lower_bound: f64,
    upper_bound: f64,
}

impl From<RawEstimate> for Estimate {
    fn from(r: RawEstimate) -> Self {
        Estimate {
            point: r.point_estimate,
            lower: r.confidence_interval.lower_bound,
            upper: r.confidence_interval.upper_bound,
        }
    }
}

/// The subdirectories of `dir` (symbolic links to directories followed), sorted by name.
fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list `{}`", dir.display()), e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot list `{}`", dir.display()), e))?;
        let path = entry.path();
        if std::fs::metadata(&path).is_ok_and(|m| m.is_dir())
            && let Some(name) = entry.file_name().to_str()
        {
            out.push((name.to_string(), path));
        }
    }
    out.sort();
    Ok(out)
}

/// Most benchmarks one Criterion directory may hold for poolscale (groups × strategies × worker
/// counts of the largest sweep, with room to spare).
pub const MAX_BENCHMARKS: usize = 20_000;

/// Parses one `estimates.json` read from `path`.
fn parse_estimates(path: &Path, bytes: &[u8]) -> Result<(Estimate, Estimate)> {
    let raw: RawEstimates =
        serde_json::from_slice(bytes).map_err(|source| Error::MalformedJson {
            path: path.to_path_buf(),
            source,
        })?;
    let median = Estimate::from(raw.median);
    let mean = Estimate::from(raw.mean);
    for (what, e) in [("median", median), ("mean", mean)] {
        if !e.is_valid() || e.lower < 0.0 || e.point <= 0.0 {
            return Err(Error::invalid(
                "estimates file",
                path.display(),
                format!(
                    "its {what} is not a positive time inside its own interval (lower <= point <= upper): {e:?}"
                ),
            ));
        }
        if e.lower < MIN_PLAUSIBLE_NS || e.upper > MAX_PLAUSIBLE_NS {
            return Err(Error::invalid(
                "estimates file",
                path.display(),
                format!(
                    "its {what} {e:?} lies outside the times one map can take ({MIN_PLAUSIBLE_NS} ns to {MAX_PLAUSIBLE_NS:e} ns)"
                ),
            ));
        }
    }
    Ok((median, mean))
}

/// The shortest time a measured map can take, ns: no map of any group is under a nanosecond
/// (Criterion's own timer resolution is ~20 ns), and charts need a positive, bounded range.
pub const MIN_PLAUSIBLE_NS: f64 = 1e-3;
/// The longest, ns: a week.
pub const MAX_PLAUSIBLE_NS: f64 = 7.0 * 86_400.0 * 1e9;

impl Dataset {
    /// Reads every `group/strategy/workers/<baseline>/estimates.json` under `dir`.
    /// `baseline` is `new` for the latest run or a name given to `--save-baseline`. Results
    /// written before `since` (the run's recorded start) are left out and listed as stale.
    pub fn load(dir: &Path, baseline: &str, fresh: &Freshness) -> Result<Dataset> {
        if dir.is_file() {
            return Err(Error::NoResults {
                dir: dir.to_path_buf(),
                reason: "it is a file, not a directory; give Criterion's results directory (target/criterion)".into(),
            });
        }
        if !dir.is_dir() {
            return Err(Error::NoResults {
                dir: dir.to_path_buf(),
                reason: "the directory does not exist; run `cargo bench` first".into(),
            });
        }
        let mut measurements = Vec::new();
        let mut stale = Vec::new();
        let mut baselines_seen = BTreeSet::new();
        for (gname, gpath) in subdirs(dir)? {
            // Criterion's other folders (`report`, a user's own groups) are not poolscale's.
            if gname.parse::<Group>().is_err() {
                continue;
            }
            for (sname, spath) in subdirs(&gpath)? {
                for (wname, wpath) in subdirs(&spath)? {
                    // The folder `<group>/<strategy>/<workers>` is the bench id: parsed once.
                    let Ok(id) = format!("{gname}/{sname}/{wname}").parse::<BenchId>() else {
                        continue;
                    };
                    for (b, bpath) in subdirs(&wpath)? {
                        if bpath.join("estimates.json").exists() {
                            baselines_seen.insert(b);
                        }
                    }
                    let file = wpath.join(baseline).join("estimates.json");
                    if !file.exists() {
                        continue;
                    }
                    if measurements.len() + stale.len() >= MAX_BENCHMARKS {
                        return Err(Error::invalid(
                            "Criterion directory",
                            dir.display(),
                            format!("more than {MAX_BENCHMARKS} poolscale benchmarks"),
                        ));
                    }
                    let bytes =
                        crate::platform::fsutil::read_small_bytes(&file, MAX_ESTIMATES_BYTES)?;
                    let (median, mean) = parse_estimates(&file, &bytes)?;
                    let written = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
                    let is_stale = match fresh {
                        Freshness::Recorded(digests) => digests
                            .get(&id)
                            .is_none_or(|d| *d != crate::platform::fsutil::sha256_hex(&bytes)),
                        Freshness::WrittenSince(since) => {
                            matches!((since, written), (Some(since), Some(w)) if w < *since)
                        }
                    };
                    if is_stale {
                        stale.push(id);
                        continue;
                    }
                    measurements.push(Measurement {
                        id,
                        median,
                        mean,
                        written,
                    });
                }
            }
        }
        if measurements.is_empty() && !stale.is_empty() {
            return Err(Error::NoResults {
                dir: dir.to_path_buf(),
                reason: format!(
                    "all {} results of `{baseline}` predate its latest recorded run (stale); run `cargo bench` again",
                    stale.len()
                ),
            });
        }
        if measurements.is_empty() {
            let reason = if baselines_seen.is_empty() {
                "no poolscale benchmark results found; run `cargo bench` first".to_string()
            } else {
                // Criterion's own folders beside the baselines are not baselines.
                let seen: Vec<String> = baselines_seen
                    .into_iter()
                    .filter(|b| !matches!(b.as_str(), "change" | "report"))
                    .collect();
                format!(
                    "no results for baseline `{baseline}`; the baselines present are: {}; save one with `cargo bench -- --save-baseline {baseline}`",
                    seen.join(", ")
                )
            };
            return Err(Error::NoResults {
                dir: dir.to_path_buf(),
                reason,
            });
        }
        measurements.sort_by_key(|m| m.id);
        Ok(Dataset {
            measurements,
            stale,
        })
    }

    /// The measurement of one bench id, if present.
    pub fn get(&self, id: BenchId) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.id == id)
    }

    /// Ids that `workers` (the swept worker counts) lead one to expect but that are absent.
    /// The bench ids of `strategies` at `workers` with no measurement.
    pub fn missing(
        &self,
        strategies: &[crate::strategy::StrategyName],
        workers: &[usize],
    ) -> Vec<BenchId> {
        Group::ALL
            .into_iter()
            .flat_map(|g| g.ids(strategies, workers))
            .filter(|id| self.get(*id).is_none())
            .collect()
    }

    /// Gives each measurement's strategy the facts `known` declares for its name.
    pub fn resolve(&mut self, known: &[StrategyName]) {
        for m in &mut self.measurements {
            m.id.strategy = m.id.strategy.resolve(known);
        }
    }

    /// The worker counts present anywhere in the data, ascending.
    pub fn worker_counts(&self) -> Vec<usize> {
        let set: BTreeSet<usize> = self.measurements.iter().map(|m| m.id.workers).collect();
        set.into_iter().collect()
    }
}

/// Reads one `estimates.json` (the tests' way in).
#[cfg(test)]
fn read_estimates(path: &Path) -> Result<(Estimate, Estimate)> {
    parse_estimates(
        path,
        &crate::platform::fsutil::read_small_bytes(path, MAX_ESTIMATES_BYTES)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("estimates.json");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn est(point: f64, lo: f64, hi: f64) -> String {
        format!(
            r#"{{"point_estimate": {point}, "standard_error": 1.0,
               "confidence_interval": {{"confidence_level": 0.95, "lower_bound": {lo}, "upper_bound": {hi}}}}}"#
        )
    }

    #[test]
    fn reads_median_and_mean_and_rejects_nonsense() {
        let tmp = std::env::temp_dir().join(format!("poolscale-data-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let ok = format!(
            r#"{{"mean": {}, "median": {}, "slope": null}}"#,
            est(10.0, 9.0, 11.0),
            est(8.0, 7.0, 9.0)
        );
        let (median, mean) = read_estimates(&write(&tmp, &ok)).unwrap();
        assert_eq!((median.point, median.lower, median.upper), (8.0, 7.0, 9.0));
        assert_eq!(mean.point, 10.0);
        let inverted = format!(
            r#"{{"mean": {}, "median": {}}}"#,
            est(10.0, 9.0, 11.0),
            est(8.0, 9.0, 7.0)
        );
        let e = read_estimates(&write(&tmp, &inverted))
            .unwrap_err()
            .to_string();
        assert!(e.contains("median") && e.contains("interval"), "{e}");
        let negative = format!(
            r#"{{"mean": {}, "median": {}}}"#,
            est(-1.0, -2.0, 0.0),
            est(8.0, 7.0, 9.0)
        );
        assert!(read_estimates(&write(&tmp, &negative)).is_err());
        for absurd in [1e-300, 1e300] {
            let tiny = format!(
                r#"{{"mean": {}, "median": {}}}"#,
                est(absurd, absurd, absurd),
                est(absurd, absurd, absurd)
            );
            let e = read_estimates(&write(&tmp, &tiny)).unwrap_err().to_string();
            assert!(e.contains("outside the times one map can take"), "{e}");
        }
        let missing = r#"{"mean": {"point_estimate": 1.0}}"#;
        let e = read_estimates(&write(&tmp, missing))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("malformed JSON") && e.contains("estimates.json"),
            "{e}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
