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

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use poolscale::group::{BenchId, Group};
use poolscale::measure::{Arm, Prepared};
use poolscale::settings::{Settings, criterion_home};
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
        Ok(s) => s,
        Err(e) => {
            eprintln!("poolscale bench: {e}");
            std::process::exit(2);
        }
    }
}

/// Records the settings beside Criterion's results when this is a real measuring run.
fn record(settings: &Settings) {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--list") {
        return;
    }
    let baseline = args
        .iter()
        .position(|a| a == "--save-baseline")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    if let Err(e) = settings.save(&criterion_home(), baseline) {
        eprintln!("poolscale bench: {e}");
    }
}

fn suite(c: &mut Criterion) {
    let settings = settings();
    record(&settings);
    let workloads = settings.workloads();
    for group in Group::ALL {
        let mut g = c.benchmark_group(group.as_str());
        if group.is_long() {
            g.sampling_mode(SamplingMode::Flat);
        }
        for kind in group.strategies() {
            for &w in &settings.workers {
                let id = BenchId::new(group, kind, w);
                let mut prepared: Option<Prepared> = None;
                g.bench_function(BenchmarkId::new(kind.as_str(), w), |b| {
                    // Criterion calls this once per sample. The pool starts on the first call,
                    // outside the timed routine, and only for benchmarks that run (not for
                    // `--list` or ones a filter skips).
                    let prepared = prepared.get_or_insert_with(|| {
                        Prepared::start(id, &workloads, &options())
                            .unwrap_or_else(|e| panic!("{id}: cannot start the pool: {e}"))
                    });
                    // One measuring path: timed maps, every output verified outside the clock.
                    b.iter_custom(|iters| {
                        prepared
                            .sample(iters)
                            .unwrap_or_else(|e| panic!("{id}: {e}"))
                    })
                });
            }
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    // Ten samples and short windows keep the default run to minutes on 2 cores; the long groups
    // switch to flat sampling. 10,000 bootstrap resamples (Criterion's default is 100,000) give
    // the same confidence intervals to three digits and cut Criterion's per-bench analysis and
    // plotting from ~2 s to ~0.15 s. Criterion's command-line flags override all of these.
    config = Criterion::default()
        .sample_size(10)
        .nresamples(10_000)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1000));
    targets = suite
}
criterion_main!(benches);
