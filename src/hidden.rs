//! The hidden modes a poolscale binary (or a binary of yours, through `poolscale::bench::serve`
//! or `poolscale::main_with`) runs as a child of poolscale, chosen by its first argument: a
//! process-pool worker, the fork server, a capacity probe, or a sampling side of `gate --ab`. One
//! dispatcher, so every binary that can be a worker program can be all of them. It sits above
//! every mode it starts; the children's common ground is [`crate::platform::child`].

use crate::strategy::Strategies;
use crate::strategy::processes::{self, forkserver};

/// Runs the hidden mode named by this process's first argument, serving `strategies` as a
/// sampling side, and returns its exit code; `None` when the first argument names no hidden mode.
pub fn serve(strategies: &Strategies) -> Option<i32> {
    let arg = std::env::args_os().nth(1)?;
    if arg == processes::WORKER_ARG {
        Some(processes::worker::serve())
    } else if arg == forkserver::FORKSERVER_ARG {
        Some(forkserver::serve())
    } else if arg == crate::measure::probe::PROBE_ARG {
        Some(crate::measure::probe::serve())
    } else if arg == crate::gate::sampling::SAMPLE_ARG {
        let code = crate::gate::sampling::serve(strategies);
        forkserver::stop_all();
        Some(code)
    } else {
        None
    }
}
