//! The core property: every strategy, at every worker count, returns exactly what `sequential`
//! returns, in input order, with valid worker indices. Pools are started once and reused across
//! all cases, so reuse is tested too.

mod common;

use std::cell::RefCell;
use std::time::Duration;

use poolscale::strategy::verify;
use poolscale::{Job, Strategy, StrategyKind};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use proptest::test_runner::{Config, TestRunner};

fn job() -> impl proptest::strategy::Strategy<Value = Job> {
    prop_oneof![
        (0u64..20_000).prop_map(|n| Job::Countdown { n }),
        (any::<u64>(), 0u64..200_000).prop_map(|(x, nap_ns)| Job::Square { x, nap_ns }),
    ]
}

#[test]
fn every_strategy_matches_sequential() {
    let pools: Vec<RefCell<Box<dyn Strategy>>> = StrategyKind::ALL
        .into_iter()
        .flat_map(|k| (1..=5).map(move |w| (k, w)))
        .map(|(k, w)| RefCell::new(k.start(w, &common::options()).expect("start pool")))
        .collect();
    let mut baseline = StrategyKind::Sequential
        .start(1, &common::options())
        .expect("start sequential");
    let baseline = RefCell::new(&mut baseline);
    let mut runner = TestRunner::new(Config::with_cases(48));
    runner
        .run(&prop::collection::vec(job(), 0..24), |jobs| {
            let expected: Vec<u64> = baseline
                .borrow_mut()
                .map(&jobs)
                .expect("sequential")
                .iter()
                .map(|o| o.value)
                .collect();
            for pool in &pools {
                let mut pool = pool.borrow_mut();
                let out = pool
                    .map(&jobs)
                    .map_err(|e| TestCaseError::fail(format!("{}: {e}", pool.name())))?;
                let got: Vec<u64> = out.iter().map(|o| o.value).collect();
                prop_assert_eq!(
                    &got,
                    &expected,
                    "{} with {} workers",
                    pool.name(),
                    pool.workers()
                );
                prop_assert!(verify(&jobs, &out, pool.workers()).is_ok());
                // The benchmarks' untimed path returns the same.
                let fast = pool
                    .map_untimed(&jobs)
                    .map_err(|e| TestCaseError::fail(format!("{}: {e}", pool.name())))?;
                let got: Vec<u64> = fast.iter().map(|o| o.value).collect();
                prop_assert_eq!(&got, &expected, "{} untimed", pool.name());
                prop_assert!(verify(&jobs, &fast, pool.workers()).is_ok());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn more_workers_than_jobs() {
    let jobs = poolscale::workload::square_jobs(3, Duration::from_millis(1));
    for kind in StrategyKind::ALL {
        let mut pool = kind.start(8, &common::options()).unwrap();
        let out = pool.map(&jobs).unwrap();
        assert_eq!(
            out.iter().map(|o| o.value).collect::<Vec<_>>(),
            vec![0, 1, 4],
            "{kind}"
        );
        assert!(pool.map(&[]).unwrap().is_empty(), "{kind}: empty map");
    }
}

#[test]
fn parallel_strategies_use_several_workers() {
    // Ten 20 ms naps over 3 workers: any working pool spreads them over more than one worker
    // (a single worker would need 200 ms while the others sit idle on free jobs).
    let jobs = poolscale::workload::square_jobs(10, Duration::from_millis(20));
    for kind in StrategyKind::ALL.into_iter().filter(|k| k.is_parallel()) {
        let mut pool = kind.start(3, &common::options()).unwrap();
        let out = pool.map(&jobs).unwrap();
        let mut used: Vec<usize> = out.iter().map(|o| o.worker).collect();
        used.sort_unstable();
        used.dedup();
        assert!(used.len() > 1, "{kind} ran everything on worker {used:?}");
        if kind == StrategyKind::Processes {
            let pids: std::collections::BTreeSet<u32> = out.iter().map(|o| o.pid).collect();
            assert!(
                !pids.contains(&std::process::id()),
                "processes ran jobs in the parent"
            );
            assert_eq!(pids.len(), used.len(), "one pid per worker");
        }
    }
}

#[test]
fn process_pool_chunks_return_every_result_in_order() {
    // Zero-nap squares: workers take up to a chunk of records per read (multiprocessing's
    // chunksize), automatic or fixed; every result still comes back once, in input order.
    let jobs = poolscale::workload::square_jobs(5000, Duration::ZERO);
    let expected: Vec<u64> = jobs.iter().map(Job::expected).collect();
    for chunk in [None, Some(1), Some(7), Some(10_000)] {
        let options = poolscale::strategy::Options {
            chunk,
            ..common::options()
        };
        let mut pool = StrategyKind::Processes.start(3, &options).unwrap();
        for _ in 0..3 {
            let out = pool.map_untimed(&jobs).unwrap();
            let got: Vec<u64> = out.iter().map(|o| o.value).collect();
            assert_eq!(got, expected, "chunk {chunk:?}");
            assert!(verify(&jobs, &out, 3).is_ok());
        }
    }
}

fn collatz_steps(n: u64, _: u64) -> u64 {
    let (mut n, mut steps) = (n.max(1), 0);
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

#[test]
fn a_workload_defined_outside_poolscale_runs_under_every_in_process_strategy() {
    poolscale::workload::register(
        4242,
        poolscale::workload::Workload {
            name: "collatz",
            run: collatz_steps,
            expected: collatz_steps,
            timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    let jobs: Vec<Job> = (1..200)
        .map(|a| Job::Custom {
            workload: 4242,
            a,
            b: 0,
        })
        .collect();
    let expected: Vec<u64> = jobs.iter().map(Job::expected).collect();
    assert_eq!(expected[26], 111); // 27 takes 111 steps
    for kind in StrategyKind::ALL
        .into_iter()
        .filter(|k| !k.runs_in_child_processes())
    {
        let mut pool = kind.start(3, &common::options()).unwrap();
        let got: Vec<u64> = pool.map(&jobs).unwrap().iter().map(|o| o.value).collect();
        assert_eq!(got, expected, "{kind}");
    }
    // poolscale's own worker binary never registered it: the worker says why on stderr and exits
    // 2; the map fails naming the worker, no hang.
    let mut pool = StrategyKind::Processes
        .start(2, &common::options())
        .unwrap();
    let e = pool.map(&jobs).unwrap_err().to_string();
    assert!(
        e.contains("exited with status 2") && e.contains("worker"),
        "{e}"
    );
}
