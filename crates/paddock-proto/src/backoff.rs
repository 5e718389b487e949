//! The one exponential backoff every retry in the workspace uses: a
//! message's redelivery delay on the bus, a BigQuery request, a registry
//! request. It lives here because every crate already depends on this one.

use std::time::Duration;

/// `initial * 2^attempt`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first retry.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry).
    /// Never overflows, however large `attempt` is.
    pub fn delay(&self, attempt: u64) -> Duration {
        let exponent = u32::try_from(attempt.min(31)).unwrap_or(31);
        self.initial
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_delay_doubles_the_last_until_the_cap() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let delays: Vec<Duration> = (0..6).map(|a| backoff.delay(a)).collect();
        for pair in delays.windows(2) {
            assert!(pair[1] == (pair[0] * 2).min(backoff.max), "{delays:?}");
        }
        assert_eq!(delays[0], backoff.initial);
        assert_eq!(backoff.delay(u64::MAX), backoff.max);
        let huge = Backoff {
            initial: Duration::MAX,
            max: Duration::MAX,
        };
        assert_eq!(huge.delay(40), Duration::MAX);
    }
}
