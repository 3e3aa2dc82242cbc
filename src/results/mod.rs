//! Stage 3, the results on disk: what a bench run leaves beside Criterion's files and how it is
//! read back, every file treated as written by a stranger (bounded, validated, versioned).
//!
//! - [`data`]: Criterion's own layout, `<criterion>/<group>/<strategy>/<workers>/<baseline>/
//!   estimates.json`, read into one measurement per bench id;
//! - [`store`]: where poolscale's own files lie in that directory, and the versioned read and
//!   atomic write of each;
//! - [`settings`]: the run's knobs, machine, instrument check and capacity samples;
//! - [`observe`]: what each benchmark observed besides Criterion's times (CPU time, timelines,
//!   the paired ratios, the break-even sweep).
//!
//! May import: the stages below (`platform`, `workload`, `strategy`, `group`, `measure`). Nothing
//! here analyses or renders.

pub(crate) mod data;
pub(crate) mod observe;
pub(crate) mod settings;
pub(crate) mod store;
