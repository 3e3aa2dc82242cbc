//! Paired, capacity-relative invariants: facts about scaling measured live, robust to a machine
//! whose speed drifts and whose cores come and go.
//!
//! Each check samples its arms in alternating rounds ([`crate::measure::interleave`]) and judges within-round
//! ratios, so drift common to the arms cancels. The efficiency checks also sample, in the same
//! rounds, the [capacity probe](crate::measure::probe): `w` independent processes counting with no
//! coordination, i.e. what the machine can give at that moment. A strategy is judged on its
//! efficiency *relative to the probe's*: at 0.6 while the probe is also at 0.6 it has not
//! regressed (the machine lost part of a core); at 0.5 while the probe is at 0.98 it has.
//!
//! | check | arms per round | measured | pass | fail |
//! |---|---|---|---|---|
//! | `countdown_weak/S` relative efficiency (S computes in parallel) | S@1, S@w, probe@1, probe@w | `(t_S1/t_Sw) / (t_P1/t_Pw)` | lower bound ≥ floor | upper bound < floor |
//! | `countdown_weak/gil` serialises | gil@1, gil@w, probe@1, probe@w | `t_gw / t_g1` | lower bound ≥ min | upper bound < min |
//! | `square_sleep/S` near its ideal | every S@3 | `t / ideal` | upper bound ≤ max | lower bound > max |
//!
//! A check that needs spare capacity (the first two) is only *passed* when the probe shows enough
//! parallelism that a broken strategy would land on the failing side of the bound: a serialised
//! strategy scores `1 / (w × e_probe)` relative efficiency, so a pass needs `w × e_probe >
//! 1 / floor` cores (1.18 at the 0.85 floor); a gil that stopped serialising would show a
//! slowdown of `1 / e_probe`, so its pass needs `w × e_probe > w / min` (1.33 at 2 workers and
//! 1.5×). With one core to share, a serialised strategy and a parallel one look alike, and saying
//! "pass" would be a guess. Sampling goes on
//! until each check is decided or its budget is spent; then it is `inconclusive`, which does not
//! fail the gate unless `--strict`.

use std::time::Duration;

use super::invariants::{Invariant, Measured};
use super::{Bound, Check, CheckVerdict, Limits};
use crate::error::Result;
use crate::group::Workloads;
use crate::group::{BenchId, Group};
use crate::measure::interleave::{Plan, Rounds, interleave};
use crate::measure::probe::Probe;
use crate::measure::scaling::{estimate, ratio};
use crate::measure::{Arm, Prepared};
use crate::stats::Estimate;
use crate::strategy::{Options, Strategies, StrategyKind, StrategyName};

/// What the paired invariants measure, and how long each may take.
#[derive(Clone, Debug)]
pub struct PairedConfig {
    /// The jobs' knobs (count, nap, tasks).
    pub workloads: Workloads,
    /// Workers of the efficiency and gil checks (2: the seed's).
    pub workers: usize,
    /// Workers of the square_sleep check (3: the seed's Pool(3)).
    pub square_workers: usize,
    /// Sampling plan of each check (its budget is per check).
    pub plan: Plan,
    /// The bounds (the gate's one table; these checks read `min_relative_efficiency`,
    /// `min_gil_slowdown` and `max_square_ratio`).
    pub limits: Limits,
    /// Pool options (worker program, ...).
    pub options: Options,
    /// The strategies checked: the built-ins, or whatever suite the binary was built with.
    pub strategies: Strategies,
    /// Seed of the randomised sampling order.
    pub seed: u64,
}

/// Runs every paired invariant ([`Invariant::ALL`]), telling `progress` before each.
pub fn run(cfg: &PairedConfig, progress: &mut dyn FnMut(&str)) -> Result<Vec<Check>> {
    let mut rng = fastrand::Rng::with_seed(cfg.seed);
    let mut checks = Vec::new();
    let cores = num_cpus::get();
    let present = cfg.strategies.names();
    for inv in Invariant::ALL {
        let w = match inv {
            Invariant::SquareNearIdeal => cfg.square_workers,
            _ => cfg.workers,
        };
        let kinds = inv.strategies(&present, Measured::Live);
        if inv == Invariant::SquareNearIdeal {
            // Every strategy in the same rounds: one interleaved measurement for the list.
            progress(&format!("square_sleep measured/ideal at {w} workers"));
            checks.extend(square_near_ideal(cfg, &kinds, &mut rng)?);
            continue;
        }
        for kind in kinds {
            if let Some(skip) = inv.skipped(kind, w, cores, &cfg.limits, Measured::Live) {
                checks.push(skip);
                continue;
            }
            let name = inv.name(kind, w, Measured::Live);
            let bound = inv.bound(&cfg.limits, Measured::Live).to_string();
            progress(&name);
            checks.push(match inv {
                Invariant::WeakEfficiency => {
                    let (mut one, mut many) = countdown_arms(cfg, kind)?;
                    relative_efficiency(cfg, &mut one, &mut many, name, bound, &mut rng)?
                }
                _ => gil_serialises(cfg, name, bound, &mut rng)?,
            });
        }
    }
    Ok(checks)
}

/// Samples a strategy at 1 and `w` workers together with the probe at 1 and `w` (arms 0-3 of
/// every round).
fn sample_with_probe(
    cfg: &PairedConfig,
    one: &mut dyn Arm,
    many: &mut dyn Arm,
    rng: &mut fastrand::Rng,
    decided: impl FnMut(&[Vec<f64>]) -> bool,
) -> Result<Rounds> {
    let mut probe_one = Probe::start(1, cfg.workloads.count, &cfg.options)?;
    let mut probe_many = Probe::start(cfg.workers, cfg.workloads.count, &cfg.options)?;
    let arms: &mut [&mut dyn Arm] = &mut [one, many, &mut probe_one, &mut probe_many];
    interleave(arms, None, &cfg.plan, rng, decided)
}

/// The countdown_weak arms of a strategy of the suite at 1 and `cfg.workers` workers.
fn countdown_arms(
    cfg: &PairedConfig,
    kind: impl Into<StrategyName>,
) -> Result<(Prepared, Prepared)> {
    let kind = kind.into();
    let id = |w| BenchId::new(Group::CountdownWeak, kind, w);
    let start = |w| Prepared::start_in(&cfg.strategies, id(w), &cfg.workloads, &cfg.options);
    Ok((start(1)?, start(cfg.workers)?))
}

/// The probe's efficiency `t_P1 / t_Pw` per round.
fn probe_efficiency(samples: &[Vec<f64>]) -> Option<Estimate> {
    estimate(samples, |r| r[2] / r[3])
}

/// Whether the probe shows more than `cores` cores' worth of speedup (`w × t_P1 / t_Pw`): enough
/// spare capacity for a capacity-dependent pass.
fn has_capacity(probe: Option<Estimate>, workers: usize, cores: f64) -> bool {
    probe.is_some_and(|p| p.point * workers as f64 > cores)
}

/// The gate's judge on an estimate against a lower bound `min`, where a pass also needs the
/// machine to have shown spare capacity (without it a serialised strategy would pass too).
fn at_least(e: Option<Estimate>, min: f64, capacity: bool) -> Option<CheckVerdict> {
    match Bound::AtLeast(min).judge(e?) {
        Some(CheckVerdict::Pass) if !capacity => None,
        v => v,
    }
}

/// Rounds of `[S@1, S@w, probe@1, probe@w]` judged: the relative efficiency
/// `(t_S1 / t_Sw) / (t_P1 / t_Pw)` and its verdict (`None`: not decided yet).
fn relative_verdict(
    s: &[Vec<f64>],
    min: f64,
    workers: usize,
) -> (Option<Estimate>, Option<CheckVerdict>) {
    let rel = estimate(s, |r| (r[0] / r[1]) / (r[2] / r[3]));
    let capacity = has_capacity(probe_efficiency(s), workers, 1.0 / min);
    (rel, at_least(rel, min, capacity))
}

fn finish(
    name: String,
    bound: String,
    est: Option<Estimate>,
    verdict: Option<CheckVerdict>,
    detail: String,
) -> Check {
    Check {
        check: name,
        measured: est.map(|e| e.point),
        lower: est.map(|e| e.lower),
        upper: est.map(|e| e.upper),
        bound,
        verdict: verdict.unwrap_or(CheckVerdict::Inconclusive),
        detail: Some(detail),
    }
}

fn describe(rounds: &Rounds, probe: Option<Estimate>, workers: usize, extra: &str) -> String {
    let probe = probe.map_or_else(
        || "probe –".to_string(),
        |p| {
            format!(
                "probe {:.2} ({:.2} cores)",
                p.point,
                p.point * workers as f64
            )
        },
    );
    format!(
        "{extra}{probe}; {} rounds in {:.1} s{}",
        rounds.samples.len(),
        rounds.elapsed.as_secs_f64(),
        if rounds.stop == crate::measure::interleave::Stop::Decided {
            ""
        } else {
            ", budget spent"
        }
    )
}

/// The capacity-relative efficiency check of any strategy: `one` and `many` map its
/// countdown_weak jobs (`cfg.workloads.count` each) at 1 and `cfg.workers` workers.
pub fn relative_efficiency(
    cfg: &PairedConfig,
    one: &mut dyn Arm,
    many: &mut dyn Arm,
    name: String,
    bound: String,
    rng: &mut fastrand::Rng,
) -> Result<Check> {
    let min = cfg.limits.min_relative_efficiency;
    let w = cfg.workers;
    let judge = |s: &[Vec<f64>]| relative_verdict(s, min, w).1;
    let rounds = sample_with_probe(cfg, one, many, rng, |s| judge(s).is_some())?;
    let s = &rounds.samples;
    let own = estimate(s, |r| r[0] / r[1]);
    let own = own.map_or_else(String::new, |e| format!("own efficiency {:.2}, ", e.point));
    let probe = probe_efficiency(s);
    let (est, verdict) = relative_verdict(s, min, w);
    Ok(finish(
        name,
        bound,
        est,
        verdict,
        describe(&rounds, probe, w, &own),
    ))
}

fn gil_serialises(
    cfg: &PairedConfig,
    name: String,
    bound: String,
    rng: &mut fastrand::Rng,
) -> Result<Check> {
    let min = cfg.limits.min_gil_slowdown;
    let w = cfg.workers;
    let slowdown = |s: &[Vec<f64>]| ratio(s, 0, 1);
    // A gil that stopped serialising shows a slowdown of 1 / e_probe: a pass needs that below min.
    let needed = w as f64 / min;
    let judge = |s: &[Vec<f64>]| {
        at_least(
            slowdown(s),
            min,
            has_capacity(probe_efficiency(s), w, needed),
        )
    };
    let (mut one, mut many) = countdown_arms(cfg, StrategyKind::Gil)?;
    let rounds = sample_with_probe(cfg, &mut one, &mut many, rng, |s| judge(s).is_some())?;
    let s = &rounds.samples;
    Ok(finish(
        name,
        bound,
        slowdown(s),
        judge(s),
        describe(&rounds, probe_efficiency(s), w, ""),
    ))
}

fn square_near_ideal(
    cfg: &PairedConfig,
    kinds: &[StrategyName],
    rng: &mut fastrand::Rng,
) -> Result<Vec<Check>> {
    let max = cfg.limits.max_square_ratio;
    let w = cfg.square_workers;
    let mut prepared = Vec::new();
    let mut ideals = Vec::new();
    for &kind in kinds {
        prepared.push(Prepared::start_in(
            &cfg.strategies,
            BenchId::new(Group::SquareSleep, kind, w),
            &cfg.workloads,
            &cfg.options,
        )?);
        // `ideal_ns` needs no 1-worker time or core count for the rounds model.
        ideals.push(
            crate::group::ideal_ns(Group::SquareSleep, &kind.info(), w, None, 1, &cfg.workloads)
                .filter(|i| *i > 0.0),
        );
    }
    let est = |s: &[Vec<f64>], i: usize| -> Option<Estimate> {
        let ideal = ideals[i]?;
        estimate(s, |r| r[i] / ideal)
    };
    let judge = |e: Option<Estimate>| Bound::AtMost(max).judge(e?);
    let n = prepared.len();
    let rounds = {
        let mut arms: Vec<&mut dyn Arm> = prepared.iter_mut().map(|p| p as &mut dyn Arm).collect();
        interleave(&mut arms, Some(vec![1; n]), &cfg.plan, rng, |s| {
            (0..n).all(|i| judge(est(s, i)).is_some())
        })?
    };
    Ok(kinds
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let e = est(&rounds.samples, i);
            let verdict = if ideals[i].is_none() {
                Some(CheckVerdict::Missing)
            } else {
                judge(e)
            };
            finish(
                Invariant::SquareNearIdeal.name(kind, w, Measured::Live),
                Invariant::SquareNearIdeal
                    .bound(&cfg.limits, Measured::Live)
                    .to_string(),
                e,
                verdict,
                format!(
                    "{} rounds in {:.1} s",
                    rounds.samples.len(),
                    rounds.elapsed.as_secs_f64()
                ),
            )
        })
        .collect())
}

/// Default per-check budget: enough rounds to decide on a noisy 2-core machine.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds of `[S@1, S@2, probe@1, probe@2]` with the given per-round times (ns) and ±3%
    /// alternating noise.
    fn rounds(s1: f64, s2: f64, p1: f64, p2: f64) -> Vec<Vec<f64>> {
        (0..16)
            .map(|i| {
                let n = 1.0 + 0.03 * ((i % 4) as f64 - 1.5) / 1.5;
                vec![s1 * n, s2 / n, p1, p2 * n]
            })
            .collect()
    }

    #[test]
    fn a_serialised_strategy_fails_on_a_machine_with_two_cores() {
        let (est, v) = relative_verdict(&rounds(1.0, 2.0, 1.0, 1.02), 0.85, 2);
        assert_eq!(v, Some(CheckVerdict::Fail), "{est:?}");
        assert!(est.unwrap().point < 0.55);
    }

    #[test]
    fn a_machine_that_lost_part_of_a_core_does_not_fail_a_healthy_strategy() {
        // Both the strategy and the probe at efficiency 0.6: the machine, not the code.
        let (est, v) = relative_verdict(&rounds(1.0, 1.0 / 0.6, 1.0, 1.0 / 0.6), 0.85, 2);
        assert_eq!(v, Some(CheckVerdict::Pass), "{est:?}");
    }

    #[test]
    fn no_spare_capacity_means_no_pass() {
        // The probe got one core between two processes: serialised and parallel look alike.
        let (_, v) = relative_verdict(&rounds(1.0, 2.0, 1.0, 2.0), 0.85, 2);
        assert_eq!(v, None);
    }

    #[test]
    fn a_regressed_strategy_on_a_quiet_machine_fails() {
        // Efficiency 0.5 while the probe is at 0.98.
        let (_, v) = relative_verdict(&rounds(1.0, 2.0, 1.0, 1.0 / 0.98), 0.85, 2);
        assert_eq!(v, Some(CheckVerdict::Fail));
    }

    #[test]
    fn too_few_rounds_decide_nothing() {
        let r = rounds(1.0, 2.0, 1.0, 1.0);
        assert_eq!(relative_verdict(&r[..5], 0.85, 2), (None, None));
    }
}
