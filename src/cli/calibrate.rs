//! `poolscale calibrate`: the instrument check by hand. This binary and each program given time
//! the countdown in alternation and print each one's cost per decrement; a binary of yours that
//! calls `poolscale::bench::serve` can be compared with poolscale's own.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{cli_options, outln};
use crate::measure::instrument::{Burst, ProbeBinary, ThisBinary, calibrate, verdict};
use crate::units::text_table;

#[derive(Debug, Args)]
pub(super) struct CalibrateArgs {
    /// Other binaries to compare with this one: a `poolscale` or a binary of yours that calls
    /// `poolscale::bench::serve` (each runs as a capacity probe and times its own countdown).
    programs: Vec<PathBuf>,
    /// Calibrations in a row (each: 12 bursts of 5,000,000 decrements per binary, interleaved).
    #[arg(long, default_value = "1", value_parser = clap::value_parser!(u32).range(1..=100))]
    repeat: u32,
}

pub(super) fn command(args: &CalibrateArgs) -> anyhow::Result<ExitCode> {
    let options = cli_options()?;
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("poolscale"));
    let mut this = ThisBinary;
    let mut others = Vec::new();
    for p in &args.programs {
        others.push(ProbeBinary::start(
            p,
            crate::measure::instrument::BURST,
            &options,
        )?);
    }
    let mut all = Vec::new();
    for k in 0..args.repeat {
        let mut binaries: Vec<(String, PathBuf, &mut dyn Burst)> =
            vec![("this".into(), me.clone(), &mut this as &mut dyn Burst)];
        for (i, (p, o)) in args.programs.iter().zip(others.iter_mut()).enumerate() {
            binaries.push((format!("program {}", i + 1), p.clone(), o as &mut dyn Burst));
        }
        let phase = format!("run {}", k + 1);
        let c = calibrate(&phase, &mut binaries)?;
        if k == 0 {
            for (c, p) in c.iter().zip(std::iter::once(&me).chain(&args.programs)) {
                outln!("{}: {}", c.role, p.display())?;
            }
        }
        let header = crate::measure::instrument::table_header("this");
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        outln!(
            "{}",
            text_table(&header, &crate::measure::instrument::table_rows(&c))
        )?;
        all.extend(c);
    }
    if let Some(v) = verdict(&all) {
        outln!(
            "largest difference between binaries: {:.1}% ({})",
            v.spread * 100.0,
            if v.differ {
                "more than 5%: these binaries' countdowns do not cost the same"
            } else if v.spread > crate::measure::instrument::TOLERANCE {
                "its interval reaches within 5%, so not resolved: run again with `--repeat 3`"
            } else {
                "within 5%"
            }
        )?;
        if !v.unpinned.is_empty() {
            outln!("loop not pinned in: {}", v.unpinned.join(", "))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
