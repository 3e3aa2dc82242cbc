//! `processes`: a persistent pool of `w` child OS processes, the analogue of
//! `multiprocessing.Pool(w).map(f, jobs)` (chunksize: see [`protocol::chunk_size`]).
//!
//! Each worker is the `poolscale` binary in its hidden `__worker` mode, started as
//! `multiprocessing` starts its workers ([`StartMethod`]): forked from a fork server (the default,
//! see [`forkserver`]) or each by `exec` (`spawn`). Either way it is a child of the pool's owner. All workers read jobs from
//! ONE shared pipe (their stdin) and answer on their own stdout (see [`protocol`]). The parent keeps
//! that pipe full, so no worker waits for a round trip, and a job goes to whichever worker is free:
//! dynamic load balancing without a per-job round trip.
//!
//! Faults: a worker that dies (even by SIGKILL), exits early, writes garbage, lies about its job or
//! holds a job past the timeout makes the map fail with an error naming the worker, its pid, how it
//! ended and the job; the pool then kills and reaps every worker and refuses further maps. Dropping
//! a pool closes the job pipe (workers exit on end of input), then kills whatever has not exited
//! within a grace period, and reaps them all. Workers whose parent dies exit on their own.

pub mod forkserver;
pub mod protocol;
pub mod worker;

use std::io::{ErrorKind, Read, Write};
use std::io::{PipeReader, PipeWriter};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use self::protocol::{JOB_LEN, PROTOCOL_VERSION, REPLY_LEN, Reply, decode_reply, encode_job};
use super::{Observer, Options, Outcome, Started, Strategy, StrategyKind, elapsed_ns};
use crate::error::{Error, Result};
use crate::platform::child::Process;
use crate::platform::sys::Interest;
use crate::workload::Job;

/// The hidden subcommand that turns `poolscale` into a worker.
pub const WORKER_ARG: &str = "__worker";
/// Environment variable naming the worker program, overriding the search.
pub const WORKER_PROGRAM_ENV: &str = "POOLSCALE_WORKER";
/// How long a new worker has to say hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a dropped pool waits for idle workers to exit before killing them.
const EXIT_GRACE: Duration = Duration::from_secs(1);
/// Largest write to the shared job pipe: POSIX makes writes of at most `PIPE_BUF` bytes atomic.
const WRITE_CHUNK: usize = (libc::PIPE_BUF / JOB_LEN) * JOB_LEN;

/// Finds the `poolscale` binary to run as a worker: `$POOLSCALE_WORKER`, else this executable if
/// it is `poolscale`, else a `poolscale` beside it or one directory up (where Cargo puts the binary
/// relative to test and bench executables in `target/<profile>/deps`).
pub fn default_worker_program() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(WORKER_PROGRAM_ENV) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("cannot locate the running executable", e))?;
    if exe.file_stem().is_some_and(|s| s == "poolscale") {
        return Ok(exe);
    }
    let mut dir = exe.parent();
    for _ in 0..2 {
        let Some(d) = dir else { break };
        let candidate = d.join("poolscale");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    Err(Error::NoWorkerProgram { exe })
}

/// How the pool starts its workers (`multiprocessing`'s start methods).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartMethod {
    /// Each worker is a fresh `exec` of the worker program (`multiprocessing`'s `spawn`): about
    /// 1.5 ms per worker here. Nothing outlives the pool.
    Spawn,
    /// Each worker is forked from a fork server started once per program and process
    /// (`multiprocessing`'s `forkserver`, see [`forkserver`]): a few hundred µs per worker after the
    /// first pool. The workers are still this process's children. The default.
    #[default]
    ForkServer,
}

impl StartMethod {
    /// The name used on the command line (`spawn`, `forkserver`).
    pub fn as_str(self) -> &'static str {
        match self {
            StartMethod::Spawn => "spawn",
            StartMethod::ForkServer => "forkserver",
        }
    }
}

impl std::str::FromStr for StartMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "spawn" => Ok(StartMethod::Spawn),
            "forkserver" => Ok(StartMethod::ForkServer),
            _ => Err(Error::invalid(
                "start method",
                s,
                "expected spawn or forkserver",
            )),
        }
    }
}

#[derive(Debug)]
struct Worker {
    process: Process,
    pid: u32,
    /// The read end of its reply pipe (its stdout), non-blocking.
    stdout: std::fs::File,
    /// Bytes read but not yet a whole reply.
    pending: Vec<u8>,
    /// The job it is running and when it said `TOOK`.
    current: Option<(usize, Instant)>,
    /// Its exit status, once reaped.
    reaped: Option<ExitStatus>,
}

/// A started pool of worker processes.
#[derive(Debug)]
pub struct ProcessPool {
    workers: Vec<Worker>,
    /// Write end of the shared job pipe (non-blocking). `None` once closed.
    jobs_tx: Option<PipeWriter>,
    /// Our copy of the read end: keeps writes from failing with EPIPE if every worker died, so
    /// that the death is reported, not a broken pipe.
    jobs_rx: PipeReader,
    job_timeout: Option<Duration>,
    /// The chunk size of every map (`None`: `multiprocessing`'s automatic choice per map).
    chunk: Option<usize>,
    /// How its workers were started.
    started_by: StartMethod,
    /// Stops a running map: the pool then kills and reaps its workers.
    cancel: crate::platform::interrupt::Cancel,
    /// Why the pool refuses work, after a failed map.
    broken: Option<String>,
    /// Tells the Ctrl-C handler to let this pool reap its workers.
    _interrupt: crate::platform::interrupt::PoolGuard,
}

/// Describes how a process ended, e.g. "was killed by signal 9 (SIGKILL)".
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        match crate::platform::sys::signal_name(sig) {
            Some(name) => format!("was killed by signal {sig} ({name})"),
            None => format!("was killed by signal {sig}"),
        }
    } else {
        match status.code() {
            Some(c) => format!("exited with status {c}"),
            None => format!("ended with {status}"),
        }
    }
}

impl ProcessPool {
    /// Starts `workers` worker processes and waits for each one's handshake.
    pub fn start(workers: usize, options: &Options) -> Result<Self> {
        let program = match &options.worker_program {
            Some(p) => p.clone(),
            None => default_worker_program()?,
        };
        let (rx, tx) = std::io::pipe().map_err(|e| Error::io("cannot create the job pipe", e))?;
        crate::platform::sys::set_nonblocking(tx.as_fd())
            .map_err(|e| Error::io("cannot configure the job pipe", e))?;
        let mut pool = ProcessPool {
            workers: Vec::with_capacity(workers),
            jobs_tx: Some(tx),
            jobs_rx: rx,
            job_timeout: options.job_timeout,
            chunk: options.chunk,
            started_by: StartMethod::Spawn,
            cancel: options.cancel.clone(),
            broken: None,
            _interrupt: crate::platform::interrupt::PoolGuard::new(),
        };
        // On any error below, dropping `pool` kills and reaps the workers started so far.
        if options.start == StartMethod::ForkServer {
            let stdin = pool
                .jobs_rx
                .try_clone()
                .map_err(|e| Error::io("cannot share the job pipe", e))?;
            let forked = forkserver::start_workers(
                &program,
                &options.worker_env,
                workers,
                stdin.as_fd(),
                &mut |index, pid, stdout| {
                    pool.add_worker(Process::Forked(pid), pid, stdout.into())
                        .map_err(|source| Error::Spawn {
                            worker: index,
                            program: program.clone(),
                            source,
                        })
                },
            )?;
            if forked {
                pool.started_by = StartMethod::ForkServer;
            }
        }
        // `Spawn`, or a program that cannot be a fork server: its workers' handshake says why.
        for index in pool.workers.len()..workers {
            pool.spawn_worker(index, &program, options)?;
        }
        pool.handshake(&program)?;
        Ok(pool)
    }

    /// How this pool's workers were started: `ForkServer` only if the fork server made them.
    pub fn start_method(&self) -> StartMethod {
        self.started_by
    }

    fn add_worker(
        &mut self,
        process: Process,
        pid: u32,
        stdout: std::os::fd::OwnedFd,
    ) -> std::io::Result<()> {
        let stdout = std::fs::File::from(stdout);
        let nonblocking = crate::platform::sys::set_nonblocking(stdout.as_fd());
        self.workers.push(Worker {
            process,
            pid,
            stdout,
            pending: Vec::with_capacity(REPLY_LEN * 64),
            current: None,
            reaped: None,
        });
        nonblocking
    }

    fn spawn_worker(&mut self, index: usize, program: &Path, options: &Options) -> Result<()> {
        let spawn_err = |source| Error::Spawn {
            worker: index,
            program: program.to_path_buf(),
            source,
        };
        let stdin = self.jobs_rx.try_clone().map_err(spawn_err)?;
        let started = crate::platform::child::spawn(
            program,
            WORKER_ARG,
            Some(Stdio::from(stdin)),
            true,
            |c| {
                c.envs(options.worker_env.iter().map(|(k, v)| (k, v)));
            },
        )
        .and_then(crate::platform::child::Spawned::with_stdout)
        .map_err(spawn_err)?;
        let (process, pid, stdout) = started;
        self.add_worker(process, pid, stdout.into())
            .map_err(spawn_err)
    }

    fn handshake(&mut self, program: &Path) -> Result<()> {
        let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
        let mut greeted = vec![false; self.workers.len()];
        while greeted.iter().any(|g| !g) {
            let now = Instant::now();
            if now >= deadline {
                let k = greeted.iter().position(|g| !g).unwrap_or(0);
                return Err(self.fail(Error::WorkerProtocol {
                    worker: k,
                    pid: self.workers[k].pid,
                    job: None,
                    detail: format!(
                        "no handshake within {}; is `{}` the poolscale binary?",
                        humantime::format_duration(HANDSHAKE_TIMEOUT),
                        program.display()
                    ),
                }));
            }
            let ready = self.poll(false, deadline - now)?;
            for k in ready {
                let (replies, eof, bad) = self.read_worker(k)?;
                for r in replies {
                    match r {
                        Reply::Hello { pid, version }
                            if version == PROTOCOL_VERSION
                                && pid == u64::from(self.workers[k].pid)
                                && !greeted[k] =>
                        {
                            greeted[k] = true;
                        }
                        other => {
                            return Err(self.protocol_error(
                                k,
                                format!(
                                    "sent {other:?} instead of a protocol {PROTOCOL_VERSION} handshake; is `{}` the poolscale binary of this build?",
                                    program.display()
                                ),
                            ));
                        }
                    }
                }
                if let Some(detail) = bad {
                    return Err(self.protocol_error(k, detail));
                }
                if eof {
                    return Err(self.died(k));
                }
            }
        }
        Ok(())
    }

    /// Waits until the job pipe is writable (if `want_write`) or some worker has output or hung
    /// up, at most `timeout`; returns the workers to read. The caller's next write attempt acts on
    /// writability.
    fn poll(&mut self, want_write: bool, timeout: Duration) -> Result<Vec<usize>> {
        let mut fds: Vec<Interest<'_>> = self
            .workers
            .iter()
            .map(|w| Interest {
                fd: w.stdout.as_fd(),
                write: false,
            })
            .collect();
        if want_write && let Some(tx) = &self.jobs_tx {
            fds.push(Interest {
                fd: tx.as_fd(),
                write: true,
            });
        }
        let n = self.workers.len();
        match crate::platform::sys::poll(&fds, timeout) {
            Ok(ready) => Ok(ready.into_iter().filter(|&k| k < n).collect()),
            Err(e) => Err(self.fail(Error::io("poll on the worker pipes failed", e))),
        }
    }

    /// Reads whatever worker `k` has written. Returns its whole replies up to the first record
    /// that is not one, whether it hung up, and what was wrong with that record: the caller acts
    /// on the good replies first (a `TOOK` read in the same chunk as garbage still names the job).
    fn read_worker(&mut self, k: usize) -> Result<(Vec<Reply>, bool, Option<String>)> {
        let mut buf = [0u8; 64 * REPLY_LEN];
        let mut eof = false;
        loop {
            match self.workers[k].stdout.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => self.workers[k].pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    let w = &self.workers[k];
                    let ctx = format!("cannot read from worker {k} (pid {})", w.pid);
                    return Err(self.fail(Error::io(ctx, e)));
                }
            }
        }
        let whole = self.workers[k].pending.len() / REPLY_LEN * REPLY_LEN;
        let mut replies = Vec::with_capacity(whole / REPLY_LEN);
        let mut bad = None;
        for rec in self.workers[k].pending[..whole].chunks_exact(REPLY_LEN) {
            match decode_reply(rec) {
                Ok(r) => replies.push(r),
                Err(detail) => {
                    bad = Some(detail);
                    break;
                }
            }
        }
        self.workers[k].pending.drain(..whole);
        if bad.is_none() && eof && !self.workers[k].pending.is_empty() {
            let tail = protocol::show_bytes(&self.workers[k].pending);
            bad = Some(format!("garbage on its stdout: {tail}"));
        }
        Ok((replies, eof, bad))
    }

    fn protocol_error(&mut self, k: usize, detail: String) -> Error {
        let w = &self.workers[k];
        let e = Error::WorkerProtocol {
            worker: k,
            pid: w.pid,
            job: w.current.map(|c| c.0),
            detail,
        };
        self.fail(e)
    }

    /// Worker `k` hung up: reap it and describe how it ended.
    fn died(&mut self, k: usize) -> Error {
        let status = reap(&mut self.workers[k], Duration::from_secs(2));
        let w = &self.workers[k];
        let e = Error::WorkerDied {
            worker: k,
            pid: w.pid,
            status: status
                .map(describe_exit)
                .unwrap_or_else(|| "closed its stdout and would not exit".to_string()),
            job: w.current.map(|c| c.0),
        };
        self.fail(e)
    }

    /// Marks the pool broken, kills and reaps every worker, and passes the error on.
    fn fail(&mut self, e: Error) -> Error {
        self.broken = Some(e.to_string());
        self.shutdown(Duration::ZERO);
        e
    }

    /// Closes the job pipe, gives workers `grace` to exit, then kills and reaps the rest.
    fn shutdown(&mut self, grace: Duration) {
        self.jobs_tx = None;
        let deadline = Instant::now() + grace;
        for w in self.workers.iter_mut().filter(|w| w.reaped.is_none()) {
            let left = deadline.saturating_duration_since(Instant::now());
            w.reaped = w.process.stop(left);
        }
    }

    /// Writes as many encoded jobs as the shared pipe takes without blocking.
    fn feed(&mut self, bytes: &[u8], written: &mut usize) -> Result<()> {
        let Some(tx) = self.jobs_tx.as_mut() else {
            return Err(Error::PoolBroken("the job pipe is closed".into()));
        };
        while *written < bytes.len() {
            let end = (*written + WRITE_CHUNK).min(bytes.len());
            match tx.write(&bytes[*written..end]) {
                Ok(n) => *written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(Error::io("cannot write to the job pipe", e))),
            }
        }
        Ok(())
    }

    /// Fails the map when a worker has held its job for `limit`, or when job `untaken` (the lowest
    /// not yet announced) has waited `limit` since the last sign of progress while some worker
    /// was idle (it read the job and stalled). Returns how long until the next deadline.
    fn check_timeouts(
        &mut self,
        limit: Duration,
        untaken: Option<usize>,
        last_progress: Instant,
    ) -> Result<Duration> {
        let mut next = limit;
        if let Some(job) = untaken {
            let idle: Vec<String> = self
                .workers
                .iter()
                .enumerate()
                .filter(|(_, w)| w.current.is_none())
                .map(|(k, w)| format!("worker {k} (pid {})", w.pid))
                .collect();
            if !idle.is_empty() {
                let quiet = last_progress.elapsed();
                if quiet >= limit {
                    let idle = format!(
                        "{} {}",
                        idle.join(", "),
                        if idle.len() == 1 { "was" } else { "were" }
                    );
                    return Err(self.fail(Error::WorkerStalled {
                        job,
                        timeout: limit,
                        idle,
                    }));
                }
                next = next.min(limit - quiet);
            }
        }
        for k in 0..self.workers.len() {
            if let Some((job, since)) = self.workers[k].current {
                let held = since.elapsed();
                if held >= limit {
                    let e = Error::WorkerTimeout {
                        worker: k,
                        pid: self.workers[k].pid,
                        job,
                        timeout: limit,
                    };
                    return Err(self.fail(e));
                }
                next = next.min(limit - held);
            }
        }
        Ok(next)
    }
}

/// Waits up to `grace` for a worker to exit; returns its status if it did.
fn reap(w: &mut Worker, grace: Duration) -> Option<ExitStatus> {
    if w.reaped.is_none() {
        w.reaped = w.process.wait_timeout(grace);
    }
    w.reaped
}

impl Strategy for ProcessPool {
    fn name(&self) -> &str {
        StrategyKind::Processes.as_str()
    }

    fn workers(&self) -> usize {
        self.workers.len()
    }

    fn worker_pids(&self) -> Vec<u32> {
        self.workers
            .iter()
            .filter(|w| w.reaped.is_none())
            .map(|w| w.pid)
            .collect()
    }

    fn map_observed(&mut self, jobs: &[Job], on_start: Observer<'_>) -> Result<Vec<Outcome>> {
        if let Some(why) = &self.broken {
            return Err(Error::PoolBroken(why.clone()));
        }
        if self.cancel.is_cancelled() {
            return Err(self.fail(Error::Interrupted));
        }
        let t0 = Instant::now();
        let mut bytes = Vec::with_capacity(jobs.len() * JOB_LEN);
        let chunk = protocol::chunk_size(jobs.len(), self.workers.len(), self.chunk);
        for (i, job) in jobs.iter().enumerate() {
            encode_job(i as u64, job, chunk, &mut bytes);
        }
        let mut written = 0;
        let mut results: Vec<Option<Outcome>> = vec![None; jobs.len()];
        let mut taken = vec![false; jobs.len()];
        let mut remaining = jobs.len();
        // `--job-timeout`, or one derived from the jobs (see `Job::default_timeout`).
        let limit = self.job_timeout.unwrap_or_else(|| {
            jobs.iter()
                .map(Job::default_timeout)
                .max()
                .unwrap_or_default()
        });
        let mut last_progress = Instant::now();
        let mut lowest_untaken = 0;
        while remaining > 0 {
            self.feed(&bytes, &mut written)?;
            while lowest_untaken < jobs.len() && taken[lowest_untaken] {
                lowest_untaken += 1;
            }
            let untaken = (lowest_untaken < jobs.len()).then_some(lowest_untaken);
            // Wake up at least once a second: a worker that died is noticed through its hang-up,
            // and this bounds the wait if that were ever missed.
            let wait = self
                .check_timeouts(limit, untaken, last_progress)?
                .min(Duration::from_secs(1));
            let ready = self.poll(written < bytes.len(), wait)?;
            if self.cancel.is_cancelled() {
                return Err(self.fail(Error::Interrupted));
            }
            for k in ready {
                let (replies, eof, bad) = self.read_worker(k)?;
                if !replies.is_empty() {
                    last_progress = Instant::now();
                }
                for r in replies {
                    let pid = self.workers[k].pid;
                    match r {
                        Reply::Took { index }
                            if self.workers[k].current.is_none()
                                && (index as usize) < jobs.len()
                                && !taken[index as usize] =>
                        {
                            let i = index as usize;
                            taken[i] = true;
                            self.workers[k].current = Some((i, Instant::now()));
                            on_start(Started {
                                job: i,
                                worker: k,
                                pid,
                            });
                        }
                        Reply::Done { index, value }
                            if self.workers[k].current.map(|c| c.0 as u64) == Some(index) =>
                        {
                            let (i, since) = self.workers[k].current.take().unwrap_or((0, t0));
                            results[i] = Some(Outcome {
                                value,
                                worker: k,
                                pid,
                                started_ns: u64::try_from(since.duration_since(t0).as_nanos())
                                    .unwrap_or(u64::MAX),
                                finished_ns: elapsed_ns(t0),
                            });
                            remaining -= 1;
                        }
                        other => {
                            let detail =
                                format!("sent {other:?}, which does not follow its last message");
                            return Err(self.protocol_error(k, detail));
                        }
                    }
                }
                if let Some(detail) = bad {
                    return Err(self.protocol_error(k, detail));
                }
                if eof {
                    return Err(self.died(k));
                }
            }
        }
        Ok(results.into_iter().flatten().collect())
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        self.shutdown(EXIT_GRACE);
    }
}
