//! The simulator's price record per symbol, and the klines served from it
//! (`GET /fapi/v1/klines`). Prices are the book's mid as it moves (random walk, admin
//! price changes) plus the demo leaders' generated 90-day hourly path, kept as one-minute
//! candles; volume is the simulator's own fills. A kline with no recorded move repeats the
//! previous close, so the klines agree with every price the demo history traded at.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::clock::Millis;
use super::error::{WireError, WireResult};
use super::market::Market;
use super::views;

const MINUTE: Millis = 60_000;

/// One minute of one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
    pub quote_volume: Decimal,
    pub trades: u64,
}

impl Candle {
    fn at(price: Decimal) -> Self {
        Candle {
            open: price,
            high: price,
            low: price,
            close: price,
            volume: Decimal::ZERO,
            quote_volume: Decimal::ZERO,
            trades: 0,
        }
    }

    fn push(&mut self, price: Decimal) {
        self.high = self.high.max(price);
        self.low = self.low.min(price);
        self.close = price;
    }
}

/// Recorded candles of every symbol.
#[derive(Debug, Clone, Default)]
pub struct Tape {
    candles: HashMap<String, BTreeMap<Millis, Candle>>,
}

/// Kline intervals Binance accepts, in milliseconds (`1M` is not served).
pub fn interval_ms(s: &str) -> Option<Millis> {
    const H: Millis = 60 * MINUTE;
    Some(match s {
        "1m" => MINUTE,
        "3m" => 3 * MINUTE,
        "5m" => 5 * MINUTE,
        "15m" => 15 * MINUTE,
        "30m" => 30 * MINUTE,
        "1h" => H,
        "2h" => 2 * H,
        "4h" => 4 * H,
        "6h" => 6 * H,
        "8h" => 8 * H,
        "12h" => 12 * H,
        "1d" => 24 * H,
        "3d" => 72 * H,
        "1w" => 168 * H,
        _ => return None,
    })
}

/// Request weight of a klines call by its limit (Binance's table).
pub fn weight(limit: u32) -> u32 {
    match limit {
        0..=99 => 1,
        100..=499 => 2,
        500..=1000 => 5,
        _ => 10,
    }
}

impl Tape {
    /// Records the price of `symbol` at `t`.
    pub fn price(&mut self, symbol: &str, t: Millis, price: Decimal) {
        let m = t - t.rem_euclid(MINUTE);
        self.candles
            .entry(symbol.to_owned())
            .or_default()
            .entry(m)
            .and_modify(|c| c.push(price))
            .or_insert_with(|| Candle::at(price));
    }

    /// Records a fill's volume (the price path is the mid, not the fill price).
    pub fn fill(&mut self, symbol: &str, t: Millis, price: Decimal, qty: Decimal) {
        let m = t - t.rem_euclid(MINUTE);
        let book = self.candles.entry(symbol.to_owned()).or_default();
        let last = book.range(..=m).next_back().map(|(_, c)| c.close);
        let c = book
            .entry(m)
            .or_insert_with(|| Candle::at(last.unwrap_or(price)));
        c.volume += qty;
        c.quote_volume += qty * price;
        c.trades += 1;
    }

    /// The mid price of `symbol` at `t`: the close of the last minute at or before it.
    pub fn price_at(&self, symbol: &str, t: Millis) -> Option<Decimal> {
        self.candles
            .get(symbol)?
            .range(..=t)
            .next_back()
            .map(|(_, c)| c.close)
    }

    /// Klines of `interval` ms covering `[start, end]`, at most `limit`: from `start` when
    /// it is given, else the last `limit` ending at `end` (or now). Buckets before the
    /// first recorded price are left out.
    pub fn klines(
        &self,
        symbol: &str,
        interval: Millis,
        start: Option<Millis>,
        end: Option<Millis>,
        limit: usize,
        now: Millis,
    ) -> Vec<(Millis, Candle)> {
        let Some(book) = self.candles.get(symbol) else {
            return vec![];
        };
        let Some((&first, _)) = book.iter().next() else {
            return vec![];
        };
        let end = end.unwrap_or(now).min(now);
        let floor = |t: Millis| t - t.rem_euclid(interval);
        let first_bucket = floor(first);
        let last_bucket = floor(end);
        let from = match start {
            Some(s) => floor(s).max(first_bucket),
            None => (last_bucket - interval * (limit as Millis - 1)).max(first_bucket),
        };
        let mut out = Vec::new();
        let mut b = from;
        while b <= last_bucket && out.len() < limit {
            let prev = book.range(..b).next_back().map(|(_, c)| c.close);
            let mut k: Option<Candle> = prev.map(Candle::at);
            for (_, c) in book.range(b..b + interval) {
                match &mut k {
                    None => k = Some(*c),
                    Some(k) => {
                        k.high = k.high.max(c.high);
                        k.low = k.low.min(c.low);
                        k.close = c.close;
                        k.volume += c.volume;
                        k.quote_volume += c.quote_volume;
                        k.trades += c.trades;
                    }
                }
            }
            if let Some(k) = k {
                out.push((b, k));
            }
            b += interval;
        }
        out
    }
}

/// One kline in Binance's array shape.
pub fn kline_json(m: &Market, open_time: Millis, interval: Millis, c: &Candle) -> Value {
    json!([
        open_time,
        views::px(m, c.open),
        views::px(m, c.high),
        views::px(m, c.low),
        views::px(m, c.close),
        views::qty(m, c.volume),
        open_time + interval - 1,
        views::fixed(c.quote_volume, 8),
        c.trades,
        "0",
        "0",
        "0",
    ])
}

/// Reads `interval` and `limit` (default 500, at most 1500) as Binance does.
pub fn params(interval: &str, limit: Option<i64>) -> WireResult<(Millis, usize)> {
    let iv = interval_ms(interval).ok_or_else(|| WireError::illegal("interval"))?;
    let limit = limit.unwrap_or(500);
    if !(1..=1500).contains(&limit) {
        return Err(WireError::illegal("limit"));
    }
    Ok((iv, limit as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn klines_aggregate_minutes_and_repeat_the_close_across_gaps() {
        let mut t = Tape::default();
        let h = 60 * MINUTE;
        t.price("X", 0, dec!(100));
        t.price("X", 10 * MINUTE, dec!(104));
        t.price("X", 20 * MINUTE, dec!(98));
        t.price("X", 2 * h + 5 * MINUTE, dec!(101));
        t.fill("X", 30 * MINUTE, dec!(99), dec!(2));
        let k = t.klines("X", h, Some(0), None, 10, 3 * h);
        assert_eq!(k.len(), 4, "hours 0..=3 up to now");
        let c0 = k[0].1;
        assert_eq!(
            (c0.open, c0.high, c0.low, c0.close),
            (dec!(100), dec!(104), dec!(98), dec!(98)),
            "first hour"
        );
        assert_eq!(c0.volume, dec!(2), "the fill's volume");
        let c1 = k[1].1;
        assert_eq!(
            (c1.open, c1.high, c1.low, c1.close),
            (dec!(98), dec!(98), dec!(98), dec!(98)),
            "an hour without moves repeats the close"
        );
        assert_eq!(
            (k[2].1.open, k[2].1.close),
            (dec!(98), dec!(101)),
            "opens at the previous close"
        );
        let last = t.klines("X", h, None, Some(3 * h), 2, 3 * h);
        assert_eq!(
            last.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
            vec![2 * h, 3 * h],
            "without a start, the last `limit` up to the end"
        );
        assert_eq!(t.price_at("X", h), Some(dec!(98)), "price at a moment");
        assert!(
            t.klines("X", h, Some(-5 * h), Some(-h), 10, 3 * h)
                .is_empty(),
            "nothing before the first price"
        );
    }
}
