//! The process pool's fork server: `multiprocessing`'s `forkserver` start method (its default on
//! Linux since Python 3.14), made so that workers are still the pool owner's own children.
//!
//! Starting a worker by `exec` costs a fresh program image: about 1.3 ms of CPU per worker on a
//! small VM, most of it the kernel mapping and the dynamic loader relocating a 6 MB binary. The
//! fork server pays that once per program: it is `poolscale __forkserver`, started the first time
//! a pool with [`StartMethod::ForkServer`](super::StartMethod) needs it and kept for the life of
//! the process. Each worker is then a copy of that small, single-threaded process, made by
//! `clone(CLONE_PARENT)`: a copy-on-write fork whose parent is the *pool owner*, not the server.
//! So the owner reaps its workers with `waitpid`, counts their CPU time as its children's, and sees
//! exactly its workers as children; and the worker's watchdog watches the owner, as an exec'd
//! worker's does.
//!
//! The server talks over a Unix socket that is its standard input: the owner sends a request per
//! worker, carrying the worker's two pipe ends (the shared job pipe's read end, the write end of
//! the worker's own reply pipe) as `SCM_RIGHTS` and the worker's extra environment as bytes; the
//! server forks, closes its copies, and answers with the pid (or the OS error). The server never
//! holds a pipe end longer than one fork, so end-of-input and hang-up mean what they mean for an
//! exec'd worker. It exits at end of input: when the owner closes the socket or dies.
//!
//! A program that cannot be a fork server (not poolscale, or an older one) fails the server's
//! handshake; the pool then starts its workers by exec, whose handshake names what is wrong.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};

/// The hidden subcommand that turns `poolscale` into a fork server.
pub const FORKSERVER_ARG: &str = "__forkserver";
/// For the tests: `POOLSCALE_FORKSERVER_FAULT=refuse` makes a debug build's fork server answer
/// every request as if the OS had refused the fork (a release build ignores it).
pub const FAULT_ENV: &str = "POOLSCALE_FORKSERVER_FAULT";
/// Version of the owner ↔ server protocol, in the server's hello.
const SERVER_VERSION: u32 = 1;
const HELLO_MAGIC: &[u8; 4] = b"PSFS";
const REQUEST_MAGIC: &[u8; 4] = b"FORK";
const REPLY_MAGIC: &[u8; 4] = b"PID ";
/// The largest environment a request may carry.
const MAX_ENV: usize = 64 * 1024;
/// How long the owner waits for the server's hello, and for each answer.
const SERVER_TIMEOUT: Duration = Duration::from_secs(10);

/// A started fork server.
#[derive(Debug)]
struct Server {
    process: crate::platform::child::Process,
    pid: u32,
    socket: UnixStream,
}

/// The fork servers of this process, one per worker program; `None`: the program cannot be one.
static SERVERS: Mutex<Vec<(PathBuf, Option<Server>)>> = Mutex::new(Vec::new());

impl Server {
    /// Starts `program __forkserver` and reads its hello. `Ok(None)`: the program started but is
    /// not a fork server of this protocol (it was stopped and reaped).
    fn start(program: &Path) -> Result<Option<Server>> {
        let spawn_err = |source| Error::Spawn {
            worker: 0,
            program: program.to_path_buf(),
            source,
        };
        let (ours, theirs) = UnixStream::pair().map_err(spawn_err)?;
        let started = crate::platform::child::spawn(
            program,
            FORKSERVER_ARG,
            Some(Stdio::from(OwnedFd::from(theirs))),
            false,
            |_| {},
        )
        .map_err(spawn_err)?;
        let mut server = Server {
            pid: started.pid,
            process: started.process,
            socket: ours,
        };
        let mut hello = [0u8; 16];
        let greeted = server
            .socket
            .set_read_timeout(Some(SERVER_TIMEOUT))
            .and_then(|()| server.socket.read_exact(&mut hello))
            .is_ok()
            && &hello[..4] == HELLO_MAGIC
            && u32::from_le_bytes(hello[4..8].try_into().expect("4 bytes")) == SERVER_VERSION
            && u64::from_le_bytes(hello[8..].try_into().expect("8 bytes")) == u64::from(server.pid);
        if greeted {
            Ok(Some(server))
        } else {
            server.stop();
            Ok(None)
        }
    }

    /// Asks for one worker reading jobs from `stdin` and replying on `stdout`. The outer error:
    /// the server is gone or broke the protocol; the inner: the OS refused the fork.
    fn fork(
        &mut self,
        env: &[u8],
        stdin: BorrowedFd<'_>,
        stdout: BorrowedFd<'_>,
    ) -> std::io::Result<std::io::Result<u32>> {
        let mut header = [0u8; 8];
        header[..4].copy_from_slice(REQUEST_MAGIC);
        header[4..].copy_from_slice(&(env.len() as u32).to_le_bytes());
        let sent = crate::platform::sys::send_with_fds(&self.socket, &header, &[stdin, stdout])?;
        self.socket.write_all(&header[sent..])?;
        self.socket.write_all(env)?;
        let mut reply = [0u8; 12];
        self.socket.read_exact(&mut reply)?;
        if &reply[..4] != REPLY_MAGIC {
            return Err(std::io::Error::other(
                "the fork server sent a malformed answer",
            ));
        }
        let pid = i64::from_le_bytes(reply[4..].try_into().expect("8 bytes"));
        Ok(match u32::try_from(pid) {
            Ok(pid) if pid > 0 => Ok(pid),
            _ => Err(std::io::Error::from_raw_os_error(
                i32::try_from(-pid).unwrap_or(libc::EIO),
            )),
        })
    }

    /// Closes the socket (the server exits at end of input), then reaps it, killing it if it
    /// lingers.
    fn stop(mut self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
        self.process.stop(Duration::from_secs(1));
    }
}

/// Encodes the workers' extra environment as `KEY=VALUE\0` entries. A key that is empty or holds
/// `=` or NUL, or a value that holds NUL, cannot be an environment variable: an error names it.
fn encode_env(env: &[(String, String)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (k, v) in env {
        if k.is_empty() || k.contains(['=', '\0']) || v.contains('\0') {
            return Err(Error::invalid(
                "worker environment entry",
                format!("{k:?}={v:?}"),
                "a non-empty key without `=` or NUL, and a value without NUL",
            ));
        }
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    Ok(out)
}

/// Starts `count` workers of `program` through its fork server, each reading the shared job pipe
/// `stdin`; `started(index, pid, reply pipe)` takes each one as soon as it exists (so that the
/// caller reaps it whatever happens next). Returns `Ok(false)`, having started none, when
/// `program` cannot be a fork server, or its server cannot fork here (the first fork refused);
/// the program is then not tried as a server again in this process. A server that has died
/// since its last use is replaced.
pub(super) fn start_workers(
    program: &Path,
    env: &[(String, String)],
    count: usize,
    stdin: BorrowedFd<'_>,
    started: &mut dyn FnMut(usize, u32, std::io::PipeReader) -> Result<()>,
) -> Result<bool> {
    let env = encode_env(env)?;
    if env.len() > MAX_ENV {
        return Err(Error::invalid(
            "worker environment",
            format!("{} bytes", env.len()),
            format!("at most {MAX_ENV} bytes"),
        ));
    }
    let mut servers = SERVERS.lock().unwrap_or_else(|p| p.into_inner());
    let slot = match servers.iter().position(|(p, _)| p == program) {
        Some(i) => i,
        None => {
            let server = Server::start(program)?;
            servers.push((program.to_path_buf(), server));
            servers.len() - 1
        }
    };
    for index in 0..count {
        let spawn_err = |source| Error::Spawn {
            worker: index,
            program: program.to_path_buf(),
            source,
        };
        let (rx, tx) = std::io::pipe().map_err(spawn_err)?;
        let mut retried = false;
        let pid = loop {
            let Some(server) = servers[slot].1.as_mut() else {
                return Ok(false);
            };
            match server.fork(&env, stdin, tx.as_fd()) {
                Ok(Ok(pid)) => break pid,
                // The OS refused this pool's first fork (a sandbox that forbids CLONE_PARENT, no
                // /proc to check the server's threads): this server cannot serve here. Nothing
                // was started, so the pool starts its workers by exec, whose errors are its own.
                Ok(Err(_)) if index == 0 => {
                    if let Some(old) = servers[slot].1.take() {
                        old.stop();
                    }
                    return Ok(false);
                }
                // A later fork refused: the server works, this worker could not be made.
                Ok(Err(e)) => return Err(spawn_err(e)),
                // The server is gone (killed, or it broke the protocol): replace it once.
                Err(e) => {
                    if let Some(old) = servers[slot].1.take() {
                        old.stop();
                    }
                    if retried {
                        return Err(spawn_err(e));
                    }
                    retried = true;
                    servers[slot].1 = Server::start(program)?;
                    if servers[slot].1.is_none() {
                        return Err(spawn_err(e));
                    }
                }
            }
        };
        drop(tx);
        started(index, pid, rx)?;
    }
    Ok(true)
}

/// The pid of the fork server running `program`, if one is running (for tests and diagnostics).
pub fn server_pid(program: &Path) -> Option<u32> {
    let servers = SERVERS.lock().unwrap_or_else(|p| p.into_inner());
    servers
        .iter()
        .find(|(p, _)| p == program)
        .and_then(|(_, s)| s.as_ref().map(|s| s.pid))
}

/// The pids of this process's running fork servers (whose CPU time, the forks, counts with the
/// pools': see `crate::measure::cpu::Snapshot`).
pub fn server_pids() -> Vec<u32> {
    let servers = SERVERS.lock().unwrap_or_else(|p| p.into_inner());
    servers
        .iter()
        .filter_map(|(_, s)| s.as_ref().map(|s| s.pid))
        .collect()
}

/// Stops and reaps every fork server of this process (the next pool that needs one starts it
/// again). Call it before exiting, so that no server outlives its owner even briefly.
pub fn stop_all() {
    let mut servers = SERVERS.lock().unwrap_or_else(|p| p.into_inner());
    for (_, server) in servers.drain(..) {
        if let Some(s) = server {
            s.stop();
        }
    }
}

/// Runs the fork server on the socket that is its standard input; returns the exit code. It stays
/// single-threaded, so that each fork is a faithful copy.
pub fn serve() -> i32 {
    crate::platform::sys::ignore_interrupts();
    let refuse =
        cfg!(debug_assertions) && std::env::var_os(FAULT_ENV).is_some_and(|v| v == "refuse");
    let mut socket = match crate::platform::sys::stdin_socket() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("poolscale fork server: {e}; it is started by a process pool, not by hand");
            return 2;
        }
    };
    let mut hello = [0u8; 16];
    hello[..4].copy_from_slice(HELLO_MAGIC);
    hello[4..8].copy_from_slice(&SERVER_VERSION.to_le_bytes());
    hello[8..].copy_from_slice(&u64::from(std::process::id()).to_le_bytes());
    if let Err(e) = socket.write_all(&hello) {
        eprintln!("poolscale fork server: cannot greet its owner: {e}");
        return 2;
    }
    loop {
        let mut header = [0u8; 8];
        let (n, fds) = match crate::platform::sys::recv_with_fds(&socket, &mut header) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("poolscale fork server: cannot read a request: {e}");
                return 2;
            }
        };
        if n == 0 {
            return 0; // The owner closed the socket or died.
        }
        // An empty rest reads as complete; end of input inside the header is not.
        let complete = matches!(
            super::worker::read_record(&mut socket, &mut header[n..]),
            Ok(true)
        );
        let len = u32::from_le_bytes(header[4..].try_into().expect("4 bytes")) as usize;
        if !complete || &header[..4] != REQUEST_MAGIC || len > MAX_ENV || fds.len() != 2 {
            eprintln!("poolscale fork server: malformed request; exiting");
            return 2;
        }
        let mut env = vec![0u8; len];
        if !matches!(super::worker::read_record(&mut socket, &mut env), Ok(true)) {
            eprintln!("poolscale fork server: truncated request; exiting");
            return 2;
        }
        let forked = if refuse {
            Err(std::io::Error::from_raw_os_error(libc::EPERM))
        } else {
            crate::platform::sys::fork_sibling()
        };
        let pid = match forked {
            Ok(Some(pid)) => i64::from(pid),
            Ok(None) => become_worker(fds, &env),
            Err(e) => -i64::from(e.raw_os_error().unwrap_or(libc::EIO)),
        };
        drop(fds);
        let mut reply = [0u8; 12];
        reply[..4].copy_from_slice(REPLY_MAGIC);
        reply[4..].copy_from_slice(&pid.to_le_bytes());
        if socket.write_all(&reply).is_err() {
            return 0; // The owner is gone.
        }
    }
}

/// In the copy the server just made: the job pipe becomes stdin (replacing the socket, which a
/// worker must not hold), the reply pipe stdout; then the worker loop, and exit.
fn become_worker(fds: Vec<OwnedFd>, env: &[u8]) -> ! {
    let setup = crate::platform::sys::dup_onto(fds[0].as_fd(), 0)
        .and_then(|()| crate::platform::sys::dup_onto(fds[1].as_fd(), 1))
        .and_then(|()| {
            for entry in env.split(|&b| b == 0).filter(|e| !e.is_empty()) {
                let text = String::from_utf8_lossy(entry);
                let (k, v) = text.split_once('=').unwrap_or((&text, ""));
                crate::platform::sys::set_env_single_threaded(k, v)?;
            }
            Ok(())
        });
    if let Err(e) = setup {
        eprintln!(
            "poolscale worker {}: cannot set up: {e}",
            std::process::id()
        );
        std::process::exit(2);
    }
    // Now on 0 and 1: close the originals.
    drop(fds);
    std::process::exit(super::worker::serve())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_entries_are_nul_terminated() {
        let env = encode_env(&[("A".into(), "1".into()), ("B".into(), "x=y".into())]).unwrap();
        assert_eq!(env, b"A=1\0B=x=y\0");
        for (k, v) in [("", "1"), ("A=B", "1"), ("A\0", "1"), ("A", "1\0")] {
            let err = encode_env(&[(k.into(), v.into())]).unwrap_err().to_string();
            assert!(err.contains("worker environment entry"), "{err}");
        }
    }
}
