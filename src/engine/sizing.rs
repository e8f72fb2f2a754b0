//! Sizing of the follower's side of a leader open or increase: the mode's rule (Smart Sync,
//! fixed amount, fixed ratio), then the fit to the symbol's filters, the copy's free funds
//! and the position cap, with the minimum-size bump. Owns no state; says why in numbers.

use rust_decimal::Decimal;

use crate::domain::filters::floor_to_step;
use crate::domain::{CopyMode, CopySettings, Price, SymbolFilters};

use super::types::NoticeKind;

/// A decimal as people read it: at most 8 decimals, no trailing zeros.
pub(crate) fn show(d: Decimal) -> Decimal {
    d.round_dp(8).normalize()
}

/// `qty` rounded down to the symbol's market-order step (negative counts as zero).
pub fn floor_market(filters: &SymbolFilters, qty: Decimal) -> Decimal {
    floor_to_step(qty.max(Decimal::ZERO), filters.step(true))
}

/// A reason not to act, with the notice that tells the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub kind: NoticeKind,
    pub text: String,
}

impl Skip {
    pub fn new(kind: NoticeKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: text.into(),
        }
    }
}

/// The mode's answer for a leader open: follower quantity before rounding, margin and
/// leverage, and the arithmetic as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeSize {
    pub raw_qty: Decimal,
    pub margin: Decimal,
    pub leverage: u32,
    pub why: String,
}

/// Follower leverage: the leader's, capped by `max_leverage`.
pub fn follower_leverage(leader_leverage: u32, max_leverage: u32) -> u32 {
    leader_leverage.min(max_leverage).max(1)
}

/// Sizes the follower's side of a leader open of `leader_qty` at the sizing price.
pub fn size_open(
    settings: &CopySettings,
    leader_qty: Decimal,
    price: Price,
    leader_leverage: u32,
    equity_before: Option<Decimal>,
) -> Result<ModeSize, Skip> {
    let p = price.get();
    let lev = follower_leverage(leader_leverage, settings.risk.max_leverage);
    let l = Decimal::from(lev);
    let lead_l = Decimal::from(leader_leverage.max(1));
    match settings.mode {
        CopyMode::SmartSync => {
            let equity = match equity_before {
                Some(e) if e > Decimal::ZERO => e,
                _ => {
                    return Err(Skip::new(
                        NoticeKind::NoLeaderEquity,
                        "skipped: the leader's equity is unknown, and smart-sync sizes from it",
                    ))
                }
            };
            let investment = settings.investment.unwrap_or(Decimal::ZERO);
            let leader_margin = leader_qty * p / lead_l;
            let r = leader_margin / equity;
            let m = r * investment;
            let notional = m * l;
            Ok(ModeSize {
                raw_qty: notional / p,
                margin: m,
                leverage: lev,
                why: format!(
                    "leader margin {} ({} × {} / {}x) is {}% of equity {}; {}% of investment {} \
                     = margin {} at {}x (leader {}x, max {}x) = notional {}",
                    show(leader_margin),
                    show(leader_qty),
                    show(p),
                    leader_leverage,
                    show(r * Decimal::ONE_HUNDRED),
                    show(equity),
                    show(r * Decimal::ONE_HUNDRED),
                    show(investment),
                    show(m),
                    lev,
                    leader_leverage,
                    settings.risk.max_leverage,
                    show(notional)
                ),
            })
        }
        CopyMode::FixedAmount => {
            let m = settings.amount_per_order.unwrap_or(Decimal::ZERO);
            let notional = m * l;
            Ok(ModeSize {
                raw_qty: notional / p,
                margin: m,
                leverage: lev,
                why: format!(
                    "fixed amount {} at {}x (leader {}x, max {}x) = notional {}",
                    show(m),
                    lev,
                    leader_leverage,
                    settings.risk.max_leverage,
                    show(notional)
                ),
            })
        }
        CopyMode::FixedRatio => {
            let ratio = settings.ratio.unwrap_or(Decimal::ZERO);
            let raw = leader_qty * ratio;
            Ok(ModeSize {
                raw_qty: raw,
                margin: raw * p / l,
                leverage: lev,
                why: format!(
                    "leader quantity {} × ratio {} = {} at {}x (leader {}x, max {}x)",
                    show(leader_qty),
                    show(ratio),
                    show(raw),
                    lev,
                    leader_leverage,
                    settings.risk.max_leverage
                ),
            })
        }
    }
}

/// Limits an open or increase must fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitLimits {
    /// Margin the copy may still use.
    pub free_funds: Decimal,
    /// Where `free_funds` comes from, for the reason.
    pub free_what: String,
    /// Follower quantity already held on the position (for the position cap).
    pub existing_qty: Decimal,
    pub max_position_notional: Option<Decimal>,
    /// `Some(factor)`: the minimum-size bump is allowed up to `factor × margin`.
    pub bump_factor: Option<Decimal>,
}

/// The follower quantity to send and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    /// Quantity the rule and the minimum bump call for (the basis of `k`).
    pub intended: Decimal,
    /// Quantity to send.
    pub qty: Decimal,
    /// Part of `intended` the funds or the position cap declined.
    pub declined: Decimal,
    /// Margin the sent quantity takes.
    pub margin: Decimal,
    pub why: Vec<String>,
}

/// Rounds down to the market step and fits the minimum size, free funds, the position
/// cap and the market maximum.
pub fn fit(
    raw_qty: Decimal,
    margin: Decimal,
    leverage: u32,
    price: Price,
    filters: &SymbolFilters,
    limits: &FitLimits,
) -> Result<Fitted, Skip> {
    let p = price.get();
    let l = Decimal::from(leverage.max(1));
    let step = filters.step(true);
    let min = filters.min_tradable_qty(price, true).get();
    let mut why = Vec::new();
    let mut qty = floor_market(filters, raw_qty);
    why.push(format!(
        "{} at price {} rounds down to {} (step {})",
        show(raw_qty),
        show(p),
        show(qty),
        show(step)
    ));
    if qty < min {
        let need = min * p / l;
        let min_text = format!(
            "{} is below the minimum {} (min qty {}, min notional {} at {})",
            show(qty),
            show(min),
            show(filters.market_min_qty),
            show(filters.min_notional),
            show(p)
        );
        let Some(factor) = limits.bump_factor else {
            return Err(Skip::new(
                NoticeKind::BelowMinimum,
                format!("skipped: {min_text}"),
            ));
        };
        if need > factor * margin {
            return Err(Skip::new(
                NoticeKind::BelowMinimum,
                format!(
                    "skipped: {min_text}; raising it needs margin {}, more than {} × {} = {}",
                    show(need),
                    show(factor),
                    show(margin),
                    show(factor * margin)
                ),
            ));
        }
        if need > limits.free_funds {
            return Err(Skip::new(
                NoticeKind::BelowMinimum,
                format!(
                    "skipped: {min_text}; raising it needs margin {}, more than the {} of {}",
                    show(need),
                    limits.free_what,
                    show(limits.free_funds)
                ),
            ));
        }
        why.push(format!(
            "raised to the minimum {}: margin {} is within {} × {} and the {} of {}",
            show(min),
            show(need),
            show(factor),
            show(margin),
            limits.free_what,
            show(limits.free_funds)
        ));
        qty = min;
    }
    let intended = qty;
    let need = qty * p / l;
    if need > limits.free_funds {
        let reduced = floor_market(filters, limits.free_funds.max(Decimal::ZERO) * l / p);
        if reduced < min {
            return Err(Skip::new(
                NoticeKind::InsufficientFunds,
                format!(
                    "skipped: {} needs margin {}, but the {} is {}, below what the minimum {} needs",
                    show(qty),
                    show(need),
                    limits.free_what,
                    show(limits.free_funds),
                    show(min)
                ),
            ));
        }
        why.push(format!(
            "reduced to {}: margin {} is more than the {} of {}",
            show(reduced),
            show(need),
            limits.free_what,
            show(limits.free_funds)
        ));
        qty = reduced;
    }
    if let Some(cap) = limits.max_position_notional {
        let room = floor_market(filters, (cap / p - limits.existing_qty).max(Decimal::ZERO));
        if qty > room {
            if room < min {
                return Err(Skip::new(
                    NoticeKind::PositionCapped,
                    format!(
                        "skipped: max_position_notional {} leaves room for {} at {} on top of {}, below the minimum {}",
                        show(cap),
                        show(room),
                        show(p),
                        show(limits.existing_qty),
                        show(min)
                    ),
                ));
            }
            why.push(format!(
                "capped to {} by max_position_notional {} (already held {})",
                show(room),
                show(cap),
                show(limits.existing_qty)
            ));
            qty = room;
        }
    }
    if qty > filters.market_max_qty {
        let max = floor_market(filters, filters.market_max_qty);
        why.push(format!(
            "capped to the market maximum {}",
            show(filters.market_max_qty)
        ));
        qty = max;
    }
    Ok(Fitted {
        intended,
        qty,
        declined: intended - qty,
        margin: qty * p / l,
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::RiskSettings;
    use crate::domain::{CopySettings, Preset, StartActions};
    use rust_decimal_macros::dec;

    fn smart(investment: Decimal) -> CopySettings {
        CopySettings {
            mode: CopyMode::SmartSync,
            investment: Some(investment),
            amount_per_order: None,
            ratio: None,
            copy_ongoing_positions: false,
            preset: Preset::None,
            start: StartActions::default(),
            risk: RiskSettings::default(),
        }
    }

    fn price(p: Decimal) -> Price {
        Price::new(p).expect("test price is positive")
    }

    #[test]
    fn smart_sync_margin_follows_the_leaders_allocation() {
        // Leader margin 0.1 × 50,000 / 5 = 1,000 of equity 10,000 = 10 %.
        let s = size_open(
            &smart(dec!(1000)),
            dec!(0.1),
            price(dec!(50000)),
            5,
            Some(dec!(10000)),
        )
        .expect("sized");
        assert_eq!(
            s.margin,
            dec!(100),
            "10 % of investment 1,000 should be margin 100"
        );
        assert_eq!(s.leverage, 5, "leader's 5x is within max 5x");
        assert_eq!(
            s.raw_qty,
            dec!(0.01),
            "notional 500 at 50,000 should be 0.01"
        );
    }

    #[test]
    fn smart_sync_without_equity_is_skipped_naming_the_cause() {
        let e = size_open(&smart(dec!(1000)), dec!(1), price(dec!(10)), 5, None)
            .expect_err("no equity, no size");
        assert_eq!(e.kind, NoticeKind::NoLeaderEquity);
        assert!(
            e.text.contains("equity is unknown"),
            "text names the cause: {}",
            e.text
        );
    }
}
