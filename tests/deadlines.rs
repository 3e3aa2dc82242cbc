//! Every wait has a deadline or answers Ctrl-C, and everything poolscale starts (a thread, a
//! program, a build) is checked and ends with it: a program that closes its output and stays
//! alive, a process an interpreter leaves holding its pipe, a `layouts` build stopped by SIGTERM,
//! a thread the OS refuses. Time limits here bound hangs; they never check speed.

mod common;

use std::time::{Duration, Instant};

use common::{finish_within, no_panic, processes_mentioning, refused, script, spawn};

/// Waits (bounded) until `path` holds a pid, and returns it.
fn pid_in(path: &std::path::Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "no pid in {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn calibrate_ends_when_a_program_closes_its_output_and_stays_alive() {
    let dir = tempfile::tempdir().unwrap();
    // A "probe" that closes its stdout, then sleeps (a marker in its arguments to find it by).
    let program = script(dir.path(), "mute", "exec 1>&-\nexec sleep 3141.5");
    let child = spawn(&["calibrate", program.to_str().unwrap()], &[]);
    let (code, out, err) = finish_within(child, Duration::from_secs(30));
    refused(
        "a mute program",
        code,
        &out,
        &err,
        &["closed its output but kept running"],
    );
    assert!(
        processes_mentioning("3141.5").is_empty(),
        "the mute program was left running"
    );
}

#[test]
fn seed_python_waits_for_the_interpreter_not_for_what_it_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    // An interpreter that leaves a process holding its stdout, then exits.
    let child = common::seed_with_fake_python(
        dir.path(),
        "sleep 2718.5 &\necho 'RESULT {\"total_s\": 0.5}'",
        &["--strategy", "threads"],
        &[],
    );
    let (code, out, err) = finish_within(child, Duration::from_secs(60));
    no_panic(code, &out, &err);
    assert_eq!(code, 0, "{out}\n{err}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_mentioning("2718.5").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the interpreter's leftover process still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_ends_a_layouts_build_with_everything_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    // A "cargo" that starts a long "rustc" and waits for it, recording its pid.
    let pidfile = dir.path().join("rustc.pid");
    let cargo = script(
        dir.path(),
        "cargo",
        &format!("sleep 1618.5 &\necho $! > '{}'\nwait", pidfile.display()),
    );
    let child = spawn(
        &[
            "layouts",
            "--src",
            src.to_str().unwrap(),
            "--k",
            "2",
            "--target-dir",
            dir.path().join("t").to_str().unwrap(),
        ],
        &[("CARGO", cargo.to_str().unwrap())],
    );
    let layouts = child.id();
    let rustc = pid_in(&pidfile);
    common::signal(layouts, libc::SIGTERM);
    let (code, out, err) = finish_within(child, Duration::from_secs(30));
    no_panic(code, &out, &err);
    assert_eq!(code, 130, "{out}\n{err}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while common::alive(rustc) {
        assert!(
            Instant::now() < deadline,
            "the build's rustc {rustc} still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_thread_the_os_refuses_is_an_error_naming_it() {
    // gate --ab reads each side on a thread of its own; seed --python reads the interpreter's.
    let me = common::bin();
    let child = spawn(
        &["gate", "--ab", me.to_str().unwrap(), "--budget", "1s"],
        &[("POOLSCALE_THREAD_FAULT", "side-reader")],
    );
    let (code, out, err) = finish_within(child, Duration::from_secs(60));
    refused(
        "gate --ab without a reader thread",
        code,
        &out,
        &err,
        &["side-reader", "thread limit"],
    );
    let dir = tempfile::tempdir().unwrap();
    let child = common::seed_with_fake_python(
        dir.path(),
        "echo 'RESULT {\"total_s\": 0.5}'",
        &[],
        &[("POOLSCALE_THREAD_FAULT", "python-stdout")],
    );
    let (code, out, err) = finish_within(child, Duration::from_secs(60));
    refused(
        "seed --python without a reader thread",
        code,
        &out,
        &err,
        &["python-stdout"],
    );
}

#[test]
fn a_side_that_exits_is_named_at_once_even_while_its_helper_holds_the_pipe() {
    let dir = tempfile::tempdir().unwrap();
    // A "side" that leaves a helper holding its output, then exits 3 without a word.
    let side = script(dir.path(), "side", "sleep 2236.5 &\nexit 3");
    let t = Instant::now();
    let child = spawn(
        &["gate", "--ab", side.to_str().unwrap(), "--budget", "1s"],
        &[],
    );
    let (code, out, err) = finish_within(child, Duration::from_secs(50));
    refused("a side that exits", code, &out, &err, &["side old", "exit"]);
    // The start timeout is 60 s: the error came from the exit, not from the deadline.
    assert!(t.elapsed() < Duration::from_secs(50));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_mentioning("2236.5").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the side's helper was left running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
