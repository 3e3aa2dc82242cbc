//! The suite as a library function: [`suite`] measures any set of strategies ([`Strategies`]:
//! the built-ins, yours, or both) in every group, with the bench ids (`group/strategy/workers`),
//! settings record, output checks, CPU time and timelines of poolscale's own `cargo bench`, which
//! is itself one call of it (`benches/scaling.rs`). [`serve`] makes a binary of yours a sampling
//! side of `poolscale gate --ab`, so two builds of your pool can be compared by the gate.
//!
//! A strategy defined in your crate, beside `threads` and `rayon`, in `benches/scaling.rs`
//! (`harness = false`):
//!
//! ```no_run
//! use criterion::{Criterion, criterion_group, criterion_main};
//! use poolscale::strategy::{Options, Outcome, Observer, Strategy, StrategyInfo, StrategyKind, Strategies};
//! use poolscale::Job;
//!
//! /// Runs every job on the calling thread (a stand-in for your pool).
//! struct Inline;
//!
//! impl Strategy for Inline {
//!     fn name(&self) -> &str { "inline" }
//!     fn workers(&self) -> usize { 1 }
//!     fn map_observed(&mut self, jobs: &[Job], _on_start: Observer<'_>)
//!         -> poolscale::Result<Vec<Outcome>> {
//!         Ok(jobs.iter().map(|j| Outcome { value: j.run(), worker: 0, pid: std::process::id(),
//!             started_ns: 0, finished_ns: 0 }).collect())
//!     }
//! }
//!
//! fn suite() -> Strategies {
//!     Strategies::new()
//!         .with_builtin(StrategyKind::Threads)
//!         .with("inline", *StrategyKind::Sequential.info(), |_w, _o: &Options| {
//!             Ok(Box::new(Inline) as Box<dyn Strategy>)
//!         })
//!         .expect("a valid, unused name")
//! }
//!
//! fn benches(c: &mut Criterion) {
//!     if let Err(e) = poolscale::bench::suite(c, &suite(), &Options::default()) {
//!         eprintln!("poolscale bench: {e}");
//!         std::process::exit(2);
//!     }
//! }
//!
//! criterion_group! { name = g; config = poolscale::bench::config(); targets = benches }
//! criterion_main!(g);
//! ```

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode};

mod args;
mod progress;

use progress::{Progress, Track, estimate_one};

use crate::group::{BenchId, Group, Model, Workloads};
use crate::measure::{Arm, Prepared};
use crate::results::observe::{Observations, Observed, draws_timeline};
use crate::results::settings::Settings;
use crate::results::store::criterion_home;
use crate::strategy::{Options, Strategies};

/// Samples per benchmark: enough for a median and its interval, few enough for minutes.
pub(crate) const SAMPLES: usize = 10;
/// Default measurement window (a long benchmark's is widened so that its samples fit).
pub(crate) const MEASUREMENT_TIME: Duration = Duration::from_millis(1000);
/// Criterion's warm-up in the groups whose ratios are measured paired (a few maps of tens of ms).
const PAIRED_WARM_UP: Duration = Duration::from_millis(150);
/// Their shortest measuring window: SAMPLES maps of the shortest countdown fit in it.
const PAIRED_MEASUREMENT_TIME: Duration = Duration::from_millis(300);
/// What share of a benchmark's usual time Criterion's `--quick` takes (it stops sampling once
/// the estimate settles), for the duration estimate.
const QUICK_SHARE: f64 = 0.21;

/// The Criterion configuration of the suite: ten samples, short windows (the long groups switch
/// to flat sampling and widen theirs), 10,000 bootstrap resamples (Criterion's default is 100,000:
/// the same intervals to three digits, ~0.15 s of analysis per benchmark instead of ~2 s).
/// Criterion's command-line flags override all of these.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(SAMPLES)
        .nresamples(10_000)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(MEASUREMENT_TIME)
}

/// Measures `strategies` in every group at the sweep's worker counts (`POOLSCALE_WORKERS`, else
/// sized to this machine), as Criterion benchmarks `group/strategy/workers`, then the break-even
/// sweep. Pools start outside the clock (except in `startup`), every map's output is checked
/// outside it (a wrong result panics inside Criterion's routine, naming the benchmark), the
/// settings and each benchmark's CPU time and timeline are recorded beside Criterion's files for
/// `poolscale report`. `options` start the pools (e.g. the worker program of `processes`).
///
/// An error means the run could not measure or record as it must (invalid `POOLSCALE_*`
/// variables, a countdown loop that moved, another run measuring into the same directory, a
/// results file it cannot write): the bench's `main` prints it and exits 2.
pub fn suite(c: &mut Criterion, strategies: &Strategies, options: &Options) -> crate::Result<()> {
    let mut run = Run::start(strategies, options)?;
    for group in Group::ALL {
        run.group(c, group)?;
    }
    run.sweep()?;
    run.finish()
}

/// One bench run, from its settings to its closing line.
struct Run<'a> {
    strategies: &'a Strategies,
    options: &'a Options,
    args: Vec<String>,
    /// Whether it measures (not `--list`, not `cargo test --benches`' single pass).
    measure: bool,
    quick: bool,
    /// The benchmarks it measures (the filter applied).
    chosen: Vec<BenchId>,
    /// The baseline it saves (`--save-baseline`).
    baseline: Option<String>,
    settings: Settings,
    workloads: Workloads,
    observed: Observations,
    track: Track,
    progress: Progress,
    /// Criterion's own `--measurement-time` wins; otherwise each long benchmark's window is sized
    /// so that its samples fit (no "increase target time" warnings).
    size_windows: bool,
    /// One measuring run per Criterion directory, held until the run ends.
    _lock: Option<crate::platform::fsutil::DirLock>,
}

impl<'a> Run<'a> {
    /// Reads the settings and the command line, refuses a binary whose countdown moved, takes the
    /// directory's lock, carries the series' earlier results, records the start (instrument
    /// check, capacity) and prints the banner.
    fn start(strategies: &'a Strategies, options: &'a Options) -> crate::Result<Run<'a>> {
        let mut settings = Settings::from_env()?;
        settings.record_machine();
        settings.start_run();
        settings.strategies = strategies.names();
        let args: Vec<String> = std::env::args().collect();
        let measure = args::measuring(&args);
        let chosen = if args.iter().any(|a| a == "--list") {
            Vec::new()
        } else {
            args::selected(&settings, &args)
        };
        let baseline = args::saved_baseline(&args);
        // The countdown's loop must be pinned in this binary: a run whose instrument moves with
        // code layout measures the linker, not the strategies (checked in every run, `cargo test
        // --benches` included).
        if crate::workload::placement() == crate::workload::Placement::Broken {
            return Err(crate::Error::CannotMeasure(format!(
                "the countdown's pinned loop is not at a 64-byte boundary in this binary ({}); its \
                 cost per decrement would depend on code layout",
                std::env::current_exe().map_or_else(|_| "?".into(), |p| p.display().to_string())
            )));
        }
        let track = Track::new(measure, options, &settings);
        let quick = args.iter().any(|a| a == "--quick");
        settings.quick = quick;
        let lock = if measure { Some(lock()?) } else { None };
        let carried = if measure {
            carried(&mut settings, baseline.as_deref())
        } else {
            None
        };
        let mut estimates = std::collections::BTreeMap::new();
        if measure {
            track.check(&mut settings, "start");
            settings.save(&criterion_home(), baseline.as_deref())?;
            estimates = banner(&settings, &chosen, quick, &args);
        }
        let workloads = settings.workloads();
        let mut observed = Observations::for_run(settings.run_id.clone());
        if let Some(c) = carried {
            for (id, mut o) in c.benches {
                o.run_id = o.run_id.or_else(|| c.run_id.clone());
                observed.benches.insert(id, o);
            }
            observed.breakeven = c.breakeven;
        }
        // This run's record starts now, beside its settings: a run stopped before its first
        // benchmark leaves settings and observations of one run, not of two.
        if measure {
            observed.save(&criterion_home(), baseline.as_deref())?;
        }
        Ok(Run {
            strategies,
            options,
            size_windows: measure && !args::has_flag(&args, "--measurement-time"),
            args,
            measure,
            quick,
            chosen,
            baseline,
            settings,
            workloads,
            observed,
            track,
            progress: Progress::new(estimates),
            _lock: lock,
        })
    }

    /// Saves what was observed so far beside Criterion's results: a run that cannot record what
    /// it measured fails rather than leave results no report can read.
    fn save_observed(&self) -> crate::Result<()> {
        self.observed
            .save(&criterion_home(), self.baseline.as_deref())
    }

    /// One group: its Criterion benchmarks, then (CPU-bound groups) their ratios measured paired,
    /// then a capacity sample.
    fn group(&mut self, c: &mut Criterion, group: Group) -> crate::Result<()> {
        let mut g = c.benchmark_group(group.as_str());
        if group.is_long() {
            g.sampling_mode(SamplingMode::Flat);
        }
        // The CPU-bound groups' ratios are measured paired after the group (below); Criterion
        // gives their absolute times, which need no longer window than SAMPLES maps and a
        // warm-up of a few (each map runs for tens of milliseconds). This pays for the paired
        // pass.
        let paired = matches!(group.model(), Model::Weak | Model::Strong);
        if paired && !args::has_flag(&self.args, "--warm-up-time") {
            g.warm_up_time(PAIRED_WARM_UP);
        }
        if group.times_wakeup() && !args::has_flag(&self.args, "--measurement-time") {
            // Criterion sizes its iterations by the times reported (microseconds of waiting),
            // while each iteration also rests WAKEUP_IDLE: a short window keeps it to seconds.
            g.sampling_mode(SamplingMode::Flat);
            g.warm_up_time(Duration::from_millis(5));
            g.measurement_time(Duration::from_millis(40));
        }
        let (strategies, options, workloads) = (self.strategies, self.options, self.workloads);
        let ids = group.ids(&self.settings.strategies, &self.settings.workers);
        for &id in &ids {
            let start = || {
                Prepared::start_in(strategies, id, &workloads, options)
                    .unwrap_or_else(|e| panic!("{id}: cannot start the pool: {e}"))
            };
            // Started before Criterion's clock and only for benchmarks that run (not for
            // `--list` or ones a filter skips).
            let mut prepared = None;
            if self.chosen.contains(&id) {
                let mut p = start();
                if self.measure {
                    self.progress.next(id);
                    if self.size_windows && group.is_long() {
                        // One timed map: the window holds SAMPLES of them, with headroom.
                        let one = p.sample(1)?;
                        let need = one.mul_f64(SAMPLES as f64 * 1.2);
                        g.measurement_time(need.max(if paired {
                            PAIRED_MEASUREMENT_TIME
                        } else {
                            MEASUREMENT_TIME
                        }));
                    }
                }
                prepared = Some(p);
            }
            g.bench_function(BenchmarkId::new(id.strategy.as_str(), id.workers), |b| {
                // Criterion calls this once per sample; a benchmark the filter parsing above
                // did not foresee starts its pool here, still outside the timed routine.
                let p = prepared.get_or_insert_with(start);
                // One measuring path: timed maps, every output verified outside the clock.
                b.iter_custom(|iters| p.sample(iters).unwrap_or_else(|e| panic!("{id}: {e}")))
            });
            // Beside Criterion's files: the CPU time its workers used and, for the benchmarks
            // the report draws, one map's timeline (run after the measurement).
            if let (true, Some(p)) = (self.measure, prepared.as_mut()) {
                let timeline = if draws_timeline(&id) {
                    Some(p.timeline()?)
                } else {
                    None
                };
                self.observed.benches.insert(
                    id,
                    Observed {
                        usage: p.usage(),
                        timeline,
                        run_id: self.settings.run_id.clone(),
                        // Criterion has written this benchmark's estimates by now.
                        estimates: crate::results::data::estimates_digest(&criterion_home(), id),
                        paired: None,
                    },
                );
                self.save_observed()?;
            }
        }
        g.finish();
        let chosen: Vec<BenchId> = ids
            .into_iter()
            .filter(|id| self.chosen.contains(id))
            .collect();
        if !self.measure || chosen.is_empty() {
            return Ok(());
        }
        // The ratios the report states, measured paired (Criterion's medians of the same
        // benchmarks were taken seconds or minutes apart).
        if paired {
            let budget = if self.quick {
                crate::measure::scaling::QUICK
            } else {
                crate::measure::scaling::FULL
            };
            let t = Instant::now();
            let measured = crate::measure::scaling::measure(
                group,
                &chosen,
                strategies,
                &workloads,
                options,
                budget,
                &mut fastrand::Rng::new(),
            )?;
            let n = measured.len();
            let rounds = measured.first().map_or(0, |(_, p)| p.rounds);
            for (id, p) in measured {
                self.observed.benches.entry(id).or_default().paired = Some(p);
            }
            self.save_observed()?;
            eprintln!(
                "poolscale: {group}: {n} benchmarks' ratios measured paired in {rounds} interleaved rounds, {:.0} s",
                t.elapsed().as_secs_f64()
            );
        }
        self.track
            .capacity(&mut self.settings, &format!("after {group}"));
        self.settings
            .save(&criterion_home(), self.baseline.as_deref())
    }

    /// The break-even sweep: in a full run, or where the filter names `breakeven`.
    fn sweep(&mut self) -> crate::Result<()> {
        if !self.measure || !args::sweep_selected(&self.args) {
            return Ok(());
        }
        let budget = if self.quick {
            crate::measure::sweep::QUICK
        } else {
            crate::measure::sweep::FULL
        };
        let t = Instant::now();
        eprintln!(
            "poolscale: breakeven: every strategy against `sequential` at {} task sizes from 30 ns to 1 ms, paired (about {:.0} s)",
            crate::measure::sweep::SIZES_NS.len(),
            budget.estimated_secs()
        );
        let mut sweep = crate::measure::sweep::measure(
            self.strategies,
            self.options,
            self.settings.machine.logical_cores,
            &crate::measure::sweep::SIZES_NS,
            budget,
        )?;
        sweep.run_id = self.settings.run_id.clone();
        self.observed.breakeven = Some(sweep);
        self.save_observed()?;
        eprintln!(
            "poolscale: breakeven: measured in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// The closing instrument check and capacity sample, and the line that names the report.
    fn finish(mut self) -> crate::Result<()> {
        if self.measure {
            self.track.check(&mut self.settings, "end");
            self.settings
                .save(&criterion_home(), self.baseline.as_deref())?;
            let home = criterion_home();
            eprintln!(
                "poolscale: {} benchmarks measured in {}; results in `{}`.\n\
                 poolscale: the report: `cargo run --release -- report` in poolscale's checkout (or \
                 `poolscale report --criterion-dir {}`) writes target/poolscale/report/index.html, the page to open.",
                self.progress.started.len(),
                humantime::format_duration(Duration::from_secs(
                    self.progress.t0.elapsed().as_secs()
                )),
                home.display(),
                home.display()
            );
        }
        // The process pool's fork server is not needed past the suite: reap it now.
        crate::strategy::processes::forkserver::stop_all();
        Ok(())
    }
}

/// The lock of the Criterion directory: a second run measuring into it at the same time would
/// leave settings of one run beside results and observations of the other.
fn lock() -> crate::Result<crate::platform::fsutil::DirLock> {
    let home = criterion_home();
    std::fs::create_dir_all(&home).map_err(|e| crate::Error::Io {
        context: format!("cannot create `{}`", home.display()),
        source: e,
    })?;
    match crate::platform::fsutil::DirLock::acquire(&home, Duration::ZERO) {
        Err(crate::Error::Busy { .. }) => Err(crate::Error::CannotMeasure(format!(
            "another `cargo bench` is measuring into `{}`; wait for it to finish, or set \
             CRITERION_HOME to measure elsewhere",
            home.display()
        ))),
        other => other,
    }
}

/// A run with the same settings as the previous one continues its series: the report keeps the
/// previous results of the benchmarks this run does not measure (one group re-run). Returns the
/// previous run's observations, if any.
fn carried(settings: &mut Settings, baseline: Option<&str>) -> Option<Observations> {
    let home = criterion_home();
    let own = baseline.unwrap_or("new");
    let previous = Settings::load_exact(&home, own).ok().flatten()?;
    if !settings.carry_from(&previous) {
        return None;
    }
    eprintln!(
        "poolscale: same settings as run {} ({} earlier runs kept): the report keeps their results of what this run does not measure",
        previous.run_id.as_deref().unwrap_or("?"),
        settings.earlier_runs.len()
    );
    Observations::load(&home, own, previous.run_id.as_deref())
        .ok()
        .and_then(|o| o.ok())
        .flatten()
}

/// Prints the run's banner (how many benchmarks, about how long, the knobs, what the machine
/// gives now) and returns each chosen benchmark's estimate in seconds.
fn banner(
    settings: &Settings,
    chosen: &[BenchId],
    quick: bool,
    args: &[String],
) -> std::collections::BTreeMap<BenchId, f64> {
    // One countdown at 1 worker sizes the estimate (the models give every other map).
    let t = Instant::now();
    std::hint::black_box(crate::workload::countdown(settings.count));
    let countdown_ns = t.elapsed().as_nanos() as f64;
    // On a busy machine the parallel maps take longer: estimate with what it gives now.
    let cores = settings
        .given()
        .map_or(settings.machine.logical_cores as f64, |g| {
            g.median.clamp(1.0, settings.machine.logical_cores as f64)
        });
    let estimates: std::collections::BTreeMap<BenchId, f64> = chosen
        .iter()
        .map(|&id| {
            let e = estimate_one(id, &settings.workloads(), cores, countdown_ns);
            (id, if quick { e * QUICK_SHARE } else { e })
        })
        .collect();
    let sweep_budget = if quick {
        crate::measure::sweep::QUICK
    } else {
        crate::measure::sweep::FULL
    };
    let estimate = estimates.values().sum::<f64>()
        + if args::sweep_selected(args) {
            sweep_budget.estimated_secs()
        } else {
            0.0
        };
    eprintln!(
        "poolscale: {} benchmarks{} (about {:.0} min here, estimated from one countdown and corrected as the run goes); workers {:?}, countdown {}, nap {}, {} tasks, {} dispatch tasks; results in {}",
        chosen.len(),
        if quick { ", Criterion --quick" } else { "" },
        estimate / 60.0,
        settings.workers,
        settings.count,
        humantime::format_duration(settings.nap()),
        settings.tasks,
        settings.dispatch_tasks,
        criterion_home().display()
    );
    if let Some(given) = settings.given() {
        eprintln!(
            "poolscale: the machine gives {:.2} of its {} cores now{}",
            given.median,
            given.cores,
            if given.busy() {
                " (busy: every parallel strategy will read slower than on a quiet machine)"
            } else {
                ""
            }
        );
    }
    estimates
}

/// The entry point of a binary that serves as a sampling side of `poolscale gate --ab` (and as
/// the worker program and fork server of `processes`): call it first in `main`. With the hidden
/// argument of one of these modes it serves `strategies` and returns the exit code; otherwise
/// `None`, and `main` goes on. Register custom workloads before calling it: forked workers are
/// copies of the fork server, which is this binary at this point.
///
/// ```no_run
/// // First thing in `main`:
/// let suite = poolscale::strategy::Strategies::builtin();
/// if let Some(code) = poolscale::bench::serve(&suite) {
///     std::process::exit(code);
/// }
/// println!("not a sampling side");
/// ```
pub fn serve(strategies: &Strategies) -> Option<i32> {
    crate::hidden::serve(strategies)
}

/// Whether the countdown's loop is pinned in `program`, a binary that calls [`serve`] or
/// [`crate::main_with`]: starts it as a capacity probe, has it count down once and returns the
/// placement it reports (what `poolscale calibrate` checks for every binary it times).
///
/// ```no_run
/// use poolscale::workload::Placement;
/// let p = poolscale::bench::placement_of(std::path::Path::new("target/release/my-side"))?;
/// assert_eq!(p, Placement::Pinned);
/// # Ok::<(), poolscale::Error>(())
/// ```
pub fn placement_of(program: &std::path::Path) -> crate::Result<crate::workload::Placement> {
    let options = Options {
        worker_program: Some(program.to_path_buf()),
        ..Options::default()
    };
    let named = |e: crate::Error| {
        crate::Error::invalid(
            "probe program",
            program.display(),
            format!("it cannot serve as a capacity probe: {e}"),
        )
    };
    let mut probe = crate::measure::probe::Probe::start(1, 100_000, &options).map_err(named)?;
    let answers = probe.round().map_err(named)?;
    answers
        .first()
        .map(|a| a.placement)
        .ok_or_else(|| named(crate::Error::PoolBroken("no answer".into())))
}

#[cfg(test)]
mod tests {
    use super::args::{criterion_filter, has_flag, saved_baseline};
    use super::progress::{ESTIMATE_OVERHEAD_S, estimate_duration};
    use super::*;

    fn sweep(cores: usize) -> Vec<BenchId> {
        Group::ALL
            .into_iter()
            .flat_map(|g| {
                crate::strategy::StrategyKind::ALL
                    .into_iter()
                    .filter(move |k| g.measures(k.info()))
                    .flat_map(move |k| {
                        crate::results::settings::workers_for(cores)
                            .into_iter()
                            .map(move |w| BenchId::new(g, k, w))
                    })
            })
            .collect()
    }

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn every_form_of_save_baseline_is_recognised() {
        for line in [
            "scaling --bench --save-baseline main",
            "scaling --bench --save-baseline=main",
            "scaling --bench -s main",
            "scaling --bench -smain",
            "scaling --bench countdown --save-baseline main --noplot",
        ] {
            assert_eq!(
                saved_baseline(&args(line)).as_deref(),
                Some("main"),
                "{line}"
            );
        }
        assert_eq!(
            saved_baseline(&args("scaling --bench --baseline main")),
            None
        );
        assert_eq!(
            criterion_filter(&args("scaling --bench -s main square_sleep --noplot")),
            Some(("square_sleep".into(), false))
        );
        assert_eq!(criterion_filter(&args("scaling --bench --quick")), None);
        assert_eq!(
            criterion_filter(&args("scaling --bench --exact dispatch/threads/1")),
            Some(("dispatch/threads/1".into(), true))
        );
        assert!(has_flag(
            &args("x --measurement-time=3"),
            "--measurement-time"
        ));
        assert!(!has_flag(
            &args("x --measurement-times"),
            "--measurement-time"
        ));
        assert_eq!(
            saved_baseline(&args("scaling --bench --sample-size 10")),
            None
        );
    }

    #[test]
    fn the_estimate_follows_the_models_and_grows_with_the_cores() {
        let w = crate::results::settings::Settings::defaults().workloads();
        let one = |id: &str| estimate_duration(&[id.parse().unwrap()], &w, 2, 50e6).as_secs_f64();
        let o = ESTIMATE_OVERHEAD_S;
        // 4 rounds of 10 ms: one map to size the window, then the 1 s window holds them.
        assert!((one("square_sleep/threads/3") - (0.5 + 0.04 + 1.0 + o)).abs() < 1e-9);
        // gil computes serially: 4 × 50 ms per map, one to size the window, then twelve.
        assert!((one("countdown_weak/gil/4") - (0.5 + 13.0 * 0.2 + o)).abs() < 1e-9);
        let minutes: Vec<f64> = [2, 4, 16, 64]
            .iter()
            .map(|&c| estimate_duration(&sweep(c), &w, c, 50e6).as_secs_f64() / 60.0)
            .collect();
        eprintln!("estimated minutes for 2, 4, 16, 64 cores: {minutes:.1?}");
        assert!(minutes.windows(2).all(|p| p[0] < p[1]), "{minutes:?}");
    }
}
