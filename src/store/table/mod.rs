//! One module per table: its schema (the `V1` statement that creates it) and a small typed
//! API over a borrowed connection, so the same calls work on the store or inside a
//! transaction. Rows come back as plain structs; decimals are exact.

pub mod accounts;
pub mod audit;
pub mod copies;
pub mod copy_funding;
pub mod copy_ledger;
pub mod copy_settings;
pub mod figures;
pub mod figures_base;
pub mod fills;
pub mod journal;
pub mod latency;
pub mod leader_t0;
pub mod leaders;
pub mod notifications;
pub mod profit_share;
pub(crate) mod retired;
pub mod signals;
pub mod statements;

use rusqlite::{Params, Row, Statement};

use super::error::StoreError;

/// Runs a query and maps every row.
pub(crate) fn rows<T, P: Params>(
    stmt: &mut Statement<'_>,
    params: P,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mapped = stmt.query_map(params, map)?;
    let mut out = Vec::new();
    for row in mapped {
        out.push(row?);
    }
    Ok(out)
}

/// Refuses an empty or over-long text field before it reaches the database.
pub(crate) fn require_text(field: &'static str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::Invalid {
            field,
            message: "must not be empty; give it a value".into(),
        });
    }
    if value.chars().count() > max {
        return Err(StoreError::Invalid {
            field,
            message: format!("must be at most {max} characters; shorten it"),
        });
    }
    Ok(())
}
