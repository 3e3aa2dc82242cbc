//! Timelines: who ran what, and when. One lane per worker (labelled by pid for a process pool), a
//! bar per job from its start to its finish labelled by its value, and for a strategy with a lock
//! that serialises computing (`gil`) the intervals each worker held it drawn inside its lane: the
//! seed's "handled by pid" table as a picture. `run --timeline`, `seed pool --timeline` and the
//! report draw through [`Timeline::to_svg`].

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::escape::xml;
use crate::strategy::{Hold, Outcome};

/// One recorded map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// What ran, e.g. `square_sleep/processes/3`.
    pub title: String,
    /// The strategy's name.
    pub strategy: String,
    /// The pool's worker count (one lane each).
    pub workers: usize,
    /// The map's wall time, ns.
    pub wall_ns: u64,
    /// Every job's outcome, in input order.
    pub jobs: Vec<Outcome>,
    /// When each worker held the strategy's lock (empty for strategies without one).
    #[serde(default)]
    pub holds: Vec<Hold>,
}

const WIDTH: f64 = 900.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 52.0;
const LANE: f64 = 34.0;
const BOTTOM: f64 = 46.0;

impl Timeline {
    /// A timeline of one map.
    pub fn new(
        title: impl Into<String>,
        strategy: impl Into<String>,
        workers: usize,
        wall: Duration,
        jobs: Vec<Outcome>,
        holds: Vec<Hold>,
    ) -> Timeline {
        Timeline {
            title: title.into(),
            strategy: strategy.into(),
            workers,
            wall_ns: u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX),
            jobs,
            holds,
        }
    }

    /// Most jobs a recorded timeline may hold (values read from a file are checked).
    pub const MAX_JOBS: usize = 1_000_000;

    /// Checks a timeline read from a file: a title that is a bench id (`group/strategy/workers`,
    /// so it is safe in Markdown and file names), workers from 1 to
    /// [`crate::limits::MAX_WORKERS`], every job's and hold's worker below that, at most
    /// [`Timeline::MAX_JOBS`] jobs and holds, and no time past the wall time.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |what: &str, reason: String| {
            Err(crate::Error::invalid(
                "timeline",
                self.title.chars().take(80).collect::<String>(),
                format!("{what}: {reason}"),
            ))
        };
        if self.title.parse::<crate::group::BenchId>().is_err() {
            return bad("title", "is not a bench id `group/strategy/workers`".into());
        }
        if self.workers == 0 || self.workers > crate::limits::MAX_WORKERS {
            return bad(
                "workers",
                format!(
                    "{} is not between 1 and {}",
                    self.workers,
                    crate::limits::MAX_WORKERS
                ),
            );
        }
        if self.jobs.len() > Timeline::MAX_JOBS || self.holds.len() > Timeline::MAX_JOBS {
            return bad(
                "size",
                format!("more than {} jobs or holds", Timeline::MAX_JOBS),
            );
        }
        for (i, j) in self.jobs.iter().enumerate() {
            if j.worker >= self.workers {
                return bad(
                    "job",
                    format!("job {i} ran on worker {}, of {}", j.worker, self.workers),
                );
            }
            if j.started_ns > j.finished_ns || j.finished_ns > self.wall_ns {
                return bad("job", format!("job {i} has times outside the map"));
            }
        }
        for h in &self.holds {
            if h.worker >= self.workers || h.from_ns > h.to_ns || h.to_ns > self.wall_ns {
                return bad(
                    "hold",
                    format!("a hold of worker {} is out of range", h.worker),
                );
            }
        }
        Ok(())
    }

    /// Each lane's label: `pid N` where the workers are separate processes, `worker k` otherwise.
    pub fn lane_labels(&self) -> Vec<String> {
        let lanes = self.lanes();
        let pid_of = |w: usize| self.jobs.iter().find(|o| o.worker == w).map(|o| o.pid);
        let pids: std::collections::BTreeSet<u32> = self.jobs.iter().map(|o| o.pid).collect();
        (0..lanes)
            .map(|w| match pid_of(w) {
                Some(pid) if pids.len() > 1 => format!("worker {w} (pid {pid})"),
                _ => format!("worker {w}"),
            })
            .collect()
    }

    fn lanes(&self) -> usize {
        let used = self
            .jobs
            .iter()
            .map(|o| o.worker.saturating_add(1))
            .max()
            .unwrap_or(0);
        self.workers.max(used).max(1)
    }

    /// The timeline as a standalone SVG document, in its strategy's colour as `known` declares
    /// it (a built-in's own; one derived from the name for any other).
    pub fn to_svg(&self, known: &[crate::strategy::StrategyName]) -> String {
        let lanes = self.lanes();
        let height = TOP + LANE * lanes as f64 + BOTTOM;
        let span = self
            .jobs
            .iter()
            .map(|o| o.finished_ns)
            .chain(self.holds.iter().map(|h| h.to_ns))
            .chain([self.wall_ns])
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let plot = WIDTH - LEFT - RIGHT;
        let x = |ns: u64| LEFT + plot * (ns as f64 / span);
        // Any strategy's colour: a built-in's, a declared one's, or one derived from its name,
        // as in every other chart.
        let (r, g, b) = self
            .strategy
            .parse::<crate::strategy::StrategyName>()
            .map(|k| k.resolve(known).colour())
            .unwrap_or((90, 90, 90));
        let mut s = String::new();
        let _ = writeln!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">"##
        );
        let _ = writeln!(s, "{MARKER}");
        let _ = writeln!(
            s,
            r##"<rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="22" font-size="16">{}</text><text x="{LEFT}" y="40" font-size="11" fill="#555">{} jobs on {} workers in {}{}</text>"##,
            xml(&self.title),
            self.jobs.len(),
            self.workers,
            crate::units::fmt_ns(self.wall_ns as f64),
            if self.holds.is_empty() {
                String::new()
            } else {
                format!("; dark: holding the lock ({} holds)", self.holds.len())
            }
        );
        for (w, label) in self.lane_labels().iter().enumerate() {
            let y = TOP + LANE * w as f64;
            let _ = writeln!(
                s,
                r##"<rect x="{LEFT}" y="{y}" width="{plot}" height="{LANE}" fill="{}"/><text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"##,
                if w % 2 == 0 { "#f4f4f4" } else { "#fbfbfb" },
                LEFT - 8.0,
                y + LANE / 2.0 + 4.0,
                xml(label)
            );
        }
        for (i, o) in self.jobs.iter().enumerate() {
            let (x0, x1) = (x(o.started_ns), x(o.finished_ns.max(o.started_ns)));
            let wbar = (x1 - x0).max(1.0);
            let y = TOP + LANE * o.worker as f64 + 5.0;
            let _ = writeln!(
                s,
                r##"<rect x="{x0:.1}" y="{y}" width="{wbar:.1}" height="{}" fill="rgb({r},{g},{b})" fill-opacity="0.35" stroke="rgb({r},{g},{b})"><title>job {i}: value {}, {} to {}</title></rect>"##,
                LANE - 10.0,
                o.value,
                crate::units::fmt_ns(o.started_ns as f64),
                crate::units::fmt_ns(o.finished_ns as f64)
            );
            let text = o.value.to_string();
            if wbar >= 7.0 * text.len() as f64 + 4.0 {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{text}</text>"##,
                    x0 + wbar / 2.0,
                    y + (LANE - 10.0) / 2.0 + 4.0
                );
            }
        }
        for h in &self.holds {
            let (x0, x1) = (x(h.from_ns), x(h.to_ns.max(h.from_ns)));
            let y = TOP + LANE * h.worker as f64 + LANE - 11.0;
            let _ = writeln!(
                s,
                r##"<rect x="{x0:.1}" y="{y}" width="{:.1}" height="5" fill="rgb({r},{g},{b})"/>"##,
                (x1 - x0).max(0.5)
            );
        }
        let axis_y = TOP + LANE * lanes as f64;
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="black"/>"##,
            LEFT + plot
        );
        for t in ticks(span) {
            let xt = x(t as u64);
            let _ = writeln!(
                s,
                r##"<line x1="{xt:.1}" y1="{axis_y}" x2="{xt:.1}" y2="{}" stroke="black"/><text x="{xt:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
                axis_y + 5.0,
                axis_y + 18.0,
                crate::units::fmt_ns(t)
            );
        }
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" font-size="12" text-anchor="middle">time since the map began</text></svg>"##,
            LEFT + plot / 2.0,
            axis_y + 38.0
        );
        s
    }
}

/// The comment every timeline SVG carries: a file with it may be replaced by a later one.
pub const MARKER: &str = "<!-- generated by poolscale: timeline -->";

/// Writes `timeline` as an SVG file at `path` (creating its directory), refusing to replace a
/// file that is not a timeline poolscale wrote.
pub fn write_svg(
    path: &std::path::Path,
    timeline: &Timeline,
    known: &[crate::strategy::StrategyName],
) -> crate::error::Result<()> {
    if path.exists() {
        let old = crate::platform::fsutil::read_small_file(path, 64 << 20).unwrap_or_default();
        if !old.contains(MARKER) {
            return Err(crate::error::Error::WouldOverwrite {
                path: path.to_path_buf(),
                reason: "it is not a timeline written by poolscale; choose another path".into(),
            });
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            crate::error::Error::io(format!("cannot create `{}`", dir.display()), e)
        })?;
    }
    crate::platform::fsutil::atomic_write(path, timeline.to_svg(known).as_bytes())
}

/// Five to ten round tick positions from 0 to `span` (ns).
fn ticks(span: f64) -> Vec<f64> {
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 10.0)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|t| *t <= span * 1.0001)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(value: u64, worker: usize, pid: u32, from: u64, to: u64) -> Outcome {
        Outcome {
            value,
            worker,
            pid,
            started_ns: from,
            finished_ns: to,
        }
    }

    #[test]
    fn a_process_pool_is_drawn_one_lane_per_pid_with_a_bar_per_job() {
        let t = Timeline::new(
            "square_sleep/processes/2",
            "processes",
            2,
            Duration::from_millis(20),
            vec![
                outcome(0, 0, 101, 0, 10_000_000),
                outcome(1, 1, 102, 0, 10_000_000),
                outcome(4, 0, 101, 10_000_000, 20_000_000),
            ],
            Vec::new(),
        );
        assert_eq!(
            t.lane_labels(),
            vec!["worker 0 (pid 101)", "worker 1 (pid 102)"]
        );
        let svg = t.to_svg(&[]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<title>job ").count(), 3);
        assert!(
            svg.contains("job 2: value 4, 10.00 ms to 20.00 ms"),
            "{svg}"
        );
        // The 20 ms axis has round ticks.
        assert!(svg.contains(">10.00 ms</text>"), "{svg}");
    }

    #[test]
    fn threads_of_one_process_are_labelled_by_worker_and_holds_are_drawn() {
        let t = Timeline::new(
            "countdown_weak/gil/2 <&>",
            "gil",
            2,
            Duration::from_millis(10),
            vec![
                outcome(5, 0, 7, 0, 9_000_000),
                outcome(5, 1, 7, 0, 10_000_000),
            ],
            vec![
                Hold {
                    worker: 0,
                    from_ns: 0,
                    to_ns: 5_000_000,
                },
                Hold {
                    worker: 1,
                    from_ns: 5_000_000,
                    to_ns: 10_000_000,
                },
            ],
        );
        assert_eq!(t.lane_labels(), vec!["worker 0", "worker 1"]);
        let svg = t.to_svg(&[]);
        assert!(
            svg.contains("2 holds") && svg.contains("&lt;&amp;&gt;"),
            "{svg}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_timeline_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let t = Timeline::new(
            "x",
            "threads",
            1,
            Duration::from_millis(1),
            Vec::new(),
            Vec::new(),
        );
        let p = dir.path().join("sub/t.svg");
        write_svg(&p, &t, &[]).unwrap();
        write_svg(&p, &t, &[]).unwrap();
        assert!(std::fs::read_to_string(&p).unwrap().contains(MARKER));
        let mine = dir.path().join("mine.svg");
        std::fs::write(&mine, "<svg>my drawing</svg>").unwrap();
        let e = write_svg(&mine, &t, &[]).unwrap_err().to_string();
        assert!(e.contains("mine.svg"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&mine).unwrap(),
            "<svg>my drawing</svg>"
        );
    }

    #[test]
    fn ticks_are_round_and_cover_the_span() {
        assert_eq!(
            ticks(20.0),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
        );
        let t = ticks(4.2e9);
        assert!(t.len() >= 5 && t.len() <= 11, "{t:?}");
        assert_eq!(ticks(1.0)[0], 0.0);
    }

    #[test]
    fn a_declared_strategys_colour_reaches_its_timeline() {
        let info = crate::strategy::StrategyInfo {
            colour: (23, 190, 207),
            ..*crate::strategy::StrategyKind::Threads.info()
        };
        let name = crate::strategy::StrategyName::declared("teal_pool", info).unwrap();
        let t = Timeline::new(
            "countdown_weak/teal_pool/2",
            "teal_pool",
            2,
            Duration::from_millis(10),
            vec![outcome(7, 1, 1, 0, 5_000_000)],
            Vec::new(),
        );
        assert!(
            t.to_svg(&[name]).contains("rgb(23,190,207)"),
            "declared colour not used"
        );
        // Without the declaration, the colour derived from the name.
        let (r, g, b) = crate::strategy::name::default_colour("teal_pool");
        assert!(t.to_svg(&[]).contains(&format!("rgb({r},{g},{b})")));
    }
}
