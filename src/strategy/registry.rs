//! [`Strategies`]: the strategies a suite measures, each a name, its facts and how to start a
//! pool of `w` workers. The six built-ins are entries like any other ([`Strategies::builtin`]);
//! a strategy defined in another crate is added with [`Strategies::with`] and then goes through
//! the same bench, report and gate path (see [`crate::bench`]).

use std::sync::Arc;

use super::{Options, Strategy, StrategyInfo, StrategyKind, StrategyName};
use crate::error::{Error, Result};

/// Starts a pool of `workers` workers with the given options.
pub type StartFn = dyn Fn(usize, &Options) -> Result<Box<dyn Strategy>> + Send + Sync;

/// One strategy of a suite.
#[derive(Clone)]
pub struct Entry {
    /// Its name and facts (the middle part of its bench ids; what the models and checks assume).
    pub name: StrategyName,
    start: Arc<StartFn>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("info", &self.name.info())
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// Starts a pool of `workers` workers (1 to `crate::limits::MAX_WORKERS`); the pool must
    /// name itself as the entry does and have the worker count asked for.
    pub fn start(&self, workers: usize, options: &Options) -> Result<Box<dyn Strategy>> {
        let w = crate::limits::workers(workers)?;
        let pool = (self.start)(w, options)?;
        if pool.name() != self.name.as_str() || pool.workers() != w {
            return Err(Error::invalid(
                "strategy",
                self.name,
                format!(
                    "its start function returned a pool named `{}` with {} workers; expected `{}` with {w}",
                    pool.name(),
                    pool.workers(),
                    self.name
                ),
            ));
        }
        Ok(pool)
    }
}

/// The strategies a suite measures, in the order given.
///
/// ```
/// use poolscale::strategy::{Observer, Options, Outcome, Strategies, Strategy, StrategyKind};
/// use poolscale::{Job, workload};
///
/// /// A strategy of your own: every job on the calling thread, last one first.
/// struct Backwards;
///
/// impl Strategy for Backwards {
///     fn name(&self) -> &str { "backwards" }
///     fn workers(&self) -> usize { 1 }
///     fn map_observed(&mut self, jobs: &[Job], _: Observer<'_>) -> poolscale::Result<Vec<Outcome>> {
///         let mut out: Vec<Outcome> = jobs.iter().rev().map(|j| Outcome {
///             value: j.run(), worker: 0, pid: std::process::id(), started_ns: 0, finished_ns: 0,
///         }).collect();
///         out.reverse(); // outcomes in input order
///         Ok(out)
///     }
/// }
///
/// let suite = Strategies::new()
///     .with_builtin(StrategyKind::Threads)
///     .with("backwards", *StrategyKind::Sequential.info(), |_, _: &Options| {
///         Ok(Box::new(Backwards) as Box<dyn Strategy>)
///     })?;
/// let mut pool = suite.start("backwards".parse()?, 1, &Options::default())?;
/// let jobs = workload::square_jobs(4, std::time::Duration::ZERO);
/// let values: Vec<u64> = pool.map(&jobs)?.iter().map(|o| o.value).collect();
/// assert_eq!(values, [0, 1, 4, 9]);
/// // A pool that does not name itself as registered is refused.
/// let liar = Strategies::new().with("liar", *StrategyKind::Sequential.info(), |_, _: &Options| {
///     Ok(Box::new(Backwards) as Box<dyn Strategy>)
/// })?;
/// assert!(liar.start("liar".parse()?, 1, &Options::default()).is_err());
/// # Ok::<(), poolscale::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Strategies {
    entries: Vec<Entry>,
}

impl Strategies {
    /// No strategies yet.
    pub fn new() -> Strategies {
        Strategies::default()
    }

    /// The six built-in strategies, `sequential` first.
    pub fn builtin() -> Strategies {
        StrategyKind::ALL
            .into_iter()
            .fold(Strategies::new(), |s, k| s.with_builtin(k))
    }

    /// Adds built-in strategy `kind` (e.g. `threads` and `rayon` to compare a pool against).
    pub fn with_builtin(mut self, kind: StrategyKind) -> Strategies {
        self.entries.retain(|e| e.name != kind);
        self.entries.push(Entry {
            name: kind.into(),
            start: Arc::new(move |w, o| kind.start(w, o)),
        });
        self
    }

    /// Adds a strategy defined anywhere: its name (what its pools' [`Strategy::name`] returns),
    /// its facts and a function that starts a pool of `w` workers. Its facts travel with its
    /// name (into the settings file and the A/B hello), so that models and checks apply to it by
    /// what it is. An invalid name or one already in the suite is an error.
    pub fn with(
        mut self,
        name: &str,
        info: StrategyInfo,
        start: impl Fn(usize, &Options) -> Result<Box<dyn Strategy>> + Send + Sync + 'static,
    ) -> Result<Strategies> {
        let name = StrategyName::declared(name, info)?;
        if self.get(name).is_some() || name.builtin().is_some() {
            return Err(Error::invalid(
                "strategy",
                name,
                "this name is already taken (the built-ins' names are reserved)",
            ));
        }
        self.entries.push(Entry {
            name,
            start: Arc::new(start),
        });
        Ok(self)
    }

    /// The entry named `name`.
    pub fn get(&self, name: StrategyName) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Each entry's name with its facts, as the benches record them and a sampling side
    /// announces them.
    pub fn names(&self) -> Vec<StrategyName> {
        self.entries.iter().map(|e| e.name).collect()
    }

    /// Starts a pool of strategy `name`; an unknown name is an error listing the known ones.
    pub fn start(
        &self,
        name: StrategyName,
        workers: usize,
        options: &Options,
    ) -> Result<Box<dyn Strategy>> {
        self.entry(name)?.start(workers, options)
    }

    /// The entry named `name`, or an error listing the suite's names.
    pub fn entry(&self, name: StrategyName) -> Result<&Entry> {
        self.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
            Error::invalid(
                "strategy",
                name,
                format!("not in this suite; it has {}", names.join(", ")),
            )
        })
    }
}
