//! The documented bounds on every user-facing number, and the parsers that enforce them. The CLI,
//! the benches' environment knobs and the library all go through these, so every bad value gets
//! the same clear error.

use std::time::Duration;

use crate::error::{Error, Result};

/// Most workers any strategy accepts (the process pool starts one OS process each).
pub const MAX_WORKERS: usize = 256;
/// Most worker counts in one sweep (`POOLSCALE_WORKERS`, a settings file): a report's size grows
/// with it.
pub const MAX_SWEEP: usize = 32;
/// Most strategies one suite or settings file may name.
pub const MAX_STRATEGIES: usize = 64;
/// Longest text field read from a file another program wrote (a CPU model, a run id), in bytes.
pub const MAX_TEXT: usize = 512;
/// Most entries of a recorded list (capacity samples, instrument calibrations) in one file.
pub const MAX_RECORDS: usize = 1024;

/// Checks a text field read from a file: at most [`MAX_TEXT`] bytes.
pub fn text<'a>(what: &'static str, s: &'a str) -> Result<&'a str> {
    if s.len() > MAX_TEXT {
        return Err(Error::invalid(
            what,
            format!("{}…", s.chars().take(40).collect::<String>()),
            format!("{} bytes, more than the {MAX_TEXT} allowed", s.len()),
        ));
    }
    Ok(s)
}

/// Checks the length of a recorded list: at most `max` entries.
pub fn count_of(what: &'static str, n: usize, max: usize) -> Result<()> {
    if n > max {
        return Err(Error::invalid(
            what,
            n,
            format!("more than the {max} entries allowed"),
        ));
    }
    Ok(())
}
/// Largest countdown per job: about a minute of work at ~2 ns a decrement.
pub const MAX_COUNT: u64 = 100_000_000_000;
/// Most jobs in one map.
pub const MAX_TASKS: usize = 10_000_000;
/// Longest nap a square job may take.
pub const MAX_NAP: Duration = Duration::from_secs(3600);

/// Checks a worker count: 1 to [`MAX_WORKERS`].
pub fn workers(w: usize) -> Result<usize> {
    if w == 0 || w > MAX_WORKERS {
        return Err(Error::invalid(
            "worker count",
            w,
            format!("must be between 1 and {MAX_WORKERS}"),
        ));
    }
    Ok(w)
}

/// Parses a worker count from text.
pub fn parse_workers(s: &str) -> Result<usize> {
    let w: usize = s
        .trim()
        .parse()
        .map_err(|e| Error::invalid("worker count", s, format!("{e}; expected a whole number")))?;
    workers(w)
}

/// Whether `s` is a count written as a bare decimal number, as in a bench id or a directory
/// name: `2`, not `+2`, `02` or ` 2`.
pub fn is_bare_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !(s.len() > 1 && s.starts_with('0'))
}

/// Parses a comma-separated worker list such as `1,2,4,8` (deduplicated, sorted).
pub fn parse_worker_list(s: &str) -> Result<Vec<usize>> {
    let mut list = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(parse_workers)
        .collect::<Result<Vec<_>>>()?;
    if list.is_empty() {
        return Err(Error::invalid(
            "worker list",
            s,
            "expected comma-separated counts such as `1,2,4`",
        ));
    }
    list.sort_unstable();
    list.dedup();
    count_of("worker list", list.len(), MAX_SWEEP)?;
    Ok(list)
}

/// Checks a countdown count: 1 to [`MAX_COUNT`]. Underscores are allowed (`100_000_000`).
pub fn parse_count(s: &str) -> Result<u64> {
    let n: u64 = s.trim().replace('_', "").parse().map_err(|e| {
        Error::invalid(
            "count",
            s,
            format!("{e}; expected a whole number such as 100000000"),
        )
    })?;
    if n == 0 {
        return Err(Error::invalid(
            "count",
            s,
            "must be at least 1: a countdown of 0 measures only the pool's dispatch (the dispatch groups measure that)",
        ));
    }
    if n > MAX_COUNT {
        return Err(Error::invalid(
            "count",
            s,
            format!("must be at most {MAX_COUNT}"),
        ));
    }
    Ok(n)
}

/// Checks a task count: 1 to [`MAX_TASKS`].
pub fn tasks(t: usize) -> Result<usize> {
    if t == 0 || t > MAX_TASKS {
        return Err(Error::invalid(
            "task count",
            t,
            format!("must be between 1 and {MAX_TASKS}"),
        ));
    }
    Ok(t)
}

/// Parses a task count from text.
pub fn parse_tasks(s: &str) -> Result<usize> {
    let t: usize =
        s.trim().replace('_', "").parse().map_err(|e| {
            Error::invalid("task count", s, format!("{e}; expected a whole number"))
        })?;
    tasks(t)
}

/// Parses a human duration (`10ms`, `1s`, `250us`, `1.5s`): 0 to [`MAX_NAP`].
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(Error::invalid("duration", s, "must not be negative"));
    }
    let d = match humantime::parse_duration(t) {
        Ok(d) => d,
        // humantime has no fractions; accept `1.5s` and `0.25ms` too.
        Err(_) => parse_fractional(t).ok_or_else(|| {
            Error::invalid(
                "duration",
                s,
                format!(
                    "expected a number and a unit (ns, us or µs, ms, s, min, h), such as 10ms, 1.5s or 250us, at most {}",
                    humantime::format_duration(MAX_NAP)
                ),
            )
        })?,
    };
    if d > MAX_NAP {
        return Err(Error::invalid(
            "duration",
            s,
            format!("must be at most {}", humantime::format_duration(MAX_NAP)),
        ));
    }
    Ok(d)
}

/// Parses a duration that must be above zero (a budget, a timeout): `0s` is refused, since it
/// would make the thing it bounds do nothing or fail at once.
pub fn parse_positive_duration(s: &str) -> Result<Duration> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(Error::invalid("duration", s, "must be above zero"));
    }
    Ok(d)
}

/// Parses a finite number between `min` and `max` inclusive (a limit of the gate: `inf`, `NaN`
/// and out-of-range values would silently disable or break a check).
pub fn parse_bounded(s: &str, what: &'static str, min: f64, max: f64) -> Result<f64> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|e| Error::invalid(what, s, format!("{e}; expected a number")))?;
    if !v.is_finite() || v < min || v > max {
        return Err(Error::invalid(
            what,
            s,
            format!("must be a number from {min} to {max}"),
        ));
    }
    Ok(v)
}

/// Parses a fraction from 0 to 1 (an efficiency floor).
pub fn parse_fraction(s: &str) -> Result<f64> {
    parse_bounded(s, "fraction", 0.0, 1.0)
}

/// Parses a ratio limit from 1 to 100 (a slowdown or measured/ideal bound).
pub fn parse_ratio_limit(s: &str) -> Result<f64> {
    parse_bounded(s, "ratio", 1.0, 100.0)
}

/// Parses a repeat count: 1 to 100.
pub fn parse_repeat(s: &str) -> Result<usize> {
    match s.trim().parse::<usize>() {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err(Error::invalid(
            "repeat count",
            s,
            "expected a whole number from 1 to 100",
        )),
    }
}

fn parse_fractional(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.trim().parse().ok()?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        _ => return None,
    };
    let secs = v * scale;
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10ms").unwrap(), Duration::from_millis(10));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        for bad in ["-1s", "ten", "", "5 parsecs", "2h", "-0.5ms"] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains("invalid duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn worker_counts() {
        assert_eq!(parse_workers("3").unwrap(), 3);
        assert!(
            parse_workers("0")
                .unwrap_err()
                .to_string()
                .contains("between 1 and 256")
        );
        assert!(parse_workers("257").is_err());
        assert!(parse_workers("-2").is_err());
        assert_eq!(parse_worker_list("4,1,2,2").unwrap(), vec![1, 2, 4]);
        assert!(parse_worker_list(",").is_err());
        assert!(parse_worker_list("1,x").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("100_000_000").unwrap(), 100_000_000);
        assert!(parse_count("1e99").is_err());
        assert!(
            parse_count("0")
                .unwrap_err()
                .to_string()
                .contains("at least 1")
        );
        let e = parse_duration("1x").unwrap_err().to_string();
        assert!(
            e.contains("ms") && e.contains("at most 1h") && !e.contains("years"),
            "{e}"
        );
        assert!(parse_count("100000000000000").is_err());
        assert!(parse_tasks("0").is_err());
        assert_eq!(parse_tasks("10").unwrap(), 10);
    }
}
