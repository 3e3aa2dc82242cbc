//! Paired scaling: the ratios a report states (speedup, efficiency, measured/ideal, measured/ideal
//! with the cores given, one strategy against `sequential`), measured by interleaving in the bench
//! run itself, so the machine's drift cancels in them.
//!
//! Two Criterion medians taken seconds or minutes apart carry the machine's drift into their
//! quotient: on a shared 2-core machine beside a bursty neighbour, identical work measured 81%
//! apart that way. Here, for a strategy `S` at `w` workers, every round samples `S@1`, `S@w` and,
//! where a capacity probe can run, the probe at 1 and `w` (`w` independent processes counting with
//! no coordination: what the machine gives right now), in alternating order (A B C D | D C B A,
//! see [`crate::interleave`]). Each round gives the ratio `t(S@w) / t(S@1)`; the estimate is
//! Hodges–Lehmann over the rounds' ratios (on logs) with its 95% interval, the estimator
//! `gate --ab` and `gate --paired-invariants` use. The cores the machine gave during a round are
//! `w × t(P@1) / t(P@w)`, so "held to the cores given" is paired too. A strategy's 1-worker map is
//! also interleaved with `sequential`'s (the same work on one core): the paired same-work spread.
//!
//! The bench records each benchmark's [`Paired`] beside its CPU time
//! ([`crate::observe::Observed::paired`]); [`crate::analysis`] turns them into the report's ratios.

use crate::error::Result;
use crate::group::{BenchId, Group, Model, Workloads};
use crate::interleave::{Plan, Rounds, interleave};
use crate::measure::{Arm, Prepared};
pub use crate::observe::Paired;
use crate::probe::Probe;
use crate::stats::{Estimate, ratio_of_values};
use crate::strategy::{Options, Strategies, StrategyKind};

/// Rounds per pair in a full run, and with Criterion's `--quick`: 12 rounds give a 95% interval
/// of about ±1% on a quiet machine and a few percent beside a bursty neighbour.
pub const ROUNDS: usize = 12;
/// See [`ROUNDS`].
pub const QUICK_ROUNDS: usize = 6;

/// A plan of exactly `rounds` rounds (one map per sample: these maps take tens of ms).
fn plan(rounds: usize) -> Plan {
    Plan {
        budget: std::time::Duration::from_secs(3600),
        min_rounds: rounds,
        check_every: 1,
        max_rounds: rounds,
        sample_time: std::time::Duration::ZERO,
    }
}

/// The count each probe process counts in `group` at `w` workers: the work of one job, so the
/// probe's map does the same work as the strategy's.
fn probe_count(group: Group, workloads: &Workloads, w: usize) -> u64 {
    match group.model() {
        Model::Strong => (workloads.count / w.max(1) as u64).max(1),
        _ => workloads.count,
    }
}

/// The estimate of per-round values (Hodges–Lehmann on logs, 95%): one estimator for the report
/// and the gate.
pub fn per_round(samples: &[Vec<f64>], f: impl Fn(&[f64]) -> f64) -> Option<Estimate> {
    ratio_of_values(&samples.iter().map(|r| f(r)).collect::<Vec<_>>())
}

/// `t(arm b) / t(arm a)` per round.
pub fn ratio(samples: &[Vec<f64>], a: usize, b: usize) -> Option<Estimate> {
    per_round(samples, |r| r[b] / r[a])
}

/// Measures `group`'s paired ratios for `ids` (its benchmarks this run measured): returns one
/// [`Paired`] per id.
pub fn measure(
    group: Group,
    ids: &[BenchId],
    strategies: &Strategies,
    workloads: &Workloads,
    options: &Options,
    rounds: usize,
    rng: &mut fastrand::Rng,
) -> Result<Vec<(BenchId, Paired)>> {
    let plan = plan(rounds);
    let same_work = self::plan(2 * rounds);
    let mut out = Vec::new();
    let start = |id: BenchId| Prepared::start_in(strategies, id, workloads, options);
    // The probe needs a worker program (the `poolscale` binary, or a suite's own): without one,
    // the ratios are still paired, but not held to the cores given.
    let probe = |w: usize| Probe::start(w, probe_count(group, workloads, w), options).ok();
    for &id in ids.iter().filter(|id| id.workers > 1) {
        crate::interrupt::check()?;
        let one_id = BenchId::new(group, id.strategy, 1);
        let (mut one, mut many) = (start(one_id)?, start(id)?);
        let (mut p1, mut pw) = (probe(1), probe(id.workers));
        let rounds = match (p1.as_mut(), pw.as_mut()) {
            (Some(p1), Some(pw)) => {
                let arms: &mut [&mut dyn Arm] = &mut [&mut one, &mut many, p1, pw];
                interleave(arms, Some(vec![1; 4]), &plan, rng, |_| false)?
            }
            _ => {
                let arms: &mut [&mut dyn Arm] = &mut [&mut one, &mut many];
                interleave(arms, Some(vec![1; 2]), &plan, rng, |_| false)?
            }
        };
        out.push((id, paired_of(group, id, workloads, &rounds)));
    }
    for &id in ids
        .iter()
        .filter(|id| id.workers == 1 && id.strategy.as_str() != StrategyKind::Sequential.as_str())
    {
        let seq = BenchId::new(group, StrategyKind::Sequential, 1);
        if strategies.get(seq.strategy).is_none() {
            continue;
        }
        crate::interrupt::check()?;
        let (mut s, mut base) = (start(id)?, start(seq)?);
        let arms: &mut [&mut dyn Arm] = &mut [&mut base, &mut s];
        // Twice the rounds: two maps a round, and a difference of a percent or two to resolve.
        let r = interleave(arms, Some(vec![1; 2]), &same_work, rng, |_| false)?;
        out.push((
            id,
            Paired {
                vs_sequential: ratio(&r.samples, 0, 1),
                rounds: r.samples.len(),
                ..Paired::default()
            },
        ));
    }
    Ok(out)
}

/// The ratios of rounds of `[S@1, S@w]` or `[S@1, S@w, P@1, P@w]`.
fn paired_of(group: Group, id: BenchId, workloads: &Workloads, rounds: &Rounds) -> Paired {
    let s = &rounds.samples;
    let w = id.workers;
    let with_probe = s.first().is_some_and(|r| r.len() == 4);
    let info = id.strategy.info();
    let given = |r: &[f64]| w as f64 * r[2] / r[3];
    Paired {
        to_one: ratio(s, 0, 1),
        cores_given: with_probe.then(|| per_round(s, given)).flatten(),
        over_ideal_given: with_probe
            .then(|| {
                per_round(s, |r| {
                    crate::analysis::ideal_with_cores(
                        group,
                        &info,
                        w,
                        Some(r[0]),
                        given(r),
                        workloads,
                    )
                    .map_or(f64::NAN, |ideal| r[1] / ideal)
                })
            })
            .flatten(),
        vs_sequential: None,
        rounds: s.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interleave::Stop;

    fn rounds(rows: &[[f64; 4]]) -> Rounds {
        Rounds {
            samples: rows.iter().map(|r| r.to_vec()).collect(),
            iters: vec![1; 4],
            elapsed: std::time::Duration::ZERO,
            stop: Stop::MaxRounds,
        }
    }

    #[test]
    fn drift_common_to_a_round_cancels_and_the_probe_holds_a_strategy_to_what_was_given() {
        let w = crate::settings::Settings::defaults().workloads();
        let id = BenchId::new(Group::CountdownWeak, StrategyKind::Threads, 2);
        // The machine's speed swings 2x from round to round; within a round, threads at 2 take
        // 1.6x its 1-worker time while the probe at 2 takes 1.6x too: a neighbour took most of
        // a core, and threads used all that was left.
        let rows: Vec<[f64; 4]> = (0..12)
            .map(|i| {
                let k = if i % 2 == 0 { 1.0 } else { 2.0 } * (1.0 + i as f64 / 100.0);
                [50.0 * k, 80.0 * k, 50.0 * k, 80.0 * k]
            })
            .collect();
        let p = paired_of(Group::CountdownWeak, id, &w, &rounds(&rows));
        let near = |e: Option<Estimate>, x: f64| e.is_some_and(|e| (e.point - x).abs() < 1e-9);
        assert!(near(p.to_one, 1.6), "{p:?}");
        assert!(near(p.cores_given, 2.0 / 1.6), "{p:?}");
        assert!(near(p.over_ideal_given, 1.0), "all it could: {p:?}");
        assert_eq!(p.rounds, 12);
        // The same rounds without the probe: the ratio alone.
        let two: Vec<Vec<f64>> = rows.iter().map(|r| r[..2].to_vec()).collect();
        let r = Rounds {
            samples: two,
            ..rounds(&rows)
        };
        let p = paired_of(Group::CountdownWeak, id, &w, &r);
        assert!(near(p.to_one, 1.6) && p.cores_given.is_none() && p.over_ideal_given.is_none());
    }

    #[test]
    fn a_serial_strategy_is_held_to_its_own_model_whatever_the_machine_gave() {
        let w = crate::settings::Settings::defaults().workloads();
        let id = BenchId::new(Group::CountdownWeak, StrategyKind::Gil, 2);
        // gil at 2 takes twice one: its ideal (w × t1) whatever the cores.
        let rows: Vec<[f64; 4]> = (0..12)
            .map(|i| [50.0, 100.0, 50.0, 50.0 + i as f64])
            .collect();
        let p = paired_of(Group::CountdownWeak, id, &w, &rounds(&rows));
        assert!(
            p.over_ideal_given
                .is_some_and(|e| (e.point - 1.0).abs() < 1e-9),
            "{p:?}"
        );
    }
}
