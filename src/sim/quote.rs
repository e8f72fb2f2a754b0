//! Prices set from outside the simulator: a followed venue's best bid/ask and mark price
//! (paper copies of a leader on another venue fill at that venue's prices). Each change
//! runs what a price move runs (resting fills, conditional orders, liquidations) and is
//! published on the market streams, as an admin price move is.

use rust_decimal::Decimal;

use super::error::{WireError, WireResult};
use super::exchange::SimVenue;

impl SimVenue {
    /// Puts a symbol's best bid and ask at `bid` / `ask` (its mark follows unless one was
    /// set with [`SimVenue::set_mark`]).
    pub fn set_quote(&mut self, symbol: &str, bid: Decimal, ask: Decimal) -> WireResult<()> {
        self.market(symbol)?;
        if bid <= Decimal::ZERO {
            return Err(WireError::illegal("bidPrice"));
        }
        if ask <= Decimal::ZERO {
            return Err(WireError::illegal("askPrice"));
        }
        if let Some(b) = self.books.get_mut(symbol) {
            b.set_quote(bid, ask);
            b.last_price = b.mid;
            let (t, mid) = (self.clock.now(), b.mid);
            self.tape.price(symbol, t, mid);
        }
        self.after_move(symbol);
        Ok(())
    }

    /// Sets a symbol's mark price apart from its book.
    pub fn set_mark(&mut self, symbol: &str, mark: Decimal) -> WireResult<()> {
        self.market(symbol)?;
        if mark <= Decimal::ZERO {
            return Err(WireError::illegal("markPrice"));
        }
        if let Some(b) = self.books.get_mut(symbol) {
            b.set_mark(mark);
        }
        self.after_move(symbol);
        Ok(())
    }
}
