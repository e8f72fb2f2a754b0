//! Test hook for the crash tests: `COPYDESK_FAILPOINT=NAME:N` (read once at start) aborts
//! the process the N-th time the engine passes the point `NAME`. Points:
//! `after_journal` (journal rows written, nothing sent), `after_send` (an order went out,
//! its answer not yet recorded), `after_fill` (an order's fill known, its marks and the
//! settled ledger kept for the commit after the send, `runtime::after_send`). Unset in normal use; an unparsable value is ignored with a warning.
//!
//! With `COPYDESK_POWER_CUT=1` as well, the abort first cuts the database's WAL back to
//! what the last group sync made durable (`store::group_commit::Durability::power_cut`):
//! the state a power loss at that point could leave.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable naming the failpoint.
pub const ENV: &str = "COPYDESK_FAILPOINT";
/// The environment variable that turns a failpoint's abort into a simulated power cut.
pub const POWER_CUT_ENV: &str = "COPYDESK_POWER_CUT";

type Hook = Box<dyn Fn() + Send + Sync>;

static BEFORE_ABORT: OnceLock<Hook> = OnceLock::new();

/// Whether a failpoint is armed to cut the power.
pub fn power_cut_armed() -> bool {
    armed().is_some() && std::env::var(POWER_CUT_ENV).is_ok_and(|v| v == "1")
}

/// Sets what runs just before a failpoint aborts the process (the first call wins).
pub fn before_abort(f: impl Fn() + Send + Sync + 'static) {
    let _ = BEFORE_ABORT.set(Box::new(f));
}

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
        if let Some(f) = BEFORE_ABORT.get() {
            f();
        }
        std::process::abort();
    }
}
