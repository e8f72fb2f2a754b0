//! How a running copy rides out what the venue says when it will not act (issue 12 item
//! 14): a rate limit or an address ban holds every copy on that address (the `rate_limit`
//! hold, with the venue's wait) and lifts itself when the wait is over; an open refused
//! for insufficient margin is skipped with the numbers and never retried; a key the venue
//! refuses while the copy runs stops the copy safely, naming the key. Clock skew (`-1021`)
//! and an expired listen key are handled below the port (the adapter resyncs its clock
//! and retries once; the stream replaces its key, reconnects and resyncs).

use rust_decimal::Decimal;

use crate::engine::{CopyState, NoticeKind, OrderPlan};
use crate::exchange::{ErrorClass, ExchangeError};

use super::hold::HoldKind;
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// The venue's code for an order the account's margin cannot carry.
pub(crate) const INSUFFICIENT_MARGIN: i64 = -2019;

/// Whether an error is the venue telling us to wait (429) or an address ban (418).
pub(crate) fn is_rate_limit(e: &ExchangeError) -> bool {
    matches!(
        e,
        ExchangeError::RateLimited { .. } | ExchangeError::Banned { .. }
    )
}

impl CopyRunner {
    /// Raises the `rate_limit` hold while the follower's address must wait (429) or is
    /// banned (418), saying until when; lifts it once that time has passed. The limiter is
    /// shared by every account on the address, so every copy on it is held alike.
    pub(crate) fn check_rate_limit(&mut self) {
        let w = self.follower.ex.weight();
        let now = self.clock.now_ms();
        let (until, what) = if w.banned_until_ms > now {
            (
                w.banned_until_ms,
                "the venue banned this address (HTTP 418)",
            )
        } else if w.paused_until_ms > now {
            (
                w.paused_until_ms,
                "the venue's rate limit was hit (HTTP 429)",
            )
        } else {
            self.release(HoldKind::RateLimit);
            return;
        };
        let secs = (until - now + 999) / 1000;
        self.hold(
            HoldKind::RateLimit,
            format!("{what}: no requests for {secs} s as the venue asked; copying resumes after"),
        );
    }

    /// An open or increase the venue refused for insufficient margin: skipped with the
    /// numbers, never retried (the ledger declines it, so reconciliation does not either).
    pub(crate) fn insufficient_margin(&mut self, o: &OrderPlan, e: &ExchangeError) {
        let leverage = self
            .ctx
            .ledger
            .positions
            .get(&o.leader_key)
            .map_or(1, |p| p.leverage.max(1));
        let now = self.clock.now_ms();
        let price = self
            .leader_refs
            .get(&o.client_id)
            .map(|(p, _)| *p)
            .or_else(|| self.account.lock().current(&o.symbol.name, now));
        let (available, asset) = {
            let st = self.account.lock();
            let asset = o.symbol.quote.clone();
            let available = st.estimate(now).and_then(|s| {
                s.balances
                    .iter()
                    .find(|b| b.asset == asset)
                    .map(|b| b.available_balance)
            });
            (available, asset)
        };
        let needs = price.map(|p| o.qty.get() * p / Decimal::from(leverage));
        let show = |d: Option<Decimal>| {
            d.map_or("unknown".to_owned(), |d| {
                d.round_dp(2).normalize().to_string()
            })
        };
        self.tell(
            NotifyLevel::Warning,
            NotifyKind::Skip,
            Some(NoticeKind::InsufficientFunds),
            format!(
                "skipped {} {:?} {}: the venue says the margin is insufficient ({e}); it needs about {} {asset} at {leverage}x, the follower has {} {asset} available; not retried",
                o.symbol.name,
                o.side,
                o.qty.get(),
                show(needs),
                show(available),
            ),
        );
    }

    /// A key the venue refused (`-2015`, `-2014`, `-1022`) while the copy runs: the copy
    /// stops at once without trading (its positions keep their venue-side stops) and the
    /// user is told which key to replace. Returns true when it stopped the copy.
    pub(crate) fn key_refused(&mut self, account: &str, e: &ExchangeError) -> bool {
        if e.class() != ErrorClass::Fatal || self.ctx.state == CopyState::Stopped {
            return false;
        }
        let key = if account.starts_with('`') || account.starts_with("the ") {
            account.to_owned()
        } else {
            format!("`{account}`")
        };
        let why = format!(
            "the venue refused the API key of {key} ({e}); the copy stopped without trading: its positions stay open with their protective stops; replace the key (or allow this IP) and start the copy again"
        );
        self.ctx.state = CopyState::Stopped;
        self.stop_requested = None;
        self.store_stop(self.clock.now_ms(), &why);
        self.say_detail(
            NotifyLevel::Error,
            NotifyKind::Stopped,
            super::notify::NotifyDetail::KeyProblem,
            format!("copy stopped: {why}"),
        );
        true
    }
}
