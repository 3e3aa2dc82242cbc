//! The paired, capacity-relative invariants on real pools: a strategy built for this test that
//! serialises its workers (one mutex around every job) must never pass the efficiency check, and
//! fails it whenever the machine shows spare capacity; `threads`, measured the same way, never
//! fails. No timing is asserted: only verdicts, which the capacity probe makes independent of how
//! fast or loaded the machine is.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use poolscale::internal::CheckVerdict;
use poolscale::internal::Plan;
use poolscale::internal::Prepared;
use poolscale::internal::Workloads;
use poolscale::internal::{Limits, PairedConfig, relative_efficiency};
use poolscale::strategy::{Observer, Outcome, Strategies, Strategy, StrategyKind};
use poolscale::workload::countdown_jobs;
use poolscale::{Job, Result};

/// `threads`, except that every job runs under one global lock: it stopped scaling.
struct Serialised {
    inner: Box<dyn Strategy>,
}

static LOCK: Mutex<()> = Mutex::new(());

impl Strategy for Serialised {
    fn name(&self) -> &str {
        "serialised"
    }
    fn workers(&self) -> usize {
        self.inner.workers()
    }
    fn map_observed(&mut self, jobs: &[Job], on_start: Observer<'_>) -> Result<Vec<Outcome>> {
        // One job at a time through the inner pool, under the lock: w workers, one busy.
        let mut out = Vec::with_capacity(jobs.len());
        for (i, job) in jobs.iter().enumerate() {
            let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
            let mut one = self
                .inner
                .map_observed(std::slice::from_ref(job), on_start)?;
            let mut o = one.pop().expect("one job, one outcome");
            o.worker = i % self.inner.workers();
            out.push(o);
        }
        Ok(out)
    }
}

fn config(count: u64) -> PairedConfig {
    PairedConfig {
        workloads: Workloads {
            count,
            nap_ns: 0,
            tasks: 1,
            dispatch_tasks: 1,
        },
        workers: 2,
        square_workers: 3,
        plan: Plan {
            budget: Duration::from_secs(15),
            ..Plan::default()
        },
        limits: Limits::default(),
        options: common::options(),
        strategies: Strategies::new().with_builtin(StrategyKind::Threads),
        seed: 5,
    }
}

fn arms(count: u64, serialised: bool) -> (Prepared, Prepared) {
    let make = |w: usize| {
        let pool = StrategyKind::Threads.start(w, &common::options()).unwrap();
        let pool: Box<dyn Strategy> = if serialised {
            Box::new(Serialised { inner: pool })
        } else {
            pool
        };
        let label = format!("countdown_weak/{}/{w}", pool.name());
        Prepared::with_pool(label, pool, countdown_jobs(count, w, false))
    };
    (make(1), make(2))
}

/// The probe's cores, from a check's detail ("probe 0.97 (1.94 cores); ...").
fn probe_cores(detail: &str) -> Option<f64> {
    let after = detail.split("probe ").nth(1)?;
    let inside = after.split('(').nth(1)?;
    inside.split(' ').next()?.parse().ok()
}

#[test]
fn a_strategy_that_stopped_scaling_fails_and_a_healthy_one_does_not() {
    if num_cpus::get() < 2 {
        eprintln!("skipped: needs 2 cores");
        return;
    }
    // ~10-20 ms per job in a debug build: long enough to time, short enough for a test.
    let count = 3_000_000;
    let cfg = config(count);
    let mut rng = fastrand::Rng::with_seed(cfg.seed);

    let (mut one, mut many) = arms(count, true);
    let bad = relative_efficiency(
        &cfg,
        &mut one,
        &mut many,
        "serialised".into(),
        ">= 0.85".into(),
        &mut rng,
    )
    .unwrap();
    let detail = bad.detail.clone().unwrap_or_default();
    assert_ne!(bad.verdict, CheckVerdict::Pass, "{bad:?}");
    if probe_cores(&detail).is_some_and(|c| c >= 1.5) {
        assert_eq!(bad.verdict, CheckVerdict::Fail, "{bad:?}");
    }

    let (mut one, mut many) = arms(count, false);
    let good = relative_efficiency(
        &cfg,
        &mut one,
        &mut many,
        "threads".into(),
        ">= 0.85".into(),
        &mut rng,
    )
    .unwrap();
    assert_ne!(good.verdict, CheckVerdict::Fail, "{good:?}");
}
