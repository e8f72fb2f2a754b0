//! Retry timing of what the engine keeps trying until it holds: a protective stop that is
//! not in place, the closes of a stopping copy. The first retry comes after
//! [`Backoff::FIRST_MS`], each next one after twice the last, up to a cap (the
//! reconciliation interval), so a venue that keeps refusing is not hammered and a brief
//! fault is repaired within about a second.

/// When to try again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// Local time of the next try; `None` while nothing needs retrying.
    next_ms: Option<i64>,
    /// Wait before the try after the next one.
    step_ms: i64,
}

impl Backoff {
    pub(crate) const FIRST_MS: i64 = 1_000;

    /// Something failed at `now`: schedules the next try, waiting longer each time up to
    /// `cap_ms`.
    pub(crate) fn failed(&mut self, now: i64, cap_ms: i64) {
        let step = if self.step_ms == 0 {
            Self::FIRST_MS
        } else {
            self.step_ms
        };
        let step = step.min(cap_ms.max(Self::FIRST_MS));
        self.next_ms = Some(now + step);
        self.step_ms = step.saturating_mul(2);
    }

    /// It holds now: no more retries, and the next failure starts short again.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Whether a retry is scheduled (something is still failing).
    pub(crate) fn pending(&self) -> bool {
        self.next_ms.is_some()
    }

    /// Local time of the next try, while one is scheduled.
    pub(crate) fn next_ms(&self) -> Option<i64> {
        self.next_ms
    }

    /// Whether a retry is due at `now`.
    pub(crate) fn due(&self, now: i64) -> bool {
        self.next_ms.is_some_and(|t| now >= t)
    }

    /// The wait before the next try, for messages.
    pub(crate) fn wait_ms(&self, now: i64) -> Option<i64> {
        self.next_ms.map(|t| (t - now).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_restart_after_a_success() {
        let mut b = Backoff::default();
        assert!(!b.due(0), "nothing is due before a failure");
        b.failed(0, 5_000);
        assert_eq!(b.wait_ms(0), Some(1_000), "the first retry comes after 1 s");
        assert!(!b.due(999) && b.due(1_000), "due exactly at its time");
        b.failed(1_000, 5_000);
        assert_eq!(b.wait_ms(1_000), Some(2_000), "then 2 s");
        b.failed(3_000, 5_000);
        b.failed(7_000, 5_000);
        assert_eq!(b.wait_ms(7_000), Some(5_000), "never longer than the cap");
        b.clear();
        assert!(!b.due(i64::MAX), "a success clears the retry");
        b.failed(0, 5_000);
        assert_eq!(
            b.wait_ms(0),
            Some(1_000),
            "the next failure starts short again"
        );
    }
}
