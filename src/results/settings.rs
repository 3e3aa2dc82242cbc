//! The suite's knobs: what the benches run, set from the environment, and recorded beside
//! Criterion's results (`<criterion home>/poolscale-settings.json`) so that `report` and `gate`
//! know the count, nap, task counts and machine the numbers came from.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `POOLSCALE_WORKERS` | 1, 2, 3, the powers of two up to 2 × the logical cores, and the core count (2 cores: `1,2,3,4`) | worker counts swept |
//! | `POOLSCALE_COUNT` | `100000000` | countdown decrements per job (the seed's) |
//! | `POOLSCALE_NAP` | `10ms` | square_sleep's nap (the seed's 1 s would take hours) |
//! | `POOLSCALE_TASKS` | `10` | square_sleep's tasks (the seed's `range(10)`) |
//! | `POOLSCALE_DISPATCH_TASKS` | `1000` | zero-nap tasks per map in `dispatch` |

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::group::Workloads;
use crate::limits;
use crate::platform::machine::Machine;
use crate::results::store::{Kept, LATEST, Versioned};

/// The version of the settings file's layout this build writes. Version 1 (poolscale 0.1) had
/// no `schema_version`, `tool_version`, `run_id` or `started_unix_ms`; version 2 no `instrument`
/// or `capacity`; they default when absent.
pub const SETTINGS_SCHEMA: u32 = 3;

fn schema_v1() -> u32 {
    1
}

/// What one `cargo bench` run measured with, and where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Layout version of this record (see `SETTINGS_SCHEMA`).
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    /// The poolscale version that wrote it (empty before 0.2).
    #[serde(default)]
    pub tool_version: String,
    /// A random id of the bench run that wrote it.
    #[serde(default)]
    pub run_id: Option<String>,
    /// When that run started, in milliseconds since the Unix epoch: results older than this are
    /// stale (left by an earlier run).
    #[serde(default)]
    pub started_unix_ms: Option<u64>,
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
    /// The strategies the suite measured, with their facts (absent before poolscale 0.3: the
    /// six built-ins).
    #[serde(default = "builtin_strategies", with = "crate::strategy::with_facts")]
    pub strategies: Vec<crate::strategy::StrategyName>,
    /// The instrument check: each binary's cost per countdown decrement at the start and end of
    /// the run (`crate::measure::instrument`); empty before poolscale 0.4 or when not measured.
    #[serde(default)]
    pub instrument: Vec<crate::measure::instrument::Calibration>,
    /// What the machine gave during the run, sampled at its start, after each group and at its
    /// end ([`crate::measure::probe::capacity`]); empty before poolscale 0.4.
    #[serde(default)]
    pub capacity: Vec<crate::measure::probe::Capacity>,
    /// Whether Criterion ran with `--quick` (fewer samples, wider intervals).
    #[serde(default)]
    pub quick: bool,
    /// Earlier runs with the same settings whose results this run keeps (a run of one group after
    /// a full run: the other groups' results are the earlier run's), oldest first.
    #[serde(default)]
    pub earlier_runs: Vec<EarlierRun>,
}

/// An earlier run whose results a later one with the same settings keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierRun {
    /// Its run id.
    pub run_id: String,
    /// When it started, ms since the Unix epoch.
    pub started_unix_ms: u64,
}

/// Most earlier runs a series keeps.
pub const MAX_EARLIER_RUNS: usize = 32;

/// What the machine gave over a run, summarised from its capacity samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Given {
    /// The median of the samples' estimates, in cores.
    pub median: f64,
    /// The lowest sample's estimate, in cores.
    pub lowest: f64,
    /// Samples taken.
    pub samples: usize,
    /// The machine's logical cores.
    pub cores: usize,
}

impl Given {
    /// Whether the machine was busy: it gave under 85% of its cores in the median, or under 70%
    /// at some moment.
    pub fn busy(&self) -> bool {
        let c = self.cores as f64;
        self.median < 0.85 * c || self.lowest < 0.70 * c
    }
}

impl Versioned for Settings {
    const WHAT: &'static str = "settings file";
    const SCHEMA: u32 = SETTINGS_SCHEMA;
    const MAX_BYTES: u64 = 1 << 20;
    fn schema_version(&self) -> u32 {
        self.schema_version
    }
    fn written_by(&self) -> Option<&str> {
        Some(&self.tool_version)
    }
}

fn builtin_strategies() -> Vec<crate::strategy::StrategyName> {
    crate::strategy::Strategies::builtin().names()
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

    /// The defaults, with the machine unrecorded ([`Machine::unrecorded`]: nothing is read, no
    /// `git` is run); a measuring run records the machine itself ([`Settings::record_machine`]).
    pub fn defaults() -> Settings {
        Settings {
            schema_version: SETTINGS_SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            run_id: None,
            started_unix_ms: None,
            workers: default_workers(),
            count: 100_000_000,
            nap_ns: 10_000_000,
            tasks: 10,
            dispatch_tasks: 1000,
            machine: Machine::unrecorded(),
            strategies: builtin_strategies(),
            instrument: Vec::new(),
            capacity: Vec::new(),
            quick: false,
            earlier_runs: Vec::new(),
        }
    }

    /// The defaults overridden by the `POOLSCALE_*` environment variables.
    pub fn from_env() -> Result<Settings> {
        let mut s = Settings::defaults();
        if let Some(v) = env_text("POOLSCALE_WORKERS")? {
            s.workers = limits::parse_worker_list(&v).map_err(|e| named("POOLSCALE_WORKERS", e))?;
        }
        if let Some(v) = env_text("POOLSCALE_COUNT")? {
            s.count = limits::parse_count(&v).map_err(|e| named("POOLSCALE_COUNT", e))?;
        }
        if let Some(v) = env_text("POOLSCALE_NAP")? {
            let nap = limits::parse_duration(&v).map_err(|e| named("POOLSCALE_NAP", e))?;
            s.nap_ns = nap.as_nanos() as u64;
        }
        if let Some(v) = env_text("POOLSCALE_TASKS")? {
            s.tasks = limits::parse_tasks(&v).map_err(|e| named("POOLSCALE_TASKS", e))?;
        }
        if let Some(v) = env_text("POOLSCALE_DISPATCH_TASKS")? {
            s.dispatch_tasks =
                limits::parse_tasks(&v).map_err(|e| named("POOLSCALE_DISPATCH_TASKS", e))?;
        }
        Ok(s)
    }

    /// Records the machine and build that will measure ([`Machine::current`]: CPU, memory, OS,
    /// rustc, and the commit of the working tree).
    pub fn record_machine(&mut self) {
        self.machine = Machine::current();
    }

    /// Marks these settings as those of a bench run starting now, with a fresh id.
    pub fn start_run(&mut self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.started_unix_ms = Some(u64::try_from(now.as_millis()).unwrap_or(u64::MAX));
        self.run_id = Some(format!("{:016x}", fastrand::u64(..)));
    }

    /// When the run that recorded these settings started, if it said.
    pub fn started(&self) -> Option<std::time::SystemTime> {
        self.started_unix_ms
            .map(|ms| std::time::UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// Checks values read from a file against the CLI's bounds (worker counts 1-256, counts,
    /// naps, tasks); the schema version is checked as it is read ([`crate::results::store`]).
    pub fn validate(self, path: &Path) -> Result<Settings> {
        let named = |e: Error| Error::invalid("settings file", path.display(), e.to_string());
        if self.workers.is_empty() {
            return Err(named(Error::invalid("worker list", "[]", "is empty")));
        }
        limits::count_of("worker list", self.workers.len(), limits::MAX_SWEEP).map_err(named)?;
        for &w in &self.workers {
            limits::workers(w).map_err(named)?;
        }
        if self.workers.windows(2).any(|p| p[0] >= p[1]) {
            return Err(named(Error::invalid(
                "worker list",
                format!("{:?}", self.workers),
                "must be distinct counts in increasing order",
            )));
        }
        limits::count_of(
            "strategy list",
            self.strategies.len(),
            limits::MAX_STRATEGIES,
        )
        .map_err(named)?;
        limits::count_of("capacity samples", self.capacity.len(), limits::MAX_RECORDS)
            .map_err(named)?;
        limits::count_of(
            "instrument calibrations",
            self.instrument.len(),
            limits::MAX_RECORDS,
        )
        .map_err(named)?;
        for (what, s) in [
            ("run id", self.run_id.as_deref().unwrap_or_default()),
            ("tool version", &self.tool_version),
        ]
        .into_iter()
        .chain(
            self.earlier_runs
                .iter()
                .map(|r| ("earlier run id", r.run_id.as_str())),
        )
        .chain(
            self.capacity
                .iter()
                .map(|c| ("capacity sample", c.at.as_str())),
        )
        .chain(self.instrument.iter().flat_map(|c| {
            [
                ("instrument role", c.role.as_str()),
                ("instrument phase", c.phase.as_str()),
            ]
        })) {
            limits::text(what, s).map_err(named)?;
        }
        self.workloads().validate().map_err(named)?;
        self.machine.validate().map_err(named)?;
        for c in &self.capacity {
            let cores = c.cores as f64;
            if c.cores == 0
                || c.cores > limits::MAX_WORKERS
                || !c.given.is_valid()
                || c.given.point <= 0.0
                || c.given.upper > 4.0 * cores
            {
                return Err(named(Error::invalid(
                    "capacity sample",
                    format!("{} of {} cores at {}", c.given.point, c.cores, c.at),
                    "must be a valid estimate above 0 and at most 4 × the cores (1 to 256)",
                )));
            }
        }
        if self.earlier_runs.len() > MAX_EARLIER_RUNS {
            return Err(named(Error::invalid(
                "earlier runs",
                self.earlier_runs.len(),
                format!("must be at most {MAX_EARLIER_RUNS}"),
            )));
        }
        for c in &self.instrument {
            let e = c.ns_per_decrement;
            if !e.is_valid() || e.point <= 0.0 || e.upper > 1e6 || !c.relative.is_valid() {
                return Err(named(Error::invalid(
                    "instrument calibration",
                    format!("{} ({})", c.role, c.phase),
                    "must hold valid, positive estimates",
                )));
            }
        }
        Ok(self)
    }

    /// Whether results measured under `earlier` can stand beside this run's in one report: the
    /// same knobs, worker counts, strategies, Criterion mode, poolscale version, commit,
    /// toolchain and machine (rows measured at another commit never stand under this one's).
    pub fn continues(&self, earlier: &Settings) -> bool {
        let names = |s: &Settings| s.strategies.clone();
        earlier.run_id.is_some()
            && earlier.started_unix_ms.is_some()
            && self.workloads() == earlier.workloads()
            && self.workers == earlier.workers
            && names(self) == names(earlier)
            && self.quick == earlier.quick
            && self.tool_version == earlier.tool_version
            && self.machine.commit == earlier.machine.commit
            && self.machine.rustc == earlier.machine.rustc
            && self.machine.cpu == earlier.machine.cpu
            && self.machine.logical_cores == earlier.machine.logical_cores
    }

    /// Makes this run keep `earlier`'s results (and those it kept) when it [`continues`] it.
    ///
    /// [`continues`]: Settings::continues
    pub fn carry_from(&mut self, earlier: &Settings) -> bool {
        if !self.continues(earlier) {
            return false;
        }
        let (Some(id), Some(at)) = (earlier.run_id.clone(), earlier.started_unix_ms) else {
            return false;
        };
        self.earlier_runs = earlier.earlier_runs.clone();
        self.earlier_runs.push(EarlierRun {
            run_id: id,
            started_unix_ms: at,
        });
        // A long series keeps its last runs only; results older than those are stale.
        let keep = self.earlier_runs.len().saturating_sub(MAX_EARLIER_RUNS);
        self.earlier_runs.drain(..keep);
        true
    }

    /// When the oldest run whose results this report keeps started: results written before it
    /// are stale.
    pub fn series_start(&self) -> Option<std::time::SystemTime> {
        match self.earlier_runs.first() {
            Some(r) => Some(std::time::UNIX_EPOCH + Duration::from_millis(r.started_unix_ms)),
            None => self.started(),
        }
    }

    /// The run (id) that wrote a result at `written`: the latest of the series that had started.
    pub fn run_of(&self, written: std::time::SystemTime) -> Option<String> {
        let ms = written
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))?;
        let current =
            self.run_id
                .clone()
                .zip(self.started_unix_ms)
                .map(|(run_id, started_unix_ms)| EarlierRun {
                    run_id,
                    started_unix_ms,
                });
        self.earlier_runs
            .iter()
            .cloned()
            .chain(current)
            .filter(|r| r.started_unix_ms <= ms)
            .max_by_key(|r| r.started_unix_ms)
            .map(|r| r.run_id)
    }

    /// What the machine gave during the run, if its capacity was sampled.
    pub fn given(&self) -> Option<Given> {
        let points: Vec<f64> = self.capacity.iter().map(|c| c.given.point).collect();
        Some(Given {
            median: crate::stats::median(&points)?,
            lowest: points.iter().copied().fold(f64::INFINITY, f64::min),
            samples: points.len(),
            cores: self.capacity.first()?.cores,
        })
    }

    /// square_sleep's nap.
    pub fn nap(&self) -> Duration {
        self.workloads().nap()
    }

    /// Writes the settings into a Criterion directory (as the latest run's, and for `baseline`
    /// too when one is being saved).
    pub fn save(&self, criterion_dir: &Path, baseline: Option<&str>) -> Result<()> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::invalid("settings", "?", e.to_string()))?;
        Kept::Settings.save(criterion_dir, baseline, &json)
    }

    /// Reads the settings recorded by the run that wrote `baseline` itself (`new`: the latest
    /// run's), without falling back to another run's; `Ok(None)` when there are none.
    pub fn load_exact(criterion_dir: &Path, baseline: &str) -> Result<Option<Settings>> {
        let p = Kept::Settings.path(criterion_dir, baseline);
        if !p.exists() {
            return Ok(None);
        }
        Settings::read(&p).map(Some)
    }

    /// Reads and validates one settings file.
    fn read(p: &Path) -> Result<Settings> {
        crate::results::store::read_versioned::<Settings>(p)?.validate(p)
    }

    /// Reads the settings saved with a Criterion directory (for a saved baseline if named and
    /// present); `Ok(None)` when the benches recorded none.
    pub fn load(criterion_dir: &Path, baseline: Option<&str>) -> Result<Option<Settings>> {
        let mut candidates = Vec::new();
        if let Some(b) = baseline {
            candidates.push(Kept::Settings.path(criterion_dir, b));
        }
        candidates.push(Kept::Settings.path(criterion_dir, LATEST));
        for p in candidates {
            if p.exists() {
                return Settings::read(&p).map(Some);
            }
        }
        Ok(None)
    }
}

/// A knob's value from the environment: `None` when unset or blank; text that is not UTF-8 is
/// refused by name like any invalid value, never replaced by the default.
fn env_text(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(v)),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(raw)) => Err(named(
            name,
            Error::invalid("value", raw.to_string_lossy(), "is not valid UTF-8 text"),
        )),
    }
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

/// The sweep sized to this machine: see [`workers_for`].
pub fn default_workers() -> Vec<usize> {
    workers_for(num_cpus::get())
}

/// The default sweep for a machine of `cores` logical cores: 1, 2, 3 (the seed's Pool(3)), the
/// powers of two up to twice the cores, and the core count itself. 2 cores: 1, 2, 3, 4; 16 cores:
/// 1, 2, 3, 4, 8, 16, 32; 6 cores: 1, 2, 3, 4, 6, 8. Capped at [`limits::MAX_WORKERS`].
pub fn workers_for(cores: usize) -> Vec<usize> {
    let cores = cores.max(1);
    let mut w = vec![1, 2, 3, cores];
    let mut p = 4;
    while p <= 2 * cores {
        w.push(p);
        p *= 2;
    }
    w.retain(|&n| (1..=limits::MAX_WORKERS).contains(&n));
    w.sort_unstable();
    w.dedup();
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sweep_is_sized_to_the_machine() {
        assert_eq!(workers_for(1), vec![1, 2, 3]);
        assert_eq!(workers_for(2), vec![1, 2, 3, 4]);
        assert_eq!(workers_for(6), vec![1, 2, 3, 4, 6, 8]);
        assert_eq!(workers_for(16), vec![1, 2, 3, 4, 8, 16, 32]);
        assert_eq!(workers_for(0), vec![1, 2, 3]);
        assert!(workers_for(4096).iter().all(|&w| w <= limits::MAX_WORKERS));
    }

    #[test]
    fn files_of_the_previous_version_still_load_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Written by poolscale 0.1: no schema_version, tool_version, run_id or start.
        let v1 = include_str!("../../tests/fixtures/poolscale-settings.v1.json");
        std::fs::write(Kept::Settings.path(dir.path(), LATEST), v1).unwrap();
        let s = Settings::load(dir.path(), None).unwrap().unwrap();
        assert_eq!(s.schema_version, 1);
        assert_eq!(s.started_unix_ms, None);
        assert!(!s.workers.is_empty());

        let zero = v1.replacen("\"workers\": [", "\"workers\": [0, ", 1);
        assert_ne!(zero, v1);
        std::fs::write(Kept::Settings.path(dir.path(), LATEST), zero).unwrap();
        let e = Settings::load(dir.path(), None).unwrap_err().to_string();
        assert!(
            e.contains("settings file") && e.contains("between 1 and 256"),
            "{e}"
        );

        let future = v1.replacen('{', "{\"schema_version\": 99,", 1);
        std::fs::write(Kept::Settings.path(dir.path(), LATEST), future).unwrap();
        let e = Settings::load(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("newer poolscale"), "{e}");
    }

    #[test]
    fn a_run_with_the_same_settings_continues_the_series_and_another_does_not() {
        let mut a = Settings::defaults();
        a.start_run();
        let mut b = a.clone();
        b.start_run();
        b.started_unix_ms = a.started_unix_ms.map(|ms| ms + 1_000);
        assert!(b.carry_from(&a));
        assert_eq!(b.earlier_runs.len(), 1);
        assert_eq!(b.series_start(), a.started());
        let at = |ms: u64| std::time::UNIX_EPOCH + Duration::from_millis(ms);
        let (sa, sb) = (a.started_unix_ms.unwrap(), b.started_unix_ms.unwrap());
        assert_eq!(b.run_of(at(sa + 10)), a.run_id);
        assert_eq!(b.run_of(at(sb + 10)), b.run_id);
        assert_eq!(b.run_of(at(sa - 10)), None);
        let mut c = b.clone();
        c.count += 1;
        c.start_run();
        assert!(!c.carry_from(&b), "another count starts a new series");
        assert!(c.earlier_runs.is_empty() || c.earlier_runs == b.earlier_runs);
        let mut d = b.clone();
        d.quick = true;
        assert!(
            !d.continues(&b),
            "a --quick run does not continue a full one"
        );
        // Rows measured at another commit or with another toolchain never stand under this one.
        let mut e = b.clone();
        e.machine.commit = "0123456789ab".into();
        e.start_run();
        assert!(!e.carry_from(&b), "another commit starts a new series");
        let mut f = b.clone();
        f.machine.rustc = "rustc 9.0.0".into();
        f.start_run();
        assert!(!f.carry_from(&b), "another toolchain starts a new series");
    }
}
