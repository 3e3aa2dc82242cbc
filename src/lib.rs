//! poolscale: how does each way of running work in parallel scale with the number of workers,
//! and why?
//!
//! The seed's two workloads ([`workload`]) run under six strategies ([`strategy::StrategyKind`]);
//! Criterion measures them (`benches/scaling.rs`, one call of [`bench::suite`]); [`report`] turns
//! Criterion's results into tables, charts and exports; [`gate`] fails CI on scaling regressions;
//! [`seed`] re-enacts the original Python programs. The countdown every strategy runs is pinned
//! machine code ([`workload::placement`]), and every measuring run checks it ([`instrument`]).
//!
//! # What is stable
//!
//! This is the one list of what is public and stable under semver (breaking one of these is a
//! major version; the README and `docs/own-pool.md` refer here):
//!
//! - [`Strategy`], [`Outcome`], [`strategy::Started`], [`strategy::Observer`]: implementing a pool;
//! - [`strategy::Strategies`], [`strategy::StrategyInfo`] (it may gain fields: build it with
//!   `..*StrategyKind::Threads.info()`), [`StrategyKind`], [`strategy::StrategyName`]: naming and
//!   declaring strategies;
//! - [`Options`] (build it with `..Options::default()`) and its [`interrupt::Cancel`] token;
//! - [`Job`], [`workload::register`], [`workload::Workload`]: what a pool runs;
//! - `bench::{suite, config, serve}` (feature `bench`, on by default): a crate's own benches and
//!   sampling side;
//! - [`Error`] and [`Result`];
//! - outside the API: the bench ids `group/strategy/workers`, the CLI's commands, flags and exit
//!   codes, and the files with a `schema_version` (`results.json`, the settings and observations
//!   files).
//!
//! Every other module is public so that the `poolscale` binary, the benches and the integration
//! tests can use it; it may change in any release.
#![deny(unsafe_code)]

pub mod analysis;
#[cfg(feature = "bench")]
pub mod bench;
#[doc(hidden)]
pub mod cli;
pub mod cpu;
pub mod data;
pub mod error;
pub mod fit;
pub mod fsutil;
pub mod gate;
pub mod gil;
pub mod group;
#[doc(hidden)]
pub mod hidden;
pub mod instrument;
pub mod interrupt;
pub mod layouts;
pub mod limits;
pub mod machine;
pub mod measure;
pub mod observe;
pub mod paired;
pub mod probe;
pub mod report;
pub mod run;
pub mod sampling;
pub mod seed;
pub mod settings;
pub mod stats;
pub mod strategy;
pub mod sys;
pub mod timeline;
pub mod units;
pub mod workload;

pub use error::{Error, Result};
pub use strategy::{Options, Outcome, Strategy, StrategyKind};
pub use workload::Job;
