//! What the load tools measure with: `/proc` readings of the server, latency
//! histograms and their JSON summary.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::time::{Instant, MissedTickBehavior};

/// Raises this process's soft open-files limit to its hard limit, since
/// each held session is a socket. Returns the limit in force.
pub fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the duration of the calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// What `/proc` says about the server process.
pub mod server {
    /// Resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// User plus system CPU time in microseconds (`utime + stime` of
    /// `/proc/<pid>/stat`).
    pub fn cpu_micros(pid: Option<u32>) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
        // The command name may hold spaces; fields are counted after its ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0)?;
        Some((utime + stime) * 1_000_000 / ticks)
    }

    /// The CPU time the server spent since `before`, a reading of
    /// [`cpu_micros`], in microseconds.
    pub fn cpu_since(pid: Option<u32>, before: Option<u64>) -> Option<u64> {
        cpu_micros(pid)
            .zip(before)
            .map(|(after, before)| after.saturating_sub(before))
    }
}

/// A latency histogram in microseconds, up to a minute.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// A duration in whole microseconds, at least one (the histogram's floor).
pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Quantiles of a microsecond histogram, in milliseconds.
pub fn quantiles(histogram: &Histogram<u64>) -> Value {
    let ms = |micros: u64| micros as f64 / 1000.0;
    if histogram.is_empty() {
        return Value::Null;
    }
    json!({
        "p50_ms": ms(histogram.value_at_quantile(0.50)),
        "p90_ms": ms(histogram.value_at_quantile(0.90)),
        "p99_ms": ms(histogram.value_at_quantile(0.99)),
        "p999_ms": ms(histogram.value_at_quantile(0.999)),
        "max_ms": ms(histogram.max()),
    })
}

/// `numerator / denominator` to two decimals, or `None` when there is
/// nothing to divide by.
pub fn per(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| (numerator / denominator * 100.0).round() / 100.0)
}

/// Hands out `rate` events a second for `duration`, open loop: event `n`
/// is due `n / rate` seconds after the start, whatever the replies do. The
/// timer wakes every millisecond (tokio's resolution) and calls `send` with
/// the number of each event that fell due since. Returns how many events
/// were handed out, and a histogram of how late against their schedule.
pub async fn open_loop(
    rate: f64,
    duration: Duration,
    mut send: impl FnMut(u64),
) -> (u64, Histogram<u64>) {
    let mut lag = histogram();
    let started = Instant::now();
    let total = (rate * duration.as_secs_f64()) as u64;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut n = 0u64;
    while n < total {
        tick.tick().await;
        let elapsed = started.elapsed();
        let due = ((elapsed.as_secs_f64() * rate) as u64).min(total);
        while n < due {
            let scheduled = Duration::from_secs_f64(n as f64 / rate);
            let _ = lag.record(micros(elapsed.saturating_sub(scheduled)));
            send(n);
            n += 1;
        }
    }
    (n, lag)
}
