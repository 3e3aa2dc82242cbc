//! This crate's own workload (`collatz`), defined outside poolscale: run by `mpsc` in this process,
//! and by poolscale's process pool in worker processes that are this crate's binary (which
//! registered the workload): the same machinery, another worker program.

use poolscale::strategy::{Options, verify};
use poolscale::{Job, StrategyKind};

fn jobs() -> Vec<Job> {
    (1..500)
        .map(|a| Job::Custom {
            workload: custom_pool::COLLATZ,
            a,
            b: 0,
        })
        .collect()
}

#[test]
fn mpsc_runs_the_crates_own_workload() {
    let suite = custom_pool::suite();
    let mut pool = suite
        .start("mpsc".parse().unwrap(), 3, &Options::default())
        .unwrap();
    let jobs = jobs();
    let out = pool.map(&jobs).unwrap();
    verify(&jobs, &out, 3).unwrap();
    assert_eq!(out[26].value, 111); // 27 takes 111 steps
}

#[test]
fn poolscales_process_pool_runs_it_in_this_crates_worker_binary() {
    custom_pool::register_workloads();
    let options = Options {
        worker_program: Some(env!("CARGO_BIN_EXE_custom-pool").into()),
        ..Options::default()
    };
    let mut pool = StrategyKind::Processes.start(2, &options).unwrap();
    let jobs = jobs();
    for _ in 0..2 {
        let out = pool.map(&jobs).unwrap();
        verify(&jobs, &out, 2).unwrap();
        let pids: std::collections::BTreeSet<u32> = out.iter().map(|o| o.pid).collect();
        assert!(
            !pids.contains(&std::process::id()),
            "ran in the test process"
        );
    }
    assert_eq!(pool.workers(), 2);
}
