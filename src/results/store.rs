//! What poolscale keeps on disk, in one place: where Criterion's results live, how a baseline
//! names poolscale's own files beside them, and the one reader of a versioned JSON file.
//!
//! A Criterion directory holds `GROUP/STRATEGY/WORKERS/BASELINE/estimates.json` (read by
//! [`crate::results::data`]); `new` is the latest run, any other name a saved baseline
//! (`--save-baseline NAME`). Beside them poolscale keeps, per run, its settings and observations:
//! `poolscale-KIND.json` for the latest run and `poolscale-KIND.BASELINE.json` for a saved
//! baseline ([`Kept`]). `results.json` is the report's export. Each carries a `schema_version`;
//! a file from a newer poolscale is refused by name ([`read_versioned`]).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Criterion's name for the latest run's results.
pub use crate::results::data::LATEST;

/// A file poolscale keeps beside Criterion's results, one per run and saved baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// The run's settings, machine and instrument checks ([`crate::results::settings::Settings`]).
    Settings,
    /// The CPU time and timelines it observed ([`crate::results::observe::Observations`]).
    Observations,
}

impl Kept {
    fn stem(self) -> &'static str {
        match self {
            Kept::Settings => "poolscale-settings",
            Kept::Observations => "poolscale-observations",
        }
    }

    /// The file of `baseline` (`new`: the latest run's) in `criterion_dir`.
    pub fn path(self, criterion_dir: &Path, baseline: &str) -> PathBuf {
        if baseline == LATEST {
            criterion_dir.join(format!("{}.json", self.stem()))
        } else {
            criterion_dir.join(format!("{}.{baseline}.json", self.stem()))
        }
    }

    /// Writes `json` atomically as the latest run's, and as `baseline`'s when one is saved.
    pub fn save(self, criterion_dir: &Path, baseline: Option<&str>, json: &str) -> Result<()> {
        std::fs::create_dir_all(criterion_dir)
            .map_err(|e| Error::io(format!("cannot create `{}`", criterion_dir.display()), e))?;
        crate::platform::fsutil::atomic_write(&self.path(criterion_dir, LATEST), json.as_bytes())?;
        if let Some(b) = baseline.filter(|b| *b != LATEST) {
            crate::platform::fsutil::atomic_write(&self.path(criterion_dir, b), json.as_bytes())?;
        }
        Ok(())
    }
}

/// A file layout with a version: what [`read_versioned`] checks.
pub trait Versioned: DeserializeOwned {
    /// What the file is, for messages (`settings file`).
    const WHAT: &'static str;
    /// The newest layout this build reads (and writes).
    const SCHEMA: u32;
    /// The largest file accepted, in bytes.
    const MAX_BYTES: u64;
    /// The layout version the file declares.
    fn schema_version(&self) -> u32;
    /// The poolscale version that wrote it, if recorded.
    fn written_by(&self) -> Option<&str> {
        None
    }
}

/// Reads a versioned JSON file: bounded in size, parsed, and refused by name when a newer
/// poolscale wrote it.
pub fn read_versioned<T: Versioned>(path: &Path) -> Result<T> {
    let text = crate::platform::fsutil::read_small_file(path, T::MAX_BYTES)?;
    let value: T = serde_json::from_str(&text).map_err(|source| Error::MalformedJson {
        path: path.to_path_buf(),
        source,
    })?;
    if value.schema_version() > T::SCHEMA {
        let by = value
            .written_by()
            .filter(|v| !v.is_empty())
            .map_or_else(String::new, |v| format!(" ({v})"));
        return Err(Error::invalid(
            T::WHAT,
            path.display(),
            format!(
                "schema version {} was written by a newer poolscale{by}; this one reads up to {}",
                value.schema_version(),
                T::SCHEMA
            ),
        ));
    }
    Ok(value)
}

/// Where Criterion writes its results, by Criterion's own rules: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion`.
pub fn criterion_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(h);
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("criterion");
    }
    PathBuf::from("target/criterion")
}

/// Where `poolscale report` writes unless told otherwise: `target/poolscale/report` (under
/// `$CARGO_TARGET_DIR` if set), never the committed `reports/`.
pub fn default_report_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("poolscale").join("report")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Doc {
        schema_version: u32,
        tool_version: String,
    }

    impl Versioned for Doc {
        const WHAT: &'static str = "test file";
        const SCHEMA: u32 = 2;
        const MAX_BYTES: u64 = 1 << 10;
        fn schema_version(&self) -> u32 {
            self.schema_version
        }
        fn written_by(&self) -> Option<&str> {
            Some(&self.tool_version)
        }
    }

    #[test]
    fn a_newer_or_broken_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("doc.json");
        std::fs::write(&p, r#"{"schema_version": 2, "tool_version": "9.0.0"}"#).unwrap();
        assert_eq!(read_versioned::<Doc>(&p).unwrap().schema_version, 2);
        std::fs::write(&p, r#"{"schema_version": 3, "tool_version": "9.0.0"}"#).unwrap();
        let e = read_versioned::<Doc>(&p).unwrap_err().to_string();
        assert!(
            e.contains("test file") && e.contains("newer poolscale (9.0.0)"),
            "{e}"
        );
        std::fs::write(&p, "{nope").unwrap();
        let e = read_versioned::<Doc>(&p).unwrap_err().to_string();
        assert!(e.contains("doc.json"), "{e}");
        std::fs::write(&p, " ".repeat(2000)).unwrap();
        assert!(read_versioned::<Doc>(&p).is_err());
    }

    #[test]
    fn the_latest_run_and_a_baseline_have_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(
            Kept::Settings.path(d, LATEST),
            d.join("poolscale-settings.json")
        );
        assert_eq!(
            Kept::Observations.path(d, "main"),
            d.join("poolscale-observations.main.json")
        );
        Kept::Settings.save(d, Some("main"), "{}").unwrap();
        assert!(Kept::Settings.path(d, LATEST).exists());
        assert!(Kept::Settings.path(d, "main").exists());
        Kept::Observations.save(d, None, "{}").unwrap();
        assert!(!Kept::Observations.path(d, "main").exists());
    }
}
