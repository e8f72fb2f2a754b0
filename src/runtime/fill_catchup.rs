//! Fills of this copy's own orders whose stream event was lost (the follower stream was
//! down or stalled when they filled, e.g. a reconciliation's repair close placed during a
//! reconnect). After every follower resync and at each reconciliation the journal is
//! compared with the stored fills: an order the journal says filled (all or part) whose
//! stored fills add up to less is missing fills. Only then is the venue's trade history
//! read, one read per symbol from the earliest such order, and the trades of those orders
//! (matched by venue order id) are stored through the same path as stream fills. The fills
//! table keeps one row per (copy, symbol, venue trade id), so nothing counts twice, and
//! nothing is read while nothing is missing.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use crate::exchange::events::Fill;
use crate::exchange::TradeQuery;
use crate::store::table::journal::JournalEntry;

use super::supervisor::CopyRunner;

/// The venue keeps trade history readable for this long from a start time.
const TRADE_WINDOW_MS: i64 = 7 * 24 * 3_600_000;
/// Slack before an order's journal time: the venue's clock and ours differ a little.
const SLACK_MS: i64 = 60_000;
/// Page size of one trade-history read (the venue's maximum).
const PAGE: u32 = 1000;

/// This copy's orders that the journal says filled (all or part) whose stored fills add
/// up to less than the filled quantity, within the venue's history window.
pub(crate) fn missing_fills(
    journal: &[JournalEntry],
    stored_qty: &HashMap<String, Decimal>,
    now_ms: i64,
) -> Vec<JournalEntry> {
    journal
        .iter()
        .filter(|e| e.filled_qty > Decimal::ZERO && e.venue_order_id.is_some())
        .filter(|e| e.created_at > now_ms - TRADE_WINDOW_MS + SLACK_MS)
        .filter(|e| {
            stored_qty
                .get(&e.client_order_id)
                .copied()
                .unwrap_or_default()
                < e.filled_qty
        })
        .cloned()
        .collect()
}

impl CopyRunner {
    /// Stores the fills of this copy's orders that the stream did not deliver. Returns how
    /// many were recovered.
    pub(crate) async fn catch_up_fills(&mut self) -> usize {
        let id = self.copy_id;
        let Ok((journal, fills)) =
            self.with_store(|s| Ok((s.journal().for_copy(id)?, s.fills().for_copy(id)?)))
        else {
            return 0;
        };
        let mut stored: HashMap<String, Decimal> = HashMap::new();
        for (_, f) in &fills {
            if let Some(coid) = &f.client_order_id {
                *stored.entry(coid.clone()).or_default() += f.qty;
            }
        }
        let missing = missing_fills(&journal, &stored, self.clock.now_ms());
        if missing.is_empty() {
            return 0;
        }
        // Per symbol: the earliest such order's time and the orders by venue order id.
        let mut by_symbol: BTreeMap<String, (i64, HashMap<String, JournalEntry>)> = BTreeMap::new();
        for e in missing {
            let slot = by_symbol
                .entry(e.symbol.clone())
                .or_insert((e.created_at, HashMap::new()));
            slot.0 = slot.0.min(e.created_at);
            if let Some(voi) = e.venue_order_id.clone() {
                slot.1.insert(voi, e);
            }
        }
        let mut recovered = 0;
        for (symbol, (since, orders)) in by_symbol {
            let mut query = TradeQuery {
                symbol: symbol.clone(),
                start: Some(since - SLACK_MS),
                limit: Some(PAGE),
                ..TradeQuery::default()
            };
            loop {
                let trades = match self.follower.ex.user_trades(&query).await {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::warn!(error = %e, %symbol, "trade history not read; fills caught up later");
                        break;
                    }
                };
                for t in &trades {
                    let Some(entry) = orders.get(&t.venue_order_id) else {
                        continue;
                    };
                    let fill = Fill {
                        trade_id: t.trade_id.clone(),
                        quantity: t.quantity,
                        price: t.price,
                        commission: Some(t.commission.clone()),
                        realized_pnl: t.realized_pnl,
                        maker: t.maker,
                    };
                    let row =
                        self.fill_row(&entry.client_order_id, &symbol, entry.side, &fill, t.time);
                    if self.store_fill(&row) {
                        recovered += 1;
                    }
                }
                // A full page may have more after it: read on from the last trade.
                let next = trades
                    .last()
                    .and_then(|t| t.trade_id.parse::<u64>().ok())
                    .filter(|_| trades.len() == PAGE as usize);
                match next {
                    Some(last) => {
                        query.start = None;
                        query.from_id = Some(last + 1);
                    }
                    None => break,
                }
            }
        }
        if recovered > 0 {
            tracing::info!(
                recovered,
                "fills the follower stream missed recovered from trade history"
            );
        }
        recovered
    }
}
