//! `copy_ledger`: each copy's ledger as one JSON document (the planner's ledger: copied
//! positions with their `k`, pending fills, books not copied, protective stops) plus the
//! plan in flight, so a restart resumes exactly where the engine stopped. The runtime owns
//! the document's shape; this table only keeps it. Created as `copy_state` (schema v2) and
//! renamed by migration 4, when "copy state" came to mean only a copy's run state.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::error::StoreError;
use crate::store::value::TimestampMs;

/// As released in schema v2 (never edited).
pub(crate) const V2: &str = "
CREATE TABLE copy_state (
    copy_id     INTEGER PRIMARY KEY REFERENCES copies(id),
    ledger      TEXT NOT NULL,
    in_flight   TEXT,
    updated_at  INTEGER NOT NULL
) STRICT;
";

/// Migration 4: the one ledger of a copy is this table, under its own name; the unused
/// `copy_positions` goes.
pub(crate) const V4: &str = "
ALTER TABLE copy_state RENAME TO copy_ledger;
DROP TABLE copy_positions;
";

/// The stored ledger of one copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyLedgerRow {
    pub ledger: String,
    pub in_flight: Option<String>,
    pub updated_at: TimestampMs,
}

/// The `copy_ledger` table.
#[derive(Debug, Clone, Copy)]
pub struct CopyLedgers<'c> {
    conn: &'c Connection,
}

impl<'c> CopyLedgers<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Writes a copy's ledger and plan in flight (`None` once the plan settled).
    pub fn save(
        &self,
        copy_id: i64,
        ledger: &str,
        in_flight: Option<&str>,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        self.conn.prepare_cached("INSERT INTO copy_ledger (copy_id, ledger, in_flight, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (copy_id) DO UPDATE SET ledger = ?2, in_flight = ?3, updated_at = ?4")?.execute(
            params![copy_id, ledger, in_flight, at],
        )?;
        Ok(())
    }

    /// A copy's ledger, `None` before its first save.
    pub fn get(&self, copy_id: i64) -> Result<Option<CopyLedgerRow>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT ledger, in_flight, updated_at FROM copy_ledger WHERE copy_id = ?1",
            )?
            .query_row(params![copy_id], |r| {
                Ok(CopyLedgerRow {
                    ledger: r.get(0)?,
                    in_flight: r.get(1)?,
                    updated_at: r.get(2)?,
                })
            })
            .optional()?)
    }
}
