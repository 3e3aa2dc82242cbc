//! The machine a measurement came from: printed beside every table, because absolute times only
//! mean something next to the CPU, core count and compiler that produced them.

use std::process::Command;

use serde::{Deserialize, Serialize};

/// A description of this machine and build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name from `/proc/cpuinfo` (or "unknown").
    pub cpu: String,
    /// Logical cores (hardware threads) available to this process.
    pub logical_cores: usize,
    /// Physical cores.
    pub physical_cores: usize,
    /// Total memory in bytes (0 if unknown).
    pub memory_bytes: u64,
    /// Operating system, e.g. "Debian GNU/Linux 12 (bookworm), Linux 6.1.0".
    pub os: String,
    /// `rustc --version`.
    pub rustc: String,
    /// Commit of the working tree, with `-dirty` if tracked files outside `reports/` had changes.
    pub commit: String,
    /// When this was taken, as an RFC 3339 UTC time.
    pub date: String,
}

impl Machine {
    /// Reads the current machine.
    pub fn current() -> Machine {
        Machine {
            cpu: cpu_model(),
            logical_cores: num_cpus::get(),
            physical_cores: num_cpus::get_physical(),
            memory_bytes: memory_bytes(),
            os: os_name(),
            rustc: command_line(&[
                &std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()),
                "--version",
            ])
            .unwrap_or_else(|| "unknown".into()),
            commit: commit(),
            date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        }
    }

    /// A machine nobody recorded: what a report assumes for results that came without settings.
    /// Reads nothing but this machine's core count (for the models), and never runs `git`:
    /// results read from elsewhere are not stamped with this directory's commit.
    pub fn unrecorded() -> Machine {
        let unknown = || "not recorded".to_string();
        Machine {
            cpu: unknown(),
            logical_cores: num_cpus::get(),
            physical_cores: num_cpus::get_physical(),
            memory_bytes: 0,
            os: unknown(),
            rustc: unknown(),
            commit: unknown(),
            date: unknown(),
        }
    }

    /// Most logical cores a recorded machine may claim (values read from a file are checked).
    pub const MAX_CORES: usize = 65_536;

    /// Checks values read from a file: core counts from 1 to [`Machine::MAX_CORES`] (physical
    /// at most logical).
    pub fn validate(&self) -> crate::Result<()> {
        for (what, n) in [
            ("logical cores", self.logical_cores),
            ("physical cores", self.physical_cores),
        ] {
            if n == 0 || n > Machine::MAX_CORES {
                return Err(crate::Error::invalid(
                    what,
                    n,
                    format!("must be between 1 and {}", Machine::MAX_CORES),
                ));
            }
        }
        for (what, s) in [
            ("CPU", &self.cpu),
            ("OS", &self.os),
            ("rustc", &self.rustc),
            ("commit", &self.commit),
            ("date", &self.date),
        ] {
            crate::limits::text(what, s)?;
        }
        Ok(())
    }

    /// One line: "Intel Xeon (2 logical / 2 physical cores, 23.4 GiB), Debian 12, rustc 1.95.0".
    pub fn summary(&self) -> String {
        format!(
            "{} ({} logical / {} physical cores, {:.1} GiB), {}, {}",
            self.cpu,
            self.logical_cores,
            self.physical_cores,
            self.memory_bytes as f64 / (1u64 << 30) as f64,
            self.os,
            self.rustc
        )
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|kb| kb.parse::<u64>().ok())
                })
        })
        .map_or(0, |kb| kb * 1024)
}

fn os_name() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        });
    let kernel = command_line(&["uname", "-sr"]);
    match (pretty, kernel) {
        (Some(p), Some(k)) => format!("{p}, {k}"),
        (Some(p), None) => p,
        (None, Some(k)) => k,
        (None, None) => std::env::consts::OS.to_string(),
    }
}

/// The commit of the working tree `cargo bench` runs in (only a measuring run asks: the code
/// measured is the code in this tree). `git` runs with the repository's file-system monitor
/// switched off, so that no `core.fsmonitor` command it names is executed.
fn commit() -> String {
    let Some(rev) = command_line(&[
        "git",
        "-c",
        "core.fsmonitor=false",
        "rev-parse",
        "--short=12",
        "HEAD",
    ]) else {
        return "unknown".into();
    };
    // Changes to generated reports do not make the measured code dirty.
    let dirty = command_line(&[
        "git",
        "-c",
        "core.fsmonitor=false",
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ":(top)",
        ":(top,exclude)reports",
    ])
    .is_some_and(|s| !s.is_empty());
    if dirty { format!("{rev}-dirty") } else { rev }
}

/// Runs a command and returns its trimmed stdout, if it succeeded.
fn command_line(argv: &[&str]) -> Option<String> {
    let out = Command::new(argv[0]).args(&argv[1..]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
