//! `copy_latency`: where the time went for each order a copy sent in answer to a leader
//! event, as microsecond (local) and millisecond (venue) timestamps along the path:
//! leader event read from the socket → plan ready → journal committed → order handed to
//! the venue's HTTP client → acknowledgement read → the follower's fill at the venue.
//! Written once after the send (nothing here delays an order) and completed by the fill.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{require_text, rows};
use crate::store::error::StoreError;
use crate::store::value::TimestampMs;

pub(crate) const V5: &str = "
CREATE TABLE copy_latency (
    client_order_id  TEXT PRIMARY KEY,
    copy_id          INTEGER NOT NULL REFERENCES copies(id),
    leader_event_ms  INTEGER,
    leader_recv_us   INTEGER,
    planned_us       INTEGER NOT NULL,
    committed_us     INTEGER NOT NULL,
    written_us       INTEGER NOT NULL,
    acked_us         INTEGER,
    follower_fill_ms INTEGER,
    ts               INTEGER NOT NULL
) STRICT;
CREATE INDEX copy_latency_by_copy ON copy_latency (copy_id, ts);
";

/// The timestamps of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct LatencyRow {
    pub client_order_id: String,
    pub copy_id: i64,
    /// The leader event's venue time (ms).
    pub leader_event_ms: Option<TimestampMs>,
    /// Local time the leader event was read from its socket (µs since the epoch).
    pub leader_recv_us: Option<i64>,
    /// Local time the plan was ready (µs).
    pub planned_us: i64,
    /// Local time the journal commit before the send returned (µs).
    pub committed_us: i64,
    /// Local time the order was handed to the venue's HTTP client (µs).
    pub written_us: i64,
    /// Local time the acknowledgement was read (µs).
    pub acked_us: Option<i64>,
    /// The follower fill's venue time (ms), from its stream.
    pub follower_fill_ms: Option<TimestampMs>,
    /// Local time the row was written (ms).
    pub ts: TimestampMs,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<LatencyRow> {
    Ok(LatencyRow {
        client_order_id: r.get("client_order_id")?,
        copy_id: r.get("copy_id")?,
        leader_event_ms: r.get("leader_event_ms")?,
        leader_recv_us: r.get("leader_recv_us")?,
        planned_us: r.get("planned_us")?,
        committed_us: r.get("committed_us")?,
        written_us: r.get("written_us")?,
        acked_us: r.get("acked_us")?,
        follower_fill_ms: r.get("follower_fill_ms")?,
        ts: r.get("ts")?,
    })
}

/// The `copy_latency` table.
#[derive(Debug, Clone, Copy)]
pub struct Latency<'c> {
    conn: &'c Connection,
}

impl<'c> Latency<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Stores one order's path (once; a second row for the same order is ignored).
    pub fn record(&self, l: &LatencyRow) -> Result<(), StoreError> {
        require_text("client_order_id", &l.client_order_id, 36)?;
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO copy_latency (client_order_id, copy_id, leader_event_ms,
                 leader_recv_us, planned_us, committed_us, written_us, acked_us, follower_fill_ms, ts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                l.client_order_id,
                l.copy_id,
                l.leader_event_ms,
                l.leader_recv_us,
                l.planned_us,
                l.committed_us,
                l.written_us,
                l.acked_us,
                l.follower_fill_ms,
                l.ts
            ])?;
        Ok(())
    }

    /// The follower's fill of an order, at venue time `at` (the first fill counts).
    pub fn fill(&self, client_order_id: &str, at: TimestampMs) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE copy_latency SET follower_fill_ms = ?2
                 WHERE client_order_id = ?1 AND follower_fill_ms IS NULL",
            )?
            .execute(params![client_order_id, at])?;
        Ok(())
    }

    pub fn get(&self, client_order_id: &str) -> Result<Option<LatencyRow>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM copy_latency WHERE client_order_id = ?1")?
            .query_row([client_order_id], from_row)
            .optional()?)
    }

    /// The newest `limit` rows of a copy, newest first.
    pub fn recent(&self, copy_id: i64, limit: u32) -> Result<Vec<LatencyRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM copy_latency WHERE copy_id = ?1 ORDER BY ts DESC, rowid DESC LIMIT ?2",
        )?;
        rows(&mut stmt, params![copy_id, limit], from_row)
    }

    /// Every row (for benchmarks and export), oldest first.
    pub fn all(&self) -> Result<Vec<LatencyRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM copy_latency ORDER BY ts, rowid")?;
        rows(&mut stmt, [], from_row)
    }
}
