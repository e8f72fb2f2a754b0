//! Tracing set-up shared by the desktop app and the CLI: a daily-rotated log file in the
//! data directory (default level `info`) and human-readable lines on stderr (default
//! `warn`, so a terminal shows what the commands print, not the log twice). `RUST_LOG`
//! sets both.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// File name prefix of the log files inside `<data dir>/logs/`.
pub const LOG_FILE_PREFIX: &str = "copydesk.log";

/// Installs the global subscriber. Keep the returned guard alive for the life of the
/// process: dropping it flushes and closes the log file. Calling it twice is harmless.
pub fn init(data_dir: &Path) -> std::io::Result<WorkerGuard> {
    let log_dir = data_dir.join("logs");
    crate::store::private::create_dir(&log_dir).map_err(std::io::Error::other)?;
    let appender = tracing_appender::rolling::daily(&log_dir, LOG_FILE_PREFIX);
    // The appender opened today's file with the process umask: make it 0600 (a file a
    // midnight rotation opens is tightened at the next start, in a 0700 directory).
    crate::store::private::secure_tree(&log_dir).map_err(std::io::Error::other)?;
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    let level = |default: &str| {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
    };
    // A second call (tests, or the app re-initialising) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(level("warn")),
        )
        .with(
            fmt::layer()
                .with_ansi(false)
                .with_writer(file_writer)
                .with_filter(level("info")),
        )
        .try_init();
    Ok(guard)
}
