//! `poolscale seed`: the printed shape of both programs (tiny counts and naps), the rounds table
//! against the model, the CPython rows, Markdown output and bad input.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::poolscale;

fn lines_after<'a>(out: &'a str, header_start: &str) -> Vec<&'a str> {
    out.lines()
        .skip_while(|l| !l.starts_with(header_start))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn pool_prints_the_seed_shape_and_the_rounds() {
    let (code, out, err) = poolscale(&["seed", "pool", "--nap", "5ms"]);
    assert_eq!(code, 0, "{err}");
    // One start line per value, naming a worker process (not this test, not the CLI).
    for x in 0..10 {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("value {x} handled by pid ")))
            .unwrap_or_else(|| panic!("no line for {x}: {out}"));
        let pid: u32 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert_ne!(pid, std::process::id());
    }
    let pids: std::collections::BTreeSet<&str> = out
        .lines()
        .filter(|l| l.starts_with("value "))
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(pids.len(), 3, "three worker processes: {out}");
    assert!(
        out.contains("[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"),
        "{out}"
    );
    assert!(out.contains("Total work time "), "{out}");
    assert!(out.contains("model 4 rounds"), "{out}");
    // The rounds table: ceil(10/3) = 4 rounds, the last with a single value.
    let rounds = lines_after(&out, "round  worker 1");
    assert_eq!(rounds.len(), 4, "{out}");
    // The last round holds value 9 alone, on whichever worker was free first.
    let mut last: Vec<&str> = rounds[3].split_whitespace().skip(1).take(3).collect();
    last.sort_unstable();
    assert_eq!(last, ["9", "–", "–"], "{}", rounds[3]);
    // Every value appears exactly once across the rounds.
    let mut values: Vec<u64> = rounds
        .iter()
        .flat_map(|r| r.split_whitespace().skip(1).take(3))
        .filter_map(|v| v.parse().ok())
        .collect();
    values.sort_unstable();
    assert_eq!(values, (0..10).collect::<Vec<_>>());
}

#[test]
fn pool_with_four_workers_or_nine_items_needs_three_rounds() {
    for args in [&["--workers", "4"][..], &["--items", "9"]] {
        let mut a = vec!["seed", "pool", "--nap", "30ms"];
        a.extend_from_slice(args);
        let (code, out, _) = poolscale(&a);
        assert_eq!(code, 0);
        assert!(out.contains("model 3 rounds"), "{args:?}: {out}");
        assert_eq!(
            lines_after(&out, "round  worker 1").len(),
            3,
            "{args:?}: {out}"
        );
    }
}

#[test]
fn in_process_strategies_name_the_worker() {
    let (code, out, _) = poolscale(&[
        "seed",
        "pool",
        "--strategy",
        "gil",
        "--nap",
        "1ms",
        "--items",
        "4",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("value 0 handled by worker ")),
        "{out}"
    );
    assert!(out.contains("[0, 1, 4, 9]"));
}

#[test]
fn countdown_prints_the_seed_shape_and_the_table() {
    let (code, out, err) = poolscale(&["seed", "countdown", "--count", "20000", "--repeat", "2"]);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "== gil, 1 worker ==",
        "== threads, 2 workers ==",
        "Starting Thread_1",
        "Thread_1 work time ",
        "Exiting Thread_2",
        "Starting Process_2",
        "Exiting Main Thread",
        "Total work time ",
    ] {
        assert!(out.contains(needle), "missing {needle:?}: {out}");
    }
    let rows = lines_after(&out, "implementation");
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, vec!["gil", "threads", "processes"]);
    for r in rows {
        // The paired ratio, then its interval over the pairs: at least the 2 asked for, at most
        // five times as many while the interval is wide (a range below 6 pairs, else 95%).
        let words: Vec<&str> = r.split_whitespace().collect();
        let n: usize = words[words.len() - 2].parse().expect("a pair count");
        assert!(r.contains('×') && r.trim_end().ends_with(" pairs"), "{r}");
        assert!((2..=10).contains(&n), "{r}");
        assert!(r.contains(if n < 6 { "range of" } else { "95%," }), "{r}");
    }
    assert!(
        out.contains("The machine gave "),
        "what the machine gave is said: {out}"
    );
    // With at least 6 pairs asked for:
    let (code, out, err) = poolscale(&[
        "seed",
        "countdown",
        "--count",
        "20000",
        "--repeat",
        "6",
        "--strategy",
        "threads",
    ]);
    assert_eq!(code, 0, "{err}");
    // From 6 pairs on, a 95% interval; more pairs (two at a time, up to 30) while it is wide.
    let row = lines_after(&out, "implementation")[0];
    let words: Vec<&str> = row.split_whitespace().collect();
    let n: usize = words[words.len() - 2].parse().expect("a pair count");
    assert!(
        row.contains("95%, ") && (6..=30).contains(&n) && n.is_multiple_of(2),
        "{out}"
    );
}

#[test]
fn python_rows_or_a_clear_note() {
    // An interpreter that does not exist: a note, and the Rust part still runs.
    let out = Command::new(common::bin())
        .args([
            "seed",
            "countdown",
            "--count",
            "1000",
            "--strategy",
            "threads",
            "--python",
            "--repeat",
            "1",
        ])
        .env("POOLSCALE_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("note: --python") && stdout.contains("/nonexistent/python3"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("threads ")),
        "{stdout}"
    );
    // The real interpreter, where this machine has one.
    if seed_python_available() {
        let (code, out, err) = poolscale(&[
            "seed",
            "countdown",
            "--count",
            "10000",
            "--strategy",
            "gil",
            "--python",
            "--repeat",
            "1",
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("== CPython threads, 2 workers =="), "{out}");
        let rows = lines_after(&out, "implementation");
        assert!(
            rows.iter().any(|r| r.starts_with("Python threads")),
            "{out}"
        );
        assert!(
            rows.iter().any(|r| r.starts_with("Python processes")),
            "{out}"
        );
        let (code, out, err) = poolscale(&[
            "seed",
            "pool",
            "--nap",
            "5ms",
            "--items",
            "5",
            "--workers",
            "2",
            "--python",
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("Rounds, Python processes (2 workers, 5 items"),
            "{out}"
        );
        assert_eq!(out.matches("[0, 1, 4, 9, 16]").count(), 2, "{out}");
    }
}

fn seed_python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn markdown_sections_merge_and_user_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let md = tmp.path().join("seed.md");
    let p = md.to_str().unwrap();
    let (code, _, err) = poolscale(&["seed", "pool", "--nap", "1ms", "--markdown", p]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = poolscale(&[
        "seed",
        "countdown",
        "--count",
        "1000",
        "--repeat",
        "1",
        "--markdown",
        p,
    ]);
    assert_eq!(code, 0, "{err}");
    // Rerunning replaces the section instead of appending a second copy.
    assert_eq!(
        poolscale(&["seed", "pool", "--nap", "1ms", "--markdown", p]).0,
        0
    );
    let text = std::fs::read_to_string(&md).unwrap();
    assert_eq!(text.matches("## Program 2").count(), 1, "{text}");
    assert_eq!(text.matches("## Program 1").count(), 1, "{text}");
    assert!(
        text.contains("| gil |") && text.contains("| processes | 3 | 10 |"),
        "{text}"
    );
    assert!(text.contains("cores"), "the machine is named: {text}");
    let mine = tmp.path().join("notes.md");
    std::fs::write(&mine, "my notes").unwrap();
    let (code, _, err) = poolscale(&[
        "seed",
        "pool",
        "--nap",
        "1ms",
        "--markdown",
        mine.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
}

#[test]
fn bad_input_is_refused() {
    for args in [
        &["seed", "pool", "--workers", "0"][..],
        &["seed", "pool", "--items", "0"],
        &["seed", "pool", "--nap", "-1s"],
        &["seed", "pool", "--nap", "1 fortnight"],
        &["seed", "countdown", "--count", "1000000000000000"],
        &["seed", "countdown", "--repeat", "0"],
        &["seed", "countdown", "--strategy", "greenlets"],
    ] {
        let (code, _, err) = poolscale(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("invalid") || err.contains("expected"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn ctrl_c_during_the_pool_leaves_no_child() {
    let child = Command::new(common::bin())
        .args(["seed", "pool", "--nap", "20s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let kids = loop {
        let kids = common::children_of(child.id());
        if kids.len() == 3 || Instant::now() > deadline {
            break kids;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    common::signal(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(kids.len(), 3, "the pool's workers appeared");
    assert_eq!(out.status.code(), Some(130));
    for k in kids {
        assert!(!common::exists(k), "worker {k} left behind");
    }
}

#[test]
fn markdown_goes_into_a_directory_that_does_not_exist_yet() {
    // The README's example writes target/poolscale/seed.md in a fresh clone.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("target/poolscale/seed.md");
    let (code, _, err) = poolscale(&[
        "seed",
        "pool",
        "--nap",
        "1ms",
        "--markdown",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("Program 2")
    );
}
