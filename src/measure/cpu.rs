//! Where the time goes: the CPU time a pool's workers use beside the wall time of its maps.
//!
//! A [`Snapshot`] reads this process's CPU time (all its threads: the in-process strategies'
//! workers), its reaped children's (pools started and stopped inside the window, as `startup`
//! does) and each live worker process's own from `/proc/<pid>/stat` (a persistent process pool's
//! workers are not reaped between maps). [`Usage`] accumulates the difference of two snapshots and
//! the window's wall time; `cores busy` is their ratio: the seed's lesson in one number (two `gil`
//! threads keep one core busy, two `threads` keep two).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// User and system CPU time, ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuTime {
    /// Time spent running user code, ns.
    pub user_ns: u64,
    /// Time spent in the kernel on the process's behalf, ns.
    pub sys_ns: u64,
}

impl CpuTime {
    fn from_durations((user, sys): (Duration, Duration)) -> CpuTime {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        CpuTime {
            user_ns: ns(user),
            sys_ns: ns(sys),
        }
    }

    /// User plus system, ns.
    pub fn total_ns(self) -> u64 {
        self.user_ns.saturating_add(self.sys_ns)
    }

    fn plus(self, o: CpuTime) -> CpuTime {
        CpuTime {
            user_ns: self.user_ns.saturating_add(o.user_ns),
            sys_ns: self.sys_ns.saturating_add(o.sys_ns),
        }
    }

    fn minus(self, o: CpuTime) -> CpuTime {
        CpuTime {
            user_ns: self.user_ns.saturating_sub(o.user_ns),
            sys_ns: self.sys_ns.saturating_sub(o.sys_ns),
        }
    }
}

/// The CPU time of process `pid` so far, from `/proc/<pid>/stat` (`None` if it is gone or the
/// file cannot be read: not Linux, or no `/proc`).
pub fn of_process(pid: u32) -> Option<CpuTime> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text, crate::platform::sys::clock_ticks_per_second())
}

/// utime and stime (fields 14 and 15) of a `/proc/<pid>/stat` line, in ticks of `1/hz` s. The
/// command name (field 2) is in parentheses and may hold spaces or parentheses itself, so fields
/// are counted after its last `)`.
fn parse_stat(text: &str, hz: u64) -> Option<CpuTime> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ns = |ticks: u64| ticks.saturating_mul(1_000_000_000 / hz.max(1));
    Some(CpuTime {
        user_ns: ns(utime),
        sys_ns: ns(stime),
    })
}

/// The CPU time used so far by this process, its reaped children (workers of pools already
/// stopped), the live `workers` and the process pool's fork servers (which do the forking).
#[derive(Clone, Debug)]
pub struct Snapshot {
    at: Instant,
    own: CpuTime,
    reaped: CpuTime,
    workers: Vec<(u32, CpuTime)>,
}

impl Snapshot {
    /// Reads the clocks now; `workers` are the pids of a pool's live worker processes.
    pub fn take(workers: &[u32]) -> Snapshot {
        let servers = crate::strategy::processes::forkserver::server_pids();
        Snapshot {
            workers: workers
                .iter()
                .chain(&servers)
                .filter_map(|&pid| Some((pid, of_process(pid)?)))
                .collect(),
            own: CpuTime::from_durations(crate::platform::sys::rusage(false)),
            reaped: CpuTime::from_durations(crate::platform::sys::rusage(true)),
            at: Instant::now(),
        }
    }

    /// Wall time and CPU time since `earlier`. A worker counts if it was seen both times.
    pub fn since(&self, earlier: &Snapshot) -> (Duration, CpuTime) {
        let mut cpu = self
            .own
            .minus(earlier.own)
            .plus(self.reaped.minus(earlier.reaped));
        for (pid, now) in &self.workers {
            if let Some((_, then)) = earlier.workers.iter().find(|(p, _)| p == pid) {
                cpu = cpu.plus(now.minus(*then));
            }
        }
        (self.at.saturating_duration_since(earlier.at), cpu)
    }
}

/// Wall time and CPU time accumulated over the measuring windows of one benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Iterations (maps) run inside the windows.
    pub iters: u64,
    /// Wall time of the windows, ns.
    pub wall_ns: u64,
    /// CPU time used inside them by the process and the pool's workers.
    pub cpu: CpuTime,
}

impl Usage {
    /// Adds one window of `iters` iterations.
    pub fn add(&mut self, iters: u64, wall: Duration, cpu: CpuTime) {
        self.iters = self.iters.saturating_add(iters);
        self.wall_ns = self
            .wall_ns
            .saturating_add(u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX));
        self.cpu = self.cpu.plus(cpu);
    }

    /// CPU time over wall time: how many cores were busy on average (`None` before any window).
    pub fn cores_busy(&self) -> Option<f64> {
        (self.wall_ns > 0).then(|| self.cpu.total_ns() as f64 / self.wall_ns as f64)
    }

    /// The share of the CPU time spent in the kernel (`None` without CPU time).
    pub fn system_share(&self) -> Option<f64> {
        let t = self.cpu.total_ns();
        (t > 0).then(|| self.cpu.sys_ns as f64 / t as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_the_command_name() {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 30 0 0 20 0 1";
        assert_eq!(
            parse_stat(line, 100),
            Some(CpuTime {
                user_ns: 2_500_000_000,
                sys_ns: 300_000_000
            })
        );
        assert_eq!(parse_stat("garbage", 100), None);
        assert_eq!(parse_stat("1 (x) S 1 2", 100), None);
    }

    #[test]
    fn a_busy_thread_shows_as_about_one_core() {
        let before = Snapshot::take(&[]);
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(60) {
            std::hint::black_box(crate::workload::countdown(10_000));
        }
        let (wall, cpu) = Snapshot::take(&[]).since(&before);
        let mut u = Usage::default();
        u.add(1, wall, cpu);
        // Correctness, not timing: some CPU time was seen, and never more than the machine has.
        let busy = u.cores_busy().unwrap();
        assert!(cpu.total_ns() > 0, "{u:?}");
        assert!(busy <= num_cpus::get() as f64 + 0.5, "{u:?}");
    }

    #[test]
    fn this_process_can_be_read_through_proc() {
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(of_process(std::process::id()).is_some());
        }
        assert!(of_process(u32::MAX).is_none());
    }
}
