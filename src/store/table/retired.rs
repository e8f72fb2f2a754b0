//! Statements of tables that later migrations dropped. They stay because a released
//! migration is never edited: a database at version 0 still runs step 1 as it shipped.

/// `copy_positions` (schema v1): a relational ledger nothing ever wrote; the engine's
/// ledger lives in `copy_ledger`. Dropped by migration 4.
pub(crate) const COPY_POSITIONS_V1: &str = "
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
