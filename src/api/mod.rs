//! The facade every shell calls: the Tauri commands and the CLI are one-line delegations
//! to functions here. DTOs cross IPC as JSON with decimals as strings; errors cross as one
//! serialisable [`ApiError`] `{code, message}`.

mod error;
pub use crate::paths;
mod repair;
#[cfg(test)]
mod ts_bindings;

pub use error::{ApiError, ErrorCode};
pub use repair::{repair_copy, AdoptedDto, LeftAloneDto, RepairDto};

use serde::{Deserialize, Serialize};

/// What the app shows in its title and about box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    /// `paper` until the user connects a real account.
    pub mode: String,
    pub data_dir: String,
}

/// Facts about this build and where it keeps its data.
pub fn app_info(data_dir: &std::path::Path) -> AppInfo {
    AppInfo {
        name: "CopyDesk".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        mode: "paper".into(),
        data_dir: data_dir.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_info_reports_this_build() {
        let info = app_info(std::path::Path::new("/tmp/cd"));
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        let json = serde_json::to_value(&info).expect("serialises");
        assert_eq!(json["dataDir"], "/tmp/cd", "camelCase field for the UI");
    }
}
