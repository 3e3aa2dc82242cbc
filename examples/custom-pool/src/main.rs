//! `custom-pool`: a sampling side for `poolscale gate --ab`, measuring this crate's suite
//! (`threads`, `rayon` and `mpsc`), and a worker binary for poolscale's process pool that knows
//! this crate's workload (`suite()` registers it). Build two versions of it and let the gate
//! compare them:
//!
//! ```sh
//! cargo build --release
//! poolscale gate --ab OLD/custom-pool --new target/release/custom-pool --filter '/mpsc/'
//! ```

fn main() {
    if let Some(code) = poolscale::bench::serve(&custom_pool::suite()) {
        std::process::exit(code);
    }
    eprintln!(
        "custom-pool: a sampling side of `poolscale gate --ab`; give its path to --ab or --new"
    );
    std::process::exit(2);
}
