//! The capacity probe: what this machine can give *right now*. `w` independent child processes
//! each count down the full count with no coordination at all (no shared queue, no lock, one
//! pipe each), so `t(1) / t(w)` is the weak-scaling efficiency the machine itself allows at that
//! moment. On a quiet 2-core machine it is ~1.0 at 2 workers; when a neighbour takes part of a
//! core it drops, and every strategy's efficiency drops with it. The paired invariants
//! ([`crate::gate::paired`]) judge each strategy *relative* to the probe measured in the same
//! rounds, so a machine that lost a core does not fail the gate, and a strategy that stopped
//! scaling still does.
//!
//! The probe processes are the worker program (the `poolscale` binary) in its hidden
//! [`PROBE_ARG`] mode: read a count (8 bytes, little-endian) from stdin, count it down with the
//! same loop every strategy runs, write the count back; exit at end of input or when the parent
//! dies.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::measure::Arm;
use crate::strategy::Options;
use crate::strategy::processes::{default_worker_program, describe_exit};

/// The hidden subcommand that turns `poolscale` into a probe process.
pub const PROBE_ARG: &str = "__probe";

struct ProbeProcess {
    child: Child,
    pid: u32,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// `w` started probe processes.
pub struct Probe {
    procs: Vec<ProbeProcess>,
    count: u64,
    cancel: crate::interrupt::Cancel,
    /// Tells the Ctrl-C handler to let this probe reap its processes.
    _interrupt: crate::interrupt::PoolGuard,
}

impl Probe {
    /// Starts `workers` probe processes, each of which will count down `count` per iteration.
    pub fn start(workers: usize, count: u64, options: &Options) -> Result<Probe> {
        let workers = crate::limits::workers(workers)?;
        let program = match &options.worker_program {
            Some(p) => p.clone(),
            None => default_worker_program()?,
        };
        let mut probe = Probe {
            procs: Vec::with_capacity(workers),
            count,
            cancel: options.cancel.clone(),
            _interrupt: crate::interrupt::PoolGuard::new(),
        };
        for worker in 0..workers {
            let mut child = Command::new(&program)
                .arg(PROBE_ARG)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|source| Error::Spawn {
                    worker,
                    program: program.clone(),
                    source,
                })?;
            let pid = child.id();
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Probe {
                    worker,
                    pid,
                    detail: "started without pipes".into(),
                });
            };
            probe.procs.push(ProbeProcess {
                child,
                pid,
                stdin,
                stdout,
            });
        }
        // One untimed round: every process is running and has paged in its code.
        probe.round()?;
        Ok(probe)
    }

    /// One round: every process counts once; returns when the last one answered.
    fn round(&mut self) -> Result<()> {
        let msg = self.count.to_le_bytes();
        for (worker, p) in self.procs.iter_mut().enumerate() {
            p.stdin.write_all(&msg).map_err(|e| Error::Probe {
                worker,
                pid: p.pid,
                detail: format!("cannot be given work: {e}"),
            })?;
        }
        for (worker, p) in self.procs.iter_mut().enumerate() {
            let mut buf = [0u8; 8];
            if let Err(e) = p.stdout.read_exact(&mut buf) {
                let how = match p.child.wait() {
                    Ok(status) => describe_exit(status),
                    Err(_) => format!("could not be read ({e})"),
                };
                return Err(Error::Probe {
                    worker,
                    pid: p.pid,
                    detail: format!("{how} while counting down {}", self.count),
                });
            }
            let got = u64::from_le_bytes(buf);
            if got != self.count {
                return Err(Error::Probe {
                    worker,
                    pid: p.pid,
                    detail: format!("answered {got}, expected {}", self.count),
                });
            }
        }
        Ok(())
    }
}

impl Arm for Probe {
    fn label(&self) -> String {
        format!("probe/{}", self.procs.len())
    }

    fn sample(&mut self, iters: u64) -> Result<Duration> {
        let mut total = Duration::ZERO;
        for _ in 0..iters.max(1) {
            self.cancel.check()?;
            let t = Instant::now();
            self.round()?;
            total += t.elapsed();
        }
        Ok(total)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // Idle probes block on stdin: kill and reap them all.
        for p in &mut self.procs {
            let _ = p.child.kill();
        }
        for p in &mut self.procs {
            let _ = p.child.wait();
        }
    }
}

/// The probe process's loop (what `poolscale __probe` runs); returns the exit code.
pub fn serve() -> i32 {
    crate::strategy::processes::worker::exit_with_parent();
    crate::sys::ignore_interrupts();
    let (mut input, mut output) = match crate::strategy::processes::worker::raw_stdio() {
        Ok(io) => io,
        Err(e) => {
            eprintln!("poolscale probe: cannot open stdin/stdout: {e}");
            return 2;
        }
    };
    let mut buf = [0u8; 8];
    loop {
        match input.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return 0,
            Err(e) => {
                eprintln!("poolscale probe: {e}");
                return 2;
            }
        }
        let n = u64::from_le_bytes(buf).min(crate::limits::MAX_COUNT);
        let done = crate::workload::countdown(n);
        if output.write_all(&done.to_le_bytes()).is_err() {
            return 1;
        }
    }
}
