//! `copies repair NAME`: the facade's entry to rebuilding a copy's ledger from the journal
//! and the venue's positions (`runtime::repair`). It shows what it would adopt; with
//! `apply` it writes it. It needs the engine stopped (it takes the data directory's lock).

use std::path::Path;

use serde::Serialize;

use super::{ApiError, ErrorCode};
use crate::runtime::repair::{self, RepairError};
use crate::secrets::Keychain;
use crate::store::DataDir;

/// One position the rebuilt ledger adopts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AdoptedDto {
    pub symbol: String,
    pub side: String,
    pub direction: String,
    pub qty: String,
    pub journal_qty: String,
    pub venue_qty: String,
    pub leader_qty: String,
    pub k: String,
    /// Trigger price of the protective stop of ours adopted with it, if one rests there.
    pub stop_price: Option<String>,
}

/// A position the repair leaves to the user, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct LeftAloneDto {
    pub symbol: String,
    pub side: String,
    pub why: String,
}

/// What `copies repair` found, and whether it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RepairDto {
    pub copy: String,
    /// Why the stored ledger could not be used (`None`: it read fine).
    pub stored_error: Option<String>,
    pub adopt: Vec<AdoptedDto>,
    pub left: Vec<LeftAloneDto>,
    pub applied: bool,
}

impl From<RepairError> for ApiError {
    fn from(e: RepairError) -> Self {
        let code = match &e {
            RepairError::NoSuchCopy(_) => ErrorCode::NotFound,
            RepairError::NotInConfig(_) => ErrorCode::InvalidInput,
            RepairError::Venue(_) => ErrorCode::Exchange,
            RepairError::Runtime(_) => ErrorCode::InvalidInput,
            RepairError::Store(_) => ErrorCode::Storage,
        };
        ApiError::new(code, e.to_string())
    }
}

/// Rebuilds copy `name`'s ledger from the journal and the venue's positions; the accounts
/// come from the config that runs the copy. Writes only when `apply`.
pub async fn repair_copy(
    data_dir: &Path,
    config: &Path,
    name: &str,
    apply: bool,
) -> Result<RepairDto, ApiError> {
    let cfg = crate::runtime::config::load(config).map_err(|e| ApiError::invalid(e.to_string()))?;
    let mut data = DataDir::open(data_dir, "copydesk copies repair")?;
    let plan = repair::plan(&cfg, &data, name, &Keychain::app()).await?;
    if apply {
        repair::apply(&mut data, &plan)?;
    }
    Ok(RepairDto {
        copy: plan.copy.clone(),
        stored_error: plan.stored_error.clone(),
        adopt: plan
            .adopt
            .iter()
            .map(|a| AdoptedDto {
                symbol: a.symbol.clone(),
                side: format!("{:?}", a.side).to_lowercase(),
                direction: format!("{:?}", a.direction).to_lowercase(),
                qty: a.qty.to_string(),
                journal_qty: a.journal_qty.to_string(),
                venue_qty: a.venue_qty.to_string(),
                leader_qty: a.leader_qty.to_string(),
                k: a.k.normalize().to_string(),
                stop_price: a.stop.as_ref().map(|s| s.stop_price.to_string()),
            })
            .collect(),
        left: plan
            .left
            .iter()
            .map(|l| LeftAloneDto {
                symbol: l.symbol.clone(),
                side: format!("{:?}", l.side).to_lowercase(),
                why: l.why.clone(),
            })
            .collect(),
        applied: apply,
    })
}
