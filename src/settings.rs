//! The suite's knobs: what the benches run, set from the environment, and recorded beside
//! Criterion's results (`<criterion home>/poolscale-settings.json`) so that `report` and `gate`
//! know the count, nap, task counts and machine the numbers came from.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `POOLSCALE_WORKERS` | `1,2,3,4,8` plus this machine's logical and physical core counts | worker counts swept |
//! | `POOLSCALE_COUNT` | `100000000` | countdown decrements per job (the seed's) |
//! | `POOLSCALE_NAP` | `10ms` | square_sleep's nap (the seed's 1 s would take hours) |
//! | `POOLSCALE_TASKS` | `10` | square_sleep's tasks (the seed's `range(10)`) |
//! | `POOLSCALE_DISPATCH_TASKS` | `1000` | zero-nap tasks per map in `dispatch` |

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits;
use crate::machine::Machine;

/// Name of the settings file in the Criterion directory.
pub const SETTINGS_FILE: &str = "poolscale-settings.json";

/// What one `cargo bench` run measured with, and where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Worker counts swept, ascending.
    pub workers: Vec<usize>,
    /// countdown decrements per job (countdown_weak) or in all (countdown_strong).
    pub count: u64,
    /// square_sleep's nap, in nanoseconds.
    pub nap_ns: u64,
    /// square_sleep's task count.
    pub tasks: usize,
    /// dispatch's task count.
    pub dispatch_tasks: usize,
    /// The machine and build.
    pub machine: Machine,
}

/// The knobs that shape the jobs of every group: what one measured map runs. Sent to a sampling
/// side as is (see `crate::sampling`), recorded in [`Settings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workloads {
    /// countdown decrements per job (countdown_weak) or in all (countdown_strong).
    pub count: u64,
    /// square_sleep's nap, in nanoseconds.
    pub nap_ns: u64,
    /// square_sleep's task count.
    pub tasks: usize,
    /// dispatch's task count.
    pub dispatch_tasks: usize,
}

impl Workloads {
    /// Checks every knob against the bounds of [`crate::limits`] (for values read from a file or a
    /// pipe rather than parsed from text).
    pub fn validate(&self) -> Result<Workloads> {
        if self.count > limits::MAX_COUNT {
            return Err(Error::invalid(
                "count",
                self.count,
                format!("must be at most {}", limits::MAX_COUNT),
            ));
        }
        if self.nap_ns > limits::MAX_NAP.as_nanos() as u64 {
            return Err(Error::invalid("nap", self.nap_ns, "must be at most 1h"));
        }
        limits::tasks(self.tasks)?;
        limits::tasks(self.dispatch_tasks)?;
        Ok(*self)
    }
}

impl Settings {
    /// The knobs that shape the jobs.
    pub fn workloads(&self) -> Workloads {
        Workloads {
            count: self.count,
            nap_ns: self.nap_ns,
            tasks: self.tasks,
            dispatch_tasks: self.dispatch_tasks,
        }
    }

    /// The defaults, for this machine.
    pub fn defaults() -> Settings {
        Settings {
            workers: default_workers(),
            count: 100_000_000,
            nap_ns: 10_000_000,
            tasks: 10,
            dispatch_tasks: 1000,
            machine: Machine::current(),
        }
    }

    /// The defaults overridden by the `POOLSCALE_*` environment variables.
    pub fn from_env() -> Result<Settings> {
        let mut s = Settings::defaults();
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("POOLSCALE_WORKERS") {
            s.workers = limits::parse_worker_list(&v).map_err(|e| named("POOLSCALE_WORKERS", e))?;
        }
        if let Some(v) = var("POOLSCALE_COUNT") {
            s.count = limits::parse_count(&v).map_err(|e| named("POOLSCALE_COUNT", e))?;
        }
        if let Some(v) = var("POOLSCALE_NAP") {
            let nap = limits::parse_duration(&v).map_err(|e| named("POOLSCALE_NAP", e))?;
            s.nap_ns = nap.as_nanos() as u64;
        }
        if let Some(v) = var("POOLSCALE_TASKS") {
            s.tasks = limits::parse_tasks(&v).map_err(|e| named("POOLSCALE_TASKS", e))?;
        }
        if let Some(v) = var("POOLSCALE_DISPATCH_TASKS") {
            s.dispatch_tasks =
                limits::parse_tasks(&v).map_err(|e| named("POOLSCALE_DISPATCH_TASKS", e))?;
        }
        Ok(s)
    }

    /// square_sleep's nap.
    pub fn nap(&self) -> Duration {
        Duration::from_nanos(self.nap_ns)
    }

    /// Writes the settings into a Criterion directory (as the latest run's, and for `baseline`
    /// too when one is being saved).
    pub fn save(&self, criterion_dir: &Path, baseline: Option<&str>) -> Result<()> {
        std::fs::create_dir_all(criterion_dir)
            .map_err(|e| Error::io(format!("cannot create `{}`", criterion_dir.display()), e))?;
        let json = serde_json::to_string_pretty(self).expect("settings serialise");
        let mut paths = vec![criterion_dir.join(SETTINGS_FILE)];
        if let Some(b) = baseline {
            paths.push(baseline_settings_path(criterion_dir, b));
        }
        for p in paths {
            std::fs::write(&p, &json)
                .map_err(|e| Error::io(format!("cannot write `{}`", p.display()), e))?;
        }
        Ok(())
    }

    /// Reads the settings saved with a Criterion directory (for a saved baseline if named and
    /// present); `Ok(None)` when the benches recorded none.
    pub fn load(criterion_dir: &Path, baseline: Option<&str>) -> Result<Option<Settings>> {
        let mut candidates = Vec::new();
        if let Some(b) = baseline {
            candidates.push(baseline_settings_path(criterion_dir, b));
        }
        candidates.push(criterion_dir.join(SETTINGS_FILE));
        for p in candidates {
            match std::fs::read_to_string(&p) {
                Ok(text) => {
                    return serde_json::from_str(&text)
                        .map(Some)
                        .map_err(|source| Error::MalformedJson { path: p, source });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("cannot read `{}`", p.display()), e)),
            }
        }
        Ok(None)
    }
}

fn baseline_settings_path(dir: &Path, baseline: &str) -> PathBuf {
    dir.join(format!("poolscale-settings.{baseline}.json"))
}

fn named(var: &str, e: Error) -> Error {
    match e {
        Error::Invalid {
            what,
            value,
            reason,
        } => Error::invalid(what, value, format!("{reason} (from {var})")),
        other => other,
    }
}

/// 1, 2, 3, 4 and 8 workers plus this machine's logical and physical core counts.
pub fn default_workers() -> Vec<usize> {
    let mut w = vec![1, 2, 3, 4, 8, num_cpus::get(), num_cpus::get_physical()];
    w.retain(|&n| (1..=limits::MAX_WORKERS).contains(&n));
    w.sort_unstable();
    w.dedup();
    w
}

/// Where Criterion writes its results, by Criterion's own rules: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion`.
pub fn criterion_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(h);
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("criterion");
    }
    PathBuf::from("target/criterion")
}
