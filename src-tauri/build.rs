//! Declares the app's own commands so capabilities can grant them one by one.

/// Every command in `src/commands.rs`; a command missing here cannot be called.
const COMMANDS: &[&str] = &["app_info"];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build configuration is valid");
}
