//! Ctrl-C (SIGINT, or SIGTERM). The CLI installs one handler:
//! - it kills every registered external process group (the CPython runs of `seed --python`,
//!   started in their own group so that their own pool workers die with them);
//! - while a process pool is running, it only raises a flag: the pool's event loop sees it, fails
//!   with [`crate::Error::Interrupted`], and the pool kills and reaps every worker before the CLI
//!   exits with 130;
//! - otherwise (threads compute in this process; nothing to reap) it removes the temporary files
//!   being written ([`TempGuard`]) and exits with 130 at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static POOLS: AtomicUsize = AtomicUsize::new(0);
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static TEMPS: Mutex<Vec<std::path::PathBuf>> = Mutex::new(Vec::new());

/// Installs the handler (once; later calls are no-ops).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // If a handler cannot be installed, Ctrl-C keeps its default effect; workers still exit
        // on their own when their parent is gone.
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            for &pgid in GROUPS.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                crate::platform::sys::kill_group(pgid);
            }
            if POOLS.load(Ordering::SeqCst) == 0 {
                // Exiting at once drops nothing: remove the temporary files being written.
                for p in TEMPS.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                    let _ = std::fs::remove_file(p);
                }
                eprintln!("poolscale: interrupted");
                std::process::exit(130);
            }
        });
    });
}

/// Whether Ctrl-C (or SIGTERM) was received.
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// `Err(Interrupted)` once Ctrl-C (or SIGTERM) was received: long loops call this between steps.
pub fn check() -> crate::Result<()> {
    if requested() {
        Err(crate::Error::Interrupted)
    } else {
        Ok(())
    }
}

/// A cancellation token handed to pools and measuring loops in their [`crate::Options`].
/// `Cancel::default()` follows this process's Ctrl-C flag (what the CLI installs); a library user
/// who runs pools without the CLI makes a token of their own with [`Cancel::new`] and calls
/// [`Cancel::cancel`] from anywhere. A cancelled map stops, reaps its workers and returns
/// [`crate::Error::Interrupted`].
#[derive(Clone, Debug, Default)]
pub struct Cancel(Option<std::sync::Arc<AtomicBool>>);

impl Cancel {
    /// A token of one's own, independent of Ctrl-C.
    pub fn new() -> Cancel {
        Cancel(Some(std::sync::Arc::new(AtomicBool::new(false))))
    }

    /// Cancels every pool and loop holding this token (or a clone of it).
    pub fn cancel(&self) {
        match &self.0 {
            Some(flag) => flag.store(true, Ordering::SeqCst),
            None => INTERRUPTED.store(true, Ordering::SeqCst),
        }
    }

    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        match &self.0 {
            Some(flag) => flag.load(Ordering::Relaxed),
            None => requested(),
        }
    }

    /// `Err(Interrupted)` once cancelled.
    pub fn check(&self) -> crate::Result<()> {
        if self.is_cancelled() {
            Err(crate::Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

/// Marks a process pool as running until the guard is dropped: Ctrl-C then lets the pool stop
/// and reap its workers instead of exiting at once.
#[derive(Debug)]
pub struct PoolGuard(());

impl PoolGuard {
    /// Registers a running pool.
    pub fn new() -> PoolGuard {
        POOLS.fetch_add(1, Ordering::SeqCst);
        PoolGuard(())
    }
}

impl Default for PoolGuard {
    fn default() -> Self {
        PoolGuard::new()
    }
}

impl Drop for PoolGuard {
    fn drop(&mut self) {
        POOLS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Registers a child's process group, to be killed on Ctrl-C, until the guard is dropped.
#[derive(Debug)]
pub struct GroupGuard(i32);

impl GroupGuard {
    /// Registers process group `pgid`.
    pub fn new(pgid: u32) -> GroupGuard {
        let pgid = pgid as i32;
        GROUPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pgid);
        GroupGuard(pgid)
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        GROUPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&g| g != self.0);
    }
}

/// Registers a temporary file being written, to be removed if Ctrl-C exits the process before
/// the guard is dropped (the file renamed into place or removed).
#[derive(Debug)]
pub struct TempGuard(std::path::PathBuf);

impl TempGuard {
    /// Registers `path`.
    pub fn new(path: &std::path::Path) -> TempGuard {
        TEMPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.to_path_buf());
        TempGuard(path.to_path_buf())
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        TEMPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|p| p != &self.0);
    }
}
