//! poolscale: how does each way of running work in parallel scale with the number of workers,
//! and why?
//!
//! The seed's two workloads ([`workload`]) run under six strategies ([`strategy::StrategyKind`]);
//! Criterion measures them (`benches/scaling.rs`); [`report`] turns Criterion's results into
//! tables, charts and exports; [`gate`] fails CI on scaling regressions; [`seed`] re-enacts the
//! original Python programs.
#![deny(unsafe_code)]

pub mod analysis;
pub mod cli;
pub mod data;
pub mod error;
pub mod fsutil;
pub mod gate;
pub mod gil;
pub mod group;
pub mod interrupt;
pub mod limits;
pub mod machine;
pub mod measure;
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
pub mod units;
pub mod workload;

pub use error::{Error, Result};
pub use strategy::{Options, Outcome, Strategy, StrategyKind};
pub use workload::Job;
