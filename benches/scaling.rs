//! The poolscale suite: every strategy's wall-clock time against worker count, for the seed's two
//! workloads and two overhead probes.
//!
//! Run: `cargo bench` (all, ~5 minutes on 2 cores), `cargo bench -- --quick`, `cargo bench --
//! square_sleep` (one group), `cargo bench -- --list`. Results and HTML charts land in
//! `target/criterion/` (`report/index.html`); `poolscale report` turns them into scaling tables.
//!
//! Groups (ids `group/strategy/workers`) and the shape to expect:
//! - `countdown_weak`: each of w workers counts down the full count. Flat up to the core count,
//!   then rising; `sequential` and `gil` rise linearly (the seed's 2x at 2 workers).
//! - `countdown_strong`: one count split over w workers. Falls as 1/w up to the core count, except
//!   `sequential` and `gil`, which stay flat.
//! - `square_sleep`: ten naps. ceil(10/w) naps for every strategy but `sequential`, whatever the
//!   core count (`gil` too: sleeping releases the lock).
//! - `dispatch`: 1000 zero-nap tasks: per-task overhead (queueing, waking, pipe round trips).
//! - `startup`: start a pool of w workers, run one trivial job each, stop it.
//!
//! Knobs (environment): `POOLSCALE_WORKERS=1,2,16`, `POOLSCALE_COUNT`, `POOLSCALE_NAP`,
//! `POOLSCALE_TASKS`, `POOLSCALE_DISPATCH_TASKS` (see `poolscale::settings`). Criterion's own flags
//! (`--save-baseline`, `--baseline`, `--warm-up-time`, `--measurement-time`, `--sample-size`)
//! override the defaults below.
//!
//! Every map's output is checked against the expected results outside the timed region: a
//! broken strategy fails the bench rather than being timed.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use poolscale::group::{BenchId, Group};
use poolscale::measure::{Arm, Prepared};
use poolscale::observe::{Observations, Observed, draws_timeline};
use poolscale::settings::{Settings, criterion_filter, criterion_home, has_flag, saved_baseline};
use poolscale::strategy::Options;

/// The worker binary Cargo built alongside this bench.
fn options() -> Options {
    Options {
        worker_program: Some(env!("CARGO_BIN_EXE_poolscale").into()),
        ..Options::default()
    }
}

fn settings() -> Settings {
    match Settings::from_env() {
        Ok(mut s) => {
            s.start_run();
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

/// Records the settings beside Criterion's results, for the latest run and for a baseline saved
/// in any form Criterion accepts (`--save-baseline NAME`, `--save-baseline=NAME`, `-s NAME`).
fn record(settings: &Settings, args: &[String]) {
    if let Err(e) = settings.save(&criterion_home(), saved_baseline(args).as_deref()) {
        eprintln!("poolscale bench: {e}");
    }
}

/// The benchmarks this run will measure: every id of the suite, narrowed by Criterion's filter.
fn selected(settings: &Settings, args: &[String]) -> Vec<BenchId> {
    let all = Group::ALL.into_iter().flat_map(|g| {
        g.strategies()
            .into_iter()
            .flat_map(move |k| settings.workers.iter().map(move |&w| BenchId::new(g, k, w)))
    });
    match criterion_filter(args) {
        None => all.collect(),
        Some((f, true)) => all.filter(|id| id.to_string() == f).collect(),
        Some((f, false)) => match regex::Regex::new(&f) {
            Ok(re) => all.filter(|id| re.is_match(&id.to_string())).collect(),
            Err(_) => all.collect(), // Criterion reports the bad filter itself.
        },
    }
}

/// Progress on stderr: `[k/N] id (elapsed, ~time left)`.
struct Progress {
    total: usize,
    done: usize,
    t0: Instant,
}

impl Progress {
    fn next(&mut self, id: BenchId) {
        self.done += 1;
        let spent = self.t0.elapsed().as_secs_f64();
        let left = if self.done > 1 {
            let per = spent / (self.done - 1) as f64;
            format!(", ~{:.0} s left", per * (self.total + 1 - self.done) as f64)
        } else {
            String::new()
        };
        eprintln!("[{}/{}] {id} ({spent:.0} s{left})", self.done, self.total);
    }
}

fn suite(c: &mut Criterion) {
    let settings = settings();
    let args: Vec<String> = std::env::args().collect();
    let measure = measuring(&args);
    let listing = args.iter().any(|a| a == "--list");
    let chosen = if listing {
        Vec::new()
    } else {
        selected(&settings, &args)
    };
    if measure {
        record(&settings, &args);
        // One countdown at 1 worker sizes the estimate (the models give every other map).
        let t = Instant::now();
        std::hint::black_box(poolscale::workload::countdown(settings.count));
        let estimate = poolscale::group::estimate_duration(
            &chosen,
            &settings.workloads(),
            settings.machine.logical_cores,
            t.elapsed().as_nanos() as f64,
        );
        eprintln!(
            "poolscale: {} benchmarks (at least ~{:.0} min here); workers {:?}, countdown {}, nap {}, {} tasks, {} dispatch tasks; results in {}",
            chosen.len(),
            estimate.as_secs_f64() / 60.0,
            settings.workers,
            settings.count,
            humantime::format_duration(settings.nap()),
            settings.tasks,
            settings.dispatch_tasks,
            criterion_home().display()
        );
    }
    // Criterion's own --measurement-time wins; otherwise each long benchmark's window is sized
    // so that its samples fit (no "increase target time" warnings).
    let size_windows = measure && !has_flag(&args, "--measurement-time");
    let mut progress = Progress {
        total: chosen.len(),
        done: 0,
        t0: Instant::now(),
    };
    let workloads = settings.workloads();
    let mut observed = Observations::for_run(settings.run_id.clone());
    let baseline = saved_baseline(&args);
    for group in Group::ALL {
        let mut g = c.benchmark_group(group.as_str());
        if group.is_long() {
            g.sampling_mode(SamplingMode::Flat);
        }
        if group.times_wakeup() && !has_flag(&args, "--measurement-time") {
            // Criterion sizes its iterations by the times reported (microseconds of waiting),
            // while each iteration also rests WAKEUP_IDLE: a short window keeps it to seconds.
            g.sampling_mode(SamplingMode::Flat);
            g.warm_up_time(Duration::from_millis(5));
            g.measurement_time(Duration::from_millis(40));
        }
        for kind in group.strategies() {
            for &w in &settings.workers {
                let id = BenchId::new(group, kind, w);
                let start = || {
                    Prepared::start(id, &workloads, &options())
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
                            g.measurement_time(need.max(MEASUREMENT_TIME));
                        }
                    }
                    prepared = Some(p);
                }
                g.bench_function(BenchmarkId::new(kind.as_str(), w), |b| {
                    // Criterion calls this once per sample; a benchmark the filter parsing above
                    // did not foresee starts its pool here, still outside the timed routine.
                    let p = prepared.get_or_insert_with(start);
                    // One measuring path: timed maps, every output verified outside the clock.
                    b.iter_custom(|iters| p.sample(iters).unwrap_or_else(|e| panic!("{id}: {e}")))
                });
                // Beside Criterion's files: the CPU time its workers used and, for the
                // benchmarks the report draws, one map's timeline (run after the measurement).
                if let (true, Some(p)) = (measure, prepared.as_mut()) {
                    let timeline = draws_timeline(&id)
                        .then(|| p.timeline().unwrap_or_else(|e| panic!("{id}: {e}")));
                    observed.benches.insert(
                        id.to_string(),
                        Observed {
                            usage: p.usage(),
                            timeline,
                        },
                    );
                    if let Err(e) = observed.save(&criterion_home(), baseline.as_deref()) {
                        eprintln!("poolscale bench: {e}");
                    }
                }
            }
        }
        g.finish();
    }
}

/// Samples per benchmark: enough for a median and its interval, few enough for minutes.
const SAMPLES: usize = 10;
/// Default measurement window (a long benchmark's is widened so that its samples fit).
const MEASUREMENT_TIME: Duration = Duration::from_millis(1000);

criterion_group! {
    name = benches;
    // Ten samples and short windows keep the default run to minutes on 2 cores; the long groups
    // switch to flat sampling. 10,000 bootstrap resamples (Criterion's default is 100,000) give
    // the same confidence intervals to three digits and cut Criterion's per-bench analysis and
    // plotting from ~2 s to ~0.15 s. Criterion's command-line flags override all of these.
    config = Criterion::default()
        .sample_size(SAMPLES)
        .nresamples(10_000)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(MEASUREMENT_TIME);
    targets = suite
}
criterion_main!(benches);
