//! Running the seed's own programs in CPython (`--python`), with the same parameters.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::*;
use crate::error::{Error, Result};

/// Bytes of the interpreter's stderr kept for an error message (the end of it).
const STDERR_TAIL: usize = 64 * 1024;

/// Longest a seed program may run in CPython (the countdown at 2 threads takes ~10-20 s).
const PYTHON_DEADLINE: Duration = Duration::from_secs(600);

/// A CPython interpreter to run the seed's programs with.
#[derive(Clone, Debug)]
pub struct Python {
    /// The interpreter.
    pub program: PathBuf,
    /// Its `--version`.
    pub version: String,
}

impl Python {
    /// Finds `$POOLSCALE_PYTHON` or `python3`; `None` (with the reason) if it does not run.
    pub fn find() -> std::result::Result<Python, String> {
        let program =
            PathBuf::from(std::env::var_os(PYTHON_ENV).unwrap_or_else(|| "python3".into()));
        match Command::new(&program).arg("--version").output() {
            Ok(o) if o.status.success() => Ok(Python {
                version: String::from_utf8_lossy(if o.stdout.is_empty() {
                    &o.stderr
                } else {
                    &o.stdout
                })
                .trim()
                .to_string(),
                program,
            }),
            Ok(o) => Err(format!(
                "`{} --version` failed with {}",
                program.display(),
                o.status
            )),
            Err(e) => Err(format!("`{}` cannot be run: {e}", program.display())),
        }
    }

    /// Runs an embedded script, echoing its seed lines and parsing its `RESULT {json}` line.
    pub(super) fn run<T: for<'de> Deserialize<'de>>(
        &self,
        script: &str,
        args: &[String],
        say: Sink<'_>,
    ) -> Result<T> {
        use std::os::unix::process::CommandExt;
        // Its own process group, so that Ctrl-C can kill it together with its pool's workers.
        let mut child = Command::new(&self.program)
            .arg("-c")
            .arg(script)
            .args(args)
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format!("cannot run `{}`", self.program.display()), e))?;
        let _group = crate::platform::interrupt::GroupGuard::new(child.id());
        let pgid = i32::try_from(child.id()).unwrap_or(0);
        // stderr is drained on its own thread, so an interpreter that writes more than a pipe
        // buffer never blocks; only its last 64 KiB are kept.
        let stderr = match child.stderr.take() {
            Some(mut e) => Some(crate::platform::child::thread(
                "python-stderr",
                move || {
                    let mut tail: Vec<u8> = Vec::new();
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = std::io::Read::read(&mut e, &mut buf) {
                        if n == 0 {
                            break;
                        }
                        tail.extend_from_slice(&buf[..n]);
                        if tail.len() > STDERR_TAIL {
                            tail.drain(..tail.len() - STDERR_TAIL);
                        }
                    }
                    tail
                },
            )?),
            None => None,
        };
        // stdout is read line by line on another thread, so that this one waits for the
        // interpreter itself, not for the end of its output: a process it left behind holding
        // the pipe cannot keep poolscale waiting.
        let (tx, lines) = std::sync::mpsc::sync_channel::<Vec<u8>>(64);
        if let Some(stdout) = child.stdout.take() {
            crate::platform::child::thread("python-stdout", move || {
                use std::io::BufRead;
                let mut reader = std::io::BufReader::new(stdout);
                loop {
                    // Bounded lines: a runaway interpreter cannot grow this process.
                    let mut buf = Vec::new();
                    match std::io::Read::take(&mut reader, 1 << 20).read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if tx.send(buf).is_err() {
                                return;
                            }
                        }
                    }
                }
            })?;
        }
        let mut result = None;
        let mut take = |buf: Vec<u8>| {
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\n', '\r']);
            match line.strip_prefix("RESULT ") {
                Some(json) => result = Some(json.to_string()),
                None => say(line),
            }
        };
        let deadline = Instant::now() + PYTHON_DEADLINE;
        let status = loop {
            crate::platform::interrupt::check()?;
            match lines.recv_timeout(Duration::from_millis(100)) {
                Ok(buf) => take(buf),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(status) = child
                .try_wait()
                .map_err(|e| Error::io("cannot wait for Python", e))?
            {
                break status;
            }
            if Instant::now() > deadline {
                crate::platform::sys::kill_group(pgid);
                let _ = child.wait();
                return Err(Error::Python {
                    program: self.program.clone(),
                    detail: format!(
                        "did not finish within {}; it was killed",
                        humantime::format_duration(PYTHON_DEADLINE)
                    ),
                });
            }
        };
        // The interpreter has exited: what it wrote is read for one more second, then whatever
        // it left behind in its process group is killed, and its pipes with it.
        let drain = Instant::now() + Duration::from_secs(1);
        while let Some(left) = drain.checked_duration_since(Instant::now()) {
            match lines.recv_timeout(left) {
                Ok(buf) => take(buf),
                Err(_) => break,
            }
        }
        crate::platform::sys::kill_group(pgid);
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        if !status.success() {
            return Err(Error::Python {
                program: self.program.clone(),
                detail: format!(
                    "exited with {}: {}",
                    status,
                    String::from_utf8_lossy(&stderr).trim()
                ),
            });
        }
        let json = result.ok_or_else(|| Error::Python {
            program: self.program.clone(),
            detail: "printed no RESULT line".into(),
        })?;
        serde_json::from_str(&json).map_err(|source| Error::MalformedJson {
            path: PathBuf::from("<python RESULT line>"),
            source,
        })
    }
}

/// What the CPython countdown script reports.
#[derive(Deserialize)]
pub(super) struct PyCountdown {
    pub(super) total_s: f64,
}

/// What the CPython pool script reports.
#[derive(Deserialize)]
pub(super) struct PyPool {
    pub(super) total_s: f64,
    pub(super) results: Vec<u64>,
    pub(super) items: Vec<PyItem>,
}

/// One item of the CPython pool run.
#[derive(Deserialize)]
pub(super) struct PyItem {
    pub(super) x: u64,
    pub(super) pid: u32,
    pub(super) start_s: f64,
    pub(super) end_s: f64,
}
