//! Child processes, from both ends. Every process poolscale starts (pool workers, the fork
//! server, capacity probes, A/B sides) is one of its binaries in a hidden mode (chosen by
//! [`crate::hidden`], the one dispatcher); each starts the parent-death watchdog
//! ([`exit_with_parent`]), so it never outlives its parent. The parent holds each as a
//! [`Process`] and ends it the one way: a grace period, then SIGKILL, then reaping
//! ([`Process::stop`]). This module depends on nothing but the system calls, so every module
//! that starts or is a child can use it.

use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::platform::sys::Interest;

/// Set (debug builds only) to make [`exit_with_parent`] act as if no thread could be started.
pub const WATCHDOG_FAULT_ENV: &str = "POOLSCALE_WATCHDOG_FAULT";

/// Set (debug builds only) to a thread's name to make [`thread`] act as if the OS refused it.
pub const THREAD_FAULT_ENV: &str = "POOLSCALE_THREAD_FAULT";

/// A child just started: the process and the pipes asked for.
pub(crate) struct Spawned {
    /// The process, to be stopped with [`Process::stop`].
    pub(crate) process: Process,
    /// Its pid.
    pub(crate) pid: u32,
    /// The write end of its stdin, when `stdin` was `None` (a pipe).
    stdin: Option<ChildStdin>,
    /// The read end of its stdout, when `piped_stdout`.
    stdout: Option<ChildStdout>,
}

impl Spawned {
    /// The process with both its pipes (`spawn(…, None, true, …)`).
    pub(crate) fn piped(mut self) -> std::io::Result<(Process, u32, ChildStdin, ChildStdout)> {
        match (self.stdin.take(), self.stdout.take()) {
            (Some(i), Some(o)) => Ok((self.process, self.pid, i, o)),
            _ => Err(self.without_pipes()),
        }
    }

    /// The process with its stdout pipe (`spawn(…, true, …)`).
    pub(crate) fn with_stdout(mut self) -> std::io::Result<(Process, u32, ChildStdout)> {
        match self.stdout.take() {
            Some(o) => Ok((self.process, self.pid, o)),
            None => Err(self.without_pipes()),
        }
    }

    /// Stops a child that came up without the pipes asked for; the error to return.
    fn without_pipes(mut self) -> std::io::Error {
        self.process.stop(Duration::ZERO);
        std::io::Error::other(format!("process {} started without its pipes", self.pid))
    }
}

/// Starts `program` in hidden mode `mode` (its first argument), the way every child of poolscale
/// starts: stdin a pipe (or `stdin` when given), stdout a pipe (or `/dev/null`), stderr shared
/// with ours, and whatever `configure` adds (environment, process group). [`Spawned::piped`] and
/// [`Spawned::with_stdout`] hand out the pipes (a child without them is stopped, and an error).
pub(crate) fn spawn(
    program: &Path,
    mode: &str,
    stdin: Option<Stdio>,
    piped_stdout: bool,
    configure: impl FnOnce(&mut Command),
) -> std::io::Result<Spawned> {
    let mut command = Command::new(program);
    command
        .arg(mode)
        .stdin(stdin.unwrap_or_else(Stdio::piped))
        .stdout(if piped_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::inherit());
    configure(&mut command);
    let mut child = command.spawn()?;
    let pid = child.id();
    let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
    Ok(Spawned {
        process: Process::Spawned(child),
        pid,
        stdin,
        stdout,
    })
}

/// Starts a watchdog thread that exits this process (status 4) within 50 ms of its parent's
/// death, so that a child of poolscale (worker, probe, sampling side) can never be orphaned.
/// When the thread cannot be created (a process limit: `ulimit -u`, a cgroup's `pids.max`), says
/// so in one line on stderr naming `role`, and returns the exit code the child must exit with
/// (2): a child that could outlive its parent must not run.
pub fn exit_with_parent(role: &str) -> Result<(), i32> {
    let parent = std::os::unix::process::parent_id();
    // The fault tests' hook (debug builds only): act as if the process limit were reached, which
    // a test running as root cannot provoke with `ulimit -u`.
    if cfg!(debug_assertions) && std::env::var_os(WATCHDOG_FAULT_ENV).is_some() {
        eprintln!(
            "poolscale {role}: cannot start its parent-death watchdog thread (Resource temporarily \
             unavailable, simulated by {WATCHDOG_FAULT_ENV}); the process or thread limit is reached \
             (ulimit -u, a cgroup's pids.max)"
        );
        return Err(2);
    }
    let started = std::thread::Builder::new()
        .name("parent-watchdog".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(50));
                if std::os::unix::process::parent_id() != parent {
                    // Our parent is gone: exit rather than become an orphan.
                    std::process::exit(4);
                }
            }
        });
    match started {
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!(
                "poolscale {role}: cannot start its parent-death watchdog thread ({e}); \
                 the process or thread limit is reached (ulimit -u, a cgroup's pids.max)"
            );
            Err(2)
        }
    }
}

/// Starts a thread named `name` beside poolscale's own work (a pipe reader, a drain): a thread
/// the OS refuses (a process or thread limit) is an error naming it, never a panic.
pub(crate) fn thread<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> crate::Result<std::thread::JoinHandle<T>> {
    // The fault tests' hook (debug builds only): act as if the OS refused this thread, which a
    // test running as root cannot provoke with `ulimit -u`.
    let refused =
        cfg!(debug_assertions) && std::env::var_os(THREAD_FAULT_ENV).is_some_and(|v| v == name);
    let started = if refused {
        Err(std::io::Error::from_raw_os_error(libc::EAGAIN))
    } else {
        std::thread::Builder::new().name(name.to_string()).spawn(f)
    };
    started.map_err(|e| {
            crate::Error::io(
                format!(
                    "cannot start the {name} thread (the process or thread limit is reached: ulimit -u, a cgroup's pids.max)"
                ),
                e,
            )
        })
}

/// This process's stdin and stdout as files (unbuffered, for the binary protocols).
pub(crate) fn raw_stdio() -> std::io::Result<(std::fs::File, std::fs::File)> {
    use std::os::fd::AsFd;
    let input = std::io::stdin().as_fd().try_clone_to_owned()?;
    let output = std::io::stdout().as_fd().try_clone_to_owned()?;
    Ok((input.into(), output.into()))
}

/// A child process: a `Child` of `exec`, or a pid a fork server made our child (reaped here with
/// `waitpid`, like any child). Reaped exactly once, so a pid it signals is never a reused one.
#[derive(Debug)]
pub(crate) enum Process {
    Spawned(Child),
    Forked(u32),
}

impl Process {
    /// Its exit status if it has ended (reaping it), `None` if it runs.
    pub(crate) fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        match self {
            Process::Spawned(c) => c.try_wait(),
            Process::Forked(pid) => crate::platform::sys::waitpid(*pid, true),
        }
    }

    /// SIGKILL. Called only before the process is reaped, so its pid cannot have been reused.
    pub(crate) fn kill(&mut self) -> std::io::Result<()> {
        match self {
            Process::Spawned(c) => c.kill(),
            Process::Forked(pid) => crate::platform::sys::kill(*pid, libc::SIGKILL),
        }
    }

    /// Waits for it to end and reaps it.
    pub(crate) fn wait(&mut self) -> std::io::Result<ExitStatus> {
        match self {
            Process::Spawned(c) => c.wait(),
            Process::Forked(pid) => crate::platform::sys::waitpid(*pid, false)?
                .ok_or_else(|| std::io::Error::other("waitpid returned early")),
        }
    }

    /// Its pid.
    pub(crate) fn pid(&self) -> u32 {
        match self {
            Process::Spawned(c) => c.id(),
            Process::Forked(pid) => *pid,
        }
    }

    /// Waits up to `grace` for it to exit and reaps it; its status if it did. It sleeps on the
    /// process's pidfd, so it returns as soon as the process has ended.
    pub(crate) fn wait_timeout(&mut self, grace: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + grace;
        let pidfd = crate::platform::sys::pidfd_open(self.pid()).ok();
        loop {
            match self.try_wait() {
                Ok(Some(s)) => return Some(s),
                Ok(None) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    match &pidfd {
                        Some(fd) => {
                            let interest = [Interest {
                                fd: fd.as_fd(),
                                write: false,
                            }];
                            let _ = crate::platform::sys::poll(&interest, left);
                        }
                        None => std::thread::sleep(Duration::from_micros(200).min(left)),
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Gives it `grace` to exit, then kills it; reaps it either way. Every child poolscale
    /// starts ends here: pool workers (after their job pipe closes), A/B sides (after their
    /// input closes), capacity probes (at once: they hold nothing).
    pub(crate) fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.wait_timeout(grace).or_else(|| {
            let _ = self.kill();
            self.wait().ok()
        })
    }
}
