//! The emulated interpreter lock really serialises computation and changes hands during a long
//! countdown; sleeping releases it. Counts, not times.

use std::time::Duration;

use poolscale::internal::GilThreads;
use poolscale::{Strategy, workload};

#[test]
fn two_workers_never_compute_at_once_and_take_turns() {
    // 100 µs switch interval; two jobs of 20M decrements each take tens of milliseconds even in
    // an optimised build, so the waiting thread asks for the lock many times.
    // On a busy machine one worker may finish before the other even starts, so a map in which
    // they never contended proves nothing: up to five maps, the counters accumulating.
    let mut pool = GilThreads::new(2, Duration::from_micros(100));
    let jobs = workload::countdown_jobs(20_000_000, 2, false);
    let mut out = Vec::new();
    for _ in 0..5 {
        out = pool.map(&jobs).unwrap();
        assert_eq!(
            out.iter().map(|o| o.value).collect::<Vec<_>>(),
            vec![20_000_000; 2]
        );
        assert_eq!(
            pool.stats().overlaps,
            0,
            "two threads held the lock at once"
        );
        let s = pool.stats();
        if s.drop_requests >= 2 && s.handoffs >= 4 {
            break;
        }
    }
    let s = pool.stats();
    assert!(
        s.drop_requests >= 2,
        "the waiter never asked for the lock: {s:?}"
    );
    assert!(
        s.handoffs >= 4,
        "the lock did not change hands repeatedly: {s:?}"
    );
    // Both workers ran a job.
    let mut workers: Vec<usize> = out.iter().map(|o| o.worker).collect();
    workers.sort_unstable();
    assert_eq!(workers, vec![0, 1]);
}

#[test]
fn sleeping_releases_the_lock() {
    // Four 200 ms naps on four workers: if sleeping held the lock, each job would start only
    // after the previous one finished. Released, all four start before any finishes.
    let mut pool = GilThreads::new(4, Duration::from_millis(5));
    let jobs = workload::square_jobs(4, Duration::from_millis(200));
    let out = pool.map(&jobs).unwrap();
    assert_eq!(
        out.iter().map(|o| o.value).collect::<Vec<_>>(),
        vec![0, 1, 4, 9]
    );
    let first_finish = out.iter().map(|o| o.finished_ns).min().unwrap();
    let last_start = out.iter().map(|o| o.started_ns).max().unwrap();
    assert!(last_start < first_finish, "naps did not overlap: {out:?}");
    assert_eq!(pool.stats().overlaps, 0);
}
