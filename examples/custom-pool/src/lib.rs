//! A pool of your own, measured by poolscale: `mpsc`, a fixed pool of `w` threads started once,
//! all taking jobs from one `std::sync::mpsc` receiver behind a `Mutex` (the textbook pool of
//! *The Rust Programming Language*, ch. 21). Every job hand-off takes that lock, so it is a
//! deliberately contended design: its dispatch costs show it beside `threads` and `rayon`.
//!
//! [`suite`] is what the benches, the tests and the sampling side (`src/main.rs`) measure.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use poolscale::strategy::{
    Observer, Options, Outcome, Started, Strategies, Strategy, StrategyInfo, StrategyKind,
};
use poolscale::{Job, Result};

/// One job handed to a worker: its index, the job, the map's start when it wants per-job times
/// and start notices, and where to send them and the outcome.
struct Task {
    index: usize,
    job: Job,
    timed: Option<Instant>,
    reply: Sender<Msg>,
}

/// What a worker tells the mapping thread.
enum Msg {
    /// A job starts (timed maps only).
    Started(Started),
    /// A job is done.
    Done(usize, Outcome),
}

/// `w` threads sharing one receiver behind a mutex.
pub struct MpscPool {
    sender: Option<Sender<Task>>,
    threads: Vec<JoinHandle<()>>,
}

impl MpscPool {
    /// Starts `workers` threads (at least one).
    pub fn start(workers: usize) -> Result<MpscPool> {
        let (sender, receiver) = channel::<Task>();
        let receiver = Arc::new(Mutex::new(receiver));
        let threads = (0..workers.max(1))
            .map(|worker| {
                let receiver = Arc::clone(&receiver);
                std::thread::Builder::new()
                    .name(format!("mpsc-{worker}"))
                    .spawn(move || work(worker, &receiver))
                    .map_err(|e| {
                        poolscale::Error::io(format!("cannot start mpsc worker {worker}"), e)
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MpscPool {
            sender: Some(sender),
            threads,
        })
    }

    fn run(
        &mut self,
        jobs: &[Job],
        timed: Option<Instant>,
        on_start: Option<Observer<'_>>,
    ) -> Result<Vec<Outcome>> {
        let sender = self.sender.as_ref().expect("the pool is running");
        let (reply, replies) = channel();
        for (index, &job) in jobs.iter().enumerate() {
            let task = Task {
                index,
                job,
                timed,
                reply: reply.clone(),
            };
            if sender.send(task).is_err() {
                return Err(poolscale::Error::PoolBroken(
                    "every mpsc worker has exited".into(),
                ));
            }
        }
        drop(reply);
        let mut out: Vec<Option<Outcome>> = vec![None; jobs.len()];
        let mut done = 0;
        for msg in replies.iter() {
            match msg {
                Msg::Started(s) => {
                    if let Some(tell) = on_start {
                        tell(s);
                    }
                }
                Msg::Done(i, o) => {
                    out[i] = Some(o);
                    done += 1;
                    if done == jobs.len() {
                        break;
                    }
                }
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, o)| {
                o.ok_or_else(|| {
                    poolscale::Error::PoolBroken(format!("job {i} was lost (a worker panicked)"))
                })
            })
            .collect()
    }
}

/// A worker's loop: take the lock, take a task, let go, run it; until the channel closes.
fn work(worker: usize, receiver: &Mutex<Receiver<Task>>) {
    let pid = std::process::id();
    loop {
        let task = match receiver.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok(task) = task else { return };
        let started_ns = task.timed.map_or(0, |t0| {
            let _ = task.reply.send(Msg::Started(Started {
                job: task.index,
                worker,
                pid,
            }));
            t0.elapsed().as_nanos() as u64
        });
        let value = task.job.run();
        let finished_ns = task.timed.map_or(0, |t0| t0.elapsed().as_nanos() as u64);
        let _ = task.reply.send(Msg::Done(
            task.index,
            Outcome {
                value,
                worker,
                pid,
                started_ns,
                finished_ns,
            },
        ));
    }
}

impl Strategy for MpscPool {
    fn name(&self) -> &str {
        "mpsc"
    }

    fn workers(&self) -> usize {
        self.threads.len()
    }

    fn map_observed(&mut self, jobs: &[Job], on_start: Observer<'_>) -> Result<Vec<Outcome>> {
        // Workers send start notices through the reply channel; this thread passes them on.
        self.run(jobs, Some(Instant::now()), Some(on_start))
    }

    fn map_untimed(&mut self, jobs: &[Job]) -> Result<Vec<Outcome>> {
        self.run(jobs, None, None)
    }
}

impl Drop for MpscPool {
    fn drop(&mut self) {
        // Closing the channel ends every worker's loop.
        self.sender = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The id this crate registers its workload under.
pub const COLLATZ: u16 = 1;

/// A workload of this crate: the number of Collatz steps from `a` down to 1 (`b` unused).
pub fn collatz_steps(a: u64, _b: u64) -> u64 {
    let (mut n, mut steps) = (a.max(1), 0);
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

/// Registers this crate's workload, in every process that runs it: the tests, the benches and
/// the worker binary (`src/main.rs`), so that `Job::Custom { workload: COLLATZ, .. }` crosses the
/// process boundary of poolscale's process pool.
pub fn register_workloads() {
    poolscale::workload::register(
        COLLATZ,
        poolscale::workload::Workload {
            name: "collatz",
            run: collatz_steps,
            expected: collatz_steps,
            timeout: std::time::Duration::from_secs(10),
        },
    )
    .expect("id 1 is this crate's");
}

/// What the benches, tests and the sampling side measure: `threads` and `rayon` from poolscale,
/// and `mpsc` from this crate, declared as a preemptive, compute-parallel pool of threads.
pub fn suite() -> Strategies {
    register_workloads();
    Strategies::new()
        .with_builtin(StrategyKind::Sequential)
        .with_builtin(StrategyKind::Threads)
        .with_builtin(StrategyKind::Rayon)
        .with(
            "mpsc",
            // A pool of OS threads computing in parallel: the facts of `threads`, its own colour.
            StrategyInfo {
                colour: (23, 190, 207),
                ..*StrategyKind::Threads.info()
            },
            |workers, _options: &Options| {
                Ok(Box::new(MpscPool::start(workers)?) as Box<dyn Strategy>)
            },
        )
        .expect("`mpsc` is a valid name no built-in uses")
}
