//! A polled leader's reports in a copy's supervisor: the poll's signals go through the same
//! planning, risk gate and journal as a streamed leader's (`on_signal`); its notes become
//! what the user sees. A read that fails (429, a geo-blocked 403, a changed format, hidden
//! positions, an empty list) holds the copy as "leader unreadable" with the reason, keeps
//! the leader's positions as last read (never flat) and is told once per cause; the first
//! good read lifts the hold. An open and close inside one interval is logged as missed.

use crate::engine::{LeaderSnapshot, SnapshotStatus};

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
        let mut problem: Option<String> = None;
        let mut said = Vec::new();
        for note in &report.outcome.notes {
            let (message, fails) = describe(note);
            match note {
                PollNote::RowMissing { .. } => {
                    tracing::warn!(copy = %self.name, "{message}");
                }
                PollNote::Missed { .. } => said.push((NotifyLevel::Warning, NotifyKind::Skip, message)),
                PollNote::Baseline { .. } => said.push((NotifyLevel::Info, NotifyKind::Notice, message)),
                _ if fails => problem = Some(message),
                _ => {}
            }
        }
        let readable = problem.is_none() && report.copyable == Copyable::Yes;
        pl.readable = readable;
        let was = pl.problem.clone();
        match &problem {
            Some(p) if was.as_deref() != Some(p.as_str()) => {
                pl.problem = Some(p.clone());
                said.push((NotifyLevel::Warning, NotifyKind::Notice, p.clone()));
            }
            Some(_) => {}
            None if readable && was.is_some() => {
                pl.problem = None;
                said.push((
                    NotifyLevel::Info,
                    NotifyKind::Notice,
                    "the lead portfolio reads again; changes since the last good read are copied now".to_owned(),
                ));
            }
            None => {}
        }
        tracing::debug!(copy = %self.name, next_ms = report.next_wait.as_millis() as u64, readable, "lead portfolio polled");
        for (level, kind, message) in said {
            self.say(level, kind, message);
        }
        match problem {
            Some(p) => self.hold(HoldKind::LeaderUnreadable, p),
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
        Some(match (&pl.positions, pl.readable) {
            (Some(p), true) => LeaderSnapshot {
                status: SnapshotStatus::Confirmed,
                positions: p.clone(),
            },
            _ => LeaderSnapshot {
                status: SnapshotStatus::Failed,
                positions: Default::default(),
            },
        })
    }
}
