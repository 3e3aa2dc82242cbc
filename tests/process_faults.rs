//! A crashed, hung, lying or missing worker is an error that names the worker, its pid and the
//! job, within seconds; the pool then refuses work, and no child is left behind, not even as a
//! zombie.

mod common;

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use poolscale::internal::ProcessPool;
use poolscale::strategy::verify;
use poolscale::{Error, Options, Strategy, workload};

/// Maps `jobs` on a fresh 2-worker pool with `options`; returns the error and the workers' pids.
fn fail_with(options: &Options, jobs: &[poolscale::Job]) -> (Error, Vec<u32>) {
    let mut pool = ProcessPool::start(2, options).expect("start");
    let pids = Mutex::new(Vec::new());
    let t = Instant::now();
    let err = pool
        .map_observed(jobs, &|s| pids.lock().unwrap().push(s.pid))
        .expect_err("the map must fail");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    // A pool that lost a worker is not silently reused.
    let again = pool.map(jobs).expect_err("a broken pool must refuse work");
    assert!(matches!(again, Error::PoolBroken(_)), "{again}");
    drop(pool);
    let mut pids = pids.into_inner().unwrap();
    pids.sort_unstable();
    pids.dedup();
    for &pid in &pids {
        assert!(!common::exists(pid), "worker {pid} was left behind");
    }
    (err, pids)
}

fn naps(n: usize, ms: u64) -> Vec<poolscale::Job> {
    workload::square_jobs(n, Duration::from_millis(ms))
}

#[test]
fn sigkill_mid_job_names_pid_status_and_job() {
    let mut pool = ProcessPool::start(2, &common::options()).unwrap();
    let victim = Mutex::new(None);
    let jobs = naps(6, 300);
    let err = pool
        .map_observed(&jobs, &|s| {
            if s.job == 1 {
                common::signal(s.pid, libc::SIGKILL);
                *victim.lock().unwrap() = Some(s.pid);
            }
        })
        .unwrap_err();
    let pid = victim.lock().unwrap().expect("job 1 started");
    match &err {
        Error::WorkerDied {
            pid: p,
            status,
            job,
            ..
        } => {
            assert_eq!(*p, pid);
            assert_eq!(*job, Some(1));
            assert!(status.contains("signal 9"), "{status}");
        }
        other => panic!("unexpected error: {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("pid {pid}")) && msg.contains("job 1"),
        "{msg}"
    );
    drop(pool);
    assert!(!common::exists(pid));
}

#[test]
fn early_exit_is_reported_with_its_status() {
    let (err, _) = fail_with(&common::faulty("exit@2"), &naps(6, 1));
    let msg = err.to_string();
    assert!(
        matches!(err, Error::WorkerDied { job: Some(2), .. }),
        "{msg}"
    );
    assert!(msg.contains("exited with status 3"), "{msg}");
}

#[test]
fn abort_is_reported_as_a_signal() {
    let (err, _) = fail_with(&common::faulty("abort@0"), &naps(4, 1));
    let msg = err.to_string();
    assert!(msg.contains("SIGABRT") && msg.contains("job 0"), "{msg}");
}

#[test]
fn garbage_on_stdout_is_a_protocol_error() {
    let (err, _) = fail_with(&common::faulty("garbage@1"), &naps(4, 1));
    let msg = err.to_string();
    assert!(
        matches!(err, Error::WorkerProtocol { job: Some(1), .. }),
        "{msg}"
    );
    assert!(
        msg.contains("garbage") && msg.contains("Traceback"),
        "{msg}"
    );
}

#[test]
fn a_worker_lying_about_its_job_is_caught() {
    let (err, _) = fail_with(&common::faulty("lie@1"), &naps(4, 1));
    let msg = err.to_string();
    assert!(
        matches!(err, Error::WorkerProtocol { job: Some(1), .. }),
        "{msg}"
    );
}

#[test]
fn a_wrong_result_is_caught_by_verification() {
    let mut pool = ProcessPool::start(2, &common::faulty("wrong@3")).unwrap();
    let jobs = naps(5, 0);
    let out = pool.map(&jobs).unwrap();
    let e = verify(&jobs, &out, 2).unwrap_err();
    assert!(
        e.contains("job 3") && e.contains("returned 10, expected 9"),
        "{e}"
    );
}

#[test]
fn a_hung_worker_times_out() {
    let mut options = common::faulty("hang@0");
    options.job_timeout = Some(Duration::from_millis(300));
    let (err, _) = fail_with(&options, &naps(3, 1));
    assert!(matches!(err, Error::WorkerTimeout { job: 0, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("did not finish job 0 within 300ms"),
        "{err}"
    );
}

#[test]
fn a_job_read_but_never_announced_times_out() {
    // The worker that reads job 1 stalls before saying TOOK: no worker holds it on record.
    let mut options = common::faulty("stall@1");
    options.job_timeout = Some(Duration::from_millis(300));
    let (err, _) = fail_with(&options, &naps(3, 1));
    assert!(matches!(err, Error::WorkerStalled { job: 1, .. }), "{err}");
    let e = err.to_string();
    assert!(
        e.contains("job 1") && e.contains("300ms") && e.contains("idle"),
        "{e}"
    );
}

#[test]
fn the_default_job_timeout_is_derived_from_the_job() {
    let nap = poolscale::Job::Square {
        x: 1,
        nap_ns: 2_000_000_000,
    };
    assert_eq!(nap.default_timeout(), Duration::from_secs(50));
    let count = poolscale::Job::Countdown { n: 100_000_000 };
    assert_eq!(count.default_timeout(), Duration::from_secs(32));
    assert_eq!(poolscale::Options::default().job_timeout, None);
}

#[test]
fn a_missing_binary_is_named() {
    let options = Options {
        worker_program: Some("/nonexistent/poolscale".into()),
        ..Options::default()
    };
    let err = ProcessPool::start(2, &options).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/poolscale") && msg.contains("worker 0"),
        "{msg}"
    );
}

#[test]
fn a_program_that_is_not_a_worker_fails_the_handshake() {
    let options = Options {
        worker_program: Some("/bin/true".into()),
        ..Options::default()
    };
    let err = ProcessPool::start(2, &options).unwrap_err();
    assert!(matches!(err, Error::WorkerDied { job: None, .. }), "{err}");
}

#[test]
fn dropping_a_pool_reaps_every_worker() {
    let mut pool = ProcessPool::start(3, &common::options()).unwrap();
    let pids = Mutex::new(Vec::new());
    pool.map_observed(&naps(6, 1), &|s| pids.lock().unwrap().push(s.pid))
        .unwrap();
    let pids = pids.into_inner().unwrap();
    assert!(
        pids.iter().all(|&p| common::alive(p)),
        "workers persist between maps"
    );
    drop(pool);
    for p in pids {
        assert!(
            !common::exists(p),
            "worker {p} left behind (zombie or running)"
        );
    }
}

/// Spawns `poolscale run` with a processes pool of long naps; returns it and its worker pids.
/// Every caller waits for the returned child (the lint cannot see through the return).
fn running_cli(workers: usize) -> (std::process::Child, Vec<u32>) {
    running_cli_in(workers, Command::new(common::bin()))
}

/// [`running_cli`] from a prepared command (e.g. in its own process group).
#[allow(clippy::zombie_processes)]
fn running_cli_in(workers: usize, mut cmd: Command) -> (std::process::Child, Vec<u32>) {
    let mut child = cmd
        .args([
            "run",
            "--workload",
            "square",
            "--strategy",
            "processes",
            "--tasks",
            "8",
        ])
        .args(["--workers", &workers.to_string(), "--nap", "20s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kids = common::children_of(child.id());
        if kids.len() == workers {
            return (child, kids);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("workers never appeared");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killing_a_worker_of_the_cli_ends_it_with_a_clear_error() {
    let (child, kids) = running_cli(2);
    std::thread::sleep(Duration::from_millis(200));
    common::signal(kids[0], libc::SIGKILL);
    let t = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", kids[0])) && stderr.contains("signal 9"),
        "{stderr}"
    );
    assert!(stderr.contains("while running job"), "{stderr}");
    for k in kids {
        assert!(!common::exists(k), "worker {k} left behind");
    }
}

#[test]
fn workers_exit_when_their_parent_is_killed() {
    let (mut child, kids) = running_cli(2);
    common::signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while kids.iter().any(|&k| common::alive(k)) {
        assert!(
            Instant::now() < deadline,
            "orphaned workers kept running: {kids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_at_a_terminal_always_ends_with_130() {
    // A terminal's Ctrl-C (or a SIGTERM to the job) reaches the whole process group: the workers
    // must not die first and turn it into "worker killed by signal 2". Repeated: it was a race.
    use std::os::unix::process::CommandExt;
    for (round, sig) in [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGINT,
    ]
    .into_iter()
    .enumerate()
    {
        let mut cmd = Command::new(common::bin());
        cmd.process_group(0);
        let (child, kids) = running_cli_in(3, cmd);
        std::thread::sleep(Duration::from_millis(100 + 50 * round as u64));
        // SAFETY: kill(2) with plain integers; the negative pid names the child's group.
        unsafe {
            libc::kill(-(child.id() as i32), sig);
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(130),
            "round {round}, signal {sig}: {stderr}"
        );
        for k in kids {
            assert!(!common::exists(k), "worker {k} left behind");
        }
    }
}

#[test]
fn sigint_to_the_cli_reaps_its_workers() {
    let (child, kids) = running_cli(3);
    common::signal(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for k in kids {
        assert!(!common::exists(k), "worker {k} left behind after Ctrl-C");
    }
}

#[test]
fn a_cancel_token_stops_a_map_and_reaps_the_workers() {
    let mut options = common::options();
    options.cancel = poolscale::Cancel::new();
    let token = options.cancel.clone();
    let mut pool = ProcessPool::start(2, &options).expect("start");
    let pids = Mutex::new(Vec::new());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        token.cancel();
    });
    let t = Instant::now();
    let err = pool
        .map_observed(&naps(4, 20_000), &|s| pids.lock().unwrap().push(s.pid))
        .expect_err("cancelled");
    canceller.join().unwrap();
    assert!(matches!(err, Error::Interrupted), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    drop(pool);
    for pid in pids.into_inner().unwrap() {
        assert!(!common::exists(pid), "worker {pid} left behind");
    }
}
