//! Paired scaling: the ratios a report states (speedup, efficiency, measured/ideal, measured/ideal
//! with the cores given, one strategy against `sequential`), measured by interleaving in the bench
//! run itself, so the machine's drift cancels in them.
//!
//! Two Criterion medians taken seconds or minutes apart carry the machine's drift into their
//! quotient: on a shared 2-core machine beside a bursty neighbour, identical work measured 81%
//! apart that way. Here, for a strategy `S` at `w` workers, every round samples `S@1`, `S@w` and,
//! where a capacity probe can run, the probe at 1 and `w` (`w` independent processes counting with
//! no coordination: what the machine gives right now), in alternating order (A B C D | D C B A,
//! see [`crate::measure::interleave`]). Each round gives the ratio `t(S@w) / t(S@1)`; the estimate is
//! Hodges–Lehmann over the rounds' ratios (on logs) with its 95% interval, the estimator
//! `gate --ab` and `gate --paired-invariants` use. The cores the machine gave during a round are
//! `w × t(P@1) / t(P@w)`, so "held to the cores given" is paired too. A strategy's 1-worker map is
//! also interleaved with `sequential`'s (the same work on one core): the paired same-work spread.
//!
//! The bench records each benchmark's [`Paired`] beside its CPU time
//! ([`crate::results::observe::Observed::paired`]); [`crate::analysis`] turns them into the report's ratios.

use crate::error::Result;
use crate::group::{BenchId, Group, Model, Workloads};
use crate::measure::interleave::{Plan, interleave};
use crate::measure::probe::Probe;
use crate::measure::{Arm, Prepared};
use crate::stats::{ArmQuantiles, Estimate};
use crate::strategy::{Options, Strategies, StrategyKind};
use serde::{Deserialize, Serialize};

/// What was measured paired for one benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// `t(S@w) / t(S@1)`, the same strategy at `w` and at 1 worker in the same rounds (absent at
    /// 1 worker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_one: Option<Estimate>,
    /// Cores' worth the machine gave to `w` probe processes in the same rounds:
    /// `w × t(P@1) / t(P@w)` (absent where no probe could run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_given: Option<Estimate>,
    /// `t(S@w) / ideal(w, cores given)` per round, the ideal from the group's model with the
    /// round's `t(S@1)` and the cores the probe was given in that round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_ideal_given: Option<Estimate>,
    /// `t(S@1) / t(sequential@1)`: the same work on one core, interleaved (1-worker rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_sequential: Option<Estimate>,
    /// Rounds sampled for `to_one` (or for `vs_sequential` at 1 worker).
    pub rounds: usize,
}

/// How long the paired pass of one group may sample: at least `min_rounds` rounds, then until
/// every ratio it states is resolved ([`resolved`]), at most `max_rounds` rounds or `time`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Rounds before the first look.
    pub min_rounds: usize,
    /// Never more rounds than this.
    pub max_rounds: usize,
    /// Wall time allowed (a round is never cut short).
    pub time: std::time::Duration,
}

/// A full run's paired pass: 12 rounds at least (a 95% interval of about ±1% on a quiet
/// machine), then until resolved, for at most 40 s per group.
pub const FULL: Budget = Budget {
    min_rounds: 12,
    max_rounds: 60,
    time: std::time::Duration::from_secs(40),
};
/// With Criterion's `--quick`.
pub const QUICK: Budget = Budget {
    min_rounds: 6,
    max_rounds: 20,
    time: std::time::Duration::from_secs(12),
};

/// Half-width (relative) the same-work ratios are sampled to: a spread of a percent or two is
/// what they are there to show.
pub const SAME_WORK_TARGET: f64 = 0.01;
/// Half-width (relative) the scaling ratios (`to_one`, `over_ideal_given`) are sampled to.
pub const SCALING_TARGET: f64 = 0.02;

pub use crate::stats::half_width;

/// Whether an estimate exists and its interval is within `target`.
fn resolved(e: Option<Estimate>, target: f64) -> bool {
    e.is_some_and(|e| half_width(&e) <= target)
}

/// The estimate of a function of the arms' times over interleaved rounds (see
/// [`ArmQuantiles`]): one estimator for the report and the gate.
pub fn estimate(samples: &[Vec<f64>], f: impl Fn(&[f64]) -> f64) -> Option<Estimate> {
    ArmQuantiles::of(samples)?.estimate(f)
}

/// `t(arm b) / t(arm a)` over interleaved rounds.
pub fn ratio(samples: &[Vec<f64>], a: usize, b: usize) -> Option<Estimate> {
    estimate(samples, |r| r[b] / r[a])
}

/// The count each probe process counts in `group` at `w` workers: the work of one job, so the
/// probe's map does the same work as the strategy's.
fn probe_count(group: Group, workloads: &Workloads, w: usize) -> u64 {
    match group.model() {
        Model::Strong => (workloads.count / w.max(1) as u64).max(1),
        _ => workloads.count,
    }
}

/// Where one benchmark's arms sit in a round.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Slots {
    /// `S@1`.
    one: usize,
    /// `S@w` (the same as `one` at 1 worker).
    many: usize,
    /// `sequential@w`, where it is in the rounds (and `S` is not `sequential`).
    sequential: Option<usize>,
    /// The probe at 1 and at `w` processes, each counting one job's work (w > 1, where a probe
    /// could start).
    probe: Option<(usize, usize)>,
}

/// The arms of a group's rounds: strategies' maps by id, probes by (processes, count), each once.
#[derive(Default)]
struct Arms {
    maps: Vec<BenchId>,
    probes: Vec<(usize, u64)>,
}

impl Arms {
    fn map(&mut self, id: BenchId) -> usize {
        match self.maps.iter().position(|m| *m == id) {
            Some(i) => i,
            None => {
                self.maps.push(id);
                self.maps.len() - 1
            }
        }
    }

    /// Probe arms are numbered after every map (call once the maps are all known).
    fn probe(&mut self, procs: usize, count: u64) -> usize {
        let i = match self.probes.iter().position(|p| *p == (procs, count)) {
            Some(i) => i,
            None => {
                self.probes.push((procs, count));
                self.probes.len() - 1
            }
        };
        i + self.maps.len()
    }
}

/// Measures `group`'s paired ratios for `ids` (its benchmarks this run measured): returns one
/// [`Paired`] per id.
///
/// One round samples every arm once, in alternating order (A B C … | … C B A): every chosen
/// benchmark, each strategy's 1-worker map, `sequential`'s map at the same counts and the
/// capacity probe at 1 and `w` processes. So every ratio the report states (a strategy against
/// itself at 1 worker, against `sequential` at the same count, against the cores the probe was
/// given) is a within-round ratio of the same rounds. Sampling stops once every ratio's interval
/// is within its target ([`SAME_WORK_TARGET`], [`SCALING_TARGET`]) or the budget is spent.
pub fn measure(
    group: Group,
    ids: &[BenchId],
    strategies: &Strategies,
    workloads: &Workloads,
    options: &Options,
    budget: Budget,
    rng: &mut fastrand::Rng,
) -> Result<Vec<(BenchId, Paired)>> {
    let seq = |w: usize| BenchId::new(group, StrategyKind::Sequential, w);
    let has_seq = strategies.get(seq(1).strategy).is_some();
    let mut arms = Arms::default();
    let mut slots: Vec<(BenchId, Slots)> = ids
        .iter()
        .map(|&id| {
            let one = arms.map(id.at_one());
            let many = arms.map(id);
            let sequential = (has_seq && id.strategy.as_str() != seq(1).strategy.as_str())
                .then(|| arms.map(seq(id.workers)));
            (
                id,
                Slots {
                    one,
                    many,
                    sequential,
                    probe: None,
                },
            )
        })
        .collect();
    // The probe needs a worker program (the `poolscale` binary, or a suite's own): without one,
    // the ratios are still paired, but not held to the cores given.
    let mut probes: Vec<Probe> = Vec::new();
    let mut probe_ok = true;
    for (id, slot) in slots.iter_mut().filter(|(id, _)| id.workers > 1) {
        let count = probe_count(group, workloads, id.workers);
        slot.probe = probe_ok.then(|| (arms.probe(1, count), arms.probe(id.workers, count)));
        while probe_ok && probes.len() < arms.probes.len() {
            let (procs, count) = arms.probes[probes.len()];
            match Probe::start(procs, count, options) {
                Ok(p) => probes.push(p),
                Err(_) => probe_ok = false,
            }
        }
    }
    if !probe_ok {
        probes.clear();
        for (_, slot) in slots.iter_mut() {
            slot.probe = None;
        }
    }
    crate::platform::interrupt::check()?;
    let mut maps = arms
        .maps
        .iter()
        .map(|&id| Prepared::start_in(strategies, id, workloads, options))
        .collect::<Result<Vec<_>>>()?;
    let mut all: Vec<&mut dyn Arm> = maps.iter_mut().map(|m| m as &mut dyn Arm).collect();
    all.extend(probes.iter_mut().map(|p| p as &mut dyn Arm));
    let plan = Plan {
        budget: budget.time,
        min_rounds: budget.min_rounds,
        check_every: 2,
        max_rounds: budget.max_rounds,
        sample_time: std::time::Duration::ZERO,
    };
    let n = all.len();
    let rounds = interleave(&mut all, Some(vec![1; n]), &plan, rng, |s| {
        ArmQuantiles::of(s).is_some_and(|q| {
            slots
                .iter()
                .all(|(id, slot)| paired_of(group, *id, workloads, &q, s.len(), slot).resolved(*id))
        })
    })?;
    let q = ArmQuantiles::of(&rounds.samples);
    Ok(slots
        .iter()
        .map(|(id, slot)| {
            let p = q.as_ref().map_or_else(Paired::default, |q| {
                paired_of(group, *id, workloads, q, rounds.samples.len(), slot)
            });
            (*id, p)
        })
        .collect())
}

impl Paired {
    /// Whether the ratios that the report states for `id` are within their targets.
    fn resolved(&self, id: BenchId) -> bool {
        if id.workers == 1 {
            self.vs_sequential
                .is_none_or(|_| resolved(self.vs_sequential, SAME_WORK_TARGET))
        } else {
            resolved(self.to_one, SCALING_TARGET)
                && self
                    .over_ideal_given
                    .is_none_or(|_| resolved(self.over_ideal_given, SCALING_TARGET))
        }
    }
}

/// The ratios of one benchmark from the rounds, its arms at `slot`.
fn paired_of(
    group: Group,
    id: BenchId,
    workloads: &Workloads,
    q: &ArmQuantiles,
    rounds: usize,
    slot: &Slots,
) -> Paired {
    let w = id.workers;
    let info = id.strategy.info();
    let Slots {
        one,
        many,
        sequential,
        probe,
    } = *slot;
    let given = |r: &[f64], (p1, pw): (usize, usize)| w as f64 * r[p1] / r[pw];
    Paired {
        to_one: (w > 1).then(|| q.estimate(|r| r[many] / r[one])).flatten(),
        cores_given: probe.and_then(|p| q.estimate(|r| given(r, p))),
        over_ideal_given: probe.and_then(|p| {
            q.estimate(|r| {
                crate::group::ideal_with_cores(
                    group,
                    &info,
                    w,
                    Some(r[one]),
                    given(r, p),
                    workloads,
                )
                .map_or(f64::NAN, |ideal| r[many] / ideal)
            })
        }),
        vs_sequential: sequential.and_then(|seq| q.estimate(|r| r[many] / r[seq])),
        rounds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_PROBE: Slots = Slots {
        one: 0,
        many: 1,
        sequential: None,
        probe: Some((2, 3)),
    };

    fn rows(rows: &[[f64; 4]]) -> Vec<Vec<f64>> {
        rows.iter().map(|r| r.to_vec()).collect()
    }

    fn of(group: Group, id: BenchId, s: &[Vec<f64>], slot: &Slots) -> Paired {
        let w = crate::results::settings::Settings::defaults().workloads();
        let q = ArmQuantiles::of(s).expect("rounds enough");
        paired_of(group, id, &w, &q, s.len(), slot)
    }

    #[test]
    fn drift_common_to_a_round_cancels_and_the_probe_holds_a_strategy_to_what_was_given() {
        let id = BenchId::new(Group::CountdownWeak, StrategyKind::Threads, 2);
        // The machine's speed swings 2x from round to round; within a round, threads at 2 take
        // 1.6x its 1-worker time while the probe at 2 takes 1.6x too: a neighbour took most of
        // a core, and threads used all that was left.
        let r: Vec<[f64; 4]> = (0..12)
            .map(|i| {
                let k = if i % 2 == 0 { 1.0 } else { 2.0 } * (1.0 + i as f64 / 100.0);
                [50.0 * k, 80.0 * k, 50.0 * k, 80.0 * k]
            })
            .collect();
        let p = of(Group::CountdownWeak, id, &rows(&r), &WITH_PROBE);
        let near = |e: Option<Estimate>, x: f64| e.is_some_and(|e| (e.point - x).abs() < 1e-9);
        assert!(near(p.to_one, 1.6), "{p:?}");
        assert!(near(p.cores_given, 2.0 / 1.6), "{p:?}");
        assert!(near(p.over_ideal_given, 1.0), "all it could: {p:?}");
        assert_eq!(p.rounds, 12);
        assert!(p.resolved(id), "exact ratios are resolved: {p:?}");
        // The same rounds without the probe: the ratio alone.
        let no_probe = Slots {
            probe: None,
            ..WITH_PROBE
        };
        let p = of(Group::CountdownWeak, id, &rows(&r), &no_probe);
        assert!(near(p.to_one, 1.6) && p.cores_given.is_none() && p.over_ideal_given.is_none());
    }

    #[test]
    fn a_serial_strategy_is_held_to_its_own_model_whatever_the_machine_gave() {
        let id = BenchId::new(Group::CountdownWeak, StrategyKind::Gil, 2);
        // gil at 2 takes twice one: its ideal (w × t1) whatever the cores.
        let r: Vec<[f64; 4]> = (0..12)
            .map(|i| [50.0, 100.0, 50.0, 50.0 + i as f64])
            .collect();
        let p = of(Group::CountdownWeak, id, &rows(&r), &WITH_PROBE);
        assert!(
            p.over_ideal_given
                .is_some_and(|e| (e.point - 1.0).abs() < 1e-9),
            "{p:?}"
        );
    }

    #[test]
    fn bursts_that_hit_single_samples_leave_the_estimate_and_steady_jitter_leaves_it_unresolved() {
        let id = BenchId::new(Group::CountdownWeak, StrategyKind::Rayon, 1);
        let slot = Slots {
            one: 0,
            many: 0,
            sequential: Some(1),
            probe: None,
        };
        // Arms: [rayon@1, sequential@1]; rayon costs 1% more. A neighbour's bursts double a
        // third of the samples, one arm at a time: per-round ratios scatter from 0.5 to 2.
        let hit = |i: usize, arm: usize| {
            if (i + arm).is_multiple_of(3) {
                2.0
            } else {
                1.0
            }
        };
        let r: Vec<Vec<f64>> = (0..12)
            .map(|i| vec![50.5 * hit(i, 0), 50.0 * hit(i, 1)])
            .collect();
        let p = of(Group::CountdownWeak, id, &r, &slot);
        assert!(p.to_one.is_none(), "no scaling ratio at 1 worker: {p:?}");
        let v = p.vs_sequential.expect("measured against sequential");
        assert!((v.point - 1.01).abs() < 1e-9, "{v:?}");
        assert!(p.resolved(id), "{p:?}");
        // Jitter on every sample (0-30%, each arm on its own): not resolved in 12 rounds.
        let mut rng = fastrand::Rng::with_seed(7);
        let r: Vec<Vec<f64>> = (0..12)
            .map(|_| {
                vec![
                    50.5 * (1.0 + 0.3 * rng.f64()),
                    50.0 * (1.0 + 0.3 * rng.f64()),
                ]
            })
            .collect();
        let p = of(Group::CountdownWeak, id, &r, &slot);
        let v = p.vs_sequential.expect("an estimate, with a wide interval");
        assert!(v.lower < v.point && v.point < v.upper, "{v:?}");
        assert!(!p.resolved(id), "{v:?}");
    }

    #[test]
    fn arms_are_shared_by_the_benchmarks_that_need_them() {
        let mut arms = Arms::default();
        let g = Group::CountdownWeak;
        let a = arms.map(BenchId::new(g, StrategyKind::Threads, 1));
        let b = arms.map(BenchId::new(g, StrategyKind::Threads, 2));
        assert_eq!(arms.map(BenchId::new(g, StrategyKind::Threads, 1)), a);
        assert_ne!(a, b);
        // Probes come after the maps, and one (processes, count) is one arm.
        let p = arms.probe(1, 100);
        assert_eq!(p, 2);
        assert_eq!(arms.probe(2, 100), 3);
        assert_eq!(arms.probe(1, 100), p);
        assert!(
            half_width(&Estimate {
                point: 1.0,
                lower: 0.98,
                upper: 1.02
            }) < 0.021
        );
    }
}
