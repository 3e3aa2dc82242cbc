//! `poolscale layouts`: builds a binary and K code-layout variants of it from a source tree, for
//! `gate --ab --layouts K` ([`crate::gate::layouts`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::outln;
use crate::gate::layouts::{BuildConfig, build};

#[derive(Debug, Args)]
pub(super) struct LayoutsArgs {
    /// The source tree to build (a poolscale checkout, or a crate of yours with a binary that
    /// calls `poolscale::bench::serve`).
    #[arg(long)]
    src: PathBuf,
    /// Variants to build, each linked with its functions in another order (seeds 1 to K).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=32))]
    k: u32,
    /// Cargo's target directory: the binary lands in DIR/release/BIN, its variants beside it.
    #[arg(long)]
    target_dir: PathBuf,
    /// The binary to build.
    #[arg(long, default_value = "poolscale")]
    bin: String,
    /// The first shuffle seed (variant i uses seed FIRST + i - 1): give the two builds of one
    /// comparison different seeds to measure layout spread on identical sources.
    #[arg(long, default_value = "1", value_parser = clap::value_parser!(u32).range(1..))]
    first_seed: u32,
}

pub(super) fn command(a: &LayoutsArgs) -> anyhow::Result<ExitCode> {
    let (binary, variants) = build(&BuildConfig {
        src: a.src.clone(),
        k: a.k,
        target_dir: a.target_dir.clone(),
        bin: a.bin.clone(),
        first_seed: a.first_seed,
    })?;
    outln!("built {}", binary.display())?;
    for v in variants {
        outln!("built {}", v.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
