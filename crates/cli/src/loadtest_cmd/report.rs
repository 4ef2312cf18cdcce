//! What a load test measured, and how it is printed (text, or one JSON object).

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

/// Error messages kept for the report (the count is exact; the text only of the first few).
pub const KEPT_ERRORS: usize = 5;

/// What the session workers gathered.
#[derive(Debug, Default)]
pub struct Tally {
    pub sessions: usize,
    pub messages: usize,
    /// Latencies of the sessions that completed, in microseconds.
    pub latencies_us: Vec<u64>,
    pub errors: usize,
    pub first_errors: Vec<String>,
}

impl Tally {
    pub fn error(&mut self, why: String) {
        self.errors += 1;
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(why);
        }
    }
}

/// Session latency percentiles, milliseconds (nearest rank over the completed sessions).
#[derive(Debug, Serialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    /// `None` when no session completed.
    pub fn of(latencies_us: &mut [u64]) -> Option<Latency> {
        if latencies_us.is_empty() {
            return None;
        }
        latencies_us.sort_unstable();
        let n = latencies_us.len();
        let rank = |p: f64| {
            let i = ((p / 100.0) * n as f64).ceil() as usize;
            latencies_us[i.clamp(1, n) - 1] as f64 / 1000.0
        };
        let sum: u64 = latencies_us.iter().sum();
        Some(Latency {
            p50: rank(50.0),
            p95: rank(95.0),
            p99: rank(99.0),
            max: latencies_us[n - 1] as f64 / 1000.0,
            mean: sum as f64 / n as f64 / 1000.0,
        })
    }
}

/// The bare `GET /healthz` run of `--baseline`.
#[derive(Debug, Serialize)]
pub struct Baseline {
    /// Requests per run (as many as the sessions' messages).
    pub requests: usize,
    /// Each run's requests/s, in ascending order.
    pub runs: Vec<f64>,
    /// Failed requests, all runs.
    pub errors: usize,
    /// The median run's wall time and rate (the ratios use it).
    pub elapsed_s: f64,
    pub requests_per_s: f64,
    /// DM sessions/s ÷ (bare requests/s ÷ HTTP round trips per session): against a floor of
    /// one bare request per round trip.
    pub ratio: f64,
    /// DM sessions/s ÷ (bare requests/s ÷ 4), issue 7's figure: a session is 4 DM messages
    /// (packages #1 to #4, two round trips), and the issue divides the bare rate by 4.
    pub issue_ratio: f64,
}

/// The whole result; `--json` prints it as is.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The first `--server` (the REST calls went there).
    pub server: String,
    /// Every `--server`; device n's sessions went to `servers[(n - 1) % len]`.
    pub servers: Vec<String>,
    pub devices: usize,
    pub concurrency: usize,
    pub auth: &'static str,
    pub encoding: &'static str,
    pub commands_per_session: usize,
    /// Sessions run (completed and failed).
    pub sessions: usize,
    pub completed: usize,
    pub errors: usize,
    pub error_messages: Vec<String>,
    /// Messages the devices POSTed (one HTTP round trip each).
    pub messages: usize,
    pub messages_per_session: f64,
    /// Wall time of the session phases (enrollment and queueing excluded).
    pub elapsed_s: f64,
    pub sessions_per_s: f64,
    pub messages_per_s: f64,
    pub latency_ms: Option<Latency>,
    /// The load generator's own CPU over the session phases (Linux; absent elsewhere): on one
    /// machine with the server, its share of the cores is not the server's.
    pub cpu: Option<Cpu>,
    pub enroll_s: f64,
    pub queue_s: f64,
    pub baseline: Option<Baseline>,
}

/// The load generator's CPU time (user + system) over the session phases.
#[derive(Debug, Serialize)]
pub struct Cpu {
    pub seconds: f64,
    pub per_session_us: f64,
}

impl Cpu {
    pub fn of(total: Duration, sessions: usize) -> Cpu {
        Cpu {
            seconds: total.as_secs_f64(),
            per_session_us: if sessions > 0 {
                total.as_secs_f64() * 1e6 / sessions as f64
            } else {
                0.0
            },
        }
    }
}

/// This process's CPU time so far, user plus system, from `/proc/self/stat` (fields 14 and 15,
/// in the kernel's USER_HZ of 100 ticks a second, so 10 ms steps); `None` where there is no
/// such file.
pub fn own_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu(&stat)
}

fn parse_cpu(stat: &str) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        utime.checked_add(stime)?.checked_mul(10)?,
    ))
}

pub fn rate(n: usize, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 {
        n as f64 / s
    } else {
        0.0
    }
}

impl Report {
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} devices ({} auth, {}), concurrency {}, {} commands per session, against {}",
            self.devices,
            self.auth,
            self.encoding,
            self.concurrency,
            self.commands_per_session,
            self.servers.join(", ")
        );
        let _ = writeln!(
            s,
            "sessions:   {} ({} completed, {} failed) in {:.2} s: {:.1} sessions/s",
            self.sessions, self.completed, self.errors, self.elapsed_s, self.sessions_per_s
        );
        let _ = writeln!(
            s,
            "messages:   {} ({:.2} per session): {:.1} messages/s",
            self.messages, self.messages_per_session, self.messages_per_s
        );
        match &self.latency_ms {
            Some(l) => {
                let _ = writeln!(
                    s,
                    "latency:    p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms (max {:.2} ms, mean {:.2} ms)",
                    l.p50, l.p95, l.p99, l.max, l.mean
                );
            }
            None => s.push_str("latency:    no session completed\n"),
        }
        if let Some(c) = &self.cpu {
            let _ = writeln!(
                s,
                "load gen.:  {:.2} s CPU over the sessions, {:.0} µs per session",
                c.seconds, c.per_session_us
            );
        }
        let _ = writeln!(
            s,
            "setup:      enrollment {:.2} s, queueing commands {:.2} s (not in the rates)",
            self.enroll_s, self.queue_s
        );
        if let Some(b) = &self.baseline {
            let _ = writeln!(
                s,
                "baseline:   {} runs of {} GET /healthz, median {:.2} s: {:.1} requests/s (runs {}; \
                 {} failed); ratio {:.3} (sessions/s ÷ (requests/s ÷ {:.2} messages per session)); \
                 issue 7 ratio {:.3} (sessions/s ÷ (requests/s ÷ 4))",
                b.runs.len(),
                b.requests,
                b.elapsed_s,
                b.requests_per_s,
                b.runs
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                b.errors,
                b.ratio,
                self.messages_per_session,
                b.issue_ratio
            );
        }
        let _ = writeln!(s, "errors:     {}", self.errors);
        for e in &self.error_messages {
            let _ = writeln!(s, "  {e}");
        }
        if self.errors > self.error_messages.len() {
            let _ = writeln!(
                s,
                "  ... and {} more",
                self.errors - self.error_messages.len()
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).rev().map(|i| i * 1000).collect();
        let l = Latency::of(&mut v).unwrap();
        assert_eq!((l.p50, l.p95, l.p99, l.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(l.mean, 50.5);
        let mut one = vec![2500];
        let l = Latency::of(&mut one).unwrap();
        assert_eq!((l.p50, l.p99), (2.5, 2.5));
        assert!(Latency::of(&mut []).is_none());
    }

    #[test]
    fn tally_keeps_the_first_errors_and_counts_all() {
        let mut a = Tally::default();
        for i in 0..8 {
            a.error(format!("e{i}"));
        }
        assert_eq!(a.errors, 8);
        assert_eq!(a.first_errors, ["e0", "e1", "e2", "e3", "e4"]);
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::*;

    #[test]
    fn cpu_is_read_after_the_command_name() {
        // A command name with spaces and a parenthesis; utime 250 and stime 50 ticks.
        let stat = "4242 (omadm (load) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 100";
        assert_eq!(parse_cpu(stat), Some(Duration::from_millis(3_000)));
        assert_eq!(parse_cpu("4242 (x) S 1 2"), None);
        assert_eq!(parse_cpu("no parenthesis"), None);
        assert_eq!(parse_cpu("1 (x) S 1 2 3 4 5 6 7 8 9 10 -1 5"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_used_some_cpu() {
        let spin = (0..2_000_000u64).fold(0u64, |a, b| a.wrapping_add(b * b));
        assert!(spin > 0);
        assert!(own_cpu().is_some());
    }
}
