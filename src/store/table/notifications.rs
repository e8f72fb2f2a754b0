//! `notifications`: what the user was told (fills, skips with their reason, stops,
//! disconnects, errors), kept so the app can show them after a restart.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::{require_text, rows};
use crate::store::error::StoreError;
use crate::store::value::{text_enum, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE notifications (
    id       INTEGER PRIMARY KEY,
    ts       INTEGER NOT NULL,
    copy_id  INTEGER REFERENCES copies(id),
    level    TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    kind     TEXT NOT NULL,
    message  TEXT NOT NULL,
    read     INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1))
) STRICT;
CREATE INDEX notifications_by_time ON notifications (ts);
";

text_enum!(
    /// How loud a notification is.
    Level { Info => "info", Warning => "warning", Error => "error" }
);

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub ts: TimestampMs,
    pub copy_id: Option<i64>,
    pub level: Level,
    /// Short machine name such as `fill`, `skip`, `stop`, `disconnect`.
    pub kind: String,
    pub message: String,
    pub read: bool,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: r.get("id")?,
        ts: r.get("ts")?,
        copy_id: r.get("copy_id")?,
        level: r.get("level")?,
        kind: r.get("kind")?,
        message: r.get("message")?,
        read: r.get("read")?,
    })
}

/// The `notifications` table.
#[derive(Debug, Clone, Copy)]
pub struct Notifications<'c> {
    conn: &'c Connection,
}

impl<'c> Notifications<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    pub fn push(
        &self,
        ts: TimestampMs,
        copy_id: Option<i64>,
        level: Level,
        kind: &str,
        message: &str,
    ) -> Result<i64, StoreError> {
        require_text("kind", kind, 32)?;
        require_text("message", message, 2000)?;
        self.conn.prepare_cached("INSERT INTO notifications (ts, copy_id, level, kind, message) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(
            params![ts, copy_id, level, kind, message],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest `limit` notifications, newest first.
    pub fn recent(&self, limit: u32) -> Result<Vec<Notification>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM notifications ORDER BY ts DESC, id DESC LIMIT ?1")?;
        rows(&mut stmt, [limit], from_row)
    }

    /// Unread notifications, oldest first.
    pub fn unread(&self) -> Result<Vec<Notification>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM notifications WHERE read = 0 ORDER BY ts, id")?;
        rows(&mut stmt, [], from_row)
    }

    pub fn mark_read(&self, id: i64) -> Result<(), StoreError> {
        let n = self
            .conn
            .prepare_cached("UPDATE notifications SET read = 1 WHERE id = ?1")?
            .execute([id])?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "notification",
                key: id.to_string(),
            });
        }
        Ok(())
    }
}
