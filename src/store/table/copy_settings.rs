//! `copy_settings`: every version of a copy's settings, append-only, so the app can show
//! what was in force when a decision was made (copy-rules §1.6: modifications apply to
//! positions opened afterwards). Settings are stored as JSON with decimals as strings.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::rows;
use crate::store::error::StoreError;
use crate::store::value::TimestampMs;

pub(crate) const V1: &str = "
CREATE TABLE copy_settings (
    id          INTEGER PRIMARY KEY,
    copy_id     INTEGER NOT NULL REFERENCES copies(id),
    valid_from  INTEGER NOT NULL,
    settings    TEXT NOT NULL CHECK (json_valid(settings)),
    note        TEXT
) STRICT;
CREATE INDEX copy_settings_by_copy ON copy_settings (copy_id, valid_from, id);
";

/// One stored version of a copy's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingsVersion<T> {
    pub id: i64,
    pub copy_id: i64,
    pub valid_from: TimestampMs,
    pub settings: T,
    pub note: Option<String>,
}

fn from_row<T: DeserializeOwned>(r: &Row<'_>) -> rusqlite::Result<SettingsVersion<T>> {
    let json: String = r.get("settings")?;
    let settings = serde_json::from_str(&json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(SettingsVersion {
        id: r.get("id")?,
        copy_id: r.get("copy_id")?,
        valid_from: r.get("valid_from")?,
        settings,
        note: r.get("note")?,
    })
}

/// The `copy_settings` table.
#[derive(Debug, Clone, Copy)]
pub struct CopySettings<'c> {
    conn: &'c Connection,
}

impl<'c> CopySettings<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Appends a settings version in force from `valid_from`.
    pub fn record<T: Serialize>(
        &self,
        copy_id: i64,
        settings: &T,
        valid_from: TimestampMs,
        note: Option<&str>,
    ) -> Result<i64, StoreError> {
        let json = serde_json::to_string(settings).map_err(|e| StoreError::Invalid {
            field: "copy settings",
            message: format!("cannot be written as JSON ({e}); check the settings type"),
        })?;
        self.conn
            .prepare_cached(
                "INSERT INTO copy_settings (copy_id, valid_from, settings, note)
             VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![copy_id, valid_from, json, note])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The latest version, if any.
    pub fn current<T: DeserializeOwned>(
        &self,
        copy_id: i64,
    ) -> Result<Option<SettingsVersion<T>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT * FROM copy_settings WHERE copy_id = ?1
                 ORDER BY valid_from DESC, id DESC LIMIT 1",
            )?
            .query_row([copy_id], from_row)
            .optional()?)
    }

    /// Every version, oldest first.
    pub fn history<T: DeserializeOwned>(
        &self,
        copy_id: i64,
    ) -> Result<Vec<SettingsVersion<T>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM copy_settings WHERE copy_id = ?1 ORDER BY valid_from, id")?;
        rows(&mut stmt, [copy_id], from_row)
    }
}
