//! Smart Sync's leader equity, current at the signal (issue 12 item 6). `ACCOUNT_UPDATE`
//! carries only the positions that changed, so the unrealized PnL the tracker keeps for the
//! leader's other positions goes stale as prices move. For an open, the equity is taken,
//! in this order, from: the wallets alone when no other position is open; the wallets plus
//! every other position at the streamed mark prices, each at most
//! [`MARK_STALE_MS`](super::account_state::MARK_STALE_MS) old (no REST read); a fresh read
//! of the leader's account when a mark is missing or older (the stored unrealized PnL can
//! be stale by any price move, whatever its age); the stored equity, said to be such, only
//! when that read fails. The decision log (the audit trail) names the equity used, its
//! source and its age.

use rust_decimal::Decimal;

use crate::domain::{CopyMode, LeaderSignal, SignalKind};
use crate::engine::PositionKey;

use super::supervisor::CopyRunner;

/// Margin assets whose balances count toward leader equity.
const EQUITY_ASSETS: [&str; 2] = ["USDT", "USDC"];

impl CopyRunner {
    /// Replaces a Smart Sync open's `equity_before` with the equity current now, and
    /// returns the decision-log line that says which it is.
    pub(crate) async fn current_equity(&mut self, signal: &mut LeaderSignal) -> Option<String> {
        if self.ctx.settings.mode != CopyMode::SmartSync {
            return None;
        }
        let SignalKind::Fill(f) = &mut signal.kind else {
            return None;
        };
        // A polled leader's equity is its margin balance from the portfolio's detail,
        // already on the signal; there is no account to read.
        let venue = self.leader.venue().map(|v| v.ex.clone())?;
        let (before, after) = (f.position_before, f.position_after());
        let opens = !after.is_zero()
            && crate::engine::Direction::of(before) != crate::engine::Direction::of(after);
        if !opens {
            return None;
        }
        let key = PositionKey::new(signal.symbol.name.clone(), signal.position_side);
        let now = self.clock.now_ms();
        let venue_now = now + self.server_offset_ms;
        let at_marks = {
            let st = self.account.lock();
            self.tracker
                .equity_at_marks(&key, &|s: &str| st.mark(s, now))
        };
        let (equity, note) = if let Some(e) = at_marks {
            (
                e,
                format!(
                    "leader equity {} = USDT/USDC wallets + other positions at streamed marks (at most {} ms old)",
                    e.round_dp(2).normalize(),
                    super::account_state::MARK_STALE_MS
                ),
            )
        } else {
            let (stored, oldest) = self.tracker.stored_equity(&key);
            match oldest.map(|t| venue_now.saturating_sub(t)) {
                // No other position: the wallets are the equity, and they are current.
                None => (
                    stored,
                    format!(
                        "leader equity {} = USDT/USDC wallets (no other position open)",
                        stored.round_dp(2).normalize()
                    ),
                ),
                // A mark is missing: the stored unrealized PnL may be stale by any amount
                // of price move, so the account is read now.
                Some(age) => match venue.account().await {
                    Ok(snap) => {
                        let e: Decimal = snap
                            .balances
                            .iter()
                            .filter(|b| EQUITY_ASSETS.contains(&b.asset.as_str()))
                            .map(|b| b.margin_balance)
                            .sum();
                        (
                            e,
                            format!(
                                "leader equity {} read now (a mark of another leader position was older than {} ms; the stored {} was {age} ms old)",
                                e.round_dp(2).normalize(),
                                super::account_state::MARK_STALE_MS,
                                stored.round_dp(2).normalize()
                            ),
                        )
                    }
                    Err(err) => (
                        stored,
                        format!(
                            "leader equity {} as of the last account event, {age} ms old: no current mark and a fresh read failed ({err})",
                            stored.round_dp(2).normalize()
                        ),
                    ),
                },
            }
        };
        f.equity_before = Some(equity);
        tracing::info!(copy = %self.name, symbol = %signal.symbol.name, "{note}");
        Some(note)
    }

    /// Writes the equity line to the decision log of the copy.
    pub(crate) fn log_equity(&self, note: &str, signal_id: Option<i64>) {
        let (id, ts) = (self.copy_id, self.clock.now_ms());
        let written = self.with_store(|s| {
            s.audit().record(&crate::store::table::audit::NewDecision {
                ts,
                copy_id: Some(id),
                signal_id,
                action: "leader-equity",
                reason: note,
                detail: None,
            })
        });
        if let Err(e) = written {
            tracing::warn!(error = %e, "the leader equity line was not logged");
        }
    }
}
