//! Reads Criterion's results. The one place that knows Criterion's on-disk layout:
//!
//! ```text
//! <criterion dir>/                      target/criterion, or $CRITERION_HOME
//!   poolscale-settings.json             what the benches ran with (see crate::settings)
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
//! count are ignored (Criterion's own `report/` among them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::group::Group;
use crate::strategy::StrategyKind;

/// A point estimate with its confidence interval, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate, ns.
    pub point_ns: f64,
    /// Lower bound of its confidence interval, ns.
    pub lower_ns: f64,
    /// Upper bound of its confidence interval, ns.
    pub upper_ns: f64,
}

/// One benchmark's measurement as Criterion recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// The group.
    pub group: Group,
    /// The strategy.
    pub strategy: StrategyKind,
    /// The worker count.
    pub workers: usize,
    /// Median time per iteration.
    pub median: Estimate,
    /// Mean time per iteration.
    pub mean: Estimate,
}

impl Measurement {
    /// The bench id `group/strategy/workers`.
    pub fn id(&self) -> String {
        self.group.bench_id(self.strategy, self.workers)
    }
}

/// Every measurement found for one baseline.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// The measurements, sorted by group, strategy, workers.
    pub measurements: Vec<Measurement>,
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
            point_ns: r.point_estimate,
            lower_ns: r.confidence_interval.lower_bound,
            upper_ns: r.confidence_interval.upper_bound,
        }
    }
}

fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list `{}`", dir.display()), e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot list `{}`", dir.display()), e))?;
        if entry.file_type().is_ok_and(|t| t.is_dir())
            && let Some(name) = entry.file_name().to_str()
        {
            out.push((name.to_string(), entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one `estimates.json`.
pub fn read_estimates(path: &Path) -> Result<(Estimate, Estimate)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read `{}`", path.display()), e))?;
    let raw: RawEstimates = serde_json::from_str(&text).map_err(|source| Error::MalformedJson {
        path: path.to_path_buf(),
        source,
    })?;
    let median = Estimate::from(raw.median);
    let mean = Estimate::from(raw.mean);
    for (what, e) in [("median", median), ("mean", mean)] {
        let finite = [e.point_ns, e.lower_ns, e.upper_ns]
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0);
        if !finite || e.lower_ns > e.upper_ns {
            return Err(Error::invalid(
                "estimates file",
                path.display(),
                format!("its {what} is not a valid non-negative interval: {e:?}"),
            ));
        }
    }
    Ok((median, mean))
}

impl Dataset {
    /// Reads every `group/strategy/workers/<baseline>/estimates.json` under `dir`.
    /// `baseline` is `new` for the latest run or a name given to `--save-baseline`.
    pub fn load(dir: &Path, baseline: &str) -> Result<Dataset> {
        if !dir.is_dir() {
            return Err(Error::NoResults {
                dir: dir.to_path_buf(),
                reason: "the directory does not exist; run `cargo bench` first".into(),
            });
        }
        let mut measurements = Vec::new();
        let mut baselines_seen = BTreeSet::new();
        for (gname, gpath) in subdirs(dir)? {
            let Ok(group) = gname.parse::<Group>() else {
                continue;
            };
            for (sname, spath) in subdirs(&gpath)? {
                let Ok(strategy) = sname.parse::<StrategyKind>() else {
                    continue;
                };
                for (wname, wpath) in subdirs(&spath)? {
                    let Ok(workers) = wname.parse::<usize>() else {
                        continue;
                    };
                    for (b, _) in subdirs(&wpath)? {
                        baselines_seen.insert(b);
                    }
                    let file = wpath.join(baseline).join("estimates.json");
                    if !file.exists() {
                        continue;
                    }
                    let (median, mean) = read_estimates(&file)?;
                    measurements.push(Measurement {
                        group,
                        strategy,
                        workers,
                        median,
                        mean,
                    });
                }
            }
        }
        if measurements.is_empty() {
            let reason = if baselines_seen.is_empty() {
                "no poolscale benchmark results found; run `cargo bench` first".to_string()
            } else {
                let seen: Vec<String> = baselines_seen.into_iter().collect();
                format!(
                    "no results for baseline `{baseline}`; the baselines present are: {}",
                    seen.join(", ")
                )
            };
            return Err(Error::NoResults {
                dir: dir.to_path_buf(),
                reason,
            });
        }
        measurements.sort_by(|a, b| {
            (a.group, a.strategy, a.workers).cmp(&(b.group, b.strategy, b.workers))
        });
        Ok(Dataset { measurements })
    }

    /// The measurement of one bench id, if present.
    pub fn get(
        &self,
        group: Group,
        strategy: StrategyKind,
        workers: usize,
    ) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|m| m.group == group && m.strategy == strategy && m.workers == workers)
    }

    /// Ids that `workers` (the swept worker counts) lead one to expect but that are absent.
    pub fn missing(&self, workers: &[usize]) -> Vec<String> {
        let mut out = Vec::new();
        for group in Group::ALL {
            for strategy in group.strategies() {
                for &w in workers {
                    if self.get(group, strategy, w).is_none() {
                        out.push(group.bench_id(strategy, w));
                    }
                }
            }
        }
        out
    }

    /// The worker counts present anywhere in the data, ascending.
    pub fn worker_counts(&self) -> Vec<usize> {
        let set: BTreeSet<usize> = self.measurements.iter().map(|m| m.workers).collect();
        set.into_iter().collect()
    }
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
        assert_eq!(
            (median.point_ns, median.lower_ns, median.upper_ns),
            (8.0, 7.0, 9.0)
        );
        assert_eq!(mean.point_ns, 10.0);
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
