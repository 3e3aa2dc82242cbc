//! `poolscale gate` on constructed Criterion directories: identical data passes, a 30% slowdown
//! fails and is named, improvements and missing benchmarks are reported, malformed data exits 2,
//! invariants and cross-machine normalisation work.

mod common;

use std::path::Path;

use common::{Fake, fake_criterion, fake_settings, healthy, poolscale};

fn setup(before: &[Fake<'_>], after: &[Fake<'_>]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fake_criterion(tmp.path(), "main", before);
    fake_criterion(tmp.path(), "new", after);
    fake_settings(tmp.path(), &[1, 2, 4]);
    tmp
}

fn gate(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["gate", "--criterion-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    poolscale(&args)
}

fn scaled(data: &[Fake<'static>], id: &str, factor: f64) -> Vec<Fake<'static>> {
    data.iter()
        .map(|&(g, s, w, t)| {
            let this = format!("{g}/{s}/{w}") == id;
            (g, s, w, if this { t * factor } else { t })
        })
        .collect()
}

fn line<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("no row {id}: {out}"))
}

#[test]
fn identical_data_passes() {
    let tmp = setup(&healthy(), &healthy());
    let (code, out, err) = gate(tmp.path(), &["--baseline", "main"]);
    assert_eq!(code, 0, "{out}{err}");
    let n = healthy().len();
    assert!(
        out.contains("0 regressed") && out.contains(&format!("{n} ok")),
        "{out}"
    );
}

#[test]
fn a_thirty_percent_slowdown_fails_and_is_named() {
    let after = scaled(&healthy(), "square_sleep/threads/2", 1.3);
    let tmp = setup(&healthy(), &after);
    let (code, out, _) = gate(tmp.path(), &["--baseline", "main"]);
    assert_eq!(code, 1, "{out}");
    let row = line(&out, "square_sleep/threads/2");
    assert!(row.contains("regressed") && row.contains("+30.0%"), "{row}");
    assert!(out.contains("1 regressed"), "{out}");
    // JSON says the same.
    let (code, json, _) = gate(tmp.path(), &["--baseline", "main", "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let bad: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "regressed")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(bad, vec!["square_sleep/threads/2"]);
    assert_eq!(v["exit_code"], 1);
}

#[test]
fn noise_inside_the_threshold_passes() {
    // 8% slower: above nothing but the noise the intervals allow at a 10% threshold.
    let after = scaled(&healthy(), "countdown_weak/threads/2", 1.08);
    let tmp = setup(&healthy(), &after);
    assert_eq!(gate(tmp.path(), &["--baseline", "main"]).0, 0);
    // A tighter per-group threshold catches it; --threshold too.
    let (code, out, _) = gate(
        tmp.path(),
        &[
            "--baseline",
            "main",
            "--group-threshold",
            "countdown_weak=3%",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(line(&out, "countdown_weak/threads/2").contains("3%"));
    assert_eq!(
        gate(tmp.path(), &["--baseline", "main", "--threshold", "4%"]).0,
        1
    );
}

#[test]
fn an_improvement_passes_and_is_reported() {
    let after = scaled(&healthy(), "dispatch/threads/1", 0.5);
    let tmp = setup(&healthy(), &after);
    let (code, out, _) = gate(tmp.path(), &["--baseline", "main"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        line(&out, "dispatch/threads/1").contains("improved"),
        "{out}"
    );
}

#[test]
fn a_missing_benchmark_is_reported_and_fails_with_strict() {
    let after: Vec<Fake<'static>> = healthy()
        .into_iter()
        .filter(|&(g, s, w, _)| !(g == "startup" && s == "processes" && w == 4))
        .collect();
    let tmp = setup(&healthy(), &after);
    let (code, out, _) = gate(tmp.path(), &["--baseline", "main"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        line(&out, "startup/processes/4").contains("missing"),
        "{out}"
    );
    let (code, _, _) = gate(tmp.path(), &["--baseline", "main", "--strict"]);
    assert_eq!(code, 1);
}

#[test]
fn malformed_json_exits_2_naming_the_file() {
    let tmp = setup(&healthy(), &healthy());
    let f = tmp.path().join("dispatch/threads/1/main/estimates.json");
    std::fs::write(&f, "{\"mean\": ").unwrap();
    let (code, _, err) = gate(tmp.path(), &["--baseline", "main"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("dispatch/threads/1/main/estimates.json"),
        "{err}"
    );
}

#[test]
fn bad_arguments_exit_2() {
    let tmp = setup(&healthy(), &healthy());
    for args in [
        &["--baseline", "main", "--threshold", "lots"][..],
        &["--baseline", "main", "--threshold", "-5%"],
        &["--baseline", "main", "--group-threshold", "nosuch=5%"],
        &[],
    ] {
        let (code, _, err) = gate(tmp.path(), args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
    let (code, _, err) = gate(&tmp.path().join("absent"), &["--invariants"]);
    assert_eq!(code, 2);
    assert!(err.contains("cargo bench"), "{err}");
}

#[test]
fn invariants_pass_fail_and_cannot_judge() {
    let tmp = setup(&healthy(), &healthy());
    let (code, out, _) = gate(tmp.path(), &["--invariants"]);
    assert_eq!(code, 0, "{out}");
    // One square_sleep check per strategy, one efficiency check per compute-parallel strategy,
    // one gil check: counted from the registry, not written down.
    use poolscale::StrategyKind;
    let expected = StrategyKind::ALL.len()
        + StrategyKind::ALL
            .iter()
            .filter(|k| k.computes_in_parallel())
            .count()
        + 1;
    assert!(
        out.contains(&format!("gate: {expected} passed, 0 failed")),
        "{out}"
    );
    // A gil that does not serialise (2 workers as fast as 1) breaks the seed's effect.
    let broken = scaled(&healthy(), "countdown_weak/gil/2", 0.5);
    let tmp = setup(&healthy(), &broken);
    let (code, out, _) = gate(tmp.path(), &["--invariants"]);
    assert_eq!(code, 1, "{out}");
    assert!(line(&out, "countdown_weak/gil").contains("fail"), "{out}");
    // Threads that do not scale fail the efficiency floor.
    let slow = scaled(&healthy(), "countdown_weak/threads/2", 1.8);
    let tmp = setup(&healthy(), &slow);
    assert_eq!(gate(tmp.path(), &["--invariants"]).0, 1);
    // Without countdown data the gate cannot judge.
    let partial: Vec<Fake<'static>> = healthy()
        .into_iter()
        .filter(|f| f.0 != "countdown_weak")
        .collect();
    let tmp = setup(&partial, &partial);
    let (code, out, _) = gate(tmp.path(), &["--invariants"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("could not be judged"), "{out}");
}

#[test]
fn against_a_report_from_a_slower_machine_with_normalize() {
    // The committed report came from a machine twice as slow: raw times all "improve", the
    // normalised shape is unchanged.
    let slow: Vec<Fake<'static>> = healthy()
        .into_iter()
        .map(|(g, s, w, t)| (g, s, w, t * 2.0))
        .collect();
    let old = tempfile::tempdir().unwrap();
    fake_criterion(old.path(), "new", &slow);
    fake_settings(old.path(), &[1, 2, 4]);
    let out = old.path().join("report");
    let (code, _, err) = poolscale(&[
        "report",
        "--criterion-dir",
        old.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let results = out.join("results.json");
    let now = setup(&healthy(), &healthy());
    let against = ["--against", results.to_str().unwrap()];
    let (code, raw, _) = gate(now.path(), &against);
    assert_eq!(code, 0);
    assert!(
        line(&raw, "countdown_weak/threads/2").contains("improved"),
        "{raw}"
    );
    let mut args = against.to_vec();
    args.push("--normalize");
    let (code, norm, _) = gate(now.path(), &args);
    assert_eq!(code, 0, "{norm}");
    assert!(
        line(&norm, "countdown_weak/threads/2").contains("ok"),
        "{norm}"
    );
    // A scaling regression shows through normalisation: threads at 2 workers 40% slower.
    let worse = setup(
        &healthy(),
        &scaled(&healthy(), "countdown_weak/threads/2", 1.4),
    );
    let (code, out, _) = gate(worse.path(), &args);
    assert_eq!(code, 1, "{out}");
    assert!(
        line(&out, "countdown_weak/threads/2").contains("regressed"),
        "{out}"
    );
    // A malformed --against file is named.
    std::fs::write(&results, "[").unwrap();
    let (code, _, err) = gate(now.path(), &against);
    assert_eq!(code, 2);
    assert!(err.contains("results.json"), "{err}");
}

#[test]
fn different_settings_are_warned_about() {
    let tmp = setup(&healthy(), &healthy());
    let (_, _, err) = gate(tmp.path(), &["--baseline", "main"]);
    assert!(!err.contains("warning"), "same settings, no warning: {err}");
    let mut old = poolscale::internal::Settings::load(tmp.path(), None)
        .unwrap()
        .unwrap();
    old.nap_ns = 13_000_000;
    old.save(tmp.path(), Some("main")).unwrap();
    // save() also rewrites the latest settings; put the current ones back.
    fake_settings(tmp.path(), &[1, 2, 4]);
    let (code, _, err) = gate(tmp.path(), &["--baseline", "main"]);
    assert_eq!(code, 0);
    assert!(
        err.contains("warning: baseline `main`") && err.contains("nap 13ms → 10ms"),
        "{err}"
    );
}
