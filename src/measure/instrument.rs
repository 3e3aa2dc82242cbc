//! The instrument check: what one decrement of the countdown costs in each binary that runs it,
//! measured at the start and end of every measuring run.
//!
//! Every strategy runs the same countdown, so a difference between strategies is only a fact
//! about the strategies if the countdown costs the same wherever it runs. Its loop is pinned
//! machine code at a fixed alignment ([`crate::workload::placement`]), which removes the
//! code-layout effect that once made the same loop cost 0.39 or 0.91 ns per decrement depending
//! on where the linker put it. This check shows it held: each binary of a run (the bench binary
//! and its worker program; the two sides of `gate --ab`) times short bursts of the countdown, in
//! alternation with the others (A B B A …, so drift of the machine hits all alike), and the run
//! records each one's cost per decrement and the paired ratio between them. Two binaries of one
//! run that differ by more than [`TOLERANCE`] mark the run: their strategies' times are then
//! partly a difference of instruments.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::measure::probe::Probe;
use crate::stats::{Estimate, paired_ratio, ratio_of_values};
use crate::strategy::Options;
use crate::workload::Placement;

/// Decrements per burst: ~2-5 ms of counting, long next to a pipe's round trip (~20 µs).
pub const BURST: u64 = 5_000_000;
/// Bursts per binary in one calibration.
pub const BURSTS: usize = 12;
/// Two binaries whose cost per decrement differs by more than this mark the run.
pub const TOLERANCE: f64 = 0.05;

/// One binary's cost per decrement at one moment of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// What the binary is in the run: `bench`, `worker`, `old`, `new`, or a name given.
    pub role: String,
    /// Its path.
    pub program: PathBuf,
    /// When: `start` or `end` of the run.
    pub phase: String,
    /// Its countdown loop's placement, as the binary itself checked it.
    pub placement: Placement,
    /// Nanoseconds per decrement: Hodges–Lehmann over the bursts with its 95% interval.
    pub ns_per_decrement: Estimate,
    /// This binary's cost relative to the first binary of the calibration (paired by round;
    /// 1.0 for the first itself).
    pub relative: Estimate,
    /// Bursts timed.
    pub bursts: usize,
}

/// A binary that can time the countdown on request.
pub trait Burst {
    /// Times one burst of `n` decrements; returns nanoseconds and the binary's placement.
    fn burst(&mut self, n: u64) -> Result<(u64, Placement)>;
}

/// This very process.
pub struct ThisBinary;

impl Burst for ThisBinary {
    fn burst(&mut self, n: u64) -> Result<(u64, Placement)> {
        let t = Instant::now();
        std::hint::black_box(crate::workload::countdown(std::hint::black_box(n)));
        let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        Ok((ns, crate::workload::placement()))
    }
}

/// Another binary, as a capacity-probe process that times its own countdown.
pub struct ProbeBinary(Probe);

impl ProbeBinary {
    /// Starts `program` as one probe process counting `n` per burst.
    pub fn start(program: &Path, n: u64, options: &Options) -> Result<ProbeBinary> {
        let options = Options {
            worker_program: Some(program.to_path_buf()),
            ..options.clone()
        };
        // A program that is not a worker program (it exits, or prints something else, on its
        // first job) is named as such, not by the pipe error it causes.
        Probe::start(1, n, &options).map(ProbeBinary).map_err(|e| match e {
            Error::Interrupted => e,
            e => Error::invalid(
                "program",
                program.display().to_string(),
                format!(
                    "does not answer as a poolscale worker program (a `poolscale` binary, or one that calls `poolscale::bench::serve`): {e}"
                ),
            ),
        })
    }
}

impl Burst for ProbeBinary {
    fn burst(&mut self, _n: u64) -> Result<(u64, Placement)> {
        let a = self.0.round()?;
        let a = a.first().ok_or_else(|| {
            Error::invalid("probe", "answer", "a one-process probe answered nothing")
        })?;
        Ok((a.ns, a.placement))
    }
}

/// Times [`BURSTS`] bursts of [`BURST`] decrements in each of `binaries` (role, program, timer),
/// the order alternating round by round (A B, B A, …), and returns each one's calibration.
pub fn calibrate(
    phase: &str,
    binaries: &mut [(String, PathBuf, &mut dyn Burst)],
) -> Result<Vec<Calibration>> {
    let k = binaries.len();
    let mut ns = vec![Vec::with_capacity(BURSTS); k];
    let mut placement = vec![Placement::Unpinned; k];
    // One untimed burst each: code paged in, clocks up.
    for (_, _, b) in binaries.iter_mut() {
        b.burst(BURST)?;
    }
    for round in 0..BURSTS {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..k).collect()
        } else {
            (0..k).rev().collect()
        };
        for i in order {
            crate::platform::interrupt::check()?;
            let (t, p) = binaries[i].2.burst(BURST)?;
            if t == 0 {
                return Err(Error::invalid(
                    "calibration burst",
                    format!("{} ({})", binaries[i].0, binaries[i].1.display()),
                    "took 0 ns",
                ));
            }
            ns[i].push(t as f64 / BURST as f64);
            placement[i] = p;
        }
    }
    let mut out = Vec::with_capacity(k);
    for (i, (role, program, _)) in binaries.iter().enumerate() {
        let bad = || Error::invalid("calibration", role.as_str(), "no valid bursts");
        let pairs: Vec<(f64, f64)> = ns[0].iter().copied().zip(ns[i].iter().copied()).collect();
        out.push(Calibration {
            role: role.clone(),
            program: program.clone(),
            phase: phase.to_string(),
            placement: placement[i],
            ns_per_decrement: ratio_of_values(&ns[i]).ok_or_else(bad)?,
            relative: paired_ratio(&pairs).ok_or_else(bad)?,
            bursts: ns[i].len(),
        });
    }
    Ok(out)
}

/// Calibrates this binary (`role`, e.g. `bench`) against `program` (its worker program, role
/// `worker`), as a bench run does at its start and end.
pub fn calibrate_with_worker(
    role: &str,
    program: &Path,
    phase: &str,
    options: &Options,
) -> Result<Vec<Calibration>> {
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from(role));
    let mut this = ThisBinary;
    let mut worker = ProbeBinary::start(program, BURST, options)?;
    calibrate(
        phase,
        &mut [
            (role.to_string(), me, &mut this as &mut dyn Burst),
            ("worker".to_string(), program.to_path_buf(), &mut worker),
        ],
    )
}

/// The calibrations as table rows: when, binary, loop placement, ns per decrement and the cost
/// relative to the first binary, each with its 95% interval.
pub fn table_rows(calibrations: &[Calibration]) -> Vec<Vec<String>> {
    let est = |e: Estimate| format!("{:.3} [{:.3}, {:.3}]", e.point, e.lower, e.upper);
    calibrations
        .iter()
        .map(|c| {
            vec![
                c.phase.clone(),
                c.role.clone(),
                c.placement.as_str().into(),
                est(c.ns_per_decrement),
                est(c.relative),
            ]
        })
        .collect()
}

/// The header of [`table_rows`], the first binary named `first`.
pub fn table_header(first: &str) -> [String; 5] {
    [
        "when".into(),
        "binary".into(),
        "loop".into(),
        "ns/decrement [95% CI]".into(),
        format!("relative to {first}"),
    ]
}

/// What a set of calibrations says, for reports and the gate: the largest disagreement between
/// two binaries of one phase (as `max relative / min relative - 1`), and any binary whose loop is
/// not pinned.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The largest spread between binaries of one phase, as a fraction (0.03 = 3%).
    pub spread: f64,
    /// Whether some binary's cost, relative to the first binary's, lies beyond [`TOLERANCE`] with
    /// its whole 95% interval.
    pub differ: bool,
    /// Roles whose loop is not pinned (`broken` or `unpinned`).
    pub unpinned: Vec<String>,
}

/// Judges `calibrations` (see [`Verdict`]); `None` when there are none.
pub fn verdict(calibrations: &[Calibration]) -> Option<Verdict> {
    if calibrations.is_empty() {
        return None;
    }
    let mut spread: f64 = 0.0;
    let mut differ = false;
    let mut phases: Vec<&str> = calibrations.iter().map(|c| c.phase.as_str()).collect();
    phases.dedup();
    for phase in phases {
        let of_phase = || calibrations.iter().filter(move |c| c.phase == phase);
        let (lo, hi) = of_phase()
            .map(|c| c.relative.point)
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(r), h.max(r)));
        if lo > 0.0 && hi.is_finite() {
            spread = spread.max(hi / lo - 1.0);
        }
        // Marked only when a binary's whole interval lies beyond the tolerance: noise alone
        // does not mark a run.
        differ |= of_phase().any(|c| {
            c.relative.lower > 1.0 + TOLERANCE || c.relative.upper < 1.0 / (1.0 + TOLERANCE)
        });
    }
    let mut unpinned: Vec<String> = calibrations
        .iter()
        .filter(|c| c.placement != Placement::Pinned)
        .map(|c| c.role.clone())
        .collect();
    unpinned.sort();
    unpinned.dedup();
    Some(Verdict {
        spread,
        differ,
        unpinned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake binary whose bursts cost `ns_per` per decrement.
    struct Fake(f64, Placement);

    impl Burst for Fake {
        fn burst(&mut self, n: u64) -> Result<(u64, Placement)> {
            Ok(((n as f64 * self.0) as u64, self.1))
        }
    }

    #[test]
    fn calibration_measures_each_binary_and_the_ratio_between_them() {
        let mut a = Fake(0.4, Placement::Pinned);
        let mut b = Fake(0.8, Placement::Broken);
        let c = calibrate(
            "start",
            &mut [
                ("bench".into(), "a".into(), &mut a as &mut dyn Burst),
                ("worker".into(), "b".into(), &mut b),
            ],
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert!((c[0].ns_per_decrement.point - 0.4).abs() < 1e-6);
        assert!((c[1].ns_per_decrement.point - 0.8).abs() < 1e-6);
        assert!((c[1].relative.point - 2.0).abs() < 1e-6);
        assert_eq!(c[1].bursts, BURSTS);
        let v = verdict(&c).unwrap();
        assert!(v.differ && (v.spread - 1.0).abs() < 1e-6);
        assert_eq!(v.unpinned, ["worker"]);
    }

    #[test]
    fn binaries_that_agree_do_not_mark_the_run() {
        let mut a = Fake(0.4, Placement::Pinned);
        let mut b = Fake(0.41, Placement::Pinned);
        let c = calibrate(
            "end",
            &mut [
                ("old".into(), "a".into(), &mut a as &mut dyn Burst),
                ("new".into(), "b".into(), &mut b),
            ],
        )
        .unwrap();
        let v = verdict(&c).unwrap();
        assert!(!v.differ && v.unpinned.is_empty(), "{v:?}");
        assert_eq!(verdict(&[]), None);
    }

    #[test]
    fn this_binary_times_a_real_countdown() {
        let (ns, p) = ThisBinary.burst(100_000).unwrap();
        assert!(ns > 0);
        assert_ne!(p, Placement::Broken);
    }
}
