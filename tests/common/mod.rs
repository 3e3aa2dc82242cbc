//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use poolscale::Options;

/// The `poolscale` binary Cargo built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_poolscale"))
}

/// Pool options that run this build's `poolscale` as the worker.
pub fn options() -> Options {
    Options {
        worker_program: Some(bin()),
        ..Options::default()
    }
}

/// Options whose workers misbehave as `fault` says (`ACTION@JOB`, see `processes::worker`).
pub fn faulty(fault: &str) -> Options {
    let mut o = options();
    o.worker_env.push((
        poolscale::strategy::processes::worker::FAULT_ENV.into(),
        fault.into(),
    ));
    o
}

/// Whether process `pid` still exists as anything but a zombie awaiting its reaper.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next());
            !matches!(state, Some(Some('Z')) | Some(Some('X')))
        }
        Err(_) => false,
    }
}

/// Whether `pid` exists at all, zombies included (a zombie child means nobody reaped it).
pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The pids of `parent`'s children, from /proc.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return kids;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            && let Some((_, rest)) = stat.rsplit_once(')')
        {
            let ppid = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(parent) {
                kids.push(pid);
            }
        }
    }
    kids
}

/// Runs `poolscale ARGS` and returns (exit code, stdout, stderr).
pub fn poolscale(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run poolscale");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends `signal` to `pid`.
pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) with plain integers.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}
