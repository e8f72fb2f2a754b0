//! `copy_profit_share`: every version of a copy's profit-share ratio (copy-rules §7, a
//! private arrangement with the leader), append-only, so a statement uses the ratio that
//! was in force at its period's end. A version without a ratio turns profit share off.

use rusqlite::{params, Connection, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::rows;
use crate::store::error::StoreError;
use crate::store::value::{opt, opt_dec, TimestampMs};

pub(crate) const V6: &str = "
CREATE TABLE copy_profit_share (
    id          INTEGER PRIMARY KEY,
    copy_id     INTEGER NOT NULL REFERENCES copies(id),
    ratio       TEXT,
    valid_from  INTEGER NOT NULL
) STRICT;
CREATE INDEX copy_profit_share_by_copy ON copy_profit_share (copy_id, valid_from, id);
";

/// One version of a copy's ratio: `None` means off from `valid_from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatioVersion {
    pub copy_id: i64,
    pub ratio: Option<Decimal>,
    pub valid_from: TimestampMs,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<RatioVersion> {
    Ok(RatioVersion {
        copy_id: r.get("copy_id")?,
        ratio: opt_dec(r, "ratio")?,
        valid_from: r.get("valid_from")?,
    })
}

/// The `copy_profit_share` table.
#[derive(Debug, Clone, Copy)]
pub struct ProfitShare<'c> {
    conn: &'c Connection,
}

impl<'c> ProfitShare<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Appends a version in force from `valid_from` (the caller validated the ratio).
    pub fn set(
        &self,
        copy_id: i64,
        ratio: Option<Decimal>,
        valid_from: TimestampMs,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO copy_profit_share (copy_id, ratio, valid_from) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![copy_id, opt(ratio), valid_from])?;
        Ok(())
    }

    /// Every version of a copy, oldest first.
    pub fn history(&self, copy_id: i64) -> Result<Vec<RatioVersion>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM copy_profit_share WHERE copy_id = ?1 ORDER BY valid_from, id",
        )?;
        rows(&mut stmt, [copy_id], from_row)
    }

    /// The copy's ratio now (`None`: off or never set).
    pub fn current(&self, copy_id: i64) -> Result<Option<Decimal>, StoreError> {
        Ok(self.history(copy_id)?.last().and_then(|v| v.ratio))
    }

    /// Ids of the copies that ever had a ratio version.
    pub fn copies(&self) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT copy_id FROM copy_profit_share ORDER BY copy_id")?;
        rows(&mut stmt, [], |r| r.get(0))
    }
}
