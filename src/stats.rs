//! Paired statistics for the gate: the estimate of a ratio between two things measured in
//! alternation, with an interval that does not assume normal noise.
//!
//! Why paired: on a shared machine the speed drifts by up to 2× over seconds to minutes, and two
//! runs minutes apart differ by more than any change worth catching. Sampling the two sides in
//! alternation (A B B A …) and taking the ratio *within* each pair cancels whatever drift is
//! common to both; what is left is the ratio's own noise.
//!
//! The estimator is Hodges–Lehmann on the log ratios (the median of all pairwise averages, the
//! "Walsh averages"), with the distribution-free confidence interval that inverts the Wilcoxon
//! signed-rank test. It assumes only that each log ratio is symmetric about its centre, is as
//! efficient as the mean under normal noise and shrugs off outliers (a sample hit by a burst of
//! load moves it by one rank, not by its size). Exact critical values for up to
//! [`EXACT_MAX_N`] pairs, the normal approximation beyond.

use serde::{Deserialize, Serialize};

/// A point estimate with its confidence interval, all in one unit (a ratio, ns, ...).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate.
    pub point: f64,
    /// Lower bound of the interval.
    pub lower: f64,
    /// Upper bound of the interval.
    pub upper: f64,
}

impl Estimate {
    /// Whether every number is finite and `lower <= point <= upper`.
    pub fn is_valid(&self) -> bool {
        [self.point, self.lower, self.upper]
            .iter()
            .all(|v| v.is_finite())
            && self.lower <= self.point
            && self.point <= self.upper
    }

    /// `point ± half`: the tests' shorthand for an interval.
    #[cfg(test)]
    pub fn around(point: f64, half: f64) -> Estimate {
        Estimate {
            point,
            lower: point - half,
            upper: point + half,
        }
    }

    /// The estimate mapped through a monotonic increasing function (e.g. `exp`).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Estimate {
        Estimate {
            point: f(self.point),
            lower: f(self.lower),
            upper: f(self.upper),
        }
    }
}

/// The interval's confidence level.
pub const CONFIDENCE: f64 = 0.95;

/// Up to this many values the Wilcoxon critical value is computed exactly.
pub const EXACT_MAX_N: usize = 60;

/// Fewest values for which a 95% signed-rank interval exists (with 5 the probability of the most
/// extreme rank sum is 1/32 > 2.5%).
pub const MIN_N: usize = 6;

/// Hodges–Lehmann location estimate of `xs` with its 95% Wilcoxon signed-rank interval.
/// `None` when there are fewer than [`MIN_N`] values or any is not finite.
pub fn hodges_lehmann(xs: &[f64]) -> Option<Estimate> {
    let n = xs.len();
    if n < MIN_N || xs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut walsh = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        for j in i..n {
            walsh.push((xs[i] + xs[j]) / 2.0);
        }
    }
    walsh.sort_by(f64::total_cmp);
    let m = walsh.len();
    let point = if m % 2 == 1 {
        walsh[m / 2]
    } else {
        (walsh[m / 2 - 1] + walsh[m / 2]) / 2.0
    };
    // The interval is [W_(c+1), W_(m-c)] (1-based), c the largest rank sum with
    // P(T <= c) <= (1 - CONFIDENCE) / 2 under the null.
    let c = signed_rank_critical(n, (1.0 - CONFIDENCE) / 2.0);
    Some(Estimate {
        point,
        lower: walsh[c],
        upper: walsh[m - 1 - c],
    })
}

/// The largest `c` with `P(T <= c) <= alpha`, `T` the Wilcoxon signed-rank statistic of `n`
/// values under the null hypothesis (each rank's sign a fair coin).
pub fn signed_rank_critical(n: usize, alpha: f64) -> usize {
    if n <= EXACT_MAX_N {
        // counts[s]: how many of the 2^n sign patterns give rank sum s.
        let max = n * (n + 1) / 2;
        let mut counts = vec![0f64; max + 1];
        counts[0] = 1.0;
        for k in 1..=n {
            for s in (k..=max).rev() {
                counts[s] += counts[s - k];
            }
        }
        let total = 2f64.powi(n as i32);
        let mut cum = 0.0;
        for (s, c) in counts.iter().enumerate() {
            cum += c / total;
            if cum > alpha {
                // P(T <= s-1) <= alpha < P(T <= s).
                return s.saturating_sub(1);
            }
        }
        max
    } else {
        let nf = n as f64;
        let mean = nf * (nf + 1.0) / 4.0;
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
        let z = normal_quantile(1.0 - alpha);
        (mean - z * sd).floor().max(0.0) as usize
    }
}

/// The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The ratio `after / before` of paired samples: Hodges–Lehmann on the log ratios, mapped back.
/// `None` with fewer than [`MIN_N`] pairs or any time not positive and finite.
pub fn paired_ratio(pairs: &[(f64, f64)]) -> Option<Estimate> {
    let logs: Option<Vec<f64>> = pairs
        .iter()
        .map(|&(before, after)| {
            (before > 0.0 && after > 0.0 && before.is_finite() && after.is_finite())
                .then(|| (after / before).ln())
        })
        .collect();
    hodges_lehmann(&logs?).map(|e| e.map(f64::exp))
}

/// The estimate of values that are all ratios (e.g. one per round): Hodges–Lehmann on their logs.
pub fn ratio_of_values(values: &[f64]) -> Option<Estimate> {
    let logs: Option<Vec<f64>> = values
        .iter()
        .map(|&v| (v > 0.0 && v.is_finite()).then(|| v.ln()))
        .collect();
    hodges_lehmann(&logs?).map(|e| e.map(f64::exp))
}

/// Relative half-width of a ratio's interval: `sqrt(upper / lower) - 1` (symmetric on logs).
pub fn half_width(e: &Estimate) -> f64 {
    if e.is_valid() && e.lower > 0.0 {
        (e.upper / e.lower).sqrt() - 1.0
    } else {
        f64::INFINITY
    }
}

/// The quantile each arm is read at by [`ArmQuantiles`]: its fastest twentieth.
///
/// On a shared machine, noise only ever adds time (a neighbour's burst, a migration, an
/// interrupt), in bursts that hit single samples rather than whole rounds: a per-round ratio then
/// compares a hit sample with a clean one as often as two clean ones, and its scatter does not
/// shrink with pairing. A low quantile of each arm, read over the *same* interleaved rounds, is
/// the time of the moments the machine did not interrupt, and both arms' samples come from the
/// same moments, so slow drift still falls on both (BenchmarkTools.jl reads the minimum for the
/// same reason; a twentieth is as robust to bursts and, unlike the minimum, has a usable
/// bootstrap).
///
/// Why not a tenth: beside a steady neighbour (one busy loop on a 2-core machine), a 2-worker
/// map's times are two modes, the moments the scheduler gave it 1.33 cores and those it gave 1,
/// and the fast mode held 8-25% of an arm's samples. A tenth fell inside the fast mode for some
/// arms and between the modes for others, so that strategies doing the same work read 0.86 to
/// 1.16 of their ideal in one run; a twentieth stayed in the fast mode (0.98 to 1.01 on the
/// same rounds). On quiet rounds the two agree within 1%.
pub const LOW_QUANTILE: f64 = 0.05;

/// Bootstrap resamples of [`ArmQuantiles`].
pub const RESAMPLES: usize = 500;

/// The `p`-quantile of `xs` (linear interpolation between order statistics); sorts `xs`.
pub fn quantile(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let k = p * (xs.len() - 1) as f64;
    let i = k.floor() as usize;
    let f = k - i as f64;
    Some(match xs.get(i + 1) {
        Some(next) => xs[i] * (1.0 - f) + next * f,
        None => xs[i],
    })
}

/// Each arm's [`LOW_QUANTILE`] over interleaved rounds (`samples[round][arm]`), and the same
/// over [`RESAMPLES`] bootstrap resamples of whole rounds (a round stays together, so what a
/// round shared stays shared): the estimate of any function of the arms' times, with a 95%
/// percentile interval. Deterministic: the resampling is seeded.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmQuantiles {
    point: Vec<f64>,
    resampled: Vec<Vec<f64>>,
}

impl ArmQuantiles {
    /// `None` with fewer than [`MIN_N`] rounds, rounds of unequal length or any time not
    /// positive and finite.
    pub fn of(samples: &[Vec<f64>]) -> Option<ArmQuantiles> {
        let n = samples.len();
        let arms = samples.first()?.len();
        if n < MIN_N
            || samples
                .iter()
                .any(|r| r.len() != arms || r.iter().any(|v| !(v.is_finite() && *v > 0.0)))
        {
            return None;
        }
        let mut column = vec![0.0; n];
        let mut quantiles = |pick: &[usize]| -> Vec<f64> {
            (0..arms)
                .map(|a| {
                    for (c, &i) in column.iter_mut().zip(pick) {
                        *c = samples[i][a];
                    }
                    quantile(&mut column, LOW_QUANTILE).unwrap_or(f64::NAN)
                })
                .collect()
        };
        let all: Vec<usize> = (0..n).collect();
        let point = quantiles(&all);
        let mut rng = fastrand::Rng::with_seed(0x5ca1_ab1e);
        let mut pick = vec![0; n];
        let resampled = (0..RESAMPLES)
            .map(|_| {
                for p in pick.iter_mut() {
                    *p = rng.usize(..n);
                }
                quantiles(&pick)
            })
            .collect();
        Some(ArmQuantiles { point, resampled })
    }

    /// Rounds' arms' quantiles, as `f` reads them (`f(&[q_arm0, q_arm1, ...])`), with the 95%
    /// interval of `f` over the resamples. `None` where `f` is not positive and finite.
    pub fn estimate(&self, f: impl Fn(&[f64]) -> f64) -> Option<Estimate> {
        let point = f(&self.point);
        let ok = |v: &f64| v.is_finite() && *v > 0.0;
        if !ok(&point) {
            return None;
        }
        let mut boot: Vec<f64> = self.resampled.iter().map(|q| f(q)).filter(ok).collect();
        // A function that fails on many resamples has no interval worth stating.
        if boot.len() * 10 < self.resampled.len() * 9 {
            return None;
        }
        let lower = quantile(&mut boot, (1.0 - CONFIDENCE) / 2.0)?;
        let upper = quantile(&mut boot, 1.0 - (1.0 - CONFIDENCE) / 2.0)?;
        Some(Estimate {
            point,
            lower: lower.min(point),
            upper: upper.max(point),
        })
    }
}

/// The median of `xs` (`None` if empty).
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len();
    Some(if m % 2 == 1 {
        v[m / 2]
    } else {
        (v[m / 2 - 1] + v[m / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normal noise from uniform draws (Box–Muller).
    fn normal(rng: &mut fastrand::Rng) -> f64 {
        let u1 = rng.f64().max(1e-12);
        let u2 = rng.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    #[test]
    fn critical_values_match_published_tables() {
        // Two-sided 5% critical values of the signed-rank statistic (e.g. Wilcoxon 1947 tables):
        // n=6: 0, n=10: 8, n=20: 52, n=30: 137.
        assert_eq!(signed_rank_critical(6, 0.025), 0);
        assert_eq!(signed_rank_critical(10, 0.025), 8);
        assert_eq!(signed_rank_critical(20, 0.025), 52);
        assert_eq!(signed_rank_critical(30, 0.025), 137);
        // The normal approximation continues the exact values smoothly.
        let exact = signed_rank_critical(60, 0.025) as f64;
        let nf = 60.0f64;
        let approx =
            nf * (nf + 1.0) / 4.0 - 1.96 * (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
        assert!((exact - approx).abs() <= 2.0, "{exact} vs {approx}");
    }

    #[test]
    fn too_few_or_bad_values_give_no_estimate() {
        assert!(hodges_lehmann(&[1.0; 5]).is_none());
        assert!(hodges_lehmann(&[1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN]).is_none());
        assert!(paired_ratio(&[(1.0, 0.0); 8]).is_none());
        assert!(paired_ratio(&[(-1.0, 1.0); 8]).is_none());
        let e = hodges_lehmann(&[1.0; 6]).unwrap();
        assert_eq!((e.point, e.lower, e.upper), (1.0, 1.0, 1.0));
    }

    #[test]
    fn drift_common_to_both_sides_cancels() {
        // The machine's speed wanders over 2x across the run; the change is +15%.
        let mut rng = fastrand::Rng::with_seed(7);
        let mut pairs = Vec::new();
        let mut speed: f64 = 1.0;
        for _ in 0..40 {
            speed = (speed * (1.0 + 0.3 * (rng.f64() - 0.5))).clamp(0.5, 2.0);
            let before = 40e6 * speed * (1.0 + 0.02 * normal(&mut rng));
            let after = 40e6 * 1.15 * speed * (1.0 + 0.02 * normal(&mut rng));
            pairs.push((before, after));
        }
        let e = paired_ratio(&pairs).unwrap();
        assert!(e.is_valid());
        assert!((e.point - 1.15).abs() < 0.02, "{e:?}");
        assert!(e.lower > 1.10 && e.upper < 1.20, "{e:?}");
        // The unpaired ratio of medians is thrown far off by the same drift.
        let b: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let a: Vec<f64> = pairs[20..].iter().map(|p| p.1).collect();
        let unpaired = median(&a).unwrap() / median(&b[..20]).unwrap();
        assert!((unpaired - 1.15).abs() > (e.point - 1.15).abs());
    }

    #[test]
    fn the_interval_covers_the_true_ratio_about_95_percent_of_the_time() {
        let mut rng = fastrand::Rng::with_seed(11);
        let trials = 400;
        let mut covered = 0;
        for t in 0..trials {
            let truth = 1.0 + 0.05 * (t % 7) as f64;
            let n = 8 + t % 30;
            let pairs: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    let drift = 1.0 + rng.f64();
                    let b = drift * (1.0 + 0.05 * normal(&mut rng)).max(0.1);
                    let a = truth * drift * (1.0 + 0.05 * normal(&mut rng)).max(0.1);
                    (b, a)
                })
                .collect();
            let e = paired_ratio(&pairs).unwrap();
            if e.lower <= truth && truth <= e.upper {
                covered += 1;
            }
        }
        let rate = covered as f64 / trials as f64;
        assert!((0.91..=0.995).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn an_outlier_moves_the_estimate_by_a_rank_not_by_its_size() {
        let mut xs: Vec<f64> = (0..20).map(|i| 1.0 + 0.001 * i as f64).collect();
        let before = hodges_lehmann(&xs).unwrap();
        xs[3] = 1000.0;
        let after = hodges_lehmann(&xs).unwrap();
        assert!(
            (after.point - before.point).abs() < 0.01,
            "{before:?} {after:?}"
        );
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
