//! `custom-pool`: the `poolscale` command line, knowing this crate's suite (`sequential`,
//! `threads`, `rayon` and `mpsc`). So `custom-pool run --strategy mpsc …`, `custom-pool seed …`
//! and `custom-pool gate --paired-invariants` measure this crate's pool, and the binary is also
//! its own worker program (its workload registered), capacity probe and sampling side of
//! `poolscale gate --ab`. Build two versions of it and let the gate compare them:
//!
//! ```sh
//! cargo build --release
//! poolscale gate --ab OLD/custom-pool --new target/release/custom-pool --filter '/mpsc/'
//! ```

fn main() -> std::process::ExitCode {
    poolscale::main_with(&custom_pool::suite())
}
