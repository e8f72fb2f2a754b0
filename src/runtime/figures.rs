//! A copy's money figures as the runtime keeps them: every fill of our orders is stored
//! (from the follower's stream, or from the venue's trade history when the stream lost it:
//! see `fill_catchup`), and after fills, at each reconciliation and at each mark check the copy's PnL
//! (realized − fees + unrealized at mark of the positions it holds) is recorded as a figure
//! point and checked against `total_stop_loss` / `take_profit_total`, which stop the copy
//! with its `stop_action`.
//!
//! Funding: when the follower's stream reports a balance change for funding
//! (`ACCOUNT_UPDATE` reason `FUNDING_FEE`), and at every reconciliation (a missed event is
//! caught up), the follower's income records of kind `FUNDING_FEE` since the copy's last
//! stored one (or `t0`) are read. Each record on a symbol the copy holds is stored in
//! `copy_funding`, scaled to the copy's share of the follower's position on that symbol
//! (the venue pays funding per symbol, not per copy), and counts in the copy's PnL.
//!
//! Mark moves: copy-rules §4 wants the check on every mark-price update, also when nothing
//! fills. While a copy holds positions and has a total stop loss or take profit, the
//! supervisor reads the follower account every [`MARK_CHECK_MS`] (the venue computes
//! `unrealizedProfit` at the mark price, so the read is the mark) and runs the check. A read
//! was chosen over the venue's mark-price stream because the account read is the very
//! figure the stop must compare (our share of the venue's unrealized PnL, per position side,
//! with the venue's rounding), it needs no second socket with its own reconnect and resync
//! per symbol, and its cost is bounded: weight 5 per read, at most 100 a minute per copy out
//! of the 2,400 the venue allows, and nothing at all while the copy is flat or has no PnL
//! stop. The price of that choice is latency: a move is seen up to [`MARK_CHECK_MS`] late.

use rust_decimal::Decimal;

use crate::engine;
use crate::exchange::events::{Fill, OrderUpdate};
use crate::exchange::{AccountSnapshot, IncomeKind, IncomeQuery};
use crate::store::table::copy_funding::FundingRow;
use crate::store::table::figures::FigurePoint;
use crate::store::table::fills::Fill as StoredFill;

use super::after_send::OnFailure;
use super::follower::to_follower;
use super::supervisor::{CopyRunner, MARK_CHECK_MS};

impl CopyRunner {
    /// Stores one fill of an order of ours that the stream reported: kept for the copy's
    /// next commit (`runtime::after_send`), with the fill's other writes. The figures
    /// commit what is kept before they read the fills.
    pub(crate) fn record_fill(&mut self, u: &OrderUpdate, fill: &Fill) {
        let row = self.fill_row(
            &u.order.client_id,
            &u.order.symbol,
            u.order.side,
            fill,
            u.times.venue,
        );
        // A fill lost from an unsynced batch at a power cut (or a crash before the
        // commit) is read again by `fill_catchup` (the journal says filled, the fills do
        // not add up).
        self.after_send("a fill row", OnFailure::Log, move |s| {
            s.fills().record(&row).map(|_| ())
        });
    }

    /// Stores one fill of ours (a [`Self::fill_row`]) read from the venue's trade history
    /// (see `fill_catchup`): the fills table keeps one row per (copy, symbol, venue trade
    /// id), so a fill seen both ways counts once. True when the row is new.
    pub(crate) fn store_fill(&self, row: &StoredFill) -> bool {
        match self.with_store(|s| s.relaxed(|s| s.fills().record(row))) {
            Ok((id, _)) => id.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "fill not stored");
                false
            }
        }
    }

    /// The row of one fill of the order `client_id` of ours, its fee in the quote asset.
    pub(crate) fn fill_row(
        &self,
        client_id: &str,
        symbol: &str,
        side: crate::domain::Side,
        fill: &Fill,
        ts: i64,
    ) -> StoredFill {
        let (fee, fee_asset) = fill
            .commission
            .as_ref()
            .map_or((Decimal::ZERO, "USDT".to_owned()), |m| {
                self.fee_in_quote(symbol, m.amount, m.asset.as_str())
            });
        StoredFill {
            copy_id: self.copy_id,
            client_order_id: Some(client_id.to_owned()),
            venue_trade_id: fill.trade_id.clone(),
            symbol: symbol.to_owned(),
            side,
            qty: fill.quantity.get(),
            price: fill.price.get(),
            fee,
            fee_asset,
            realized_pnl: fill.realized_pnl,
            ts,
        }
    }

    /// Records the copy's figures from a follower snapshot and applies the PnL stops.
    pub(crate) async fn check_figures(&mut self, snap: &AccountSnapshot) {
        self.figures_and_stops(snap, true).await;
    }

    /// Records the copy's figures from a follower snapshot without applying the PnL
    /// stops (a stopping copy's last figures).
    pub(crate) fn record_figures(&mut self, snap: &AccountSnapshot) {
        self.figures(snap, true);
    }

    /// Computes the copy's figures and stores them as a point when `record` (mark checks
    /// do not, or the table would grow by one row every few seconds) or when they cross a
    /// PnL stop. Returns the copy's PnL; None when its fills cannot be read.
    fn figures(&mut self, snap: &AccountSnapshot, record: bool) -> Option<Decimal> {
        // The fills kept for the next commit count in these figures.
        self.commit_after_send();
        let id = self.copy_id;
        // Running totals: only the fills and payments stored since the last call are read.
        let mut sums = self.figure_sums.lock().unwrap_or_else(|p| p.into_inner());
        let mut figures = match self.with_store(|s| sums.update(s, id)) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(copy = %self.name, error = %e, "the copy's fills could not be read; no figures");
                return None;
            }
        };
        drop(sums);
        // Only the share of each position this copy holds counts.
        let mut unrealized = Decimal::ZERO;
        for pos in self.ctx.ledger.positions.values() {
            let key = pos.follower_key();
            if let Some(p) = snap
                .positions
                .iter()
                .find(|p| p.symbol == key.symbol && p.position_side == key.side)
            {
                let held = p.signed_quantity.abs();
                if held > Decimal::ZERO {
                    unrealized += p.unrealized_pnl * (pos.qty.min(held) / held);
                }
            }
        }
        figures.unrealized = unrealized;
        let investment = self.ctx.settings.investment.unwrap_or_default();
        let point = FigurePoint {
            copy_id: id,
            ts: self.clock.now_ms(),
            realized_pnl: figures.realized,
            unrealized_pnl: figures.unrealized,
            fees: figures.fees,
            funding: figures.funding,
            equity: investment + figures.pnl(),
            roi: figures.roi_pct(investment).unwrap_or_default(),
        };
        // A point that stops the copy is always kept: it is the figure the stop acted on.
        if record || engine::risk::pnl_stop(&self.ctx.settings, figures.pnl()).is_some() {
            // A point describes, it does not decide: kept for the copy's next commit of
            // its writes after the send (through the lane, with the other copies'), made
            // durable by the writer's next batch.
            self.after_send("a figures point", OnFailure::Log, move |s| {
                s.figures().record(&point).map(|_| ())
            });
        }
        Some(figures.pnl())
    }

    /// Computes and stores the copy's figures (see `figures`) and applies the PnL stops.
    async fn figures_and_stops(&mut self, snap: &AccountSnapshot, record: bool) {
        // The fills kept for the next commit count in these figures: committed through
        // the lane here, so that `figures` finds nothing left to commit on its own.
        self.flush_after_send().await;
        let Some(pnl) = self.figures(snap, record) else {
            return;
        };
        let f = to_follower(snap, Default::default());
        let check_id = format!("pnl:{}", self.clock.now_ms());
        let plan = engine::plan_pnl_check(&self.ctx, &f, pnl, &check_id);
        if !plan.actions.is_empty() && !self.is_stopping() {
            // The reason names the stop and the numbers (PnL and limit), as the notice does.
            let (cause, why) = engine::risk::pnl_stop(&self.ctx.settings, pnl)
                .map(|(kind, text)| (super::notify::StopCause::of_notice(kind), text))
                .unwrap_or_else(|| (None, "total stop loss or take profit reached".to_owned()));
            self.stop_cause_seen = cause.or(Some(super::notify::StopCause::StopLoss));
            for (kind, text) in plan.notices() {
                self.tell(
                    super::notify::NotifyLevel::Warning,
                    super::notify::NotifyKind::of_notice(kind),
                    Some(kind),
                    text.to_owned(),
                );
            }
            // Through the stop itself: with close-all the copy is stopping until flat.
            let action = self.ctx.settings.risk.stop_action;
            self.stop_copy(action, &why).await;
        }
    }

    /// Reads the follower's funding records since the copy's last stored one and stores
    /// the copy's share of those on symbols it holds. True when something new was stored.
    pub(crate) async fn collect_funding(&mut self) -> bool {
        let id = self.copy_id;
        if self.ctx.ledger.positions.is_empty() {
            return false;
        }
        // Inclusive: a second record in the same millisecond is kept; duplicates are not.
        let since = self
            .with_store(|s| s.copy_funding().latest_ts(id))
            .ok()
            .flatten()
            .unwrap_or(self.ctx.t0_ms)
            .max(self.ctx.t0_ms);
        let query = IncomeQuery {
            kind: Some(IncomeKind::FundingFee),
            start: Some(since),
            limit: Some(1000),
            ..IncomeQuery::default()
        };
        let records = match self.follower.ex.income(&query).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "funding records not read");
                return false;
            }
        };
        if records.is_empty() {
            return false;
        }
        let Some(snap) = self.follower_snapshot().await else {
            return false;
        };
        let mut new = false;
        for rec in records {
            let Some(symbol) = rec.symbol.clone() else {
                continue;
            };
            // The copy's share of the follower's position on the symbol, both sides summed:
            // a funding record names the symbol only.
            let ours: Decimal = self
                .ctx
                .ledger
                .positions
                .values()
                .filter(|p| p.follower_key().symbol == symbol)
                .map(|p| p.qty)
                .sum();
            let held: Decimal = snap
                .positions
                .iter()
                .filter(|p| p.symbol == symbol)
                .map(|p| p.signed_quantity.abs())
                .sum();
            if ours.is_zero() || held.is_zero() {
                continue;
            }
            let amount = (rec.amount.amount * (ours.min(held) / held)).round_dp(8);
            let row = FundingRow {
                copy_id: id,
                venue_id: rec.venue_id.clone(),
                symbol: symbol.clone(),
                amount,
                asset: rec.amount.asset.as_str().to_owned(),
                ts: rec.time,
            };
            match self.with_store(|s| s.copy_funding().record(&row)) {
                Ok(true) => {
                    new = true;
                    self.say(
                        super::notify::NotifyLevel::Info,
                        super::notify::NotifyKind::Funding,
                        format!(
                            "funding on {symbol}: {} {} for this copy",
                            amount.normalize(),
                            row.asset
                        ),
                    );
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "funding not stored"),
            }
        }
        new
    }

    /// A mark check: with positions held and a PnL stop set, a fresh account read (its
    /// unrealized PnL is at the mark) goes through [`Self::check_figures`].
    pub(crate) async fn mark_check(&mut self) {
        self.next_mark_check_ms = self.clock.now_ms() + MARK_CHECK_MS;
        let r = &self.ctx.settings.risk;
        let has_stop = r.total_stop_loss.is_some() || r.take_profit_total.is_some();
        if !has_stop || self.ctx.ledger.positions.is_empty() {
            return;
        }
        if let Some(snap) = self.fresh_snapshot().await {
            self.figures_and_stops(&snap, false).await;
        }
    }
}
