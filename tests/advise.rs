//! `poolscale advise`: measured on the spot (every strategy against `sequential`, then the top two
//! again with `--check`), or read from the latest break-even sweep of a Criterion directory; bad
//! questions refused.

mod common;

use common::poolscale;

#[test]
fn advise_ranks_every_strategy_against_sequential_and_refuses_a_workload_of_nothing() {
    let (code, out, err) = poolscale(&[
        "advise",
        "--task",
        "20us",
        "--tasks",
        "200",
        "--workers",
        "1,2",
        "--budget",
        "2s",
        "--check",
        "--criterion-dir",
        "no/such/dir",
        "--format",
        "json",
    ]);
    common::no_panic(code, &out, &err);
    assert_eq!(code, 0, "{err}");
    // No sweep to read: measured now, and said why.
    assert!(
        err.contains("measuring on the spot") && err.contains("no/such/dir"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["source"]["kind"], "measured", "{v}");
    // The check ran the top two again, interleaved, and said what it found.
    let check = &v["check"];
    assert!(
        ["confirmed", "tie", "reversed", "undecided"]
            .contains(&check["verdict"].as_str().unwrap_or("")),
        "{v}"
    );
    assert!(check["rounds"].as_u64().is_some_and(|r| r >= 6), "{v}");
    let c = v["candidates"].as_array().expect("candidates");
    // sequential at 1, and every other built-in at 1 and 2.
    assert_eq!(c.len(), 1 + 5 * 2, "{v}");
    let times: Vec<f64> = c
        .iter()
        .map(|c| c["expected_ns"]["point"].as_f64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|p| p[0] <= p[1]),
        "fastest first: {times:?}"
    );
    assert!(
        c.iter()
            .any(|c| c["strategy"] == "sequential" && c["vs_sequential"].is_null())
    );
    assert!(c.iter().filter(|c| c["strategy"] != "sequential").all(|c| {
        c["vs_sequential"]["point"]
            .as_f64()
            .is_some_and(|r| r > 0.0)
    }));
    assert_eq!(v["tasks"], 200);
    for (args, needle) in [
        (
            &["advise", "--task", "0s", "--tasks", "10"][..],
            "above zero",
        ),
        (
            &["advise", "--task", "5us", "--tasks", "0"][..],
            "task count",
        ),
        (
            &["advise", "--task", "5xs", "--tasks", "10"][..],
            "duration",
        ),
        (
            &["advise", "--workload", "fib", "--tasks", "10"][..],
            "registers no workload",
        ),
        (&["advise", "--tasks", "10"][..], "--task"),
        (
            &[
                "advise",
                "--workload",
                "fib",
                "--args",
                "1,x",
                "--tasks",
                "10",
            ][..],
            "whole number",
        ),
    ] {
        let (code, out, err) = poolscale(args);
        common::refused(&format!("{args:?}"), code, &out, &err, &[needle]);
    }
}

/// A sweep at 1 µs and 10 µs on this machine's core count: threads at 2 workers 0.8× then 0.55×
/// of `sequential`'s time, rayon 0.7× then 0.6×; saved as the latest run's in `crit`.
fn sweep_in(crit: &std::path::Path) {
    use poolscale::internal::stats::Estimate;
    use poolscale::internal::{Observations, Settings, SizePoint, Sweep, SweepArm};
    let mut s = Settings::defaults();
    s.run_id = Some("run-a".into());
    s.save(crit, None).unwrap();
    let est = |point: f64| Estimate {
        point,
        lower: point * 0.98,
        upper: point * 1.02,
    };
    let point = |t: f64, threads: f64, rayon: f64| SizePoint {
        target_ns: t as u64,
        decrements: 1,
        tasks: 1,
        task_ns: Some(est(t)),
        rounds: 8,
        arms: vec![
            SweepArm {
                strategy: poolscale::StrategyKind::Threads.into(),
                workers: 2,
                vs_sequential: Some(est(threads)),
            },
            SweepArm {
                strategy: poolscale::StrategyKind::Rayon.into(),
                workers: 2,
                vs_sequential: Some(est(rayon)),
            },
        ],
    };
    let mut obs = Observations::for_run(s.run_id.clone());
    obs.breakeven = Some(Sweep {
        run_id: Some("run-a".into()),
        cores: num_cpus::get().max(1),
        workers: vec![2],
        sizes: vec![point(1_000.0, 0.8, 0.7), point(10_000.0, 0.55, 0.6)],
        capacity: Vec::new(),
    });
    obs.save(crit, None).unwrap();
}

#[test]
fn advise_reads_the_latest_sweep_where_it_covers_the_question_and_measures_where_not() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = tmp.path().join("criterion");
    sweep_in(&crit);
    let dir = crit.to_str().unwrap();
    let ask = |extra: &[&str]| {
        let mut args = vec!["advise", "--criterion-dir", dir, "--format", "json"];
        args.extend_from_slice(extra);
        let (code, out, err) = poolscale(&args);
        common::no_panic(code, &out, &err);
        assert_eq!(code, 0, "{args:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
        (v, err)
    };
    // 3 µs, between the sweep's sizes: read from it, instantly, no measuring.
    let (v, err) = ask(&["--task", "3us", "--tasks", "10000", "--workers", "2"]);
    assert_eq!(v["source"]["kind"], "sweep", "{v} {err}");
    assert_eq!(v["source"]["run_id"], "run-a");
    assert_eq!(v["source"]["between_ns"][0].as_f64(), Some(1_000.0));
    let c = v["candidates"].as_array().unwrap();
    let order: Vec<&str> = c.iter().map(|c| c["strategy"].as_str().unwrap()).collect();
    // Interpolated on logs at 3 µs: threads 0.8 × (0.55/0.8)^0.477 = 0.67, rayon 0.65.
    assert_eq!(order, ["rayon", "threads", "sequential"], "{v}");
    let seq = c[2]["expected_ns"]["point"].as_f64().unwrap();
    assert!((seq - 3_000.0 * 10_000.0).abs() < 1.0, "{seq}");
    // 1 worker is not in this sweep: measured on the spot, and said why.
    let (v, err) = ask(&[
        "--task",
        "3us",
        "--tasks",
        "3000",
        "--workers",
        "1",
        "--budget",
        "4s",
    ]);
    assert_eq!(v["source"]["kind"], "measured", "{v}");
    assert!(err.contains("not 1"), "{err}");
    // `--measure` measures even where the sweep covers it.
    let (v, _) = ask(&[
        "--task",
        "3us",
        "--tasks",
        "10000",
        "--workers",
        "2",
        "--budget",
        "4s",
        "--measure",
    ]);
    assert_eq!(v["source"]["kind"], "measured", "{v}");
}
