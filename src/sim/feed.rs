//! Market data out of the model: mark price, book ticker and aggregate trade payloads for
//! the market streams, and the seeded random walk of `--prices walk`. The walk draws
//! integers and turns them into exact decimal steps, so no float touches a price.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::book::Fill;
use super::clock::Millis;
use super::exchange::SimVenue;
use super::views;

impl SimVenue {
    pub fn mark_price_json(&self, symbol: &str) -> Option<Value> {
        let b = self.books.get(symbol)?;
        Some(json!({
            "e": "markPriceUpdate", "E": self.now(), "s": symbol,
            "p": views::fixed(b.mark(), 8), "i": views::fixed(b.mark(), 8),
            "P": views::fixed(b.mark(), 8), "r": views::fixed(b.funding_rate, 8),
            "T": self.next_funding,
        }))
    }

    pub fn book_ticker_json(&self, symbol: &str) -> Option<Value> {
        let m = self.markets.get(symbol)?;
        let b = self.books.get(symbol)?;
        let bid = b.level(crate::domain::Side::Sell, 0);
        let ask = b.level(crate::domain::Side::Buy, 0);
        let now = self.now();
        Some(json!({
            "e": "bookTicker", "u": b.update_id, "E": now, "T": now, "s": symbol,
            "b": views::px(m, bid.price), "B": views::qty(m, bid.qty),
            "a": views::px(m, ask.price), "A": views::qty(m, ask.qty),
        }))
    }

    pub fn publish_book(&mut self, symbol: &str) {
        let lower = symbol.to_lowercase();
        if let Some(v) = self.book_ticker_json(symbol) {
            self.buses.send_market(format!("{lower}@bookTicker"), v);
        }
        self.publish_mark(symbol);
    }

    pub fn publish_mark(&mut self, symbol: &str) {
        let lower = symbol.to_lowercase();
        if let Some(v) = self.mark_price_json(symbol) {
            self.buses
                .send_market(format!("{lower}@markPrice@1s"), v.clone());
            self.buses.send_market(format!("{lower}@markPrice"), v);
        }
    }

    /// `!markPrice@arr` (and `@1s`): every symbol's mark price in one array.
    pub fn publish_all_marks(&mut self) {
        let rows: Vec<Value> = self
            .symbols
            .iter()
            .filter_map(|s| self.mark_price_json(s))
            .collect();
        let v = Value::Array(rows);
        self.buses
            .send_market("!markPrice@arr@1s".to_owned(), v.clone());
        self.buses.send_market("!markPrice@arr".to_owned(), v);
    }

    pub fn publish_agg_trade(
        &mut self,
        symbol: &str,
        id: u64,
        fill: Fill,
        buyer_maker: bool,
        t: Millis,
    ) {
        let Some(m) = self.markets.get(symbol) else {
            return;
        };
        self.tape.fill(symbol, t, fill.price, fill.qty);
        let v = json!({
            "e": "aggTrade", "E": self.now(), "s": symbol, "a": id,
            "p": views::px(m, fill.price), "q": views::qty(m, fill.qty),
            "f": id, "l": id, "T": t, "m": buyer_maker,
        });
        self.buses
            .send_market(format!("{}@aggTrade", symbol.to_lowercase()), v);
    }

    /// One step of the random walk for every symbol: a move of −5…+5 basis points.
    pub fn walk_prices(&mut self, rng: &mut ChaCha8Rng) {
        let symbols = self.symbols.clone();
        for s in symbols {
            let bps: i64 = rng.random_range(-5..=5);
            let mid = self.mark(&s);
            let next = mid + mid * Decimal::new(bps, 4);
            // A symbol that cannot move (price at its floor) simply stays.
            let _ = self.set_price(&s, next);
        }
    }
}
