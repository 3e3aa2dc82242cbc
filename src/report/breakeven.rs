//! The report's break-even section: at what work per task each strategy starts to beat
//! `sequential` and comes within reach of its ideal, from the sweep of [`crate::analysis::breakeven`].

use std::fmt::Write;

use super::Report;
use crate::analysis::breakeven::{BreakEven, Crossing, NEAR_IDEAL};
use crate::escape::markdown_code as code;
use crate::measure::sweep::SIZES_NS;
use crate::units::{fmt_ns, markdown_table as table};

/// How far apart (a factor) a measured break-even and its prediction may be and still be said
/// to agree.
pub const AGREES_WITHIN: f64 = 2.0;

/// `above 1.3 µs [0.9 µs, 2 µs]`, `below 100 ns already`, `never (up to 1 ms)`.
pub fn describe(c: &Crossing) -> String {
    match *c {
        Crossing::BelowSmallest { size_ns } => format!("at {} already", fmt_ns(size_ns)),
        Crossing::At {
            size_ns,
            lower_ns,
            upper_ns,
        } => format!(
            "above {} [{}, {}]",
            fmt_ns(size_ns),
            lower_ns.map_or_else(|| format!("<{}", fmt_ns(smallest())), fmt_ns),
            upper_ns.map_or_else(|| format!(">{}", fmt_ns(largest())), fmt_ns),
        ),
        Crossing::Never { size_ns } => format!("never (up to {})", fmt_ns(size_ns)),
    }
}

fn smallest() -> f64 {
    SIZES_NS[0] as f64
}

fn largest() -> f64 {
    SIZES_NS[SIZES_NS.len() - 1] as f64
}

/// The headline: at the core count, each strategy's break-even, smallest first.
pub fn headline(report: &Report) -> Option<String> {
    let sweep = report.breakeven.as_ref()?;
    let w = sweep
        .workers
        .iter()
        .copied()
        .find(|&w| w >= crate::analysis::breakeven::BREAK_EVEN_FROM_WORKERS)?;
    let mut at_w: Vec<&BreakEven> = report
        .break_evens
        .iter()
        .filter(|b| b.workers == w)
        .collect();
    if at_w.is_empty() {
        return None;
    }
    at_w.sort_by(|a, b| {
        let key = |b: &BreakEven| b.beats_sequential.size_ns().unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b))
    });
    let (never, pays): (Vec<&&BreakEven>, Vec<&&BreakEven>) = at_w
        .iter()
        .partition(|b| matches!(b.beats_sequential, Crossing::Never { .. }));
    let parts: Vec<String> = pays
        .iter()
        .map(|b| match b.beats_sequential {
            Crossing::BelowSmallest { size_ns } => {
                format!("{} {} or less", code(b.strategy.as_str()), fmt_ns(size_ns))
            }
            c => format!(
                "{} {}",
                code(b.strategy.as_str()),
                c.size_ns().map_or_else(String::new, fmt_ns)
            ),
        })
        .collect();
    let mut line = format!(
        "On this machine, at {w} workers, running tasks in parallel beats running them in place from these sizes of work per task on: {}",
        crate::units::comma_list(&parts)
    );
    if !never.is_empty() {
        let names: Vec<String> = never.iter().map(|b| code(b.strategy.as_str())).collect();
        let _ = write!(
            line,
            "; {} never does (up to {})",
            crate::units::and_list(&names),
            fmt_ns(largest())
        );
    }
    line.push('.');
    if let Some(why) = short_of_cores(sweep) {
        let _ = write!(line, " {why}");
    }
    Some(line)
}

/// Share of its cores below which the machine is said to have been busy during the sweep.
pub const BUSY_BELOW: f64 = 0.9;

/// What to say when the machine gave fewer than [`BUSY_BELOW`] of its cores at the sweep's start
/// or end: its pools broke even later than they would on a quiet machine.
pub fn short_of_cores(sweep: &crate::measure::sweep::Sweep) -> Option<String> {
    let lowest = sweep.lowest_given()?;
    (lowest < BUSY_BELOW * sweep.cores as f64).then(|| {
        format!(
            "But the machine gave only {lowest:.2} of its {} cores around the sweep: on a quiet \
             machine the pools break even at smaller tasks (run `cargo bench -- breakeven` again \
             to compare).",
            sweep.cores
        )
    })
}

/// The section: headline, how it was measured, the table of break-evens, the charts.
pub fn section(report: &Report, out: &mut String) {
    let Some(sweep) = &report.breakeven else {
        return;
    };
    let rounds: Vec<usize> = sweep.sizes.iter().map(|p| p.rounds).collect();
    let (rmin, rmax) = (
        rounds.iter().copied().min().unwrap_or(0),
        rounds.iter().copied().max().unwrap_or(0),
    );
    let _ = writeln!(out, "## When does parallel pay off?\n");
    if let Some(h) = headline(report) {
        let _ = writeln!(out, "**{h}**\n");
    }
    let given: Vec<String> = sweep
        .capacity
        .iter()
        .map(|c| format!("{:.2}", c.given.point))
        .collect();
    if !given.is_empty() && short_of_cores(sweep).is_none() {
        let _ = writeln!(
            out,
            "The machine gave {} of its {} cores at the sweep's start and end.\n",
            crate::units::and_list(&given),
            sweep.cores
        );
    }
    let _ = writeln!(
        out,
        "A map of countdown tasks, {} of work in all, at {} task sizes from {} to {} of work each \
         (calibrated here; the sizes below are what one task took in `sequential`'s map), under \
         every strategy at {} workers and under `sequential` (at 1 worker no pool can beat \
         `sequential`: its chart shows what each pool costs, and `poolscale advise` reads it). At each size every map was sampled \
         once a round in alternating order ({rmin}–{rmax} rounds), each read at its fastest \
         twentieth over the same rounds: every ratio is paired, with a 95% interval. A \
         break-even is the size from which on a strategy's time stays below `sequential`'s, \
         **interpolated** between the two measured sizes around it (straight on log scales), its \
         interval where the ratios' interval bounds cross; none where no size shows the ratio \
         below 1 beyond its interval. \"Near ideal\" is where it reaches {:.0}% of \
         its ideal speedup (the workers, at most {}; none for a strategy that computes on one \
         core at a time). The prediction uses the same run's dispatch costs: a \
         map of N tasks of t takes N·t/k + N·d + F against `sequential`'s N·t + N·d₀ + F₀ (k the \
         ideal speedup, d per task, F per map, from `dispatch` and `dispatch_bulk` at the same \
         count).\n",
        fmt_ns(crate::measure::sweep::MAP_TARGET.as_nanos() as f64),
        sweep.sizes.len(),
        fmt_ns(smallest()),
        fmt_ns(largest()),
        crate::units::and_list(&sweep.workers),
        NEAR_IDEAL * 100.0,
        if sweep.capacity.is_empty() {
            format!("the {} cores", sweep.cores)
        } else {
            format!(
                "the {:.2} cores' worth the machine gave around the sweep",
                sweep.cores_given()
            )
        },
    );
    let mut disagree: Vec<String> = Vec::new();
    let rows: Vec<Vec<String>> = report
        .break_evens
        .iter()
        .map(|b| {
            let measured = b.beats_sequential.size_ns();
            let predicted = b.predicted_ns;
            let agreement = match (measured, predicted, b.beats_sequential) {
                (_, None, _) => "–".to_string(),
                (Some(m), Some(p), Crossing::At { .. }) => {
                    let f = m / p;
                    if (1.0 / AGREES_WITHIN..=AGREES_WITHIN).contains(&f) {
                        format!("agrees ({f:.1}×)")
                    } else {
                        disagree.push(format!("{} at {}", code(b.strategy.as_str()), b.workers));
                        format!("**{f:.1}×**")
                    }
                }
                (Some(_), Some(p), _) => {
                    // Below the smallest size: agrees where the prediction is below it too.
                    if p <= smallest() {
                        "agrees".into()
                    } else {
                        disagree.push(format!("{} at {}", code(b.strategy.as_str()), b.workers));
                        "**differs**".into()
                    }
                }
                (None, Some(p), _) => {
                    if p >= largest() {
                        "agrees".into()
                    } else {
                        disagree.push(format!("{} at {}", code(b.strategy.as_str()), b.workers));
                        "**differs**".into()
                    }
                }
            };
            vec![
                code(b.strategy.as_str()),
                b.workers.to_string(),
                describe(&b.beats_sequential),
                b.near_ideal.as_ref().map_or_else(
                    || "–".into(),
                    |c| format!("{} ({:.1}×)", describe(c), b.ideal_speedup * NEAR_IDEAL),
                ),
                predicted.map_or_else(|| "–".into(), fmt_ns),
                agreement,
            ]
        })
        .collect();
    table(
        out,
        &[
            "strategy",
            "workers",
            "beats sequential",
            "near ideal (speedup)",
            "predicted from dispatch costs",
            "measured / predicted",
        ],
        &rows,
    );
    if !disagree.is_empty() {
        let _ = writeln!(
            out,
            "Measured and predicted differ by more than {AGREES_WITHIN:.0}× for {}. The \
             prediction assumes a cost per task that does not depend on the task's size and \
             workers that never wait for work: a pool whose workers sleep when its queue runs dry \
             between tasks pays a wake-up per task once tasks are long enough for that to happen \
             (it breaks even later than predicted), and one that hands out the next tasks while \
             the current ones run hides its cost per task behind the work (earlier). Where they \
             differ, one of these assumptions does not hold for that pool here.\n",
            crate::units::and_list(&disagree)
        );
    }
    for &w in sweep.workers.iter().filter(|&&w| sweep.has_points_at(w)) {
        let _ = write!(
            out,
            "![breakeven at {}]({}) ",
            crate::units::workers_noun(w),
            super::svg::breakeven_name(w)
        );
    }
    out.push_str("\n\n");
}

#[cfg(test)]
mod tests {
    use crate::measure::sweep::{SizePoint, Sweep, SweepArm};
    use crate::report::Exporter;
    use crate::stats::Estimate;
    use crate::strategy::StrategyKind;

    #[test]
    fn a_sweep_a_stranger_wrote_with_no_usable_point_draws_no_chart_and_links_none() {
        let mut report = crate::analysis::fixture::report(&[(
            crate::group::Group::CountdownWeak,
            StrategyKind::Sequential,
            1,
            32e6,
        )]);
        let nan = Estimate {
            point: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
        };
        report.breakeven = Some(Sweep {
            run_id: None,
            capacity: Vec::new(),
            cores: 2,
            workers: vec![2],
            sizes: vec![SizePoint {
                target_ns: 100,
                decrements: 1,
                tasks: 1,
                task_ns: Some(nan),
                rounds: 8,
                arms: vec![SweepArm {
                    strategy: StrategyKind::Threads.into(),
                    workers: 2,
                    vs_sequential: Some(nan),
                }],
            }],
        });
        let charts = crate::report::svg::render_all(&report).unwrap();
        assert!(
            charts
                .iter()
                .all(|(name, _)| !name.starts_with("breakeven"))
        );
        let page = crate::report::markdown::Markdown.render(&report).unwrap();
        assert!(page.contains("When does parallel pay off?"));
        assert!(!page.contains("breakeven-2.svg"), "{page}");
    }

    #[test]
    fn a_sweep_beside_a_busy_machine_says_its_break_evens_are_late() {
        let at = |given: f64| crate::measure::probe::Capacity {
            at_unix_ms: 0,
            at: "breakeven start".into(),
            cores: 2,
            given: Estimate {
                point: given,
                lower: given,
                upper: given,
            },
        };
        let mut sweep = Sweep {
            run_id: None,
            capacity: vec![at(1.95), at(1.98)],
            cores: 2,
            workers: vec![2],
            sizes: Vec::new(),
        };
        assert_eq!(super::short_of_cores(&sweep), None);
        sweep.capacity[1] = at(1.06);
        let why = super::short_of_cores(&sweep).unwrap();
        assert!(why.contains("only 1.06 of its 2 cores"), "{why}");
        // Not sampled (a file of an older version): nothing said.
        sweep.capacity.clear();
        assert_eq!(super::short_of_cores(&sweep), None);
    }
}
