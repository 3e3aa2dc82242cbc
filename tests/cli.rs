//! `poolscale run`: results and JSON shape, and clear errors (exit 2, no panic) for bad input.

mod common;

use common::poolscale;

#[test]
fn run_json_has_the_documented_fields() {
    for strategy in poolscale::StrategyKind::ALL.map(|k| k.as_str()) {
        let (code, out, err) = poolscale(&[
            "run",
            "--workload",
            "square",
            "--strategy",
            strategy,
            "--workers",
            "3",
            "--tasks",
            "10",
            "--nap",
            "1ms",
            "--json",
        ]);
        assert_eq!(code, 0, "{strategy}: {err}");
        assert_eq!(out.lines().count(), 1, "exactly one JSON object: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["workload"], "square");
        assert_eq!(v["strategy"], strategy);
        assert_eq!(v["workers"], 3);
        assert_eq!(v["jobs"], 10);
        assert!(v["wall_ns"].as_u64().unwrap() > 0);
        let results: Vec<u64> = serde_json::from_value(v["results"].clone()).unwrap();
        assert_eq!(results, vec![0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    }
}

#[test]
fn countdown_weak_and_split() {
    let (code, out, _) = poolscale(&[
        "run",
        "--workload",
        "countdown",
        "--strategy",
        "gil",
        "--workers",
        "3",
        "--count",
        "1000",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"], serde_json::json!([1000, 1000, 1000]));
    let (code, out, _) = poolscale(&[
        "run",
        "--workload",
        "countdown",
        "--strategy",
        "rayon",
        "--workers",
        "3",
        "--count",
        "1000",
        "--split",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"], serde_json::json!([334, 333, 333]));
}

#[test]
fn human_output_shows_results_and_wall_time() {
    let (code, out, _) = poolscale(&[
        "run",
        "--workload",
        "square",
        "--strategy",
        "threads",
        "--workers",
        "2",
        "--tasks",
        "3",
        "--nap",
        "0s",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("results: [0, 1, 4]") && out.contains("wall time:"),
        "{out}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let base = [
        ("--workload", "square"),
        ("--strategy", "threads"),
        ("--workers", "2"),
    ];
    let cases: &[(&[&str], &str)] = &[
        (&["--workers", "0"], "between 1 and 256"),
        (&["--workers", "100000"], "between 1 and 256"),
        (&["--workers", "-3"], "workers"),
        (&["--strategy", "fibers"], "it has sequential, threads"),
        (&["--strategy", "Fibers"], "lowercase letters"),
        (&["--workload", "fizzbuzz"], "fizzbuzz"),
        (&["--nap", "-1s"], "must not be negative"),
        (&["--nap", "soon"], "invalid duration"),
        (&["--nap", "5h"], "at most"),
        (&["--tasks", "0"], "between 1 and"),
        (&["--count", "999999999999999999"], "at most"),
        (&["--count", "lots"], "invalid count"),
    ];
    for (extra, needle) in cases {
        // The case's flag replaces the base's flag of the same name.
        let mut args = vec!["run"];
        for (flag, value) in base {
            if !extra.contains(&flag) {
                args.extend([flag, value]);
            }
        }
        args.extend_from_slice(extra);
        let (code, _, err) = poolscale(&args);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{extra:?} panicked: {err}");
    }
}

#[test]
fn timelines_draw_a_lane_per_worker_and_a_bar_per_job() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("new/dir/processes.svg");
    let (code, _, err) = poolscale(&[
        "run",
        "--workload",
        "square",
        "--strategy",
        "processes",
        "--workers",
        "3",
        "--nap",
        "1ms",
        "--timeline",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(text.matches("<title>job ").count(), 10, "{text}");
    // Three worker processes, each a lane labelled by its pid.
    assert_eq!(text.matches("(pid ").count(), 3, "{text}");
    // The gil's lock holds are drawn from its hand-off record.
    let gil = dir.path().join("gil.svg");
    let (code, _, err) = poolscale(&[
        "run",
        "--workload",
        "countdown",
        "--strategy",
        "gil",
        "--workers",
        "2",
        "--count",
        "20000000",
        "--switch-interval",
        "1ms",
        "--timeline",
        gil.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&gil).unwrap();
    assert!(text.contains("holding the lock"), "{text}");
    // seed pool draws the seed's table as a picture.
    let pool = dir.path().join("pool.svg");
    let (code, _, err) = poolscale(&[
        "seed",
        "pool",
        "--nap",
        "1ms",
        "--timeline",
        pool.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&pool).unwrap();
    assert_eq!(text.matches("<title>job ").count(), 10, "{text}");
    // A file poolscale did not write is never replaced.
    let mine = dir.path().join("mine.svg");
    std::fs::write(&mine, "<svg>mine</svg>").unwrap();
    let (code, _, err) = poolscale(&[
        "seed",
        "pool",
        "--nap",
        "1ms",
        "--timeline",
        mine.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("mine.svg"), "{err}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "<svg>mine</svg>");
}

#[test]
fn run_summarises_long_result_lists_and_its_help_names_every_strategy() {
    let (code, out, err) = common::poolscale(&[
        "run",
        "--workload",
        "square",
        "--strategy",
        "threads",
        "--workers",
        "1",
        "--tasks",
        "1000",
        "--nap",
        "0s",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1000 values, each as expected"), "{out}");
    assert!(out.contains("threads with 1 worker\n"), "{out}");
    assert!(out.len() < 2000, "{} bytes printed", out.len());
    let (code, help, _) = common::poolscale(&["run", "--help"]);
    assert_eq!(code, 0);
    for k in poolscale::StrategyKind::ALL {
        assert!(help.contains(k.as_str()), "`run --help` lacks {k}");
    }
}
