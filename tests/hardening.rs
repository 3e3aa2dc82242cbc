//! Bad input and faults that once panicked, hung or lied with an exit code: each is now a clear
//! error (exit 2) or handled. One case per test, no timing assertions.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::{fake_criterion, fake_settings, healthy, no_panic, poolscale, refused, walk};

#[test]
fn huge_durations_are_errors_not_panics() {
    let huge = "100000000000000000000s";
    for args in [
        vec![
            "run",
            "--workload",
            "square",
            "--strategy",
            "threads",
            "--workers",
            "2",
            "--tasks",
            "2",
            "--nap",
            huge,
        ],
        vec![
            "run",
            "--workload",
            "countdown",
            "--strategy",
            "gil",
            "--workers",
            "2",
            "--switch-interval",
            huge,
        ],
        vec![
            "run",
            "--workload",
            "square",
            "--strategy",
            "processes",
            "--workers",
            "1",
            "--job-timeout",
            huge,
        ],
        vec!["seed", "pool", "--nap", huge],
        vec![
            "run",
            "--workload",
            "square",
            "--strategy",
            "threads",
            "--workers",
            "1",
            "--nap",
            "1e300s",
        ],
    ] {
        let (code, out, err) = poolscale(&args);
        refused(&format!("{args:?}"), code, &out, &err, &["duration"]);
    }
    let out = Command::new(common::bin())
        .args(["gate", "--paired-invariants"])
        .env("POOLSCALE_NAP", huge)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("POOLSCALE_NAP"), "{err}");
}

#[test]
fn odd_worker_directories_are_not_bench_ids() {
    let dir = tempfile::tempdir().unwrap();
    fake_settings(dir.path(), &[1, 2]);
    fake_criterion(dir.path(), "new", &healthy());
    for odd in ["0", "+2", "02", "100000000", "18446744073709551616"] {
        let d = dir
            .path()
            .join("square_sleep/threads")
            .join(odd)
            .join("new");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(
            dir.path().join("square_sleep/threads/1/new/estimates.json"),
            d.join("estimates.json"),
        )
        .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, err) = poolscale(&[
        "report",
        "--criterion-dir",
        dir.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    no_panic(code, &stdout, &err);
    assert_eq!(code, 0, "{err}");
    let results = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    assert!(!results.contains("square_sleep/threads/0\""), "{results}");
    assert!(
        !results.contains("square_sleep/threads/100000000"),
        "{results}"
    );
}

#[test]
fn a_settings_file_with_zero_workers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fake_settings(dir.path(), &[1, 2]);
    fake_criterion(dir.path(), "new", &healthy());
    let path = dir.path().join("poolscale-settings.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut v = v;
    v["workers"] = serde_json::json!([0, 2]);
    std::fs::write(&path, v.to_string()).unwrap();
    for args in [
        vec!["gate", "--invariants"],
        vec!["report", "--out", "/tmp/never-written-poolscale"],
    ] {
        let mut a = args.clone();
        a.extend(["--criterion-dir", dir.path().to_str().unwrap()]);
        let (code, out, err) = poolscale(&a);
        refused(
            &format!("{a:?}"),
            code,
            &out,
            &err,
            &["between 1 and 256", "poolscale-settings.json"],
        );
    }
}

#[test]
fn gate_exits_2_when_nothing_was_compared_or_numbers_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    fake_settings(dir.path(), &[1, 2]);
    fake_criterion(dir.path(), "new", &[("dispatch", "threads", 1, 5e5)]);
    fake_criterion(dir.path(), "main", &[("dispatch", "rayon", 1, 5e5)]);
    let d = dir.path().to_str().unwrap();
    // A baseline with no id in common.
    let (code, out, err) = poolscale(&["gate", "--criterion-dir", d, "--baseline", "main"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("nothing was compared") && out.contains("gate: 0 passed, 0 failed"),
        "{out}"
    );

    // --against a results.json whose records are empty, or hold inverted numbers.
    let report = tempfile::tempdir().unwrap();
    let (code, _, err) = poolscale(&[
        "report",
        "--criterion-dir",
        d,
        "--out",
        report.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let results = report.path().join("results.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    for (what, edit) in [
        ("no records", serde_json::json!([])),
        ("inverted", {
            let mut r = v["records"].clone();
            r[0]["median_lower_ns"] = serde_json::json!(9e9);
            r
        }),
        ("negative", {
            let mut r = v["records"].clone();
            r[0]["median_ns"] = serde_json::json!(-1.0);
            r
        }),
    ] {
        let mut bad = v.clone();
        bad["records"] = edit;
        let p = report.path().join(format!("{what}.json"));
        std::fs::write(&p, bad.to_string()).unwrap();
        let (code, out, err) = poolscale(&[
            "gate",
            "--criterion-dir",
            d,
            "--against",
            p.to_str().unwrap(),
        ]);
        refused(what, code, &out, &err, &["results file"]);
    }
}

#[test]
fn limits_that_would_disable_a_check_are_refused() {
    for (flag, value) in [
        ("--max-square-ratio", "inf"),
        ("--max-square-ratio", "NaN"),
        ("--max-square-ratio", "-1"),
        ("--min-weak-efficiency", "2"),
        ("--min-gil-slowdown", "0"),
        ("--min-relative-efficiency", "nan"),
    ] {
        let (code, out, err) = poolscale(&["gate", "--invariants", flag, value]);
        refused(&format!("{flag} {value}"), code, &out, &err, &[value]);
    }
}

#[test]
fn base_and_new_are_not_saved_baselines() {
    let dir = tempfile::tempdir().unwrap();
    fake_settings(dir.path(), &[1, 2]);
    fake_criterion(dir.path(), "new", &healthy());
    fake_criterion(dir.path(), "base", &healthy());
    let d = dir.path().to_str().unwrap();
    for b in ["base", "new"] {
        let (code, _, err) = poolscale(&["gate", "--criterion-dir", d, "--baseline", b]);
        assert_eq!(code, 2, "{b}: {err}");
        assert!(err.contains("--save-baseline NAME"), "{b}: {err}");
    }
    // The baselines listed are real ones: Criterion's `report` folder is not.
    std::fs::create_dir_all(dir.path().join("dispatch/threads/1/report")).unwrap();
    let (code, _, err) = poolscale(&["gate", "--criterion-dir", d, "--baseline", "main"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("base, new") && !err.contains("report"),
        "{err}"
    );
}

#[test]
fn results_older_than_the_latest_run_are_stale() {
    let dir = tempfile::tempdir().unwrap();
    fake_criterion(dir.path(), "new", &healthy());
    // A later run, filtered to square_sleep: its settings record its start; the other groups'
    // files are older.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    for g in ["countdown_weak", "countdown_strong", "dispatch", "startup"] {
        for entry in walk(&dir.path().join(g)) {
            let f = std::fs::File::options().write(true).open(&entry).unwrap();
            f.set_modified(old).unwrap();
        }
    }
    let mut s = poolscale::internal::Settings::defaults();
    s.workers = vec![1, 2, 4];
    s.machine.logical_cores = 2;
    s.start_run();
    s.started_unix_ms = s.started_unix_ms.map(|ms| ms - 60_000);
    s.save(dir.path(), None).unwrap();
    let d = dir.path().to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, err) = poolscale(&[
        "report",
        "--criterion-dir",
        d,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("predate its latest run") && err.contains("countdown_weak/threads/1"),
        "{err}"
    );
    let fresh = healthy().iter().filter(|f| f.0 == "square_sleep").count();
    assert!(
        stdout.contains(&format!("read {fresh} benchmarks")),
        "only square_sleep's: {stdout}"
    );
    let (code, _, err) = poolscale(&[
        "report",
        "--strict",
        "--criterion-dir",
        d,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("stale"), "{err}");
}

#[test]
fn fifos_devices_and_symlinks_in_the_criterion_directory() {
    let dir = tempfile::tempdir().unwrap();
    fake_settings(dir.path(), &[1, 2]);
    fake_criterion(dir.path(), "new", &healthy());
    let d = dir.path().to_str().unwrap();
    // A symlinked result directory is followed.
    let elsewhere = tempfile::tempdir().unwrap();
    fake_criterion(elsewhere.path(), "new", &[("dispatch", "rayon", 1, 4e5)]);
    std::os::unix::fs::symlink(
        elsewhere.path().join("dispatch/rayon"),
        dir.path().join("dispatch/rayon"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, err) = poolscale(&[
        "report",
        "--criterion-dir",
        d,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains(&format!("read {} benchmarks", healthy().len() + 1)),
        "{stdout}"
    );

    // A FIFO as estimates.json: an error naming it, not a hang.
    let fifo = dir.path().join("dispatch/threads/1/new/estimates.json");
    std::fs::remove_file(&fifo).unwrap();
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let (code, _, err) = poolscale(&["gate", "--criterion-dir", d, "--invariants"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not a regular file") && err.contains("dispatch/threads/1"),
        "{err}"
    );

    // A link to a device: the same.
    std::fs::remove_file(&fifo).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &fifo).unwrap();
    let (code, _, err) = poolscale(&["gate", "--criterion-dir", d, "--invariants"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn each_cause_is_said_once_and_a_file_is_not_a_directory() {
    let (code, _, err) = poolscale(&["gate", "--criterion-dir", "/nonexistent", "--invariants"]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("does not exist").count(), 1, "{err}");
    let f = tempfile::NamedTempFile::new().unwrap();
    let (code, _, err) = poolscale(&["report", "--criterion-dir", f.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("is a file, not a directory"), "{err}");
    // An OS error is printed once.
    let dir = tempfile::tempdir().unwrap();
    fake_settings(dir.path(), &[1, 2]);
    fake_criterion(dir.path(), "new", &healthy());
    let p = dir.path().join("missing.json");
    let (code, _, err) = poolscale(&[
        "gate",
        "--criterion-dir",
        dir.path().to_str().unwrap(),
        "--against",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_commands_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    fake_settings(dir.path(), &[1, 2]);
    fake_criterion(dir.path(), "new", &healthy());
    for args in [
        vec![
            "gate",
            "--invariants",
            "--criterion-dir",
            dir.path().to_str().unwrap(),
        ],
        vec![
            "run",
            "--workload",
            "square",
            "--strategy",
            "threads",
            "--workers",
            "2",
            "--tasks",
            "4",
            "--nap",
            "0s",
        ],
    ] {
        let mut child = Command::new(common::bin())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader went away (`| head -0`)
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn a_thread_the_os_refuses_is_an_error_naming_the_worker() {
    // Too little address space for 256 thread stacks: spawning fails part-way.
    for strategy in ["threads", "crossbeam", "gil"] {
        let cmd = format!(
            "ulimit -v 200000; exec '{}' run --workload square --strategy {strategy} --workers 256 --tasks 256 --nap 0s",
            common::bin().display()
        );
        let out = Command::new("bash").args(["-c", &cmd]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            eprintln!("skipped for {strategy}: this machine started 256 threads within the limit");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{strategy}: {err}");
        assert!(
            err.contains(&format!("{strategy} cannot start worker thread")),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
