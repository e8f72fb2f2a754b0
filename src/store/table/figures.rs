//! `copy_figures`: a copy's performance figures over time, one point per update, for the
//! charts and the export (copy-rules §7).

use rusqlite::{params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::rows;
use crate::store::error::StoreError;
use crate::store::value::{dec, DecText, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE copy_figures (
    id              INTEGER PRIMARY KEY,
    copy_id         INTEGER NOT NULL REFERENCES copies(id),
    ts              INTEGER NOT NULL,
    realized_pnl    TEXT NOT NULL,
    unrealized_pnl  TEXT NOT NULL,
    fees            TEXT NOT NULL,
    funding         TEXT NOT NULL,
    equity          TEXT NOT NULL,
    roi             TEXT NOT NULL
) STRICT;
CREATE INDEX copy_figures_by_copy ON copy_figures (copy_id, ts);
";

/// One point of a copy's figures. `roi` is a fraction (0.05 = 5 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FigurePoint {
    pub copy_id: i64,
    pub ts: TimestampMs,
    pub realized_pnl: Decimal,
    pub unrealized_pnl: Decimal,
    pub fees: Decimal,
    pub funding: Decimal,
    pub equity: Decimal,
    pub roi: Decimal,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<FigurePoint> {
    Ok(FigurePoint {
        copy_id: r.get("copy_id")?,
        ts: r.get("ts")?,
        realized_pnl: dec(r, "realized_pnl")?,
        unrealized_pnl: dec(r, "unrealized_pnl")?,
        fees: dec(r, "fees")?,
        funding: dec(r, "funding")?,
        equity: dec(r, "equity")?,
        roi: dec(r, "roi")?,
    })
}

/// The `copy_figures` table.
#[derive(Debug, Clone, Copy)]
pub struct Figures<'c> {
    conn: &'c Connection,
}

impl<'c> Figures<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    pub fn record(&self, p: &FigurePoint) -> Result<i64, StoreError> {
        self.conn.prepare_cached("INSERT INTO copy_figures (copy_id, ts, realized_pnl, unrealized_pnl, fees, funding,
                equity, roi)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(
            params![
                p.copy_id,
                p.ts,
                DecText(p.realized_pnl),
                DecText(p.unrealized_pnl),
                DecText(p.fees),
                DecText(p.funding),
                DecText(p.equity),
                DecText(p.roi)
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A copy's points at or after `since`, in time order.
    pub fn series(&self, copy_id: i64, since: TimestampMs) -> Result<Vec<FigurePoint>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM copy_figures WHERE copy_id = ?1 AND ts >= ?2 ORDER BY ts, id",
        )?;
        rows(&mut stmt, params![copy_id, since], from_row)
    }

    /// A copy's latest point.
    pub fn latest(&self, copy_id: i64) -> Result<Option<FigurePoint>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT * FROM copy_figures WHERE copy_id = ?1 ORDER BY ts DESC, id DESC LIMIT 1",
            )?
            .query_row([copy_id], from_row)
            .optional()?)
    }

    /// Every point of every copy.
    pub fn all(&self) -> Result<Vec<FigurePoint>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM copy_figures ORDER BY copy_id, ts, id")?;
        rows(&mut stmt, [], from_row)
    }
}
