//! Declares the app's own commands so capabilities can grant them one by one.

/// Every command of the app (`src/commands.rs`, `src/autostart.rs`); a command missing
/// here cannot be called.
const COMMANDS: &[&str] = &[
    "app_info",
    "engine_state",
    "accounts_list",
    "account_add",
    "account_remove",
    "key_check",
    "account_set_position_mode",
    "paper_status",
    "paper_start",
    "leaders_list",
    "leader_detail",
    "leader_add",
    "portfolio_find",
    "settings_validate",
    "sizing_preview",
    "copy_create",
    "copy_pause",
    "copy_resume",
    "copy_stop",
    "copy_modify",
    "panic",
    "position_close",
    "position_unlink",
    "status",
    "export",
    "copy_pnl",
    "activity",
    "autostart_enabled",
    "autostart_set",
    "desktop_settings",
    "desktop_settings_set",
    "desktop_state",
    "quit_request",
    "quit_preview",
    "quit_suspend",
    "quit_close_all",
    "profit_share",
    "profit_share_set",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build configuration is valid");
}
