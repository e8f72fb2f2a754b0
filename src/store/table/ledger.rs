//! `copy_positions`: each copy's ledger of the follower positions it opened, with the copy
//! ratio `k` fixed at the open (copy-rules §3) and the quantity the risk gate declined
//! (reconciliation's target subtracts it, §5). At most one open entry per copy, symbol and
//! side.

use rusqlite::{params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{require_text, rows};
use crate::domain::PositionSide;
use crate::store::error::StoreError;
use crate::store::value::{dec, DecText, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE copy_positions (
    id             INTEGER PRIMARY KEY,
    copy_id        INTEGER NOT NULL REFERENCES copies(id),
    symbol         TEXT NOT NULL,
    position_side  TEXT NOT NULL CHECK (position_side IN ('both', 'long', 'short')),
    k              TEXT NOT NULL,
    qty            TEXT NOT NULL,
    declined_qty   TEXT NOT NULL DEFAULT '0',
    opened_at      INTEGER NOT NULL,
    ended_at       INTEGER,
    end_reason     TEXT
) STRICT;
CREATE UNIQUE INDEX copy_positions_one_open
    ON copy_positions (copy_id, symbol, position_side) WHERE ended_at IS NULL;
";

/// A ledger entry to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerPosition<'a> {
    pub copy_id: i64,
    pub symbol: &'a str,
    pub position_side: PositionSide,
    /// Follower quantity / leader quantity, fixed now.
    pub k: Decimal,
    /// Follower quantity opened.
    pub qty: Decimal,
    pub opened_at: TimestampMs,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerPosition {
    pub id: i64,
    pub copy_id: i64,
    pub symbol: String,
    pub position_side: PositionSide,
    pub k: Decimal,
    pub qty: Decimal,
    pub declined_qty: Decimal,
    pub opened_at: TimestampMs,
    pub ended_at: Option<TimestampMs>,
    pub end_reason: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<LedgerPosition> {
    Ok(LedgerPosition {
        id: r.get("id")?,
        copy_id: r.get("copy_id")?,
        symbol: r.get("symbol")?,
        position_side: r.get("position_side")?,
        k: dec(r, "k")?,
        qty: dec(r, "qty")?,
        declined_qty: dec(r, "declined_qty")?,
        opened_at: r.get("opened_at")?,
        ended_at: r.get("ended_at")?,
        end_reason: r.get("end_reason")?,
    })
}

/// The `copy_positions` table.
#[derive(Debug, Clone, Copy)]
pub struct Ledger<'c> {
    conn: &'c Connection,
}

impl<'c> Ledger<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Opens a ledger entry; a copy already holding the symbol and side is a conflict.
    pub fn open(&self, p: &NewLedgerPosition<'_>) -> Result<i64, StoreError> {
        require_text("symbol", p.symbol, 32)?;
        if p.k <= Decimal::ZERO {
            return Err(StoreError::Invalid {
                field: "k",
                message: format!(
                    "must be greater than zero (got {}); size the open first",
                    p.k
                ),
            });
        }
        if self
            .open_position(p.copy_id, p.symbol, p.position_side)?
            .is_some()
        {
            return Err(StoreError::Conflict {
                what: "open ledger position",
                key: format!("{} of copy {}", p.symbol, p.copy_id),
            });
        }
        self.conn.execute(
            "INSERT INTO copy_positions (copy_id, symbol, position_side, k, qty, opened_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                p.copy_id,
                p.symbol,
                p.position_side,
                DecText(p.k),
                DecText(p.qty),
                p.opened_at
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The open entry of a copy for a symbol and side.
    pub fn open_position(
        &self,
        copy_id: i64,
        symbol: &str,
        side: PositionSide,
    ) -> Result<Option<LedgerPosition>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT * FROM copy_positions
                 WHERE copy_id = ?1 AND symbol = ?2 AND position_side = ?3 AND ended_at IS NULL",
                params![copy_id, symbol, side],
                from_row,
            )
            .optional()?)
    }

    /// Every open entry of a copy.
    pub fn list_open(&self, copy_id: i64) -> Result<Vec<LedgerPosition>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM copy_positions WHERE copy_id = ?1 AND ended_at IS NULL ORDER BY id",
        )?;
        rows(&mut stmt, [copy_id], from_row)
    }

    /// Every entry of a copy, ended ones included.
    pub fn history(&self, copy_id: i64) -> Result<Vec<LedgerPosition>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM copy_positions WHERE copy_id = ?1 ORDER BY id")?;
        rows(&mut stmt, [copy_id], from_row)
    }

    /// Records the follower quantity and the declined quantity after a change.
    pub fn set_qty(&self, id: i64, qty: Decimal, declined_qty: Decimal) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE copy_positions SET qty = ?2, declined_qty = ?3
             WHERE id = ?1 AND ended_at IS NULL",
            params![id, DecText(qty), DecText(declined_qty)],
        )?;
        self.one_open(id, n, "updated")
    }

    /// Ends an entry (closed, liquidated, closed by hand…), keeping it as history.
    pub fn end(&self, id: i64, at: TimestampMs, reason: &str) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE copy_positions SET ended_at = ?2, end_reason = ?3
             WHERE id = ?1 AND ended_at IS NULL",
            params![id, at, reason],
        )?;
        self.one_open(id, n, "ended")
    }

    fn one_open(&self, id: i64, changed: usize, to: &'static str) -> Result<(), StoreError> {
        if changed == 1 {
            return Ok(());
        }
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM copy_positions WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if exists {
            Err(StoreError::InvalidTransition {
                what: "ledger position",
                key: id.to_string(),
                from: "ended".into(),
                to,
            })
        } else {
            Err(StoreError::NotFound {
                what: "ledger position",
                key: id.to_string(),
            })
        }
    }
}
