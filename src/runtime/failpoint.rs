//! Test hook for the crash tests: `COPYDESK_FAILPOINT=NAME:N` (read once at start) aborts
//! the process the N-th time the engine passes the point `NAME`. Points:
//! `after_journal` (journal rows written, nothing sent), `after_send` (an order went out,
//! its answer not yet recorded), `after_fill` (an order's fill recorded, the ledger not
//! yet settled). Unset in normal use; an unparsable value is ignored with a warning.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable naming the failpoint.
pub const ENV: &str = "COPYDESK_FAILPOINT";

struct Armed {
    name: String,
    left: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let v = std::env::var(ENV).ok()?;
            let (name, n) = v.split_once(':')?;
            match n.parse::<u64>() {
                Ok(n) if n > 0 => Some(Armed {
                    name: name.to_owned(),
                    left: AtomicU64::new(n),
                }),
                _ => {
                    tracing::warn!("{ENV} ignored: expected NAME:N with N > 0");
                    None
                }
            }
        })
        .as_ref()
}

/// Aborts the process when the armed failpoint `name` is reached for the N-th time.
pub fn hit(name: &str) {
    let Some(a) = armed() else { return };
    if a.name != name {
        return;
    }
    if a.left.fetch_sub(1, Ordering::SeqCst) == 1 {
        tracing::warn!(point = name, "failpoint reached: aborting");
        std::process::abort();
    }
}
