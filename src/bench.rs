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
//!     poolscale::bench::suite(c, &suite(), &Options::default());
//! }
//!
//! criterion_group! { name = g; config = poolscale::bench::config(); targets = benches }
//! criterion_main!(g);
//! ```

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode};

use crate::analysis::ideal_with_cores;
use crate::group::Workloads;
use crate::group::{BenchId, Group, Model};
use crate::measure::{Arm, Prepared};
use crate::observe::{Observations, Observed, draws_timeline};
use crate::settings::Settings;
use crate::store::criterion_home;
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

/// The settings of this run, from the `POOLSCALE_*` variables (exit 2 with the reason if one is
/// invalid), marked as a run starting now and listing `strategies`.
fn settings(strategies: &Strategies) -> Settings {
    match Settings::from_env() {
        Ok(mut s) => {
            s.record_machine();
            s.start_run();
            s.strategies = strategies.names();
            s
        }
        Err(e) => {
            eprintln!("poolscale bench: {e}");
            std::process::exit(2);
        }
    }
}

/// Whether this is a measuring run (not `--list`, not `cargo test --benches`' single pass).
fn measuring(args: &[String]) -> bool {
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list")
}

/// The benchmarks this run will measure: every id of the suite, narrowed by Criterion's filter.
fn selected(settings: &Settings, args: &[String]) -> Vec<BenchId> {
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

/// Saves the settings beside Criterion's results; a run that cannot record what it measured with
/// fails (exit 2) rather than leave results no report can read.
fn save_settings(settings: &Settings, baseline: Option<&str>) {
    if let Err(e) = settings.save(&criterion_home(), baseline) {
        eprintln!("poolscale bench: {e}");
        std::process::exit(2);
    }
}

/// What a measuring run records about its own conditions: the instrument check (this binary and
/// its worker program timing the countdown in alternation) and what the machine gave.
struct Track {
    options: Options,
    worker: Option<std::path::PathBuf>,
    cores: usize,
}

impl Track {
    fn new(measure: bool, options: &Options, settings: &Settings) -> Track {
        let worker = if measure {
            options
                .worker_program
                .clone()
                .or_else(|| crate::strategy::processes::default_worker_program().ok())
        } else {
            None
        };
        Track {
            options: options.clone(),
            worker,
            cores: settings.machine.logical_cores,
        }
    }

    /// The instrument check and a capacity sample, at the run's `phase` (`start`, `end`).
    fn check(&self, settings: &mut Settings, phase: &str) {
        if let Some(worker) = &self.worker {
            match crate::instrument::calibrate_with_worker("bench", worker, phase, &self.options) {
                Ok(c) => {
                    for c in &c {
                        eprintln!(
                            "poolscale: instrument ({phase}): {} {:.3} ns per decrement [{:.3}, {:.3}], loop {}",
                            c.role,
                            c.ns_per_decrement.point,
                            c.ns_per_decrement.lower,
                            c.ns_per_decrement.upper,
                            c.placement.as_str()
                        );
                    }
                    settings.instrument.extend(c);
                }
                Err(e) => eprintln!("poolscale bench: instrument check skipped: {e}"),
            }
        }
        self.capacity(settings, phase);
    }

    /// One capacity sample, recorded as taken at `at`.
    fn capacity(&self, settings: &mut Settings, at: &str) {
        match crate::probe::capacity(self.cores, at, &self.options) {
            Ok(c) => settings.capacity.push(c),
            Err(e) => eprintln!("poolscale bench: capacity sample skipped: {e}"),
        }
    }
}

/// Progress on stderr: `[k/N] id (elapsed, ~time left)`. The time left is the estimate of the
/// benchmarks still to come, scaled by how the finished ones compared with their estimates: stable
/// from the first few benchmarks on, where an average per benchmark swings with each group's
/// length.
struct Progress {
    /// Each chosen benchmark's estimate, in seconds.
    estimates: std::collections::BTreeMap<BenchId, f64>,
    /// The benchmarks started so far.
    started: std::collections::BTreeSet<BenchId>,
    /// The estimates of those finished (all started but the last).
    estimated_done: f64,
    last: Option<BenchId>,
    t0: Instant,
}

impl Progress {
    fn new(estimates: std::collections::BTreeMap<BenchId, f64>) -> Progress {
        Progress {
            estimates,
            started: std::collections::BTreeSet::new(),
            estimated_done: 0.0,
            last: None,
            t0: Instant::now(),
        }
    }

    fn next(&mut self, id: BenchId) {
        if let Some(prev) = self.last.replace(id) {
            self.estimated_done += self.estimates.get(&prev).copied().unwrap_or(0.0);
        }
        self.started.insert(id);
        let spent = self.t0.elapsed().as_secs_f64();
        let remaining: f64 = self
            .estimates
            .iter()
            .filter(|(k, _)| !self.started.contains(*k))
            .map(|(_, v)| *v)
            .sum::<f64>()
            + self.estimates.get(&id).copied().unwrap_or(0.0);
        let pace = if self.estimated_done > 0.0 {
            (spent / self.estimated_done).clamp(0.25, 4.0)
        } else {
            1.0
        };
        eprintln!(
            "[{}/{}] {id} ({spent:.0} s, ~{:.0} s left)",
            self.started.len(),
            self.estimates.len(),
            pace * remaining
        );
    }
}

/// Measures `strategies` in every group at the sweep's worker counts (`POOLSCALE_WORKERS`, else
/// sized to this machine), as Criterion benchmarks `group/strategy/workers`. Pools start outside
/// the clock (except in `startup`), every map's output is checked outside it (a wrong result
/// panics, naming the benchmark), the settings and each benchmark's CPU time and timeline are
/// recorded beside Criterion's files for `poolscale report`. `options` start the pools (e.g. the
/// worker program of `processes`).
pub fn suite(c: &mut Criterion, strategies: &Strategies, options: &Options) {
    let settings = settings(strategies);
    let args: Vec<String> = std::env::args().collect();
    let measure = measuring(&args);
    let listing = args.iter().any(|a| a == "--list");
    let chosen = if listing {
        Vec::new()
    } else {
        selected(&settings, &args)
    };
    let baseline = saved_baseline(&args);
    let mut settings = settings;
    // The countdown's loop must be pinned in this binary: a run whose instrument moves with code
    // layout measures the linker, not the strategies (checked in every run, `cargo test --benches`
    // included).
    if crate::workload::placement() == crate::workload::Placement::Broken {
        eprintln!(
            "poolscale bench: the countdown's pinned loop is not at a 64-byte boundary in this \
             binary ({}); its cost per decrement would depend on code layout",
            std::env::current_exe().map_or_else(|_| "?".into(), |p| p.display().to_string())
        );
        std::process::exit(2);
    }
    let track = Track::new(measure, options, &settings);
    let quick = args.iter().any(|a| a == "--quick");
    settings.quick = quick;
    let mut estimates = std::collections::BTreeMap::new();
    // One measuring run per Criterion directory: a second one at the same time would leave
    // settings of one run beside results and observations of the other.
    let _lock = measure.then(|| {
        let home = criterion_home();
        if let Err(e) = std::fs::create_dir_all(&home) {
            eprintln!("poolscale bench: cannot create `{}`: {e}", home.display());
            std::process::exit(2);
        }
        match crate::fsutil::DirLock::acquire(&home, Duration::ZERO) {
            Ok(lock) => lock,
            Err(crate::Error::Busy { .. }) => {
                eprintln!(
                    "poolscale bench: another `cargo bench` is measuring into `{}`; wait for it to finish, or set CRITERION_HOME to measure elsewhere",
                    home.display()
                );
                std::process::exit(2);
            }
            Err(e) => {
                eprintln!("poolscale bench: {e}");
                std::process::exit(2);
            }
        }
    });
    // A run with the same settings as the previous one continues its series: the report keeps
    // the previous results of the benchmarks this run does not measure (one group re-run).
    let mut carried = None;
    if measure {
        let home = criterion_home();
        let own = baseline.as_deref().unwrap_or("new");
        if let Ok(Some(previous)) = Settings::load_exact(&home, own)
            && settings.carry_from(&previous)
        {
            carried = Observations::load(&home, own, previous.run_id.as_deref())
                .ok()
                .and_then(|o| o.ok())
                .flatten();
            eprintln!(
                "poolscale: same settings as run {} ({} earlier runs kept): the report keeps their results of what this run does not measure",
                previous.run_id.as_deref().unwrap_or("?"),
                settings.earlier_runs.len()
            );
        }
    }
    if measure {
        track.check(&mut settings, "start");
        save_settings(&settings, baseline.as_deref());
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
        estimates = chosen
            .iter()
            .map(|&id| {
                let e = estimate_one(id, &settings.workloads(), cores, countdown_ns);
                (id, if quick { e * QUICK_SHARE } else { e })
            })
            .collect();
        let sweep_budget = if quick {
            crate::breakeven::QUICK
        } else {
            crate::breakeven::FULL
        };
        let estimate = estimates.values().sum::<f64>()
            + if sweep_selected(&args) {
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
    }
    // Criterion's own --measurement-time wins; otherwise each long benchmark's window is sized
    // so that its samples fit (no "increase target time" warnings).
    let size_windows = measure && !has_flag(&args, "--measurement-time");
    let mut progress = Progress::new(estimates);
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
    if measure && let Err(e) = observed.save(&criterion_home(), baseline.as_deref()) {
        eprintln!("poolscale bench: {e}");
        std::process::exit(2);
    }
    for group in Group::ALL {
        let mut g = c.benchmark_group(group.as_str());
        if group.is_long() {
            g.sampling_mode(SamplingMode::Flat);
        }
        // The CPU-bound groups' ratios are measured paired after the group (below); Criterion
        // gives their absolute times, which need no longer window than SAMPLES maps and a
        // warm-up of a few (each map runs for tens of milliseconds). This pays for the paired pass.
        let paired = matches!(group.model(), Model::Weak | Model::Strong);
        if paired && !has_flag(&args, "--warm-up-time") {
            g.warm_up_time(PAIRED_WARM_UP);
        }
        if group.times_wakeup() && !has_flag(&args, "--measurement-time") {
            // Criterion sizes its iterations by the times reported (microseconds of waiting),
            // while each iteration also rests WAKEUP_IDLE: a short window keeps it to seconds.
            g.sampling_mode(SamplingMode::Flat);
            g.warm_up_time(Duration::from_millis(5));
            g.measurement_time(Duration::from_millis(40));
        }
        for id in group.ids(&settings.strategies, &settings.workers) {
            let start = || {
                Prepared::start_in(strategies, id, &workloads, options)
                    .unwrap_or_else(|e| panic!("{id}: cannot start the pool: {e}"))
            };
            // Started before Criterion's clock and only for benchmarks that run (not for
            // `--list` or ones a filter skips).
            let mut prepared = None;
            if chosen.contains(&id) {
                let mut p = start();
                if measure {
                    progress.next(id);
                    if size_windows && group.is_long() {
                        // One timed map: the window holds SAMPLES of them, with headroom.
                        let one = p.sample(1).unwrap_or_else(|e| panic!("{id}: {e}"));
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
            if let (true, Some(p)) = (measure, prepared.as_mut()) {
                let timeline = draws_timeline(&id)
                    .then(|| p.timeline().unwrap_or_else(|e| panic!("{id}: {e}")));
                observed.benches.insert(
                    id,
                    Observed {
                        usage: p.usage(),
                        timeline,
                        run_id: settings.run_id.clone(),
                        // Criterion has written this benchmark's estimates by now.
                        estimates: crate::data::estimates_digest(&criterion_home(), id),
                        paired: None,
                    },
                );
                if let Err(e) = observed.save(&criterion_home(), baseline.as_deref()) {
                    eprintln!("poolscale bench: {e}");
                    std::process::exit(2);
                }
            }
        }
        g.finish();
        // The ratios the report states, measured paired (Criterion's medians of the same
        // benchmarks were taken seconds or minutes apart).
        if measure && matches!(group.model(), Model::Weak | Model::Strong) {
            let ids: Vec<BenchId> = group
                .ids(&settings.strategies, &settings.workers)
                .into_iter()
                .filter(|id| chosen.contains(id))
                .collect();
            if !ids.is_empty() {
                let budget = if quick {
                    crate::scaling::QUICK
                } else {
                    crate::scaling::FULL
                };
                let t = Instant::now();
                let measured = crate::scaling::measure(
                    group,
                    &ids,
                    strategies,
                    &workloads,
                    options,
                    budget,
                    &mut fastrand::Rng::new(),
                )
                .unwrap_or_else(|e| panic!("{group}: paired ratios: {e}"));
                let n = measured.len();
                let rounds = measured.first().map_or(0, |(_, p)| p.rounds);
                for (id, p) in measured {
                    observed.benches.entry(id).or_default().paired = Some(p);
                }
                if let Err(e) = observed.save(&criterion_home(), baseline.as_deref()) {
                    eprintln!("poolscale bench: {e}");
                    std::process::exit(2);
                }
                eprintln!(
                    "poolscale: {group}: {n} benchmarks' ratios measured paired in {rounds} interleaved rounds, {:.0} s",
                    t.elapsed().as_secs_f64()
                );
            }
        }
        if measure
            && group
                .ids(&settings.strategies, &settings.workers)
                .iter()
                .any(|id| chosen.contains(id))
        {
            track.capacity(&mut settings, &format!("after {group}"));
            save_settings(&settings, baseline.as_deref());
        }
    }
    // The break-even sweep: in a full run, or where the filter names `breakeven`.
    if measure && sweep_selected(&args) {
        let budget = if quick {
            crate::breakeven::QUICK
        } else {
            crate::breakeven::FULL
        };
        let t = Instant::now();
        eprintln!(
            "poolscale: breakeven: every strategy against `sequential` at {} task sizes from 30 ns to 1 ms, paired (about {:.0} s)",
            crate::breakeven::SIZES_NS.len(),
            budget.estimated_secs()
        );
        let mut sweep = crate::breakeven::measure(
            strategies,
            options,
            settings.machine.logical_cores,
            &crate::breakeven::SIZES_NS,
            budget,
        )
        .unwrap_or_else(|e| panic!("breakeven: {e}"));
        sweep.run_id = settings.run_id.clone();
        observed.breakeven = Some(sweep);
        if let Err(e) = observed.save(&criterion_home(), baseline.as_deref()) {
            eprintln!("poolscale bench: {e}");
            std::process::exit(2);
        }
        eprintln!(
            "poolscale: breakeven: measured in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    if measure {
        track.check(&mut settings, "end");
        save_settings(&settings, baseline.as_deref());
        let home = criterion_home();
        eprintln!(
            "poolscale: {} benchmarks measured in {}; results in `{}`.\n\
             poolscale: the report: `cargo run --release -- report` in poolscale's checkout (or \
             `poolscale report --criterion-dir {}`) writes target/poolscale/report/index.html, the page to open.",
            progress.started.len(),
            humantime::format_duration(Duration::from_secs(progress.t0.elapsed().as_secs())),
            home.display(),
            home.display()
        );
    }
    // The process pool's fork server is not needed past the suite: reap it now.
    crate::strategy::processes::forkserver::stop_all();
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
    let mut probe = crate::probe::Probe::start(1, 100_000, &options).map_err(named)?;
    let answers = probe.round().map_err(named)?;
    answers
        .first()
        .map(|a| a.placement)
        .ok_or_else(|| named(crate::Error::PoolBroken("no answer".into())))
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
fn sweep_selected(args: &[String]) -> bool {
    match criterion_filter(args) {
        None => true,
        Some((f, true)) => f == crate::breakeven::NAME,
        Some((f, false)) => {
            regex::Regex::new(&f).is_ok_and(|re| re.is_match(crate::breakeven::NAME))
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

/// About how long `cargo bench` takes to measure `ids` with Criterion's defaults as the bench
/// sets them (a 0.5 s warm-up, then ten samples in a window of at least 1 s, widened to hold ten
/// maps of a long group with 20% headroom), on a machine of `cores` cores where one countdown
/// of `workloads.count` takes `countdown_ns`. Each map is taken at its model's ideal (see
/// [`crate::analysis::ideal_ns`]), so this is a lower estimate, ~0.3 s per benchmark is added for
/// Criterion's analysis and the pool's start-up.
#[cfg(test)]
fn estimate_duration(
    ids: &[BenchId],
    workloads: &Workloads,
    cores: usize,
    countdown_ns: f64,
) -> std::time::Duration {
    let secs: f64 = ids
        .iter()
        .map(|id| estimate_one(*id, workloads, cores as f64, countdown_ns))
        .sum();
    std::time::Duration::from_secs_f64(secs)
}

/// Seconds one benchmark takes under the suite's Criterion configuration (see
/// [`estimate_duration`]), on a machine that gives `cores` cores' worth of computing (a fraction
/// on a busy machine: what the run's first capacity sample measured).
fn estimate_one(id: BenchId, workloads: &Workloads, cores: f64, countdown_ns: f64) -> f64 {
    let info = id.strategy.info();
    let t1 = match id.group {
        Group::CountdownWeak | Group::CountdownStrong => Some(countdown_ns),
        _ => None,
    };
    let map_s =
        ideal_with_cores(id.group, &info, id.workers, t1, cores, workloads).unwrap_or(0.0) / 1e9;
    if id.group.times_wakeup() {
        // Flat sampling in a 40 ms window after a 5 ms warm-up: the rests dominate.
        return 0.5 + ESTIMATE_OVERHEAD_S;
    }
    let window = if id.group.is_long() {
        // One map to size the window, then ten maps in a window of 12 maps (at least 1 s).
        map_s + (map_s * 12.0).max(1.0)
    } else {
        1.0
    };
    0.5 + window + ESTIMATE_OVERHEAD_S
}

/// Seconds per benchmark beyond its warm-up and window: Criterion's analysis (10,000 resamples)
/// and its HTML charts, the pool's start, the CPU-time reads and a timeline for some.
const ESTIMATE_OVERHEAD_S: f64 = 0.6;

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(cores: usize) -> Vec<BenchId> {
        Group::ALL
            .into_iter()
            .flat_map(|g| {
                crate::strategy::StrategyKind::ALL
                    .into_iter()
                    .filter(move |k| g.measures(k.info()))
                    .flat_map(move |k| {
                        crate::settings::workers_for(cores)
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
        let w = crate::settings::Settings::defaults().workloads();
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
