//! `accounts`: the exchange accounts CopyDesk knows by name, and a masked hint of the API
//! key stored for each in the keychain. Never a key or a secret: those live only in the OS
//! keychain (see `secrets`).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{require_text, rows};
use crate::store::error::StoreError;
use crate::store::value::TimestampMs;

pub(crate) const V1: &str = "
CREATE TABLE accounts (
    name        TEXT PRIMARY KEY NOT NULL,
    exchange    TEXT,
    endpoint    TEXT,
    key_hint    TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
";

/// One account row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub name: String,
    /// Venue id such as `binance-usdm`, when known.
    pub exchange: Option<String>,
    /// `mainnet`, `demo` or a URL, when known.
    pub endpoint: Option<String>,
    /// Masked API key (`abcd…wxyz`) when a key is in the keychain.
    pub key_hint: Option<String>,
    pub created_at: TimestampMs,
    pub updated_at: TimestampMs,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        name: r.get("name")?,
        exchange: r.get("exchange")?,
        endpoint: r.get("endpoint")?,
        key_hint: r.get("key_hint")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// The `accounts` table.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'c> {
    conn: &'c Connection,
}

impl<'c> Accounts<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Creates the account or updates its venue and endpoint; the key hint is kept.
    pub fn upsert(
        &self,
        name: &str,
        exchange: Option<&str>,
        endpoint: Option<&str>,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        require_text("account name", name, 64)?;
        self.conn
            .prepare_cached(
                "INSERT INTO accounts (name, exchange, endpoint, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT(name) DO UPDATE SET
                exchange = excluded.exchange, endpoint = excluded.endpoint,
                updated_at = excluded.updated_at",
            )?
            .execute(params![name, exchange, endpoint, at])?;
        Ok(())
    }

    /// Records (or, with `None`, clears) the masked key hint, creating the account if new.
    pub fn set_key_hint(
        &self,
        name: &str,
        hint: Option<&str>,
        at: TimestampMs,
    ) -> Result<(), StoreError> {
        require_text("account name", name, 64)?;
        self.conn
            .prepare_cached(
                "INSERT INTO accounts (name, key_hint, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(name) DO UPDATE SET
                key_hint = excluded.key_hint, updated_at = excluded.updated_at",
            )?
            .execute(params![name, hint, at])?;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM accounts WHERE name = ?1")?
            .query_row([name], from_row)
            .optional()?)
    }

    /// Every account, by name.
    pub fn list(&self) -> Result<Vec<Account>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM accounts ORDER BY name")?;
        rows(&mut stmt, [], from_row)
    }

    /// Accounts with a key in the keychain, by name: the index `keys list` shows.
    pub fn with_keys(&self) -> Result<Vec<Account>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM accounts WHERE key_hint IS NOT NULL ORDER BY name")?;
        rows(&mut stmt, [], from_row)
    }
}
