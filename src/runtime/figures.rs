//! A copy's money figures as the runtime keeps them: every fill of our orders is stored,
//! and after fills and at each reconciliation the copy's PnL (realized − fees + unrealized
//! at mark of the positions it holds) is recorded as a figure point and checked against
//! `total_stop_loss` / `take_profit_total`, which stop the copy with its `stop_action`.
//! Funding is not yet collected, so it counts as zero.

use rust_decimal::Decimal;

use crate::engine;
use crate::engine::figures::{CopyEvent, CopyFigures};
use crate::exchange::events::{Fill, OrderUpdate};
use crate::exchange::AccountSnapshot;
use crate::store::table::figures::FigurePoint;
use crate::store::table::fills::Fill as StoredFill;

use super::follower::to_follower;
use super::supervisor::CopyRunner;

impl CopyRunner {
    /// Stores one fill of an order of ours.
    pub(crate) fn record_fill(&self, u: &OrderUpdate, fill: &Fill) {
        let (fee, fee_asset) = fill
            .commission
            .as_ref()
            .map_or((Decimal::ZERO, "USDT".to_owned()), |m| {
                (m.amount, m.asset.as_str().to_owned())
            });
        let row = StoredFill {
            copy_id: self.copy_id,
            client_order_id: Some(u.order.client_id.clone()),
            venue_trade_id: fill.trade_id.clone(),
            symbol: u.order.symbol.clone(),
            side: u.order.side,
            qty: fill.quantity.get(),
            price: fill.price.get(),
            fee,
            fee_asset,
            realized_pnl: fill.realized_pnl,
            ts: u.times.venue,
        };
        if let Err(e) = self.with_store(|s| s.fills().record(&row)) {
            tracing::warn!(error = %e, "fill not stored");
        }
    }

    /// Records the copy's figures from a follower snapshot and applies the PnL stops.
    pub(crate) async fn check_figures(&mut self, snap: &AccountSnapshot) {
        let id = self.copy_id;
        let Ok(fills) = self.with_store(|s| s.fills().for_copy(id)) else {
            return;
        };
        let events: Vec<CopyEvent> = fills
            .iter()
            .map(|(_, f)| CopyEvent::Fill {
                realized_pnl: f.realized_pnl,
                commission: f.fee,
            })
            .collect();
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
        let figures = CopyFigures::from_events(&events, unrealized);
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
        let _ = self.with_store(|s| s.figures().record(&point));
        let f = to_follower(snap, Default::default());
        let check_id = format!("pnl:{}", self.clock.now_ms());
        let plan = engine::plan_pnl_check(&self.ctx, &f, figures.pnl(), &check_id);
        if !plan.actions.is_empty() {
            self.execute(plan, None).await;
            self.ctx.state = engine::CopyState::Stopped;
            let now = self.clock.now_ms();
            let why = "total stop loss or take profit reached";
            let _ = self.with_store(|s| s.copies().stop(id, now, why));
            self.say(
                super::notify::NotifyLevel::Warning,
                "stopped",
                format!("copy stopped: {why}"),
            );
        }
    }
}
