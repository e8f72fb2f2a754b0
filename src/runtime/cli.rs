//! The `run` and `status` commands: thin wrappers that the `copydesk` binary calls. `run`
//! checks the config before anything connects, prints notifications as they come, and
//! stops cleanly on Ctrl-C (or SIGTERM) with all state kept in the database.

use std::path::Path;
use std::time::Duration;

use crate::store::DataDir;

use super::{config, start, Notification, RunOptions};

/// One notification as a terminal line.
pub fn line(n: &Notification) -> String {
    format!(
        "{} {}{}: {}",
        Notification::tag(n.kind, n.notice),
        n.copy.as_deref().unwrap_or("-"),
        match n.level {
            super::NotifyLevel::Info => "",
            super::NotifyLevel::Warning => " (warning)",
            super::NotifyLevel::Error => " (error)",
        },
        n.message
    )
}

#[allow(clippy::print_stdout)]
fn out(s: &str) {
    println!("{s}");
}

/// Waits for Ctrl-C or, on Unix, SIGTERM.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `copydesk run --config FILE`.
pub fn run(config_path: &Path, data_dir: &Path) -> Result<String, String> {
    let cfg = config::load(config_path).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            data_dir.display()
        )
    })?;
    let data = DataDir::open(data_dir, "copydesk run").map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let opts = RunOptions {
            engine: super::EngineOptions {
                recv_window_ms: i64::from(cfg.engine.recv_window_ms),
                reconcile_every: Duration::from_secs(u64::from(cfg.engine.reconcile_secs)),
            },
            ..RunOptions::default()
        };
        let stop = interrupted();
        tokio::pin!(stop);
        // Start-up may wait on the venue (its weight budget, a slow socket): Ctrl-C ends
        // that wait too; nothing was sent yet that recovery would not finish.
        let handle = tokio::select! {
            h = start(&cfg, data, opts) => h.map_err(|e| e.to_string())?,
            _ = &mut stop => return Ok("stopped during start-up; state kept".to_owned()),
        };
        let mut rx = handle.subscribe();
        out(&format!(
            "running {} cop{}; Ctrl-C stops cleanly",
            handle.copies().len(),
            if handle.copies().len() == 1 {
                "y"
            } else {
                "ies"
            }
        ));
        loop {
            tokio::select! {
                _ = &mut stop => break,
                n = rx.recv() => match n {
                    Ok(n) => out(&line(&n)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                        out(&format!("({k} notifications skipped; see `copydesk status`)"))
                    }
                    Err(_) => break,
                },
            }
        }
        handle.shutdown().await;
        Ok("stopped; state kept".to_owned())
    })
}

/// `copydesk status [--json]`.
pub fn status(data_dir: &Path, json: bool) -> Result<String, String> {
    let s = super::status::read(data_dir).map_err(|e| e.to_string())?;
    if json {
        serde_json::to_string_pretty(&s).map_err(|e| e.to_string())
    } else {
        Ok(s.text())
    }
}
