//! Ctrl-C stops every kind of run promptly with exit status 130 and leaves no child behind:
//! in-process strategies, process pools (see also `process_faults.rs`) and CPython runs.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_exit(mut child: std::process::Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {within:?} after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ctrl_c_stops_an_in_process_run_at_once() {
    // Two threads each counting 10^11 would take about 20 s; Ctrl-C must not wait for them.
    let child = Command::new(common::bin())
        .args([
            "run",
            "--workload",
            "countdown",
            "--strategy",
            "threads",
            "--workers",
            "2",
        ])
        .args(["--count", "100000000000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    common::signal(child.id(), libc::SIGINT);
    assert_eq!(wait_exit(child, Duration::from_secs(5)), Some(130));
}

/// Children of `parent` running the seed's CPython countdown (not the `--version` probe).
fn python_children(parent: u32) -> Vec<u32> {
    common::children_of(parent)
        .into_iter()
        .filter(|&p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains("python") && c.contains("--mode")
            })
        })
        .collect()
}

#[test]
fn ctrl_c_kills_a_cpython_run() {
    if !Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        // Without python3, `--python` starts no child (covered in seed.rs); nothing to kill.
        let (code, out, _) = common::poolscale(&["seed", "pool", "--nap", "1ms", "--python"]);
        assert_eq!(code, 0);
        assert!(out.contains("note: --python"), "{out}");
        return;
    }
    // Rust (a debug build here) counts 3·10^8 in about a second; CPython then needs several. The
    // CPython run has its own process group, which Ctrl-C kills whole (a pool's workers included).
    let child = Command::new(common::bin())
        .args([
            "seed",
            "countdown",
            "--count",
            "300000000",
            "--strategy",
            "threads",
        ])
        .args(["--repeat", "1", "--python"])
        .env("POOLSCALE_PYTHON", "python3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let me = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let python = loop {
        if let Some(&p) = python_children(me).first() {
            break p;
        }
        if Instant::now() > deadline {
            common::signal(me, libc::SIGKILL);
            panic!("CPython never started");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(200));
    common::signal(me, libc::SIGINT);
    assert_eq!(wait_exit(child, Duration::from_secs(5)), Some(130));
    let deadline = Instant::now() + Duration::from_secs(5);
    while common::alive(python) {
        assert!(
            Instant::now() < deadline,
            "CPython {python} survived Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
