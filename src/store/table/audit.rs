//! `decisions`: the audit log of every engine decision (open, skip, resize, close, stop…)
//! with its reason, so a user can always see why the engine did or did not trade.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::{require_text, rows};
use crate::store::error::StoreError;
use crate::store::value::TimestampMs;

pub(crate) const V1: &str = "
CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY,
    ts         INTEGER NOT NULL,
    copy_id    INTEGER REFERENCES copies(id),
    signal_id  INTEGER REFERENCES leader_signals(id),
    action     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    detail     TEXT CHECK (detail IS NULL OR json_valid(detail))
) STRICT;
CREATE INDEX decisions_by_copy ON decisions (copy_id, ts);
CREATE INDEX decisions_by_signal ON decisions (signal_id);
";

/// A decision to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDecision<'a> {
    pub ts: TimestampMs,
    pub copy_id: Option<i64>,
    pub signal_id: Option<i64>,
    /// What was decided, e.g. `open`, `skip`, `close`, `set-leverage`, `stop`.
    pub action: &'a str,
    /// Why, in words a user understands (e.g. "below minimum notional 100 USDT").
    pub reason: &'a str,
    /// Numbers behind the decision (sizes, ratios), decimals as strings.
    pub detail: Option<&'a serde_json::Value>,
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: i64,
    pub ts: TimestampMs,
    pub copy_id: Option<i64>,
    pub signal_id: Option<i64>,
    pub action: String,
    pub reason: String,
    pub detail: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Decision> {
    Ok(Decision {
        id: r.get("id")?,
        ts: r.get("ts")?,
        copy_id: r.get("copy_id")?,
        signal_id: r.get("signal_id")?,
        action: r.get("action")?,
        reason: r.get("reason")?,
        detail: r.get("detail")?,
    })
}

/// The `decisions` table.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'c> {
    conn: &'c Connection,
}

impl<'c> Audit<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    pub fn record(&self, d: &NewDecision<'_>) -> Result<i64, StoreError> {
        require_text("action", d.action, 32)?;
        require_text("reason", d.reason, 2000)?;
        let detail = d.detail.map(|v| v.to_string());
        self.conn
            .prepare_cached(
                "INSERT INTO decisions (ts, copy_id, signal_id, action, reason, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                d.ts,
                d.copy_id,
                d.signal_id,
                d.action,
                d.reason,
                detail
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A copy's newest `limit` decisions, newest first.
    pub fn for_copy(&self, copy_id: i64, limit: u32) -> Result<Vec<Decision>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM decisions WHERE copy_id = ?1 ORDER BY ts DESC, id DESC LIMIT ?2",
        )?;
        rows(&mut stmt, params![copy_id, limit], from_row)
    }

    /// Every decision taken on one signal, in order.
    pub fn for_signal(&self, signal_id: i64) -> Result<Vec<Decision>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM decisions WHERE signal_id = ?1 ORDER BY id")?;
        rows(&mut stmt, [signal_id], from_row)
    }
}
