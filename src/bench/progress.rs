//! What a measuring run tells and records about itself as it goes: the instrument check and the
//! capacity samples ([`Track`]), the progress line ([`Progress`]) and the estimate of its duration
//! ([`estimate_one`]).

use std::time::Instant;

use crate::group::ideal_with_cores;
use crate::group::{BenchId, Group, Workloads};
use crate::results::settings::Settings;
use crate::strategy::Options;

/// What a measuring run records about its own conditions: the instrument check (this binary and
/// its worker program timing the countdown in alternation) and what the machine gave.
pub(super) struct Track {
    options: Options,
    worker: Option<std::path::PathBuf>,
    cores: usize,
}

impl Track {
    pub(super) fn new(measure: bool, options: &Options, settings: &Settings) -> Track {
        let worker = if measure {
            options
                .worker_program
                .clone()
                .or_else(|| crate::strategy::processes::default_worker_program().ok())
        } else {
            None
        };
        Track {
            options: options.clone(),
            worker,
            cores: settings.machine.logical_cores,
        }
    }

    /// The instrument check and a capacity sample, at the run's `phase` (`start`, `end`).
    pub(super) fn check(&self, settings: &mut Settings, phase: &str) {
        if let Some(worker) = &self.worker {
            match crate::measure::instrument::calibrate_with_worker(
                "bench",
                worker,
                phase,
                &self.options,
            ) {
                Ok(c) => {
                    for c in &c {
                        eprintln!(
                            "poolscale: instrument ({phase}): {} {:.3} ns per decrement [{:.3}, {:.3}], loop {}",
                            c.role,
                            c.ns_per_decrement.point,
                            c.ns_per_decrement.lower,
                            c.ns_per_decrement.upper,
                            c.placement.as_str()
                        );
                    }
                    settings.instrument.extend(c);
                }
                Err(e) => eprintln!("poolscale bench: instrument check skipped: {e}"),
            }
        }
        self.capacity(settings, phase);
    }

    /// One capacity sample, recorded as taken at `at`.
    pub(super) fn capacity(&self, settings: &mut Settings, at: &str) {
        match crate::measure::probe::capacity(self.cores, at, &self.options) {
            Ok(c) => settings.capacity.push(c),
            Err(e) => eprintln!("poolscale bench: capacity sample skipped: {e}"),
        }
    }
}

/// Progress on stderr: `[k/N] id (elapsed, ~time left)`. The time left is the estimate of the
/// benchmarks still to come, scaled by how the finished ones compared with their estimates: stable
/// from the first few benchmarks on, where an average per benchmark swings with each group's
/// length.
pub(super) struct Progress {
    /// Each chosen benchmark's estimate, in seconds.
    estimates: std::collections::BTreeMap<BenchId, f64>,
    /// The benchmarks started so far.
    pub(super) started: std::collections::BTreeSet<BenchId>,
    /// The estimates of those finished (all started but the last).
    estimated_done: f64,
    last: Option<BenchId>,
    pub(super) t0: Instant,
}

impl Progress {
    pub(super) fn new(estimates: std::collections::BTreeMap<BenchId, f64>) -> Progress {
        Progress {
            estimates,
            started: std::collections::BTreeSet::new(),
            estimated_done: 0.0,
            last: None,
            t0: Instant::now(),
        }
    }

    pub(super) fn next(&mut self, id: BenchId) {
        if let Some(prev) = self.last.replace(id) {
            self.estimated_done += self.estimates.get(&prev).copied().unwrap_or(0.0);
        }
        self.started.insert(id);
        let spent = self.t0.elapsed().as_secs_f64();
        let remaining: f64 = self
            .estimates
            .iter()
            .filter(|(k, _)| !self.started.contains(*k))
            .map(|(_, v)| *v)
            .sum::<f64>()
            + self.estimates.get(&id).copied().unwrap_or(0.0);
        let pace = if self.estimated_done > 0.0 {
            (spent / self.estimated_done).clamp(0.25, 4.0)
        } else {
            1.0
        };
        eprintln!(
            "[{}/{}] {id} ({spent:.0} s, ~{:.0} s left)",
            self.started.len(),
            self.estimates.len(),
            pace * remaining
        );
    }
}

/// About how long `cargo bench` takes to measure `ids` with Criterion's defaults as the bench
/// sets them (a 0.5 s warm-up, then ten samples in a window of at least 1 s, widened to hold ten
/// maps of a long group with 20% headroom), on a machine of `cores` cores where one countdown
/// of `workloads.count` takes `countdown_ns`. Each map is taken at its model's ideal (see
/// [`crate::group::ideal_ns`]), so this is a lower estimate, ~0.3 s per benchmark is added for
/// Criterion's analysis and the pool's start-up.
#[cfg(test)]
pub(super) fn estimate_duration(
    ids: &[BenchId],
    workloads: &Workloads,
    cores: usize,
    countdown_ns: f64,
) -> std::time::Duration {
    let secs: f64 = ids
        .iter()
        .map(|id| estimate_one(*id, workloads, cores as f64, countdown_ns))
        .sum();
    std::time::Duration::from_secs_f64(secs)
}

/// Seconds one benchmark takes under the suite's Criterion configuration (see
/// [`estimate_duration`]), on a machine that gives `cores` cores' worth of computing (a fraction
/// on a busy machine: what the run's first capacity sample measured).
pub(super) fn estimate_one(
    id: BenchId,
    workloads: &Workloads,
    cores: f64,
    countdown_ns: f64,
) -> f64 {
    let info = id.strategy.info();
    let t1 = match id.group {
        Group::CountdownWeak | Group::CountdownStrong => Some(countdown_ns),
        _ => None,
    };
    let map_s =
        ideal_with_cores(id.group, &info, id.workers, t1, cores, workloads).unwrap_or(0.0) / 1e9;
    if id.group.times_wakeup() {
        // Flat sampling in a 40 ms window after a 5 ms warm-up: the rests dominate.
        return 0.5 + ESTIMATE_OVERHEAD_S;
    }
    let window = if id.group.is_long() {
        // One map to size the window, then ten maps in a window of 12 maps (at least 1 s).
        map_s + (map_s * 12.0).max(1.0)
    } else {
        1.0
    };
    0.5 + window + ESTIMATE_OVERHEAD_S
}

/// Seconds per benchmark beyond its warm-up and window: Criterion's analysis (10,000 resamples)
/// and its HTML charts, the pool's start, the CPU-time reads and a timeline for some.
pub(super) const ESTIMATE_OVERHEAD_S: f64 = 0.6;
