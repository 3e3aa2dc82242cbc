//! Stage 0, the platform: what the operating system gives every stage above. Owns the one
//! `unsafe` module ([`sys`]: signals, process groups, `getrusage`), spawning and reaping child
//! processes with deadlines ([`child`]), Ctrl-C ([`interrupt`]), bounded file reads and atomic
//! writes ([`fsutil`]) and the description of the machine ([`machine`]).
//!
//! May import: `error`, `limits`, `units`, `escape`, `stats`. Nothing here knows a strategy, a
//! group or a measurement.

pub(crate) mod child;
pub(crate) mod fsutil;
pub(crate) mod interrupt;
pub(crate) mod machine;
pub(crate) mod sys;
