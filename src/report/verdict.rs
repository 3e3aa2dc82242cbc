//! The report's answer to its own question, drawn from the run's numbers alone: which strategies
//! scale on this machine and which do not, why (cores busy, the strategy's own facts), what to use
//! for CPU-bound and for sleep-bound work, whether the seed's lesson shows, and what the run could
//! not show. No sentence here is fixed prose: each is chosen by a measured figure, and says which.

use crate::analysis::{BenchRecord, Report};
use crate::escape::markdown_code as code;
use crate::group::{BenchId, Group};
use crate::stats::Estimate;
use crate::strategy::{StrategyKind, StrategyName};

/// Efficiency (1-worker time over w-worker time, weak scaling, held to the cores given where
/// measured) at or above which a strategy is said to scale.
pub const SCALES: f64 = 0.75;
/// `gil`'s 2-worker time over its 1-worker time at or above which the seed's effect shows.
pub const SERIALISES: f64 = 1.7;
/// How far below the rounds model's speedup a strategy may fall and still be said to follow it.
pub const ROUNDS_HOLD: f64 = 1.2;
/// Cores' worth the machine must give for a run to tell a parallel strategy from a serial one.
pub const ENOUGH_CORES: f64 = 1.5;

/// One strategy's standing at the compared worker count of `countdown_weak`.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    /// The strategy.
    pub strategy: StrategyName,
    /// Efficiency at the compared count (paired where measured), with its interval if any.
    pub efficiency: Estimate,
    /// Measured / ideal with the cores the machine gave (paired), where measured.
    pub held_to_given: Option<Estimate>,
    /// Time over `sequential`'s at the same count, in the same rounds, where measured.
    pub vs_sequential: Option<Estimate>,
    /// Cores kept busy (CPU time / wall time) at the compared count.
    pub cores_busy: Option<f64>,
    /// Cores' worth the capacity probe was given in the same rounds, where measured.
    pub cores_given: Option<Estimate>,
}

impl Standing {
    /// Whether it scales: its efficiency at `w` workers, or its efficiency relative to the
    /// capacity probe's in the same rounds (`efficiency × w / cores given`), reaches [`SCALES`].
    pub fn scales(&self, w: usize) -> bool {
        self.efficiency.point >= SCALES
            || self.cores_given.is_some_and(|c| {
                c.point > 0.0 && self.efficiency.point * w as f64 / c.point >= SCALES
            })
    }
}

/// What the run concluded.
#[derive(Clone, Debug, PartialEq)]
pub struct Conclusions {
    /// Worker count compared: the machine's cores (at least 2).
    pub workers: usize,
    /// The machine's logical cores.
    pub cores: usize,
    /// Median cores' worth the machine gave during the run, where sampled.
    pub given: Option<f64>,
    /// Whether the run recorded a busy machine ([`crate::results::settings::Given::busy`]).
    pub busy: bool,
    /// Every strategy measured at `workers` in countdown_weak, fastest first (by time over
    /// `sequential`'s where measured paired, else by efficiency).
    pub standings: Vec<Standing>,
    /// `gil`'s 2-worker time over its 1-worker time (paired where measured).
    pub gil_slowdown: Option<Estimate>,
    /// square_sleep at 3 workers: each strategy's speedup over its own 1-worker time.
    pub sleep: Vec<(StrategyName, f64)>,
    /// The speedup the rounds model gives square_sleep at 3 workers: tasks / ceil(tasks / 3).
    pub sleep_model: f64,
    /// Marginal dispatch cost per task at 1 worker, cheapest first (sequential left out).
    pub dispatch: Vec<(StrategyName, f64)>,
    /// The break-even sweep's headline, where the run measured it.
    pub break_even: Option<String>,
}

fn point(e: f64) -> Estimate {
    Estimate {
        point: e,
        lower: e,
        upper: e,
    }
}

/// `gil`'s 2-worker time over its 1-worker time in countdown_weak: paired where measured
/// (`2 / speedup`), else the medians' quotient. The report's headline and verdict both read it.
pub fn gil_slowdown(report: &Report) -> Option<Estimate> {
    let g2 = report.get(BenchId::new(Group::CountdownWeak, StrategyKind::Gil, 2))?;
    let paired = g2.paired.and_then(|p| p.speedup).map(|s| Estimate {
        point: 2.0 / s.point,
        lower: 2.0 / s.upper,
        upper: 2.0 / s.lower,
    });
    let one = report.get(BenchId::new(Group::CountdownWeak, StrategyKind::Gil, 1))?;
    Some(paired.unwrap_or_else(|| point(g2.median_ns / one.median_ns)))
}

fn standing(r: &BenchRecord) -> Option<Standing> {
    let p = r.paired;
    Some(Standing {
        strategy: r.id.strategy,
        efficiency: p
            .and_then(|p| p.efficiency)
            .or_else(|| r.efficiency.map(point))?,
        held_to_given: p.and_then(|p| p.measured_over_ideal_given),
        vs_sequential: p.and_then(|p| p.vs_sequential),
        cores_busy: r.cores_busy,
        cores_given: p.and_then(|p| p.cores_given),
    })
}

impl Conclusions {
    /// Draws the conclusions of `report`; `None` without countdown_weak at 2 or more workers.
    pub fn of(report: &Report) -> Option<Conclusions> {
        let workers = report.cores.max(2);
        let mut standings: Vec<Standing> = report
            .group(Group::CountdownWeak)
            .filter(|r| r.id.workers == workers)
            .filter_map(standing)
            .collect();
        if standings.is_empty() {
            return None;
        }
        let key = |s: &Standing| {
            s.vs_sequential
                .map_or(1.0 / s.efficiency.point.max(1e-9), |v| v.point)
        };
        standings.sort_by(|a, b| key(a).total_cmp(&key(b)));
        let gil_slowdown = gil_slowdown(report);
        let sleep = report
            .group(Group::SquareSleep)
            .filter(|r| r.id.workers == 3)
            .filter_map(|r| Some((r.id.strategy, r.speedup?)))
            .collect();
        let tasks = report.settings.tasks.max(1) as f64;
        let sleep_model = tasks / (tasks / 3.0).ceil();
        let mut dispatch: Vec<(StrategyName, f64)> = report
            .dispatch
            .iter()
            .filter(|d| d.workers == 1 && d.strategy.as_str() != StrategyKind::Sequential.as_str())
            .filter_map(|d| Some((d.strategy, d.per_task_ns?.point)))
            .collect();
        dispatch.sort_by(|a, b| a.1.total_cmp(&b.1));
        Some(Conclusions {
            workers,
            cores: report.cores,
            given: report.settings.given().map(|g| g.median),
            busy: report.settings.given().is_some_and(|g| g.busy()),
            standings,
            gil_slowdown,
            sleep,
            sleep_model,
            dispatch,
            break_even: super::breakeven::headline(report),
        })
    }

    /// Whether the machine gave enough cores to tell a parallel strategy from a serial one.
    pub fn could_tell(&self) -> bool {
        self.given.is_none_or(|g| g >= ENOUGH_CORES)
    }

    /// The strategies that scale, fastest first.
    pub fn scaling(&self) -> impl Iterator<Item = &Standing> {
        self.standings.iter().filter(|s| s.scales(self.workers))
    }

    /// The strategies that do not, fastest first.
    pub fn not_scaling(&self) -> impl Iterator<Item = &Standing> {
        self.standings.iter().filter(|s| !s.scales(self.workers))
    }

    /// The strategies whose time is within the fastest's interval (they tie with it).
    pub fn tied_fastest(&self) -> Vec<&Standing> {
        let scaling: Vec<&Standing> = self.scaling().collect();
        let Some(best) = scaling.first() else {
            return Vec::new();
        };
        match best.vs_sequential {
            Some(b) => scaling
                .iter()
                .copied()
                .filter(|s| s.vs_sequential.is_some_and(|v| v.lower <= b.upper))
                .collect(),
            None => vec![best],
        }
    }

    /// Whether the seed's lesson shows: `gil` serialises and the parallel built-ins scale.
    /// `None` where the run lacks `gil`, `threads` or `processes`.
    pub fn seed_shows(&self) -> Option<bool> {
        let g = self.gil_slowdown?;
        let find = |k: StrategyKind| {
            self.standings
                .iter()
                .find(|s| s.strategy.as_str() == k.as_str())
        };
        let (t, p) = (find(StrategyKind::Threads)?, find(StrategyKind::Processes)?);
        Some(g.point >= SERIALISES && t.scales(self.workers) && p.scales(self.workers))
    }
}

fn pct(e: &Estimate) -> String {
    if e.lower < e.point || e.upper > e.point {
        format!(
            "{:.0}% [{:.0}, {:.0}]",
            e.point * 100.0,
            e.lower * 100.0,
            e.upper * 100.0
        )
    } else {
        format!("{:.0}%", e.point * 100.0)
    }
}

fn names<'a>(v: impl IntoIterator<Item = &'a Standing>) -> String {
    let v: Vec<String> = v.into_iter().map(|s| code(s.strategy.as_str())).collect();
    crate::units::and_list(&v)
}

impl Conclusions {
    /// The verdict as Markdown bullets, every sentence chosen by this run's numbers.
    pub fn to_markdown(&self) -> String {
        let w = self.workers;
        let mut lines: Vec<String> = Vec::new();
        let scaling: Vec<&Standing> = self.scaling().collect();
        let serial: Vec<&Standing> = self.not_scaling().collect();
        if !self.could_tell() {
            lines.push(format!(
                "**This run cannot say which strategies scale.** The machine gave {:.2} of its {} \
                 cores (median of the samples between groups): with about one core to share, a \
                 parallel strategy and a serial one take the same time. Re-run on a quieter machine.",
                self.given.unwrap_or(0.0),
                self.cores
            ));
        }
        if !scaling.is_empty() {
            let tied = self.tied_fastest();
            let fastest = if tied.len() > 1 {
                format!(
                    "{} tie for fastest (their intervals overlap)",
                    names(tied.iter().copied())
                )
            } else {
                format!("{} is fastest", names(tied.iter().copied()))
            };
            let detail: Vec<String> = scaling
                .iter()
                .map(|s| {
                    let mut d = format!("{} {}", code(s.strategy.as_str()), pct(&s.efficiency));
                    if let Some(v) = s.vs_sequential {
                        let _ = std::fmt::Write::write_fmt(
                            &mut d,
                            format_args!(", {:.2}× `sequential`'s time", v.point),
                        );
                    }
                    d
                })
                .collect();
            let busy: Vec<f64> = scaling.iter().filter_map(|s| s.cores_busy).collect();
            let busy = match (
                busy.iter().copied().reduce(f64::min),
                busy.iter().copied().reduce(f64::max),
            ) {
                (Some(lo), Some(hi)) => format!("keep {lo:.2} to {hi:.2} cores busy and "),
                _ => String::new(),
            };
            lines.push(format!(
                "**CPU-bound work: use {}.** At {w} workers on this {}-core machine they \
                 {busy}reach {SCALES_PCT}% efficiency or more, or all the cores the machine gave \
                 (efficiency at {w}: {}); {fastest}.",
                names(scaling.iter().copied()),
                self.cores,
                detail.join("; "),
                SCALES_PCT = (SCALES * 100.0).round()
            ));
        }
        for s in &serial {
            let info = s.strategy.info();
            let busy = s.cores_busy.map_or_else(String::new, |b| {
                format!(" its {w} workers kept {b:.2} cores busy;")
            });
            let why = if !info.parallel {
                "it runs the jobs one after another"
            } else if !info.computes_in_parallel {
                "its lock lets one worker compute at a time, as CPython's GIL does"
            } else if !self.could_tell() {
                "the machine did not give it a second core"
            } else {
                "it is parallel by design, yet did not scale in this run: see its section"
            };
            lines.push(format!(
                "**{} does not scale here** (efficiency at {w}: {}):{busy} {why}.",
                code(s.strategy.as_str()),
                pct(&s.efficiency)
            ));
        }
        match (self.seed_shows(), self.gil_slowdown) {
            (Some(true), Some(g)) => lines.push(format!(
                "**The seed's lesson holds here.** Two `gil` threads take {:.2}× one thread's time \
                 (the seed: 2×), while `threads` and `processes` run two countdowns in about one's time.",
                g.point
            )),
            (Some(false), Some(g)) => lines.push(format!(
                "**This run does not show the seed's lesson** (two `gil` threads took {:.2}× one; \
                 the seed's 2× needs `gil` at {SERIALISES}× or more and `threads` and `processes` \
                 scaling): {}.",
                g.point,
                if self.could_tell() {
                    "see the countdown sections for which part did not hold"
                } else {
                    "the machine could not give two cores, so nothing could run in parallel"
                }
            )),
            _ => {}
        }
        if !self.sleep.is_empty() {
            let (ok, slow): (Vec<_>, Vec<_>) = self
                .sleep
                .iter()
                .partition(|(_, s)| *s * ROUNDS_HOLD >= self.sleep_model);
            let list = |v: &[&(StrategyName, f64)]| -> String {
                v.iter()
                    .map(|(k, r)| format!("{} {r:.2}×", code(k.as_str())))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut line = format!(
                "**Sleep-bound work: any pool, `gil` included, that follows the rounds model** \
                 (ceil(tasks / w) naps at w workers: a speedup of {:.2}× at 3 workers; measured: {})",
                self.sleep_model,
                list(&ok)
            );
            if !slow.is_empty() {
                let _ = std::fmt::Write::write_fmt(
                    &mut line,
                    format_args!(
                        "; not {}, which sleeps the naps one after another",
                        list(&slow)
                    ),
                );
            }
            line.push_str(
                ". Sleeping releases `gil`'s lock, so the lock costs nothing here: pick w ≥ tasks / rounds.",
            );
            lines.push(line);
        }
        if let (Some(first), Some(last)) = (self.dispatch.first(), self.dispatch.last()) {
            lines.push(format!(
                "**Small tasks pay the dispatch cost:** from {} per task ({}) to {} ({}), at 1 \
                 worker. A task much shorter than that is faster run in place; see the dispatch \
                 sections.",
                crate::units::fmt_ns(first.1),
                code(first.0.as_str()),
                crate::units::fmt_ns(last.1),
                code(last.0.as_str())
            ));
        }
        if let Some(b) = &self.break_even {
            lines.push(format!(
                "**When parallel pays off:** {b} Tasks smaller than a strategy's break-even run faster in place; see \"When does parallel pay off?\"."
            ));
        }
        let mut unseen = Vec::new();
        if self.cores <= 2 {
            unseen.push(format!(
                "how the strategies scale past {} cores: the scaling laws (Amdahl, the universal \
                 scalability law) need four worker counts up to the core count, which a machine \
                 of 4 or more cores gives",
                self.cores
            ));
        }
        if let Some(g) = self.given.filter(|_| self.busy) {
            unseen.push(format!(
                "a quiet machine's numbers: it gave {g:.2} of {} cores in the median and less at \
                 times; a paired ratio whose rounds caught those moments has a wider interval, and \
                 Criterion's medians (the times) read slower",
                self.cores
            ));
        }
        if !unseen.is_empty() {
            lines.push(format!("**Not shown by this run:** {}.", unseen.join("; ")));
        }
        let mut out = String::from("## Verdict\n\n");
        for l in lines {
            out.push_str("- ");
            out.push_str(&l);
            out.push('\n');
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: StrategyKind, eff: f64, vs: Option<f64>) -> Standing {
        Standing {
            strategy: name.into(),
            efficiency: point(eff),
            held_to_given: None,
            vs_sequential: vs.map(|v| Estimate {
                point: v,
                lower: v * 0.97,
                upper: v * 1.03,
            }),
            cores_busy: None,
            cores_given: None,
        }
    }

    fn conclusions(standings: Vec<Standing>, gil: f64, given: f64) -> Conclusions {
        Conclusions {
            workers: 2,
            cores: 2,
            given: Some(given),
            busy: given < 1.7,
            standings,
            gil_slowdown: Some(point(gil)),
            sleep: Vec::new(),
            sleep_model: 2.5,
            dispatch: Vec::new(),
            break_even: None,
        }
    }

    #[test]
    fn the_numbers_decide_who_scales_who_ties_and_whether_the_lesson_shows() {
        use StrategyKind::*;
        let c = conclusions(
            vec![
                s(Threads, 0.97, Some(0.51)),
                s(Processes, 0.95, Some(0.52)),
                s(Rayon, 0.90, Some(0.60)),
                s(Gil, 0.48, Some(1.05)),
            ],
            2.05,
            1.95,
        );
        let names = |v: Vec<&Standing>| -> Vec<String> {
            v.iter().map(|s| s.strategy.as_str().to_string()).collect()
        };
        assert_eq!(
            names(c.scaling().collect()),
            ["threads", "processes", "rayon"]
        );
        assert_eq!(names(c.not_scaling().collect()), ["gil"]);
        assert_eq!(names(c.tied_fastest()), ["threads", "processes"]);
        assert_eq!(c.seed_shows(), Some(true));
        assert!(c.could_tell());
        // A run on a machine that gave one core: threads look serial, and the lesson does not show.
        let busy = conclusions(
            vec![s(Threads, 0.52, None), s(Processes, 0.50, None)],
            2.0,
            1.05,
        );
        assert_eq!(busy.seed_shows(), Some(false));
        assert!(!busy.could_tell());
        let md = busy.to_markdown();
        assert!(md.contains("cannot say which strategies scale"), "{md}");
        assert!(md.contains("does not show the seed's lesson"), "{md}");
        assert!(!md.contains("lesson holds"), "{md}");
        let md = c.to_markdown();
        assert!(
            md.contains("use `threads`, `processes` and `rayon`"),
            "{md}"
        );
        assert!(
            md.contains("`threads` and `processes` tie for fastest"),
            "{md}"
        );
        assert!(md.contains("lesson holds"), "{md}");
        // Without gil the lesson cannot be judged.
        let c = Conclusions {
            gil_slowdown: None,
            ..c
        };
        assert_eq!(c.seed_shows(), None);
    }

    #[test]
    fn held_to_the_cores_given_a_strategy_that_used_all_it_had_scales() {
        let mut t = s(StrategyKind::Threads, 0.55, None);
        assert!(!t.scales(2));
        t.cores_given = Some(point(1.1));
        assert!(
            t.scales(2),
            "0.55 efficiency on 1.1 cores given is all it could"
        );
        // gil kept to its own model is still serial: 0.48 efficiency with 1.9 cores given.
        let mut g = s(StrategyKind::Gil, 0.48, None);
        g.cores_given = Some(point(1.9));
        g.held_to_given = Some(point(1.0));
        assert!(!g.scales(2));
    }
}
