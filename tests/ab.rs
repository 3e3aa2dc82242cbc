//! `gate --ab`: two copies of the binary compared on tiny workloads (exit 0, every row judged
//! or inconclusive, never a failure by construction of the test: both sides are the same build);
//! a fake OLD, a side speaking another protocol version and a side that dies mid-run all exit 2
//! with a message naming the side, and leave no process behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Tiny workloads: every sample takes milliseconds.
const ENV: [(&str, &str); 4] = [
    ("POOLSCALE_COUNT", "200000"),
    ("POOLSCALE_NAP", "1ms"),
    ("POOLSCALE_TASKS", "3"),
    ("POOLSCALE_DISPATCH_TASKS", "20"),
];

fn gate_ab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(common::bin())
        .arg("gate")
        .args(args)
        .envs(ENV)
        .output()
        .expect("run poolscale");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A copy of the poolscale binary at a path unique to this test, so that its processes can be
/// found in /proc afterwards.
fn copy_of_bin(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(common::bin(), &p).unwrap();
    p
}

/// Processes (zombies included) whose command line mentions `path`.
fn processes_running(path: &Path) -> Vec<u32> {
    let needle = path.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline"))
            && String::from_utf8_lossy(&cmd).contains(&needle)
        {
            found.push(pid);
        }
    }
    found
}

#[test]
fn two_copies_of_the_same_build_compare_without_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let old = copy_of_bin(dir.path(), "poolscale-old");
    let new = copy_of_bin(dir.path(), "poolscale-new");
    let (code, out, err) = gate_ab(&[
        "--ab",
        old.to_str().unwrap(),
        "--new",
        new.to_str().unwrap(),
        "--filter",
        "^(countdown_weak/(threads|processes)/2|square_sleep/gil/3|startup/processes/2)$",
        "--budget",
        "2s",
        "--threshold",
        "50%",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{out}");
    for r in rows {
        let verdict = r["verdict"].as_str().unwrap();
        assert!(verdict == "ok" || verdict == "inconclusive", "{r}");
        assert!(r["before"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["change_lower"].as_f64().unwrap() <= r["change"].as_f64().unwrap());
    }
    assert_eq!(v["ab"].as_array().unwrap().len(), 4);
    assert!(
        err.contains("[4/4] startup/processes/2"),
        "progress on stderr: {err}"
    );
    assert!(processes_running(&old).is_empty() && processes_running(&new).is_empty());
}

#[test]
fn a_benchmark_only_the_new_build_has_is_new_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // An OLD that knows no benchmark at all: every start is answered `unknown`.
    let old = common::script(
        dir.path(),
        "old",
        r#"echo '{"reply":"hello","protocol":"poolscale-sample","version":1,"tool_version":"0.0.1"}'
while read line; do
  case "$line" in
    *start*) echo '{"reply":"unknown","message":"no such strategy"}' ;;
    *) echo '{"reply":"stopped"}' ;;
  esac
done"#,
    );
    let (code, out, err) = gate_ab(&[
        "--ab",
        old.to_str().unwrap(),
        "--filter",
        "^dispatch/threads/1$",
    ]);
    assert!(
        out.contains("dispatch/threads/1") && out.contains("new"),
        "{out}\n{err}"
    );
    // Nothing was compared: exit 2, and the summary says so.
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("nothing was compared"), "{out}");
}

#[test]
fn an_old_that_is_not_poolscale_exits_2_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let fake = common::script(dir.path(), "fake", "echo 'Usage: fake [OPTIONS]'; exit 1");
    let (code, out, err) = gate_ab(&[
        "--ab",
        fake.to_str().unwrap(),
        "--filter",
        "^dispatch/threads/1$",
    ]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("side old") && err.contains("not a poolscale binary"),
        "{err}"
    );
    assert!(err.contains("cargo build --release"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let missing = dir.path().join("does-not-exist");
    let (code, _, err) = gate_ab(&["--ab", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("side old") && err.contains("cannot be started"),
        "{err}"
    );
}

#[test]
fn a_side_of_another_protocol_version_exits_2_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let future = common::script(
        dir.path(),
        "future",
        r#"echo '{"reply":"hello","protocol":"poolscale-sample","version":99,"tool_version":"9.0.0"}'
cat > /dev/null"#,
    );
    let (code, _, err) = gate_ab(&[
        "--ab",
        future.to_str().unwrap(),
        "--filter",
        "^dispatch/threads/1$",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("version 99") && err.contains("version 1"),
        "{err}"
    );
    assert!(processes_running(&future).is_empty(), "the side was reaped");
}

#[test]
fn a_side_that_dies_mid_run_exits_2_naming_it_and_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let new = copy_of_bin(dir.path(), "poolscale-new");
    // Says hello, accepts the start, then dies on its first sample.
    let dying = common::script(
        dir.path(),
        "dying",
        r#"echo '{"reply":"hello","protocol":"poolscale-sample","version":1,"tool_version":"0.1.0"}'
read line; echo '{"reply":"started"}'
read line; exit 7"#,
    );
    let (code, out, err) = gate_ab(&[
        "--ab",
        dying.to_str().unwrap(),
        "--new",
        new.to_str().unwrap(),
        "--filter",
        "^countdown_weak/processes/2$",
    ]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("side old") && err.contains("exited with status 7"),
        "{err}"
    );
    assert!(
        err.contains("countdown_weak/processes/2"),
        "names the benchmark: {err}"
    );
    // The new side and its process-pool workers are gone.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        processes_running(&new).is_empty(),
        "{:?}",
        processes_running(&new)
    );
    assert!(processes_running(&dying).is_empty());
}

#[test]
fn bad_ab_arguments_exit_2() {
    for args in [
        vec!["--ab", "x", "--paired-invariants"],
        vec!["--ab", "x", "--baseline", "main"],
        vec!["--ab", "x", "--filter", "("],
        vec!["--ab", "x", "--budget", "-1s"],
        vec!["--new", "x"],
        vec!["--invariants", "--format", "bmf"],
    ] {
        let (code, out, err) = gate_ab(&args);
        assert_eq!(code, 2, "{args:?}: {out}\n{err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn each_side_restarts_its_benchmark_every_few_samples() {
    // A fake OLD that logs every start request: pools are re-placed every few pairs, so a
    // persistent placement cannot become a difference between the sides.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("starts");
    let old = common::script(
        dir.path(),
        "old",
        r#"echo '{"reply":"hello","protocol":"poolscale-sample","version":1,"tool_version":"0.2.0"}'
while read line; do
  case "$line" in
    *'"op":"start"'*) echo start >> "$STARTS_LOG"; echo '{"reply":"started"}' ;;
    *'"op":"sample"'*) n=$(echo "$line" | sed 's/.*"iters":\([0-9]*\).*/\1/'); echo "{\"reply\":\"sample\",\"ns\":$((n * 50000000))}" ;;
    *) echo '{"reply":"stopped"}' ;;
  esac
done"#,
    );
    let out = Command::new(common::bin())
        .args([
            "gate",
            "--ab",
            old.to_str().unwrap(),
            "--filter",
            "^dispatch/threads/1$",
            "--format",
            "json",
        ])
        .envs(ENV)
        .env("STARTS_LOG", &log)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let starts = std::fs::read_to_string(&log).unwrap().lines().count();
    // 2 calibration samples and at least 10 rounds: at least 12 samples, a start every 4.
    let every = poolscale::internal::RESTART_EVERY as usize;
    assert!(starts > (12 - 1) / every, "{starts} starts: {err}");
    // The fake's 50 ms per iteration is far from the real side's microseconds: the first verdict
    // is decided, so a second measurement with fresh sides runs, and confirms it.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ab"][0]["confirmed"], serde_json::json!(true), "{v}");
    let verdict = v["rows"][0]["verdict"].as_str().unwrap();
    assert!(verdict == "regressed" || verdict == "improved", "{v}");
}

#[test]
fn layouts_sample_every_variant_and_report_each_benchmarks_spread() {
    let dir = tempfile::tempdir().unwrap();
    let old = copy_of_bin(dir.path(), "poolscale-old");
    let new = copy_of_bin(dir.path(), "poolscale-new");
    let args = |layouts: &str| {
        vec![
            "--ab".to_string(),
            old.to_str().unwrap().into(),
            "--new".into(),
            new.to_str().unwrap().into(),
            "--filter".into(),
            "^dispatch/threads/1$".into(),
            "--budget".into(),
            "2s".into(),
            "--layouts".into(),
            layouts.into(),
            "--format".into(),
            "json".into(),
        ]
    };
    // Without the variants: a clear error naming them and the command that builds them.
    let a = args("2");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err) = gate_ab(&a);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("poolscale-old.layout-1") && err.contains("poolscale layouts"),
        "{err}"
    );
    // Two variants per side (copies here: the same layout, so any spread is noise).
    for (bin, name) in [(&old, "poolscale-old"), (&new, "poolscale-new")] {
        for k in 1..=2 {
            std::fs::copy(bin, dir.path().join(format!("{name}.layout-{k}"))).unwrap();
        }
    }
    // Files named like variants, without the record `poolscale layouts` writes: not taken.
    let (code, _, err) = gate_ab(&a);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no record"), "{err}");
    for (bin, name) in [(&old, "poolscale-old"), (&new, "poolscale-new")] {
        use sha2::Digest;
        let hex = |p: &std::path::Path| -> String {
            sha2::Sha256::digest(std::fs::read(p).unwrap())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let variants: Vec<String> = (1..=2)
            .map(|k| hex(&dir.path().join(format!("{name}.layout-{k}"))))
            .collect();
        let record =
            serde_json::json!({"schema_version": 1, "binary": hex(bin), "variants": variants});
        std::fs::write(
            dir.path().join(format!("{name}.layouts.json")),
            record.to_string(),
        )
        .unwrap();
    }
    let (code, out, err) = gate_ab(&a);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = &v["rows"][0];
    assert_eq!(row["id"], "dispatch/threads/1");
    assert!(row["layout_spread"].as_f64().unwrap() >= 0.0, "{row}");
    let verdict = row["verdict"].as_str().unwrap();
    assert!(["ok", "inconclusive", "layout"].contains(&verdict), "{row}");
    // One row in a 2 s budget on a busy machine may stay undecided: then nothing was judged,
    // which is exit 2 by the gate's contract.
    let expected = if verdict == "inconclusive" { 2 } else { 0 };
    assert_eq!(code, expected, "{out}\n{err}");
    // Every variant was started as a side and is gone afterwards.
    for name in ["poolscale-old.layout-2", "poolscale-new.layout-2"] {
        assert!(processes_running(&dir.path().join(name)).is_empty());
    }
}
