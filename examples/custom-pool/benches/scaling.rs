//! `cargo bench`: poolscale's groups for `sequential`, `threads`, `rayon` and this crate's `mpsc`,
//! ids `group/strategy/workers`, results in `target/criterion/` for `poolscale report`.

use criterion::{Criterion, criterion_group, criterion_main};
use poolscale::strategy::Options;

fn benches(c: &mut Criterion) {
    // This crate's binary is its worker program: it runs the capacity probe and the instrument
    // check's worker side (Cargo builds it, and names its path, for every bench target).
    let options = Options {
        worker_program: Some(env!("CARGO_BIN_EXE_custom-pool").into()),
        ..Options::default()
    };
    // A run that cannot measure as it must (a bad POOLSCALE_* variable, another run measuring
    // into the same directory) is an error; the bench binary says so and exits 2.
    if let Err(e) = poolscale::bench::suite(c, &custom_pool::suite(), &options) {
        eprintln!("poolscale bench: {e}");
        std::process::exit(2);
    }
}

criterion_group! {
    name = suite;
    config = poolscale::bench::config();
    targets = benches
}
criterion_main!(suite);
