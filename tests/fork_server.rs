//! The process pool's fork server (`StartMethod::ForkServer`, the library's default): its workers
//! are the pool owner's own children and compute what `sequential` computes, as exec'd workers
//! do; a server that dies is replaced; the server never outlives its owner; and a program that
//! cannot be a fork server falls back to exec. (The fault tests in `process_faults.rs` run on the
//! fork server too: they use the default options.)

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use poolscale::internal::{ProcessPool, forkserver};
use poolscale::strategy::StartMethod;
use poolscale::strategy::verify;
use poolscale::{Options, Strategy, workload};

/// The tests that look at this process's one fork server take turns.
static SERVER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERVER.lock().unwrap_or_else(|p| p.into_inner())
}

fn options(start: StartMethod) -> Options {
    Options {
        start,
        ..common::options()
    }
}

/// The parent pid of `pid`, from /proc.
fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("a live process");
    let (_, rest) = stat.rsplit_once(')').expect("a stat line");
    rest.split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("a ppid")
}

#[test]
fn both_start_methods_compute_what_sequential_computes() {
    let jobs = workload::square_jobs(40, Duration::from_micros(50));
    let mut reference = poolscale::StrategyKind::Sequential
        .start(1, &Options::default())
        .unwrap();
    let expected: Vec<u64> = reference
        .map(&jobs)
        .unwrap()
        .iter()
        .map(|o| o.value)
        .collect();
    for start in [StartMethod::Spawn, StartMethod::ForkServer] {
        for workers in [1, 3] {
            let mut pool = ProcessPool::start(workers, &options(start)).unwrap();
            assert_eq!(pool.start_method(), start);
            let out = pool.map(&jobs).unwrap();
            verify(&jobs, &out, workers).unwrap();
            let values: Vec<u64> = out.iter().map(|o| o.value).collect();
            assert_eq!(values, expected, "{} with {workers}", start.as_str());
        }
    }
}

#[test]
fn forked_workers_are_children_of_the_pool_owner_and_are_reaped() {
    let _turn = serial();
    let mut pool = ProcessPool::start(3, &options(StartMethod::ForkServer)).unwrap();
    assert_eq!(pool.start_method(), StartMethod::ForkServer);
    let pids = pool.worker_pids();
    assert_eq!(pids.len(), 3);
    let server = forkserver::server_pid(&common::bin()).expect("a running fork server");
    for &p in &pids {
        assert_ne!(p, server);
        assert_eq!(parent_of(p), std::process::id(), "worker {p}'s parent");
    }
    pool.map(&workload::square_jobs(6, Duration::ZERO)).unwrap();
    drop(pool);
    for p in pids {
        assert!(
            !common::exists(p),
            "worker {p} left behind (zombie or running)"
        );
    }
}

#[test]
fn a_dead_fork_server_is_replaced_and_stop_all_reaps_it() {
    let _turn = serial();
    drop(ProcessPool::start(1, &options(StartMethod::ForkServer)).unwrap());
    let first = forkserver::server_pid(&common::bin()).expect("a running fork server");
    common::signal(first, libc::SIGKILL);
    let mut pool = ProcessPool::start(2, &options(StartMethod::ForkServer)).unwrap();
    assert_eq!(pool.start_method(), StartMethod::ForkServer);
    let jobs = workload::square_jobs(4, Duration::ZERO);
    verify(&jobs, &pool.map(&jobs).unwrap(), 2).unwrap();
    let second = forkserver::server_pid(&common::bin()).expect("a replacement");
    assert_ne!(first, second);
    assert!(!common::exists(first), "the killed server was not reaped");
    drop(pool);
    forkserver::stop_all();
    assert!(!common::exists(second), "stop_all left the server behind");
}

#[test]
fn a_program_that_cannot_be_a_fork_server_starts_its_workers_by_exec() {
    // `/bin/true` is not a fork server, and not a worker either: the exec'd workers' handshake
    // is what fails, and says so.
    let options = Options {
        worker_program: Some("/bin/true".into()),
        ..Options::default()
    };
    let err = ProcessPool::start(1, &options).unwrap_err();
    assert!(
        matches!(err, poolscale::Error::WorkerDied { job: None, .. }),
        "{err}"
    );
}

#[test]
fn the_fork_server_and_its_workers_end_with_their_owner() {
    let mut cli = Command::new(common::bin())
        .args(["run", "--workload", "square", "--strategy", "processes"])
        .args(["--workers", "2", "--tasks", "4", "--nap", "20s"])
        .args(["--start", "forkserver"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The server and two workers, all children of the CLI.
    let kids = common::wait_for_children(cli.id(), 3, Duration::from_secs(10));
    common::signal(cli.id(), libc::SIGKILL);
    cli.wait().unwrap();
    assert_eq!(kids.len(), 3, "fork server and workers appeared: {kids:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while kids.iter().any(|&k| common::alive(k)) {
        assert!(Instant::now() < deadline, "left running: {kids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_fork_server_refuses_to_run_by_hand() {
    let out = Command::new(common::bin())
        .arg(forkserver::FORKSERVER_ARG)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a socket"), "{stderr}");
}

/// `poolscale run` of a small processes map with 2 workers and `start`, with extra environment:
/// its exit code, stdout and stderr.
fn run_with_start(start: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let square = "run --workload square --strategy processes --workers 2 --tasks 4 --nap 1ms";
    let out = Command::new(common::bin())
        .args(square.split(' '))
        .args(["--start", start])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn run_accepts_both_start_methods_and_names_a_bad_one() {
    for start in ["spawn", "forkserver"] {
        let (code, out, err) = run_with_start(start, &[]);
        assert_eq!(code, Some(0), "{start}: {err}");
        assert!(out.contains("results: [0, 1, 4, 9]"), "{out}");
    }
    let (code, _, err) = run_with_start("fork", &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("start method") && err.contains("fork"),
        "{err}"
    );
}

#[test]
fn a_fork_server_that_cannot_fork_here_gives_way_to_exec() {
    // The debug build's server refuses every fork, as a sandbox forbidding CLONE_PARENT would:
    // the pool starts its workers by exec instead (without the fallback, `run` exits 2).
    let (code, out, err) = run_with_start("forkserver", &[(forkserver::FAULT_ENV, "refuse")]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("results: [0, 1, 4, 9]"), "{out}");
}
