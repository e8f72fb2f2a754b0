//! `leader_t0_positions`: the leader's positions when a copy started, so that after a
//! restart the engine still knows which positions pre-date `t0` and must be ignored
//! (copy-rules §1.3, §1.9).

use rusqlite::{params, Connection, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{require_text, rows};
use crate::domain::PositionSide;
use crate::store::error::StoreError;
use crate::store::value::{dec, opt, opt_dec, DecText};

pub(crate) const V1: &str = "
CREATE TABLE leader_t0_positions (
    copy_id        INTEGER NOT NULL REFERENCES copies(id),
    symbol         TEXT NOT NULL,
    position_side  TEXT NOT NULL CHECK (position_side IN ('both', 'long', 'short')),
    qty            TEXT NOT NULL,
    entry_price    TEXT,
    leverage       TEXT,
    PRIMARY KEY (copy_id, symbol, position_side)
) STRICT;
";

/// One leader position at `t0`. `qty` is signed in one-way mode (negative = short).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct T0Position {
    pub symbol: String,
    pub position_side: PositionSide,
    pub qty: Decimal,
    pub entry_price: Option<Decimal>,
    pub leverage: Option<Decimal>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<T0Position> {
    Ok(T0Position {
        symbol: r.get("symbol")?,
        position_side: r.get("position_side")?,
        qty: dec(r, "qty")?,
        entry_price: opt_dec(r, "entry_price")?,
        leverage: opt_dec(r, "leverage")?,
    })
}

/// The `leader_t0_positions` table.
#[derive(Debug, Clone, Copy)]
pub struct LeaderT0<'c> {
    conn: &'c Connection,
}

impl<'c> LeaderT0<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Records the snapshot; a copy's snapshot is written once, so a second write of the
    /// same position is a conflict. Call it in the transaction that sets `t0`.
    pub fn record(&self, copy_id: i64, positions: &[T0Position]) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(
            "INSERT INTO leader_t0_positions
                (copy_id, symbol, position_side, qty, entry_price, leverage)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for p in positions {
            require_text("symbol", &p.symbol, 32)?;
            stmt.execute(params![
                copy_id,
                p.symbol,
                p.position_side,
                DecText(p.qty),
                opt(p.entry_price),
                opt(p.leverage)
            ])
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict {
                    what: "t0 position",
                    key: format!("{} {}", p.symbol, copy_id),
                },
                _ => StoreError::Sqlite(e),
            })?;
        }
        Ok(())
    }

    pub fn list(&self, copy_id: i64) -> Result<Vec<T0Position>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM leader_t0_positions WHERE copy_id = ?1 ORDER BY symbol, position_side",
        )?;
        rows(&mut stmt, [copy_id], from_row)
    }
}
