//! `fills`: the follower's executions, one row per venue trade. A trade reported twice
//! (stream and reconciliation) is stored once.

use rusqlite::{params, Connection, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{require_text, rows};
use crate::domain::Side;
use crate::store::error::StoreError;
use crate::store::value::{dec, DecText, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE fills (
    id               INTEGER PRIMARY KEY,
    copy_id          INTEGER NOT NULL REFERENCES copies(id),
    client_order_id  TEXT,
    venue_trade_id   TEXT NOT NULL,
    symbol           TEXT NOT NULL,
    side             TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    qty              TEXT NOT NULL,
    price            TEXT NOT NULL,
    fee              TEXT NOT NULL,
    fee_asset        TEXT NOT NULL,
    realized_pnl     TEXT NOT NULL,
    ts               INTEGER NOT NULL,
    UNIQUE (copy_id, symbol, venue_trade_id)
) STRICT;
CREATE INDEX fills_by_copy ON fills (copy_id, ts);
";

/// One fill, to record or as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fill {
    pub copy_id: i64,
    pub client_order_id: Option<String>,
    pub venue_trade_id: String,
    pub symbol: String,
    pub side: Side,
    pub qty: Decimal,
    pub price: Decimal,
    pub fee: Decimal,
    pub fee_asset: String,
    pub realized_pnl: Decimal,
    pub ts: TimestampMs,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Fill)> {
    Ok((
        r.get("id")?,
        Fill {
            copy_id: r.get("copy_id")?,
            client_order_id: r.get("client_order_id")?,
            venue_trade_id: r.get("venue_trade_id")?,
            symbol: r.get("symbol")?,
            side: r.get("side")?,
            qty: dec(r, "qty")?,
            price: dec(r, "price")?,
            fee: dec(r, "fee")?,
            fee_asset: r.get("fee_asset")?,
            realized_pnl: dec(r, "realized_pnl")?,
            ts: r.get("ts")?,
        },
    ))
}

/// The `fills` table.
#[derive(Debug, Clone, Copy)]
pub struct Fills<'c> {
    conn: &'c Connection,
}

impl<'c> Fills<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Stores a fill and returns its id, or `None` when that trade is already stored.
    pub fn record(&self, f: &Fill) -> Result<Option<i64>, StoreError> {
        require_text("venue_trade_id", &f.venue_trade_id, 64)?;
        require_text("symbol", &f.symbol, 32)?;
        require_text("fee_asset", &f.fee_asset, 16)?;
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO fills (copy_id, client_order_id, venue_trade_id, symbol, side, qty,
                price, fee, fee_asset, realized_pnl, ts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (copy_id, symbol, venue_trade_id) DO NOTHING",
            )?
            .execute(params![
                f.copy_id,
                f.client_order_id,
                f.venue_trade_id,
                f.symbol,
                f.side,
                DecText(f.qty),
                DecText(f.price),
                DecText(f.fee),
                f.fee_asset,
                DecText(f.realized_pnl),
                f.ts
            ])?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    /// A copy's fills in time order, with their row ids.
    pub fn for_copy(&self, copy_id: i64) -> Result<Vec<(i64, Fill)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM fills WHERE copy_id = ?1 ORDER BY ts, id")?;
        rows(&mut stmt, [copy_id], from_row)
    }

    /// A copy's fills stored after row `after_id`, in row order, with their row ids: what
    /// a running total over the copy's fills has not counted yet.
    pub fn for_copy_after(
        &self,
        copy_id: i64,
        after_id: i64,
    ) -> Result<Vec<(i64, Fill)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM fills WHERE copy_id = ?1 AND id > ?2 ORDER BY id")?;
        rows(&mut stmt, [copy_id, after_id], from_row)
    }

    /// Every fill in time order, with row ids.
    pub fn all(&self) -> Result<Vec<(i64, Fill)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM fills ORDER BY ts, id")?;
        rows(&mut stmt, [], from_row)
    }
}
