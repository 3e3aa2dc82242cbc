//! The Criterion command line a bench binary was started with, read the way Criterion reads it:
//! whether the run measures, the filter, the baseline it saves, the flags that override the
//! suite's defaults, and the benchmarks (and the sweep) it selects.

use crate::group::{BenchId, Group};
use crate::results::settings::Settings;

/// Whether this is a measuring run (not `--list`, not `cargo test --benches`' single pass).
pub(super) fn measuring(args: &[String]) -> bool {
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list")
}

/// The benchmarks this run will measure: every id of the suite, narrowed by Criterion's filter.
pub(super) fn selected(settings: &Settings, args: &[String]) -> Vec<BenchId> {
    let all = Group::ALL
        .into_iter()
        .flat_map(|g| g.ids(&settings.strategies, &settings.workers));
    match criterion_filter(args) {
        None => all.collect(),
        Some((f, true)) => all.filter(|id| id.to_string() == f).collect(),
        Some((f, false)) => match regex::Regex::new(&f) {
            Ok(re) => all.filter(|id| re.is_match(&id.to_string())).collect(),
            Err(_) => all.collect(), // Criterion reports the bad filter itself.
        },
    }
}

/// The baseline a Criterion command line saves, in any form Criterion accepts:
/// `--save-baseline NAME`, `--save-baseline=NAME`, `-s NAME`, `-sNAME`.
pub(crate) fn saved_baseline(args: &[String]) -> Option<String> {
    let mut it = args.iter();
    let mut found = None;
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--save-baseline" || a == "-s" {
            found = it.next().cloned();
        } else if let Some(v) = a.strip_prefix("--save-baseline=") {
            found = Some(v.to_string());
        } else if let Some(v) = a
            .strip_prefix("-s")
            .filter(|v| !v.is_empty() && !a.starts_with("--"))
        {
            found = Some(v.to_string());
        }
    }
    found
}

/// Criterion's flags that take a value (so the word after them is not the filter).
const CRITERION_VALUE_FLAGS: [&str; 19] = [
    "--save-baseline",
    "-s",
    "--baseline",
    "-b",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--color",
    "-c",
    "--format",
    "--plotting-backend",
    "--output-format",
    "--profile-time",
];

/// The filter of a Criterion command line (its first positional argument) and whether `--exact`
/// was given; `None` when it runs everything.
/// Whether the break-even sweep runs: with no filter, or one that matches `breakeven`.
pub(super) fn sweep_selected(args: &[String]) -> bool {
    match criterion_filter(args) {
        None => true,
        Some((f, true)) => f == crate::measure::sweep::NAME,
        Some((f, false)) => {
            regex::Regex::new(&f).is_ok_and(|re| re.is_match(crate::measure::sweep::NAME))
        }
    }
}

pub(crate) fn criterion_filter(args: &[String]) -> Option<(String, bool)> {
    let exact = args.iter().any(|a| a == "--exact");
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if CRITERION_VALUE_FLAGS.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            return Some((a.clone(), exact));
        }
    }
    None
}

/// Whether a Criterion command line gives `flag` (as `flag VALUE` or `flag=VALUE`).
pub(crate) fn has_flag(args: &[String], flag: &str) -> bool {
    args.iter()
        .any(|a| a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
}
