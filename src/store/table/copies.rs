//! `copies`: one leader → follower relationship each, with its mode, state and start time
//! `t0`. `t0` is set once: a restart is not a new start (copy-rules §1.9).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{require_text, rows};
use crate::store::error::StoreError;
use crate::store::value::{text_enum, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE copies (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    leader_id    INTEGER NOT NULL REFERENCES leaders(id),
    follower     TEXT NOT NULL REFERENCES accounts(name),
    mode         TEXT NOT NULL CHECK (mode IN ('smart-sync', 'fixed-amount', 'fixed-ratio')),
    state        TEXT NOT NULL CHECK (state IN ('created', 'running', 'paused', 'stopped')),
    t0           INTEGER,
    created_at   INTEGER NOT NULL,
    stopped_at   INTEGER,
    stop_reason  TEXT
) STRICT;
";

text_enum!(
    /// Sizing mode of a copy (copy-rules §2).
    CopyMode { SmartSync => "smart-sync", FixedAmount => "fixed-amount", FixedRatio => "fixed-ratio" }
);

/// A copy's run state, stored as its text (`store::value` maps each variant explicitly).
pub use crate::domain::CopyState;

/// A copy to insert (state `created`, no `t0` yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCopy<'a> {
    pub name: &'a str,
    pub leader_id: i64,
    pub follower: &'a str,
    pub mode: CopyMode,
    pub created_at: TimestampMs,
}

/// One copy row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyRow {
    pub id: i64,
    pub name: String,
    pub leader_id: i64,
    pub follower: String,
    pub mode: CopyMode,
    pub state: CopyState,
    pub t0: Option<TimestampMs>,
    pub created_at: TimestampMs,
    pub stopped_at: Option<TimestampMs>,
    pub stop_reason: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<CopyRow> {
    Ok(CopyRow {
        id: r.get("id")?,
        name: r.get("name")?,
        leader_id: r.get("leader_id")?,
        follower: r.get("follower")?,
        mode: r.get("mode")?,
        state: r.get("state")?,
        t0: r.get("t0")?,
        created_at: r.get("created_at")?,
        stopped_at: r.get("stopped_at")?,
        stop_reason: r.get("stop_reason")?,
    })
}

/// The `copies` table.
#[derive(Debug, Clone, Copy)]
pub struct Copies<'c> {
    conn: &'c Connection,
}

impl<'c> Copies<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Inserts a copy in state `created`; a taken name is a conflict.
    pub fn insert(&self, c: &NewCopy<'_>) -> Result<i64, StoreError> {
        require_text("copy name", c.name, 64)?;
        if self.by_name(c.name)?.is_some() {
            return Err(StoreError::Conflict {
                what: "copy",
                key: c.name.to_owned(),
            });
        }
        self.conn
            .prepare_cached(
                "INSERT INTO copies (name, leader_id, follower, mode, state, created_at)
             VALUES (?1, ?2, ?3, ?4, 'created', ?5)",
            )?
            .execute(params![
                c.name,
                c.leader_id,
                c.follower,
                c.mode,
                c.created_at
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn get(&self, id: i64) -> Result<Option<CopyRow>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM copies WHERE id = ?1")?
            .query_row([id], from_row)
            .optional()?)
    }

    pub fn by_name(&self, name: &str) -> Result<Option<CopyRow>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM copies WHERE name = ?1")?
            .query_row([name], from_row)
            .optional()?)
    }

    pub fn list(&self) -> Result<Vec<CopyRow>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM copies ORDER BY id")?;
        rows(&mut stmt, [], from_row)
    }

    /// Sets `t0` and marks the copy running. Refused when `t0` is already set, so a
    /// restart can never move the start.
    pub fn start(&self, id: i64, t0: TimestampMs) -> Result<(), StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE copies SET t0 = ?2, state = 'running' WHERE id = ?1 AND t0 IS NULL",
            )?
            .execute(params![id, t0])?;
        if n == 1 {
            return Ok(());
        }
        match self.get(id)? {
            None => Err(StoreError::NotFound {
                what: "copy",
                key: id.to_string(),
            }),
            Some(c) => Err(StoreError::InvalidTransition {
                what: "copy",
                key: c.name,
                from: format!("already started (t0 = {})", c.t0.unwrap_or_default()),
                to: "started again",
            }),
        }
    }

    /// Moves a copy to `running` or `paused`. A stopped copy stays stopped.
    pub fn set_state(&self, id: i64, state: CopyState) -> Result<(), StoreError> {
        if state == CopyState::Stopped || state == CopyState::Created {
            return Err(StoreError::Invalid {
                field: "state",
                message: "use `stop` to stop a copy; a copy never returns to `created`".into(),
            });
        }
        self.transition(id, state.as_str(), None, None)
    }

    /// Stops a copy, recording when and why.
    pub fn stop(&self, id: i64, at: TimestampMs, reason: &str) -> Result<(), StoreError> {
        self.transition(id, "stopped", Some(at), Some(reason))
    }

    fn transition(
        &self,
        id: i64,
        to: &'static str,
        at: Option<TimestampMs>,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE copies SET state = ?2,
                stopped_at = COALESCE(?3, stopped_at), stop_reason = COALESCE(?4, stop_reason)
             WHERE id = ?1 AND state <> 'stopped'",
            )?
            .execute(params![id, to, at, reason])?;
        if n == 1 {
            return Ok(());
        }
        match self.get(id)? {
            None => Err(StoreError::NotFound {
                what: "copy",
                key: id.to_string(),
            }),
            Some(c) => Err(StoreError::InvalidTransition {
                what: "copy",
                key: c.name,
                from: c.state.to_string(),
                to,
            }),
        }
    }
}
