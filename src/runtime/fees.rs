//! Commissions in the copy's money (issue 12 item 15): a fee the venue took in another
//! asset than the symbol's quote (BNB, when the account pays fees in BNB) is converted at
//! that asset's streamed mark price against the quote (`BNBUSDT`) when the fill is stored;
//! when no current mark exists the fee is stored in its own asset, said so in the log, and
//! left out of the copy's USDT/USDC figures rather than counted as USDT.

use rust_decimal::Decimal;

use super::supervisor::CopyRunner;

/// Whether a fee stored in `asset` counts in the copy's figures (USD-quoted money).
pub(crate) fn counts_as_quote(asset: &str) -> bool {
    matches!(asset, "USDT" | "USDC")
}

impl CopyRunner {
    /// A fill's commission on `symbol` in the symbol's quote asset, converted at the
    /// streamed mark of `<asset><quote>` when paid in another asset; else as it was paid.
    pub(crate) fn fee_in_quote(
        &self,
        symbol: &str,
        amount: Decimal,
        asset: &str,
    ) -> (Decimal, String) {
        let quote = self
            .rules
            .get(symbol)
            .map_or_else(|| "USDT".to_owned(), |r| r.symbol.quote.as_str().to_owned());
        if asset == quote || amount.is_zero() {
            return (amount, asset.to_owned());
        }
        let pair = format!("{asset}{quote}");
        let now = self.clock.now_ms();
        match self.account.lock().mark(&pair, now) {
            Some(px) => {
                let converted = (amount * px).round_dp(8);
                tracing::debug!(copy = %self.name, %symbol, %amount, %asset, %px, %converted, "fee converted at the streamed mark");
                (converted, quote)
            }
            None => {
                tracing::warn!(copy = %self.name, %symbol, %amount, %asset, "fee paid in {asset} stored as such: no current {pair} mark to convert it; it is left out of the copy's {quote} figures");
                (amount, asset.to_owned())
            }
        }
    }
}
