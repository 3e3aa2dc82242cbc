//! The machine-independent invariants, listed once. The data gate (`--invariants`, on
//! Criterion's results) and the live gate (`--paired-invariants`, measured in alternating rounds
//! with a capacity probe) judge the same facts, each with its own measurement: which strategies a
//! fact is about, the cores it needs, its bound and the name of its row live here.

use super::{Bound, Check, CheckVerdict, Limits};
use crate::strategy::{StrategyKind, StrategyName};

/// One fact about scaling that holds on any machine with the cores it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invariant {
    /// countdown_weak: a strategy that computes in parallel keeps its efficiency at `w` workers.
    WeakEfficiency,
    /// countdown_weak: `gil` at `w` workers takes several times its 1-worker time (the seed's
    /// lesson).
    GilSerialises,
    /// square_sleep: every strategy within its bound of the rounds model's ideal.
    SquareNearIdeal,
}

/// How a gate measures the invariants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measured {
    /// From Criterion's medians of one run (`--invariants`).
    Data,
    /// Live, in alternating rounds with a capacity probe (`--paired-invariants`).
    Live,
}

impl Invariant {
    /// Every invariant, in the order the gates report them.
    pub const ALL: [Invariant; 3] = [
        Invariant::WeakEfficiency,
        Invariant::GilSerialises,
        Invariant::SquareNearIdeal,
    ];

    /// The strategies of `present` it is about. `gil`'s slowdown is the seed's lesson: the data
    /// gate asks for it even where the data lacks it (a missing row), the live gate only of a
    /// suite that has `gil`.
    pub fn strategies(self, present: &[StrategyName], how: Measured) -> Vec<StrategyName> {
        match self {
            Invariant::WeakEfficiency => present
                .iter()
                .copied()
                .filter(|s| s.computes_in_parallel())
                .collect(),
            Invariant::GilSerialises => {
                let gil: StrategyName = StrategyKind::Gil.into();
                (how == Measured::Data || present.contains(&gil))
                    .then_some(gil)
                    .into_iter()
                    .collect()
            }
            Invariant::SquareNearIdeal => present.to_vec(),
        }
    }

    /// The cores a machine needs for it to be judged at `workers` workers (`None`: any).
    pub fn needs_cores(self, workers: usize) -> Option<usize> {
        match self {
            Invariant::WeakEfficiency | Invariant::GilSerialises => Some(workers),
            Invariant::SquareNearIdeal => None,
        }
    }

    /// Its bound.
    pub fn bound(self, limits: &Limits, how: Measured) -> Bound {
        match (self, how) {
            (Invariant::WeakEfficiency, Measured::Data) => {
                Bound::AtLeast(limits.min_weak_efficiency)
            }
            (Invariant::WeakEfficiency, Measured::Live) => {
                Bound::AtLeast(limits.min_relative_efficiency)
            }
            (Invariant::GilSerialises, _) => Bound::AtLeast(limits.min_gil_slowdown),
            (Invariant::SquareNearIdeal, _) => Bound::AtMost(limits.max_square_ratio),
        }
    }

    /// Its row's name for `strategy` at `workers` workers.
    pub fn name(self, strategy: StrategyName, workers: usize, how: Measured) -> String {
        match (self, how) {
            (Invariant::WeakEfficiency, Measured::Data) => {
                format!("countdown_weak/{strategy} efficiency at {workers} workers")
            }
            (Invariant::WeakEfficiency, Measured::Live) => {
                format!("countdown_weak/{strategy} efficiency at {workers} workers / probe's")
            }
            (Invariant::GilSerialises, _) => {
                format!("countdown_weak/{strategy} {workers}-worker time / 1-worker time")
            }
            (Invariant::SquareNearIdeal, Measured::Data) => {
                format!("square_sleep/{strategy} worst measured/ideal")
            }
            (Invariant::SquareNearIdeal, Measured::Live) => {
                format!("square_sleep/{strategy} measured/ideal at {workers} workers")
            }
        }
    }

    /// The row of a machine with fewer than the cores it needs at `workers` (`None`: it has
    /// enough).
    pub fn skipped(
        self,
        strategy: StrategyName,
        workers: usize,
        cores: usize,
        limits: &Limits,
        how: Measured,
    ) -> Option<Check> {
        let need = self.needs_cores(workers)?;
        (cores < need).then(|| Check {
            check: self.name(strategy, workers, how),
            measured: None,
            lower: None,
            upper: None,
            bound: self.bound(limits, how).to_string(),
            verdict: CheckVerdict::Skipped,
            detail: Some(format!("needs {need}+ cores; this machine has {cores}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_invariant_is_about_the_strategies_its_fact_concerns() {
        let present: Vec<StrategyName> = StrategyKind::ALL.map(Into::into).to_vec();
        let names = |i: Invariant, how| -> Vec<String> {
            i.strategies(&present, how)
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        assert_eq!(
            names(Invariant::WeakEfficiency, Measured::Live),
            ["threads", "rayon", "crossbeam", "processes"]
        );
        assert_eq!(names(Invariant::GilSerialises, Measured::Live), ["gil"]);
        assert_eq!(names(Invariant::SquareNearIdeal, Measured::Data).len(), 6);
        // A suite without gil: the live gate does not ask, the data gate reports it missing.
        let no_gil: Vec<StrategyName> = vec![StrategyKind::Threads.into()];
        assert!(
            Invariant::GilSerialises
                .strategies(&no_gil, Measured::Live)
                .is_empty()
        );
        assert_eq!(
            Invariant::GilSerialises
                .strategies(&no_gil, Measured::Data)
                .len(),
            1
        );
        // One core: the CPU-bound facts are skipped, naming why; square_sleep is not.
        let l = Limits::default();
        let s = Invariant::WeakEfficiency
            .skipped(StrategyKind::Threads.into(), 2, 1, &l, Measured::Data)
            .unwrap();
        assert_eq!(s.verdict, CheckVerdict::Skipped);
        assert!(s.detail.unwrap().contains("needs 2+ cores"));
        assert!(
            Invariant::SquareNearIdeal
                .skipped(StrategyKind::Threads.into(), 3, 1, &l, Measured::Data)
                .is_none()
        );
        assert!(
            Invariant::WeakEfficiency
                .skipped(StrategyKind::Threads.into(), 2, 2, &l, Measured::Live)
                .is_none()
        );
    }
}
