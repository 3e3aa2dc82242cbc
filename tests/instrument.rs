//! The instrument: the countdown's loop is pinned machine code at a 64-byte boundary in every
//! binary `cargo test` builds (this test binary, the `poolscale` binary, the library's own unit
//! tests and, through `cargo test --benches`, the bench binary), and every measuring run can
//! time it in each binary. Correctness only: no assertion on speed.

mod common;

use std::time::{Duration, Instant};

use common::{bin, options, poolscale};
use poolscale::internal::Probe;
use poolscale::workload::{Placement, placement};

#[test]
fn the_loop_is_pinned_in_this_test_binary() {
    if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        assert_eq!(placement(), Placement::Pinned);
    } else {
        assert_eq!(placement(), Placement::Unpinned);
    }
}

#[test]
fn the_loop_is_pinned_in_the_poolscale_binary_and_calibrate_compares_binaries() {
    let program = bin();
    let (code, out, err) = poolscale(&["calibrate", program.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}\n{err}");
    // Two binaries, each checked by itself: the running `poolscale` and the one it started as a
    // probe process.
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("run 1 ")).collect();
    assert_eq!(rows.len(), 2, "{out}");
    for row in rows {
        let expected = if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            " pinned "
        } else {
            " unpinned "
        };
        assert!(row.contains(expected), "{row}");
    }
    assert!(out.contains("largest difference between binaries"), "{out}");
}

#[test]
fn a_probe_answers_with_its_own_time_and_placement() {
    let mut probe = Probe::start(2, 200_000, &options()).unwrap();
    let answers = probe.round().unwrap();
    assert_eq!(answers.len(), 2);
    for a in answers {
        assert!(a.ns > 0);
        assert_ne!(a.placement, Placement::Broken);
    }
}

#[test]
fn a_stopped_probe_is_killed_at_its_deadline_not_waited_for() {
    let mut probe = Probe::start(1, 1_000, &options()).unwrap();
    probe.set_answer_timeout(Duration::from_millis(500));
    let pid = probe.pids()[0];
    common::signal(pid, libc::SIGSTOP);
    let t = Instant::now();
    let e = probe.round().unwrap_err().to_string();
    assert!(
        e.contains(&format!("pid {pid}")) && e.contains("did not answer") && e.contains("killed"),
        "{e}"
    );
    // Bounded: the deadline plus a poll tick, never the probe's whim (generous for a busy VM).
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    drop(probe);
    assert!(
        !common::exists(pid),
        "the stopped probe {pid} was not reaped"
    );
}

#[test]
fn capacity_is_sampled_with_probe_processes() {
    let c = poolscale::internal::capacity(2, "test", &options()).unwrap();
    assert_eq!((c.cores, c.at.as_str()), (2, "test"));
    assert!(c.given.is_valid() && c.given.point > 0.0, "{c:?}");
}
