//! Tauri commands: each is one line that calls the core's `api` facade, inside a tracing
//! span. No logic lives here.

use crate::AppState;
use copydesk::api::{self, ApiError, AppInfo};

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn app_info(state: tauri::State<'_, AppState>) -> Result<AppInfo, ApiError> {
    Ok(api::app_info(&state.data_dir))
}
