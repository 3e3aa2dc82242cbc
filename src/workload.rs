//! The seed's two workloads, as plain data so a job can cross a process boundary.
//!
//! - `countdown` is program 1 of the seed (`docs/seed.md`): `while n > 0: n -= 1`. It is pure CPU work, so it
//!   scales with cores for every strategy except `sequential` and `gil`.
//! - `square_after_sleep` is program 2's `f`: sleep a nap, then return `x * x`. It is pure
//!   latency, so it scales with workers whatever the core count (`gil` included: sleeping releases
//!   the lock).

use std::hint::black_box;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One unit of work handed to a strategy. Plain data: it is encoded into a fixed-size record to
/// reach a worker process (see `crate::strategy::processes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Job {
    /// Count `n` down to zero, one decrement at a time; the result is `n` (decrements done).
    Countdown {
        /// Decrements to perform.
        n: u64,
    },
    /// Sleep `nap_ns` nanoseconds, then return `x * x` (wrapping).
    Square {
        /// The value to square.
        x: u64,
        /// The nap before squaring, in nanoseconds.
        nap_ns: u64,
    },
    /// A workload defined outside poolscale ([`register`]): `run(a, b)`, checked against
    /// `expected(a, b)`. Plain data like the others, so it crosses a process boundary: a worker
    /// binary that registered the same workload runs it (see [`crate::bench::serve`]).
    Custom {
        /// The id it was registered under (0 to [`MAX_CUSTOM_ID`]).
        workload: u16,
        /// First argument.
        a: u64,
        /// Second argument.
        b: u64,
    },
}

/// A workload defined outside poolscale: a job type given by two numbers, how to run it and the
/// result to expect. Functions, not closures, so that every process that registers it under an
/// id (the benches' and its worker binary's) runs the same code.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Its name, for messages.
    pub name: &'static str,
    /// Runs one job.
    pub run: fn(a: u64, b: u64) -> u64,
    /// The result a job must return, computed without doing the work.
    pub expected: fn(a: u64, b: u64) -> u64,
    /// How long a process-pool worker may hold one job (see [`Job::default_timeout`]).
    pub timeout: Duration,
}

/// Highest id a custom workload may have.
pub const MAX_CUSTOM_ID: u16 = 0x7fff;

fn workloads() -> &'static std::sync::RwLock<std::collections::BTreeMap<u16, Workload>> {
    static W: std::sync::OnceLock<std::sync::RwLock<std::collections::BTreeMap<u16, Workload>>> =
        std::sync::OnceLock::new();
    W.get_or_init(Default::default)
}

/// Registers workload `w` under `id` in this process, so that [`Job::Custom`] jobs with that id
/// run here and in a worker process that registered it too. Registering a workload of the same
/// name again replaces it; another name under a taken id, or an id above [`MAX_CUSTOM_ID`], is
/// an error.
pub fn register(id: u16, w: Workload) -> crate::error::Result<()> {
    if id > MAX_CUSTOM_ID {
        return Err(crate::error::Error::invalid(
            "workload id",
            id,
            format!("must be at most {MAX_CUSTOM_ID}"),
        ));
    }
    let mut all = workloads()
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match all.get(&id) {
        Some(old) if old.name != w.name => Err(crate::error::Error::invalid(
            "workload id",
            id,
            format!("already registered for `{}`", old.name),
        )),
        _ => {
            all.insert(id, w);
            Ok(())
        }
    }
}

/// The workload registered under `id` in this process.
pub(crate) fn registered(id: u16) -> Option<Workload> {
    workloads()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&id)
        .copied()
}

/// The workload registered as `name` in this process, with its id; an error lists the names
/// registered.
pub fn registered_by_name(name: &str) -> crate::error::Result<(u16, Workload)> {
    let all = workloads()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((id, w)) = all.iter().find(|(_, w)| w.name == name) {
        return Ok((*id, *w));
    }
    let names: Vec<&str> = all.values().map(|w| w.name).collect();
    Err(crate::error::Error::invalid(
        "workload",
        name,
        if names.is_empty() {
            "this binary's suite registers no workload of its own (`poolscale::workload::register`); \
             give `--task` for countdown tasks"
                .to_string()
        } else {
            format!(
                "not registered here; this suite registers {}",
                names.join(", ")
            )
        },
    ))
}

/// The registered workload of a custom job; a job whose workload this process never registered
/// is a programming error (its outputs could not be checked), so it panics with the id.
fn custom(id: u16) -> Workload {
    registered(id).unwrap_or_else(|| {
        panic!(
            "custom workload {id} is not registered in this process (poolscale::workload::register)"
        )
    })
}

impl Job {
    /// Runs the job on the calling thread and returns its result.
    pub fn run(&self) -> u64 {
        match *self {
            Job::Countdown { n } => countdown(n),
            Job::Square { x, nap_ns } => square_after_sleep(x, Duration::from_nanos(nap_ns)),
            Job::Custom { workload, a, b } => (custom(workload).run)(a, b),
        }
    }

    /// How long a worker may hold this job before the process pool gives up on it, when no
    /// `--job-timeout` is set: 30 s plus ten times its nap, or 20 ns per decrement (~40 times a
    /// countdown's usual pace). Generous on purpose: it exists so that nothing hangs forever.
    pub fn default_timeout(&self) -> Duration {
        let slack = Duration::from_secs(30);
        match *self {
            Job::Countdown { n } => slack + Duration::from_nanos(n.saturating_mul(20)),
            Job::Square { nap_ns, .. } => slack + Duration::from_nanos(nap_ns.saturating_mul(10)),
            Job::Custom { workload, .. } => registered(workload).map_or(slack, |w| w.timeout),
        }
    }

    /// The result [`Job::run`] returns, computed without doing the work: what every strategy's
    /// output is checked against.
    pub fn expected(&self) -> u64 {
        match *self {
            Job::Countdown { n } => n,
            Job::Square { x, .. } => square(x),
            Job::Custom { workload, a, b } => (custom(workload).expected)(a, b),
        }
    }
}

/// Planted slowdowns for `scripts/gate-calibration`, in per mille of extra work: extra
/// decrements in every countdown (CPU-bound) and extra nap in every square (latency-bound). The
/// script edits these two lines in a scratch copy of the source to build a deliberately slower
/// binary, so the gate is calibrated against real code changes, never a runtime knob. Always 0
/// here, where the extra work compiles to nothing; above 0 the extra decrements are a separate
/// countdown compiled in front of the real one, so a plant also changes the size of the code that
/// precedes the loop (what a real change does), not only a constant.
const PLANTED_CPU_PERMILLE: u64 = 0;
const PLANTED_NAP_PERMILLE: u64 = 0;
/// Planted work per square for `scripts/layout-calibration`: extra decrements in every square, a
/// slowdown of the dispatch groups' few nanoseconds per task (the layout-sensitive groups).
const PLANTED_SQUARE_DECREMENTS: u64 = 0;

/// `x` plus `permille`/1000 of it (no overflow within [`crate::limits`]).
const fn planted(x: u64, permille: u64) -> u64 {
    x.saturating_add(x / 1000 * permille)
}

/// Decrements between two calls of the `check` hook in [`countdown_with`] (~0.3-1 µs of work):
/// the `gil` strategy checks its lock's drop request there.
pub(crate) const SLICE: u64 = 1024;

/// Decrements a counter from `n` to zero, `n` real decrements (the loop is machine code the
/// optimiser cannot see through; see [`placement`]). Returns `n`, the number of decrements
/// performed.
pub(crate) fn countdown(n: u64) -> u64 {
    countdown_with(n, || ())
}

/// [`countdown`] calling `check` after every [`SLICE`] decrements. Every strategy runs this same
/// loop, and the loop itself is pinned machine code at the same alignment in every binary
/// ([`placement`]), so their times differ only by how they run it, not by where the linker put
/// it.
#[inline]
pub(crate) fn countdown_with(n: u64, mut check: impl FnMut()) -> u64 {
    if PLANTED_CPU_PERMILLE != 0 {
        planted_countdown(planted(n, PLANTED_CPU_PERMILLE) - n, &mut check);
    }
    let mut left = n;
    while left > 0 {
        countdown_steps(&mut left, SLICE);
        check();
    }
    n
}

/// The planted extra work of a calibration build: `extra` decrements, sliced like the real ones.
#[inline(never)]
fn planted_countdown(extra: u64, check: &mut dyn FnMut()) {
    let mut left = extra;
    while left > 0 {
        countdown_steps(&mut left, SLICE);
        check();
    }
}

/// Performs `steps` decrements of `*left` (at most `*left` of them), in the pinned kernel where
/// there is one ([`crate::platform::sys::countdown_pinned`]), else in a Rust loop whose speed depends on
/// code layout.
#[inline(never)]
pub(crate) fn countdown_steps(left: &mut u64, steps: u64) {
    let todo = steps.min(*left);
    let rest = match crate::platform::sys::countdown_pinned(todo) {
        Some(rest) => rest,
        None => {
            let mut n = todo;
            while n > 0 {
                n = black_box(n) - 1;
            }
            n
        }
    };
    *left -= todo - rest;
}

/// Where the countdown's loop lies in this binary, the invariant that makes its cost the same in
/// every binary: the same machine code with its loop head at the start of a 64-byte line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    /// The pinned kernel's loop was found at a 64-byte boundary.
    Pinned,
    /// There is a kernel for this architecture but its loop is not where it must be.
    Broken,
    /// No pinned kernel for this architecture: the loop is compiled Rust, layout-sensitive.
    Unpinned,
}

impl Placement {
    /// A word for tables and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Pinned => "pinned",
            Placement::Broken => "broken",
            Placement::Unpinned => "unpinned",
        }
    }
}

/// Checks the countdown loop's placement in this binary by reading its machine code.
pub fn placement() -> Placement {
    if crate::platform::sys::countdown_pinned(0).is_none() {
        Placement::Unpinned
    } else if crate::platform::sys::countdown_loop_address()
        .is_some_and(|a| a % crate::platform::sys::COUNTDOWN_LOOP_ALIGN == 0)
    {
        Placement::Pinned
    } else {
        Placement::Broken
    }
}

/// `x * x`, wrapping on overflow so that every `u64` is a valid input.
pub(crate) fn square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

/// Program 2's `f`: sleeps `nap`, then returns `x * x`.
pub(crate) fn square_after_sleep(x: u64, nap: Duration) -> u64 {
    if !nap.is_zero() {
        let ns = u64::try_from(nap.as_nanos()).unwrap_or(u64::MAX);
        std::thread::sleep(Duration::from_nanos(planted(ns, PLANTED_NAP_PERMILLE)));
    }
    if PLANTED_SQUARE_DECREMENTS != 0 {
        countdown(PLANTED_SQUARE_DECREMENTS);
    }
    square(x)
}

/// The jobs of program 1: `workers` jobs of `count` each (weak scaling, the seed's shape), or with
/// `split` one `count` divided as evenly as possible over `workers` jobs (strong scaling).
pub fn countdown_jobs(count: u64, workers: usize, split: bool) -> Vec<Job> {
    let w = workers.max(1) as u64;
    (0..w)
        .map(|i| {
            let n = if split {
                count / w + u64::from(i < count % w)
            } else {
                count
            };
            Job::Countdown { n }
        })
        .collect()
}

/// The jobs of program 2: `Square { x }` for `x` in `0..tasks`, each after `nap`.
pub fn square_jobs(tasks: usize, nap: Duration) -> Vec<Job> {
    let nap_ns = u64::try_from(nap.as_nanos()).unwrap_or(u64::MAX);
    (0..tasks as u64)
        .map(|x| Job::Square { x, nap_ns })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_returns_its_count() {
        assert_eq!(countdown(0), 0);
        assert_eq!(countdown(12_345), 12_345);
    }

    #[test]
    fn countdown_checks_once_per_slice() {
        let mut checks = 0;
        assert_eq!(countdown_with(SLICE * 3 + 1, || checks += 1), SLICE * 3 + 1);
        assert_eq!(checks, 4);
    }

    #[test]
    fn the_countdown_loop_is_pinned_in_this_binary() {
        // The unit-test binary links the crate like every other binary: the kernel's loop must
        // be found, at a 64-byte boundary.
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert_eq!(placement(), Placement::Pinned);
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        assert_eq!(placement(), Placement::Unpinned);
    }

    #[test]
    fn planted_extra_work_is_a_fraction_of_the_count() {
        assert_eq!(planted(10_000, 0), 10_000);
        assert_eq!(planted(10_000, 150), 11_500);
        let mut checks = 0;
        planted_countdown(SLICE + 1, &mut || checks += 1);
        assert_eq!(checks, 2);
    }

    #[test]
    fn countdown_steps_stop_at_zero() {
        let mut left = 10;
        countdown_steps(&mut left, 4);
        assert_eq!(left, 6);
        countdown_steps(&mut left, 100);
        assert_eq!(left, 0);
    }

    #[test]
    fn split_jobs_add_up_to_the_count() {
        let jobs = countdown_jobs(10, 3, true);
        let ns: Vec<u64> = jobs.iter().map(Job::expected).collect();
        assert_eq!(ns, vec![4, 3, 3]);
        assert_eq!(
            countdown_jobs(7, 2, false),
            vec![Job::Countdown { n: 7 }; 2]
        );
    }

    #[test]
    fn square_wraps() {
        assert_eq!(square(9), 81);
        assert_eq!(square(u64::MAX), 1);
        assert_eq!(square_jobs(3, Duration::ZERO)[2].run(), 4);
    }

    fn fib(n: u64, _: u64) -> u64 {
        (0..n)
            .fold((0u64, 1u64), |(a, b), _| (b, a.wrapping_add(b)))
            .0
    }

    #[test]
    fn custom_workloads_run_once_registered_and_ids_are_guarded() {
        let w = Workload {
            name: "fib",
            run: fib,
            expected: fib,
            timeout: Duration::from_secs(5),
        };
        register(7001, w).unwrap();
        register(7001, w).unwrap();
        let job = Job::Custom {
            workload: 7001,
            a: 10,
            b: 0,
        };
        assert_eq!((job.run(), job.expected()), (55, 55));
        assert_eq!(job.default_timeout(), Duration::from_secs(5));
        let other = Workload { name: "other", ..w };
        assert!(
            register(7001, other)
                .unwrap_err()
                .to_string()
                .contains("fib")
        );
        assert!(register(MAX_CUSTOM_ID + 1, w).is_err());
        assert!(registered(7002).is_none());
    }
}
