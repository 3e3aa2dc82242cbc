//! The sampling protocol of `gate --ab`: a poolscale binary in its hidden [`SAMPLE_ARG`] mode is
//! one *side* of an A/B comparison. The driver starts two sides (the target branch's build and
//! the change's), asks each to prepare the same benchmark, then alternates `sample` requests
//! between them; every number it judges comes from [`crate::measure::Prepared::sample`] inside
//! that side's own build.
//!
//! Wire format, version [`PROTOCOL_VERSION`]: one JSON object per line, UTF-8.
//!
//! ```text
//! side → driver, once, at start:  {"reply":"hello","protocol":"poolscale-sample","version":1,"tool_version":"0.1.0"}
//! driver → side:                  {"op":"start","id":"countdown_weak/threads/2","workloads":{"count":…,"nap_ns":…,"tasks":…,"dispatch_tasks":…}}
//!                         reply:  {"reply":"started"} | {"reply":"unknown","message":…} | {"reply":"error","message":…}
//! driver → side:                  {"op":"sample","iters":3}
//!                         reply:  {"reply":"sample","ns":123456789} | {"reply":"error","message":…}
//! driver → side:                  {"op":"stop"}            reply: {"reply":"stopped"}
//! driver → side:                  {"op":"calibrate","count":5000000}
//!                         reply:  {"reply":"calibration","ns":1500000,"placement":"Pinned"}
//! end of input: the side stops its pool, reaps its workers and exits 0.
//! ```
//!
//! `calibrate` is the instrument check ([`crate::measure::instrument`]): the side times one countdown of
//! `count` decrements in its own process and says how long it took and where its loop lies. A
//! side older than the check answers it with an error, and the driver reports it as not measured.
//!
//! `unknown` means the side's build does not have that benchmark (a strategy added since): the
//! row is reported as new or missing, not as an error. A new field in a message must have a
//! default; anything else that changes the meaning of a message bumps the version, and a driver
//! refuses a side of another version with a message saying what to rebuild.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ChildStdin;

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::group::BenchId;
use crate::group::Workloads;
use crate::measure::{Arm, Prepared};
use crate::platform::child::Process;
use crate::strategy::Options;
use crate::strategy::processes::describe_exit;

/// The hidden subcommand that turns `poolscale` into a sampling side.
pub const SAMPLE_ARG: &str = "__sample";
/// The protocol's name, in the hello.
pub const PROTOCOL_NAME: &str = "poolscale-sample";
/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// How long a side has to say hello.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a side may take to start a benchmark's pool.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// A sample of a week or more is impossible (the gate's budget is minutes).
const MAX_SAMPLE_NS: u64 = 7 * 86_400 * 1_000_000_000;
/// Lines a side may have written ahead of the driver's reading (one request has one reply).
const LINES_AHEAD: usize = 4;
/// Most strategies a side may announce (the built-ins are six).
pub const MAX_STRATEGIES: usize = 64;

/// A request from the driver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Prepare a benchmark (stopping the previous one): build its jobs, start its pool.
    Start {
        /// The bench id, `group/strategy/workers`.
        id: String,
        /// The knobs of its jobs.
        workloads: Workloads,
    },
    /// Time `iters` iterations of the prepared benchmark.
    Sample {
        /// Iterations (at least 1).
        iters: u64,
    },
    /// Stop the prepared benchmark's pool.
    Stop,
    /// Time one countdown of `count` decrements in the side's own process (the instrument
    /// check).
    Calibrate {
        /// Decrements (at most [`crate::limits::MAX_COUNT`]).
        count: u64,
    },
}

/// A side's message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// The first line a side writes.
    Hello {
        /// Always [`PROTOCOL_NAME`].
        protocol: String,
        /// The protocol version it speaks.
        version: u32,
        /// The poolscale version it was built from.
        tool_version: String,
        /// The strategies it can measure, with their facts (absent from poolscale 0.2's sides:
        /// the six built-ins).
        #[serde(default, with = "crate::strategy::with_facts")]
        strategies: Vec<crate::strategy::StrategyName>,
    },
    /// The benchmark is ready.
    Started,
    /// This build has no such benchmark.
    Unknown {
        /// Why (e.g. the strategy's name is not known to this build).
        message: String,
    },
    /// One sample: total wall time of the iterations, ns.
    Sample {
        /// Nanoseconds.
        ns: u64,
    },
    /// The pool was stopped.
    Stopped,
    /// One countdown timed in the side's process.
    Calibration {
        /// Nanoseconds it took.
        ns: u64,
        /// The side's countdown loop placement.
        placement: crate::workload::Placement,
    },
    /// The request failed (wrong results, a worker died, ...).
    Error {
        /// The error, naming what failed.
        message: String,
    },
}

/// The side's loop (what `poolscale __sample` runs): answers requests on stdin/stdout until end of
/// input, measuring the strategies of `suite` (a binary of yours serves its own through
/// `poolscale::bench::serve` or `poolscale::main_with`). Returns the exit code.
pub fn serve(suite: &crate::strategy::Strategies) -> i32 {
    if let Err(code) = crate::platform::child::exit_with_parent("sampling side") {
        return code;
    }
    crate::platform::sys::ignore_interrupts();
    let options = match std::env::current_exe() {
        Ok(exe) => Options {
            worker_program: Some(exe),
            ..Options::default()
        },
        Err(e) => {
            eprintln!("poolscale sampling side: cannot locate its own executable: {e}");
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut say = |r: &Reply| -> bool {
        serde_json::to_writer(&mut out, r).is_ok()
            && out.write_all(b"\n").is_ok()
            && out.flush().is_ok()
    };
    if !say(&Reply::Hello {
        protocol: PROTOCOL_NAME.into(),
        version: PROTOCOL_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        strategies: suite.names(),
    }) {
        return 1;
    }
    let mut prepared: Option<Prepared> = None;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { return 2 };
        let reply = match serde_json::from_str::<Request>(&line) {
            Err(e) => Reply::Error {
                message: format!("malformed request `{line}`: {e}"),
            },
            Ok(Request::Start { id, workloads }) => {
                prepared = None;
                match id.parse::<BenchId>() {
                    Err(e) => Reply::Unknown {
                        message: e.to_string(),
                    },
                    Ok(id) => match workloads
                        .validate()
                        .and_then(|w| Prepared::start_in(suite, id, &w, &options))
                    {
                        Ok(p) => {
                            prepared = Some(p);
                            Reply::Started
                        }
                        Err(e) => Reply::Error {
                            message: format!("cannot start {id}: {e}"),
                        },
                    },
                }
            }
            Ok(Request::Sample { iters }) => match prepared.as_mut() {
                None => Reply::Error {
                    message: "sample before start".into(),
                },
                Some(p) => match p.sample(iters.clamp(1, 1_000_000)) {
                    Ok(d) => Reply::Sample {
                        ns: u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
                    },
                    Err(e) => Reply::Error {
                        message: e.to_string(),
                    },
                },
            },
            Ok(Request::Stop) => {
                prepared = None;
                Reply::Stopped
            }
            Ok(Request::Calibrate { count }) => {
                let count = count.min(crate::limits::MAX_COUNT);
                let t = Instant::now();
                std::hint::black_box(crate::workload::countdown(std::hint::black_box(count)));
                Reply::Calibration {
                    ns: u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX),
                    placement: crate::workload::placement(),
                }
            }
        };
        if !say(&reply) {
            return 1;
        }
    }
    0
}

/// What the reader thread passes on: a line, or the end of the side's output.
enum Line {
    Text(String),
    End,
}

/// One running side, seen from the driver.
pub struct Side {
    name: &'static str,
    program: PathBuf,
    child: Process,
    pid: u32,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    /// The last request's duration: the next timeout scales with it.
    last: Duration,
    /// The strategies it announced.
    strategies: Vec<crate::strategy::StrategyName>,
    _interrupt: crate::platform::interrupt::PoolGuard,
}

impl Side {
    /// Starts `program __sample` as side `name` (`old` or `new`) and checks its hello.
    pub fn start(name: &'static str, program: &Path) -> Result<Side> {
        let fail = |pid: Option<u32>, detail: String| Error::Side {
            side: name,
            program: program.to_path_buf(),
            pid,
            detail,
        };
        use std::os::unix::process::CommandExt;
        // Its own process group: helpers a side starts die with it (see `Drop`).
        let (mut child, pid, stdin, stdout) =
            crate::platform::child::spawn(program, SAMPLE_ARG, None, true, |c| {
                c.process_group(0);
            })
            .and_then(crate::platform::child::Spawned::piped)
            .map_err(|e| fail(None, format!("cannot be started: {e}")))?;
        // Bounded: at most LINES_AHEAD lines of at most 1 MiB wait; a side that floods its output
        // blocks on its pipe (and is killed as soon as a line breaks the protocol) instead of
        // growing the driver.
        let (tx, lines) = std::sync::mpsc::sync_channel(LINES_AHEAD);
        let reader = crate::platform::child::thread("side-reader", move || {
            // Bounded lines: a side that is not poolscale may write anything.
            let mut reader = BufReader::new(stdout);
            loop {
                let mut buf = Vec::new();
                let n = std::io::Read::take(&mut reader, 1 << 20).read_until(b'\n', &mut buf);
                match n {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Line::End);
                        return;
                    }
                    Ok(_) => {
                        if tx
                            .send(Line::Text(String::from_utf8_lossy(&buf).into_owned()))
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        if let Err(e) = reader {
            // The side cannot be read: end it (and its group) before saying so.
            if let Ok(pgid) = i32::try_from(pid) {
                crate::platform::sys::kill_group(pgid);
            }
            child.stop(Duration::ZERO);
            return Err(fail(Some(pid), e.to_string()));
        }
        let mut side = Side {
            name,
            program: program.to_path_buf(),
            child,
            pid,
            stdin: Some(stdin),
            lines,
            last: Duration::ZERO,
            strategies: Vec::new(),
            _interrupt: crate::platform::interrupt::PoolGuard::new(),
        };
        let not_ours = "it is not a poolscale binary with the sampling mode (poolscale 0.2 or later); \
             give --ab the path to a `poolscale` built from the target branch (cargo build --release)";
        match side.read(HELLO_TIMEOUT, "hello") {
            Ok(Reply::Hello {
                protocol,
                version,
                strategies,
                ..
            }) if protocol == PROTOCOL_NAME => {
                if strategies.len() > MAX_STRATEGIES {
                    side.kill();
                    return Err(side.error(format!(
                        "announced {} strategies, more than the {MAX_STRATEGIES} a side may measure",
                        strategies.len()
                    )));
                }
                side.strategies = if strategies.is_empty() {
                    crate::strategy::Strategies::builtin().names()
                } else {
                    strategies
                };
                if version != PROTOCOL_VERSION {
                    return Err(side.error(format!(
                        "speaks sampling protocol version {version}, this poolscale speaks version {PROTOCOL_VERSION}; \
                         build both sides from poolscale versions with the same protocol"
                    )));
                }
            }
            Ok(other) => {
                return Err(side.error(format!("said {other:?} instead of hello: {not_ours}")));
            }
            Err(Error::Side { detail, .. }) => {
                return Err(side.error(format!("{detail}: {not_ours}")));
            }
            Err(e) => return Err(e),
        }
        Ok(side)
    }

    /// The strategies the side can measure, with their facts.
    pub fn strategies(&self) -> &[crate::strategy::StrategyName] {
        &self.strategies
    }

    /// Kills the side's whole process group (its helpers too) and reaps the side.
    fn kill(&mut self) {
        if let Ok(pgid) = i32::try_from(self.pid) {
            crate::platform::sys::kill_group(pgid);
        }
        self.child.stop(Duration::ZERO);
    }

    fn error(&self, detail: String) -> Error {
        Error::Side {
            side: self.name,
            program: self.program.clone(),
            pid: Some(self.pid),
            detail,
        }
    }

    /// Reads the next message within `timeout`; `what` names the request in errors.
    fn read(&mut self, timeout: Duration, what: &str) -> Result<Reply> {
        // Wake every 100 ms so that Ctrl-C stops a long sample promptly.
        let deadline = Instant::now() + timeout;
        let received = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Err(RecvTimeoutError::Timeout) if !left.is_zero() => {
                    crate::platform::interrupt::check()?;
                    // A side that has exited answers nothing more, even while a process it left
                    // behind holds its output open: say so now, not at the deadline.
                    if let Ok(Some(status)) = self.child.try_wait() {
                        match self.lines.try_recv() {
                            Ok(line) => break Ok(line),
                            Err(_) => {
                                self.kill();
                                return Err(
                                    self.error(format!("{} during {what}", describe_exit(status)))
                                );
                            }
                        }
                    }
                }
                other => break other,
            }
        };
        let line = match received {
            Ok(Line::Text(t)) => t,
            Ok(Line::End) | Err(RecvTimeoutError::Disconnected) => {
                crate::platform::interrupt::check()?;
                // Give the exiting side a moment to be reaped, for its status.
                let status = (0..50).find_map(|_| match self.child.try_wait() {
                    Ok(Some(s)) => Some(describe_exit(s)),
                    Ok(None) => {
                        std::thread::sleep(Duration::from_millis(10));
                        None
                    }
                    Err(_) => Some("ended".into()),
                });
                let how = status.unwrap_or_else(|| "closed its output".into());
                return Err(self.error(format!("{how} during {what}")));
            }
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                return Err(self.error(format!(
                    "did not answer {what} within {}; it was killed",
                    humantime::format_duration(timeout)
                )));
            }
        };
        serde_json::from_str(line.trim_end()).map_err(|e| {
            // It broke the protocol: stop listening and end it now.
            self.kill();
            let shown: String = line.trim_end().chars().take(120).collect();
            self.error(format!(
                "answered {what} with `{shown}`, not a protocol message ({e}); it was killed"
            ))
        })
    }

    /// Sends one request and reads its reply within `timeout`.
    pub fn request(&mut self, req: &Request, timeout: Duration, what: &str) -> Result<Reply> {
        crate::platform::interrupt::check()?;
        let mut line = serde_json::to_vec(req)
            .map_err(|e| self.error(format!("cannot encode {what}: {e}")))?;
        line.push(b'\n');
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(&line).and_then(|()| stdin.flush()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        if sent.is_err() {
            // The side is gone: its output's end says how.
            return self.read(Duration::from_secs(1), what);
        }
        let t = Instant::now();
        let reply = self.read(timeout, what)?;
        self.last = t.elapsed();
        Ok(reply)
    }

    /// Prepares benchmark `id`. `Ok(false)`: this side's build does not have it.
    pub fn start_bench(&mut self, id: BenchId, workloads: &Workloads) -> Result<bool> {
        let what = format!("start of {id}");
        let req = Request::Start {
            id: id.to_string(),
            workloads: *workloads,
        };
        match self.request(&req, START_TIMEOUT, &what)? {
            Reply::Started => Ok(true),
            Reply::Unknown { .. } => Ok(false),
            Reply::Error { message } => Err(self.error(format!("failed the {what}: {message}"))),
            other => Err(self.error(format!("answered the {what} with {other:?}"))),
        }
    }

    /// The side's program.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Has the side time one countdown of `count` decrements in its own process; `Ok(None)` when
    /// its build predates the instrument check (it answers anything but a calibration).
    pub fn calibrate(&mut self, count: u64) -> Result<Option<(u64, crate::workload::Placement)>> {
        let timeout = crate::measure::probe::answer_timeout(count);
        match self.request(&Request::Calibrate { count }, timeout, "calibration")? {
            Reply::Calibration { ns, placement } if ns > 0 => Ok(Some((ns, placement))),
            Reply::Calibration { ns, .. } => Err(self.error(format!(
                "answered a calibration of {count} decrements with {ns} ns, an impossible time"
            ))),
            // An older build answers the unknown request with an error (or, a side of another
            // make, with anything else): not measured, and the comparison goes on.
            _ => Ok(None),
        }
    }

    /// Stops the prepared benchmark.
    pub fn stop_bench(&mut self) -> Result<()> {
        match self.request(&Request::Stop, START_TIMEOUT, "stop")? {
            Reply::Stopped => Ok(()),
            other => Err(self.error(format!("answered stop with {other:?}"))),
        }
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        // End of input: the side stops its pool, reaps its workers and exits; it is killed if
        // it does not within a grace period. Anything it started and left in its process group
        // goes with it.
        self.stdin = None;
        self.child.stop(Duration::from_secs(2));
        if let Ok(pgid) = i32::try_from(self.pid) {
            crate::platform::sys::kill_group(pgid);
        }
    }
}

/// One side's prepared benchmark as an [`Arm`] for the interleaving driver.
///
/// Every `restart_every` samples it has the side start the benchmark afresh (a new pool, outside
/// any timed region). A pool that lives for the whole comparison keeps its threads and processes
/// where the scheduler first put them; on a machine whose cores differ in speed (a noisy
/// neighbour on one of them) that placement is a difference between the sides that alternation
/// cannot cancel. Restarting re-draws it every few pairs, turning a bias into noise the interval
/// accounts for.
pub struct RemoteArm<'a> {
    /// The side.
    pub side: &'a mut Side,
    /// The benchmark it has prepared.
    pub id: BenchId,
    /// The benchmark's knobs (for restarts).
    pub workloads: Workloads,
    /// Restart the benchmark after this many samples (0: never).
    pub restart_every: u64,
    /// Samples taken since the last start.
    pub taken: u64,
}

/// A side as a binary of the instrument check.
pub struct RemoteBurst<'a>(pub &'a mut Side);

impl crate::measure::instrument::Burst for RemoteBurst<'_> {
    fn burst(&mut self, n: u64) -> Result<(u64, crate::workload::Placement)> {
        self.0.calibrate(n)?.ok_or_else(|| {
            self.0
                .error("does not know the instrument check (a build before poolscale 0.4)".into())
        })
    }
}

impl Arm for RemoteArm<'_> {
    fn label(&self) -> String {
        format!("{} {}", self.side.name, self.id)
    }

    fn sample(&mut self, iters: u64) -> Result<Duration> {
        if self.restart_every > 0 && self.taken >= self.restart_every {
            if !self.side.start_bench(self.id, &self.workloads)? {
                return Err(self.side.error(format!("no longer knows {}", self.id)));
            }
            self.taken = 0;
        }
        self.taken += 1;
        let what = format!("a sample of {}", self.id);
        // Generous: a minute plus ten times the last answer.
        let timeout = Duration::from_secs(60) + self.side.last * 10;
        match self
            .side
            .request(&Request::Sample { iters }, timeout, &what)?
        {
            Reply::Sample { ns } if ns > 0 && ns < MAX_SAMPLE_NS => Ok(Duration::from_nanos(ns)),
            Reply::Sample { ns } => Err(self.side.error(format!(
                "answered {what} with {ns} ns, an impossible time for {iters} iterations"
            ))),
            Reply::Error { message } => Err(self.side.error(format!("failed {what}: {message}"))),
            other => Err(self.side.error(format!("answered {what} with {other:?}"))),
        }
    }
}
