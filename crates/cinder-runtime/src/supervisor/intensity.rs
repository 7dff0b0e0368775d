//! Restart intensity: at most `max_restarts` restarts within `max_seconds`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// OTP's default: 3 restarts ...
pub const DEFAULT_MAX_RESTARTS: u32 = 3;
/// ... within 5 seconds.
pub const DEFAULT_MAX_SECONDS: Duration = Duration::from_secs(5);

/// The restarts one supervisor made recently.
#[derive(Debug, Clone)]
pub(crate) struct Intensity {
    max_restarts: u32,
    period: Duration,
    restarts: VecDeque<Instant>,
}

impl Intensity {
    pub(crate) fn new(max_restarts: u32, period: Duration) -> Self {
        Intensity {
            max_restarts,
            period,
            restarts: VecDeque::new(),
        }
    }

    /// Records a restart at `now`; false when that makes more than
    /// `max_restarts` within the period, and the supervisor must give up.
    pub(crate) fn record(&mut self, now: Instant) -> bool {
        while let Some(&oldest) = self.restarts.front() {
            if now.duration_since(oldest) > self.period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        self.restarts.len() <= self.max_restarts as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fourth_restart_within_the_period_exceeds_the_default() {
        let start = Instant::now();
        let mut intensity = Intensity::new(DEFAULT_MAX_RESTARTS, DEFAULT_MAX_SECONDS);
        for second in 0..3 {
            assert!(intensity.record(start + Duration::from_secs(second)));
        }
        assert!(!intensity.record(start + Duration::from_secs(3)));
    }

    #[test]
    fn restarts_older_than_the_period_are_forgotten() {
        let start = Instant::now();
        let mut intensity = Intensity::new(1, Duration::from_secs(5));
        assert!(intensity.record(start));
        assert!(intensity.record(start + Duration::from_secs(6)));
        assert!(!intensity.record(start + Duration::from_secs(7)));
    }

    #[test]
    fn zero_restarts_allows_none() {
        let mut intensity = Intensity::new(0, Duration::from_secs(5));
        assert!(!intensity.record(Instant::now()));
    }
}
