//! Running the seed's own programs in CPython (`--python`), with the same parameters.

use std::path::PathBuf;
use std::process::Command;

use serde::Deserialize;

use super::*;
use crate::error::{Error, Result};

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
        let _group = crate::interrupt::GroupGuard::new(child.id());
        let mut result = None;
        if let Some(stdout) = child.stdout.take() {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let line = line.map_err(|e| Error::io("cannot read Python's output", e))?;
                match line.strip_prefix("RESULT ") {
                    Some(json) => result = Some(json.to_string()),
                    None => say(&line),
                }
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|e| Error::io("cannot wait for Python", e))?;
        if !out.status.success() {
            return Err(Error::Python {
                program: self.program.clone(),
                detail: format!(
                    "exited with {}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
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
