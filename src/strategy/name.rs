//! [`StrategyName`]: a strategy as the data, the report and the gate know it, built into
//! poolscale or not. A name found in a Criterion directory is all they need: its facts (the
//! [`StrategyInfo`] the models and checks ask) come from the registry for the six built-ins, from
//! what the benches recorded for a strategy defined elsewhere ([`declare`]), or default to those
//! of a preemptive, compute-parallel pool. Order and colours are deterministic: built-ins first in
//! [`StrategyKind::ALL`] order, then other names alphabetically, each with a colour derived from
//! its name.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};

use super::{StrategyInfo, StrategyKind};
use crate::error::{Error, Result};

/// Longest strategy name accepted.
pub const MAX_NAME_LEN: usize = 40;

/// A strategy's stable name (`threads`, or one a user's strategy returns from
/// [`super::Strategy::name`]): lowercase ASCII letters, digits, `_` and `-`, starting with a
/// letter. Cheap to copy (names are interned).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StrategyName(&'static str);

/// Names seen so far, so that a name is `Copy` (a handful per process).
fn interned() -> &'static Mutex<BTreeMap<String, &'static str>> {
    static NAMES: OnceLock<Mutex<BTreeMap<String, &'static str>>> = OnceLock::new();
    NAMES.get_or_init(Default::default)
}

/// Facts declared for strategies defined outside poolscale.
fn declared() -> &'static Mutex<BTreeMap<&'static str, StrategyInfo>> {
    static DECLARED: OnceLock<Mutex<BTreeMap<&'static str, StrategyInfo>>> = OnceLock::new();
    DECLARED.get_or_init(Default::default)
}

/// Records the facts of a strategy defined outside poolscale, for the models and checks (the
/// benches record them in the settings file; `report` and `gate` declare them from there). A
/// built-in's facts cannot be overridden.
pub fn declare(name: StrategyName, info: StrategyInfo) {
    if name.builtin().is_none() {
        declared()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.0, info);
    }
}

/// The palette for strategies defined outside poolscale (none of the built-ins' colours).
const PALETTE: [(u8, u8, u8); 8] = [
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (31, 60, 120),
    (255, 187, 120),
    (152, 223, 138),
];

impl StrategyName {
    /// Checks and interns a name.
    pub fn new(name: &str) -> Result<StrategyName> {
        let ok = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            return Err(Error::invalid(
                "strategy name",
                name,
                format!(
                    "expected 1 to {MAX_NAME_LEN} lowercase letters, digits, `_` or `-`, starting with a letter"
                ),
            ));
        }
        let mut names = interned().lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = names.get(name) {
            return Ok(StrategyName(s));
        }
        let s: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.insert(name.to_string(), s);
        Ok(StrategyName(s))
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The built-in strategy of this name, if it is one.
    pub fn builtin(self) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|k| k.as_str() == self.0)
    }

    /// The strategy's facts: the registry's for a built-in, else those declared with
    /// [`declare`], else a preemptive, compute-parallel pool's with a colour from the name.
    pub fn info(self) -> StrategyInfo {
        if let Some(k) = self.builtin() {
            return *k.info();
        }
        if let Some(info) = declared()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(self.0)
        {
            return *info;
        }
        StrategyInfo {
            parallel: true,
            computes_in_parallel: true,
            child_processes: false,
            preemptive: true,
            colour: self.default_colour(),
        }
    }

    /// A colour for a name outside the registry, the same for the same name everywhere.
    pub fn default_colour(self) -> (u8, u8, u8) {
        // FNV-1a: stable across runs and platforms.
        let h = self.0.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        PALETTE[(h % PALETTE.len() as u64) as usize]
    }

    /// Whether it runs its jobs in parallel at all.
    pub fn is_parallel(self) -> bool {
        self.info().parallel
    }

    /// Whether it computes on several cores at once.
    pub fn computes_in_parallel(self) -> bool {
        self.info().computes_in_parallel
    }

    /// Whether its workers are child processes.
    pub fn runs_in_child_processes(self) -> bool {
        self.info().child_processes
    }

    /// Its colour in every chart.
    pub fn colour(self) -> (u8, u8, u8) {
        self.info().colour
    }

    /// Sort key: built-ins first in registry order, then the others by name.
    fn rank(self) -> (usize, &'static str) {
        match StrategyKind::ALL.iter().position(|k| k.as_str() == self.0) {
            Some(i) => (i, ""),
            None => (StrategyKind::ALL.len(), self.0),
        }
    }
}

impl From<StrategyKind> for StrategyName {
    fn from(k: StrategyKind) -> StrategyName {
        StrategyName::new(k.as_str()).expect("built-in names are valid")
    }
}

impl PartialEq<StrategyKind> for StrategyName {
    fn eq(&self, k: &StrategyKind) -> bool {
        self.0 == k.as_str()
    }
}

impl PartialOrd for StrategyName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StrategyName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl std::fmt::Display for StrategyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Debug for StrategyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl FromStr for StrategyName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        StrategyName::new(s)
    }
}

impl Serialize for StrategyName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for StrategyName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        StrategyName::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_come_first_then_others_by_name() {
        let mut names: Vec<StrategyName> = ["zeta-pool", "threads", "mpsc", "sequential", "gil"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        names.sort();
        let s: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        assert_eq!(s, ["sequential", "threads", "gil", "mpsc", "zeta-pool"]);
    }

    #[test]
    fn facts_come_from_the_registry_a_declaration_or_the_defaults() {
        let threads: StrategyName = "threads".parse().unwrap();
        assert_eq!(threads.info(), *StrategyKind::Threads.info());
        assert_eq!(threads, StrategyKind::Threads);
        let mine: StrategyName = "test-declared-serial".parse().unwrap();
        assert!(mine.computes_in_parallel());
        let c = mine.colour();
        assert_eq!(c, mine.default_colour());
        declare(
            mine,
            StrategyInfo {
                computes_in_parallel: false,
                ..mine.info()
            },
        );
        assert!(!mine.computes_in_parallel() && mine.is_parallel());
        // A built-in cannot be redeclared.
        declare(threads, *StrategyKind::Gil.info());
        assert!(threads.computes_in_parallel());
    }

    #[test]
    fn bad_names_are_refused_with_the_rule() {
        for bad in ["", "Threads", "a/b", "1pool", "has space", &"x".repeat(41)] {
            let e = StrategyName::new(bad).unwrap_err().to_string();
            assert!(e.contains("lowercase"), "{bad}: {e}");
        }
        let a: StrategyName = serde_json::from_str("\"my-pool_2\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"my-pool_2\"");
        assert!(serde_json::from_str::<StrategyName>("\"Bad\"").is_err());
    }
}
