//! The follower's account and markets in the planner's terms: an exchange snapshot becomes
//! a [`FollowerSnapshot`], and a symbol's rules plus its quote a [`MarketInfo`].

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::domain::{MarginMode, Price};
use crate::engine::{
    Balance, FollowerOrder, FollowerPosition, FollowerSnapshot, MarketInfo, PositionKey,
    SymbolConfig,
};
use crate::exchange::{AccountSnapshot, ExResult, Exchange, SymbolRules};

/// The planner's view of a follower snapshot; `held_by_other` lists books that other
/// copies of the same follower account hold.
pub fn to_follower(
    snap: &AccountSnapshot,
    held_by_other: BTreeSet<PositionKey>,
) -> FollowerSnapshot {
    let balances = snap
        .balances
        .iter()
        .map(|b| {
            (
                b.asset.clone(),
                Balance {
                    wallet: b.wallet_balance,
                    available: b.available_balance,
                },
            )
        })
        .collect();
    let positions = snap
        .positions
        .iter()
        .filter(|p| !p.signed_quantity.is_zero())
        .map(|p| {
            let initial = if p.leverage > 0 {
                p.notional.abs() / Decimal::from(p.leverage)
            } else {
                p.margin
            };
            let removable = if p.margin_mode == MarginMode::Isolated {
                (p.margin - initial + p.unrealized_pnl.min(Decimal::ZERO)).max(Decimal::ZERO)
            } else {
                Decimal::ZERO
            };
            FollowerPosition {
                key: PositionKey::new(p.symbol.clone(), p.position_side),
                qty: p.signed_quantity,
                entry_price: p.entry_price.map_or(Decimal::ZERO, Price::get),
                margin_mode: p.margin_mode,
                isolated_margin: if p.margin_mode == MarginMode::Isolated {
                    p.margin
                } else {
                    Decimal::ZERO
                },
                unrealized_pnl: p.unrealized_pnl,
                maint_margin: p.maintenance_margin,
                max_removable_margin: removable,
            }
        })
        .collect();
    let mut symbol_configs = BTreeMap::new();
    for s in &snap.symbol_settings {
        symbol_configs.insert(
            s.symbol.clone(),
            SymbolConfig {
                leverage: s.leverage,
                margin_mode: s.margin_mode,
            },
        );
    }
    let mut open_orders: Vec<FollowerOrder> = snap
        .open_orders
        .iter()
        .map(|o| FollowerOrder {
            symbol: o.symbol.clone(),
            client_id: o.client_id.clone(),
            conditional: false,
        })
        .collect();
    open_orders.extend(snap.open_conditionals.iter().map(|o| FollowerOrder {
        symbol: o.symbol.clone(),
        client_id: o.client_id.clone(),
        conditional: true,
    }));
    FollowerSnapshot {
        position_mode: snap.position_mode,
        multi_assets_mode: snap.multi_assets,
        account_value: snap.equity,
        balances,
        positions,
        symbol_configs,
        open_orders,
        held_by_other_copies: held_by_other,
    }
}

/// Filters and prices of one symbol, with the mark price read now.
pub async fn market(venue: &dyn Exchange, rules: &SymbolRules) -> ExResult<MarketInfo> {
    let mark = venue.quote(&rules.symbol.name).await?.mark_price;
    Ok(MarketInfo {
        symbol: rules.symbol.clone(),
        filters: rules.filters.clone(),
        mark_price: mark,
        current_price: mark,
    })
}
