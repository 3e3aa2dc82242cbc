//! Break-even task sizes, from the sweep [`crate::measure::sweep`] measured: below what work
//! per task does running tasks in parallel lose to running them in place, and from what size
//! does a pool come within reach of its ideal?
//!
//! [`BreakEven::of`] finds, per strategy and worker count, the task size at which the strategy
//! starts to beat `sequential` and the one at which it reaches [`NEAR_IDEAL`] of its ideal
//! speedup, each interpolated between the measured sizes (on log scales) with an interval from the
//! ratios' intervals; and [`predicted_ns`] gives what the same run's dispatch costs predict, to
//! set beside the measured one.

use serde::{Deserialize, Serialize};

use crate::measure::sweep::{MAP_TARGET, Sweep, usable};
use crate::stats::Estimate;
use crate::strategy::{StrategyKind, StrategyName};

/// The share of its ideal speedup a strategy is said to reach ("within reach of its ideal").
pub const NEAR_IDEAL: f64 = 0.9;

/// Fewest workers with a break-even: at 1 no pool can beat `sequential` (a ratio below 1 there
/// is noise), so the sweep's 1-worker points are drawn and read by `advise`, not searched.
pub const BREAK_EVEN_FROM_WORKERS: usize = 2;

/// Where a strategy's ratio over `sequential` falls below a threshold, as the task size grows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Crossing {
    /// Already below at the smallest size measured.
    BelowSmallest {
        /// The smallest size measured, ns.
        size_ns: f64,
    },
    /// Between two measured sizes: interpolated (log size against log ratio), with the sizes at
    /// which the ratio's interval bounds cross (`None`: beyond the sizes measured).
    At {
        /// Interpolated size, ns.
        size_ns: f64,
        /// Where the lower bound crosses (earliest), ns.
        lower_ns: Option<f64>,
        /// Where the upper bound crosses (latest), ns.
        upper_ns: Option<f64>,
    },
    /// Not below at the largest size measured.
    Never {
        /// The largest size measured, ns.
        size_ns: f64,
    },
}

impl Crossing {
    /// The size, ns, where it crosses (`None`: never).
    pub fn size_ns(&self) -> Option<f64> {
        match *self {
            Crossing::BelowSmallest { size_ns } | Crossing::At { size_ns, .. } => Some(size_ns),
            Crossing::Never { .. } => None,
        }
    }

    /// Where the values `ys` (one per size `xs`, ascending) fall below `threshold` for good: the
    /// last size at or above it and the next, interpolated on logs.
    fn of(xs: &[f64], ys: &[f64], threshold: f64) -> Option<Crossing> {
        if xs.is_empty() || xs.len() != ys.len() {
            return None;
        }
        let last_above = ys.iter().rposition(|&y| y >= threshold);
        Some(match last_above {
            None => Crossing::BelowSmallest { size_ns: xs[0] },
            Some(j) if j + 1 == xs.len() => Crossing::Never {
                size_ns: xs[xs.len() - 1],
            },
            Some(j) => {
                let (x0, x1) = (xs[j].ln(), xs[j + 1].ln());
                let (y0, y1) = (ys[j].ln(), ys[j + 1].ln());
                let t = ((y0 - threshold.ln()) / (y0 - y1)).clamp(0.0, 1.0);
                Crossing::At {
                    size_ns: (x0 + t * (x1 - x0)).exp(),
                    lower_ns: None,
                    upper_ns: None,
                }
            }
        })
    }

    /// The crossing of the points of `ratios`, with the crossings of their interval bounds.
    fn of_estimates(xs: &[f64], ratios: &[Estimate], threshold: f64) -> Option<Crossing> {
        let point: Vec<f64> = ratios.iter().map(|e| e.point).collect();
        let lower: Vec<f64> = ratios.iter().map(|e| e.lower).collect();
        let upper: Vec<f64> = ratios.iter().map(|e| e.upper).collect();
        let c = Crossing::of(xs, &point, threshold)?;
        Some(match c {
            Crossing::At { size_ns, .. } => Crossing::At {
                size_ns,
                // The lower bounds cross first, the upper bounds last.
                lower_ns: Crossing::of(xs, &lower, threshold)
                    .and_then(|c| c.size_ns())
                    .map(|v| v.min(size_ns)),
                upper_ns: Crossing::of(xs, &upper, threshold)
                    .and_then(|c| c.size_ns())
                    .map(|v| v.max(size_ns)),
            },
            other => other,
        })
    }
}

/// One strategy's break-even sizes at one worker count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakEven {
    /// The strategy.
    pub strategy: StrategyName,
    /// Worker count.
    pub workers: usize,
    /// Where it starts to beat `sequential` (time over `sequential`'s below 1).
    pub beats_sequential: Crossing,
    /// Where it reaches [`NEAR_IDEAL`] of its ideal speedup (absent for a strategy whose ideal
    /// is no speedup: `gil`, or one that does not run in parallel).
    pub near_ideal: Option<Crossing>,
    /// The ideal speedup over `sequential`: `min(workers, cores given)` for a strategy that
    /// computes in parallel (the cores' worth the machine gave around the sweep, its logical
    /// cores where not sampled), else 1.
    pub ideal_speedup: f64,
    /// The break-even the same run's dispatch costs predict, ns ([`predicted_ns`]); `None` where
    /// they were not measured or predict none.
    pub predicted_ns: Option<f64>,
}

impl BreakEven {
    /// Every strategy's break-evens at every count of `sweep`, predictions from `costs` (a
    /// strategy's cost per task and per map at a worker count, ns, where measured).
    pub fn of(
        sweep: &Sweep,
        costs: &dyn Fn(StrategyName, usize) -> Option<Costs>,
    ) -> Vec<BreakEven> {
        let mut keys: Vec<(StrategyName, usize)> = Vec::new();
        for p in &sweep.sizes {
            for a in &p.arms {
                if a.workers >= BREAK_EVEN_FROM_WORKERS && !keys.contains(&(a.strategy, a.workers))
                {
                    keys.push((a.strategy, a.workers));
                }
            }
        }
        keys.into_iter()
            .filter_map(|(strategy, workers)| {
                // The sizes where this arm and the task time were both estimated.
                let (xs, rs): (Vec<f64>, Vec<Estimate>) = sweep
                    .sizes
                    .iter()
                    .filter_map(|p| {
                        let x = p.task_ns.filter(usable)?.point;
                        let a = p
                            .arms
                            .iter()
                            .find(|a| a.strategy == strategy && a.workers == workers)?;
                        Some((x, a.vs_sequential.filter(usable)?))
                    })
                    .unzip();
                let info = strategy.info();
                // The ideal is held to the cores the machine gave around the sweep (its
                // nominal cores where not sampled): a machine giving 1.9 of 2 cores cannot give
                // a speedup of 2.
                let ideal_speedup = if info.computes_in_parallel {
                    (workers as f64).min(sweep.cores_given()).max(1.0)
                } else {
                    1.0
                };
                let mut beats_sequential = Crossing::of_estimates(&xs, &rs, 1.0)?;
                // A strategy whose ratio is below 1 beyond its interval at no size measured has
                // not been shown to beat `sequential` anywhere: a dip of noise is no break-even.
                if let Some(&x) = xs.last()
                    && rs.iter().all(|r| r.upper >= 1.0)
                {
                    beats_sequential = Crossing::Never { size_ns: x };
                }
                let near_ideal = (ideal_speedup > 1.0)
                    .then(|| Crossing::of_estimates(&xs, &rs, 1.0 / (NEAR_IDEAL * ideal_speedup)))
                    .flatten();
                Some(BreakEven {
                    strategy,
                    workers,
                    beats_sequential,
                    near_ideal,
                    ideal_speedup,
                    predicted_ns: predicted_ns(
                        ideal_speedup,
                        costs(strategy, workers),
                        costs(StrategyKind::Sequential.into(), 1),
                    ),
                })
            })
            .collect()
    }
}

/// A pool's dispatch costs at one worker count, ns: per task (the marginal cost) and per map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Costs {
    /// Cost per task.
    pub per_task: f64,
    /// Cost per map.
    pub per_map: f64,
}

/// The task size at which a pool of ideal speedup `k` should start to beat `sequential`, from
/// dispatch costs measured in the same run: a map of `N` tasks of `t` takes about
/// `N·t/k + N·d + F` (d the cost per task, F per map) against `sequential`'s `N·t + N·d₀ + F₀`;
/// with `N·t` = [`MAP_TARGET`] as in the sweep, they meet at
/// `t = (d − d₀) / (1 − 1/k − (F − F₀)/MAP_TARGET)`. `None` where a cost is missing or the
/// costs say it never pays off.
pub fn predicted_ns(k: f64, costs: Option<Costs>, sequential: Option<Costs>) -> Option<f64> {
    if k <= 1.0 {
        return None;
    }
    let (c, c0) = (costs?, sequential?);
    let denominator = 1.0 - 1.0 / k - (c.per_map - c0.per_map) / MAP_TARGET.as_nanos() as f64;
    let t = (c.per_task - c0.per_task).max(0.0) / denominator;
    (denominator > 0.0 && t.is_finite()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::sweep::{SizePoint, SweepArm};

    fn e(point: f64, half: f64) -> Estimate {
        Estimate::around(point, half)
    }

    #[test]
    fn a_crossing_is_interpolated_on_logs_between_the_last_size_above_and_the_next() {
        let xs = [100.0, 1_000.0, 10_000.0];
        // 2.0 at 100 ns, 1.0... then 0.5: the ratio falls below 1 between 1 µs and 10 µs, at
        // the geometric point where log(ratio) crosses 0.
        let c = Crossing::of(&xs, &[4.0, 2.0, 0.5], 1.0).unwrap();
        let Crossing::At { size_ns, .. } = c else {
            panic!("{c:?}")
        };
        // log-linear: ln 2 → ln 0.5 over one decade, crossing halfway: 10^3.5.
        assert!((size_ns - 10f64.powf(3.5)).abs() < 1e-6, "{size_ns}");
        assert_eq!(
            Crossing::of(&xs, &[0.9, 0.5, 0.4], 1.0),
            Some(Crossing::BelowSmallest { size_ns: 100.0 })
        );
        assert_eq!(
            Crossing::of(&xs, &[3.0, 2.0, 1.2], 1.0),
            Some(Crossing::Never { size_ns: 10_000.0 })
        );
        // A dip below 1 that comes back up does not count: it falls below for good after 10 µs.
        assert_eq!(
            Crossing::of(&xs, &[0.9, 1.1, 1.2], 1.0),
            Some(Crossing::Never { size_ns: 10_000.0 })
        );
    }

    #[test]
    fn the_interval_of_a_crossing_comes_from_the_ratios_bounds() {
        let xs = [100.0, 1_000.0, 10_000.0];
        let rs = [e(4.0, 0.5), e(2.0, 0.5), e(0.5, 0.1)];
        let Some(Crossing::At {
            size_ns,
            lower_ns: Some(lo),
            upper_ns: Some(hi),
        }) = Crossing::of_estimates(&xs, &rs, 1.0)
        else {
            panic!()
        };
        assert!(lo < size_ns && size_ns < hi, "{lo} {size_ns} {hi}");
        assert!(lo >= 1_000.0 && hi <= 10_000.0);
    }

    fn point(target_ns: u64, task_ns: f64, arms: &[(StrategyKind, usize, f64)]) -> SizePoint {
        SizePoint {
            target_ns,
            decrements: 1,
            tasks: 1,
            task_ns: Some(e(task_ns, 0.0)),
            rounds: 8,
            arms: arms
                .iter()
                .map(|&(s, w, r)| SweepArm {
                    strategy: s.into(),
                    workers: w,
                    vs_sequential: Some(e(r, 0.0)),
                })
                .collect(),
        }
    }

    #[test]
    fn break_evens_hold_each_strategy_to_its_own_ideal() {
        use StrategyKind::*;
        let sweep = Sweep {
            run_id: None,
            capacity: Vec::new(),
            cores: 2,
            workers: vec![2, 3],
            sizes: vec![
                point(
                    100,
                    100.0,
                    &[(Threads, 2, 2.0), (Processes, 2, 40.0), (Gil, 2, 1.5)],
                ),
                point(
                    10_000,
                    10_000.0,
                    &[(Threads, 2, 0.52), (Processes, 2, 2.0), (Gil, 2, 1.02)],
                ),
                point(
                    1_000_000,
                    1_000_000.0,
                    &[(Threads, 2, 0.50), (Processes, 2, 0.51), (Gil, 2, 1.01)],
                ),
            ],
        };
        let b = BreakEven::of(&sweep, &|_, _| None);
        let get = |s: StrategyKind| b.iter().find(|b| b.strategy == s).unwrap();
        let threads = get(Threads);
        assert!(
            matches!(threads.beats_sequential, Crossing::At { size_ns, .. } if size_ns > 100.0 && size_ns < 10_000.0)
        );
        // 90% of a speedup of 2: a ratio of 0.556 or below, reached by 10 µs.
        assert_eq!(threads.ideal_speedup, 2.0);
        assert!(
            matches!(threads.near_ideal, Some(Crossing::At { size_ns, .. }) if size_ns < 10_000.0)
        );
        assert!(
            matches!(get(Processes).beats_sequential, Crossing::At { size_ns, .. } if size_ns > 10_000.0)
        );
        // A lock that lets one worker compute at a time never beats `sequential`, and has no
        // speedup to come near.
        assert!(matches!(get(Gil).beats_sequential, Crossing::Never { .. }));
        assert_eq!(get(Gil).near_ideal, None);
    }

    #[test]
    fn points_no_log_scale_can_hold_are_left_out() {
        use StrategyKind::*;
        let mut bad = point(1_000, 1_000.0, &[(Threads, 2, 0.6)]);
        bad.task_ns = Some(e(f64::NAN, 0.0));
        let mut negative = point(3_000, 3_000.0, &[(Threads, 2, -0.5)]);
        negative.arms[0].vs_sequential = Some(e(-0.5, 0.1));
        let sweep = Sweep {
            run_id: None,
            capacity: Vec::new(),
            cores: 2,
            workers: vec![2],
            sizes: vec![
                point(100, 100.0, &[(Threads, 2, 2.0)]),
                bad,
                negative,
                point(10_000, 10_000.0, &[(Threads, 2, 0.5)]),
            ],
        };
        let b = BreakEven::of(&sweep, &|_, _| None);
        // Only 100 ns and 10 µs stand: the crossing lies between them.
        assert!(
            matches!(b[0].beats_sequential, Crossing::At { size_ns, .. } if size_ns > 100.0 && size_ns < 10_000.0),
            "{b:?}"
        );
    }

    #[test]
    fn the_prediction_weighs_per_task_costs_against_the_work_saved() {
        let c = |per_task: f64, per_map: f64| Some(Costs { per_task, per_map });
        // 100 ns more per task, half the work saved: 200 ns.
        let t = predicted_ns(2.0, c(103.0, 0.0), c(3.0, 0.0)).unwrap();
        assert!((t - 200.0).abs() < 1e-9, "{t}");
        // A fixed cost as large as the whole map: it never pays off.
        assert_eq!(predicted_ns(2.0, c(1_003.0, 20e6), c(3.0, 0.0)), None);
        // No speedup to win, or a cost not measured: no prediction.
        assert_eq!(predicted_ns(1.0, c(103.0, 0.0), c(3.0, 0.0)), None);
        assert_eq!(predicted_ns(2.0, None, c(3.0, 0.0)), None);
    }

    #[test]
    fn a_dip_of_noise_is_no_break_even_and_the_ideal_is_held_to_the_cores_given() {
        use StrategyKind::*;
        let mut sweep = Sweep {
            run_id: None,
            capacity: Vec::new(),
            cores: 2,
            workers: vec![2],
            sizes: vec![
                point(100, 100.0, &[(Gil, 2, 2.0), (Threads, 2, 1.5)]),
                point(1_000, 1_000.0, &[(Gil, 2, 1.1), (Threads, 2, 0.7)]),
                point(10_000, 10_000.0, &[(Gil, 2, 0.99), (Threads, 2, 0.53)]),
            ],
        };
        // gil's last ratio is 0.99 ± 0.03: within noise of 1.
        sweep.sizes[2].arms[0].vs_sequential = Some(e(0.99, 0.03));
        let b = BreakEven::of(&sweep, &|_, _| None);
        let get = |k: StrategyKind| b.iter().find(|b| b.strategy == k).unwrap();
        assert!(matches!(get(Gil).beats_sequential, Crossing::Never { .. }));
        // On 2 nominal cores threads' 0.53 is within 90% of 2× (0.556): near ideal by 10 µs.
        assert_eq!(get(Threads).ideal_speedup, 2.0);
        let nominal = get(Threads).near_ideal.unwrap().size_ns().unwrap();
        // A machine that gave 1.8 cores: the ideal is 1.8×, whose 90% (0.617) the ratio reaches at
        // a smaller task size than 90% of 2× (0.556).
        let given = |g: f64| crate::measure::probe::Capacity {
            at_unix_ms: 0,
            at: "breakeven start".into(),
            cores: 2,
            given: e(g, 0.0),
        };
        sweep.capacity = vec![given(1.8), given(1.8)];
        let b = BreakEven::of(&sweep, &|_, _| None);
        let threads = b.iter().find(|b| b.strategy == Threads).unwrap();
        assert!((threads.ideal_speedup - 1.8).abs() < 1e-9);
        let near = threads.near_ideal.unwrap().size_ns().unwrap();
        assert!(1_000.0 < near && near < nominal, "{near} {nominal}");
    }
}
