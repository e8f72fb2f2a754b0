//! Start at login, off until the user turns it on. The login start launches the app with
//! `--minimized`, so it comes up in the tray and resumes its copies without a window.
//!
//! Linux: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/copydesk-app.desktop`
//! (`~/.config/autostart` when the variable is unset), written here because the
//! autostart plugin's Linux backend always writes under `~/.config` and so misses a
//! desktop whose `XDG_CONFIG_HOME` points elsewhere. macOS and Windows: the autostart
//! plugin (a launch agent; the `Run` registry key), with the same flag.
//!
//! Two commands reach it from the UI: `autostart_enabled` and `autostart_set`.

use copydesk::api::{ApiError, ErrorCode};
use tauri::{Runtime, State};

use crate::instance::MINIMIZED_FLAG;

/// Adds what the login start needs to the app.
pub fn register<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    #[cfg(target_os = "linux")]
    {
        builder.manage(LoginStart::for_this_user())
    }
    #[cfg(not(target_os = "linux"))]
    {
        builder
            .plugin(
                tauri_plugin_autostart::Builder::new()
                    .app_name("CopyDesk")
                    .arg(MINIMIZED_FLAG)
                    .build(),
            )
            .manage(LoginStart)
    }
}

/// Whether the app starts at login.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn autostart_enabled<R: Runtime>(
    app: tauri::AppHandle<R>,
    login: State<'_, LoginStart>,
) -> Result<bool, ApiError> {
    login.enabled(&app)
}

/// Turns the login start on or off; replies with the new state.
#[tauri::command]
#[tracing::instrument(skip(app, login))]
pub fn autostart_set<R: Runtime>(
    app: tauri::AppHandle<R>,
    login: State<'_, LoginStart>,
    enabled: bool,
) -> Result<bool, ApiError> {
    login.set(&app, enabled)?;
    login.enabled(&app)
}

#[cfg(not(target_os = "linux"))]
pub use other::LoginStart;
#[cfg(target_os = "linux")]
pub use xdg::LoginStart;

#[cfg(not(target_os = "linux"))]
mod other {
    use super::*;
    use tauri_plugin_autostart::ManagerExt;

    /// The autostart plugin does the work; this only maps its errors.
    #[derive(Debug)]
    pub struct LoginStart;

    impl LoginStart {
        pub fn enabled<R: Runtime>(&self, app: &tauri::AppHandle<R>) -> Result<bool, ApiError> {
            app.autolaunch().is_enabled().map_err(failed)
        }

        pub fn set<R: Runtime>(
            &self,
            app: &tauri::AppHandle<R>,
            enabled: bool,
        ) -> Result<(), ApiError> {
            let launcher = app.autolaunch();
            if enabled {
                launcher.enable()
            } else {
                launcher.disable()
            }
            .map_err(failed)
        }
    }

    fn failed(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            ErrorCode::Internal,
            format!(
                "start at login could not be changed: {e}; change it in the system's login items"
            ),
        )
    }
}

#[cfg(target_os = "linux")]
mod xdg {
    use super::*;
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    /// Name of the entry inside the autostart directory.
    pub const ENTRY_FILE: &str = "copydesk-app.desktop";

    /// Where the entry goes and what it starts.
    #[derive(Debug, Clone)]
    pub struct LoginStart {
        entry: Option<PathBuf>,
        exe: PathBuf,
    }

    impl LoginStart {
        /// The current user's autostart directory and this executable.
        pub fn for_this_user() -> Self {
            let config_home = config_home(
                std::env::var_os("XDG_CONFIG_HOME"),
                std::env::var_os("HOME"),
            );
            let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("copydesk-app"));
            Self::new(config_home.as_deref(), exe)
        }

        /// An entry under `config_home/autostart` that starts `exe`; `None` when no
        /// configuration directory is known (no `XDG_CONFIG_HOME`, no `HOME`).
        pub fn new(config_home: Option<&Path>, exe: PathBuf) -> Self {
            Self {
                entry: config_home.map(|c| c.join("autostart").join(ENTRY_FILE)),
                exe,
            }
        }

        /// Path of the entry file.
        pub fn entry(&self) -> Result<&Path, ApiError> {
            self.entry.as_deref().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Internal,
                    "start at login needs a configuration directory: set HOME or XDG_CONFIG_HOME",
                )
            })
        }

        pub fn enabled<R: Runtime>(&self, _app: &tauri::AppHandle<R>) -> Result<bool, ApiError> {
            self.is_on()
        }

        pub fn set<R: Runtime>(
            &self,
            _app: &tauri::AppHandle<R>,
            enabled: bool,
        ) -> Result<(), ApiError> {
            self.turn(enabled)
        }

        /// Whether the entry exists.
        pub fn is_on(&self) -> Result<bool, ApiError> {
            Ok(self.entry()?.is_file())
        }

        /// Writes (atomically: temporary file, then rename) or removes the entry.
        pub fn turn(&self, on: bool) -> Result<(), ApiError> {
            let entry = self.entry()?;
            if !on {
                return match std::fs::remove_file(entry) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(io_failed(entry, &e)),
                };
            }
            let dir = entry.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(|e| io_failed(dir, &e))?;
            let tmp = entry.with_extension("desktop.tmp");
            std::fs::write(&tmp, desktop_entry(&self.exe)).map_err(|e| io_failed(&tmp, &e))?;
            std::fs::rename(&tmp, entry).map_err(|e| io_failed(entry, &e))
        }
    }

    /// `$XDG_CONFIG_HOME` when set to an absolute path (the XDG spec ignores relative
    /// ones), else `$HOME/.config`.
    pub fn config_home(xdg: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
        xdg.map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home.map(|h| PathBuf::from(h).join(".config")))
    }

    /// The entry's text: starts `exe` minimised.
    pub fn desktop_entry(exe: &Path) -> String {
        format!(
            "[Desktop Entry]\n\
             Type=Application\n\
             Name=CopyDesk\n\
             Comment=Start CopyDesk in the tray at login and resume its copies\n\
             Exec={} {MINIMIZED_FLAG}\n\
             Icon=copydesk-app\n\
             Terminal=false\n\
             StartupNotify=false\n\
             X-GNOME-Autostart-enabled=true\n",
            exec_arg(&exe.to_string_lossy())
        )
    }

    /// One `Exec` argument, quoted as the desktop entry spec asks when it holds anything
    /// but plain path characters.
    fn exec_arg(arg: &str) -> String {
        let plain = arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c));
        if plain {
            return arg.to_owned();
        }
        let mut quoted = String::from("\"");
        for c in arg.chars() {
            match c {
                // Escaped once for the quoting rules, then the backslash again because
                // the whole value is a desktop-entry string.
                '"' | '`' | '$' => {
                    quoted.push_str("\\\\");
                    quoted.push(c);
                }
                '\\' => quoted.push_str("\\\\\\\\"),
                '%' => quoted.push_str("%%"),
                _ => quoted.push(c),
            }
        }
        quoted.push('"');
        quoted
    }

    fn io_failed(path: &Path, e: &std::io::Error) -> ApiError {
        ApiError::new(
            ErrorCode::Storage,
            format!(
                "start at login could not be changed: {}: {e}; check that the directory is writable",
                path.display()
            ),
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_entry_lives_under_xdg_config_home_and_starts_minimised() {
            let tmp = tempfile::tempdir().expect("temp dir");
            let config_home = config_home(Some(tmp.path().into()), Some("/home/nobody".into()))
                .expect("a config home");
            let login = LoginStart::new(Some(&config_home), "/usr/bin/copydesk-app".into());
            assert!(!login.is_on().expect("readable"), "off by default");

            login.turn(true).expect("turns on");
            let entry = tmp.path().join("autostart").join(ENTRY_FILE);
            let text = std::fs::read_to_string(&entry)
                .expect("the entry was written under XDG_CONFIG_HOME");
            assert!(
                text.lines()
                    .any(|l| l == "Exec=/usr/bin/copydesk-app --minimized"),
                "the entry starts the app minimised: {text}"
            );
            assert!(
                text.starts_with("[Desktop Entry]\n"),
                "a desktop entry: {text}"
            );
            assert!(login.is_on().expect("readable"));

            login.turn(false).expect("turns off");
            assert!(!entry.exists(), "turning off removes the entry");
            login.turn(false).expect("turning off twice is fine");
        }

        #[test]
        fn without_xdg_config_home_the_entry_goes_under_home() {
            assert_eq!(
                config_home(None, Some("/home/u".into())),
                Some(PathBuf::from("/home/u/.config"))
            );
            assert_eq!(
                config_home(Some("relative/dir".into()), Some("/home/u".into())),
                Some(PathBuf::from("/home/u/.config")),
                "a relative XDG_CONFIG_HOME is ignored, as the spec says"
            );
            let login = LoginStart::new(None, "/usr/bin/copydesk-app".into());
            let err = login.turn(true).expect_err("no place to write");
            assert!(
                err.message.contains("HOME"),
                "names the fix: {}",
                err.message
            );
        }

        #[test]
        fn an_executable_path_with_spaces_is_quoted() {
            let text = desktop_entry(Path::new("/opt/Copy Desk/copydesk-app"));
            assert!(
                text.contains("Exec=\"/opt/Copy Desk/copydesk-app\" --minimized\n"),
                "{text}"
            );
        }

        #[test]
        fn an_unwritable_directory_is_reported_with_the_path() {
            let tmp = tempfile::tempdir().expect("temp dir");
            // A file where the autostart directory should be.
            std::fs::write(tmp.path().join("autostart"), "").expect("blocker");
            let login = LoginStart::new(Some(tmp.path()), "/usr/bin/copydesk-app".into());
            let err = login.turn(true).expect_err("cannot create the directory");
            assert_eq!(err.code, ErrorCode::Storage);
            assert!(
                err.message.contains("autostart"),
                "names the path: {}",
                err.message
            );
        }
    }
}
