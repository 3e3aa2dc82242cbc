//! Every call into libc, in one place, each with the reason it is sound. Nothing else in the
//! crate writes `unsafe` (`#![deny(unsafe_code)]` elsewhere, `clippy::undocumented_unsafe_blocks`
//! here).
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Sets `O_NONBLOCK` on a descriptor.
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> std::io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor the caller borrows (so it is open), with integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// What to wait for on one descriptor.
#[derive(Clone, Copy, Debug)]
pub struct Interest<'a> {
    /// The descriptor.
    pub fd: BorrowedFd<'a>,
    /// Wait until it can be written (else: read, or hung up).
    pub write: bool,
}

/// `poll(2)`: waits at most `timeout` until one of `fds` is ready; returns which are (by index).
/// An interrupted wait returns nothing ready.
pub fn poll(fds: &[Interest<'_>], timeout: Duration) -> std::io::Result<Vec<usize>> {
    let mut raw: Vec<libc::pollfd> = fds
        .iter()
        .map(|i| libc::pollfd {
            fd: i.fd.as_raw_fd(),
            events: if i.write { libc::POLLOUT } else { libc::POLLIN },
            revents: 0,
        })
        .collect();
    let ms = libc::c_int::try_from(timeout.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: `raw` is a valid, initialised array of `raw.len()` pollfd structs whose descriptors
    // are borrowed (open) for the duration of the call.
    let rc = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Ok(Vec::new());
        }
        return Err(e);
    }
    Ok(raw
        .iter()
        .enumerate()
        .filter(|(_, p)| p.revents != 0)
        .map(|(k, _)| k)
        .collect())
}

/// Sends SIGKILL to every process of group `pgid`.
pub fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with plain integers; a negative pid names a process group. Async-signal-safe,
    // so it may run in the Ctrl-C handler.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Makes SIGINT and SIGTERM ignored in this process (a child of poolscale: worker, probe,
/// sampling side). A Ctrl-C at the terminal reaches the whole process group; the parent then
/// stops its children itself and reaps them, and exits 130, instead of racing their deaths.
pub fn ignore_interrupts() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installing SIG_IGN, the simplest disposition, for a standard signal; no handler
        // code runs, so nothing can be unsound in signal context.
        unsafe {
            libc::signal(sig, libc::SIG_IGN);
        }
    }
}

/// The name of a signal, e.g. `SIGKILL`, for messages (`None` for an unusual one).
pub fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGXCPU => "SIGXCPU",
        _ => return None,
    })
}

/// `getrusage(2)`: user and system CPU time of this process (all its threads), or with
/// `children` of its terminated and reaped children.
pub fn rusage(children: bool) -> (Duration, Duration) {
    let who = if children {
        libc::RUSAGE_CHILDREN
    } else {
        libc::RUSAGE_SELF
    };
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own and pass by pointer.
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return (Duration::ZERO, Duration::ZERO);
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

/// Clock ticks per second, the unit of `/proc/<pid>/stat`'s CPU times (100 if unknown).
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf reads a configuration value; no memory is passed.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}
