//! The six ways of running a list of jobs, behind one trait ([`Strategy`]) and one enum
//! ([`StrategyKind`]). The CLI, the benches and the reports iterate [`StrategyKind::ALL`] and ask
//! a strategy for its facts ([`StrategyInfo`]), so adding a built-in is one new module, one enum
//! variant and one row of the checked table `BUILTINS` (name, facts, how to start it); a
//! strategy of your own is one [`Strategies::with`] call.
//!
//! Contract (checked by `tests/equivalence.rs`): every strategy, at every worker count, returns the
//! results of `sequential`, in input order, and records which worker ran each job.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits;
use crate::workload::Job;
use gil::DEFAULT_SWITCH_INTERVAL;

pub use name::StrategyName;
pub(crate) use name::with_facts;
pub use processes::StartMethod;
pub use registry::{Entry, Strategies};

mod crossbeam;
pub(crate) mod gil;
pub(crate) mod name;
pub(crate) mod processes;
mod rayon;
mod registry;
mod sequential;
mod threads;

/// What one job produced, and where and when it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The job's result.
    pub value: u64,
    /// Index of the worker that ran it (0-based, below the pool's worker count).
    pub worker: usize,
    /// Process id that ran it: the worker's for `processes`, this process's otherwise.
    pub pid: u32,
    /// When the job started, in nanoseconds since the map began.
    pub started_ns: u64,
    /// When the job finished, in nanoseconds since the map began.
    pub finished_ns: u64,
}

/// A job starting, reported to a map's observer as it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    /// Index of the job in the map's input.
    pub job: usize,
    /// Worker that took it.
    pub worker: usize,
    /// Process id of that worker.
    pub pid: u32,
}

/// An interval during which one worker held a lock that serialises computing (the `gil`'s
/// interpreter lock), in nanoseconds since the map began: what a timeline draws inside a job's bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The worker holding the lock.
    pub worker: usize,
    /// When it took the lock.
    pub from_ns: u64,
    /// When it let go.
    pub to_ns: u64,
}

/// Called once per job as it starts (from any thread).
pub type Observer<'a> = &'a (dyn Fn(Started) + Sync);

/// A way of running jobs with a fixed number of workers. A value is a started pool: build it with
/// [`StrategyKind::start`] outside any timed region, then call [`Strategy::map`] as often as needed.
pub trait Strategy: Send {
    /// The strategy's stable lowercase name, the middle part of its bench ids (`threads`); a
    /// strategy defined outside this crate names itself here.
    fn name(&self) -> &str;

    /// The pool's worker count.
    fn workers(&self) -> usize;

    /// Runs every job and returns their outcomes in input order, telling `on_start` as each job
    /// starts.
    fn map_observed(&mut self, jobs: &[Job], on_start: Observer<'_>) -> Result<Vec<Outcome>>;

    /// Runs every job and returns their outcomes in input order.
    fn map(&mut self, jobs: &[Job]) -> Result<Vec<Outcome>> {
        self.map_observed(jobs, &|_| {})
    }

    /// The benchmarks' path: like [`Strategy::map`], but nothing beyond each job's value and
    /// worker is recorded (`started_ns` and `finished_ns` are 0, no clock is read and nobody is
    /// told as a job starts), so the time measured is the strategy's own. Default: [`Strategy::map`].
    fn map_untimed(&mut self, jobs: &[Job]) -> Result<Vec<Outcome>> {
        self.map(jobs)
    }

    /// Like [`Strategy::map`], also returning when each worker held a lock that serialises its
    /// computing (for timelines). Recording costs a clock read per hand-off, so only timelines
    /// ask. Default: no such lock, no holds.
    fn map_traced(&mut self, jobs: &[Job]) -> Result<(Vec<Outcome>, Vec<Hold>)> {
        Ok((self.map(jobs)?, Vec::new()))
    }

    /// The pids of the pool's live worker processes, whose CPU time counts as the pool's
    /// (see `crate::measure::cpu`). Default: none, the workers are threads of this process.
    fn worker_pids(&self) -> Vec<u32> {
        Vec::new()
    }
}

/// What the rest of poolscale may ask about a strategy: charts, models, the seed and the gate ask
/// these facts rather than matching on a strategy's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyInfo {
    /// Runs its jobs in parallel at all (`sequential` does not).
    pub parallel: bool,
    /// Computes on several cores at once (`gil` serialises computing).
    pub computes_in_parallel: bool,
    /// Its workers are child processes.
    pub child_processes: bool,
    /// Its workers are time-sliced by the OS (threads, processes): `w` equal jobs on `c < w` cores
    /// can all finish in `w·t1/c`. `false`: queue-of-jobs semantics, a worker runs a job to the end
    /// before the next gets its core (a cooperative executor), so they take `ceil(w/c)` rounds.
    pub preemptive: bool,
    /// Chart colour, RGB.
    pub colour: (u8, u8, u8),
}

/// The strategies, with stable lowercase names used in bench ids, the CLI and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrategyKind {
    /// One job after another on the calling thread: the baseline.
    Sequential,
    /// `w` scoped std threads pulling the next job from a shared counter.
    Threads,
    /// A dedicated rayon pool of exactly `w` threads, one task per job.
    Rayon,
    /// `w` scoped threads fed by a crossbeam MPMC channel.
    Crossbeam,
    /// A persistent pool of `w` child processes fed over pipes (`multiprocessing.Pool`).
    Processes,
    /// `w` threads sharing one emulated CPython interpreter lock.
    Gil,
}

/// One built-in strategy's row of [`BUILTINS`]: its name, its facts and how to start it.
struct Builtin {
    kind: StrategyKind,
    name: &'static str,
    info: StrategyInfo,
    start: fn(usize, &Options) -> Result<Box<dyn Strategy>>,
}

/// The facts of a built-in: preemptive (OS threads and processes are time-sliced).
const fn facts(
    parallel: bool,
    computes: bool,
    children: bool,
    colour: (u8, u8, u8),
) -> StrategyInfo {
    StrategyInfo {
        parallel,
        computes_in_parallel: computes,
        child_processes: children,
        preemptive: true,
        colour,
    }
}

/// Every built-in, baseline first: adding one is a variant of [`StrategyKind`], its module and a
/// row here.
const BUILTINS: [Builtin; 6] = [
    Builtin {
        kind: StrategyKind::Sequential,
        name: "sequential",
        info: facts(false, false, false, (90, 90, 90)),
        start: |w, _| Ok(Box::new(sequential::Sequential::new(w))),
    },
    Builtin {
        kind: StrategyKind::Threads,
        name: "threads",
        info: facts(true, true, false, (31, 119, 180)),
        start: |w, _| Ok(Box::new(threads::Threads::new(w))),
    },
    Builtin {
        kind: StrategyKind::Rayon,
        name: "rayon",
        info: facts(true, true, false, (255, 127, 14)),
        start: |w, _| Ok(Box::new(rayon::Rayon::new(w)?)),
    },
    Builtin {
        kind: StrategyKind::Crossbeam,
        name: "crossbeam",
        info: facts(true, true, false, (44, 160, 44)),
        start: |w, _| Ok(Box::new(crossbeam::Crossbeam::new(w))),
    },
    Builtin {
        kind: StrategyKind::Processes,
        name: "processes",
        info: facts(true, true, true, (148, 103, 189)),
        start: |w, options| Ok(Box::new(processes::ProcessPool::start(w, options)?)),
    },
    Builtin {
        kind: StrategyKind::Gil,
        name: "gil",
        info: facts(true, false, false, (214, 39, 40)),
        start: |w, options| Ok(Box::new(gil::GilThreads::new(w, options.switch_interval))),
    },
];

// The table is in `StrategyKind` order and names every variant once, so a variant finds its row
// by its index; checked when compiling.
const _: () = {
    let mut i = 0;
    while i < BUILTINS.len() {
        assert!(BUILTINS[i].kind as usize == i);
        i += 1;
    }
};

impl StrategyKind {
    /// Every strategy, baseline first.
    pub const ALL: [StrategyKind; BUILTINS.len()] = {
        let mut all = [StrategyKind::Sequential; BUILTINS.len()];
        let mut i = 0;
        while i < BUILTINS.len() {
            all[i] = BUILTINS[i].kind;
            i += 1;
        }
        all
    };

    fn row(self) -> &'static Builtin {
        &BUILTINS[self as usize]
    }

    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        self.row().name
    }

    /// The strategy named `name` (its [`StrategyKind::as_str`]); an error lists the names.
    pub fn from_name(name: &str) -> Result<StrategyKind> {
        name.parse()
    }

    /// The strategy's facts.
    pub fn info(self) -> &'static StrategyInfo {
        &self.row().info
    }

    /// Whether the strategy runs its jobs in parallel at all (all but `sequential`).
    pub fn is_parallel(self) -> bool {
        self.info().parallel
    }

    /// Whether the strategy computes on several cores at once (not `sequential`, not `gil`).
    pub fn computes_in_parallel(self) -> bool {
        self.info().computes_in_parallel
    }

    /// Whether its workers are child processes (their pids differ from this process's).
    pub fn runs_in_child_processes(self) -> bool {
        self.info().child_processes
    }

    /// Its colour in every chart, as RGB.
    pub fn colour(self) -> (u8, u8, u8) {
        self.info().colour
    }

    /// Starts a pool of `workers` workers (threads, a rayon pool, child processes...).
    pub fn start(self, workers: usize, options: &Options) -> Result<Box<dyn Strategy>> {
        let w = limits::workers(workers)?;
        (self.row().start)(w, options)
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StrategyKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        StrategyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.as_str()).collect();
                Error::invalid(
                    "strategy",
                    s,
                    format!("expected one of {}", names.join(", ")),
                )
            })
    }
}

/// Settings for starting a pool. The defaults suit every strategy.
#[derive(Clone, Debug)]
pub struct Options {
    /// The `gil` strategy's switch interval (CPython's default: 5 ms).
    pub switch_interval: Duration,
    /// The program that `processes` runs as a worker (`poolscale __worker`). `None`: find the
    /// `poolscale` binary (see `processes::default_worker_program`).
    pub worker_program: Option<PathBuf>,
    /// `processes`: a worker that holds one job (or leaves one unannounced) longer than this is
    /// killed and the map fails (`None`: a generous timeout derived from each job, see
    /// [`crate::Job::default_timeout`]).
    pub job_timeout: Option<Duration>,
    /// `processes`: how many jobs a worker takes from the shared pipe at once (`multiprocessing`'s
    /// `chunksize`). `None`: about four chunks per worker per map, at most one `PIPE_BUF` of
    /// records (see `processes::protocol::chunk_size`).
    pub chunk: Option<usize>,
    /// `processes`: extra environment for the workers (used by the fault-injection tests).
    pub worker_env: Vec<(String, String)>,
    /// `processes`: how workers start: forked from a fork server (the default; the server starts
    /// once per program and process) or each by `exec` (see [`processes::StartMethod`]).
    pub start: processes::StartMethod,
    /// Stops a running map (default: this process's Ctrl-C flag).
    pub cancel: crate::platform::interrupt::Cancel,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            switch_interval: DEFAULT_SWITCH_INTERVAL,
            worker_program: None,
            job_timeout: None,
            chunk: None,
            worker_env: Vec::new(),
            start: processes::StartMethod::default(),
            cancel: crate::platform::interrupt::Cancel::default(),
        }
    }
}

/// Checks outcomes against the jobs' expected results: same length, same values in input order,
/// worker indices below `workers`. Returns a message naming the first mismatch.
pub fn verify(
    jobs: &[Job],
    outcomes: &[Outcome],
    workers: usize,
) -> std::result::Result<(), String> {
    if jobs.len() != outcomes.len() {
        return Err(format!(
            "expected {} results, got {}",
            jobs.len(),
            outcomes.len()
        ));
    }
    for (i, (job, out)) in jobs.iter().zip(outcomes).enumerate() {
        if out.value != job.expected() {
            return Err(format!(
                "job {i} ({job:?}) returned {}, expected {}",
                out.value,
                job.expected()
            ));
        }
        if out.worker >= workers {
            return Err(format!(
                "job {i} claims worker {}, but the pool has {workers}",
                out.worker
            ));
        }
    }
    Ok(())
}

/// Runs job `index` on the current thread of an in-process strategy: timed against `t0` and
/// announced to `on_start` when there is an observer, bare (no clock read) when there is none.
#[inline]
pub(crate) fn run_here(
    job: &Job,
    index: usize,
    worker: usize,
    t0: Instant,
    on_start: Option<Observer<'_>>,
) -> Outcome {
    let pid = this_pid();
    let Some(on_start) = on_start else {
        return Outcome {
            value: job.run(),
            worker,
            pid,
            started_ns: 0,
            finished_ns: 0,
        };
    };
    let started = elapsed_ns(t0);
    on_start(Started {
        job: index,
        worker,
        pid,
    });
    let value = job.run();
    Outcome {
        value,
        worker,
        pid,
        started_ns: started,
        finished_ns: elapsed_ns(t0),
    }
}

/// This process's id, read once (`getpid` is a system call).
pub(crate) fn this_pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// Nanoseconds since `t0`, saturating.
/// A strategy that maps in this process: its kind, its worker count and one map, `on_start`
/// timing and announcing each job when given (see [`run_here`]). Its [`Strategy`] follows.
pub(crate) trait InProcess: Send {
    /// Which built-in it is.
    const KIND: StrategyKind;
    /// Its worker count.
    fn worker_count(&self) -> usize;
    /// One map.
    fn run(&mut self, jobs: &[Job], on_start: Option<Observer<'_>>) -> Result<Vec<Outcome>>;
}

impl<T: InProcess> Strategy for T {
    fn name(&self) -> &str {
        T::KIND.as_str()
    }

    fn workers(&self) -> usize {
        self.worker_count()
    }

    fn map_observed(&mut self, jobs: &[Job], on_start: Observer<'_>) -> Result<Vec<Outcome>> {
        self.run(jobs, Some(on_start))
    }

    fn map_untimed(&mut self, jobs: &[Job]) -> Result<Vec<Outcome>> {
        self.run(jobs, None)
    }
}

pub(crate) fn elapsed_ns(t0: Instant) -> u64 {
    u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Runs `jobs` on `workers` scoped threads that pull the next index from one shared counter;
/// `run(worker, index)` runs one job. Returns the outcomes in input order.
pub(crate) fn scoped_pull<F>(
    workers: usize,
    jobs: usize,
    strategy: &'static str,
    run: F,
) -> Result<Vec<Outcome>>
where
    F: Fn(usize, usize) -> Outcome + Sync,
{
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parts = std::thread::scope(|s| {
        let handles = spawn_workers(s, workers, strategy, |worker| {
            let (next, run) = (&next, &run);
            move || {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= jobs {
                        break;
                    }
                    mine.push((i, run(worker, i)));
                }
                mine
            }
        })?;
        join_all(handles, strategy)
    })?;
    in_order(jobs, parts.into_iter().flatten(), strategy)
}

/// Spawns `workers` named scoped threads, `make(worker)` giving each its body. A thread the OS
/// refuses is an [`Error::ThreadSpawn`] naming the strategy and worker, not a panic (the threads
/// already started finish and are joined when the scope ends).
pub(crate) fn spawn_workers<'scope, 'env, T, F>(
    s: &'scope std::thread::Scope<'scope, 'env>,
    workers: usize,
    strategy: &'static str,
    mut make: impl FnMut(usize) -> F,
) -> Result<Vec<std::thread::ScopedJoinHandle<'scope, T>>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    (0..workers)
        .map(|worker| {
            std::thread::Builder::new()
                .name(format!("{strategy}-{worker}"))
                .spawn_scoped(s, make(worker))
                .map_err(|source| Error::ThreadSpawn {
                    strategy,
                    worker,
                    source,
                })
        })
        .collect()
}

/// Joins scoped worker threads, turning a panic into [`Error::ThreadPanicked`] naming the worker.
pub(crate) fn join_all<T>(
    handles: Vec<std::thread::ScopedJoinHandle<'_, T>>,
    strategy: &'static str,
) -> Result<Vec<T>> {
    handles
        .into_iter()
        .enumerate()
        .map(|(worker, h)| {
            h.join().map_err(|_| Error::ThreadPanicked {
                strategy,
                worker,
                job: None,
            })
        })
        .collect()
}

/// Puts `(index, outcome)` pairs gathered by several workers back into input order.
pub(crate) fn in_order(
    n: usize,
    parts: impl IntoIterator<Item = (usize, Outcome)>,
    strategy: &'static str,
) -> Result<Vec<Outcome>> {
    let mut slots: Vec<Option<Outcome>> = vec![None; n];
    for (i, o) in parts {
        slots[i] = Some(o);
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, o)| o.ok_or(Error::LostJob { strategy, job: i }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in StrategyKind::ALL {
            assert_eq!(k.as_str().parse::<StrategyKind>().unwrap(), k);
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        let e = "fibers".parse::<StrategyKind>().unwrap_err().to_string();
        assert!(
            e.contains("fibers") && e.contains("sequential, threads"),
            "{e}"
        );
    }

    #[test]
    fn verify_names_the_first_wrong_result() {
        let jobs = crate::workload::square_jobs(3, Duration::ZERO);
        let mut out: Vec<Outcome> = jobs
            .iter()
            .map(|j| Outcome {
                value: j.expected(),
                worker: 0,
                pid: 1,
                started_ns: 0,
                finished_ns: 0,
            })
            .collect();
        assert!(verify(&jobs, &out, 1).is_ok());
        out[2].value = 5;
        assert!(verify(&jobs, &out, 1).unwrap_err().contains("job 2"));
        out[2].value = 4;
        out[1].worker = 3;
        assert!(verify(&jobs, &out, 2).unwrap_err().contains("worker 3"));
        assert!(
            verify(&jobs[..2], &out, 4)
                .unwrap_err()
                .contains("expected 2 results")
        );
    }
}
