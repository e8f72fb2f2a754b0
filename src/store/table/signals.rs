//! `leader_signals`: every leader signal received, once. A signal carries the venue's own
//! reference (order and trade id, or event id), so one delivered twice (stream and resync)
//! is stored once and the second delivery is recognised.

use rusqlite::{params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{require_text, rows};
use crate::domain::PositionSide;
use crate::store::error::StoreError;
use crate::store::value::{opt, opt_dec, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE leader_signals (
    id             INTEGER PRIMARY KEY,
    leader_id      INTEGER NOT NULL REFERENCES leaders(id),
    venue_ref      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    symbol         TEXT NOT NULL,
    position_side  TEXT NOT NULL CHECK (position_side IN ('both', 'long', 'short')),
    qty            TEXT,
    price          TEXT,
    leverage       TEXT,
    margin         TEXT,
    ts_event       INTEGER NOT NULL,
    ts_recv        INTEGER NOT NULL,
    payload        TEXT CHECK (payload IS NULL OR json_valid(payload)),
    UNIQUE (leader_id, venue_ref)
) STRICT;
CREATE INDEX leader_signals_by_time ON leader_signals (leader_id, ts_event);
";

/// A received signal. `kind` is the engine's name for it (`open`, `increase`,
/// `partial-close`, `close`, `leverage`, `margin-mode`, `margin-add`, `margin-reduce`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignal<'a> {
    pub leader_id: i64,
    pub venue_ref: &'a str,
    pub kind: &'a str,
    pub symbol: &'a str,
    pub position_side: PositionSide,
    pub qty: Option<Decimal>,
    pub price: Option<Decimal>,
    pub leverage: Option<Decimal>,
    pub margin: Option<Decimal>,
    pub ts_event: TimestampMs,
    pub ts_recv: TimestampMs,
    /// The raw event as JSON, for the audit trail. Must not hold credentials.
    pub payload: Option<&'a serde_json::Value>,
}

/// One stored signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub id: i64,
    pub leader_id: i64,
    pub venue_ref: String,
    pub kind: String,
    pub symbol: String,
    pub position_side: PositionSide,
    pub qty: Option<Decimal>,
    pub price: Option<Decimal>,
    pub leverage: Option<Decimal>,
    pub margin: Option<Decimal>,
    pub ts_event: TimestampMs,
    pub ts_recv: TimestampMs,
    pub payload: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Signal> {
    Ok(Signal {
        id: r.get("id")?,
        leader_id: r.get("leader_id")?,
        venue_ref: r.get("venue_ref")?,
        kind: r.get("kind")?,
        symbol: r.get("symbol")?,
        position_side: r.get("position_side")?,
        qty: opt_dec(r, "qty")?,
        price: opt_dec(r, "price")?,
        leverage: opt_dec(r, "leverage")?,
        margin: opt_dec(r, "margin")?,
        ts_event: r.get("ts_event")?,
        ts_recv: r.get("ts_recv")?,
        payload: r.get("payload")?,
    })
}

/// The `leader_signals` table.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'c> {
    conn: &'c Connection,
}

impl<'c> Signals<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Stores a signal and returns its id, or `None` when this leader's signal with the
    /// same venue reference is already stored.
    pub fn record(&self, s: &NewSignal<'_>) -> Result<Option<i64>, StoreError> {
        require_text("venue_ref", s.venue_ref, 128)?;
        require_text("kind", s.kind, 32)?;
        require_text("symbol", s.symbol, 32)?;
        let payload = s.payload.map(|p| p.to_string());
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO leader_signals (leader_id, venue_ref, kind, symbol, position_side,
                qty, price, leverage, margin, ts_event, ts_recv, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (leader_id, venue_ref) DO NOTHING",
            )?
            .execute(params![
                s.leader_id,
                s.venue_ref,
                s.kind,
                s.symbol,
                s.position_side,
                opt(s.qty),
                opt(s.price),
                opt(s.leverage),
                opt(s.margin),
                s.ts_event,
                s.ts_recv,
                payload
            ])?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    pub fn get(&self, id: i64) -> Result<Option<Signal>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM leader_signals WHERE id = ?1")?
            .query_row([id], from_row)
            .optional()?)
    }

    /// A leader's signals with event time at or after `since`, in event order.
    pub fn since(&self, leader_id: i64, since: TimestampMs) -> Result<Vec<Signal>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM leader_signals WHERE leader_id = ?1 AND ts_event >= ?2
             ORDER BY ts_event, id",
        )?;
        rows(&mut stmt, params![leader_id, since], from_row)
    }
}
