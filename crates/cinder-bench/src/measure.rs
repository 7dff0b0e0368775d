//! What the load tools measure with: `/proc` readings of the server, latency
//! histograms and their JSON summary.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::time::{Instant, MissedTickBehavior};

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

    /// The CPU time a process has used, split as the kernel counts it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct CpuTime {
        /// In the process's own code and its libraries (`utime`), in µs.
        pub user_us: u64,
        /// In the kernel on the process's behalf (`stime`): system calls,
        /// and the network stack's work charged to them, in µs.
        pub system_us: u64,
    }

    impl CpuTime {
        /// User plus system time, in µs.
        pub fn total_us(self) -> u64 {
            self.user_us + self.system_us
        }

        /// The time used since `before`, an earlier reading.
        pub fn since(self, before: CpuTime) -> CpuTime {
            CpuTime {
                user_us: self.user_us.saturating_sub(before.user_us),
                system_us: self.system_us.saturating_sub(before.system_us),
            }
        }

        /// Each part divided by `count` (events, sessions, pages), as JSON
        /// `{"user": µs, "system": µs}`; `null` when there is no count.
        pub fn split_per(self, count: f64) -> serde_json::Value {
            match (
                super::per(self.user_us as f64, count),
                super::per(self.system_us as f64, count),
            ) {
                (Some(user), Some(system)) => serde_json::json!({"user": user, "system": system}),
                _ => serde_json::Value::Null,
            }
        }
    }

    /// What a process has used so far, from one reading of
    /// `/proc/<pid>/stat`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Usage {
        /// Its CPU time.
        pub cpu: CpuTime,
        /// Its page faults, minor and major (`minflt` and `majflt`): each
        /// first touch of a page of memory it did not have, which the
        /// kernel must find and clear, costs one.
        pub page_faults: u64,
    }

    impl Usage {
        /// What was used since `before`, an earlier reading.
        pub fn since(self, before: Usage) -> Usage {
            Usage {
                cpu: self.cpu.since(before.cpu),
                page_faults: self.page_faults.saturating_sub(before.page_faults),
            }
        }
    }

    /// What process `pid` has used so far; its CPU time at the clock
    /// tick's resolution (10 ms, usually).
    pub fn usage(pid: Option<u32>) -> Option<Usage> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
        // The command name may hold spaces; fields are counted after its
        // ')': `minflt` is the eighth of them, then `cminflt`, `majflt`,
        // `cmajflt`, `utime` and `stime`.
        let fields: Vec<u64> = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .skip(7)
            .take(6)
            .map(|field| field.parse().ok())
            .collect::<Option<_>>()?;
        let [minflt, _, majflt, _, utime, stime] = fields[..] else {
            return None;
        };
        // SAFETY: sysconf only reads a configuration value.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0)?;
        Some(Usage {
            cpu: CpuTime {
                user_us: utime * 1_000_000 / ticks,
                system_us: stime * 1_000_000 / ticks,
            },
            page_faults: minflt + majflt,
        })
    }

    /// What process `pid` used since `before`, a reading of [`usage`].
    pub fn usage_since(pid: Option<u32>, before: Option<Usage>) -> Option<Usage> {
        Some(usage(pid)?.since(before?))
    }

    /// The CPU time of process `pid` so far (`utime` and `stime` of
    /// `/proc/<pid>/stat`), at the clock tick's resolution (10 ms, usually).
    pub fn cpu_time(pid: Option<u32>) -> Option<CpuTime> {
        Some(usage(pid)?.cpu)
    }

    /// The CPU time the server used since `before`, a reading of
    /// [`cpu_time`].
    pub fn cpu_since(pid: Option<u32>, before: Option<CpuTime>) -> Option<CpuTime> {
        cpu_time(pid)
            .zip(before)
            .map(|(after, before)| after.since(before))
    }

    /// Adds what one side of a run of `count` setups used to a summary:
    /// `{side}_cpu_us_per_setup` with its split, and
    /// `{side}_page_faults_per_setup`.
    pub fn add_setup_fields(
        summary: &mut serde_json::Value,
        used: Option<Usage>,
        count: f64,
        side: &str,
    ) {
        let cpu_key = format!("{side}_cpu_us_per_setup");
        add_cpu_fields(summary, used.map(|used| used.cpu), count, &cpu_key);
        let faults = used.and_then(|used| super::per(used.page_faults as f64, count));
        super::merge(
            summary,
            serde_json::json!({ format!("{side}_page_faults_per_setup"): faults }),
        );
    }

    /// Adds a summary's two CPU fields for `count` units of work: the total
    /// per unit under `total_key`, and its user/system split under
    /// `total_key` + `_split`.
    pub fn add_cpu_fields(
        summary: &mut serde_json::Value,
        cpu: Option<CpuTime>,
        count: f64,
        total_key: &str,
    ) {
        let total = cpu.and_then(|cpu| super::per(cpu.total_us() as f64, count));
        let split = cpu.map_or(serde_json::Value::Null, |cpu| cpu.split_per(count));
        super::merge(
            summary,
            serde_json::json!({ total_key: total, format!("{total_key}_split"): split }),
        );
    }
}

/// Adds the fields of the JSON object `from` to the object `into`.
pub fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
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

#[cfg(test)]
mod tests {
    use super::server::{
        add_cpu_fields, add_setup_fields, cpu_time, usage, usage_since, CpuTime, Usage,
    };
    use super::*;

    #[test]
    fn cpu_time_is_split_into_user_and_system_per_unit() {
        let before = CpuTime {
            user_us: 1_000,
            system_us: 5_000,
        };
        let after = CpuTime {
            user_us: 4_000,
            system_us: 11_000,
        };
        let used = after.since(before);
        assert_eq!(used.total_us(), 9_000);
        let mut fields = json!({});
        add_cpu_fields(&mut fields, Some(used), 1_000.0, "server_cpu_us_per_event");
        assert_eq!(
            fields,
            json!({
                "server_cpu_us_per_event": 9.0,
                "server_cpu_us_per_event_split": {"user": 3.0, "system": 6.0},
            })
        );
        // Without a reading or a count, both fields are there, empty.
        let mut empty = json!({});
        add_cpu_fields(&mut empty, None, 1_000.0, "server_cpu_us_per_page");
        assert_eq!(
            empty,
            json!({"server_cpu_us_per_page": null, "server_cpu_us_per_page_split": null})
        );
        assert_eq!(used.split_per(0.0), Value::Null);
    }

    #[test]
    fn a_reading_never_goes_backwards() {
        let me = Some(std::process::id());
        let first = cpu_time(me).expect("this process is readable");
        let mut spin = 0u64;
        for i in 0..2_000_000u64 {
            spin = spin.wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(spin);
        let second = cpu_time(me).expect("this process is readable");
        assert!(second.user_us >= first.user_us && second.system_us >= first.system_us);
        // An earlier reading taken as "since" a later one counts nothing.
        assert_eq!(first.since(second).total_us(), 0);
    }

    #[test]
    fn touching_fresh_memory_counts_page_faults() {
        let me = Some(std::process::id());
        let before = usage(me).expect("this process is readable");
        // 64 MiB, more than the allocator ever serves from memory it had
        // (glibc maps a block of its own above at most 32 MiB): fresh
        // pages, each faulted in by the first write to it.
        let mut fresh = vec![0u8; 64 << 20];
        for page in fresh.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&fresh);
        let taken = usage_since(me, Some(before))
            .expect("this process is readable")
            .page_faults;
        assert!(taken >= 1, "{taken} page faults for 64 MiB of fresh memory");
        assert_eq!(usage_since(me, None), None, "no reading before");
        assert_eq!(usage(None), None, "no process");
    }

    #[test]
    fn a_sides_setup_fields_give_its_cpu_and_page_faults_per_setup() {
        let used = Usage {
            cpu: CpuTime {
                user_us: 40_000,
                system_us: 60_000,
            },
            page_faults: 4_450,
        };
        let mut fields = json!({});
        add_setup_fields(&mut fields, Some(used), 1_000.0, "server");
        add_setup_fields(&mut fields, None, 1_000.0, "generator");
        assert_eq!(
            fields,
            json!({
                "server_cpu_us_per_setup": 100.0,
                "server_cpu_us_per_setup_split": {"user": 40.0, "system": 60.0},
                "server_page_faults_per_setup": 4.45,
                "generator_cpu_us_per_setup": null,
                "generator_cpu_us_per_setup_split": null,
                "generator_page_faults_per_setup": null,
            })
        );
    }

    #[test]
    fn merge_adds_fields() {
        let mut into = json!({"a": 1});
        merge(&mut into, json!({"b": 2}));
        assert_eq!(into, json!({"a": 1, "b": 2}));
    }
}
