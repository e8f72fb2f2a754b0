//! `copy_funding`: funding payments on the follower positions a copy holds, one row per
//! venue funding record (income `FUNDING_FEE`), already scaled to the copy's share of the
//! position. Positive: received; negative: paid. A record seen twice is stored once.

use rusqlite::{params, Connection, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{require_text, rows};
use crate::store::error::StoreError;
use crate::store::value::{dec, DecText, TimestampMs};

pub(crate) const V3: &str = "
CREATE TABLE copy_funding (
    id          INTEGER PRIMARY KEY,
    copy_id     INTEGER NOT NULL REFERENCES copies(id),
    venue_id    TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    amount      TEXT NOT NULL,
    asset       TEXT NOT NULL,
    ts          INTEGER NOT NULL,
    UNIQUE (copy_id, venue_id)
) STRICT;
CREATE INDEX copy_funding_by_copy ON copy_funding (copy_id, ts);
";

/// One funding payment of a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FundingRow {
    pub copy_id: i64,
    /// The venue's transaction id of the funding record.
    pub venue_id: String,
    pub symbol: String,
    /// The copy's share of the payment: received positive, paid negative.
    pub amount: Decimal,
    pub asset: String,
    /// Venue time of the payment.
    pub ts: TimestampMs,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<FundingRow> {
    Ok(FundingRow {
        copy_id: r.get("copy_id")?,
        venue_id: r.get("venue_id")?,
        symbol: r.get("symbol")?,
        amount: dec(r, "amount")?,
        asset: r.get("asset")?,
        ts: r.get("ts")?,
    })
}

/// The `copy_funding` table.
#[derive(Debug, Clone, Copy)]
pub struct CopyFunding<'c> {
    conn: &'c Connection,
}

impl<'c> CopyFunding<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Stores a payment; false when that venue record is already stored for the copy.
    pub fn record(&self, f: &FundingRow) -> Result<bool, StoreError> {
        require_text("venue_id", &f.venue_id, 64)?;
        require_text("symbol", &f.symbol, 32)?;
        require_text("asset", &f.asset, 16)?;
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO copy_funding (copy_id, venue_id, symbol, amount, asset, ts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (copy_id, venue_id) DO NOTHING",
            )?
            .execute(params![
                f.copy_id,
                f.venue_id,
                f.symbol,
                DecText(f.amount),
                f.asset,
                f.ts
            ])?;
        Ok(n == 1)
    }

    /// A copy's payments in time order.
    pub fn for_copy(&self, copy_id: i64) -> Result<Vec<FundingRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM copy_funding WHERE copy_id = ?1 ORDER BY ts, id")?;
        rows(&mut stmt, [copy_id], from_row)
    }

    /// A copy's payments stored after row `after_id`, in row order, with their row ids:
    /// what a running total over the copy's payments has not counted yet.
    pub fn for_copy_after(
        &self,
        copy_id: i64,
        after_id: i64,
    ) -> Result<Vec<(i64, FundingRow)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT * FROM copy_funding WHERE copy_id = ?1 AND id > ?2 ORDER BY id",
        )?;
        rows(&mut stmt, [copy_id, after_id], |r| {
            Ok((r.get("id")?, from_row(r)?))
        })
    }

    /// Venue time of the copy's latest stored payment.
    pub fn latest_ts(&self, copy_id: i64) -> Result<Option<TimestampMs>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT MAX(ts) FROM copy_funding WHERE copy_id = ?1")?
            .query_row([copy_id], |r| r.get::<_, Option<TimestampMs>>(0))?)
    }
}
