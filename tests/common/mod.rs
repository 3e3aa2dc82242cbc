//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use poolscale::Options;

/// The `poolscale` binary Cargo built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_poolscale"))
}

/// Pool options that run this build's `poolscale` as the worker.
pub fn options() -> Options {
    Options {
        worker_program: Some(bin()),
        ..Options::default()
    }
}

/// Options whose workers misbehave as `fault` says (`ACTION@JOB`, see `processes::worker`).
pub fn faulty(fault: &str) -> Options {
    let mut o = options();
    o.worker_env
        .push((poolscale::internal::FAULT_ENV.into(), fault.into()));
    o
}

/// Whether process `pid` still exists as anything but a zombie awaiting its reaper.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next());
            !matches!(state, Some(Some('Z')) | Some(Some('X')))
        }
        Err(_) => false,
    }
}

/// Whether `pid` exists at all, zombies included (a zombie child means nobody reaped it).
pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The pids of `parent`'s children, from /proc.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return kids;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            && let Some((_, rest)) = stat.rsplit_once(')')
        {
            let ppid = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(parent) {
                kids.push(pid);
            }
        }
    }
    kids
}

/// Runs `poolscale ARGS` and returns (exit code, stdout, stderr).
pub fn poolscale(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run poolscale");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends `signal` to `pid`.
pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) with plain integers.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// One fake Criterion result: (group, strategy, workers, median ns).
pub type Fake<'a> = (&'a str, &'a str, usize, f64);

/// Writes `group/strategy/workers/<baseline>/estimates.json` for each entry, with a ±1%
/// confidence interval, as Criterion lays them out.
pub fn fake_criterion(dir: &std::path::Path, baseline: &str, entries: &[Fake<'_>]) {
    for &(g, s, w, median) in entries {
        let d = dir.join(g).join(s).join(w.to_string()).join(baseline);
        std::fs::create_dir_all(&d).unwrap();
        let est = |v: f64| {
            serde_json::json!({
                "confidence_interval": {"confidence_level": 0.95, "lower_bound": v * 0.99, "upper_bound": v * 1.01},
                "point_estimate": v,
                "standard_error": v * 0.005
            })
        };
        let doc = serde_json::json!({
            "mean": est(median), "median": est(median), "median_abs_dev": est(median * 0.01),
            "slope": null, "std_dev": est(median * 0.01)
        });
        std::fs::write(d.join("estimates.json"), doc.to_string()).unwrap();
    }
}

/// Writes the settings file the benches would: 2 cores, the given workers, 10 tasks of 10 ms,
/// 1000 dispatch tasks.
pub fn fake_settings(dir: &std::path::Path, workers: &[usize]) {
    let mut s = poolscale::internal::Settings::defaults();
    s.workers = workers.to_vec();
    s.count = 1_000_000;
    s.nap_ns = 10_000_000;
    s.tasks = 10;
    s.dispatch_tasks = 1000;
    s.machine.logical_cores = 2;
    s.machine.physical_cores = 2;
    s.save(dir, None).unwrap();
}

/// A consistent, healthy data set on 2 cores (times in ns): the hand-written points below, plus
/// what every strategy of the registry needs for the invariants (countdown_weak and square_sleep
/// at 1 and 2 workers, shaped by its facts), so that a new strategy is covered without editing
/// this list.
pub fn healthy() -> Vec<Fake<'static>> {
    let ms = 1e6;
    let mut data = hand_written();
    for k in poolscale::StrategyKind::ALL {
        let name = k.as_str();
        let weak2 = if k.computes_in_parallel() {
            100.0
        } else {
            200.0
        };
        let sleep2 = if k.is_parallel() { 50.0 } else { 100.0 };
        for (g, w, t) in [
            ("countdown_weak", 1, 100.0),
            ("countdown_weak", 2, weak2),
            ("square_sleep", 1, 100.0),
            ("square_sleep", 2, sleep2),
        ] {
            if !data
                .iter()
                .any(|&(dg, ds, dw, _)| dg == g && ds == name && dw == w)
            {
                data.push((g, name, w, t * ms));
            }
        }
    }
    data
}

fn hand_written() -> Vec<Fake<'static>> {
    let ms = 1e6;
    vec![
        ("countdown_weak", "threads", 1, 100.0 * ms),
        ("countdown_weak", "threads", 2, 100.0 * ms),
        ("countdown_weak", "threads", 4, 200.0 * ms),
        ("countdown_weak", "rayon", 1, 100.0 * ms),
        ("countdown_weak", "rayon", 2, 101.0 * ms),
        ("countdown_weak", "crossbeam", 1, 100.0 * ms),
        ("countdown_weak", "crossbeam", 2, 102.0 * ms),
        ("countdown_weak", "processes", 1, 100.0 * ms),
        ("countdown_weak", "processes", 2, 103.0 * ms),
        ("countdown_weak", "gil", 1, 100.0 * ms),
        ("countdown_weak", "gil", 2, 200.0 * ms),
        ("countdown_strong", "threads", 1, 100.0 * ms),
        ("countdown_strong", "threads", 2, 50.0 * ms),
        ("countdown_strong", "threads", 4, 60.0 * ms),
        ("countdown_strong", "sequential", 1, 100.0 * ms),
        ("countdown_strong", "sequential", 2, 100.0 * ms),
        ("square_sleep", "sequential", 1, 100.0 * ms),
        ("square_sleep", "sequential", 2, 100.0 * ms),
        ("square_sleep", "threads", 1, 100.0 * ms),
        ("square_sleep", "threads", 2, 50.0 * ms),
        ("square_sleep", "threads", 4, 30.0 * ms),
        ("square_sleep", "rayon", 1, 100.0 * ms),
        ("square_sleep", "crossbeam", 1, 100.0 * ms),
        ("square_sleep", "processes", 1, 101.0 * ms),
        ("square_sleep", "gil", 1, 100.0 * ms),
        ("square_sleep", "gil", 2, 51.0 * ms),
        ("dispatch", "threads", 1, 500_000.0),
        ("startup", "processes", 4, 4.0 * ms),
    ]
}

/// The children of `parent` once there are `n` of them, or whatever there are after `timeout`.
pub fn wait_for_children(parent: u32, n: usize, timeout: std::time::Duration) -> Vec<u32> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let kids = children_of(parent);
        if kids.len() == n || std::time::Instant::now() > deadline {
            return kids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Fails if a command panicked or aborted: a clear error is an exit code, never a backtrace.
pub fn no_panic(code: i32, out: &str, err: &str) {
    assert!(
        !err.contains("panicked") && !out.contains("panicked"),
        "{out}\n{err}"
    );
    assert!(
        code != 101 && code != 134 && code >= 0,
        "exit {code}: {out}\n{err}"
    );
}

/// A refusal: no panic, exit 2, and stderr naming every one of `needles`; `what` labels the case.
pub fn refused(what: &str, code: i32, out: &str, err: &str, needles: &[&str]) {
    no_panic(code, out, err);
    assert_eq!(code, 2, "{what}: {out}\n{err}");
    for n in needles {
        assert!(err.contains(n), "{what}: stderr lacks `{n}`: {err}");
    }
}

/// An executable shell script `dir/name` running `body`.
pub fn script(dir: &std::path::Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Processes (zombies included) whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline"))
            && String::from_utf8_lossy(&cmd).contains(needle)
        {
            found.push(pid);
        }
    }
    found
}

/// Every file below `dir`.
pub fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Waits for `child` at most `limit` (a bound on a hang); kills it and fails past that.
pub fn finish_within(mut child: Child, limit: Duration) -> (i32, String, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `poolscale seed countdown --python` (a count of 1000, one pair, `extra` arguments) with a fake
/// interpreter in `dir`: it answers `--version`, then runs `body` (which prints the RESULT line).
pub fn seed_with_fake_python(
    dir: &std::path::Path,
    body: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Child {
    let python = script(
        dir,
        "python3",
        &format!("if [ \"$1\" = \"--version\" ]; then echo \"Python 3.99.0\"; exit 0; fi\n{body}"),
    );
    let mut args = vec![
        "seed",
        "countdown",
        "--python",
        "--count",
        "1000",
        "--repeat",
        "1",
    ];
    args.extend_from_slice(extra);
    let mut env = env.to_vec();
    env.push(("POOLSCALE_PYTHON", python.to_str().unwrap()));
    spawn(&args, &env)
}
