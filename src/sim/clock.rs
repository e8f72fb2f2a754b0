//! The simulator's clock: wall time plus an offset the admin API advances, so tests move
//! simulated time (funding, listenKey expiry, socket age) without sleeping. Request
//! timestamps are checked against a separate "server clock" (wall time plus a fault
//! shift), so clients keep signing with their own clocks after simulated time jumps.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

#[derive(Debug, Default)]
pub struct SimClock {
    advance_ms: AtomicI64,
    server_shift_ms: AtomicI64,
    last_event_ms: AtomicI64,
}

fn wall_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl SimClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Simulated exchange time: drives funding, expiries and every time field in payloads.
    pub fn now(&self) -> Millis {
        wall_ms() + self.advance_ms.load(Ordering::SeqCst)
    }

    /// What `GET /fapi/v1/time` reports and what request timestamps are checked against.
    pub fn server_time(&self) -> Millis {
        wall_ms() + self.server_shift_ms.load(Ordering::SeqCst)
    }

    pub fn advance(&self, ms: Millis) -> Millis {
        self.advance_ms.fetch_add(ms, Ordering::SeqCst);
        self.now()
    }

    /// How far simulated time runs ahead of wall time (what [`Self::advance`] added up).
    pub fn offset(&self) -> Millis {
        self.advance_ms.load(Ordering::SeqCst)
    }

    /// Sets the offset of simulated time (restoring a saved simulator).
    pub fn set_offset(&self, ms: Millis) {
        self.advance_ms.store(ms, Ordering::SeqCst);
    }

    pub fn set_server_shift(&self, ms: Millis) {
        self.server_shift_ms.store(ms, Ordering::SeqCst);
    }

    /// An event time that never goes backwards, even when wall time does.
    pub fn event_time(&self) -> Millis {
        let now = self.now();
        let prev = self.last_event_ms.fetch_max(now, Ordering::SeqCst);
        prev.max(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_sim_time_but_not_server_time() {
        let c = SimClock::new();
        let before = c.server_time();
        let sim = c.advance(3_600_000);
        assert!(sim - before >= 3_600_000, "sim time should jump by an hour");
        assert!(
            c.server_time() - before < 3_600_000,
            "server time for request checks should not jump"
        );
    }

    #[test]
    fn event_times_never_decrease() {
        let c = SimClock::new();
        let a = c.event_time();
        c.advance(-10_000);
        let b = c.event_time();
        assert!(b >= a, "event time went back from {a} to {b}");
    }
}
