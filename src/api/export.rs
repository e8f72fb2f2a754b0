//! Export: copies, fills and figures written as JSON and CSV under the data directory (or
//! a chosen directory), read from the database without its lock.

use std::path::{Path, PathBuf};

use super::dto::ExportDto;
use super::ApiError;

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

    /// Every copy's status and the recent events.
    pub async fn status(&self) -> Result<super::dto::StatusDto, ApiError> {
        self.with_store(|s| super::status::read(s))
    }
}
