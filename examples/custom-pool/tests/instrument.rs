//! The countdown's loop is pinned in this crate's binaries too (a user's crate built against
//! poolscale), and its binary serves as a capacity probe: what the instrument check needs.

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
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_custom-pool"));
    assert_eq!(poolscale::bench::placement_of(program).unwrap(), pinned());
}

#[test]
fn a_program_that_is_no_probe_is_an_error_not_a_hang() {
    let e = poolscale::bench::placement_of(std::path::Path::new("/bin/true")).unwrap_err();
    assert!(e.to_string().contains("true"), "{e}");
}
