//! The leader figures cache on disk: `<data dir>/leader-figures.json` keeps every account
//! leader's last figures read (its 7/30/90-day report and equity, with when it was read),
//! so the app's second start lists them at once instead of reading each history again.
//! Entries are served only while younger than `leaders::FIGURES_TTL_MS`, as in memory.
//!
//! The file is derived data, never the user's: every entry can be read again from the
//! leader's account. A file that cannot be read is reported (a warning event at open,
//! naming the file) and its entries are read again from the accounts, then the file is
//! written anew; it is never taken as "no figures" silently.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::analytics::figures::Report;

use super::leaders::CachedLeader;

/// The file's name in the data directory.
pub const FILE: &str = "leader-figures.json";
const VERSION: u32 = 1;

/// Where the cache is kept for a data directory.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    read_at_ms: i64,
    equity: Decimal,
    report: Report,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    leaders: HashMap<String, Entry>,
}

/// The saved reads; none when there is no file. `Err` names the file and what is wrong.
pub(crate) fn load(file: &Path) -> Result<HashMap<String, CachedLeader>, String> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(format!("{}: cannot be read: {e}", file.display())),
    };
    let saved: Saved = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a leader figures cache: {e}", file.display()))?;
    if saved.version != VERSION {
        return Err(format!(
            "{}: version {} of the leader figures cache, this build reads {VERSION}",
            file.display(),
            saved.version
        ));
    }
    Ok(saved
        .leaders
        .into_iter()
        .map(|(id, e)| {
            (
                id,
                CachedLeader {
                    read_at_ms: e.read_at_ms,
                    report: Arc::new(e.report),
                    equity: e.equity,
                },
            )
        })
        .collect())
}

/// Writes `entries` (atomically, private to the user). A failure is logged: the figures
/// stay in memory and are read again at the next start.
pub(crate) fn save(file: &Path, entries: &HashMap<String, CachedLeader>) {
    let saved = Saved {
        version: VERSION,
        leaders: entries
            .iter()
            .map(|(id, c)| {
                (
                    id.clone(),
                    Entry {
                        read_at_ms: c.read_at_ms,
                        equity: c.equity,
                        report: (*c.report).clone(),
                    },
                )
            })
            .collect(),
    };
    let result = serde_json::to_vec(&saved)
        .map_err(|e| e.to_string())
        .and_then(|bytes| crate::sim::state::write_atomic(file, &bytes).map_err(|e| e.to_string()));
    if let Err(e) = result {
        tracing::warn!(file = %file.display(), error = %e, "leader figures cache not saved");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_read_loads_back_and_a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = path(dir.path());
        assert!(load(&file).expect("no file yet").is_empty());
        let report = crate::analytics::figures::report(
            &crate::analytics::history::AccountHistory {
                events: Vec::new(),
                end_wallet: Decimal::from(5_000),
                end_ms: 90 * 86_400_000,
            },
            &crate::analytics::history::PricePath::default(),
        );
        let c = CachedLeader {
            read_at_ms: 42,
            report: Arc::new(report.clone()),
            equity: Decimal::new(50_001, 1),
        };
        save(&file, &HashMap::from([("fund".to_owned(), c)]));
        let back = load(&file).expect("reads back");
        let got = back.get("fund").expect("the entry");
        assert_eq!(
            (got.read_at_ms, got.equity, &*got.report),
            (42, Decimal::new(50_001, 1), &report)
        );

        std::fs::write(&file, b"{\"version\":1,\"leaders\":").expect("damage it");
        let e = load(&file).expect_err("a damaged file is an error");
        assert!(e.contains(FILE), "names the file: {e}");
    }
}
