//! Small retry helpers.

use std::time::{SystemTime, UNIX_EPOCH};

/// Exponential backoff with an upper bound, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    base_ms: u64,
    max_ms: u64,
}

impl Backoff {
    pub fn new(base_ms: u64, max_ms: u64) -> Self {
        Backoff { base_ms: base_ms.max(1), max_ms: max_ms.max(base_ms) }
    }

    /// Delay before the given attempt (0-based), with up to 25% jitter.
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let exp = self.base_ms.saturating_mul(1u64 << attempt.min(30));
        let capped = exp.min(self.max_ms);
        capped - jitter(capped / 4)
    }
}

/// A default backoff: 100 ms doubling up to 10 s.
pub fn default_backoff() -> Backoff {
    Backoff::new(100, 10_000)
}

/// Number of worker threads the helpers assume.
pub fn available_parallelism() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn jitter(max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos() as u64).unwrap_or(0);
    nanos % max
}
