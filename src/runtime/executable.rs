//! The price an order would actually get (issue 12 item 7): the slippage guard compares
//! the leader's fill with the executable side of the book — the best ask for a buy, the
//! best bid for a sell — from the book-ticker stream, or from a fresh read of the book
//! ticker when the stream has none for the symbol yet (the first signal on a symbol; the
//! read is then kept and the symbol's book stream asked for, so later signals read nothing).
//! Only when neither answers does it fall back to the mark, and the log says so.

use rust_decimal::Decimal;

use crate::domain::{LeaderFill, Price, Side};
use crate::engine::MarketInfo;

use super::supervisor::CopyRunner;

/// True when the fill adds exposure (an open, an increase, or the new side of a flip):
/// the only fills the slippage guard checks.
fn adds_exposure(f: &LeaderFill) -> bool {
    let (before, after) = (f.position_before, f.position_after());
    after.abs() > before.abs()
        || (!after.is_zero()
            && crate::engine::Direction::of(before) != crate::engine::Direction::of(after))
}

impl CopyRunner {
    /// Sets `market.current_price` to the executable side for a leader fill that adds
    /// exposure: what the follower's market order of the same side would pay.
    pub(crate) async fn executable_side(&self, f: &LeaderFill, market: &mut MarketInfo) {
        if !adds_exposure(f) {
            return;
        }
        let name = market.symbol.name.clone();
        let pick = |bid: Decimal, ask: Decimal| match f.side {
            Side::Buy => ask,
            Side::Sell => bid,
        };
        let streamed = self.account.lock().book(&name);
        let (price, source) = match streamed {
            Some((bid, ask)) => (Some(pick(bid, ask)), "book-ticker stream"),
            None => match self.follower.ex.book_ticker(&name).await {
                Ok(Some((bid, ask))) => {
                    let now = self.clock.now_ms();
                    self.account
                        .lock()
                        .book_read(&name, bid.get(), ask.get(), now);
                    (Some(pick(bid.get(), ask.get())), "book ticker read")
                }
                Ok(None) | Err(_) => (None, "mark (no book available)"),
            },
        };
        match price.and_then(|p| Price::new(p).ok()) {
            Some(p) => {
                tracing::debug!(copy = %self.name, symbol = %name, price = %p.get(), source, "executable price for the slippage guard");
                market.current_price = p;
            }
            None => tracing::warn!(
                copy = %self.name,
                symbol = %name,
                "no best bid/ask for the slippage guard; comparing with the mark"
            ),
        }
    }
}
