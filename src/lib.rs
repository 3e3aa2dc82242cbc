//! poolscale: how does each way of running work in parallel scale with the number of workers,
//! and why?
//!
//! The seed's two workloads ([`workload`]) run under six strategies ([`strategy::StrategyKind`]);
//! Criterion measures them (`benches/scaling.rs`); [`report`] turns Criterion's results into
//! tables, charts and exports; [`gate`] fails CI on scaling regressions; [`seed`] re-enacts the
//! original Python programs.
//!
//! # A library with a command line
//!
//! poolscale is a library first: the `poolscale` binary is a thin [`cli`] over it, and the
//! benches, the gate's sampling sides and the tests use the same library calls. The parts meant
//! for other crates, and kept stable within a minor version (0.2.x), are the [`Strategy`] trait and
//! [`Outcome`], [`Options`] (with its [`interrupt::Cancel`] token), [`Job`], [`measure`]
//! ([`measure::Prepared`], [`measure::Arm`], [`measure::timed_map`]), [`stats`], [`paired`],
//! [`group::BenchId`] and [`Error`]. A strategy defined outside the crate names itself through
//! [`Strategy::name`] and is measured through [`measure::Prepared::with_pool`]. Everything else
//! (the report's and gate's internals, the file formats' Rust types) may change between versions;
//! the files themselves carry a `schema_version`. [`cli`] belongs to the binary.
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
