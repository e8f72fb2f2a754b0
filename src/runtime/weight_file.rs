//! The request weight a running engine has used, published for readers without the data
//! directory's lock: `copydesk status` run beside a running engine (or the app beside the
//! CLI) reads `engine-weight.json` in the data directory. The engine looks every second
//! and rewrites it when a figure changed, and at least every [`REFRESH`] while it runs
//! (write to a temporary file, then rename: a reader never sees half a file); it removes
//! it at shutdown. A file older than one weight window (a minute) is
//! left from an engine that did not stop cleanly and is ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::exchange::WeightUsage;

/// File name inside the data directory.
pub const FILE: &str = "engine-weight.json";
/// How often the running engine rewrites the file.
const EVERY: Duration = Duration::from_secs(1);
/// An unchanged file is rewritten this often, well inside [`STALE_MS`] (an idle engine
/// does not write a file every second).
const REFRESH: Duration = Duration::from_secs(20);
/// A file older than this is not an engine's current figure.
const STALE_MS: i64 = 60_000;

/// What the file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    /// Wall-clock time of the write, UTC ms.
    pub at_ms: i64,
    pub accounts: Vec<AccountWeight>,
}

/// One follower account's venue budget as its limiter counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountWeight {
    pub account: String,
    pub used: u32,
    pub budget: u32,
    pub limit: u32,
    pub waits: u64,
    pub long_waits: u64,
    /// The longest wait (ms); absent in a file from an engine before this field.
    #[serde(default)]
    pub longest_wait_ms: u64,
}

impl AccountWeight {
    pub fn of(account: &str, w: &WeightUsage) -> Self {
        Self {
            account: account.to_owned(),
            used: w.used,
            budget: w.budget,
            limit: w.limit,
            waits: w.waits,
            long_waits: w.long_waits,
            longest_wait_ms: w.longest_wait_ms,
        }
    }
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Writes the file (atomically, owner-only).
pub fn write(dir: &Path, p: &Published) -> std::io::Result<()> {
    let tmp = dir.join(format!("{FILE}.tmp"));
    let text = serde_json::to_vec(p).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path(dir))
}

/// What a running engine published, if the file is there and current at `now_ms`. A file
/// that is there but cannot be read is an error naming it.
pub fn read(dir: &Path, now_ms: i64) -> Result<Option<Published>, String> {
    let p = path(dir);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    let published: Published = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} cannot be read ({e}); a running engine rewrites it at least every 20 s, so delete it if none runs",
            p.display()
        )
    })?;
    Ok((now_ms - published.at_ms <= STALE_MS).then_some(published))
}

/// Publishes `weights` (each second when they changed, else every [`REFRESH`]) until
/// `stop`, then removes the file.
pub(crate) async fn publish(
    dir: PathBuf,
    weights: impl Fn() -> Vec<(String, WeightUsage)> + Send + 'static,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<(Vec<AccountWeight>, std::time::Instant)> = None;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {}
        }
        if *stop.borrow() {
            break;
        }
        let accounts: Vec<AccountWeight> = weights()
            .iter()
            .map(|(a, w)| AccountWeight::of(a, w))
            .collect();
        if last
            .as_ref()
            .is_some_and(|(a, at)| *a == accounts && at.elapsed() < REFRESH)
        {
            continue;
        }
        let p = Published {
            at_ms: crate::exchange::clock::wall_us() / 1000,
            accounts,
        };
        match write(&dir, &p) {
            Ok(()) => last = Some((p.accounts, std::time::Instant::now())),
            Err(e) => tracing::debug!(error = %e, "request weight not published"),
        }
    }
    let _ = std::fs::remove_file(path(&dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(at_ms: i64) -> Published {
        Published {
            at_ms,
            accounts: vec![AccountWeight {
                account: "me".into(),
                used: 45,
                budget: 1920,
                limit: 2400,
                waits: 2,
                long_waits: 1,
                longest_wait_ms: 1_500,
            }],
        }
    }

    #[test]
    fn a_current_file_is_read_back_and_a_stale_one_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(dir.path(), 0), Ok(None), "no file: nothing published");
        write(dir.path(), &published(1_000_000)).expect("write");
        assert_eq!(read(dir.path(), 1_000_500), Ok(Some(published(1_000_000))));
        assert_eq!(read(dir.path(), 1_000_000 + STALE_MS + 1), Ok(None));
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE), b"{not json").expect("write");
        let e = read(dir.path(), 0).expect_err("unreadable");
        assert!(e.contains(FILE), "{e}");
    }
}
