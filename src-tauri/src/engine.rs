//! Whether this window runs the data directory's engine, only looks at it, or could not
//! start. [`open`] is the one place that decides: `api::App::open` takes the data
//! directory's lock itself, and its `locked` refusal (another engine, e.g. `copydesk run`,
//! holds the directory) opens the app read-only instead of failing.

use std::path::{Path, PathBuf};

use copydesk::api::{self, ApiError, App, AppInfo, AppOptions, ErrorCode, StatusDto};
use serde::Serialize;

/// Program name recorded in the lock file (named by another engine's refusal).
pub const PROGRAM: &str = "copydesk-app";

/// The title of the main window while read-only (the instance test looks for it).
pub const READ_ONLY_TITLE: &str = "CopyDesk (read-only: another engine is running)";

/// What the app got when it opened the data directory.
pub enum Engine {
    /// This process runs the engine (and holds the lock until shut down).
    Owned(App),
    /// Another engine holds the directory; `message` says which and what to do.
    ReadOnly { data_dir: PathBuf, message: String },
    /// The engine could not start for another reason; `error` says why.
    Failed { data_dir: PathBuf, error: ApiError },
}

/// The web view's view of [`Engine`] (command `engine_state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineStateDto {
    /// `"running"`, `"readOnly"` or `"failed"`.
    pub mode: &'static str,
    /// What the banner (read-only) or the "could not start" screen (failed) says.
    pub message: Option<String>,
}

/// Opens the App for `opts`; a `locked` refusal becomes [`Engine::ReadOnly`], any other
/// error [`Engine::Failed`]. Never fails itself: the window always opens.
pub async fn open(mut opts: AppOptions) -> Engine {
    opts.program = PROGRAM.into();
    let data_dir = opts.data_dir.clone();
    match App::open(opts).await {
        Ok(app) => Engine::Owned(app),
        Err(e) if e.code == ErrorCode::Locked => Engine::ReadOnly {
            message: read_only_message(&data_dir, &e),
            data_dir,
        },
        Err(error) => Engine::Failed { data_dir, error },
    }
}

/// "Another CopyDesk engine (copydesk run, pid N) is using this data directory: …", from
/// the lock file's holder lines; the refusal's own message if the file cannot be read.
fn read_only_message(data_dir: &Path, refusal: &ApiError) -> String {
    let text =
        std::fs::read_to_string(data_dir.join(copydesk::store::LOCK_FILE)).unwrap_or_default();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
    };
    let holder = match (field("program"), field("pid")) {
        (Some(program), Some(pid)) => format!("{program}, pid {pid}"),
        _ => refusal.message.clone(),
    };
    format!(
        "Another CopyDesk engine ({holder}) is using this data directory: showing read-only \
         status. Stop it (Ctrl-C in its terminal) and start CopyDesk again to copy from this \
         window."
    )
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("state", &self.state())
            .finish()
    }
}

impl Engine {
    /// The running App, or the error that says why there is none.
    pub fn app(&self) -> Result<&App, ApiError> {
        match self {
            Self::Owned(app) => Ok(app),
            Self::ReadOnly { message, .. } => Err(ApiError::new(ErrorCode::Locked, message)),
            Self::Failed { error, .. } => Err(error.clone()),
        }
    }

    /// The state the web view shows.
    pub fn state(&self) -> EngineStateDto {
        match self {
            Self::Owned(_) => EngineStateDto {
                mode: "running",
                message: None,
            },
            Self::ReadOnly { message, .. } => EngineStateDto {
                mode: "readOnly",
                message: Some(message.clone()),
            },
            Self::Failed { error, .. } => EngineStateDto {
                mode: "failed",
                message: Some(error.message.clone()),
            },
        }
    }

    /// The app's info; without a running App, from the data directory (paper not running).
    pub async fn info(&self) -> AppInfo {
        match self {
            Self::Owned(app) => app.info().await,
            Self::ReadOnly { data_dir, .. } | Self::Failed { data_dir, .. } => {
                api::app_info(data_dir)
            }
        }
    }

    /// Status; read from the stored data while another engine holds the directory.
    pub async fn status(&self) -> Result<StatusDto, ApiError> {
        match self {
            Self::Owned(app) => app.status().await,
            Self::ReadOnly { data_dir, .. } => api::status_read_only(data_dir),
            Self::Failed { error, .. } => Err(error.clone()),
        }
    }

    /// A copy's profit share; read from the stored data while another engine holds the
    /// directory (that engine draws the statements up).
    pub fn profit_share(&self, copy: &str) -> Result<api::ProfitShareDto, ApiError> {
        match self {
            Self::Owned(app) => app.profit_share(copy),
            Self::ReadOnly { data_dir, .. } => api::profit_share_read_only(data_dir, copy),
            Self::Failed { error, .. } => Err(error.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use copydesk::store::DataDirLock;

    fn options(dir: &Path) -> AppOptions {
        let mut opts = AppOptions::new(dir);
        opts.paper.start = false;
        opts.keychain = copydesk::secrets::Keychain::with_service(format!(
            "{}.engine-test.{}",
            copydesk::paths::APP_IDENTIFIER,
            std::process::id()
        ));
        opts
    }

    #[tokio::test]
    async fn a_held_directory_opens_read_only_names_the_holder_and_serves_status() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let cli = DataDirLock::acquire(tmp.path(), "copydesk run").expect("the CLI's lock");
        let engine = open(options(tmp.path())).await;
        let state = engine.state();
        assert_eq!(state.mode, "readOnly", "{state:?}");
        let message = state.message.expect("a read-only message");
        let pid = std::process::id();
        assert!(
            message.contains(&format!("(copydesk run, pid {pid})")),
            "names the holder and its pid: {message}"
        );
        let Err(err) = engine.app() else {
            panic!("no App while read-only")
        };
        assert_eq!(err.code, ErrorCode::Locked, "{err:?}");
        // Read-only status works while the other engine holds the lock.
        match engine.status().await {
            Ok(status) => assert!(status.copies.is_empty(), "{status:?}"),
            Err(e) => assert_eq!(e.code, ErrorCode::NotFound, "no database yet: {e:?}"),
        }
        drop(cli);
    }

    #[tokio::test]
    async fn a_free_directory_runs_the_engine_and_holds_the_lock_until_shutdown() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let engine = open(options(tmp.path())).await;
        assert_eq!(engine.state().mode, "running", "{:?}", engine.state());
        assert!(
            DataDirLock::acquire(tmp.path(), "copydesk run").is_err(),
            "the CLI is refused while the app runs the engine"
        );
        match engine {
            Engine::Owned(app) => app.shutdown().await,
            _ => unreachable!("checked above"),
        }
        DataDirLock::acquire(tmp.path(), "copydesk run").expect("free again after the app");
    }

    #[tokio::test]
    async fn another_open_error_is_a_failed_engine_with_its_message() {
        let tmp = tempfile::tempdir().expect("temp dir");
        // A file where the data directory should be: the engine cannot start there.
        let not_a_dir = tmp.path().join("file");
        std::fs::write(&not_a_dir, "x").expect("write");
        let engine = open(options(&not_a_dir)).await;
        let state = engine.state();
        assert_eq!(state.mode, "failed", "{state:?}");
        assert!(state.message.is_some_and(|m| !m.is_empty()));
        assert!(
            engine.status().await.is_err(),
            "no status without an engine"
        );
    }
}
