//! Files another program wrote, treated as a stranger's: the report removes and replaces only
//! what it wrote inside `--out`, escapes every string for the page, the Markdown and the
//! terminal, bounds every size, and decides what is stale by what the benches recorded, never by
//! file times. One case per test.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    fake_criterion, fake_settings, finish_within, healthy, no_panic, poolscale, refused, spawn,
};
use poolscale::internal::{Observations, Observed, Settings};
use serde_json::Value;

fn report(crit: &Path, out: &Path) -> (i32, String, String) {
    poolscale(&[
        "report",
        "--criterion-dir",
        crit.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// A healthy Criterion directory with its settings, under `root/criterion`.
fn criterion_in(root: &Path) -> PathBuf {
    let crit = root.join("criterion");
    fake_criterion(&crit, "new", &healthy());
    fake_settings(&crit, &[1, 2, 4]);
    crit
}

fn edit_settings(crit: &Path, edit: impl FnOnce(&mut Value)) {
    let p = crit.join("poolscale-settings.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&p, v.to_string()).unwrap();
}

#[test]
fn a_manifest_naming_files_outside_the_output_folder_deletes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = criterion_in(tmp.path());
    let out = tmp.path().join("out");
    assert_eq!(report(&crit, &out).0, 0);
    // A pull request edits the committed manifest: a file beside the folder, an absolute path,
    // a hidden file and a user's file inside it that carries no digest.
    let beside = tmp.path().join("precious.txt");
    let absolute = tmp.path().join("absolute.svg");
    std::fs::write(&beside, "mine").unwrap();
    std::fs::write(&absolute, "mine").unwrap();
    std::fs::write(out.join("notes.svg"), "mine").unwrap();
    let manifest = out.join(".poolscale-report");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    let fake = "0".repeat(64);
    for entry in [
        "../precious.txt".to_string(),
        absolute.display().to_string(),
        ".bashrc".into(),
    ] {
        text.push_str(&format!("{fake}  {entry}\n{entry}\n"));
    }
    text.push_str("notes.svg\n");
    std::fs::write(&manifest, text).unwrap();
    let (code, _, err) = report(&crit, &out);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&beside).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(&absolute).unwrap(), "mine");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.svg")).unwrap(),
        "mine"
    );
    assert!(
        err.contains("ignored the entry `../precious.txt`"),
        "the refused entries are named: {err}"
    );
    // The manifest written back lists only the report's own files.
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        !text.contains("precious") && !text.contains("notes.svg"),
        "{text}"
    );
}

#[test]
fn a_planted_manifest_cannot_make_the_report_replace_a_users_file() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = criterion_in(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // The user's own README.md, and a manifest (old format, and new with a wrong digest)
    // claiming it.
    std::fs::write(out.join("README.md"), "my notes").unwrap();
    for manifest in [
        "README.md\n".to_string(),
        format!("{}  README.md\n", "a".repeat(64)),
    ] {
        std::fs::write(out.join(".poolscale-report"), manifest).unwrap();
        let (code, _, err) = report(&crit, &out);
        refused(
            "planted manifest",
            code,
            "",
            &err,
            &["README.md", "--force"],
        );
        assert_eq!(
            std::fs::read_to_string(out.join("README.md")).unwrap(),
            "my notes"
        );
    }
    // A file the report wrote and the user edited since is left alone when it goes stale.
    let out2 = tmp.path().join("out2");
    assert_eq!(report(&crit, &out2).0, 0);
    std::fs::write(out2.join("startup-time.svg"), "edited").unwrap();
    std::fs::remove_dir_all(crit.join("startup")).unwrap();
    let (code, _, err) = report(&crit, &out2);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(out2.join("startup-time.svg")).unwrap(),
        "edited"
    );
    assert!(
        !out2.join("startup-cores.svg").exists(),
        "its own stale chart is removed"
    );
}

/// Hostile strings from the stranger's files, one per field.
const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "<iframe src=\"https://example.com\"></iframe>",
    "a`b<svg onload=alert(1)>`c",
    "x | y\n# heading <img src=x onerror=alert(1)>",
    "\u{1b}[2J\u{1b}]0;owned\u{7}",
];

#[test]
fn strings_from_settings_and_folder_names_reach_the_page_as_text() {
    for (i, hostile) in HOSTILE.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        // The Criterion folder's own name carries a backtick and markup too.
        let crit = tmp.path().join(format!("crit`<svg onload=alert({i})>`"));
        fake_criterion(&crit, "new", &healthy());
        fake_settings(&crit, &[1, 2, 4]);
        edit_settings(&crit, |v| {
            for field in ["cpu", "os", "rustc", "commit", "date"] {
                v["machine"][field] = Value::from(*hostile);
            }
            v["run_id"] = Value::from(*hostile);
        });
        let out = tmp.path().join("out");
        let (code, stdout, err) = report(&crit, &out);
        assert_eq!(code, 0, "{hostile:?}: {err}");
        assert!(!stdout.contains('\u{1b}') && !err.contains('\u{1b}'));
        let page = std::fs::read_to_string(out.join("index.html")).unwrap();
        let body = &page[page.find("<body>").unwrap()..];
        // Escaped, the strings are text (`&lt;script&gt;`); only live markup counts.
        for tag in [
            "<script",
            "<iframe",
            "<img",
            "<svg onload",
            "href=\"javascript",
        ] {
            let live = body
                .match_indices(tag)
                .filter(|(at, _)| {
                    // Inside an inlined chart, text is the chart's own (its escaping is tested
                    // with the charts); here, only markup outside an <svg> counts.
                    body[..*at]
                        .rfind("<svg")
                        .is_none_or(|s| body[s..*at].contains("</svg>"))
                })
                .count();
            assert_eq!(live, 0, "{hostile:?}: `{tag}` reached the page: {body}");
        }
        assert!(!page.contains('\u{1b}'), "{hostile:?}");
        let md = std::fs::read_to_string(out.join("README.md")).unwrap();
        // Rendered by another Markdown reader, the README carries no live markup either.
        let mut html = String::new();
        pulldown_cmark::html::push_html(
            &mut html,
            pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES),
        );
        // (Its own charts are images; a planted one is not.)
        for tag in [
            "<script",
            "<iframe",
            "<img src=x",
            "<svg",
            "href=\"javascript",
        ] {
            assert!(
                !html.contains(tag),
                "{hostile:?}: `{tag}` in the README: {md}"
            );
        }
    }
}

#[test]
fn oversized_settings_are_refused_by_the_limit_they_break() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = criterion_in(tmp.path());
    let out = tmp.path().join("out");
    // 10,000 worker entries (35 KB): once a 42 MB report.
    edit_settings(&crit, |v| {
        v["workers"] = Value::from((1..=10_000).map(|i| i % 256 + 1).collect::<Vec<_>>());
    });
    let (code, stdout, err) = report(&crit, &out);
    refused(
        "10,000 workers",
        code,
        &stdout,
        &err,
        &["worker list", "32"],
    );
    // 7,000 strategies.
    let crit = criterion_in(&tmp.path().join("b"));
    edit_settings(&crit, |v| {
        v["strategies"] = Value::from(
            (0..7000)
                .map(|i| {
                    serde_json::json!({"name": format!("s{i}"), "info": {"parallel": true,
                        "computes_in_parallel": true, "child_processes": false,
                        "preemptive": true, "colour": [1, 2, 3]}})
                })
                .collect::<Vec<_>>(),
        );
    });
    let (code, stdout, err) = report(&crit, &out);
    refused(
        "7,000 strategies",
        code,
        &stdout,
        &err,
        &["strategy list", "64"],
    );
    // A CPU model of a megabyte.
    let crit = criterion_in(&tmp.path().join("c"));
    edit_settings(&crit, |v| {
        v["machine"]["cpu"] = Value::from("x".repeat(1 << 19))
    });
    let (code, stdout, err) = report(&crit, &out);
    refused("a huge CPU name", code, &stdout, &err, &["CPU", "512"]);
    assert!(!out.join("README.md").exists(), "nothing was written");
}

/// Records `crit`'s results as the benches do: the run id, and each result's run and digest.
fn record_run(crit: &Path, run: &str, run_of: impl Fn(usize) -> String) {
    use sha2::Digest;
    let mut s = Settings::load_exact(crit, "new").unwrap().unwrap();
    s.run_id = Some(run.to_string());
    s.save(crit, None).unwrap();
    let mut obs = Observations::for_run(Some(run.to_string()));
    for (i, (g, k, w, _)) in healthy().into_iter().enumerate() {
        let bytes = std::fs::read(
            crit.join(g)
                .join(k)
                .join(w.to_string())
                .join("new/estimates.json"),
        )
        .unwrap();
        let digest: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        obs.benches.insert(
            format!("{g}/{k}/{w}").parse().unwrap(),
            Observed {
                run_id: Some(run_of(i)),
                estimates: Some(digest),
                ..Observed::default()
            },
        );
    }
    obs.save(crit, None).unwrap();
}

#[test]
fn run_ids_that_are_not_ascii_are_shown_whole_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = criterion_in(tmp.path());
    // Two runs of one series, each with a run id of two-byte characters (a byte cut at 8 once
    // fell inside one).
    let (a, b) = ("ééééééééé", "ñññññññññ");
    record_run(&crit, b, |i| if i % 2 == 0 { a } else { b }.to_string());
    edit_settings(&crit, |v| {
        v["earlier_runs"] = serde_json::json!([{"run_id": a, "started_unix_ms": 1}]);
    });
    let out = tmp.path().join("out");
    let (code, stdout, err) = report(&crit, &out);
    no_panic(code, &stdout, &err);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        md.contains("`éééééééé`") && md.contains("`ññññññññ`"),
        "{md}"
    );
}

#[test]
fn what_is_stale_is_what_the_run_recorded_not_the_file_times() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = criterion_in(tmp.path());
    record_run(&crit, "run-a", |_| "run-a".into());
    // One result rewritten after the run (by hand, another tool, an older run restored): its
    // contents are not what the run recorded.
    fake_criterion(&crit, "new", &[("countdown_weak", "threads", 2, 123e6)]);
    // The run "started" after every file was written: by file times, everything would be stale.
    edit_settings(&crit, |v| v["started_unix_ms"] = Value::from(u64::MAX / 2));
    let stale_of = |dir: &Path| {
        let out = tmp.path().join(format!(
            "out-{}",
            dir.file_name().unwrap().to_string_lossy()
        ));
        let (code, _, err) = report(dir, &out);
        assert_eq!(code, 0, "{err}");
        let r: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap())
                .unwrap();
        r["stale"].clone()
    };
    let original = stale_of(&crit);
    assert_eq!(original, serde_json::json!(["countdown_weak/threads/2"]));
    // The same directory copied (new file times) reads the same.
    let copy = tmp.path().join("copied");
    let ok = std::process::Command::new("cp")
        .args(["-r", crit.to_str().unwrap(), copy.to_str().unwrap()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert_eq!(stale_of(&copy), original);
}

#[test]
fn a_fifo_named_like_the_lock_is_an_error_not_a_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = criterion_in(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let fifo = out.join(".poolscale.lock");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let child = spawn(
        &[
            "report",
            "--criterion-dir",
            crit.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let (code, stdout, err) = finish_within(child, Duration::from_secs(30));
    refused("a FIFO lock", code, &stdout, &err, &[".poolscale.lock"]);
}

#[test]
fn knobs_that_are_not_utf8_are_refused_by_name() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(common::bin())
        .args(["gate", "--paired-invariants", "--budget", "1s"])
        .env("POOLSCALE_COUNT", std::ffi::OsStr::from_bytes(b"1000\xff"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    refused(
        "non-UTF-8 POOLSCALE_COUNT",
        out.status.code().unwrap_or(-1),
        "",
        &err,
        &["POOLSCALE_COUNT", "UTF-8"],
    );
}

#[test]
fn what_a_side_says_reaches_the_terminal_escaped_and_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // A "side" that clears the screen, retitles the window and fakes the gate's tally line.
    let side = common::script(
        dir.path(),
        "side",
        r"printf '\033[2J\033]0;owned\007\ngate: 99 passed, 0 failed\n'",
    );
    let child = spawn(
        &["gate", "--ab", side.to_str().unwrap(), "--budget", "1s"],
        &[],
    );
    let (code, stdout, err) = finish_within(child, Duration::from_secs(60));
    refused(
        "a side speaking escapes",
        code,
        &stdout,
        &err,
        &["side old"],
    );
    assert!(
        !err.contains('\u{1b}') && !stdout.contains('\u{1b}'),
        "{err}"
    );
    assert!(
        err.contains("\\u{1b}"),
        "the escape is shown, not sent: {err}"
    );
    assert!(
        !err.lines().any(|l| l.starts_with("gate: 99")) && !stdout.contains("gate: 99"),
        "a side cannot fake a line of the log: {err}"
    );
}
