//! Hangs, unbounded memory, aborts and leftovers found by an adversarial pass: each case is a
//! clear error (exit 2, naming what failed) or handled, within a bounded time, leaving nothing
//! behind. One case per test; time limits are generous bounds on hangs, never speed checks.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    bin, fake_criterion, fake_settings, finish_within, healthy, no_panic, poolscale,
    processes_mentioning, refused, script, spawn,
};

#[test]
fn ctrl_c_ends_the_paired_invariants_even_with_a_stopped_probe() {
    let child = spawn(
        &["gate", "--paired-invariants", "--budget", "30s"],
        &[("POOLSCALE_COUNT", "2000000")],
    );
    let gate = child.id();
    // Wait for a capacity probe, freeze it, then interrupt the gate.
    let deadline = Instant::now() + Duration::from_secs(60);
    let probe = loop {
        let probes: Vec<u32> = common::children_of(gate)
            .into_iter()
            .filter(|&p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("__probe"))
            })
            .collect();
        if let Some(&p) = probes.first() {
            break p;
        }
        assert!(Instant::now() < deadline, "no probe started");
        std::thread::sleep(Duration::from_millis(20));
    };
    common::signal(probe, libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(300));
    common::signal(gate, libc::SIGINT);
    let (code, out, err) = finish_within(child, Duration::from_secs(20));
    no_panic(code, &out, &err);
    assert_eq!(code, 130, "{out}\n{err}");
    assert!(
        !common::exists(probe),
        "the stopped probe {probe} was left behind"
    );
}

#[test]
fn a_python_that_floods_stderr_does_not_deadlock_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let child = common::seed_with_fake_python(
        dir.path(),
        "head -c 300000 /dev/zero | tr '\\0' 'x' >&2\necho 'RESULT {\"total_s\": 0.5}'",
        &["--strategy", "threads"],
        &[],
    );
    let (code, out, err) = finish_within(child, Duration::from_secs(60));
    no_panic(code, &out, &err);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_side_that_floods_its_output_is_killed_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().to_str().unwrap().to_string();
    // Hello, then a helper of its own and an endless stream of non-protocol lines.
    let side = script(
        dir.path(),
        "flood",
        r#"echo '{"reply":"hello","protocol":"poolscale-sample","version":1,"tool_version":"9"}'
sleep 300 &
yes 'not a protocol message'"#,
    );
    let child = spawn(
        &[
            "gate",
            "--ab",
            side.to_str().unwrap(),
            "--filter",
            "^dispatch/threads/1$",
        ],
        &[],
    );
    let (code, out, err) = finish_within(child, Duration::from_secs(60));
    refused("", code, &out, &err, &["not a protocol message", "killed"]);
    // The side and the helper it started in its process group are gone.
    std::thread::sleep(Duration::from_millis(200));
    let left: Vec<u32> = processes_mentioning(&marker)
        .into_iter()
        .filter(|&p| common::alive(p))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(out.contains("gate: 0 passed, 0 failed"), "{out}");
}

#[test]
fn a_side_answering_impossible_samples_or_too_many_strategies_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, hello_strategies, sample) in [
        ("zero", "[]", r#"{"reply":"sample","ns":0}"#),
        (
            "max",
            "[]",
            r#"{"reply":"sample","ns":18446744073709551615}"#,
        ),
    ] {
        let side = script(
            dir.path(),
            name,
            &format!(
                r#"echo '{{"reply":"hello","protocol":"poolscale-sample","version":1,"tool_version":"9","strategies":{hello_strategies}}}'
while read line; do
  case "$line" in
    *start*) echo '{{"reply":"started"}}' ;;
    *sample*) echo '{sample}' ;;
    *stop*) echo '{{"reply":"stopped"}}' ;;
    *) echo '{{"reply":"error","message":"unknown"}}' ;;
  esac
done"#
            ),
        );
        let (code, out, err) = poolscale(&[
            "gate",
            "--ab",
            side.to_str().unwrap(),
            "--filter",
            "^dispatch/threads/1$",
            "--budget",
            "2s",
        ]);
        refused(name, code, &out, &err, &["impossible time", "side old"]);
    }
    let many: Vec<serde_json::Value> = (0..1000)
        .map(|k| {
            serde_json::json!({"name": format!("s{k}"), "computes_in_parallel": true,
                "preemptive": true, "parallel": true, "colour": [1, 2, 3]})
        })
        .collect();
    let hello = serde_json::json!({"reply":"hello","protocol":"poolscale-sample","version":1,
        "tool_version":"9","strategies": many});
    let side = script(
        dir.path(),
        "many",
        &format!("echo '{hello}'\ncat >/dev/null"),
    );
    let (code, out, err) = poolscale(&["gate", "--ab", side.to_str().unwrap()]);
    refused("", code, &out, &err, &["strategies"]);
}

#[test]
fn report_refuses_timelines_and_machines_that_cannot_be() {
    for (what, patch) in [
        ("workers", r#""workers": 1000000000000"#),
        (
            "job worker",
            r#""jobs": [{"value": 0, "worker": 18446744073709551615, "pid": 1, "started_ns": 0, "finished_ns": 1}]"#,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fake_criterion(dir.path(), "new", &healthy());
        let mut s = poolscale::internal::Settings::defaults();
        s.workers = vec![1, 2];
        s.machine.logical_cores = 2;
        s.start_run();
        s.started_unix_ms = Some(0);
        s.save(dir.path(), None).unwrap();
        let base = serde_json::json!({"title": "square_sleep/threads/3", "strategy": "threads",
            "workers": 3, "wall_ns": 10, "jobs": [], "holds": []});
        let mut timeline = base.to_string();
        let key = patch.split(':').next().unwrap();
        let start = timeline.find(key).unwrap();
        let end = start + timeline[start..].find([',', '}']).unwrap();
        let end = if timeline[start..end].contains('[') {
            start + timeline[start..].find(']').unwrap() + 1
        } else {
            end
        };
        timeline.replace_range(start..end, patch);
        let obs = format!(
            r#"{{"schema_version": 1, "run_id": "{}", "benches": {{"square_sleep/threads/3": {{"usage": {{"iters": 0, "wall_ns": 0, "cpu": {{"user_ns": 0, "sys_ns": 0}}}}, "timeline": {timeline}}}}}}}"#,
            s.run_id.as_deref().unwrap()
        );
        std::fs::write(dir.path().join("poolscale-observations.json"), obs).unwrap();
        let out = tempfile::tempdir().unwrap();
        let (code, stdout, err) = poolscale(&[
            "report",
            "--criterion-dir",
            dir.path().to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ]);
        refused(what, code, &stdout, &err, &["timeline"]);
    }
    // A settings file claiming more cores than any machine has.
    let dir = tempfile::tempdir().unwrap();
    fake_criterion(dir.path(), "new", &healthy());
    fake_settings(dir.path(), &[1, 2]);
    let p = dir.path().join("poolscale-settings.json");
    let text = std::fs::read_to_string(&p).unwrap();
    let huge = text.replacen(
        "\"logical_cores\": 2",
        "\"logical_cores\": 9223372036854775807",
        1,
    );
    assert_ne!(huge, text);
    std::fs::write(&p, huge).unwrap();
    let (code, out, err) = poolscale(&["report", "--criterion-dir", dir.path().to_str().unwrap()]);
    refused("", code, &out, &err, &["logical cores"]);
}

#[test]
fn report_refuses_an_implausibly_tiny_median_instead_of_looping() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = healthy();
    data.push(("dispatch", "rayon", 1, 1e-300));
    fake_criterion(dir.path(), "new", &data);
    fake_settings(dir.path(), &[1, 2]);
    let out = tempfile::tempdir().unwrap();
    let child = spawn(
        &[
            "report",
            "--criterion-dir",
            dir.path().to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[],
    );
    let (code, stdout, err) = finish_within(child, Duration::from_secs(60));
    refused(
        "",
        code,
        &stdout,
        &err,
        &["dispatch/rayon/1", "outside the times"],
    );
}

#[test]
fn seed_markdown_refuses_a_fifo_and_dev_zero_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.md");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for target in [fifo.to_str().unwrap(), "/dev/zero"] {
        let child = spawn(
            &[
                "seed",
                "countdown",
                "--count",
                "1000",
                "--repeat",
                "1",
                "--strategy",
                "threads",
                "--markdown",
                target,
            ],
            &[],
        );
        let (code, out, err) = finish_within(child, Duration::from_secs(60));
        refused(target, code, &out, &err, &["not a regular file"]);
    }
}

#[test]
fn report_removes_leftover_temporary_files_and_stale_charts() {
    let dir = tempfile::tempdir().unwrap();
    fake_criterion(dir.path(), "new", &healthy());
    fake_settings(dir.path(), &[1, 2, 4]);
    let out = tempfile::tempdir().unwrap();
    let args = |d: &Path| {
        vec![
            "report".to_string(),
            "--criterion-dir".into(),
            d.to_str().unwrap().into(),
            "--out".into(),
            out.path().to_str().unwrap().into(),
        ]
    };
    let run = |d: &Path| {
        let a = args(d);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        poolscale(&a)
    };
    let (code, _, err) = run(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.path().join("startup-time.svg").exists());
    // An interrupted run's temporary file, then a run without startup's results.
    std::fs::write(
        out.path().join(".poolscale-a1b2c3.tmp"),
        vec![b'x'; 1 << 20],
    )
    .unwrap();
    std::fs::remove_dir_all(dir.path().join("startup")).unwrap();
    let (code, _, err) = run(dir.path());
    assert_eq!(code, 0, "{err}");
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "temporary file left: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("startup-")),
        "stale chart kept: {names:?}"
    );
    // Written files follow the umask (0644 under the usual 022), not 0600.
    let mode = std::fs::metadata(out.path().join("README.md"))
        .unwrap()
        .permissions()
        .mode();
    assert_ne!(mode & 0o044, 0, "{mode:o}");
}

#[test]
fn report_never_replaces_a_dangling_link_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    fake_criterion(dir.path(), "new", &healthy());
    fake_settings(dir.path(), &[1, 2]);
    let out = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/nonexistent/target", out.path().join("README.md")).unwrap();
    let (code, stdout, err) = poolscale(&[
        "report",
        "--criterion-dir",
        dir.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stdout}\n{err}");
    assert!(err.contains("README.md"), "{err}");
    assert!(
        std::fs::symlink_metadata(out.path().join("README.md"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn report_runs_no_code_of_the_repository_it_is_started_in() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        assert!(
            Command::new("git")
                .args(args)
                .current_dir(repo.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success()
        );
    };
    git(&["init", "-q"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    ]);
    let planted = repo.path().join("fsmonitor-ran");
    let monitor = script(
        repo.path(),
        "monitor.sh",
        &format!("touch '{}'", planted.display()),
    );
    git(&["config", "core.fsmonitor", monitor.to_str().unwrap()]);
    let data = tempfile::tempdir().unwrap();
    fake_criterion(data.path(), "new", &healthy());
    let out = tempfile::tempdir().unwrap();
    for args in [
        vec![
            "report",
            "--criterion-dir",
            data.path().to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ],
        vec![
            "gate",
            "--criterion-dir",
            data.path().to_str().unwrap(),
            "--invariants",
        ],
    ] {
        let o = Command::new(bin())
            .args(&args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(o.status.code().is_some_and(|c| c <= 2), "{o:?}");
    }
    assert!(!planted.exists(), "the repository's fsmonitor ran");
    let md = std::fs::read_to_string(out.path().join("README.md")).unwrap();
    assert!(
        md.contains("not recorded"),
        "no commit stamped from the current directory"
    );
}

#[test]
fn a_child_whose_watchdog_cannot_start_says_so_without_a_panic() {
    for mode in ["__probe", "__worker", "__sample"] {
        let o = Command::new(bin())
            .arg(mode)
            .env("POOLSCALE_WATCHDOG_FAULT", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{mode}: {err}");
        assert!(
            err.contains("parent-death watchdog") && !err.contains("panicked"),
            "{mode}: {err}"
        );
    }
}

#[test]
fn zero_durations_that_would_disable_a_guard_are_refused() {
    let (code, _, err) = poolscale(&[
        "run",
        "--workload",
        "square",
        "--strategy",
        "processes",
        "--workers",
        "1",
        "--job-timeout",
        "0s",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("above zero"), "{err}");
    let (code, _, err) = poolscale(&["gate", "--ab", "/nonexistent", "--budget", "0s"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("above zero"), "{err}");
}

#[test]
fn strict_invariants_with_stale_results_fail_with_exit_1_and_errors_keep_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    fake_criterion(dir.path(), "new", &healthy());
    // startup's results predate the latest run (a run filtered to the other groups): stale.
    let old = std::time::SystemTime::now() - Duration::from_secs(600);
    for entry in std::fs::read_dir(dir.path().join("startup/processes/4/new")).unwrap() {
        let f = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path())
            .unwrap();
        f.set_modified(old).unwrap();
    }
    let mut s = poolscale::internal::Settings::defaults();
    s.workers = vec![1, 2, 4];
    s.machine.logical_cores = 2;
    s.start_run();
    s.started_unix_ms = s.started_unix_ms.map(|ms| ms - 60_000);
    s.save(dir.path(), None).unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = poolscale(&["gate", "--criterion-dir", d, "--invariants", "--strict"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("stale") && out.lines().last().unwrap().starts_with("gate: "),
        "{out}"
    );
    // An error (exit 2) still ends with the documented line, or one JSON object.
    let (code, out, _) = poolscale(&["gate", "--criterion-dir", d, "--baseline", "nosuch"]);
    assert_eq!(code, 2);
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("gate: 0 passed, 0 failed"),
        "{out}"
    );
    let (code, out, _) = poolscale(&[
        "gate",
        "--criterion-dir",
        d,
        "--baseline",
        "nosuch",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exit_code"], 2);
    assert!(v["error"].as_str().unwrap().contains("nosuch"), "{v}");
}
