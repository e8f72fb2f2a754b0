//! Percentiles of recorded samples, and this process's memory and CPU from `/proc`.

// Timing statistics, not money.
#![allow(clippy::float_arithmetic)]

/// Median, 99th percentile and maximum of a sample.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(mut v: Vec<f64>) -> Summary {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if v.is_empty() {
                f64::NAN
            } else {
                let i = ((v.len() - 1) as f64 * q).round() as usize;
                v[i.min(v.len() - 1)]
            }
        };
        Summary {
            n: v.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
        }
    }

    pub fn show(&self, unit: &str) -> String {
        format!(
            "p50 {:.1} {unit}, p99 {:.1} {unit}, max {:.1} {unit} (n = {})",
            self.p50, self.p99, self.max, self.n
        )
    }
}

/// Resident memory of this process in kB (0 where `/proc` is missing).
pub fn rss_kb() -> u64 {
    status_number("self", "VmRSS:")
}

/// A number field of `/proc/<pid>/status` (`pid` is `self` or a process id): `VmRSS:`
/// in kB, `Threads:`; 0 where it is missing.
pub fn status_number(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// User plus system CPU time of a process (`self` or a process id) in seconds.
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Seconds the threads of a process (`self` or a process id) spent ready to run but
/// waiting for a CPU (the run queue), summed over the threads alive now: the second field
/// of each `/proc/<pid>/task/<tid>/schedstat`. A thread that ended since an earlier reading
/// takes its part with it. 0 where the kernel keeps none.
pub fn run_queue_seconds_of(pid: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    let ns: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e9
}

/// CPU spent from its start by this process and, when given, the simulator's child
/// process; and the time their threads waited for a CPU.
#[derive(Debug)]
pub struct CpuMeter {
    sim: Option<String>,
    cpu: (f64, Option<f64>),
    queue: (f64, Option<f64>),
}

impl CpuMeter {
    pub fn start(sim_pid: Option<u32>) -> CpuMeter {
        let sim = sim_pid.map(|p| p.to_string());
        CpuMeter {
            cpu: read_both(cpu_seconds_of, sim.as_deref()),
            queue: read_both(run_queue_seconds_of, sim.as_deref()),
            sim,
        }
    }

    /// Seconds the threads waited for a CPU since the start (threads alive at the end):
    /// this process's, and the simulator's when it runs apart.
    pub fn queued(&self) -> (f64, Option<f64>) {
        self.since(run_queue_seconds_of, self.queue)
    }

    /// Seconds of CPU since the start: this process's, and the simulator's when it runs apart.
    pub fn spent(&self) -> (f64, Option<f64>) {
        self.since(cpu_seconds_of, self.cpu)
    }

    /// `read` now less its reading at the start, for this process and the simulator.
    fn since(&self, read: fn(&str) -> f64, at: (f64, Option<f64>)) -> (f64, Option<f64>) {
        let now = read_both(read, self.sim.as_deref());
        (now.0 - at.0, now.1.zip(at.1).map(|(n, a)| n - a))
    }
}

/// `read` of this process and, when given, of the simulator's.
fn read_both(read: fn(&str) -> f64, sim: Option<&str>) -> (f64, Option<f64>) {
    (read("self"), sim.map(read))
}
