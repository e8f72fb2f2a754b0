//! A polled leader's reports in a copy's supervisor: the poll's signals go through the same
//! planning, risk gate and journal as a streamed leader's (`on_signal`); its notes become
//! what the user sees. A read that fails (429, a geo-blocked 403, a changed format, hidden
//! positions, an empty list) holds the copy as "leader unreadable" with the reason, keeps
//! the leader's positions as last read (never flat) and is told once per cause; the first
//! good read lifts the hold. An open and close inside one interval is logged as missed.

use crate::engine::{LeaderSnapshot, NoticeKind, SnapshotStatus};

use super::hold::HoldKind;
use super::leader_poll::{Copyable, PollNote};
use super::leader_source::{describe, PollReport};
use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::{CopyRunner, LeaderSide};

impl CopyRunner {
    /// One poll of the copy's public lead portfolio.
    pub(crate) async fn on_poll(&mut self, report: PollReport) {
        let LeaderSide::Portfolio(pl) = &mut self.leader else {
            return;
        };
        if report.positions.is_some() {
            pl.positions = report.positions.clone();
        }
        let mut problem: Option<(String, NoticeKind)> = None;
        let mut said = Vec::new();
        for note in &report.outcome.notes {
            let (message, fails) = describe(note);
            match (note, notice_of(note)) {
                (PollNote::RowMissing { .. }, _) | (_, None) => {
                    tracing::warn!(copy = %self.name, "{message}");
                }
                (PollNote::Missed { .. }, Some(n)) => {
                    said.push((NotifyLevel::Warning, NotifyKind::Skip, Some(n), message))
                }
                (PollNote::Baseline { .. }, Some(n)) => {
                    said.push((NotifyLevel::Info, NotifyKind::Notice, Some(n), message))
                }
                (_, Some(n)) if fails => problem = Some((message, n)),
                _ => {}
            }
        }
        let readable = problem.is_none() && report.copyable == Copyable::Yes;
        pl.readable = readable;
        let was = pl.problem.clone();
        match &problem {
            // One announcement per cause (a 429's retry time changes at every poll).
            Some((p, n)) if was.as_deref() != Some(format!("{n:?}").as_str()) => {
                pl.problem = Some(format!("{n:?}"));
                said.push((
                    NotifyLevel::Warning,
                    NotifyKind::Notice,
                    Some(*n),
                    p.clone(),
                ));
            }
            Some(_) => {}
            None if readable && was.is_some() => {
                pl.problem = None;
                said.push((
                    NotifyLevel::Info,
                    NotifyKind::Notice,
                    None,
                    "the lead portfolio reads again; changes since the last good read are copied now".to_owned(),
                ));
            }
            None => {}
        }
        tracing::debug!(copy = %self.name, next_ms = report.next_wait.as_millis() as u64, readable, "lead portfolio polled");
        for (level, kind, notice, message) in said {
            self.tell(level, kind, notice, message);
        }
        match problem {
            Some((p, _)) => self.hold(HoldKind::LeaderUnreadable, p),
            None if readable => self.release(HoldKind::LeaderUnreadable),
            None => {}
        }
        for signal in report.outcome.signals {
            // The poll's answer is when the change was seen (its age counts from the poll).
            self.leader_recv_us = Some(report.read_us);
            self.on_signal(signal).await;
        }
    }

    /// The polled leader's positions for reconciliation: the last good read when the last
    /// poll read well, else a failed snapshot (nothing is closed on it).
    pub(crate) fn polled_snapshot(&self) -> Option<LeaderSnapshot> {
        let LeaderSide::Portfolio(pl) = &self.leader else {
            return None;
        };
        Some(snapshot_of(pl))
    }
}

/// A polled leader's snapshot for reconciliation: confirmed only while its last poll read
/// well; a failed, hidden or empty read, or no good read since the start, is a failed
/// snapshot, on which reconciliation closes nothing (never "flat").
pub(crate) fn snapshot_of(pl: &super::supervisor::PolledLeader) -> LeaderSnapshot {
    match (&pl.positions, pl.readable) {
        (Some(p), true) => LeaderSnapshot {
            status: SnapshotStatus::Confirmed,
            positions: p.clone(),
        },
        _ => LeaderSnapshot {
            status: SnapshotStatus::Failed,
            positions: Default::default(),
        },
    }
}

/// The engine notice a poll note is reported with (`None`: logged only).
fn notice_of(note: &PollNote) -> Option<NoticeKind> {
    Some(match note {
        PollNote::Baseline { .. } => NoticeKind::LeaderBaseline,
        PollNote::Hidden => NoticeKind::LeaderHidden,
        PollNote::FormatChanged(_) => NoticeKind::LeaderFormatChanged,
        PollNote::RateLimited { .. } => NoticeKind::LeaderRateLimited,
        PollNote::GeoBlocked => NoticeKind::LeaderGeoBlocked,
        PollNote::ReadFailed(_) | PollNote::EmptyRead => NoticeKind::LeaderReadFailed,
        PollNote::Missed { .. } => NoticeKind::MissedInInterval,
        PollNote::RowMissing { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PositionSide;
    use crate::engine::PositionKey;
    use crate::runtime::supervisor::PolledLeader;
    use rust_decimal_macros::dec;

    fn leader(readable: bool, read: bool) -> PolledLeader {
        PolledLeader {
            portfolio_id: "1".into(),
            positions: read.then(|| {
                [(PositionKey::new("ETHUSDT", PositionSide::Both), dec!(1))]
                    .into_iter()
                    .collect()
            }),
            readable,
            problem: None,
        }
    }

    #[test]
    fn a_failed_poll_is_a_failed_snapshot_never_a_flat_one() {
        let good = snapshot_of(&leader(true, true));
        assert_eq!(good.status, SnapshotStatus::Confirmed, "a good read");
        assert_eq!(good.positions.len(), 1, "its one position");
        let failed = snapshot_of(&leader(false, true));
        assert_eq!(
            failed.status,
            SnapshotStatus::Failed,
            "a 429, 403, hidden or empty read after a good one is not confirmed"
        );
        let never = snapshot_of(&leader(true, false));
        assert_eq!(
            never.status,
            SnapshotStatus::Failed,
            "no good read since the start: nothing to close on"
        );
    }
}
