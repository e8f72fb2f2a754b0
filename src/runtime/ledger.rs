//! Reading a copy's stored ledger (`copy_ledger`) loudly: a row that cannot be read or
//! decoded is an error that names the row and the recovery (`copydesk copies repair NAME`),
//! never an empty ledger — an empty one would make a restarted copy forget the positions it
//! holds and leave them unmanaged.

use crate::engine::Ledger;
use crate::store::{Store, StoreError};

use super::exec::InFlight;

/// Why a copy's stored ledger could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the stored ledger of copy `{copy}` (table copy_ledger, copy_id {copy_id}) cannot be read: {source}; the copy was not started. Recover with `copydesk copies repair {copy}` (it rebuilds the ledger from the journal and the venue's positions and shows what it will adopt; add --yes to apply)")]
    Read {
        copy: String,
        copy_id: i64,
        #[source]
        source: Box<StoreError>,
    },
    #[error("the stored ledger of copy `{copy}` (table copy_ledger, copy_id {copy_id}, column {column}) is not a valid ledger: {detail}; the copy was not started. Recover with `copydesk copies repair {copy}` (it rebuilds the ledger from the journal and the venue's positions and shows what it will adopt; add --yes to apply)")]
    Decode {
        copy: String,
        copy_id: i64,
        column: &'static str,
        detail: String,
    },
}

/// The stored ledger and plan in flight of a copy; both empty before its first save.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stored {
    pub ledger: Ledger,
    pub in_flight: Option<InFlight>,
}

/// Reads and decodes a copy's ledger row.
pub(crate) fn load_stored(store: &Store, copy_id: i64, copy: &str) -> Result<Stored, LedgerError> {
    let row = store
        .copy_ledgers()
        .get(copy_id)
        .map_err(|source| LedgerError::Read {
            copy: copy.to_owned(),
            copy_id,
            source: Box::new(source),
        })?;
    let Some(row) = row else {
        return Ok(Stored::default());
    };
    let decode = |column: &'static str, e: serde_json::Error| LedgerError::Decode {
        copy: copy.to_owned(),
        copy_id,
        column,
        detail: e.to_string(),
    };
    let ledger = serde_json::from_str(&row.ledger).map_err(|e| decode("ledger", e))?;
    let in_flight = match row.in_flight {
        Some(text) => Some(serde_json::from_str(&text).map_err(|e| decode("in_flight", e))?),
        None => None,
    };
    Ok(Stored { ledger, in_flight })
}

/// A copy's stored ledger (see [`load_stored`]).
pub fn load(store: &Store, copy_id: i64, copy: &str) -> Result<Ledger, LedgerError> {
    load_stored(store, copy_id, copy).map(|s| s.ledger)
}
