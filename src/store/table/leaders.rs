//! `leaders`: the traders being copied, either an account whose read-only key the user holds
//! or a public lead portfolio that is polled (its id and the endpoint of the pages that
//! publish it, from schema version 7, so such a copy resumes after a restart).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{require_text, rows};
use crate::store::error::StoreError;
use crate::store::value::{text_enum, TimestampMs};

pub(crate) const V1: &str = "
CREATE TABLE leaders (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    source        TEXT NOT NULL CHECK (source IN ('account', 'public')),
    account       TEXT REFERENCES accounts(name),
    portfolio_id  TEXT,
    created_at    INTEGER NOT NULL
) STRICT;
";

/// Version 7: where a public portfolio is read (`binance`, `paper` or a base URL).
pub(crate) const V7: &str = "ALTER TABLE leaders ADD COLUMN endpoint TEXT;";

text_enum!(
    /// Where a leader's signals come from.
    LeaderSource { Account => "account", Public => "public" }
);

/// A leader to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLeader<'a> {
    pub name: &'a str,
    pub source: LeaderSource,
    /// The account name, for [`LeaderSource::Account`].
    pub account: Option<&'a str>,
    /// The venue's portfolio id, for [`LeaderSource::Public`].
    pub portfolio_id: Option<&'a str>,
    /// Where the portfolio's pages are read, for [`LeaderSource::Public`]: `binance`,
    /// `paper` (the embedded simulator) or a base URL.
    pub endpoint: Option<&'a str>,
    pub created_at: TimestampMs,
}

/// One leader row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leader {
    pub id: i64,
    pub name: String,
    pub source: LeaderSource,
    pub account: Option<String>,
    pub portfolio_id: Option<String>,
    pub endpoint: Option<String>,
    pub created_at: TimestampMs,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Leader> {
    Ok(Leader {
        id: r.get("id")?,
        name: r.get("name")?,
        source: r.get("source")?,
        account: r.get("account")?,
        portfolio_id: r.get("portfolio_id")?,
        endpoint: r.get("endpoint")?,
        created_at: r.get("created_at")?,
    })
}

/// The `leaders` table.
#[derive(Debug, Clone, Copy)]
pub struct Leaders<'c> {
    conn: &'c Connection,
}

impl<'c> Leaders<'c> {
    pub fn on(conn: &'c Connection) -> Self {
        Self { conn }
    }

    /// Inserts a leader and returns its id; a taken name is a conflict.
    pub fn insert(&self, l: &NewLeader<'_>) -> Result<i64, StoreError> {
        require_text("leader name", l.name, 64)?;
        if self.by_name(l.name)?.is_some() {
            return Err(StoreError::Conflict {
                what: "leader",
                key: l.name.to_owned(),
            });
        }
        match l.endpoint {
            Some(endpoint) => self.conn.prepare_cached("INSERT INTO leaders (name, source, account, portfolio_id, endpoint, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(
                params![
                    l.name,
                    l.source,
                    l.account,
                    l.portfolio_id,
                    endpoint,
                    l.created_at
                ],
            )?,
            // Without an endpoint the statement is the one every schema version takes.
            None => self.conn.prepare_cached("INSERT INTO leaders (name, source, account, portfolio_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(
                params![l.name, l.source, l.account, l.portfolio_id, l.created_at],
            )?,
        };
        Ok(self.conn.last_insert_rowid())
    }

    pub fn get(&self, id: i64) -> Result<Option<Leader>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM leaders WHERE id = ?1")?
            .query_row([id], from_row)
            .optional()?)
    }

    pub fn by_name(&self, name: &str) -> Result<Option<Leader>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM leaders WHERE name = ?1")?
            .query_row([name], from_row)
            .optional()?)
    }

    pub fn list(&self) -> Result<Vec<Leader>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM leaders ORDER BY id")?;
        rows(&mut stmt, [], from_row)
    }
}
