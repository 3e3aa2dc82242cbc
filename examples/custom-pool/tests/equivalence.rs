//! The contract every strategy keeps, for this crate's `mpsc`: the results of `sequential`, in
//! input order, with valid worker indices, on the timed and the untimed path, pool reused.

use std::time::Duration;

use poolscale::strategy::{Options, StrategyName, verify};
use poolscale::{Job, workload};

fn jobs() -> Vec<Vec<Job>> {
    vec![
        Vec::new(),
        workload::square_jobs(1, Duration::ZERO),
        workload::square_jobs(1000, Duration::ZERO),
        workload::square_jobs(10, Duration::from_millis(2)),
        workload::countdown_jobs(200_000, 3, false),
        workload::countdown_jobs(1_000_001, 4, true),
    ]
}

#[test]
fn mpsc_matches_sequential_at_every_worker_count() {
    let suite = custom_pool::suite();
    let mpsc: StrategyName = "mpsc".parse().unwrap();
    for workers in 1..=5 {
        let mut pool = suite.start(mpsc, workers, &Options::default()).unwrap();
        assert_eq!((pool.name(), pool.workers()), ("mpsc", workers));
        for jobs in jobs() {
            let expected: Vec<u64> = jobs.iter().map(Job::expected).collect();
            for out in [pool.map(&jobs).unwrap(), pool.map_untimed(&jobs).unwrap()] {
                let got: Vec<u64> = out.iter().map(|o| o.value).collect();
                assert_eq!(got, expected, "{workers} workers");
                verify(&jobs, &out, workers).unwrap();
            }
        }
    }
}

#[test]
fn timed_maps_tell_each_start_and_time_each_job() {
    let suite = custom_pool::suite();
    let mut pool = suite
        .start("mpsc".parse().unwrap(), 3, &Options::default())
        .unwrap();
    let jobs = workload::square_jobs(9, Duration::from_millis(5));
    let seen = std::sync::Mutex::new(Vec::new());
    let out = pool
        .map_observed(&jobs, &|s| seen.lock().unwrap().push(s.job))
        .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort_unstable();
    assert_eq!(seen, (0..9).collect::<Vec<_>>());
    assert!(
        out.iter()
            .all(|o| o.finished_ns >= o.started_ns + 4_000_000),
        "{out:?}"
    );
    // Three workers share the nine naps.
    let mut workers: Vec<usize> = out.iter().map(|o| o.worker).collect();
    workers.sort_unstable();
    workers.dedup();
    assert!(workers.len() > 1, "{workers:?}");
}

#[test]
fn the_suite_declares_mpsc_beside_the_builtins() {
    let names: Vec<&str> = custom_pool::suite()
        .entries()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["sequential", "threads", "rayon", "mpsc"]);
    // The models and checks read its declared facts, not its name.
    let mpsc: StrategyName = "mpsc".parse().unwrap();
    assert!(mpsc.computes_in_parallel() && mpsc.info().preemptive);
}
