//! This crate's binary is the `poolscale` command line knowing this crate's suite
//! (`poolscale::main_with`): `run`, `seed` and `gate --paired-invariants` measure `mpsc`, a
//! strategy registered outside poolscale's built-ins, with the facts this crate declared.

use std::process::{Command, Output};

fn custom_pool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custom-pool"))
        .args(args)
        // Small jobs: this checks what runs, not how fast.
        .env("POOLSCALE_COUNT", "2000000")
        .env("POOLSCALE_NAP", "5ms")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn run_measures_the_crates_own_strategy() {
    let o = custom_pool(&[
        "run",
        "--workload",
        "square",
        "--strategy",
        "mpsc",
        "--workers",
        "3",
        "--tasks",
        "10",
        "--nap",
        "5ms",
        "--json",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let rec: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rec["strategy"], "mpsc");
    assert_eq!(rec["workers"], 3);
    let values: Vec<u64> = rec["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(values, (0..10u64).map(|x| x * x).collect::<Vec<_>>());
    // A name outside the suite is refused with the suite's names.
    let o = custom_pool(&[
        "run",
        "--workload",
        "square",
        "--strategy",
        "gil",
        "--workers",
        "2",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("sequential, threads, rayon, mpsc"), "{err}");
}

#[test]
fn seed_runs_both_programs_under_the_crates_own_strategy() {
    let o = custom_pool(&[
        "seed",
        "countdown",
        "--strategy",
        "mpsc",
        "--count",
        "2000000",
        "--repeat",
        "1",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("== mpsc, 2 workers =="), "{out}");
    assert!(out.contains("Starting Thread_2"), "{out}");
    let o = custom_pool(&[
        "seed",
        "pool",
        "--strategy",
        "mpsc",
        "--items",
        "6",
        "--nap",
        "5ms",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("[0, 1, 4, 9, 16, 25]"), "{out}");
    assert!(out.contains("handled by worker"), "{out}");
}

#[test]
fn the_paired_invariants_check_the_crates_own_strategy() {
    let o = custom_pool(&[
        "gate",
        "--paired-invariants",
        "--budget",
        "2s",
        "--format",
        "json",
    ]);
    let (out, err) = text(&o);
    // Pass, fail or undecided on a busy machine: this checks what was measured, not the verdict.
    assert!(matches!(o.status.code(), Some(0..=2)), "{out}\n{err}");
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let checks: Vec<&str> = v["invariants"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {out}\n{err}"))
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores >= 2 {
        // mpsc was declared compute-parallel: it gets the efficiency check.
        assert!(
            checks.contains(&"countdown_weak/mpsc efficiency at 2 workers / probe's"),
            "{checks:?}"
        );
    }
    assert!(
        checks.contains(&"square_sleep/mpsc measured/ideal at 3 workers"),
        "{checks:?}"
    );
    // The suite has no gil: no gil check, and no built-in outside the suite.
    assert!(
        !checks
            .iter()
            .any(|c| c.contains("gil") || c.contains("processes")),
        "{checks:?}"
    );
}

#[test]
fn advise_measures_the_crates_own_workload_under_its_own_strategies() {
    let o = custom_pool(&[
        "advise",
        "--workload",
        "collatz",
        "--args",
        "27",
        "--tasks",
        "2000",
        "--workers",
        "2",
        "--budget",
        "3s",
        "--format",
        "json",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["workload"], "2000 tasks of collatz(27, 0)", "{v}");
    assert_eq!(v["source"]["kind"], "measured", "{v}");
    let mut names: Vec<&str> = v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["strategy"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["mpsc", "rayon", "sequential", "threads"], "{v}");
    // A workload the suite did not register is refused with the ones it did.
    let o = custom_pool(&["advise", "--workload", "fib", "--tasks", "10"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("collatz"), "{err}");
}
