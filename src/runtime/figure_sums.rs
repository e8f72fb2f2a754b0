//! The running totals behind a copy's figures: realized PnL and fees over its stored fills,
//! and funding over its stored payments, each after the figures' baseline when the copy
//! reset its figures (`docs/data.md`, `copy_figures_base`).
//!
//! The figures are computed after every fill of the copy, so reading all of its fills each
//! time would cost more with every order it ever placed (a leader trading every 250 ms
//! gives a copy 14,400 fills a day). The totals are kept instead, with the last row id
//! counted of each table; each computation reads only the rows stored since. Fills and
//! payments are only ever inserted (never changed or deleted), and a row's id is above
//! every id stored before it, so the totals equal a sum over every row. A new baseline
//! (`figures_base`, the user's reset) starts the totals over.

use rust_decimal::Decimal;

use crate::engine::figures::{CopyEvent, CopyFigures};
use crate::store::{Store, StoreError};

use super::fees::counts_as_quote;

/// The totals and how far they have counted.
#[derive(Debug, Default)]
pub(crate) struct FigureSums {
    /// The baseline the totals were counted from (fills and payments at or before it count
    /// for nothing).
    since: Option<i64>,
    last_fill: i64,
    last_funding: i64,
    /// Realized PnL, fees and funding so far (no unrealized PnL: the caller adds it).
    totals: CopyFigures,
}

impl FigureSums {
    /// The totals of copy `copy_id` over everything stored, reading only the rows stored
    /// since the last call.
    pub(crate) fn update(
        &mut self,
        store: &Store,
        copy_id: i64,
    ) -> Result<CopyFigures, StoreError> {
        let since = store.figures_base().since(copy_id)?.unwrap_or(i64::MIN);
        if self.since != Some(since) {
            *self = FigureSums {
                since: Some(since),
                ..FigureSums::default()
            };
        }
        let fills = store.fills().for_copy_after(copy_id, self.last_fill)?;
        let funding = store
            .copy_funding()
            .for_copy_after(copy_id, self.last_funding)?;
        for (id, f) in fills {
            self.last_fill = self.last_fill.max(id);
            if f.ts > since {
                self.totals.add(&CopyEvent::Fill {
                    realized_pnl: f.realized_pnl,
                    // A fee that could not be converted is in another asset, never USDT.
                    commission: if counts_as_quote(&f.fee_asset) {
                        f.fee
                    } else {
                        Decimal::ZERO
                    },
                });
            }
        }
        for (id, f) in funding {
            self.last_funding = self.last_funding.max(id);
            if f.ts > since {
                self.totals.add(&CopyEvent::Funding { amount: f.amount });
            }
        }
        Ok(self.totals.clone())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::Side;
    use crate::store::table::copies::{Copies, CopyMode, NewCopy};
    use crate::store::table::copy_funding::FundingRow;
    use crate::store::table::fills::Fill;
    use crate::store::table::leaders::{LeaderSource, Leaders, NewLeader};

    fn copy(store: &mut Store) -> i64 {
        store
            .transaction(|tx| {
                crate::store::table::accounts::Accounts::on(tx).upsert("me", None, None, 1)?;
                let leader = Leaders::on(tx).insert(&NewLeader {
                    name: "lead",
                    source: LeaderSource::Account,
                    account: None,
                    portfolio_id: None,
                    endpoint: None,
                    created_at: 1,
                })?;
                Copies::on(tx).insert(&NewCopy {
                    name: "c",
                    leader_id: leader,
                    follower: "me",
                    mode: CopyMode::FixedRatio,
                    created_at: 1,
                })
            })
            .expect("copy")
    }

    fn fill(
        store: &Store,
        copy_id: i64,
        trade: &str,
        pnl: Decimal,
        fee: Decimal,
        asset: &str,
        ts: i64,
    ) {
        store
            .fills()
            .record(&Fill {
                copy_id,
                client_order_id: None,
                venue_trade_id: trade.into(),
                symbol: "BTCUSDT".into(),
                side: Side::Sell,
                qty: dec!(0.01),
                price: dec!(50000),
                fee,
                fee_asset: asset.into(),
                realized_pnl: pnl,
                ts,
            })
            .expect("fill");
    }

    #[test]
    fn totals_count_each_row_once_across_calls_and_start_over_at_a_new_baseline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("t.db")).expect("open");
        let id = copy(&mut store);
        let other = {
            // A second copy's rows never count for the first.
            let mut s = Store::open(&dir.path().join("t.db")).expect("open");
            s.transaction(|tx| {
                Copies::on(tx).insert(&NewCopy {
                    name: "other",
                    leader_id: 1,
                    follower: "me",
                    mode: CopyMode::FixedRatio,
                    created_at: 1,
                })
            })
            .expect("other")
        };
        let mut sums = FigureSums::default();
        fill(&store, id, "t1", dec!(10), dec!(0.5), "USDT", 100);
        fill(&store, other, "t1", dec!(1000), dec!(9), "USDT", 100);
        let t = sums.update(&store, id).expect("sums");
        assert_eq!(
            (t.realized, t.fees, t.funding),
            (dec!(10), dec!(0.5), dec!(0))
        );

        // Later rows, one with a fee in another asset and one stored late with an older
        // venue time: each counts once, the fee in BNB for nothing.
        fill(&store, id, "t2", dec!(-4), dec!(0.25), "BNB", 300);
        fill(&store, id, "t0", dec!(1), dec!(0.1), "USDT", 50);
        store
            .copy_funding()
            .record(&FundingRow {
                copy_id: id,
                venue_id: "f1".into(),
                symbol: "BTCUSDT".into(),
                amount: dec!(-0.3),
                asset: "USDT".into(),
                ts: 200,
            })
            .expect("funding");
        let t = sums.update(&store, id).expect("sums");
        assert_eq!(
            (t.realized, t.fees, t.funding),
            (dec!(7), dec!(0.6), dec!(-0.3))
        );
        // Nothing new: the same totals, not counted twice.
        assert_eq!(sums.update(&store, id).expect("sums"), t);

        // The user's reset: fills and payments at or before the baseline count for
        // nothing.
        store.figures_base().reset(id, 100).expect("reset");
        let t = sums.update(&store, id).expect("sums");
        assert_eq!(
            (t.realized, t.fees, t.funding),
            (dec!(-4), dec!(0), dec!(-0.3))
        );
        store.figures_base().reset(id, 250).expect("reset");
        let t = sums.update(&store, id).expect("sums");
        assert_eq!(
            (t.realized, t.fees, t.funding),
            (dec!(-4), dec!(0), dec!(0))
        );
    }
}
