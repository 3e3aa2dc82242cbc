//! The library's one error type. Every variant names what failed: the worker, its pid and exit
//! status, the job, the file.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bench run that cannot measure or record as it must (its countdown loop moved, another
    /// run holds its directory).
    #[error("cannot measure: {0}")]
    CannotMeasure(String),
    /// A user-supplied value is out of range or malformed.
    #[error("invalid {what} `{value}`: {reason}")]
    Invalid {
        /// Which input (e.g. "worker count", "nap").
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused, with the accepted range.
        reason: String,
    },

    /// Another poolscale holds a directory's lock (a report or a bench writing into it).
    #[error("another poolscale is writing into `{}` (waited {}); wait for it or choose another directory", dir.display(), humantime::format_duration(*waited))]
    Busy {
        /// The directory.
        dir: PathBuf,
        /// How long this one waited.
        waited: Duration,
    },

    /// The worker program could not be started.
    #[error("cannot start worker {worker} from `{}`: {source}", program.display())]
    Spawn {
        /// Index of the worker being started.
        worker: usize,
        /// The program that was run.
        program: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// No worker program could be found for the process pool.
    #[error("no worker program: no `poolscale` binary next to `{}`; build it (`cargo build --release`), set POOLSCALE_WORKER, or, in a crate of your own, set Options::worker_program to your binary (in a bench: `env!(\"CARGO_BIN_EXE_<name>\")`)", exe.display())]
    NoWorkerProgram {
        /// The running executable, next to which it was looked for.
        exe: PathBuf,
    },

    /// A CPython run of `seed --python` failed.
    #[error("CPython (`{}`) {detail}", program.display())]
    Python {
        /// The interpreter.
        program: PathBuf,
        /// How it failed: its exit status and stderr, or what it did not print.
        detail: String,
    },

    /// A worker process exited (or was killed) while the pool still needed it.
    #[error("worker {worker} (pid {pid}) {status} {}", doing(*job))]
    WorkerDied {
        /// Index of the worker in the pool.
        worker: usize,
        /// Its process id.
        pid: u32,
        /// How it ended, e.g. "was killed by signal 9 (SIGKILL)" or "exited with status 3".
        status: String,
        /// The index of the job it was running, if any.
        job: Option<usize>,
    },

    /// A worker process sent bytes that do not follow the protocol.
    #[error("worker {worker} (pid {pid}) broke the protocol {}: {detail}", doing(*job))]
    WorkerProtocol {
        /// Index of the worker in the pool.
        worker: usize,
        /// Its process id.
        pid: u32,
        /// The job it was running, if any.
        job: Option<usize>,
        /// What was wrong.
        detail: String,
    },

    /// A worker process held one job longer than the pool's job timeout.
    #[error("worker {worker} (pid {pid}) did not finish job {job} within {}", humantime::format_duration(*timeout))]
    WorkerTimeout {
        /// Index of the worker in the pool.
        worker: usize,
        /// Its process id.
        pid: u32,
        /// The job it was running.
        job: usize,
        /// The timeout it exceeded.
        timeout: Duration,
    },

    /// Job `job` sat in the shared pipe unannounced while workers were idle: one of them read it
    /// and stalled before saying `TOOK`.
    #[error("no worker announced job {job} within {} although {idle} idle: one of them read it and stalled", humantime::format_duration(*timeout))]
    WorkerStalled {
        /// The lowest job no worker announced.
        job: usize,
        /// The timeout it exceeded.
        timeout: Duration,
        /// The idle workers, e.g. "worker 1 (pid 4242) was".
        idle: String,
    },

    /// The pool lost a worker earlier and refuses to run more maps.
    #[error("the process pool is broken (an earlier map failed: {0}); start a new pool")]
    PoolBroken(String),

    /// The user interrupted the run (Ctrl-C); every worker was stopped and reaped.
    #[error("interrupted; all workers were stopped")]
    Interrupted,

    /// A worker thread panicked.
    #[error("{strategy} worker thread {worker} panicked{}", job.map(|j| format!(" while running job {j}")).unwrap_or_default())]
    ThreadPanicked {
        /// The strategy's name.
        strategy: &'static str,
        /// The worker index.
        worker: usize,
        /// The job it was running, if known.
        job: Option<usize>,
    },

    /// A map's results differ from the expected ones: the strategy is broken, not slow.
    #[error("{id} returned wrong results: {detail}")]
    WrongResults {
        /// What was run: a bench id, or a description of the run.
        id: String,
        /// The first mismatch.
        detail: String,
    },

    /// One side of an A/B comparison (a `poolscale __sample` child) failed or misbehaved.
    #[error("side {side} (`{}`{}) {detail}", program.display(), pid.map(|p| format!(", pid {p}")).unwrap_or_default())]
    Side {
        /// `old` or `new`.
        side: &'static str,
        /// The binary.
        program: PathBuf,
        /// Its process id, once started.
        pid: Option<u32>,
        /// What went wrong, naming the request and bench id, with the fix where there is one.
        detail: String,
    },

    /// A capacity-probe process failed.
    #[error("capacity probe {worker} (pid {pid}) {detail}")]
    Probe {
        /// Index of the probe process.
        worker: usize,
        /// Its process id.
        pid: u32,
        /// What went wrong.
        detail: String,
    },

    /// The OS refused to start a worker thread.
    #[error("{strategy} cannot start worker thread {worker}: {source}")]
    ThreadSpawn {
        /// The strategy's name.
        strategy: &'static str,
        /// The worker index.
        worker: usize,
        /// The OS error.
        source: std::io::Error,
    },

    /// A map finished without a result for one of its jobs (a strategy bug).
    #[error("{strategy} lost job {job}: no worker returned its result")]
    LostJob {
        /// The strategy's name.
        strategy: &'static str,
        /// The job's index.
        job: usize,
    },

    /// rayon could not build its thread pool.
    #[error("cannot build a rayon pool of {workers} threads: {source}")]
    RayonPool {
        /// Requested threads.
        workers: usize,
        /// rayon's error.
        source: rayon::ThreadPoolBuildError,
    },

    /// An I/O operation on a file or pipe failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file or worker.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// There are no Criterion results where they were looked for.
    #[error("no Criterion results in `{}`: {reason}", dir.display())]
    NoResults {
        /// The directory searched.
        dir: PathBuf,
        /// What was missing.
        reason: String,
    },

    /// Some results predate the run being read, and `--strict` asked for none.
    #[error("{} benchmarks of `{baseline}` predate its latest run (stale): {}; run the whole suite again (`cargo bench`) or drop --strict", ids.len(), ids.join(", "))]
    Stale {
        /// The baseline read (`new`: the latest run).
        baseline: String,
        /// The stale bench ids (`group/strategy/workers`; the error type depends on no other
        /// module).
        ids: Vec<String>,
    },

    /// A JSON file (Criterion's or poolscale's) could not be parsed.
    #[error("malformed JSON in `{}`: {source}", path.display())]
    MalformedJson {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },

    /// Writing an output would overwrite something the user saved.
    #[error("refusing to overwrite `{}`: {reason}", path.display())]
    WouldOverwrite {
        /// The file that exists.
        path: PathBuf,
        /// Why it is protected and how to proceed.
        reason: String,
    },

    /// Drawing a chart failed.
    #[error("cannot draw chart `{}`: {detail}", path.display())]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// The drawing backend's error.
        detail: String,
    },
}

fn doing(job: Option<usize>) -> String {
    match job {
        Some(j) => format!("while running job {j}"),
        None => "while idle".to_string(),
    }
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(what: &'static str, value: impl ToString, reason: impl ToString) -> Self {
        Error::Invalid {
            what,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(context: impl ToString, source: std::io::Error) -> Self {
        Error::Io {
            context: context.to_string(),
            source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
