//! A symbol's trading filters (tick size, step sizes, quantity bounds, minimum notional)
//! and the rounding every order passes through before it is sent. Quantities are always
//! rounded down, so a copy never trades more than it was sized for.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::decimal;
use super::num::{Price, Quantity};

/// Direction for rounding a price to the tick grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    Down,
    Up,
    Nearest,
}

/// Filters of one symbol, as the venue publishes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolFilters {
    #[serde(with = "decimal")]
    pub tick_size: Decimal,
    /// Step of limit-order quantities.
    #[serde(with = "decimal")]
    pub step_size: Decimal,
    /// Step of market-order quantities (Binance's `MARKET_LOT_SIZE`).
    #[serde(with = "decimal")]
    pub market_step_size: Decimal,
    #[serde(with = "decimal")]
    pub min_qty: Decimal,
    #[serde(with = "decimal")]
    pub max_qty: Decimal,
    #[serde(with = "decimal")]
    pub market_min_qty: Decimal,
    #[serde(with = "decimal")]
    pub market_max_qty: Decimal,
    #[serde(with = "decimal")]
    pub min_notional: Decimal,
}

/// Why an order would be refused by the symbol's filters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterViolation {
    #[error("quantity {qty} is below the minimum {min}")]
    BelowMinQty { qty: Decimal, min: Decimal },
    #[error("quantity {qty} is above the maximum {max}")]
    AboveMaxQty { qty: Decimal, max: Decimal },
    #[error("notional {notional} is below the minimum {min}")]
    BelowMinNotional { notional: Decimal, min: Decimal },
    #[error("quantity rounds to zero at step {step}")]
    Zero { step: Decimal },
}

/// Largest multiple of `step` that is not above `value` (for `value >= 0`). A zero step
/// leaves the value as it is.
pub fn floor_to_step(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    let floored = value - value % step;
    floored.round_dp(step.scale())
}

/// `value` moved onto the `tick` grid in the given direction.
pub fn round_to_tick(value: Decimal, tick: Decimal, rounding: Rounding) -> Decimal {
    if tick <= Decimal::ZERO {
        return value;
    }
    let down = floor_to_step(value, tick);
    let rem = value - down;
    let rounded = match rounding {
        Rounding::Down => down,
        Rounding::Up if rem.is_zero() => down,
        Rounding::Up => down + tick,
        Rounding::Nearest if rem * Decimal::TWO >= tick => down + tick,
        Rounding::Nearest => down,
    };
    rounded.round_dp(tick.scale())
}

impl SymbolFilters {
    /// Step that applies to an order type.
    pub fn step(&self, market: bool) -> Decimal {
        if market {
            self.market_step_size
        } else {
            self.step_size
        }
    }

    /// `qty` rounded down to the step of the order type.
    pub fn floor_qty(&self, qty: Quantity, market: bool) -> Quantity {
        // Flooring a non-negative value keeps it non-negative.
        Quantity::new(floor_to_step(qty.get(), self.step(market))).unwrap_or(Quantity::ZERO)
    }

    /// `price` moved onto the tick grid.
    pub fn round_price(&self, price: Price, rounding: Rounding) -> Decimal {
        round_to_tick(price.get(), self.tick_size, rounding)
    }

    /// Minimum quantity that satisfies both the minimum quantity and, at `price`, the
    /// minimum notional, on the step of the order type.
    pub fn min_tradable_qty(&self, price: Price, market: bool) -> Quantity {
        let step = self.step(market);
        let min_qty = if market {
            self.market_min_qty
        } else {
            self.min_qty
        };
        let for_notional = self.min_notional / price.get();
        let mut need = min_qty.max(for_notional);
        let floored = floor_to_step(need, step);
        if floored < need {
            need = floored + step;
        }
        Quantity::new(need).unwrap_or(Quantity::ZERO)
    }

    /// Checks an already-rounded quantity against the bounds. Reduce-only orders are exempt
    /// from the minimum notional, as on the venues.
    pub fn check(
        &self,
        qty: Quantity,
        price: Price,
        market: bool,
        reduce_only: bool,
    ) -> Result<(), FilterViolation> {
        let q = qty.get();
        let (min, max) = if market {
            (self.market_min_qty, self.market_max_qty)
        } else {
            (self.min_qty, self.max_qty)
        };
        if q.is_zero() {
            return Err(FilterViolation::Zero {
                step: self.step(market),
            });
        }
        if q < min {
            return Err(FilterViolation::BelowMinQty { qty: q, min });
        }
        if q > max {
            return Err(FilterViolation::AboveMaxQty { qty: q, max });
        }
        let notional = qty.notional(price);
        if !reduce_only && notional < self.min_notional {
            return Err(FilterViolation::BelowMinNotional {
                notional,
                min: self.min_notional,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn btc() -> SymbolFilters {
        SymbolFilters {
            tick_size: dec!(0.10),
            step_size: dec!(0.001),
            market_step_size: dec!(0.001),
            min_qty: dec!(0.001),
            max_qty: dec!(1000),
            market_min_qty: dec!(0.001),
            market_max_qty: dec!(120),
            min_notional: dec!(100),
        }
    }

    #[test]
    fn worked_example_a_rounds_down_to_step() {
        // copy-rules.md example A: notional 500 at 50,000 with step 0.001 → 0.010 BTC.
        let qty = dec!(500) / dec!(50000);
        assert_eq!(floor_to_step(qty, dec!(0.001)), dec!(0.010));
        assert_eq!(floor_to_step(dec!(0.0109), dec!(0.001)), dec!(0.010));
    }

    #[test]
    fn ticks_round_each_way() {
        assert_eq!(
            round_to_tick(dec!(100.04), dec!(0.1), Rounding::Down),
            dec!(100.0)
        );
        assert_eq!(
            round_to_tick(dec!(100.04), dec!(0.1), Rounding::Up),
            dec!(100.1)
        );
        assert_eq!(
            round_to_tick(dec!(100.05), dec!(0.1), Rounding::Nearest),
            dec!(100.1)
        );
        assert_eq!(
            round_to_tick(dec!(100.1), dec!(0.1), Rounding::Up),
            dec!(100.1)
        );
    }

    #[test]
    fn min_tradable_covers_min_notional() {
        let f = btc();
        let p = Price::new(dec!(50000)).expect("positive");
        // 100 USDT / 50,000 = 0.002 BTC, above min qty 0.001.
        assert_eq!(f.min_tradable_qty(p, true).get(), dec!(0.002));
        let p = Price::new(dec!(30000)).expect("positive");
        // 100 / 30,000 = 0.00333… → next step up 0.004.
        assert_eq!(f.min_tradable_qty(p, true).get(), dec!(0.004));
    }

    #[test]
    fn check_names_the_violated_bound() {
        let f = btc();
        let p = Price::new(dec!(50000)).expect("positive");
        let q = Quantity::new(dec!(0.001)).expect("valid");
        assert_eq!(
            f.check(q, p, true, false),
            Err(FilterViolation::BelowMinNotional {
                notional: dec!(50.000),
                min: dec!(100)
            })
        );
        assert_eq!(f.check(q, p, true, true), Ok(()), "reduce-only is exempt");
        let big = Quantity::new(dec!(121)).expect("valid");
        assert!(matches!(
            f.check(big, p, true, false),
            Err(FilterViolation::AboveMaxQty { .. })
        ));
    }

    fn step_strategy() -> impl Strategy<Value = Decimal> {
        (1u32..=9, 0u32..=8).prop_map(|(m, scale)| Decimal::new(i64::from(m), scale))
    }

    fn value_strategy() -> impl Strategy<Value = Decimal> {
        (0i64..=10_000_000_000, 0u32..=10).prop_map(|(m, scale)| Decimal::new(m, scale))
    }

    proptest! {
        #[test]
        fn floor_is_a_multiple_not_above_and_within_one_step(
            v in value_strategy(), step in step_strategy()
        ) {
            let f = floor_to_step(v, step);
            prop_assert!(f <= v, "floor {} above value {}", f, v);
            prop_assert!(v - f < step, "floor {} more than a step below {}", f, v);
            prop_assert!((f % step).is_zero(), "floor {} not a multiple of {}", f, step);
            prop_assert_eq!(floor_to_step(f, step), f, "flooring is idempotent");
        }

        #[test]
        fn round_to_tick_lands_on_grid_in_its_direction(
            v in value_strategy(), tick in step_strategy()
        ) {
            let down = round_to_tick(v, tick, Rounding::Down);
            let up = round_to_tick(v, tick, Rounding::Up);
            let near = round_to_tick(v, tick, Rounding::Nearest);
            for r in [down, up, near] {
                prop_assert!((r % tick).is_zero(), "{} not on tick {}", r, tick);
            }
            prop_assert!(down <= v && v <= up, "{} <= {} <= {}", down, v, up);
            prop_assert!(up - down <= tick, "up and down within a tick");
            prop_assert!((near - v).abs() * Decimal::TWO <= tick, "nearest within half a tick");
        }

        #[test]
        fn min_tradable_passes_the_check(
            price_m in 1i64..=100_000_000, price_scale in 0u32..=4
        ) {
            let f = btc();
            let p = Price::new(Decimal::new(price_m, price_scale)).expect("positive");
            let q = f.min_tradable_qty(p, true);
            if q.get() <= f.market_max_qty {
                prop_assert_eq!(f.check(q, p, true, false), Ok(()));
            }
        }
    }
}
