//! poolscale: how does each way of running work in parallel scale with the number of workers,
//! and why?
//!
//! The seed's two workloads ([`workload`]) run under six strategies ([`strategy::StrategyKind`])
//! or yours ([`strategy::Strategies`]); Criterion measures them (`benches/scaling.rs`, one call
//! of [`bench::suite`]). The `poolscale` command line ([`main_with`]) turns Criterion's results
//! into tables, charts and exports (`report`), fails CI on scaling regressions (`gate`) and
//! re-enacts the original Python programs (`seed`). The countdown every strategy runs is pinned
//! machine code ([`workload::placement`]), and every measuring run checks it (`calibrate`).
//!
//! # What is stable
//!
//! This is the one list of what is public and stable under semver (breaking one of these is a
//! major version; the README and `docs/own-pool.md` refer here):
//!
//! - [`Strategy`], [`Outcome`], [`strategy::Started`], [`strategy::Observer`],
//!   [`strategy::verify`]: implementing a pool and checking it against `sequential`;
//! - [`strategy::Strategies`] and its [`strategy::Entry`], [`strategy::StrategyInfo`] (it may
//!   gain fields: build it with `..*StrategyKind::Threads.info()`), [`StrategyKind`],
//!   [`strategy::StrategyName`] (a name with its facts): naming and declaring strategies;
//! - [`Options`] (build it with `..Options::default()`), its [`strategy::StartMethod`] and its
//!   [`Cancel`] token;
//! - [`Job`], [`workload::register`], [`workload::Workload`], [`workload::square_jobs`],
//!   [`workload::countdown_jobs`]: what a pool runs;
//! - [`workload::placement`] and [`workload::Placement`]: whether the countdown's loop is pinned
//!   in this binary;
//! - [`main_with`]: the `poolscale` command line in a binary of yours, knowing your strategies;
//! - `bench::{suite, config, serve, placement_of}` (feature `bench`, on by default): a crate's
//!   own benches, sampling side and instrument check;
//! - [`Error`] and [`Result`];
//! - outside the API: the bench ids `group/strategy/workers`, the CLI's commands, flags and exit
//!   codes, and the files with a `schema_version` (`results.json`, the settings and observations
//!   files).
//!
//! Nothing else is public (the `poolscale` binary itself is one call of [`main_with`]). The
//! integration tests and the examples reach the rest through one hidden module, `internal`,
//! which may change in any release.
#![deny(unsafe_code)]

// The stages, in the order the data flows through them: error, limits, units, escape, stats,
// platform, workload, strategy, group, measure, results, analysis, report, gate, advise, seed,
// hidden, bench, cli. Each imports only the stages before it (`tests/layering.rs` holds the crate
// to it, and lists them in that order).
mod advise;
mod analysis;
#[cfg(feature = "bench")]
pub mod bench;
mod cli;
mod error;
mod escape;
mod gate;
mod group;
mod hidden;
mod limits;
mod measure;
mod platform;
mod report;
mod results;
mod seed;
mod stats;
pub mod strategy;
mod units;
pub mod workload;

pub use cli::main_with;
pub use error::{Error, Result};
pub use platform::interrupt::Cancel;
pub use strategy::{Options, Outcome, Strategy, StrategyKind};
pub use workload::Job;

/// What the integration tests and the examples use beyond the stable API above. Not part of it:
/// it may change in any release.
#[doc(hidden)]
pub mod internal {
    pub use crate::gate::ab::RESTART_EVERY;
    pub use crate::gate::paired::{PairedConfig, relative_efficiency};
    pub use crate::gate::{CheckVerdict, Limits};
    pub use crate::group::Workloads;
    pub use crate::measure::Prepared;
    pub use crate::measure::cpu::{CpuTime, Usage};
    pub use crate::measure::interleave::Plan;
    pub use crate::measure::probe::{Probe, capacity};
    pub use crate::measure::scaling::Paired;
    pub use crate::measure::sweep::{SizePoint, Sweep, SweepArm};
    pub use crate::measure::timeline::Timeline;
    pub use crate::report::{Report, ideal_ns};
    pub use crate::results::observe::{Observations, Observed};
    pub use crate::results::settings::Settings;
    pub use crate::strategy::gil::GilThreads;
    pub use crate::strategy::processes::worker::FAULT_ENV;
    pub use crate::strategy::processes::{ProcessPool, forkserver};

    /// The estimators, for the examples that measure by hand.
    pub mod stats {
        pub use crate::stats::{Estimate, MIN_N, hodges_lehmann, paired_ratio};
    }
}
