//! `poolscale gate`: fail CI on scaling regressions without crying wolf on a noisy machine.
//!
//! Five checks, chosen by [`GateMode`]:
//! - **A/B** ([`ab`]): two builds sampled in alternation, benchmark by benchmark; the ratio of
//!   paired samples, so drift common to both sides cancels. The recommended gate.
//! - **Paired invariants** ([`paired`]): facts that hold on any machine, measured live in
//!   alternating rounds and judged relative to a capacity probe.
//! - **Baseline**, **against** and **invariants** ([`DataChecks`]): Criterion's saved results,
//!   compared with the conservative interval of both medians. They cannot see the machine changing
//!   between the runs they compare.
//!
//! Every mode ends in one [`GateResult`], counted once by its [`Tally`]: exit status 0 nothing
//! regressed, 1 something regressed or an invariant failed (with `strict`, also a missing or
//! inconclusive benchmark), 2 the gate could not judge (nothing compared, invalid data, an
//! invariant without the points it needs).

pub mod ab;
mod criterion;
mod invariants;
pub(crate) mod layouts;
pub mod paired;
mod result;
pub(crate) mod sampling;
mod verdict;

use crate::error::Result;

pub use criterion::DataChecks;
pub use result::GateResult;
pub use verdict::{
    Bound, Check, CheckVerdict, Limits, Row, Thresholds, Verdict, change_verdict,
    parse_group_threshold, parse_percent,
};

/// Which comparison the gate makes.
#[derive(Clone, Debug)]
pub enum GateMode {
    /// Interleaved A/B of two builds (`--ab`).
    Ab(ab::AbConfig),
    /// The paired invariants, measured live (`--paired-invariants`).
    Paired(paired::PairedConfig),
    /// Checks on Criterion's saved results (`--baseline`, `--against`, `--invariants`).
    Data(DataChecks),
}

/// What `poolscale gate` does.
#[derive(Clone, Debug)]
pub struct GateConfig {
    /// The comparison.
    pub mode: GateMode,
    /// Missing, inconclusive or stale results fail the gate.
    pub strict: bool,
}

/// Runs the gate, telling `progress` what it is measuring (for stderr).
pub fn run(cfg: &GateConfig, progress: &mut dyn FnMut(&str)) -> Result<GateResult> {
    let mut result = GateResult {
        strict: cfg.strict,
        ..GateResult::default()
    };
    match &cfg.mode {
        GateMode::Ab(ab) => {
            let t0 = std::time::Instant::now();
            let outcome = ab::run(ab, &mut |k, n, id| {
                let spent = t0.elapsed().as_secs_f64();
                let left = if k > 1 {
                    format!(
                        ", ~{:.0} s left",
                        spent / (k - 1) as f64 * (n - k + 1) as f64
                    )
                } else {
                    String::new()
                };
                progress(&format!("[{k}/{n}] {id} ({spent:.0} s{left})"));
            })?;
            result.rows = outcome.rows;
            result.ab = outcome.details;
            result.instrument = outcome.instrument;
            if let Some(v) =
                crate::measure::instrument::verdict(&result.instrument).filter(|v| v.differ)
            {
                result.warnings.push(format!(
                    "the two sides' countdowns differ by {:.1}% per decrement: CPU-bound rows measure the two binaries' loops as well as the change",
                    v.spread * 100.0
                ));
            }
            if !outcome.instrument_measured {
                result.warnings.push(
                    "instrument check not measured: a side's build predates it (poolscale 0.4); \
                     countdown rows may differ by where each build's linker put the loop"
                        .into(),
                );
            }
        }
        GateMode::Paired(p) => {
            let mut k = 0;
            result.checks = paired::run(p, &mut |what| {
                k += 1;
                progress(&format!("[{k}] {what}"));
            })?;
        }
        GateMode::Data(d) => criterion::run(d, &mut result)?,
    }
    Ok(result)
}
