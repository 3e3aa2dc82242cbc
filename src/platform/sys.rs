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

/// `kill(2)`: sends `sig` to process `pid`.
pub fn kill(pid: u32, sig: i32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    // SAFETY: kill(2) with plain integers; a positive pid names one process.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `waitpid(2)` on child `pid`: its exit status, or `Ok(None)` if `nohang` and it still runs.
pub fn waitpid(pid: u32, nohang: bool) -> std::io::Result<Option<std::process::ExitStatus>> {
    use std::os::unix::process::ExitStatusExt;
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    let options = if nohang { libc::WNOHANG } else { 0 };
    let mut status = 0;
    loop {
        // SAFETY: waitpid(2) with a pointer to a live integer.
        let r = unsafe { libc::waitpid(pid, &mut status, options) };
        match r {
            0 => return Ok(None),
            r if r > 0 => return Ok(Some(std::process::ExitStatus::from_raw(status))),
            _ => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// A zeroed, 8-aligned control buffer with room for `fds` descriptors.
fn control_buffer(fds: usize) -> Vec<u64> {
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE((fds * std::mem::size_of::<libc::c_int>()) as u32) };
    vec![0u64; (space as usize).div_ceil(8)]
}

/// A message header over one buffer and a control buffer, both of which must outlive its use.
fn message_header(iov: &mut libc::iovec, control: &mut [u64]) -> libc::msghdr {
    // SAFETY: msghdr is plain data, valid when zeroed.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(control) as _;
    msg
}

/// Repeats a system call interrupted by a signal; its non-negative result, or the OS error.
fn retry_interrupted(mut call: impl FnMut() -> isize) -> std::io::Result<usize> {
    loop {
        let n = call();
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Sends `bytes` on a Unix stream socket with `fds` attached (`SCM_RIGHTS`); returns how many
/// bytes went (the descriptors go with the first).
pub fn send_with_fds(
    socket: &std::os::unix::net::UnixStream,
    bytes: &[u8],
    fds: &[BorrowedFd<'_>],
) -> std::io::Result<usize> {
    let raw: Vec<libc::c_int> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let mut control = control_buffer(raw.len());
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    let msg = message_header(&mut iov, &mut control);
    // SAFETY: the control buffer has room for one header and `raw` (CMSG_SPACE), 8-aligned; the
    // CMSG_* macros only compute addresses inside it.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of_val(raw.as_slice()) as u32) as _;
        std::ptr::copy_nonoverlapping(
            raw.as_ptr(),
            libc::CMSG_DATA(cmsg).cast::<libc::c_int>(),
            raw.len(),
        );
    }
    // SAFETY: an open socket (borrowed) and a msghdr whose buffers live across the call.
    retry_interrupted(|| unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) })
}

/// Receives up to `bytes.len()` bytes from a Unix stream socket and the descriptors sent with
/// them (close-on-exec). `Ok((0, _))` is end of input; more than 4 descriptors is an error.
pub fn recv_with_fds(
    socket: &std::os::unix::net::UnixStream,
    bytes: &mut [u8],
) -> std::io::Result<(usize, Vec<std::os::fd::OwnedFd>)> {
    use std::os::fd::FromRawFd;
    let mut control = control_buffer(4);
    let mut iov = libc::iovec {
        iov_base: bytes.as_mut_ptr().cast(),
        iov_len: bytes.len(),
    };
    let mut msg = message_header(&mut iov, &mut control);
    // SAFETY: an open socket (borrowed) and a msghdr whose buffers live across the call.
    let n = retry_interrupted(|| unsafe {
        libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC)
    })?;
    let mut fds = Vec::new();
    // SAFETY: the kernel filled the control buffer and set msg_controllen; the CMSG_* macros walk
    // only inside it; each SCM_RIGHTS descriptor is newly installed in this process and ours.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg).cast::<libc::c_int>();
                let len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..len / std::mem::size_of::<libc::c_int>() {
                    fds.push(std::os::fd::OwnedFd::from_raw_fd(
                        data.add(i).read_unaligned(),
                    ));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(std::io::Error::other(
            "more descriptors than expected in one message",
        ));
    }
    Ok((n, fds))
}

/// The Unix socket that is this process's standard input (a fork server's, see
/// `processes::forkserver`). Only for a process started with a socket as stdin that never uses
/// `std::io::stdin()`.
pub fn stdin_socket() -> std::io::Result<std::os::unix::net::UnixStream> {
    use std::os::fd::FromRawFd;
    // SAFETY: fstat on descriptor 0 with a pointer to a live struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstat(0, &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(std::io::Error::other("standard input is not a socket"));
    }
    // SAFETY: descriptor 0 is open (fstat succeeded) and is a socket; the caller takes it over and
    // nothing else in this process uses descriptor 0.
    Ok(unsafe { std::os::unix::net::UnixStream::from_raw_fd(0) })
}

/// `Ok` if this process has exactly one thread (from `/proc/self/task`), else an error saying
/// how many it has.
fn single_threaded() -> std::io::Result<()> {
    match std::fs::read_dir("/proc/self/task")?.count() {
        1 => Ok(()),
        n => Err(std::io::Error::other(format!(
            "the process has {n} threads, not one"
        ))),
    }
}

/// Forks this process so that the copy's parent is this process's parent (`clone(CLONE_PARENT)`):
/// a sibling. Returns `Some(pid)` in the caller and `None` in the copy. Refused unless this
/// process has exactly one thread: a copy of a multi-threaded process could inherit a lock held
/// by a thread that does not exist in it.
pub fn fork_sibling() -> std::io::Result<Option<u32>> {
    single_threaded()?;
    // SAFETY: a fork-like clone (no new stack: the copy continues on a copy-on-write copy of this
    // one) of a single-threaded process, checked above, so no lock can be held by a missing
    // thread. glibc's fork() is bypassed only to pass CLONE_PARENT; the one thing it would fix up,
    // the thread's cached tid, is not used by anything the copy runs (glibc ≥ 2.34 asks the
    // kernel in raise/abort). SIGCHLD makes the new parent hear of its end, as with fork.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match pid {
        0 => Ok(None),
        p if p > 0 => Ok(Some(p as u32)),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Makes descriptor `target` (0, 1 or 2) a copy of `fd` (`dup2`).
pub fn dup_onto(fd: BorrowedFd<'_>, target: i32) -> std::io::Result<()> {
    if !(0..=2).contains(&target) {
        return Err(std::io::Error::other(
            "only a standard descriptor can be replaced",
        ));
    }
    // SAFETY: dup2 from a borrowed (open) descriptor onto a standard one; whatever the standard
    // descriptor held is closed by the kernel, which the caller asked for.
    if unsafe { libc::dup2(fd.as_raw_fd(), target) } == target {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Sets an environment variable in a process that has one thread (checked): nothing can read the
/// environment meanwhile.
pub fn set_env_single_threaded(key: &str, value: &str) -> std::io::Result<()> {
    single_threaded()?;
    if key.is_empty() || key.contains(['=', '\0']) || value.contains('\0') {
        return Err(std::io::Error::other(format!(
            "bad environment entry {key:?}"
        )));
    }
    // SAFETY: one thread (checked above), so no concurrent reader; key and value are valid.
    unsafe { std::env::set_var(key, value) };
    Ok(())
}

/// `pidfd_open(2)`: a descriptor that polls readable once process `pid` has ended (Linux ≥ 5.3).
pub fn pidfd_open(pid: u32) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    // SAFETY: the pidfd_open system call with plain integers; it returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor the kernel just installed for us, owned by nobody else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
}

/// The countdown's inner loop in machine code that the compiler cannot place: its loop head sits
/// at the start of a 64-byte line ([`COUNTDOWN_LOOP_ALIGN`]) in every binary that links the
/// crate, so its branch never crosses a 32-byte fetch or decode window and its cost per decrement
/// does not depend on where the linker put the function (a loop whose branch crosses such a
/// boundary can cost twice as much per iteration on x86 cores with the JCC-erratum microcode, or
/// on AMD's fetch windows). Decrements a register `n` times, one `sub`/`jnz` pair per decrement,
/// and returns what is left (always 0): n real decrements that no optimiser sees through.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
extern "sysv64" fn countdown_kernel(n: u64) -> u64 {
    // The loop is the bytes of COUNTDOWN_LOOP: `sub rax, 1` (48 83 e8 01), `jnz 2b` (75 fa).
    core::arch::naked_asm!(
        "mov rax, rdi",
        "test rax, rax",
        "jz 3f",
        ".p2align 6",
        "2:",
        "sub rax, 1",
        "jnz 2b",
        "3:",
        "ret",
    )
}

/// The aarch64 form of the countdown kernel: `subs x0, x0, #1` and `b.ne` back, the loop head at
/// the start of a 64-byte line.
#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
extern "C" fn countdown_kernel(n: u64) -> u64 {
    // The loop is the bytes of COUNTDOWN_LOOP: subs (00 04 00 f1), b.ne -4 (e1 ff ff 54).
    core::arch::naked_asm!(
        "cbz x0, 3f",
        ".p2align 6",
        "2:",
        "subs x0, x0, #1",
        "b.ne 2b",
        "3:",
        "ret",
    )
}

/// The machine code of the kernel's loop, as it must appear in the binary.
#[cfg(target_arch = "x86_64")]
pub const COUNTDOWN_LOOP: &[u8] = &[0x48, 0x83, 0xe8, 0x01, 0x75, 0xfa];
/// The machine code of the kernel's loop, as it must appear in the binary.
#[cfg(target_arch = "aarch64")]
pub const COUNTDOWN_LOOP: &[u8] = &[0x00, 0x04, 0x00, 0xf1, 0xe1, 0xff, 0xff, 0x54];

/// The alignment of the kernel's loop head, in bytes (a cache line, two 32-byte windows).
pub const COUNTDOWN_LOOP_ALIGN: usize = 64;

/// Counts `n` down to zero in the pinned kernel; returns what is left (0). On architectures
/// without a pinned kernel, `None`: the caller counts down in Rust (layout-sensitive).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline]
pub fn countdown_pinned(n: u64) -> Option<u64> {
    Some(countdown_kernel(n))
}

/// Counts `n` down to zero in the pinned kernel; `None` here: no kernel for this architecture.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
pub fn countdown_pinned(_n: u64) -> Option<u64> {
    None
}

/// Where the kernel's loop lies in this process's code: the address of its loop head, found by
/// reading the kernel's own machine code. The head must be the first or second 64-byte boundary
/// past the kernel's entry (the entry's few instructions come first, then padding up to the
/// boundary); `None` when [`COUNTDOWN_LOOP`] is at neither, i.e. the placement invariant does not
/// hold in this binary (or there is no kernel for this architecture).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub fn countdown_loop_address() -> Option<usize> {
    let entry = countdown_kernel as *const u8 as usize;
    let first = (entry / COUNTDOWN_LOOP_ALIGN + 1) * COUNTDOWN_LOOP_ALIGN;
    for head in [first, first + COUNTDOWN_LOOP_ALIGN] {
        // SAFETY: `head` lies within the kernel function: the first boundary past the entry is at
        // or before the loop head (the entry's instructions are shorter than 64 bytes), so its
        // bytes are the function's own; the second is read only when the first was not the loop,
        // in which case it is the loop. Code is mapped readable on every platform this builds
        // for, and reading it has no side effect.
        let code = unsafe { std::slice::from_raw_parts(head as *const u8, COUNTDOWN_LOOP.len()) };
        if code == COUNTDOWN_LOOP {
            return Some(head);
        }
    }
    None
}

/// No kernel on this architecture.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn countdown_loop_address() -> Option<usize> {
    None
}
