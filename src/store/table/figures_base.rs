//! `copy_figures_base`: where a copy's figures start after the `reset_figures` start action.
//! Fills and funding with a venue time at or before `since` are kept in their tables (the
//! record of what happened on the account) but count in none of the copy's figures (PnL,
//! fees, funding, ROI) nor in its total stop loss / take profit. A copy without a row
//! counts everything stored for it.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::error::StoreError;
use crate::store::value::TimestampMs;

pub(crate) const V3: &str = "
CREATE TABLE copy_figures_base (
    copy_id     INTEGER PRIMARY KEY REFERENCES copies(id),
    since       INTEGER NOT NULL
) STRICT;
";

/// The `copy_figures_base` table.
#[derive(Debug, Clone, Copy)]
pub struct FiguresBase<'c> {
    conn: &'c Connection,
}

impl<'c> FiguresBase<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Sets (or moves) the copy's figures baseline to venue time `since`.
    pub fn reset(&self, copy_id: i64, since: TimestampMs) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO copy_figures_base (copy_id, since) VALUES (?1, ?2)
             ON CONFLICT (copy_id) DO UPDATE SET since = excluded.since",
            )?
            .execute(params![copy_id, since])?;
        Ok(())
    }

    /// The copy's baseline, if its figures were reset.
    pub fn since(&self, copy_id: i64) -> Result<Option<TimestampMs>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT since FROM copy_figures_base WHERE copy_id = ?1")?
            .query_row([copy_id], |r| r.get(0))
            .optional()?)
    }
}
