//! The risk gate: checks an open or increase must pass before it is sized (copy state,
//! signal age, quote asset, symbol lists, margin asset, multi-assets mode, one copy per
//! symbol, slippage against the leader's fill), and the copy-level PnL stop. Closing
//! actions never come here: they are never blocked.

use rust_decimal::Decimal;

use crate::domain::{
    CopySettings, MarginMode, Price, Rounding, Side, SlippageAction, Symbol, SymbolFilters,
};

use super::sizing::{show, Skip};
use super::types::{CopyContext, CopyState, FollowerSnapshot, NoticeKind, OrderType, PositionKey};

/// Age of a signal: local clock + measured server-time offset − event time.
pub fn signal_age_ms(now_ms: i64, server_offset_ms: i64, event_time_ms: i64) -> i64 {
    now_ms + server_offset_ms - event_time_ms
}

/// What the gate looks at for one open or increase.
#[derive(Debug, Clone)]
pub struct ExposureCheck<'a> {
    pub copy: &'a CopyContext,
    pub follower: &'a FollowerSnapshot,
    pub symbol: &'a Symbol,
    pub follower_key: &'a PositionKey,
    pub margin_mode: MarginMode,
    /// `None` for reconciliation, which has no leader fill to compare with.
    pub leader_fill: Option<(Side, Price)>,
    pub current_price: Price,
    pub filters: &'a SymbolFilters,
    /// Age of the signal in milliseconds, `None` for reconciliation.
    pub age_ms: Option<i64>,
}

/// Passes an open or increase, or says why not. On a pass, returns how to send it.
pub fn check_exposure(c: &ExposureCheck<'_>) -> Result<OrderType, Skip> {
    let s = &c.copy.settings;
    let name = &c.symbol.name;
    match c.copy.state {
        CopyState::Running => {}
        CopyState::Paused => {
            return Err(Skip::new(
                NoticeKind::CopyPaused,
                match &c.copy.held {
                    Some(why) => format!("skipped {name}: {why}"),
                    None => format!(
                        "skipped {name}: the copy is paused, so it opens and increases nothing"
                    ),
                },
            ))
        }
        CopyState::Stopped => {
            return Err(Skip::new(
                NoticeKind::CopyStopped,
                format!("skipped {name}: the copy is stopped"),
            ))
        }
        CopyState::Created => {
            return Err(Skip::new(
                NoticeKind::CopyStopped,
                format!("skipped {name}: the copy has not started"),
            ))
        }
    }
    if let Some(age) = c.age_ms {
        let max_ms = i64::try_from(s.risk.max_signal_age_secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        if age > max_ms {
            return Err(Skip::new(
                NoticeKind::TooOld,
                format!(
                    "skipped {name}: the signal is {} ms old, older than max_signal_age_secs {}",
                    age, s.risk.max_signal_age_secs
                ),
            ));
        }
    }
    if !s.risk.allowed_quote_assets.contains(&c.symbol.quote) {
        return Err(Skip::new(
            NoticeKind::QuoteNotAllowed,
            format!(
                "skipped {name}: quote asset {} is not in allowed_quote_assets",
                c.symbol.quote
            ),
        ));
    }
    if s.risk.symbol_blocklist.iter().any(|b| b == name) {
        return Err(Skip::new(
            NoticeKind::SymbolFiltered,
            format!("skipped {name}: it is in symbol_blocklist"),
        ));
    }
    if !s.risk.symbol_allowlist.is_empty() && !s.risk.symbol_allowlist.iter().any(|a| a == name) {
        return Err(Skip::new(
            NoticeKind::SymbolFiltered,
            format!("skipped {name}: it is not in symbol_allowlist"),
        ));
    }
    let wallet = c
        .follower
        .balances
        .get(&c.symbol.quote)
        .map(|b| b.wallet)
        .unwrap_or(Decimal::ZERO);
    if wallet <= Decimal::ZERO {
        return Err(Skip::new(
            NoticeKind::MarginAssetMissing,
            format!(
                "skipped {name}: the follower holds no {}, its margin asset",
                c.symbol.quote
            ),
        ));
    }
    if c.margin_mode == MarginMode::Isolated && c.follower.multi_assets_mode {
        return Err(Skip::new(
            NoticeKind::MultiAssetsWithIsolated,
            format!(
                "skipped {name}: the leader uses isolated margin and the follower is in \
                 multi-assets mode, which allows cross margin only"
            ),
        ));
    }
    if c.follower.held_by_other_copies.contains(c.follower_key) {
        return Err(Skip::new(
            NoticeKind::HeldByOtherCopy,
            format!("skipped {name}: another copy of this follower account holds {name}"),
        ));
    }
    slippage(c)
}

fn slippage(c: &ExposureCheck<'_>) -> Result<OrderType, Skip> {
    let Some((side, fill)) = c.leader_fill else {
        return Ok(OrderType::Market);
    };
    let s = &c.copy.settings;
    let pct = s.risk.slippage_pct_for(&c.symbol.base);
    let f = fill.get();
    let now = c.current_price.get();
    let band = f * pct / Decimal::ONE_HUNDRED;
    let (worse, cap) = match side {
        Side::Buy => (now > f + band, f + band),
        Side::Sell => (now < f - band, f - band),
    };
    if !worse {
        return Ok(OrderType::Market);
    }
    let moved = ((now - f) / f * Decimal::ONE_HUNDRED).abs();
    match s.risk.slippage_action {
        SlippageAction::Skip => Err(Skip::new(
            NoticeKind::Slippage,
            format!(
                "skipped {}: price {} is {}% from the leader's fill {}, beyond the slippage cap {}%",
                c.symbol.name,
                show(now),
                show(moved.round_dp(4)),
                show(f),
                show(pct)
            ),
        )),
        SlippageAction::IocLimit => {
            // Round toward the leader's price so the cap is never exceeded.
            let rounding = match side {
                Side::Buy => Rounding::Down,
                Side::Sell => Rounding::Up,
            };
            let price = crate::domain::filters::round_to_tick(cap, c.filters.tick_size, rounding);
            Ok(OrderType::IocLimit { price })
        }
    }
}

/// The copy's PnL as the stop rules count it: realized − commissions + funding +
/// unrealized at mark.
pub fn copy_pnl(
    realized: Decimal,
    commissions: Decimal,
    funding: Decimal,
    unrealized: Decimal,
) -> Decimal {
    realized - commissions + funding + unrealized
}

/// Whether the copy's PnL hit its total stop loss or take profit.
pub fn pnl_stop(settings: &CopySettings, pnl: Decimal) -> Option<(NoticeKind, String)> {
    let r = &settings.risk;
    if let Some(sl) = r.total_stop_loss {
        if let Some(limit) = sl.amount(settings.investment) {
            if pnl <= -limit {
                return Some((
                    NoticeKind::StopLoss,
                    format!(
                        "total stop loss: copy PnL {} reached -{} (total_stop_loss {})",
                        show(pnl),
                        show(limit),
                        sl
                    ),
                ));
            }
        }
    }
    if let Some(tp) = r.take_profit_total {
        if pnl >= tp {
            return Some((
                NoticeKind::TakeProfit,
                format!(
                    "take profit: copy PnL {} reached {} (take_profit_total)",
                    show(pnl),
                    show(tp)
                ),
            ));
        }
    }
    None
}
