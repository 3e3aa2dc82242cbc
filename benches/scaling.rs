//! The poolscale suite: every built-in strategy's wall-clock and CPU time against worker count,
//! for the seed's two workloads and the dispatch and start-up probes. One call of
//! [`poolscale::bench::suite`], the function a crate of yours calls to measure its own pools.
//!
//! Run: `cargo bench` (all), `cargo bench -- --quick`, `cargo bench -- square_sleep` (one group),
//! `cargo bench -- --list`. Results and HTML charts land in `target/criterion/`
//! (`report/index.html`); `poolscale report` turns them into scaling tables.
//!
//! Knobs (environment): `POOLSCALE_WORKERS=1,2,16`, `POOLSCALE_COUNT`, `POOLSCALE_NAP`,
//! `POOLSCALE_TASKS`, `POOLSCALE_DISPATCH_TASKS` (see `poolscale::settings`). Criterion's own flags
//! (`--save-baseline`, `--baseline`, `--warm-up-time`, `--measurement-time`, `--sample-size`)
//! override the defaults of `poolscale::bench::config`.

use criterion::{Criterion, criterion_group};
use poolscale::strategy::{Options, Strategies};

fn suite(c: &mut Criterion) {
    // The worker binary Cargo built alongside this bench runs the process pool's workers.
    let options = Options {
        worker_program: Some(env!("CARGO_BIN_EXE_poolscale").into()),
        ..Options::default()
    };
    // A run that cannot measure as it must (a bad POOLSCALE_* variable, another run measuring
    // into the same directory) is an error; the bench binary says so and exits 2.
    if let Err(e) = poolscale::bench::suite(c, &Strategies::builtin(), &options) {
        eprintln!("poolscale bench: {e}");
        std::process::exit(2);
    }
}

criterion_group! {
    name = benches;
    config = poolscale::bench::config();
    targets = suite
}
/// Criterion's `criterion_main!`, preceded by poolscale's hidden modes: the bench binary can be
/// timed as a capacity probe (`poolscale calibrate target/release/deps/scaling-…`), so the
/// instrument check can compare it with any other binary.
fn main() {
    if let Some(code) = poolscale::bench::serve(&Strategies::builtin()) {
        std::process::exit(code);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
