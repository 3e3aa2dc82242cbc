//! `poolscale report` on small Criterion-shaped directories: every derived number, every output
//! format, and the error cases.

mod common;

use common::{fake_criterion, fake_settings, healthy, poolscale};
use serde_json::Value;

fn close(a: &Value, b: f64) -> bool {
    a.as_f64()
        .is_some_and(|a| (a - b).abs() < 1e-9 * b.abs().max(1.0))
}

fn record<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

fn build() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let crit = tmp.path().join("criterion");
    let out = tmp.path().join("out");
    fake_criterion(&crit, "new", &healthy());
    fake_settings(&crit, &[1, 2, 4]);
    (tmp, crit, out)
}

fn run_report(
    crit: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> (i32, String, String) {
    let mut args = vec![
        "report",
        "--criterion-dir",
        crit.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    poolscale(&args)
}

#[test]
fn numbers_follow_the_models() {
    let (_tmp, crit, out) = build();
    let (code, stdout, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 0, "{err}");
    let n = healthy().len();
    assert!(stdout.contains(&format!("read {n} benchmarks")), "{stdout}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let ms = 1e6;
    // Weak: speedup w·t1/t, efficiency t1/t, ideal max(t1, w·t1/cores) (preemptive).
    let r = record(&results, "countdown_weak/threads/4");
    assert!(close(&r["speedup"], 2.0) && close(&r["efficiency"], 0.5));
    assert!(close(&r["ideal_ns"], 200.0 * ms) && close(&r["measured_over_ideal"], 1.0));
    let r = record(&results, "countdown_weak/gil/2");
    assert!(close(&r["speedup"], 1.0) && close(&r["efficiency"], 0.5));
    // gil computes on one core at a time: its ideal is the serial w·t1.
    assert!(close(&r["ideal_ns"], 200.0 * ms) && close(&r["measured_over_ideal"], 1.0));
    // Strong: speedup t1/t, efficiency speedup/w, ideal t1/min(w, cores).
    let r = record(&results, "countdown_strong/threads/4");
    assert!(close(&r["speedup"], 100.0 / 60.0) && close(&r["efficiency"], 100.0 / 240.0));
    assert!(close(&r["ideal_ns"], 50.0 * ms) && close(&r["measured_over_ideal"], 1.2));
    // sequential runs on one thread: its ideal does not fall with w.
    let r = record(&results, "countdown_strong/sequential/2");
    assert!(close(&r["ideal_ns"], 100.0 * ms) && close(&r["measured_over_ideal"], 1.0));
    // Rounds: ceil(10/4) = 3 naps of 10 ms.
    let r = record(&results, "square_sleep/threads/4");
    assert!(close(&r["ideal_ns"], 30.0 * ms) && close(&r["measured_over_ideal"], 1.0));
    assert!(close(&r["speedup"], 100.0 / 30.0));
    let r = record(&results, "square_sleep/sequential/2");
    assert!(close(&r["ideal_ns"], 100.0 * ms));
    // Per-unit costs.
    let r = record(&results, "dispatch/threads/1");
    assert!(close(&r["per_unit_ns"], 500.0) && r["per_unit"] == "task");
    assert!(r["speedup"].is_null());
    let r = record(&results, "startup/processes/4");
    assert!(close(&r["per_unit_ns"], 1.0 * ms) && r["per_unit"] == "worker");
    // Confidence interval carried through.
    let r = record(&results, "countdown_weak/threads/2");
    assert!(close(&r["median_lower_ns"], 99.0 * ms) && close(&r["median_upper_ns"], 101.0 * ms));
}

#[test]
fn every_output_is_written_and_parses() {
    let (_tmp, crit, out) = build();
    assert_eq!(run_report(&crit, &out, &[]).0, 0);
    let bmf: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bmf.json")).unwrap()).unwrap();
    let lat = &bmf["countdown_weak/gil/2"]["latency"];
    assert!(close(&lat["value"], 200e6) && close(&lat["lower_value"], 198e6));
    assert!(close(&lat["upper_value"], 202e6));
    let gh: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("github-benchmark.json")).unwrap())
            .unwrap();
    let e = gh
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "dispatch/threads/1")
        .unwrap();
    assert_eq!(e["unit"], "ns");
    assert!(close(&e["value"], 500_000.0));
    assert_eq!(e["range"], "± 5000");
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        md.contains("| countdown_weak/gil") || md.contains("| gil | 2 | 200.00 ms"),
        "{md}"
    );
    assert!(md.contains("![countdown_weak time](countdown_weak-time.svg)"));
    assert!(md.contains("2.00×"), "gil's 2x headline: {md}");
    for chart in [
        "countdown_weak-time.svg",
        "countdown_weak-speedup.svg",
        "square_sleep-speedup.svg",
        "dispatch-time.svg",
    ] {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("threads"),
            "{chart}"
        );
    }
    // Expected from the worker list [1, 2, 4] but absent: listed, not fatal.
    assert!(
        md.contains("## Missing") && md.contains("`countdown_weak/rayon/4`"),
        "{md}"
    );
}

#[test]
fn no_results_suggests_cargo_bench() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run_report(&tmp.path().join("nope"), &tmp.path().join("out"), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("does not exist") && err.contains("cargo bench"),
        "{err}"
    );
    let (code, _, err) = run_report(tmp.path(), &tmp.path().join("out"), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("run `cargo bench` first"), "{err}");
}

#[test]
fn truncated_json_names_the_file() {
    let (_tmp, crit, out) = build();
    let file = crit.join("square_sleep/gil/2/new/estimates.json");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    let (code, _, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("malformed JSON") && err.contains("square_sleep/gil/2/new/estimates.json"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn an_unknown_baseline_lists_the_ones_present() {
    let (_tmp, crit, out) = build();
    let (code, _, err) = run_report(&crit, &out, &["--baseline", "main"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("baseline `main`") && err.contains("new"),
        "{err}"
    );
}

#[test]
fn files_the_user_wrote_are_never_overwritten() {
    let (_tmp, crit, out) = build();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("README.md"), "my notes").unwrap();
    let (code, _, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("refusing to overwrite") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "my notes"
    );
    assert!(
        !out.join("results.json").exists(),
        "a refused report writes nothing"
    );
    // Its own files it may refresh; --force replaces the user's.
    assert_eq!(run_report(&crit, &out, &["--force"]).0, 0);
    assert_eq!(run_report(&crit, &out, &[]).0, 0);
    // Criterion's directory is only read.
    assert!(std::fs::read_dir(&crit).unwrap().all(|e| {
        let n = e.unwrap().file_name();
        n != "README.md" && n != "results.json"
    }));
}

#[test]
fn without_out_the_report_goes_under_target_never_into_reports() {
    let crit = tempfile::tempdir().unwrap();
    common::fake_settings(crit.path(), &[1, 2, 4]);
    common::fake_criterion(crit.path(), "new", &common::healthy());
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("reports")).unwrap();
    let out = std::process::Command::new(common::bin())
        .current_dir(cwd.path())
        .env_remove("CARGO_TARGET_DIR")
        .args(["report", "--criterion-dir", crit.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        cwd.path()
            .join("target/poolscale/report/results.json")
            .is_file()
    );
    assert_eq!(
        std::fs::read_dir(cwd.path().join("reports"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn concurrent_reports_into_one_directory_all_succeed() {
    let crit = tempfile::tempdir().unwrap();
    common::fake_settings(crit.path(), &[1, 2, 4]);
    common::fake_criterion(crit.path(), "new", &common::healthy());
    let out = tempfile::tempdir().unwrap();
    let spawn = || {
        std::process::Command::new(common::bin())
            .args(["report", "--criterion-dir", crit.path().to_str().unwrap()])
            .args(["--out", out.path().to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for _ in 0..5 {
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let manifest = std::fs::read_to_string(out.path().join(".poolscale-report")).unwrap();
    assert!(
        manifest.contains("results.json") && manifest.contains("README.md"),
        "{manifest}"
    );
    let stray: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

/// The models are lower bounds: in the committed reference report, no benchmark beats its ideal
/// by more than noise. The ideal is recomputed with this build's models from the committed
/// medians, so a model that is wrong again fails here.
#[test]
fn the_committed_reference_never_beats_its_ideal() {
    use poolscale::internal::{Report, ideal_ns};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/results.json");
    let r = Report::load_json(&path).unwrap();
    let mut checked = 0;
    for rec in &r.records {
        let t1 = r.get(rec.id.at_one()).map(|one| one.median_ns);
        let Some(ideal) = ideal_ns(
            rec.id.group,
            &rec.id.strategy.info(),
            rec.id.workers,
            t1,
            r.cores,
            &r.settings.workloads(),
        ) else {
            continue;
        };
        // Measured paired, the ratio holds the machine's drift out: its interval may not lie
        // wholly more than 2% below the bound. From Criterion's medians (taken apart), by noise:
        // 5%, or, where the run measured more, by as much as identical work varied across it
        // plus 2%.
        let (ratio, floor) = match rec.paired.and_then(|p| p.measured_over_ideal) {
            Some(p) => (p.upper, 0.98),
            None => {
                let drift = r.median_same_work_spread(rec.id.group).unwrap_or(0.0);
                (rec.median_ns / ideal, 0.95f64.min(1.0 - drift - 0.02))
            }
        };
        assert!(
            ratio >= floor,
            "{}: measured/ideal {ratio:.2} (the paired interval's upper end, or the medians'; the \
             ideal {ideal:.0} ns is a lower bound; noise allows {floor:.2})",
            rec.id
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} rows have a model");
}

#[test]
fn cpu_time_and_timelines_of_the_same_run_are_reported_and_another_runs_are_not() {
    use poolscale::internal::{CpuTime, Usage};
    use poolscale::internal::{Observations, Observed};
    let (_tmp, crit, out) = build();
    let settings = poolscale::internal::Settings::load_exact(&crit, "new")
        .unwrap()
        .unwrap();
    let mut s = settings.clone();
    s.run_id = Some("run-a".into());
    s.save(&crit, None).unwrap();
    let usage = |busy: u64| Usage {
        iters: 10,
        wall_ns: 1_000_000,
        cpu: CpuTime {
            user_ns: busy * 900_000,
            sys_ns: busy * 100_000,
        },
    };
    let mut obs = Observations::for_run(s.run_id.clone());
    obs.benches.insert(
        "countdown_weak/gil/2".parse().unwrap(),
        Observed {
            usage: usage(1),
            timeline: Some(poolscale::internal::Timeline::new(
                "countdown_weak/gil/2",
                "gil",
                2,
                std::time::Duration::from_millis(200),
                Vec::new(),
                Vec::new(),
            )),
            run_id: None,
            estimates: None,
            paired: None,
        },
    );
    obs.benches.insert(
        "countdown_weak/threads/2".parse().unwrap(),
        Observed {
            usage: usage(2),
            timeline: None,
            run_id: None,
            estimates: None,
            paired: None,
        },
    );
    obs.save(&crit, None).unwrap();
    let (code, _, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 0, "{err}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let r = record(&results, "countdown_weak/gil/2");
    assert!(close(&r["cores_busy"], 1.0), "{r}");
    assert!(close(&r["cpu_sys_ns"], 10_000.0), "{r}");
    assert!(close(
        &record(&results, "countdown_weak/threads/2")["cores_busy"],
        2.0
    ));
    assert!(record(&results, "countdown_weak/rayon/2")["cores_busy"].is_null());
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        md.contains("cores busy (sys)") && md.contains("| 1.00 (10%) |"),
        "{md}"
    );
    assert!(out.join("countdown_weak-cores.svg").exists());
    assert!(out.join("timeline-countdown_weak-gil-2.svg").exists());
    // Another run's observations (a different run id) are not mixed in.
    s.run_id = Some("run-b".into());
    s.save(&crit, None).unwrap();
    let out2 = out.with_file_name("out2");
    let (code, _, err) = run_report(&crit, &out2, &[]);
    assert_eq!(code, 0, "{err}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("results.json")).unwrap()).unwrap();
    assert!(record(&results, "countdown_weak/gil/2")["cores_busy"].is_null());
    assert!(!out2.join("timeline-countdown_weak-gil-2.svg").exists());
}

#[test]
fn scaling_fits_appear_with_enough_points_and_say_why_not_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = tmp.path().join("criterion");
    let out = tmp.path().join("out");
    // Strong scaling on 16 cores following the USL with σ = 0.1, κ = 0.001 for threads; gil flat.
    let usl = |w: f64| w / (1.0 + 0.1 * (w - 1.0) + 0.001 * w * (w - 1.0));
    let mut data: Vec<common::Fake<'static>> = Vec::new();
    for w in [1usize, 2, 4, 8, 16, 32] {
        data.push(("countdown_strong", "threads", w, 1e9 / usl(w as f64)));
        data.push(("countdown_strong", "gil", w, 1e9));
        data.push(("countdown_strong", "sequential", w, 1e9));
    }
    fake_criterion(&crit, "new", &data);
    let mut s = poolscale::internal::Settings::defaults();
    s.workers = vec![1, 2, 4, 8, 16, 32];
    s.machine.logical_cores = 16;
    s.save(&crit, None).unwrap();
    let (code, _, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 0, "{err}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let fits = results["fits"].as_array().unwrap();
    let threads = fits.iter().find(|f| f["strategy"] == "threads").unwrap();
    let sigma = threads["outcome"]["fitted"]["usl_sigma"]["point"]
        .as_f64()
        .unwrap();
    let kappa = threads["outcome"]["fitted"]["usl_kappa"]["point"]
        .as_f64()
        .unwrap();
    assert!(
        (sigma - 0.1).abs() < 1e-3 && (kappa - 0.001).abs() < 1e-4,
        "{threads}"
    );
    // 32 workers on 16 cores is oversubscribed: marked, and left out of the fit.
    assert_eq!(
        threads["outcome"]["fitted"]["points"],
        serde_json::json!([1, 2, 4, 8, 16])
    );
    assert_eq!(
        record(&results, "countdown_strong/threads/32")["oversubscribed"],
        true
    );
    let gil = fits.iter().find(|f| f["strategy"] == "gil").unwrap();
    assert!(
        close(&gil["outcome"]["fitted"]["usl_sigma"]["point"], 1.0),
        "{gil}"
    );
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(md.contains("| strategy | workers fitted | Amdahl s | USL σ | USL κ | USL speedup at 32 | USL speedup at 64 |"), "{md}");
    assert!(md.contains("| threads | 32† |"), "{md}");
    assert!(md.contains("Not fitted (sequential)"), "{md}");
}

/// A report of fake 1-worker results `(group, strategy, median ns)`; returns the temporary
/// directory (kept alive) and the report's output directory.
fn one_worker_report(rows: &[(&str, &str, f64)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let crit = tmp.path().join("criterion");
    let out = tmp.path().join("out");
    let rows: Vec<(&str, &str, usize, f64)> = rows.iter().map(|&(g, s, t)| (g, s, 1, t)).collect();
    fake_criterion(&crit, "new", &rows);
    fake_settings(&crit, &[1]);
    let (code, _, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 0, "{err}");
    (tmp, out)
}

#[test]
fn dispatch_costs_are_derived_and_exported() {
    // 1000 tasks in 50 µs, 20000 in 240 µs: 10 ns per task, 40 µs per map; wake-up 20 µs.
    let (_tmp, out) = one_worker_report(&[
        ("dispatch", "threads", 50_000.0),
        ("dispatch_bulk", "threads", 240_000.0),
        ("wakeup", "threads", 20_000.0),
    ]);
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let d = &results["dispatch"][0];
    assert_eq!(d["strategy"], "threads");
    assert!(close(&d["per_task_ns"]["point"], 10.0), "{d}");
    assert!(close(&d["per_map_ns"]["point"], 40_000.0), "{d}");
    assert!(close(&d["wakeup_ns"]["point"], 20_000.0), "{d}");
    let bmf: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bmf.json")).unwrap()).unwrap();
    assert!(
        close(&bmf["dispatch_cost/threads/1"]["per-task"]["value"], 10.0),
        "{bmf}"
    );
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        md.contains("## Dispatch costs") && md.contains("| threads | 1 | 10 ns"),
        "{md}"
    );
    assert!(out.join("dispatch-marginal.svg").exists());
}

#[test]
fn an_intercept_below_zero_is_marked_as_no_fixed_cost() {
    // gil: 1000 tasks in 50 µs but 20000 in 2 ms: ~103 ns per task, and a line through the two
    // crosses zero at -53 µs. threads: 10 ns per task, 40 µs per map, a real fixed cost.
    let (_tmp, out) = one_worker_report(&[
        ("dispatch", "gil", 50_000.0),
        ("dispatch_bulk", "gil", 2_000_000.0),
        ("dispatch", "threads", 50_000.0),
        ("dispatch_bulk", "threads", 240_000.0),
    ]);
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    let row = |s: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {s} | 1 |")) && l.contains(" ns ("))
            .unwrap_or_else(|| panic!("no {s} row: {md}"))
            .to_string()
    };
    assert!(row("gil").contains('‡'), "{}", row("gil"));
    assert!(!row("threads").contains('‡'), "{}", row("threads"));
    assert!(md.contains("‡ Below zero"), "{md}");
}

#[test]
fn a_run_of_one_group_keeps_the_earlier_runs_results_and_says_which_run_each_row_came_from() {
    let (_tmp, crit, out) = build();
    let earlier = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    // Every result was written by the earlier, full run...
    for entry in common::walk(&crit) {
        if entry.ends_with("estimates.json") {
            let f = std::fs::File::options().write(true).open(&entry).unwrap();
            f.set_modified(earlier).unwrap();
        }
    }
    let mut s = poolscale::internal::Settings::load_exact(&crit, "new")
        .unwrap()
        .unwrap();
    let ms = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
    };
    let mut first = s.clone();
    first.run_id = Some("aaaaaaaaaaaa".into());
    first.started_unix_ms = Some(ms(earlier) - 60_000);
    // ...and a later run with the same settings re-measured countdown_weak only.
    s.run_id = Some("bbbbbbbbbbbb".into());
    s.started_unix_ms = Some(ms(std::time::SystemTime::now()) - 30_000);
    assert!(s.carry_from(&first));
    s.save(&crit, None).unwrap();
    for entry in common::walk(&crit.join("countdown_weak")) {
        if entry.ends_with("estimates.json") {
            let f = std::fs::File::options().write(true).open(&entry).unwrap();
            f.set_modified(std::time::SystemTime::now()).unwrap();
        }
    }
    let (code, stdout, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("stale"), "nothing is stale: {err}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(
        record(&results, "countdown_weak/threads/1")["run_id"],
        "bbbbbbbbbbbb"
    );
    assert_eq!(
        record(&results, "square_sleep/threads/1")["run_id"],
        "aaaaaaaaaaaa"
    );
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(md.contains("2 runs with the same settings"), "{md}");
    assert!(md.contains("| run |") || md.contains("| run"), "{md}");
    let _ = stdout;
}

#[test]
fn ratios_measured_paired_replace_the_medians_quotients_and_both_are_kept() {
    use poolscale::internal::stats::Estimate;
    use poolscale::internal::{Observations, Observed, Paired};
    let (_tmp, crit, out) = build();
    let mut s = poolscale::internal::Settings::load_exact(&crit, "new")
        .unwrap()
        .unwrap();
    s.run_id = Some("run-p".into());
    s.save(&crit, None).unwrap();
    let est = |point: f64, lower: f64, upper: f64| Estimate {
        point,
        lower,
        upper,
    };
    let mut obs = Observations::for_run(s.run_id.clone());
    // The medians say threads at 2 is as fast as at 1 (100 ms each); interleaved, its 2-worker
    // map took 1.25x its 1-worker map, with two cores given in the same rounds.
    obs.benches.insert(
        "countdown_weak/threads/2".parse().unwrap(),
        Observed {
            paired: Some(Paired {
                to_one: Some(est(1.25, 1.2, 1.3)),
                cores_given: Some(est(2.0, 1.9, 2.05)),
                over_ideal_given: Some(est(1.25, 1.2, 1.3)),
                vs_sequential: None,
                rounds: 12,
            }),
            ..Observed::default()
        },
    );
    obs.benches.insert(
        "countdown_weak/threads/1".parse().unwrap(),
        Observed {
            paired: Some(Paired {
                vs_sequential: Some(est(1.01, 1.0, 1.02)),
                rounds: 12,
                ..Paired::default()
            }),
            ..Observed::default()
        },
    );
    obs.save(&crit, None).unwrap();
    let (code, _, err) = run_report(&crit, &out, &[]);
    assert_eq!(code, 0, "{err}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let r = record(&results, "countdown_weak/threads/2");
    // Weak scaling: efficiency = 1 / 1.25, speedup = 2 / 1.25, interval inverted.
    assert!(close(&r["efficiency"], 0.8), "{r}");
    assert!(close(&r["speedup"], 1.6), "{r}");
    assert!(close(&r["paired"]["efficiency"]["lower"], 1.0 / 1.3), "{r}");
    assert!(close(&r["paired"]["efficiency"]["upper"], 1.0 / 1.2), "{r}");
    assert!(close(&r["measured_over_ideal_given"], 1.25), "{r}");
    // What the medians would have said is kept beside.
    assert!(close(&r["from_medians"]["efficiency"], 1.0), "{r}");
    // A record without paired data keeps the medians' ratios and no `paired`.
    let r4 = record(&results, "countdown_weak/threads/4");
    assert!(
        r4["paired"].is_null() && close(&r4["efficiency"], 0.5),
        "{r4}"
    );
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(md.contains("80.0% [76.9, 83.3]"), "{md}");
    assert!(md.contains("Ratios measured paired"), "{md}");
    assert!(md.contains("Same work, paired"), "{md}");
}
