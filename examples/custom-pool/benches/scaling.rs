//! `cargo bench`: poolscale's groups for `sequential`, `threads`, `rayon` and this crate's `mpsc`,
//! ids `group/strategy/workers`, results in `target/criterion/` for `poolscale report`.

use criterion::{Criterion, criterion_group, criterion_main};
use poolscale::strategy::Options;

fn benches(c: &mut Criterion) {
    poolscale::bench::suite(c, &custom_pool::suite(), &Options::default());
}

criterion_group! {
    name = suite;
    config = poolscale::bench::config();
    targets = benches
}
criterion_main!(suite);
