//! Files on disk, done one way: reading a small file that another program or version wrote, and
//! writing outputs atomically into a directory a user may share with other files.
//!
//! - [`read_small_file`]: only regular files (symbolic links followed) of bounded size; a FIFO, a
//!   device or an oversized file is an error naming it, never a hang or an unbounded read.
//! - [`atomic_write`]: the contents go to a fresh temporary file created exclusively in the target
//!   directory (a random name, never following a link planted there), are synced to disk, then
//!   renamed over the target: a reader sees the old file or the new one, never half of one.
//! - [`DirLock`]: one writer per output directory; a second waits, then gives up with a message.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Reads a small regular file as text: a FIFO, a device or a file over `max` bytes is an error
/// naming it (never a hang or an unbounded read).
pub fn read_small_file(path: &Path, max: u64) -> Result<String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("cannot read `{}`", path.display()), e))?;
    if !meta.is_file() {
        return Err(Error::invalid(
            "file",
            path.display(),
            "not a regular file (a directory, FIFO, socket or device)",
        ));
    }
    if meta.len() > max {
        return Err(Error::invalid(
            "file",
            path.display(),
            format!("{} bytes, more than the {max} expected", meta.len()),
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_string(&mut text))
        .map_err(|e| Error::io(format!("cannot read `{}`", path.display()), e))?;
    Ok(text)
}

/// Writes `contents` to `path` atomically (see the module docs). The directory must exist.
pub fn atomic_write(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| Error::io(format!("cannot write `{}`", path.display()), e);
    let mut tmp = tempfile::Builder::new()
        .prefix(".poolscale-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// An exclusive lock on a directory, held until dropped (an advisory lock on a file in it).
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    /// Name of the lock file.
    pub const FILE: &'static str = ".poolscale.lock";

    /// Locks `dir`, waiting up to `wait` for another holder; then an error saying who to wait for.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<DirLock> {
        let path: PathBuf = dir.join(Self::FILE);
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open the lock `{}`", path.display()), e))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::invalid(
                        "output directory",
                        dir.display(),
                        format!(
                            "another poolscale is writing into it (waited {}); wait for it or choose another --out",
                            humantime::format_duration(wait)
                        ),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io(format!("cannot lock `{}`", path.display()), e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_never_follows_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "precious").unwrap();
        // The old fixed temp name, planted as a link to a file outside the directory.
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".README.md.tmp")).unwrap();
        atomic_write(&dir.path().join("README.md"), b"report").unwrap();
        assert_eq!(std::fs::read_to_string(outside.path()).unwrap(), "precious");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("README.md")).unwrap(),
            "report"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".poolscale-"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left behind");
    }

    #[test]
    fn a_second_writer_waits_then_gives_up_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let held = DirLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let e = DirLock::acquire(dir.path(), Duration::from_millis(100)).unwrap_err();
        assert!(
            e.to_string().contains("another poolscale is writing"),
            "{e}"
        );
        drop(held);
        // Free again. (Not with a zero wait: a child another test thread forks holds a copy of
        // the descriptor, and so the lock, until it execs.)
        DirLock::acquire(dir.path(), Duration::from_secs(5)).unwrap();
    }
}
