//! The request-weight limiter. Binance counts weight per IP per calendar minute, so every
//! account of the process talking to one host shares one limiter. The same counter, with
//! a 10-second or 1-minute window, also paces each account's order count. Requests wait
//! before the limit is reached (the budget is below the venue's limit), the venue's own
//! count from `X-MBX-USED-WEIGHT-1M` corrects ours, a `429` pauses everyone until the
//! venue's `Retry-After`, and a `418` ban makes every request fail at once until it lifts.
//!
//! Background reads (an account leader's trade history for its figures, reconciliation's
//! reads) book on the same limiter at low priority ([`WeightLimiter::acquire_background`]):
//! they use at most [`BACKGROUND_PERCENT`] of the budget per window, leave the weight the
//! copies' own requests took in the last window ([`FOREGROUND_RESERVE_PERCENT`] of it) for
//! them, and stand aside whenever a copy's request is waiting, so a background read never
//! takes the weight a copy needs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::exchange::clock::{Clock, SystemClock};
use crate::exchange::error::ExchangeError;
use crate::exchange::types::Millis;

/// Venue limit per minute when exchangeInfo has not said otherwise.
pub const DEFAULT_LIMIT: u32 = 2400;
/// Share of the limit we allow ourselves: leaves room for other tools on the same IP and
/// for our estimate lagging the venue's count.
const BUDGET_PERCENT: u32 = 80;
/// Default ban length when a `418` comes without `Retry-After` (the shortest ban).
const DEFAULT_BAN: Duration = Duration::from_secs(120);

/// Share of the budget background reads may use per window; the rest stays for copies.
pub const BACKGROUND_PERCENT: u32 = 50;
/// Share of the copies' own weight in the last window that background reads leave free
/// in this one (what the copies took, and a quarter more for a busier minute). Without
/// it, background reads that waited for a window took their whole share at its start,
/// and a busy copy's stop cancels then waited for the next window.
pub const FOREGROUND_RESERVE_PERCENT: u32 = 125;
/// How long a background read stands aside while a copy's request waits, before it looks
/// again.
const BACKGROUND_YIELD: Duration = Duration::from_millis(50);

/// A wait longer than this is worth telling the user about.
pub const LONG_WAIT_MS: Millis = 1_000;

#[derive(Debug, Default)]
struct State {
    window: Millis,
    used: u32,
    /// Weight the copies' own requests (not background reads) booked in this window, and
    /// in the window before it (0 when that window was not the previous one).
    foreground_used: u32,
    foreground_before: u32,
    paused_until: Millis,
    banned_until: Millis,
    waits: u64,
    waited_ms: u64,
    long_waits: u64,
    /// How many of `long_waits` a caller has claimed to tell the user about.
    announced_long_waits: u64,
    longest_wait_ms: u64,
    /// Foreground (copy) requests waiting for room now.
    foreground_waiting: u32,
    /// Background reads waiting for room now, and how often one had to wait.
    background_waiting: u32,
    background_waits: u64,
}

/// Shared request-weight budget for one venue host.
#[derive(Debug)]
pub struct WeightLimiter {
    budget: AtomicU32,
    window_ms: Millis,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl WeightLimiter {
    /// A limiter for a venue limit of `limit` weight per minute.
    pub fn new(limit: u32, clock: Arc<dyn Clock>) -> Self {
        Self::with_window(limit, Duration::from_secs(60), clock)
    }

    /// A limiter allowing `limit` per `window` (windows aligned to the epoch, like the
    /// venue's counters).
    pub fn with_window(limit: u32, window: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            window_ms: duration_to_ms(window).max(1),
            budget: AtomicU32::new(budget_for(limit)),
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// The process-wide limiter for a host (one per IP-facing host, shared by every
    /// account).
    pub fn shared_for(host: &str) -> Arc<WeightLimiter> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<WeightLimiter>>>> = OnceLock::new();
        let registry = REGISTRY.get_or_init(|| Mutex::new(HashMap::new()));
        let mut map = match registry.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(host.to_owned())
            .or_insert_with(|| Arc::new(WeightLimiter::new(DEFAULT_LIMIT, Arc::new(SystemClock))))
            .clone()
    }

    /// Weight we allow ourselves per minute.
    pub fn budget(&self) -> u32 {
        self.budget.load(Ordering::Relaxed)
    }

    /// Adopts the venue's published per-minute limit (from `exchangeInfo.rateLimits`).
    pub fn set_limit(&self, limit: u32) {
        self.budget.store(budget_for(limit), Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters inconsistent in a way
        // that matters more than stopping all trading would.
        match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// What the limiter has counted: weight used this window against the budget and the
    /// venue's limit, and the waits it imposed since the start.
    pub fn usage(&self) -> crate::exchange::WeightUsage {
        let mut s = self.lock();
        let now = self.clock.now_ms();
        roll(&mut s, now, self.window_ms);
        let budget = self.budget();
        crate::exchange::WeightUsage {
            used: s.used,
            budget,
            limit: budget.saturating_mul(100) / BUDGET_PERCENT,
            window_ms: u64::try_from(self.window_ms).unwrap_or(0),
            waits: s.waits,
            waited_ms: s.waited_ms,
            long_waits: s.long_waits,
            longest_wait_ms: s.longest_wait_ms,
            background_waits: s.background_waits,
            waiting_now: s.foreground_waiting + s.background_waiting,
            paused_until_ms: if s.paused_until > now {
                s.paused_until
            } else {
                0
            },
            banned_until_ms: if s.banned_until > now {
                s.banned_until
            } else {
                0
            },
        }
    }

    /// The usage, when a wait longer than a second happened since the last claim: the
    /// first caller after such a wait gets it, later callers `None` until the next one. So
    /// one wait of the address's budget is told once, not once by every account on it.
    pub fn claim_long_waits(&self) -> Option<crate::exchange::WeightUsage> {
        {
            let mut s = self.lock();
            if s.long_waits <= s.announced_long_waits {
                return None;
            }
            s.announced_long_waits = s.long_waits;
        }
        Some(self.usage())
    }

    /// Waits until `weight` fits in the current minute, then books it. Fails at once while
    /// the IP is banned. Every wait is counted (see [`WeightLimiter::usage`]).
    pub async fn acquire(&self, weight: u32) -> Result<(), ExchangeError> {
        let started = self.clock.now_ms();
        let mut waited = false;
        let result = self.acquire_inner(weight, &mut waited).await;
        if waited {
            let ms = u64::try_from(self.clock.now_ms() - started).unwrap_or(0);
            let mut s = self.lock();
            s.waits += 1;
            s.waited_ms += ms;
            s.longest_wait_ms = s.longest_wait_ms.max(ms);
            if ms > u64::try_from(LONG_WAIT_MS).unwrap_or(u64::MAX) {
                s.long_waits += 1;
                tracing::warn!(waited_ms = ms, "request weight budget made a request wait");
            }
        }
        result
    }

    /// Like [`WeightLimiter::acquire`] at low priority: books `weight` only while this
    /// window's use stays within [`BACKGROUND_PERCENT`] of the budget and clear of what
    /// the copies' requests are expected to need in it, and no foreground request is
    /// waiting. Its waits are counted apart ([`WeightLimiter::background_waits`])
    /// and never in [`WeightLimiter::usage`], which reports what copies waited.
    pub async fn acquire_background(&self, weight: u32) -> Result<(), ExchangeError> {
        let mut counted = false;
        let result = loop {
            let wait = {
                let mut s = self.lock();
                let now = self.clock.now_ms();
                if s.banned_until > now {
                    break Err(ExchangeError::Banned {
                        retry_after: ms_to_duration(s.banned_until - now),
                    });
                }
                roll(&mut s, now, self.window_ms);
                let room = background_room(&s, self.budget());
                if s.paused_until > now {
                    s.paused_until - now
                } else if s.foreground_waiting > 0 {
                    duration_to_ms(BACKGROUND_YIELD)
                } else if s.used.saturating_add(weight) <= room || (s.used == 0 && weight > room) {
                    s.used = s.used.saturating_add(weight);
                    if counted {
                        s.background_waiting -= 1;
                    }
                    return Ok(());
                } else {
                    (s.window + 1) * self.window_ms - now
                }
            };
            {
                let mut s = self.lock();
                if !counted {
                    counted = true;
                    s.background_waiting += 1;
                    s.background_waits += 1;
                }
            }
            self.clock.sleep(ms_to_duration(wait.max(1))).await;
        };
        if counted {
            self.lock().background_waiting -= 1;
        }
        result
    }

    /// Background reads waiting for room now (tests watch a history fetch stand aside).
    pub fn background_waiting(&self) -> u32 {
        self.lock().background_waiting
    }

    /// How many background reads had to wait since the start.
    pub fn background_waits(&self) -> u64 {
        self.lock().background_waits
    }

    async fn acquire_inner(&self, weight: u32, waited: &mut bool) -> Result<(), ExchangeError> {
        // Counted while it waits, so background reads stand aside for it.
        struct Waiting<'a>(&'a WeightLimiter, bool);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                if self.1 {
                    self.0.lock().foreground_waiting -= 1;
                }
            }
        }
        let mut mark = Waiting(self, false);
        loop {
            let wait = {
                let mut s = self.lock();
                let now = self.clock.now_ms();
                if s.banned_until > now {
                    return Err(ExchangeError::Banned {
                        retry_after: ms_to_duration(s.banned_until - now),
                    });
                }
                roll(&mut s, now, self.window_ms);
                if s.paused_until > now {
                    s.paused_until - now
                } else if weight == 0
                    || s.used.saturating_add(weight) <= self.budget()
                    || s.used == 0
                {
                    // A request heavier than the whole budget still goes, alone in its
                    // window, rather than waiting forever. One that weighs nothing (an
                    // order: the venue counts those per account, not in the address's
                    // weight) never waits for the weight window.
                    s.used = s.used.saturating_add(weight);
                    s.foreground_used = s.foreground_used.saturating_add(weight);
                    return Ok(());
                } else {
                    tracing::debug!(
                        used = s.used,
                        weight,
                        budget = self.budget(),
                        "budget spent; waiting for the next window"
                    );
                    (s.window + 1) * self.window_ms - now
                }
            };
            *waited = true;
            if !mark.1 {
                mark.1 = true;
                self.lock().foreground_waiting += 1;
            }
            self.clock.sleep(ms_to_duration(wait.max(1))).await;
        }
    }

    /// Takes the venue's count for the current minute from a response header.
    pub fn observe_used(&self, used: u32) {
        let mut s = self.lock();
        let now = self.clock.now_ms();
        roll(&mut s, now, self.window_ms);
        // Never lower our estimate: requests booked but not yet answered are not in the
        // venue's count yet.
        s.used = s.used.max(used);
    }

    /// The venue answered `429`: hold every request until `retry_after` (or the start of
    /// this limiter's next window) has passed.
    pub fn pause(&self, retry_after: Option<Duration>) {
        let mut s = self.lock();
        let now = self.clock.now_ms();
        let until = match retry_after {
            Some(d) => now + duration_to_ms(d),
            None => (now.div_euclid(self.window_ms) + 1) * self.window_ms,
        };
        s.paused_until = s.paused_until.max(until);
    }

    /// The venue answered `418`: refuse every request until the ban lifts. Returns its
    /// length.
    pub fn ban(&self, retry_after: Option<Duration>) -> Duration {
        let d = retry_after.unwrap_or(DEFAULT_BAN);
        let mut s = self.lock();
        let now = self.clock.now_ms();
        s.banned_until = s.banned_until.max(now + duration_to_ms(d));
        d
    }
}

fn budget_for(limit: u32) -> u32 {
    (limit.saturating_mul(BUDGET_PERCENT) / 100).max(1)
}

fn roll(s: &mut State, now: Millis, window_ms: Millis) {
    let window = now.div_euclid(window_ms);
    if window != s.window {
        s.foreground_before = if window == s.window + 1 {
            s.foreground_used
        } else {
            0
        };
        s.foreground_used = 0;
        s.window = window;
        s.used = 0;
    }
}

/// The most this window's use may reach with a background read booked: its share of the
/// budget, less what the copies' requests are still expected to need in this window (what
/// they took in the last one, [`FOREGROUND_RESERVE_PERCENT`] of it, less what they took
/// so far in this one). At least 1: a read heavier than that still goes alone at a
/// window's start, so reconciliation is slowed by a busy minute, never stopped.
fn background_room(s: &State, budget: u32) -> u32 {
    let share = budget.saturating_mul(BACKGROUND_PERCENT) / 100;
    let expected =
        u32::try_from(u64::from(s.foreground_before) * u64::from(FOREGROUND_RESERVE_PERCENT) / 100)
            .unwrap_or(u32::MAX);
    let reserve = expected.saturating_sub(s.foreground_used);
    share.min(budget.saturating_sub(reserve)).max(1)
}

fn ms_to_duration(ms: Millis) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn duration_to_ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}
