//! What the benches observe besides Criterion's times, kept beside Criterion's files: each
//! benchmark's CPU time ([`crate::measure::cpu::Usage`]) and, for the benchmarks a report draws, the
//! timeline of one map. Written as `<criterion home>/poolscale-observations.json` (and
//! `poolscale-observations.<baseline>.json` when a baseline is saved) after every benchmark, tagged
//! with the run id of the settings record, so `report` never mixes in another run's numbers.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::group::{BenchId, Group};
use crate::measure::cpu::Usage;
use crate::measure::scaling::Paired;
use crate::measure::sweep::Sweep;
use crate::measure::timeline::Timeline;
use crate::results::store::{Kept, Versioned};

/// The layout version this build writes.
pub const OBSERVATIONS_SCHEMA: u32 = 1;

/// What one bench run observed, per bench id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observations {
    /// Layout version (see `OBSERVATIONS_SCHEMA`).
    pub schema_version: u32,
    /// The run id of the settings record of the run that observed these.
    pub run_id: Option<String>,
    /// Per bench id.
    pub benches: BTreeMap<BenchId, Observed>,
    /// The break-even sweep (`crate::analysis::breakeven`), where this run (or an earlier run of its
    /// series) measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakeven: Option<Sweep>,
}

/// What was observed of one benchmark.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Wall and CPU time over its measuring windows.
    pub usage: Usage,
    /// One map drawn as a timeline, for the benchmarks a report shows (`draws_timeline`).
    pub timeline: Option<Timeline>,
    /// The run that measured it (absent before poolscale 0.4: the file's run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The SHA-256 of the `estimates.json` Criterion wrote for it in that run (absent before
    /// poolscale 0.6): how `report` knows the result in place is this run's, whatever its
    /// file's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimates: Option<String>,
    /// Its ratios measured paired in the same run ([`crate::measure::scaling`]), for CPU-bound groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<Paired>,
}

/// Whether the report draws a timeline of this benchmark: `square_sleep` at 3 workers (the seed's
/// Pool(3)) and `countdown_weak` at 2 workers (the seed's two threads).
pub fn draws_timeline(id: &BenchId) -> bool {
    matches!(
        (id.group, id.workers),
        (Group::SquareSleep, 3) | (Group::CountdownWeak, 2)
    )
}

impl Observations {
    /// An empty record for the run `run_id`.
    pub fn for_run(run_id: Option<String>) -> Observations {
        Observations {
            schema_version: OBSERVATIONS_SCHEMA,
            run_id,
            benches: BTreeMap::new(),
            breakeven: None,
        }
    }

    /// The recorded digest of each benchmark's estimates, by id.
    pub fn digests(&self) -> BTreeMap<BenchId, String> {
        self.benches
            .iter()
            .filter_map(|(id, b)| Some((*id, b.estimates.clone()?)))
            .collect()
    }

    /// Writes the record (atomically) as the latest run's, and for `baseline` when one is saved.
    pub fn save(&self, criterion_dir: &Path, baseline: Option<&str>) -> Result<()> {
        let json = serde_json::to_string(self)
            .map_err(|e| Error::invalid("observations", "?", e.to_string()))?;
        Kept::Observations.save(criterion_dir, baseline, &json)
    }

    /// Reads the observations of `baseline` (`new`: the latest run) if they belong to the run
    /// `run_id`: `Ok(Ok(None))` when there are none (or no run id to match), `Ok(Err(why))` when
    /// they are another run's (two runs wrote into one directory at once). A file that cannot be
    /// read, parsed or validated is an error naming it.
    pub fn load(
        criterion_dir: &Path,
        baseline: &str,
        run_id: Option<&str>,
    ) -> Result<std::result::Result<Option<Observations>, String>> {
        let p = Kept::Observations.path(criterion_dir, baseline);
        if !p.exists() || run_id.is_none() {
            return Ok(Ok(None));
        }
        let obs: Observations = crate::results::store::read_versioned(&p)?;
        for (id, b) in &obs.benches {
            // CPU time a run could have used: at most every core busy for the whole wall time
            // (u64::MAX would read as 1.8e19 cores busy).
            let cpu = u128::from(b.usage.cpu.user_ns) + u128::from(b.usage.cpu.sys_ns);
            let most =
                u128::from(b.usage.wall_ns) * crate::platform::machine::Machine::MAX_CORES as u128;
            if cpu > most {
                return Err(Error::invalid(
                    "observations file",
                    p.display(),
                    format!(
                        "{id}: {cpu} ns of CPU time in {} ns of wall time is more than every core could give",
                        b.usage.wall_ns
                    ),
                ));
            }
            if let Some(t) = &b.timeline {
                t.validate().map_err(|e| {
                    Error::invalid("observations file", p.display(), format!("{id}: {e}"))
                })?;
            }
        }
        if obs.run_id.as_deref() != run_id {
            return Ok(Err(format!(
                "`{}` was written by bench run {} but the settings by run {}: two `cargo bench` runs \
                 wrote into this directory at once, so CPU time and timelines are left out; re-run `cargo bench`",
                p.display(),
                obs.run_id.as_deref().unwrap_or("?"),
                run_id.unwrap_or("?")
            )));
        }
        Ok(Ok(Some(obs)))
    }
}

impl Versioned for Observations {
    const WHAT: &'static str = "observations file";
    const SCHEMA: u32 = OBSERVATIONS_SCHEMA;
    const MAX_BYTES: u64 = 64 << 20;
    fn schema_version(&self) -> u32 {
        self.schema_version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_no_machine_could_give_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Observations::for_run(Some("abc".into()));
        let mut b = Observed::default();
        b.usage.wall_ns = 1_000;
        b.usage.cpu.user_ns = u64::MAX;
        o.benches.insert("dispatch/threads/1".parse().unwrap(), b);
        o.save(dir.path(), None).unwrap();
        let e = Observations::load(dir.path(), "new", Some("abc"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dispatch/threads/1") && e.contains("every core"),
            "{e}"
        );
    }

    #[test]
    fn another_runs_observations_are_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Observations::for_run(Some("abc".into()));
        o.benches
            .insert("dispatch/threads/1".parse().unwrap(), Observed::default());
        o.save(dir.path(), Some("main")).unwrap();
        let back = Observations::load(dir.path(), "new", Some("abc"))
            .unwrap()
            .unwrap();
        assert_eq!(back.as_ref(), Some(&o));
        assert!(
            Observations::load(dir.path(), "main", Some("abc"))
                .unwrap()
                .unwrap()
                .is_some()
        );
        assert!(
            Observations::load(dir.path(), "new", Some("xyz"))
                .unwrap()
                .unwrap_err()
                .contains("two `cargo bench` runs")
        );
        assert!(
            Observations::load(dir.path(), "new", None)
                .unwrap()
                .unwrap()
                .is_none()
        );
        assert!(
            Observations::load(dir.path(), "other", Some("abc"))
                .unwrap()
                .unwrap()
                .is_none()
        );
        let file = Kept::Observations.path(dir.path(), crate::results::store::LATEST);
        std::fs::write(&file, "{not json").unwrap();
        let e = Observations::load(dir.path(), "new", Some("abc")).unwrap_err();
        assert!(e.to_string().contains("poolscale-observations.json"), "{e}");
    }
}
