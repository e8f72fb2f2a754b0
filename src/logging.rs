//! Tracing set-up shared by the desktop app and the CLI: human-readable lines on stderr
//! and a daily-rotated log file in the data directory. `RUST_LOG` overrides the level
//! (default `info`).

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// File name prefix of the log files inside `<data dir>/logs/`.
pub const LOG_FILE_PREFIX: &str = "copydesk.log";

/// Installs the global subscriber. Keep the returned guard alive for the life of the
/// process: dropping it flushes and closes the log file. Calling it twice is harmless.
pub fn init(data_dir: &Path) -> std::io::Result<WorkerGuard> {
    let log_dir = data_dir.join("logs");
    std::fs::create_dir_all(&log_dir)?;
    let appender = tracing_appender::rolling::daily(&log_dir, LOG_FILE_PREFIX);
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests, or the app re-initialising) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(fmt::layer().with_ansi(false).with_writer(file_writer))
        .try_init();
    Ok(guard)
}
