//! Declares the app's own commands so capabilities can grant them one by one.

/// Every command of the app (`src/commands.rs`, `src/autostart.rs`); a command missing
/// here cannot be called.
const COMMANDS: &[&str] = &["app_info", "autostart_enabled", "autostart_set"];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build configuration is valid");
}
