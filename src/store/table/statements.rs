//! `profit_share_statements`: the profit-share statements of copies (copy-rules §7), one
//! per settlement (weekly, Monday 00:00 UTC, and when the copy stops). A record in the
//! app only: no funds move. At most one statement per copy, period end and kind, so a
//! catch-up that runs twice stores each statement once.

use rusqlite::{params, Connection, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::rows;
use crate::store::error::StoreError;
use crate::store::value::{dec, text_enum, DecText, TimestampMs};

pub(crate) const V6: &str = "
CREATE TABLE profit_share_statements (
    id            INTEGER PRIMARY KEY,
    copy_id       INTEGER NOT NULL REFERENCES copies(id),
    kind          TEXT NOT NULL CHECK (kind IN ('weekly', 'stop')),
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    ratio         TEXT NOT NULL,
    realized      TEXT NOT NULL,
    fees          TEXT NOT NULL,
    funding       TEXT NOT NULL,
    unrealized    TEXT NOT NULL,
    already_paid  TEXT NOT NULL,
    owed          TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('settled', 'nothing', 'postponed')),
    text          TEXT NOT NULL,
    computed_at   INTEGER NOT NULL,
    UNIQUE (copy_id, period_end, kind)
) STRICT;
CREATE INDEX profit_share_statements_by_copy ON profit_share_statements (copy_id, period_end);
";

text_enum!(
    /// Why a statement was drawn up: the weekly settlement or the copy's stop.
    StatementKind { Weekly => "weekly", Stop => "stop" }
);

text_enum!(
    /// What a statement concluded (copy-rules §7).
    StatementOutcome { Settled => "settled", Nothing => "nothing", Postponed => "postponed" }
);

/// One statement, to record or as read back. `realized`, `fees`, `funding` and
/// `unrealized` are the copy's totals at `period_end`; `owed` is what this statement
/// settles (outcome `settled`) or would have (`postponed`); zero for `nothing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementRow {
    pub copy_id: i64,
    pub kind: StatementKind,
    pub period_start: TimestampMs,
    pub period_end: TimestampMs,
    pub ratio: Decimal,
    pub realized: Decimal,
    pub fees: Decimal,
    pub funding: Decimal,
    pub unrealized: Decimal,
    pub already_paid: Decimal,
    pub owed: Decimal,
    pub outcome: StatementOutcome,
    pub text: String,
    /// When CopyDesk drew it up: later than `period_end` when caught up at an open.
    pub computed_at: TimestampMs,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<StatementRow> {
    Ok(StatementRow {
        copy_id: r.get("copy_id")?,
        kind: r.get("kind")?,
        period_start: r.get("period_start")?,
        period_end: r.get("period_end")?,
        ratio: dec(r, "ratio")?,
        realized: dec(r, "realized")?,
        fees: dec(r, "fees")?,
        funding: dec(r, "funding")?,
        unrealized: dec(r, "unrealized")?,
        already_paid: dec(r, "already_paid")?,
        owed: dec(r, "owed")?,
        outcome: r.get("outcome")?,
        text: r.get("text")?,
        computed_at: r.get("computed_at")?,
    })
}

/// The `profit_share_statements` table.
#[derive(Debug, Clone, Copy)]
pub struct Statements<'c> {
    conn: &'c Connection,
}

impl<'c> Statements<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Stores a statement; false when that copy already has it (same end and kind).
    pub fn record(&self, s: &StatementRow) -> Result<bool, StoreError> {
        let n = self.conn.prepare_cached("INSERT INTO profit_share_statements (copy_id, kind, period_start, period_end, ratio,
                realized, fees, funding, unrealized, already_paid, owed, outcome, text,
                computed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (copy_id, period_end, kind) DO NOTHING")?.execute(
            params![
                s.copy_id,
                s.kind,
                s.period_start,
                s.period_end,
                DecText(s.ratio),
                DecText(s.realized),
                DecText(s.fees),
                DecText(s.funding),
                DecText(s.unrealized),
                DecText(s.already_paid),
                DecText(s.owed),
                s.outcome,
                s.text,
                s.computed_at
            ],
        )?;
        Ok(n == 1)
    }

    /// A copy's statements, oldest period first.
    pub fn for_copy(&self, copy_id: i64) -> Result<Vec<StatementRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM profit_share_statements WHERE copy_id = ?1
             ORDER BY period_end, kind DESC, id",
        )?;
        rows(&mut stmt, [copy_id], from_row)
    }
}
