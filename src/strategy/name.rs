//! [`StrategyName`]: a strategy as the data, the report and the gate know it, built into
//! poolscale or not: its name and its facts (the [`StrategyInfo`] the models and checks ask). A
//! built-in's facts are its kind's; another strategy's come with it, from the suite that declared
//! it ([`super::Strategies::with`]), or from the settings file or A/B hello that recorded them
//! ([`with_facts`]). A bare name (a directory, a flag) of a strategy nobody declared gets the
//! facts of a preemptive, compute-parallel pool. Nothing is looked up in process-wide state: a
//! value means the same wherever it goes. Order and colours are deterministic: built-ins first in
//! [`StrategyKind::ALL`] order, then other names alphabetically.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};

use super::{StrategyInfo, StrategyKind};
use crate::error::{Error, Result};

/// Longest strategy name accepted.
pub const MAX_NAME_LEN: usize = 40;

/// A strategy: its stable name (`threads`, or the one a user's strategy returns from
/// [`super::Strategy::name`]: lowercase ASCII letters, digits, `_` and `-`, starting with a
/// letter) and its facts. Two values are equal when their names are. Cheap to copy.
#[derive(Clone, Copy)]
pub struct StrategyName(&'static Ident);

/// What a [`StrategyName`] points at.
struct Ident {
    name: &'static str,
    info: StrategyInfo,
}

/// One leaked [`Ident`] per name and facts seen (a handful per process): a cache so that names
/// are `Copy`, never a source of facts.
fn interned(name: &str, info: StrategyInfo) -> &'static Ident {
    type Table = Mutex<BTreeMap<String, Vec<&'static Ident>>>;
    static NAMES: OnceLock<Table> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let same = names.entry(name.to_string()).or_default();
    if let Some(i) = same.iter().find(|i| i.info == info) {
        return i;
    }
    let i: &'static Ident = Box::leak(Box::new(Ident {
        name: Box::leak(name.to_string().into_boxed_str()),
        info,
    }));
    same.push(i);
    i
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

/// Checks a name against the rule.
fn check(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        let lower = name.to_ascii_lowercase();
        let hint = if lower != name && check(&lower).is_ok() {
            format!("; names are lowercase: `{lower}`")
        } else {
            String::new()
        };
        let builtins: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.as_str()).collect();
        Err(Error::invalid(
            "strategy name",
            name,
            format!(
                "expected 1 to {MAX_NAME_LEN} lowercase letters, digits, `_` or `-`, starting with a letter{hint} (the built-ins: {})",
                builtins.join(", ")
            ),
        ))
    }
}

impl StrategyName {
    /// A strategy known by name only: a built-in's facts, or those of a preemptive,
    /// compute-parallel pool with a colour from the name.
    pub fn new(name: &str) -> Result<StrategyName> {
        check(name)?;
        let info = match StrategyKind::from_name(name) {
            Ok(k) => *k.info(),
            Err(_) => StrategyInfo {
                parallel: true,
                computes_in_parallel: true,
                child_processes: false,
                preemptive: true,
                colour: default_colour(name),
            },
        };
        Ok(StrategyName(interned(name, info)))
    }

    /// A strategy with the facts its author declared. A built-in keeps its own facts.
    pub fn declared(name: &str, info: StrategyInfo) -> Result<StrategyName> {
        check(name)?;
        let info = StrategyKind::from_name(name).map_or(info, |k| *k.info());
        Ok(StrategyName(interned(name, info)))
    }

    /// This strategy as `known` declares it, if `known` holds one of its name: how a name read
    /// from a directory or a flag gets the facts recorded beside the data.
    pub fn resolve(self, known: &[StrategyName]) -> StrategyName {
        known.iter().copied().find(|k| *k == self).unwrap_or(self)
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    /// The built-in strategy of this name, if it is one.
    pub fn builtin(self) -> Option<StrategyKind> {
        StrategyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.as_str())
    }

    /// The strategy's facts.
    pub fn info(self) -> StrategyInfo {
        self.0.info
    }

    /// Whether it runs its jobs in parallel at all.
    pub fn is_parallel(self) -> bool {
        self.0.info.parallel
    }

    /// Whether it computes on several cores at once.
    pub fn computes_in_parallel(self) -> bool {
        self.0.info.computes_in_parallel
    }

    /// Whether its workers are child processes.
    pub fn runs_in_child_processes(self) -> bool {
        self.0.info.child_processes
    }

    /// Its colour in every chart.
    pub fn colour(self) -> (u8, u8, u8) {
        self.0.info.colour
    }

    /// Sort key: built-ins first in registry order, then the others by name.
    fn rank(self) -> (usize, &'static str) {
        match StrategyKind::ALL
            .iter()
            .position(|k| k.as_str() == self.as_str())
        {
            Some(i) => (i, ""),
            None => (StrategyKind::ALL.len(), self.as_str()),
        }
    }
}

/// A colour for a strategy declared without one in mind, the same for the same name everywhere.
pub fn default_colour(name: &str) -> (u8, u8, u8) {
    // FNV-1a: stable across runs and platforms.
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    PALETTE[(h % PALETTE.len() as u64) as usize]
}

/// Serde for a list of strategies with their facts, as the settings file and the A/B hello
/// carry them: `[{"name": "mpsc", "info": {...}}, ...]`. (A lone [`StrategyName`] is its name.)
pub(crate) mod with_facts {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Declared {
        name: String,
        info: StrategyInfo,
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        names: &[StrategyName],
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(names.iter().map(|n| Declared {
            name: n.as_str().to_string(),
            info: n.info(),
        }))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Vec<StrategyName>, D::Error> {
        Vec::<Declared>::deserialize(d)?
            .into_iter()
            .map(|x| StrategyName::declared(&x.name, x.info).map_err(serde::de::Error::custom))
            .collect()
    }
}

impl From<StrategyKind> for StrategyName {
    fn from(k: StrategyKind) -> StrategyName {
        StrategyName::new(k.as_str()).expect("built-in names are valid")
    }
}

impl PartialEq for StrategyName {
    fn eq(&self, other: &StrategyName) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for StrategyName {}

impl std::hash::Hash for StrategyName {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

impl PartialEq<StrategyKind> for StrategyName {
    fn eq(&self, k: &StrategyKind) -> bool {
        self.as_str() == k.as_str()
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
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for StrategyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
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
        s.serialize_str(self.as_str())
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
    fn facts_travel_with_the_name_and_nothing_is_global() {
        let threads: StrategyName = "threads".parse().unwrap();
        assert_eq!(threads.info(), *StrategyKind::Threads.info());
        assert_eq!(threads, StrategyKind::Threads);
        let bare: StrategyName = "test-declared-serial".parse().unwrap();
        assert!(bare.computes_in_parallel());
        assert_eq!(bare.colour(), default_colour("test-declared-serial"));
        let serial = StrategyInfo {
            computes_in_parallel: false,
            ..bare.info()
        };
        let mine = StrategyName::declared("test-declared-serial", serial).unwrap();
        assert!(!mine.computes_in_parallel() && mine.is_parallel());
        // Declaring did not change what the bare name means, and the two are the same strategy.
        assert!(bare.computes_in_parallel());
        assert_eq!(mine, bare);
        // A name read from a directory takes the facts recorded beside the data.
        assert!(!bare.resolve(&[threads, mine]).computes_in_parallel());
        assert!(bare.resolve(&[threads]).computes_in_parallel());
        // A built-in's facts cannot be declared away.
        let gil_facts = *StrategyKind::Gil.info();
        let t = StrategyName::declared("threads", gil_facts).unwrap();
        assert!(t.computes_in_parallel());
    }

    #[test]
    fn a_list_with_facts_round_trips_through_json() {
        #[derive(Serialize, Deserialize)]
        struct Doc {
            #[serde(with = "with_facts")]
            strategies: Vec<StrategyName>,
        }
        let serial = StrategyInfo {
            computes_in_parallel: false,
            colour: (1, 2, 3),
            ..*StrategyKind::Threads.info()
        };
        let doc = Doc {
            strategies: vec![
                StrategyKind::Gil.into(),
                StrategyName::declared("json-pool", serial).unwrap(),
            ],
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert!(text.contains(r#""name":"json-pool""#), "{text}");
        let back: Doc = serde_json::from_str(&text).unwrap();
        assert_eq!(back.strategies[1].info(), serial);
        assert_eq!(back.strategies[0].info(), *StrategyKind::Gil.info());
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
