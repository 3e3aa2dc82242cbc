//! Why a strategy stops scaling: Amdahl's law and Gunther's Universal Scalability Law fitted to
//! its speedup curve, with bootstrap intervals.
//!
//! - Amdahl: `S(w) = 1 / (s + (1 − s) / w)`; `s` is the serial fraction.
//! - USL: `S(w) = w / (1 + σ (w − 1) + κ w (w − 1))`; `σ` is contention (queueing for a shared
//!   resource: a lock, a channel, the GIL), `κ` coherency (the cost of keeping workers in step,
//!   which makes speedup fall past its peak at `sqrt((1 − σ) / κ)` workers).
//!
//! Both are linear after a change of variables, so they are fitted by least squares with no
//! iteration: `1/S − 1/w = s (1 − 1/w)` and `w/S − 1 = σ (w − 1) + κ w (w − 1)`, with σ, κ ≥ 0.
//! Only points with `w ≤ cores` are fitted: past the core count the OS time-slices workers and
//! the curve measures the machine, not the strategy. At least [`MIN_POINTS`] distinct worker
//! counts are needed (three parameters' worth of shape and one to spare); with fewer, [`fit`]
//! says why not.
//!
//! Intervals: a parametric bootstrap. Each resample draws every measured time from a log-normal
//! matching its 95% interval (the 1-worker time too, shared by all of a resample's speedups, as it
//! is in the data) and refits; the 2.5th and 97.5th percentiles of the refits bound the estimate.
//! The generator is seeded, so a report renders the same numbers every time.

use serde::{Deserialize, Serialize};

use crate::stats::Estimate;

/// Fewest distinct worker counts (with `w ≤ cores`, 1 included) a fit needs.
pub const MIN_POINTS: usize = 4;

/// Bootstrap resamples per fit.
pub const RESAMPLES: usize = 2000;

/// One measured time at a worker count, with its 95% interval (any unit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Worker count.
    pub workers: usize,
    /// The median time and its interval.
    pub time: Estimate,
}

/// How the speedup is derived from the times: strong scaling (`t1 / t`) or weak scaling, where
/// the work grows with `w` (`w · t1 / t`, the relative throughput).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    /// Fixed work: `t1 / t`.
    Strong,
    /// Work grows with `w`: `w · t1 / t`.
    Weak,
}

impl Scaling {
    /// How the scaling laws read `group`'s curve (from its model), or why they do not apply.
    pub fn of(group: crate::group::Group) -> Result<Scaling, &'static str> {
        use crate::group::Model;
        match group.model() {
            Model::Weak => Ok(Scaling::Weak),
            Model::Strong => Ok(Scaling::Strong),
            Model::Rounds => Err(
                "latency-bound: its speedup follows the rounds model ceil(tasks / w), not contention",
            ),
            Model::PerUnit => Err("reported per unit: there is no speedup curve to fit"),
        }
    }
}

/// The fitted laws and what they predict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Distinct worker counts fitted.
    pub points: Vec<usize>,
    /// Amdahl's serial fraction `s` (0: perfectly parallel, 1: serial).
    pub amdahl_serial: Estimate,
    /// USL contention `σ`.
    pub usl_sigma: Estimate,
    /// USL coherency `κ`.
    pub usl_kappa: Estimate,
    /// The USL's predicted speedup at twice and four times the cores: `(workers, speedup)`.
    pub predicted: Vec<(usize, Estimate)>,
}

/// A fit, or the reason there is none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitOutcome {
    /// Fitted.
    Fitted(Fit),
    /// Not fitted, and why.
    NotFitted(String),
}

/// Fits both laws to `points` (1 worker included) measured on `cores` cores.
pub fn fit(points: &[Point], scaling: Scaling, cores: usize) -> FitOutcome {
    let mut usable: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.workers >= 1 && p.workers <= cores && p.time.is_valid() && p.time.point > 0.0)
        .collect();
    usable.sort_by_key(|p| p.workers);
    usable.dedup_by_key(|p| p.workers);
    let counts: Vec<usize> = usable.iter().map(|p| p.workers).collect();
    if counts.first() != Some(&1) {
        return FitOutcome::NotFitted("no 1-worker time to scale from".into());
    }
    if counts.len() < MIN_POINTS {
        let list: Vec<String> = counts.iter().map(usize::to_string).collect();
        return FitOutcome::NotFitted(format!(
            "needs {MIN_POINTS} distinct worker counts ≤ the {cores} cores; this run has {} ({})",
            counts.len(),
            list.join(", ")
        ));
    }
    let speedups = |times: &[f64]| -> Vec<(f64, f64)> {
        let t1 = times[0];
        usable
            .iter()
            .zip(times)
            .map(|(p, &t)| {
                let w = p.workers as f64;
                let s = match scaling {
                    Scaling::Strong => t1 / t,
                    Scaling::Weak => w * t1 / t,
                };
                (w, s)
            })
            .collect()
    };
    let medians: Vec<f64> = usable.iter().map(|p| p.time.point).collect();
    let base = Laws::fit(&speedups(&medians));
    let targets = [2 * cores, 4 * cores];
    let mut rng = fastrand::Rng::with_seed(0x5eed_u64 ^ cores as u64);
    let mut draws: Vec<[f64; 5]> = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        let times: Vec<f64> = usable
            .iter()
            .map(|p| p.time.point * (log_sd(&p.time) * normal(&mut rng)).exp())
            .collect();
        let l = Laws::fit(&speedups(&times));
        draws.push([
            l.serial,
            l.sigma,
            l.kappa,
            l.usl(targets[0] as f64),
            l.usl(targets[1] as f64),
        ]);
    }
    let interval = |i: usize, point: f64| {
        let mut v: Vec<f64> = draws
            .iter()
            .map(|d| d[i])
            .filter(|x| x.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        let q = |f: f64| {
            v.get(((v.len() as f64 - 1.0) * f).round() as usize)
                .copied()
        };
        Estimate {
            point,
            lower: q(0.025).unwrap_or(point).min(point),
            upper: q(0.975).unwrap_or(point).max(point),
        }
    };
    FitOutcome::Fitted(Fit {
        points: counts,
        amdahl_serial: interval(0, base.serial),
        usl_sigma: interval(1, base.sigma),
        usl_kappa: interval(2, base.kappa),
        predicted: vec![
            (targets[0], interval(3, base.usl(targets[0] as f64))),
            (targets[1], interval(4, base.usl(targets[1] as f64))),
        ],
    })
}

/// The standard deviation of `ln(time)` implied by a 95% interval.
fn log_sd(e: &Estimate) -> f64 {
    if e.lower > 0.0 && e.upper > e.lower {
        (e.upper / e.lower).ln() / (2.0 * 1.959_964)
    } else {
        0.0
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut fastrand::Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Both laws' parameters fitted to `(w, speedup)` pairs.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Laws {
    serial: f64,
    sigma: f64,
    kappa: f64,
}

impl Laws {
    fn fit(pts: &[(f64, f64)]) -> Laws {
        // Amdahl: y = 1/S − 1/w = s · x with x = 1 − 1/w; least squares through the origin.
        let (mut sxy, mut sxx) = (0.0, 0.0);
        // USL: y = w/S − 1 = σ·a + κ·b with a = w − 1, b = w(w − 1).
        let (mut aa, mut ab, mut bb, mut ay, mut by) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(w, s) in pts {
            if !(s.is_finite() && s > 0.0) {
                continue;
            }
            let x = 1.0 - 1.0 / w;
            let y = 1.0 / s - 1.0 / w;
            sxy += x * y;
            sxx += x * x;
            let (a, b, y) = (w - 1.0, w * (w - 1.0), w / s - 1.0);
            aa += a * a;
            ab += a * b;
            bb += b * b;
            ay += a * y;
            by += b * y;
        }
        let serial = if sxx > 0.0 {
            (sxy / sxx).clamp(0.0, 1.0)
        } else {
            f64::NAN
        };
        // Non-negative least squares in two unknowns: the unconstrained solution if both are
        // non-negative, else the better of the two one-parameter fits (the other at zero).
        let det = aa * bb - ab * ab;
        let (mut sigma, mut kappa) = if det.abs() > 1e-12 {
            ((ay * bb - by * ab) / det, (by * aa - ay * ab) / det)
        } else {
            (f64::NAN, f64::NAN)
        };
        if !(sigma >= 0.0 && kappa >= 0.0) {
            let sse = |s: f64, k: f64| {
                pts.iter()
                    .filter(|(_, sp)| sp.is_finite() && *sp > 0.0)
                    .map(|&(w, sp)| {
                        let r = w / sp - 1.0 - s * (w - 1.0) - k * w * (w - 1.0);
                        r * r
                    })
                    .sum::<f64>()
            };
            let only_sigma = if aa > 0.0 { (ay / aa).max(0.0) } else { 0.0 };
            let only_kappa = if bb > 0.0 { (by / bb).max(0.0) } else { 0.0 };
            (sigma, kappa) = if sse(only_sigma, 0.0) <= sse(0.0, only_kappa) {
                (only_sigma, 0.0)
            } else {
                (0.0, only_kappa)
            };
        }
        Laws {
            serial,
            sigma,
            kappa,
        }
    }

    /// The USL's speedup at `w` workers.
    fn usl(&self, w: f64) -> f64 {
        w / (1.0 + self.sigma * (w - 1.0) + self.kappa * w * (w - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times that follow the USL exactly (strong scaling from t1 = 1 s), with ±1% intervals.
    fn usl_points(sigma: f64, kappa: f64, workers: &[usize], noise: f64) -> Vec<Point> {
        let l = Laws {
            serial: 0.0,
            sigma,
            kappa,
        };
        let mut rng = fastrand::Rng::with_seed(7);
        workers
            .iter()
            .map(|&w| {
                let t = 1e9 / l.usl(w as f64) * (1.0 + noise * (rng.f64() - 0.5));
                Point {
                    workers: w,
                    time: Estimate {
                        point: t,
                        lower: t * 0.99,
                        upper: t * 1.01,
                    },
                }
            })
            .collect()
    }

    #[test]
    fn recovers_known_contention_and_coherency() {
        for (sigma, kappa) in [(0.05, 0.002), (0.2, 0.0), (0.0, 0.01), (0.5, 0.001)] {
            let pts = usl_points(sigma, kappa, &[1, 2, 4, 8, 16], 0.0);
            let FitOutcome::Fitted(f) = fit(&pts, Scaling::Strong, 16) else {
                panic!("not fitted")
            };
            assert!((f.usl_sigma.point - sigma).abs() < 1e-6, "{f:?}");
            assert!((f.usl_kappa.point - kappa).abs() < 1e-6, "{f:?}");
            assert!(f.usl_sigma.lower <= sigma + 1e-9 && sigma <= f.usl_sigma.upper + 1e-9);
            assert!(f.usl_kappa.lower <= kappa + 1e-9 && kappa <= f.usl_kappa.upper + 1e-9);
            // The prediction at 32 workers is the law's own.
            let want = Laws {
                serial: 0.0,
                sigma,
                kappa,
            }
            .usl(32.0);
            assert_eq!(f.predicted[0].0, 32);
            assert!((f.predicted[0].1.point - want).abs() < 1e-6 * want);
            assert!(f.predicted[0].1.lower <= want && want <= f.predicted[0].1.upper * 1.0001);
        }
    }

    #[test]
    fn noisy_data_is_recovered_within_tolerance_and_amdahl_reads_the_serial_fraction() {
        let pts = usl_points(0.1, 0.001, &[1, 2, 3, 4, 6, 8, 12, 16], 0.02);
        let FitOutcome::Fitted(f) = fit(&pts, Scaling::Strong, 16) else {
            panic!()
        };
        assert!((f.usl_sigma.point - 0.1).abs() < 0.03, "{f:?}");
        assert!((f.usl_kappa.point - 0.001).abs() < 0.002, "{f:?}");
        // Pure Amdahl data (κ = 0): σ is the serial fraction.
        let pts = usl_points(0.25, 0.0, &[1, 2, 4, 8], 0.0);
        let FitOutcome::Fitted(f) = fit(&pts, Scaling::Strong, 8) else {
            panic!()
        };
        assert!((f.amdahl_serial.point - 0.25).abs() < 1e-6, "{f:?}");
    }

    #[test]
    fn weak_scaling_fits_throughput() {
        // Weak scaling: the time grows as w / S(w) when throughput follows the USL.
        let l = Laws {
            serial: 0.0,
            sigma: 0.1,
            kappa: 0.0,
        };
        let pts: Vec<Point> = [1usize, 2, 4, 8]
            .iter()
            .map(|&w| {
                let t = w as f64 / l.usl(w as f64);
                Point {
                    workers: w,
                    time: Estimate {
                        point: t,
                        lower: t,
                        upper: t,
                    },
                }
            })
            .collect();
        let FitOutcome::Fitted(f) = fit(&pts, Scaling::Weak, 8) else {
            panic!()
        };
        assert!((f.usl_sigma.point - 0.1).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn too_few_points_or_no_baseline_say_why() {
        let pts = usl_points(0.1, 0.0, &[1, 2, 3, 4, 8], 0.0);
        // On 2 cores only 1 and 2 are not oversubscribed.
        let FitOutcome::NotFitted(why) = fit(&pts, Scaling::Strong, 2) else {
            panic!()
        };
        assert!(
            why.contains("needs 4") && why.contains("has 2 (1, 2)"),
            "{why}"
        );
        let FitOutcome::NotFitted(why) = fit(&pts[1..], Scaling::Strong, 16) else {
            panic!()
        };
        assert!(why.contains("1-worker"), "{why}");
        assert!(matches!(
            fit(&[], Scaling::Strong, 4),
            FitOutcome::NotFitted(_)
        ));
    }

    #[test]
    fn degenerate_inputs_do_not_panic_or_go_negative() {
        // Superlinear data (every point faster than ideal) and flat data.
        for shape in [|w: f64| 1.0 / (w * w), |_w: f64| 1.0] {
            let pts: Vec<Point> = [1usize, 2, 3, 4]
                .iter()
                .map(|&w| {
                    let t = shape(w as f64);
                    Point {
                        workers: w,
                        time: Estimate {
                            point: t,
                            lower: t * 0.9,
                            upper: t * 1.1,
                        },
                    }
                })
                .collect();
            let FitOutcome::Fitted(f) = fit(&pts, Scaling::Strong, 4) else {
                panic!()
            };
            assert!(
                f.usl_sigma.point >= 0.0 && f.usl_kappa.point >= 0.0,
                "{f:?}"
            );
            assert!((0.0..=1.0).contains(&f.amdahl_serial.point), "{f:?}");
            assert!(f.usl_sigma.lower <= f.usl_sigma.point);
        }
        // Flat data is serial: σ = 1, s = 1.
        let pts: Vec<Point> = (1..=4)
            .map(|w| Point {
                workers: w,
                time: Estimate {
                    point: 1.0,
                    lower: 1.0,
                    upper: 1.0,
                },
            })
            .collect();
        let FitOutcome::Fitted(f) = fit(&pts, Scaling::Strong, 4) else {
            panic!()
        };
        assert!(
            (f.usl_sigma.point - 1.0).abs() < 1e-9 && (f.amdahl_serial.point - 1.0).abs() < 1e-9
        );
        // Invalid intervals are left out rather than fitted.
        let mut bad = pts.clone();
        bad[3].time.lower = f64::NAN;
        assert!(matches!(
            fit(&bad, Scaling::Strong, 4),
            FitOutcome::NotFitted(_)
        ));
    }
}
