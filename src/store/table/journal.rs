//! `order_journal`: the outbox. Every order is written here (state `planned`) before it is
//! sent, under its client order id, which is unique: the same id can never be planned
//! twice. After a crash, [`Journal::unfinished`] lists what must be looked up on the venue
//! (copy-rules §6). States only move forward; a terminal state is final.

use rusqlite::{params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{require_text, rows};
use crate::domain::{PositionSide, Side};
use crate::store::error::StoreError;
use crate::store::value::{dec, opt, opt_dec, text_enum, DecText, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE order_journal (
    id               INTEGER PRIMARY KEY,
    client_order_id  TEXT NOT NULL UNIQUE,
    copy_id          INTEGER NOT NULL REFERENCES copies(id),
    signal_id        INTEGER REFERENCES leader_signals(id),
    leg              INTEGER NOT NULL,
    symbol           TEXT NOT NULL,
    side             TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    position_side    TEXT NOT NULL CHECK (position_side IN ('both', 'long', 'short')),
    order_type       TEXT NOT NULL,
    qty              TEXT NOT NULL,
    price            TEXT,
    reduce_only      INTEGER NOT NULL CHECK (reduce_only IN (0, 1)),
    state            TEXT NOT NULL,
    venue_order_id   TEXT,
    filled_qty       TEXT NOT NULL DEFAULT '0',
    error            TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX order_journal_unfinished ON order_journal (state)
    WHERE state IN ('planned', 'sent', 'acked', 'partially-filled', 'unknown');
CREATE INDEX order_journal_by_copy ON order_journal (copy_id, id);
";

/// v8: the unfinished orders' index, in id order, with its condition as comparisons. V1's
/// `state IN (…five states…)` made SQLite build a temporary table for the list at every
/// insert and every state change of a row (the index's condition is checked for the old
/// and the new row), several times per order on the copy path; three `<>` comparisons
/// cost nothing to set up. Indexing `id` lets [`Journal::unfinished`] read the rows in
/// its order without sorting them.
pub(crate) const V8: &str = "
DROP INDEX order_journal_unfinished;
CREATE INDEX order_journal_unfinished ON order_journal (id)
    WHERE state <> 'filled' AND state <> 'canceled' AND state <> 'rejected';
";

text_enum!(
    /// Where an order is in its life. `sent` (on the wire, no answer yet) is distinct from
    /// `acked`; `unknown` means the answer was lost and the venue must be asked.
    OrderState {
        Planned => "planned",
        Sent => "sent",
        Acked => "acked",
        PartiallyFilled => "partially-filled",
        Filled => "filled",
        Canceled => "canceled",
        Rejected => "rejected",
        Unknown => "unknown",
    }
);

impl OrderState {
    /// Filled, canceled and rejected orders are done; nothing moves them again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Canceled | OrderState::Rejected
        )
    }
}

text_enum!(
    /// Order type as the journal records it.
    OrderType {
        Market => "market",
        Limit => "limit",
        StopMarket => "stop-market",
        TakeProfitMarket => "take-profit-market",
    }
);

/// An order about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOrder<'a> {
    pub client_order_id: &'a str,
    pub copy_id: i64,
    pub signal_id: Option<i64>,
    /// Which order of the signal's plan this is (a flip is a close leg and an open leg).
    pub leg: u32,
    pub symbol: &'a str,
    pub side: Side,
    pub position_side: PositionSide,
    pub order_type: OrderType,
    pub qty: Decimal,
    pub price: Option<Decimal>,
    pub reduce_only: bool,
    pub at: TimestampMs,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub id: i64,
    pub client_order_id: String,
    pub copy_id: i64,
    pub signal_id: Option<i64>,
    pub leg: u32,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub order_type: OrderType,
    pub qty: Decimal,
    pub price: Option<Decimal>,
    pub reduce_only: bool,
    pub state: OrderState,
    pub venue_order_id: Option<String>,
    pub filled_qty: Decimal,
    pub error: Option<String>,
    pub created_at: TimestampMs,
    pub updated_at: TimestampMs,
}

/// A query of the journal reading the columns [`from_row`] reads, in its order: by
/// position, not by name (a name is looked up column by column for every row, and the
/// journal is read on the copy path).
macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT id, client_order_id, copy_id, signal_id, leg, symbol, side, position_side,
                order_type, qty, price, reduce_only, state, venue_order_id, filled_qty, error,
                created_at, updated_at
             FROM order_journal ",
            $tail
        )
    };
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<JournalEntry> {
    Ok(JournalEntry {
        id: r.get(0)?,
        client_order_id: r.get(1)?,
        copy_id: r.get(2)?,
        signal_id: r.get(3)?,
        leg: r.get(4)?,
        symbol: r.get(5)?,
        side: r.get(6)?,
        position_side: r.get(7)?,
        order_type: r.get(8)?,
        qty: dec(r, 9)?,
        price: opt_dec(r, 10)?,
        reduce_only: r.get(11)?,
        state: r.get(12)?,
        venue_order_id: r.get(13)?,
        filled_qty: dec(r, 14)?,
        error: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

/// States from which an order may move to each target state.
fn allowed_from(to: OrderState) -> &'static [OrderState] {
    use OrderState::*;
    match to {
        Planned => &[],
        Sent => &[Planned, Unknown],
        // A restart's lookup may find an order whose send was never confirmed.
        Acked => &[Planned, Sent, Unknown],
        // Fills can arrive on the stream before the REST answer.
        PartiallyFilled | Filled => &[Planned, Sent, Acked, PartiallyFilled, Unknown],
        Canceled => &[Planned, Sent, Acked, PartiallyFilled, Unknown],
        Rejected => &[Planned, Sent, Unknown],
        Unknown => &[Planned, Sent],
    }
}

/// The statement moving an order to `to` from the states [`allowed_from`] lists, built once
/// per target. The states are compared one by one (`state = 'a' OR state = 'b' …`): an
/// `IN` list of more than two constants makes SQLite build a temporary table every time
/// the statement runs, and this one runs for every order's every state.
fn advance_sql(to: OrderState) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        OrderState::ALL
            .iter()
            .map(|&t| {
                // The states come from our own enum, never from input; a target no state
                // may reach matches no row.
                let from = allowed_from(t)
                    .iter()
                    .map(|s| format!("state = '{}'", s.as_str()))
                    .collect::<Vec<_>>();
                let from = if from.is_empty() {
                    "0".to_owned()
                } else {
                    from.join(" OR ")
                };
                format!(
                    "UPDATE order_journal SET state = ?2, updated_at = ?3,
                        venue_order_id = COALESCE(?4, venue_order_id),
                        filled_qty = COALESCE(?5, filled_qty),
                        error = COALESCE(?6, error)
                     WHERE client_order_id = ?1 AND ({from})"
                )
            })
            .collect()
    });
    // `ALL` holds every state, so the position is always found.
    let i = OrderState::ALL
        .iter()
        .position(|&t| t == to)
        .unwrap_or_default();
    &all[i]
}

/// The `order_journal` table.
#[derive(Debug, Clone, Copy)]
pub struct Journal<'c> {
    conn: &'c Connection,
}

impl<'c> Journal<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Writes an order before it is sent. A client order id already in the journal is a
    /// conflict: the order was planned before and must not be planned again.
    pub fn record_planned(&self, o: &PlannedOrder<'_>) -> Result<i64, StoreError> {
        self.insert(o, OrderState::Planned)
    }

    /// Writes an order in the commit that precedes its send, already `sent` (recovery
    /// looks a sent order up by its client id, as it does a planned one): one statement
    /// where [`Journal::record_planned`] and [`Journal::mark_sent`] are two. A conflict as
    /// for [`Journal::record_planned`].
    pub fn record_sent(&self, o: &PlannedOrder<'_>) -> Result<i64, StoreError> {
        self.insert(o, OrderState::Sent)
    }

    fn insert(&self, o: &PlannedOrder<'_>, state: OrderState) -> Result<i64, StoreError> {
        require_text("client_order_id", o.client_order_id, 36)?;
        require_text("symbol", o.symbol, 32)?;
        if o.qty <= Decimal::ZERO {
            return Err(StoreError::Invalid {
                field: "qty",
                message: format!(
                    "must be greater than zero (got {}); skip the order instead",
                    o.qty
                ),
            });
        }
        // Cached: the journal is the hottest write path, one insert per order.
        let res = self
            .conn
            .prepare_cached(
                "INSERT INTO order_journal (client_order_id, copy_id, signal_id, leg, symbol, side,
                position_side, order_type, qty, price, reduce_only, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?12, ?12)",
            )?
            .execute(params![
                o.client_order_id,
                o.copy_id,
                o.signal_id,
                o.leg,
                o.symbol,
                o.side,
                o.position_side,
                o.order_type,
                DecText(o.qty),
                opt(o.price),
                o.reduce_only,
                o.at,
                state
            ]);
        match res {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(e) if self.get(o.client_order_id)?.is_some() => {
                tracing::debug!(error = %e, "client order id already journaled");
                Err(StoreError::Conflict {
                    what: "client order id",
                    key: o.client_order_id.to_owned(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The order went out on the wire.
    pub fn mark_sent(&self, coid: &str, at: TimestampMs) -> Result<(), StoreError> {
        self.advance(coid, OrderState::Sent, at, None, None, None)
    }

    /// The venue accepted the order under `venue_order_id`.
    pub fn mark_acked(
        &self,
        coid: &str,
        venue_order_id: &str,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        self.advance(
            coid,
            OrderState::Acked,
            at,
            Some(venue_order_id),
            None,
            None,
        )
    }

    /// The venue's answer to the order's send, in one statement: its venue id and the state
    /// the answer reports (`acked`, or already `partially-filled`, `filled`, `canceled` or
    /// `rejected`), with the cumulative `filled_qty` and, for a refusal, `error`. Moves
    /// the row as the matching `mark_…` does, from the same states.
    pub fn mark_answered(
        &self,
        coid: &str,
        venue_order_id: &str,
        to: OrderState,
        filled_qty: Decimal,
        error: Option<&str>,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        use OrderState::*;
        let filled = match to {
            Acked | Rejected => None,
            PartiallyFilled | Filled | Canceled => Some(filled_qty),
            Planned | Sent | Unknown => {
                return Err(StoreError::Invalid {
                    field: "state",
                    message: format!(
                        "`{to}` is not a venue's answer; use acked, partially-filled, filled, canceled or rejected"
                    ),
                })
            }
        };
        self.advance(coid, to, at, Some(venue_order_id), filled, error)
    }

    /// Part of the order filled; `filled_qty` is the cumulative filled quantity.
    pub fn mark_partially_filled(
        &self,
        coid: &str,
        filled_qty: Decimal,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        self.advance(
            coid,
            OrderState::PartiallyFilled,
            at,
            None,
            Some(filled_qty),
            None,
        )
    }

    /// The order filled completely; `filled_qty` is the cumulative filled quantity.
    pub fn mark_filled(
        &self,
        coid: &str,
        filled_qty: Decimal,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        self.advance(coid, OrderState::Filled, at, None, Some(filled_qty), None)
    }

    /// The venue refused the order; `reason` is the venue's code and message.
    pub fn mark_rejected(
        &self,
        coid: &str,
        reason: &str,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        self.advance(coid, OrderState::Rejected, at, None, None, Some(reason))
    }

    /// The order was canceled (by us, the user or the venue).
    pub fn mark_canceled(&self, coid: &str, at: TimestampMs) -> Result<(), StoreError> {
        self.advance(coid, OrderState::Canceled, at, None, None, None)
    }

    /// A protective stop placed again under the id of one that was cancelled (stop ids
    /// are derived from the stop, so a later stop of the same size and price reuses one):
    /// its row is `planned` again, for the placement's outcome to be recorded as for a new
    /// one. Only stop rows, and only from `canceled`: an order id is never reused. True
    /// when the row was reopened.
    pub fn reopen_stop(&self, coid: &str, at: TimestampMs) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE order_journal SET state = 'planned', updated_at = ?2
                 WHERE client_order_id = ?1 AND order_type = 'stop-market' AND state = 'canceled'",
            )?
            .execute(params![coid, at])?;
        Ok(n == 1)
    }

    /// The send's outcome was lost (timeout, crash); the venue must be asked.
    pub fn mark_unknown(&self, coid: &str, at: TimestampMs) -> Result<(), StoreError> {
        self.advance(coid, OrderState::Unknown, at, None, None, None)
    }

    fn advance(
        &self,
        coid: &str,
        to: OrderState,
        at: TimestampMs,
        venue_order_id: Option<&str>,
        filled_qty: Option<Decimal>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = self.conn.prepare_cached(advance_sql(to))?.execute(params![
            coid,
            to,
            at,
            venue_order_id,
            opt(filled_qty),
            error
        ])?;
        if n == 1 {
            return Ok(());
        }
        match self.get(coid)? {
            None => Err(StoreError::NotFound {
                what: "journal entry",
                key: coid.to_owned(),
            }),
            Some(e) => Err(StoreError::InvalidTransition {
                what: "order",
                key: coid.to_owned(),
                from: e.state.to_string(),
                to: to.as_str(),
            }),
        }
    }

    pub fn get(&self, coid: &str) -> Result<Option<JournalEntry>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(select!("WHERE client_order_id = ?1"))?
            .query_row([coid], from_row)
            .optional()?)
    }

    /// Orders not yet in a terminal state, oldest first: what a restart must look up.
    pub fn unfinished(&self) -> Result<Vec<JournalEntry>, StoreError> {
        // The condition of the `order_journal_unfinished` index, word for word, so that
        // SQLite reads the index (see [`V8`]).
        let mut stmt = self.conn.prepare_cached(select!(
            "WHERE state <> 'filled' AND state <> 'canceled' AND state <> 'rejected'
                ORDER BY id"
        ))?;
        rows(&mut stmt, [], from_row)
    }

    /// A copy's orders, oldest first.
    pub fn for_copy(&self, copy_id: i64) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select!("WHERE copy_id = ?1 ORDER BY id"))?;
        rows(&mut stmt, [copy_id], from_row)
    }

    /// Number of entries (for diagnostics and tests).
    pub fn count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM order_journal")?
            .query_row([], |r| r.get(0))?)
    }
}
