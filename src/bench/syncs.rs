//! The disk's syncs inside a measured window, read against the copies' latency rows: how
//! long each kind of sync took, and for a set of copies (the slowest) what their "→ row
//! durable" stage was made of — waiting before the sync that covered their row began, that
//! sync itself, and the way back after it — and whether another of the engine's syncs was
//! on the disk at the same time.

use crate::store::group_commit::{SyncKind, SyncRecord};
use crate::store::table::latency::LatencyRow;

use super::stats::Summary;

/// How long before a sync another one may have ended and still be counted as "just before"
/// it: the time a virtual disk's flush may keep working after the call returned is not
/// known, so this only says what ran close by, not that it was the cause.
const CLOSE_BY_US: i64 = 10_000;

/// One line: each kind's count and p50 / p99 / max (ms), then the split of `copies`' row
/// durable stage around the sync that covered each.
pub fn report(log: &[SyncRecord], copies: &[LatencyRow]) -> String {
    let kind = |k: SyncKind, name: &str| {
        let took: Vec<f64> = log
            .iter()
            .filter(|s| s.kind == k)
            .map(|s| s.took_us as f64 / 1000.0)
            .collect();
        let s = Summary::of(took);
        format!(
            "{name} {} (p50 {:.2} / p99 {:.2} / max {:.2} ms)",
            s.n, s.p50, s.p99, s.max
        )
    };
    format!(
        "disk syncs: {}, {}, {}; {}",
        kind(SyncKind::BeforeSend, "before a send"),
        kind(SyncKind::Writer, "the writer's"),
        kind(SyncKind::Checkpoint, "checkpoints"),
        split(log, copies)
    )
}

/// For each copy, the sync before a send that made its row durable (the last one to end
/// before the row was taken as durable) and how its "→ row durable" divides around it.
fn split(log: &[SyncRecord], copies: &[LatencyRow]) -> String {
    let mut before = Vec::new();
    let mut sync = Vec::new();
    let mut after = Vec::new();
    let (mut overlapped, mut close_by, mut found) = (0, 0, 0);
    for r in copies {
        let covering = log
            .iter()
            .filter(|s| s.kind == SyncKind::BeforeSend && end(s) <= r.committed_us)
            .max_by_key(|s| end(s));
        let Some(c) = covering.filter(|c| end(c) >= r.planned_us) else {
            continue;
        };
        found += 1;
        let ms = |a: i64, b: i64| (b - a) as f64 / 1000.0;
        before.push(ms(r.planned_us, c.began_us));
        sync.push(c.took_us as f64 / 1000.0);
        after.push(ms(end(c), r.committed_us));
        let others = log.iter().filter(|s| !std::ptr::eq(*s, c));
        if others
            .clone()
            .any(|s| s.began_us < end(c) && end(s) > c.began_us)
        {
            overlapped += 1;
        } else if others
            .into_iter()
            .any(|s| end(s) <= c.began_us && c.began_us - end(s) <= CLOSE_BY_US)
        {
            close_by += 1;
        }
    }
    let show = |v: Vec<f64>| {
        let s = Summary::of(v);
        format!("p50 {:.2} / p99 {:.2}", s.p50, s.p99)
    };
    format!(
        "of these copies' → row durable ({found} of {} matched to the sync that covered them): plan ready → that sync began {}, the sync {}, its end → row taken as durable {} ms; another sync on the disk at the same time for {overlapped}, one ending within {} ms before it for {close_by}",
        copies.len(),
        show(before),
        show(sync),
        show(after),
        CLOSE_BY_US / 1000
    )
}

fn end(s: &SyncRecord) -> i64 {
    s.began_us + s.took_us
}
