//! Symbol rules from `exchangeInfo`, and the rounding and minimum checks every order
//! passes before it is sent: quantity floored to the step (the market step for market
//! orders), price to the tick, minimum quantity and notional (market orders at the mark
//! price; reduce-only orders exempt from the notional).

use rust_decimal::Decimal;

use crate::domain::{
    Asset, FilterViolation, Price, Quantity, Rounding, Side, Symbol, SymbolFilters,
};
use crate::exchange::error::ExchangeError;
use crate::exchange::types::{SymbolRules, TradingStatus};

use super::parse::{ExchangeInfo, RawFilter, RawSymbol};

/// Rules of every symbol in `info`. Symbols whose filters are incomplete are skipped with
/// a warning rather than failing the whole list.
pub fn rules_from_exchange_info(info: ExchangeInfo) -> Vec<SymbolRules> {
    info.symbols
        .into_iter()
        .filter_map(|s| {
            let name = s.symbol.clone();
            match symbol_rules(s) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(symbol = %name, error = %e, "skipping symbol with unusable rules");
                    None
                }
            }
        })
        .collect()
}

fn symbol_rules(s: RawSymbol) -> Result<SymbolRules, ExchangeError> {
    let what = format!("exchangeInfo symbol {}", s.symbol);
    let asset = |field: &str, v: &str| {
        Asset::new(v).map_err(|e| ExchangeError::Decode {
            what: what.clone(),
            detail: format!("field `{field}`: {e}"),
        })
    };
    let mut price = None;
    let mut lot = None;
    let mut market_lot = None;
    let mut min_notional = Decimal::ZERO;
    for f in s.filters {
        match f {
            RawFilter::Price {
                min_price,
                max_price,
                tick_size,
            } => price = Some((min_price, max_price, tick_size)),
            RawFilter::LotSize {
                min_qty,
                max_qty,
                step_size,
            } => lot = Some((min_qty, max_qty, step_size)),
            RawFilter::MarketLotSize {
                min_qty,
                max_qty,
                step_size,
            } => market_lot = Some((min_qty, max_qty, step_size)),
            RawFilter::MinNotional { notional } => min_notional = notional,
            RawFilter::Other => {}
        }
    }
    let missing = |name: &str| ExchangeError::Decode {
        what: what.clone(),
        detail: format!("field `filters`: no {name} filter"),
    };
    let (min_price, max_price, tick) = price.ok_or_else(|| missing("PRICE_FILTER"))?;
    let (min_qty, max_qty, step) = lot.ok_or_else(|| missing("LOT_SIZE"))?;
    // Without a MARKET_LOT_SIZE filter, market orders follow the lot size.
    let (m_min, m_max, m_step) = market_lot.unwrap_or((min_qty, max_qty, step));
    let status = match s.status.as_str() {
        "TRADING" => TradingStatus::Trading,
        other => TradingStatus::Halted(other.to_owned()),
    };
    Ok(SymbolRules {
        symbol: Symbol::new(
            s.symbol.clone(),
            asset("baseAsset", &s.base_asset)?,
            asset("quoteAsset", &s.quote_asset)?,
        ),
        margin_asset: asset("marginAsset", &s.margin_asset)?,
        status,
        filters: SymbolFilters {
            tick_size: tick,
            step_size: step,
            // A zero market step would mean "any quantity"; Binance never sends one, but
            // if it did, the limit step is the safe choice.
            market_step_size: if m_step.is_zero() { step } else { m_step },
            min_qty,
            max_qty,
            market_min_qty: m_min,
            market_max_qty: if m_max.is_zero() { max_qty } else { m_max },
            min_notional,
        },
        min_price,
        max_price,
        // USD-M quantities are base units already.
        contract_size: Decimal::ONE,
    })
}

/// An order's quantity and price after rounding, ready to format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub quantity: Decimal,
    pub price: Option<Decimal>,
}

/// Rounds and checks an order. `reference_price` is the limit price, or the mark price for
/// a market order. Limit prices round away from the market (buys down, sells up) so a
/// rounded order is never more aggressive than asked.
pub fn prepare(
    rules: &SymbolRules,
    side: Side,
    quantity: Quantity,
    limit_price: Option<Price>,
    mark_price: Option<Price>,
    reduces: bool,
) -> Result<Prepared, ExchangeError> {
    let name = &rules.symbol.name;
    if let TradingStatus::Halted(status) = &rules.status {
        return Err(ExchangeError::Invalid {
            field: "symbol",
            reason: format!("{name} is not trading (status {status})"),
        });
    }
    let market = limit_price.is_none();
    let f = &rules.filters;
    let q = f.floor_qty(quantity, market);
    let price = match limit_price {
        Some(p) => {
            let rounding = match side {
                Side::Buy => Rounding::Down,
                Side::Sell => Rounding::Up,
            };
            let rounded = f.round_price(p, rounding);
            Some(Price::new(rounded).map_err(|_| ExchangeError::Invalid {
                field: "price",
                reason: format!("{p} rounds to zero at tick {}", f.tick_size),
            })?)
        }
        None => None,
    };
    let reference = match (price, mark_price) {
        (Some(p), _) => p,
        (None, Some(m)) => m,
        (None, None) => {
            return Err(ExchangeError::Invalid {
                field: "mark price",
                reason: format!("needed to check a market order's notional on {name}"),
            })
        }
    };
    f.check(q, reference, market, reduces)
        .map_err(|violation: FilterViolation| ExchangeError::Filter {
            symbol: name.clone(),
            violation,
        })?;
    if let Some(p) = price {
        let v = p.get();
        if (!rules.min_price.is_zero() && v < rules.min_price)
            || (!rules.max_price.is_zero() && v > rules.max_price)
        {
            return Err(ExchangeError::Invalid {
                field: "price",
                reason: format!(
                    "{v} is outside {name}'s bounds {} to {}",
                    rules.min_price, rules.max_price
                ),
            });
        }
    }
    Ok(Prepared {
        quantity: q.get(),
        price: price.map(Price::get),
    })
}

/// A trigger price on the tick grid (nearest, as the venue's clients do).
pub fn round_trigger(rules: &SymbolRules, trigger: Price) -> Result<Decimal, ExchangeError> {
    let v = rules.filters.round_price(trigger, Rounding::Nearest);
    if v <= Decimal::ZERO {
        return Err(ExchangeError::Invalid {
            field: "trigger price",
            reason: format!(
                "{trigger} rounds to zero at tick {}",
                rules.filters.tick_size
            ),
        });
    }
    Ok(v)
}

/// Decimal text the venue accepts: plain digits, no exponent, no trailing float noise.
pub fn format_decimal(v: Decimal) -> String {
    // `Decimal`'s Display never uses exponent notation; normalising drops trailing zeros
    // that would otherwise exceed the symbol's precision after arithmetic.
    v.normalize().to_string()
}
