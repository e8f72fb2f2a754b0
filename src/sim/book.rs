//! A symbol's synthetic order book: bids and asks stepped out from a mid price, with
//! quantity growing deeper in the book. MARKET orders walk it, so slippage is real and
//! grows with size. The synthetic liquidity refills at once after each fill; users'
//! resting orders are kept by [`super::matching`], not here.

use rust_decimal::Decimal;

use super::market::Market;
use crate::domain::Side;

/// Number of price levels on each side.
pub const LEVELS: u32 = 50;

/// One fill against the book: price and quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    pub price: Decimal,
    pub qty: Decimal,
}

/// The price state of one symbol.
#[derive(Debug, Clone)]
pub struct Book {
    pub mid: Decimal,
    pub last_price: Decimal,
    pub funding_rate: Decimal,
    pub update_id: u64,
    /// A mark set apart from the mid (a followed venue's mark price); `None`: the mid.
    mark_px: Option<Decimal>,
    half_spread: Decimal,
    level_gap: Decimal,
    level_qty: Decimal,
    tick: Decimal,
}

impl Book {
    pub fn new(m: &Market) -> Self {
        Self {
            mid: m.start_price,
            last_price: m.start_price,
            funding_rate: Decimal::new(1, 4),
            update_id: 1,
            mark_px: None,
            half_spread: m.half_spread,
            level_gap: m.level_gap,
            level_qty: m.level_qty,
            tick: m.filters.tick_size,
        }
    }

    /// Mark price: the mid of the book, unless a mark was set apart ([`Book::set_mark`]).
    pub fn mark(&self) -> Decimal {
        self.mark_px.unwrap_or(self.mid)
    }

    /// Sets the distance from the mid to the best bid and ask (rounded to the tick, at
    /// least one tick).
    pub fn set_half_spread(&mut self, half: Decimal) {
        let h = crate::domain::filters::round_to_tick(
            half,
            self.tick,
            crate::domain::Rounding::Nearest,
        );
        self.half_spread = h.max(self.tick);
    }

    /// Moves the book to a new mid (rounded to the tick); the mark follows the mid again.
    pub fn set_mid(&mut self, price: Decimal) {
        let p = crate::domain::filters::round_to_tick(
            price,
            self.tick,
            crate::domain::Rounding::Nearest,
        );
        self.mid = p.max(self.tick);
        self.mark_px = None;
        self.update_id += 1;
    }

    /// Puts the best bid and ask at a followed venue's (each rounded to the tick, the ask
    /// at least a tick above the bid): the mid sits between them, the spread is theirs.
    /// The mark is left as it is.
    pub fn set_quote(&mut self, bid: Decimal, ask: Decimal) {
        let round = |p| {
            crate::domain::filters::round_to_tick(p, self.tick, crate::domain::Rounding::Nearest)
                .max(self.tick)
        };
        let bid = round(bid);
        let ask = round(ask).max(bid + self.tick);
        self.half_spread = (ask - bid) / Decimal::TWO;
        self.mid = bid + self.half_spread;
        self.update_id += 1;
    }

    /// Sets the mark apart from the mid (a followed venue's mark price).
    pub fn set_mark(&mut self, mark: Decimal) {
        self.mark_px = Some(mark.max(self.tick));
    }

    pub fn best_bid(&self) -> Decimal {
        (self.mid - self.half_spread).max(self.tick)
    }

    pub fn best_ask(&self) -> Decimal {
        self.mid + self.half_spread
    }

    /// Level `i` (0-based) on the side a taker of `side` trades against.
    pub fn level(&self, side: Side, i: u32) -> Fill {
        let off = self.level_gap * Decimal::from(i);
        let price = match side {
            Side::Buy => self.best_ask() + off,
            Side::Sell => (self.best_bid() - off).max(self.tick),
        };
        Fill {
            price,
            qty: self.level_qty * Decimal::from(i + 1),
        }
    }

    /// Levels a taker of `side` would meet, best first.
    pub fn levels(&self, side: Side, n: u32) -> Vec<Fill> {
        (0..n.min(LEVELS)).map(|i| self.level(side, i)).collect()
    }

    /// Fills `qty` for a taker of `side`, level by level, stopping at `limit` (a BUY does
    /// not pay above it, a SELL does not sell below it). What the book cannot fill is left
    /// out of the result.
    pub fn walk(&self, side: Side, qty: Decimal, limit: Option<Decimal>) -> Vec<Fill> {
        let mut left = qty;
        let mut fills = Vec::new();
        for i in 0..LEVELS {
            if left <= Decimal::ZERO {
                break;
            }
            let lvl = self.level(side, i);
            let beyond = match (side, limit) {
                (Side::Buy, Some(l)) => lvl.price > l,
                (Side::Sell, Some(l)) => lvl.price < l,
                _ => false,
            };
            if beyond {
                break;
            }
            let take = left.min(lvl.qty);
            fills.push(Fill {
                price: lvl.price,
                qty: take,
            });
            left -= take;
        }
        fills
    }
}

/// Volume-weighted average price of fills.
pub fn average(fills: &[Fill]) -> Decimal {
    let qty: Decimal = fills.iter().map(|f| f.qty).sum();
    if qty.is_zero() {
        return Decimal::ZERO;
    }
    fills.iter().map(|f| f.price * f.qty).sum::<Decimal>() / qty
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::market::default_markets;
    use rust_decimal_macros::dec;

    fn btc() -> Book {
        let ms = default_markets();
        Book::new(ms.iter().find(|m| m.symbol == "BTCUSDT").expect("btc"))
    }

    #[test]
    fn spread_sits_around_the_mid() {
        let b = btc();
        assert_eq!(b.best_bid(), dec!(49999.5), "bid is mid minus 5 ticks");
        assert_eq!(b.best_ask(), dec!(50000.5), "ask is mid plus 5 ticks");
    }

    #[test]
    fn a_large_market_buy_walks_three_levels() {
        // Levels: 0.5 @ 50000.5, 1.0 @ 50001.5, 1.5 @ 50002.5.
        let b = btc();
        let fills = b.walk(Side::Buy, dec!(2), None);
        assert_eq!(fills.len(), 3, "2 BTC should reach the third level");
        assert_eq!(
            fills[2],
            Fill {
                price: dec!(50002.5),
                qty: dec!(0.5)
            }
        );
        // (0.5×50000.5 + 1×50001.5 + 0.5×50002.5) / 2 = 50001.5
        assert_eq!(average(&fills), dec!(50001.5), "average price of the walk");
    }

    #[test]
    fn slippage_grows_with_size() {
        let b = btc();
        let small = average(&b.walk(Side::Sell, dec!(0.1), None));
        let big = average(&b.walk(Side::Sell, dec!(20), None));
        assert!(
            big < small,
            "a bigger sell should average lower ({big} vs {small})"
        );
    }

    #[test]
    fn a_followed_quote_sets_bid_ask_and_a_mark_apart() {
        let mut b = btc();
        b.set_quote(dec!(61000.1), dec!(61000.4));
        assert_eq!(b.best_bid(), dec!(61000.1), "the venue's bid");
        assert_eq!(b.best_ask(), dec!(61000.4), "the venue's ask");
        assert_eq!(
            b.mark(),
            dec!(61000.25),
            "without a mark of its own, the mid"
        );
        b.set_mark(dec!(61003));
        assert_eq!(
            b.mark(),
            dec!(61003),
            "the venue's mark, apart from the mid"
        );
        assert_eq!(b.best_ask(), dec!(61000.4), "a mark does not move the book");
        b.set_quote(dec!(61001), dec!(61000));
        assert_eq!(
            (b.best_bid(), b.best_ask()),
            (dec!(61001), dec!(61001.1)),
            "a crossed quote keeps the ask a tick above the bid"
        );
        b.set_mid(dec!(50000));
        assert_eq!(
            b.mark(),
            dec!(50000),
            "a mid set by hand takes the mark back"
        );
    }

    #[test]
    fn limit_stops_the_walk() {
        let b = btc();
        let fills = b.walk(Side::Buy, dec!(5), Some(dec!(50001.5)));
        let qty: Decimal = fills.iter().map(|f| f.qty).sum();
        assert_eq!(qty, dec!(1.5), "only levels at or below the limit fill");
    }
}
