//! The capacity probe: what this machine can give *right now*. `w` independent child processes
//! each count down the full count with no coordination at all (no shared queue, no lock, one
//! pipe each), so `t(1) / t(w)` is the weak-scaling efficiency the machine itself allows at that
//! moment. On a quiet 2-core machine it is ~1.0 at 2 workers; when a neighbour takes part of a
//! core it drops, and every strategy's efficiency drops with it. The paired invariants
//! ([`crate::gate::paired`]) judge each strategy *relative* to the probe measured in the same
//! rounds, so a machine that lost a core does not fail the gate, and a strategy that stopped
//! scaling still does. `cargo bench` samples it between groups ([`capacity`]), and the
//! instrument check ([`crate::measure::instrument`]) uses a probe process to time another binary's
//! countdown.
//!
//! The probe processes are the worker program (the `poolscale` binary, or a binary of yours
//! through `poolscale::bench::serve`) in its hidden [`PROBE_ARG`] mode. Wire format, in both
//! directions little-endian `u64` words: the parent writes a count; the probe counts it down with
//! the loop every strategy runs and answers three words: the count, the nanoseconds the
//! countdown took inside the probe, and its loop's placement (0 pinned, 1 broken, 2 unpinned;
//! see [`crate::workload::Placement`]). It exits at end of input or when its parent dies.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::{ChildStdin, ChildStdout};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::measure::Arm;
use crate::platform::child::Process;
use crate::stats::{Estimate, ratio_of_values};
use crate::strategy::Options;
use crate::strategy::processes::{default_worker_program, describe_exit};
use crate::workload::Placement;

/// The hidden subcommand that turns `poolscale` into a probe process.
pub const PROBE_ARG: &str = "__probe";

/// Bytes of a probe's answer: count, nanoseconds, placement.
const ANSWER_LEN: usize = 24;

/// How long a probe may take to answer a count of `n`, past which it is killed: 30 s plus 20 ns
/// per decrement (~40 times the countdown's usual pace), like a process-pool job's default
/// timeout. A stopped or hung probe therefore ends the command within a bounded time.
pub fn answer_timeout(n: u64) -> Duration {
    crate::workload::Job::Countdown { n }.default_timeout()
}

struct ProbeProcess {
    child: Process,
    pid: u32,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// One probe's answer to a count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    /// Nanoseconds the countdown took, timed inside the probe.
    pub ns: u64,
    /// The probe binary's loop placement.
    pub placement: Placement,
}

/// `w` started probe processes.
pub struct Probe {
    procs: Vec<ProbeProcess>,
    count: u64,
    /// How long one round may wait for an answer ([`answer_timeout`] of the count).
    timeout: Duration,
    cancel: crate::platform::interrupt::Cancel,
    /// Tells the Ctrl-C handler to let this probe reap its processes.
    _interrupt: crate::platform::interrupt::PoolGuard,
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
            timeout: answer_timeout(count),
            cancel: options.cancel.clone(),
            _interrupt: crate::platform::interrupt::PoolGuard::new(),
        };
        for worker in 0..workers {
            let (child, pid, stdin, stdout) =
                crate::platform::child::spawn(&program, PROBE_ARG, None, true, |_| {})
                    .and_then(crate::platform::child::Spawned::piped)
                    .map_err(|source| Error::Spawn {
                        worker,
                        program: program.clone(),
                        source,
                    })?;
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

    /// The probe processes' pids, in order.
    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(|p| p.pid).collect()
    }

    /// Sets how long a round waits for each answer (default: [`answer_timeout`] of the count).
    pub fn set_answer_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// One round: every process counts once; returns when the last one answered, with each
    /// one's answer. Each answer is awaited with a deadline ([`answer_timeout`]) and Ctrl-C is
    /// noticed within 100 ms: a stopped or hung probe is killed and named, never waited for.
    pub fn round(&mut self) -> Result<Vec<Answer>> {
        let msg = self.count.to_le_bytes();
        for (worker, p) in self.procs.iter_mut().enumerate() {
            p.stdin.write_all(&msg).map_err(|e| Error::Probe {
                worker,
                pid: p.pid,
                detail: format!("cannot be given work: {e}"),
            })?;
        }
        let deadline = Instant::now() + self.timeout;
        let mut answers = Vec::with_capacity(self.procs.len());
        for worker in 0..self.procs.len() {
            let buf = self.read_answer(worker, deadline)?;
            let word = |k: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&buf[8 * k..8 * k + 8]);
                u64::from_le_bytes(w)
            };
            let p = &self.procs[worker];
            let (got, ns, placement) = (word(0), word(1), word(2));
            if got != self.count {
                return Err(Error::Probe {
                    worker,
                    pid: p.pid,
                    detail: format!("answered {got}, expected {}", self.count),
                });
            }
            let placement = match placement {
                0 => Placement::Pinned,
                1 => Placement::Broken,
                2 => Placement::Unpinned,
                other => {
                    return Err(Error::Probe {
                        worker,
                        pid: p.pid,
                        detail: format!("answered placement {other}, not 0, 1 or 2"),
                    });
                }
            };
            answers.push(Answer { ns, placement });
        }
        Ok(answers)
    }

    /// Reads one probe's answer by `deadline`, waking every 100 ms for Ctrl-C and cancellation.
    fn read_answer(&mut self, worker: usize, deadline: Instant) -> Result<[u8; ANSWER_LEN]> {
        let (count, timeout) = (self.count, self.timeout);
        let cancel = self.cancel.clone();
        let p = &mut self.procs[worker];
        let mut buf = [0u8; ANSWER_LEN];
        let mut got = 0;
        while got < ANSWER_LEN {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                p.child.stop(Duration::ZERO);
                return Err(Error::Probe {
                    worker,
                    pid: p.pid,
                    detail: format!(
                        "did not answer a countdown of {count} within {}; it was killed",
                        humantime::format_duration(timeout)
                    ),
                });
            }
            let interest = [crate::platform::sys::Interest {
                fd: p.stdout.as_fd(),
                write: false,
            }];
            let ready = crate::platform::sys::poll(&interest, left.min(Duration::from_millis(100)))
                .map_err(|e| Error::io("cannot wait for a capacity probe", e))?;
            cancel.check()?;
            if ready.is_empty() {
                continue;
            }
            match p.stdout.read(&mut buf[got..]) {
                Ok(0) | Err(_) => {
                    // Its output closed: it has ended or is ending. One that stays alive without
                    // its output is killed after a second, never waited for.
                    let how = match p.child.wait_timeout(Duration::from_secs(1)) {
                        Some(status) => describe_exit(status),
                        None => {
                            p.child.stop(Duration::ZERO);
                            "closed its output but kept running (killed)".to_string()
                        }
                    };
                    return Err(Error::Probe {
                        worker,
                        pid: p.pid,
                        detail: format!("{how} while counting down {count}"),
                    });
                }
                Ok(k) => got += k,
            }
        }
        Ok(buf)
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
        // Idle probes block on stdin and hold nothing: no grace; kill and reap them all.
        for p in &mut self.procs {
            p.child.stop(Duration::ZERO);
        }
    }
}

/// The probe process's loop (what `poolscale __probe` runs); returns the exit code.
pub fn serve() -> i32 {
    if let Err(code) = crate::platform::child::exit_with_parent("probe") {
        return code;
    }
    crate::platform::sys::ignore_interrupts();
    let (mut input, mut output) = match crate::platform::child::raw_stdio() {
        Ok(io) => io,
        Err(e) => {
            eprintln!("poolscale probe: cannot open stdin/stdout: {e}");
            return 2;
        }
    };
    let placement = match crate::workload::placement() {
        Placement::Pinned => 0u64,
        Placement::Broken => 1,
        Placement::Unpinned => 2,
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
        let t = Instant::now();
        let done = crate::workload::countdown(n);
        let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let mut answer = [0u8; ANSWER_LEN];
        answer[..8].copy_from_slice(&done.to_le_bytes());
        answer[8..16].copy_from_slice(&ns.to_le_bytes());
        answer[16..].copy_from_slice(&placement.to_le_bytes());
        if output.write_all(&answer).is_err() {
            return 1;
        }
    }
}

/// Decrements per probe process in one capacity sample: ~6-15 ms of counting.
pub const CAPACITY_COUNT: u64 = 20_000_000;
/// Rounds per capacity sample (each: one process alone, then one per core together).
pub const CAPACITY_ROUNDS: usize = 8;

/// What the machine gave at one moment: how many of its cores' worth of countdown it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// When it was sampled, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// Where in the run: `start`, `after <group>`, `end`.
    pub at: String,
    /// The machine's logical cores: probe processes run together.
    pub cores: usize,
    /// Cores' worth of countdown the machine gave: `cores × t(1) / t(cores)`, Hodges–Lehmann over
    /// the rounds with its 95% interval. A quiet machine gives about `cores`.
    pub given: Estimate,
}

/// Samples what the machine gives now: `CAPACITY_ROUNDS` rounds of one probe process counting
/// `CAPACITY_COUNT` alone, then `cores` of them at once (the order alternating round by round);
/// `given = cores × t(1) / t(cores)` per round. Costs ~0.1-0.3 s.
pub fn capacity(cores: usize, at: &str, options: &Options) -> Result<Capacity> {
    let cores = cores.clamp(1, crate::limits::MAX_WORKERS);
    let mut one = Probe::start(1, CAPACITY_COUNT, options)?;
    let mut many = Probe::start(cores, CAPACITY_COUNT, options)?;
    let mut given = Vec::with_capacity(CAPACITY_ROUNDS);
    for round in 0..CAPACITY_ROUNDS {
        let time = |p: &mut Probe| p.sample(1).map(|d| d.as_secs_f64());
        let (t1, tc) = if round % 2 == 0 {
            let t1 = time(&mut one)?;
            (t1, time(&mut many)?)
        } else {
            let tc = time(&mut many)?;
            (time(&mut one)?, tc)
        };
        given.push(cores as f64 * t1 / tc);
    }
    let given = ratio_of_values(&given).ok_or_else(|| {
        Error::invalid("capacity sample", format!("{given:?}"), "no valid rounds")
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Capacity {
        at_unix_ms: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
        at: at.to_string(),
        cores,
        given,
    })
}
