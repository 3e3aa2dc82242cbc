//! The interleaving driver: sample several [`Arm`]s in alternation, round after round, so that
//! the machine's drift hits every arm alike and cancels in within-round ratios.
//!
//! Rounds come in blocks of two: a random permutation of the arms, then the same permutation
//! reversed (A B | B A for two arms), so no arm is always first or last after another. Sampling
//! stops once the caller's rule says the question is decided (checked after [`Plan::min_rounds`]
//! and then every [`Plan::check_every`] rounds, to limit the cost of peeking), or when the time
//! budget is spent.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::measure::Arm;

/// How long to sample and when to look.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Wall time allowed for sampling (calibration included).
    pub budget: Duration,
    /// Rounds before the first look (at least [`crate::stats::MIN_N`] for an interval).
    pub min_rounds: usize,
    /// Look again every this many rounds.
    pub check_every: usize,
    /// Never more rounds than this.
    pub max_rounds: usize,
    /// Target wall time of one sample: an arm faster than this runs several iterations per sample.
    pub sample_time: Duration,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            budget: Duration::from_secs(6),
            min_rounds: 10,
            check_every: 4,
            max_rounds: 400,
            sample_time: Duration::from_millis(20),
        }
    }
}

/// Why sampling stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The caller's rule said the question was decided.
    Decided,
    /// The time budget ran out first.
    Budget,
    /// [`Plan::max_rounds`] rounds were taken.
    MaxRounds,
}

/// What the driver collected.
#[derive(Clone, Debug, PartialEq)]
pub struct Rounds {
    /// `samples[round][arm]`: time per iteration, ns.
    pub samples: Vec<Vec<f64>>,
    /// Iterations per sample, per arm.
    pub iters: Vec<u64>,
    /// Wall time spent, calibration included.
    pub elapsed: Duration,
    /// Why it stopped.
    pub stop: Stop,
}

impl Rounds {
    /// One arm's samples, ns per iteration, in round order.
    pub fn arm(&self, arm: usize) -> Vec<f64> {
        self.samples.iter().map(|r| r[arm]).collect()
    }

    /// `(a, b)` per round for arms `a` and `b`.
    pub fn pairs(&self, a: usize, b: usize) -> Vec<(f64, f64)> {
        self.samples.iter().map(|r| (r[a], r[b])).collect()
    }
}

/// Iterations per sample so that one sample of `arm` takes about `target`: one warm-up sample
/// (discarded), then one timed iteration.
pub fn calibrate(arm: &mut dyn Arm, target: Duration) -> Result<u64> {
    arm.sample(1)?;
    let one = arm.sample(1)?.as_nanos().max(1);
    Ok((target.as_nanos().div_ceil(one) as u64).clamp(1, 1_000_000))
}

/// Samples `arms` in alternating rounds until `decided(&samples)` or the plan's budget says stop.
/// `iters[i]` iterations per sample of arm `i` (calibrate first; `None`: calibrate here, and
/// give arms that measure the same thing the same count by passing it explicitly).
pub fn interleave(
    arms: &mut [&mut dyn Arm],
    iters: Option<Vec<u64>>,
    plan: &Plan,
    rng: &mut fastrand::Rng,
    mut decided: impl FnMut(&[Vec<f64>]) -> bool,
) -> Result<Rounds> {
    let t0 = Instant::now();
    let iters = match iters {
        Some(i) => i,
        None => arms
            .iter_mut()
            .map(|a| calibrate(&mut **a, plan.sample_time))
            .collect::<Result<Vec<_>>>()?,
    };
    let n = arms.len();
    let mut samples: Vec<Vec<f64>> = Vec::new();
    let mut order: Vec<usize> = (0..n).collect();
    let stop = loop {
        if samples.len() >= plan.max_rounds {
            break Stop::MaxRounds;
        }
        if samples.len().is_multiple_of(2) {
            rng.shuffle(&mut order);
        } else {
            order.reverse();
        }
        let mut round = vec![0.0; n];
        for &i in &order {
            let t = arms[i].sample(iters[i])?;
            round[i] = t.as_nanos() as f64 / iters[i] as f64;
        }
        samples.push(round);
        let k = samples.len();
        if k >= plan.min_rounds
            && (k - plan.min_rounds).is_multiple_of(plan.check_every.max(1))
            && decided(&samples)
        {
            break Stop::Decided;
        }
        // Stop between blocks of two rounds, so that every arm took every position equally.
        if k.is_multiple_of(2) && t0.elapsed() >= plan.budget {
            break Stop::Budget;
        }
    };
    Ok(Rounds {
        samples,
        iters,
        elapsed: t0.elapsed(),
        stop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arm whose time per iteration is `base × speed(t)`: a machine whose speed drifts.
    struct Drifting {
        base: f64,
        clock: std::rc::Rc<std::cell::Cell<f64>>,
        log: std::rc::Rc<std::cell::RefCell<Vec<u64>>>,
    }

    impl Arm for Drifting {
        fn label(&self) -> String {
            format!("drifting {}", self.base)
        }
        fn sample(&mut self, iters: u64) -> Result<Duration> {
            // The machine slows steadily, by 2x over 100 samples.
            let t = self.clock.get();
            self.clock.set(t + 1.0);
            self.log.borrow_mut().push(self.base as u64);
            let speed = 1.0 + t / 100.0;
            Ok(Duration::from_nanos(
                (self.base * speed * iters as f64) as u64,
            ))
        }
    }

    #[test]
    fn alternation_cancels_a_steady_drift() {
        let clock = std::rc::Rc::new(std::cell::Cell::new(0.0));
        let log = std::rc::Rc::default();
        let mut a = Drifting {
            base: 1e6,
            clock: clock.clone(),
            log: std::rc::Rc::clone(&log),
        };
        let mut b = Drifting {
            base: 1.1e6,
            clock: clock.clone(),
            log: std::rc::Rc::clone(&log),
        };
        let plan = Plan {
            budget: Duration::from_secs(3600),
            max_rounds: 40,
            ..Plan::default()
        };
        let mut rng = fastrand::Rng::with_seed(3);
        let rounds = interleave(
            &mut [&mut a, &mut b],
            Some(vec![1, 1]),
            &plan,
            &mut rng,
            |_| false,
        )
        .unwrap();
        assert_eq!(rounds.stop, Stop::MaxRounds);
        assert_eq!(rounds.samples.len(), 40);
        let e = crate::stats::paired_ratio(&rounds.pairs(0, 1)).unwrap();
        assert!((e.point - 1.1).abs() < 0.01, "{e:?}");
        // Each arm went first in exactly half the rounds: blocks of a permutation and its reverse.
        let log = log.borrow();
        assert_eq!(log.len(), 80);
        let a_first = log.chunks(2).filter(|r| r[0] == 1_000_000).count();
        assert_eq!(a_first, 20, "{log:?}");
        // Unpaired, the same drift makes a 10% change look like much more or much less.
        let (ta, tb) = (rounds.arm(0), rounds.arm(1));
        let unpaired =
            crate::stats::median(&tb[20..]).unwrap() / crate::stats::median(&ta[..20]).unwrap();
        assert!((unpaired - 1.1).abs() > 0.1, "{unpaired}");
    }

    #[test]
    fn stops_when_decided_and_reports_why() {
        let mut a = Drifting {
            base: 1e6,
            clock: std::rc::Rc::default(),
            log: std::rc::Rc::default(),
        };
        let plan = Plan::default();
        let mut rng = fastrand::Rng::with_seed(1);
        let mut looks = 0;
        let rounds = interleave(&mut [&mut a], None, &plan, &mut rng, |s| {
            looks += 1;
            s.len() >= 18
        })
        .unwrap();
        assert_eq!(rounds.stop, Stop::Decided);
        assert_eq!(rounds.samples.len(), 18, "looks at 10, 14, 18");
        assert_eq!(looks, 3);
        assert!(
            rounds.iters[0] >= 20,
            "1 ms per iteration, 20 ms per sample"
        );
    }
}
