//! Export: copies, fills and figures written as JSON and CSV under the data directory (or
//! a chosen directory), read from the database without its lock.

use std::path::{Path, PathBuf};

use super::dto::ExportDto;
use super::ApiError;

/// Decisions and fills per copy the activity lists first (one page).
pub const ACTIVITY_PAGE: u32 = 500;
/// The most per copy one activity read returns.
pub const ACTIVITY_MAX: u32 = 20_000;

/// Exports a data directory; works with or without an engine holding it.
pub fn export_dir(data_dir: &Path, out: Option<&Path>) -> Result<ExportDto, ApiError> {
    let r = crate::store::export_data_dir(data_dir, out)?;
    Ok(ExportDto {
        dir: r.dir.display().to_string(),
        files: r.files.iter().map(|f| f.display().to_string()).collect(),
        copies: u32::try_from(r.copies).unwrap_or(u32::MAX),
        fills: u32::try_from(r.fills).unwrap_or(u32::MAX),
        figures: u32::try_from(r.figures).unwrap_or(u32::MAX),
    })
}

impl super::App {
    /// Writes copies, fills and figures as JSON and CSV.
    pub async fn export(&self, out: Option<PathBuf>) -> Result<ExportDto, ApiError> {
        export_dir(&self.data_dir, out.as_deref())
    }

    /// A copy's PnL over time for its chart (at most 500 points).
    pub async fn copy_pnl(&self, copy: &str) -> Result<super::dto::CopyPnlDto, ApiError> {
        self.with_store(|s| super::status::pnl_series(s, copy, 500))
    }

    /// Decisions (with their reasons) and fills (with delay and slippage) of every copy, or
    /// of one, newest first: up to 500 of each per copy.
    pub async fn activity(
        &self,
        copy: Option<&str>,
    ) -> Result<Vec<super::dto::CopyActivityDto>, ApiError> {
        self.activity_page(copy, ACTIVITY_PAGE).await
    }

    /// As [`App::activity`], with each copy's newest `limit` decisions and fills (the
    /// screens' "load more" asks for the next page by a larger limit); `limit` is kept
    /// within 1..=[`ACTIVITY_MAX`].
    pub async fn activity_page(
        &self,
        copy: Option<&str>,
        limit: u32,
    ) -> Result<Vec<super::dto::CopyActivityDto>, ApiError> {
        let limit = limit.clamp(1, ACTIVITY_MAX);
        self.with_store(|s| super::status::activity(s, copy, limit))
    }

    /// Every copy's status and the recent events.
    pub async fn status(&self) -> Result<super::dto::StatusDto, ApiError> {
        let mut status = self.with_store(|s| super::status::read(s))?;
        let (holds, refused) = (self.engine.holds(), self.engine.refused());
        for c in &mut status.copies {
            super::status::apply_engine(&mut c.copy, &holds, &refused);
            c.precision = self
                .engine
                .precision(&c.copy.follower)
                .into_iter()
                .filter(|(symbol, _)| {
                    c.positions.iter().any(|p| &p.symbol == symbol)
                        || c.fills.iter().any(|f| &f.symbol == symbol)
                })
                .map(|(symbol, p)| super::dto::SymbolPrecisionDto {
                    symbol,
                    price_dp: p.price_dp,
                    qty_dp: p.qty_dp,
                })
                .collect();
        }
        status.weight = self
            .engine
            .weights()
            .into_iter()
            .map(|(venue, w)| super::dto::WeightDto {
                venue,
                used: w.used,
                limit: w.limit,
                waits: w.waits,
                longest_wait_ms: w.longest_wait_ms,
            })
            .collect();
        Ok(status)
    }
}
