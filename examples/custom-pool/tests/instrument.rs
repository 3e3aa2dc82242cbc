//! The countdown's loop is pinned in this crate's binaries too (a user's crate built against
//! poolscale), and its binary serves as a capacity probe: what the instrument check needs.

use poolscale::probe::Probe;
use poolscale::strategy::Options;
use poolscale::workload::{Placement, placement};

fn pinned() -> Placement {
    if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        Placement::Pinned
    } else {
        Placement::Unpinned
    }
}

#[test]
fn the_loop_is_pinned_in_this_crates_binaries() {
    assert_eq!(placement(), pinned());
    let options = Options {
        worker_program: Some(env!("CARGO_BIN_EXE_custom-pool").into()),
        ..Options::default()
    };
    let mut probe = Probe::start(1, 100_000, &options).unwrap();
    let answers = probe.round().unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].placement, pinned());
    assert!(answers[0].ns > 0);
}
