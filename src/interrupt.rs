//! Ctrl-C: the CLI installs a handler that only raises a flag; long waits (the process pool's
//! event loop) check it and fail with [`crate::Error::Interrupted`], so pools are dropped and
//! every child process is reaped before the program exits.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once; later calls are no-ops).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // If a handler cannot be installed, Ctrl-C keeps its default effect; workers still exit
        // on their own when their parent is gone.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
}

/// Whether Ctrl-C (or SIGTERM) was received.
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
