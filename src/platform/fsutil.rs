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
/// naming it (never a hang or an unbounded read). The file is opened without blocking and checked
/// on the open handle, so a FIFO put in its place between a check and the open cannot hang it.
pub fn read_small_file(path: &Path, max: u64) -> Result<String> {
    String::from_utf8(read_small_bytes(path, max)?)
        .map_err(|_| Error::invalid("file", path.display(), "not UTF-8 text"))
}

/// Like [`read_small_file`], the bytes as they are.
pub fn read_small_bytes(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |e: std::io::Error| Error::io(format!("cannot read `{}`", path.display()), e);
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(fail)?;
    let meta = file.metadata().map_err(fail)?;
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
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(fail)?;
    if bytes.len() as u64 > max {
        return Err(Error::invalid(
            "file",
            path.display(),
            format!("more than the {max} bytes expected"),
        ));
    }
    Ok(bytes)
}

/// The SHA-256 of `bytes`, in hex: how poolscale recognises a file it wrote or recorded.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Like [`read_small_file`], `Ok(None)` when nothing is at `path`.
pub fn read_small_file_if_any(path: &Path, max: u64) -> Result<Option<String>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => read_small_file(path, max).map(Some),
    }
}

/// This process's file-mode creation mask (from `/proc/self/status`; 022 where unknown).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Writes `contents` to `path` atomically (see the module docs). The directory must exist. The
/// file gets the mode a plain create would give it (0666 less the umask), not the temporary
/// file's 0600; a Ctrl-C while writing leaves no temporary file behind.
pub fn atomic_write(path: &Path, contents: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| Error::io(format!("cannot write `{}`", path.display()), e);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(fail)?;
    let _registered = crate::platform::interrupt::TempGuard::new(tmp.path());
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()))
        .map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Names of the temporary files [`atomic_write`] creates: `.poolscale-XXXXXX.tmp`.
pub const TEMP_PREFIX: &str = ".poolscale-";
/// See [`TEMP_PREFIX`].
pub const TEMP_SUFFIX: &str = ".tmp";

/// Removes temporary files that an interrupted or killed poolscale left in `dir` (call it while
/// holding the directory's [`DirLock`], so no live writer's file is among them); returns how
/// many were removed.
pub fn remove_leftover_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(TEMP_PREFIX)
                && name.ends_with(TEMP_SUFFIX)
                && e.file_type().is_ok_and(|t| t.is_file())
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
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
        use std::os::unix::fs::OpenOptionsExt;
        let path: PathBuf = dir.join(Self::FILE);
        // Never through a link: a planted `.poolscale.lock` symlink cannot make us create or
        // lock a file elsewhere.
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open the lock `{}`", path.display()), e))?;
        // Opened without blocking and checked on the handle: a FIFO or device planted under the
        // lock's name is an error naming it, never a hang.
        let regular = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot open the lock `{}`", path.display()), e))?
            .is_file();
        if !regular {
            return Err(Error::invalid(
                "lock file",
                path.display(),
                "not a regular file (a FIFO, socket or device); remove it",
            ));
        }
        let deadline = Instant::now() + wait;
        loop {
            crate::platform::interrupt::check()?;
            match file.try_lock() {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Busy {
                        dir: dir.to_path_buf(),
                        waited: wait,
                    });
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
    fn written_files_follow_the_umask_and_fifos_are_refused_at_once() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.md");
        atomic_write(&p, b"x").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask(), "{mode:o}");
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let e = read_small_file(&fifo, 100).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read_small_file(Path::new("/dev/zero"), 100)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert_eq!(
            read_small_file_if_any(&dir.path().join("none"), 10).unwrap(),
            None
        );
    }

    #[test]
    fn leftover_temporary_files_are_removed_and_the_lock_is_never_a_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".poolscale-abc123.tmp"), "half").unwrap();
        std::fs::write(dir.path().join("keep.tmp"), "mine").unwrap();
        assert_eq!(remove_leftover_temps(dir.path()), 1);
        assert!(dir.path().join("keep.tmp").exists());
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("created-through-link");
        std::os::unix::fs::symlink(&target, dir.path().join(DirLock::FILE)).unwrap();
        assert!(DirLock::acquire(dir.path(), Duration::ZERO).is_err());
        assert!(!target.exists());
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
