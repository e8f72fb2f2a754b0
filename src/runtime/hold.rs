//! Engine holds (copy-rules §1.10): the engine's own reasons to stop opening, kept apart
//! from the user's pause. A pause is the user's choice, persisted in the `copies` table and
//! lifted only by the user; a hold is a runtime fact with a kind and a reason, announced
//! (`held`) when it starts and (`released`) when its cause clears, and never persisted: a
//! restart finds the cause again or finds it gone. During either, the planner sees the copy
//! as paused: opens and increases are skipped and listed, closes are mirrored (§1.7).
//!
//! This module owns the set of holds of one copy; the supervisor decides when each starts
//! and ends.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why the engine holds a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// Stored state (the plan in flight, a journal row) could not be read back; lifted by
    /// the next reconciliation that completes, which repairs from the venue's positions.
    UnreadableState,
    /// The leader could not be read (its stream failed for good, or a snapshot failed);
    /// lifted by the next good reconciliation read.
    LeaderUnreadable,
    /// A journal or ledger write failed; lifted when a write succeeds.
    JournalWrite,
    /// A copied position has no protective stop on the venue although offline protection
    /// is on; lifted once every position carries one.
    Unprotected,
    /// The venue asked us to wait (rate limit or ban); lifted when a call succeeds.
    RateLimit,
    /// The copy is stopping with `close-all`: its closes are retried until every position
    /// is flat (then the copy is stopped) or the user keeps what remains.
    Stopping,
}

impl HoldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldKind::UnreadableState => "unreadable_state",
            HoldKind::LeaderUnreadable => "leader_unreadable",
            HoldKind::JournalWrite => "journal_write",
            HoldKind::Unprotected => "unprotected",
            HoldKind::RateLimit => "rate_limit",
            HoldKind::Stopping => "stopping",
        }
    }
}

/// One hold: its kind, why (for people), and since when (local ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub kind: HoldKind,
    pub reason: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub since_ms: i64,
}

/// The holds on one copy, at most one per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holds(BTreeMap<HoldKind, Hold>);

/// What changed when a hold was set or lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The hold is new (announce `held`).
    Started,
    /// The hold was already there; its reason was refreshed.
    Kept,
    /// The hold was there and is gone (announce `released`).
    Lifted,
    /// There was no such hold.
    Absent,
}

impl Holds {
    /// Puts the copy on a hold of `kind`; the first reason and time are kept.
    pub fn set(&mut self, kind: HoldKind, reason: impl Into<String>, now_ms: i64) -> Change {
        if self.0.contains_key(&kind) {
            return Change::Kept;
        }
        self.0.insert(
            kind,
            Hold {
                kind,
                reason: reason.into(),
                since_ms: now_ms,
            },
        );
        Change::Started
    }

    /// Lifts the hold of `kind`, if any.
    pub fn lift(&mut self, kind: HoldKind) -> Change {
        if self.0.remove(&kind).is_some() {
            Change::Lifted
        } else {
            Change::Absent
        }
    }

    pub fn is_held(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn has(&self, kind: HoldKind) -> bool {
        self.0.contains_key(&kind)
    }

    /// Why opens are held, for the planner's skip notices: a sentence naming the hold
    /// (a stopping copy first, else the first hold in kind order); `None` when not held.
    /// A hold is not a pause, so a skip during one must not read "the copy is paused".
    pub fn opens_held_because(&self) -> Option<String> {
        let hold = self
            .0
            .get(&HoldKind::Stopping)
            .or_else(|| self.0.values().next())?;
        let why = match hold.kind {
            HoldKind::Unprotected => {
                "the copy is holding opens because a position has no exchange-side stop; opens and increases resume once the stop is on the venue"
            }
            HoldKind::UnreadableState => {
                "the copy is holding opens because its stored state could not be read; they resume after the next reconciliation"
            }
            HoldKind::LeaderUnreadable => {
                "the copy is holding opens because the leader could not be read; they resume after the next good read"
            }
            HoldKind::JournalWrite => {
                "the copy is holding opens because a journal write failed; they resume once a write succeeds"
            }
            HoldKind::RateLimit => {
                "the copy is holding opens because the venue asked it to wait (rate limit); they resume when a call succeeds"
            }
            HoldKind::Stopping => {
                "the copy is stopping, so it opens and increases nothing"
            }
        };
        Some(why.to_owned())
    }

    /// The holds, in a stable order.
    pub fn list(&self) -> Vec<Hold> {
        self.0.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_starts_once_and_lifts_once() {
        let mut h = Holds::default();
        assert_eq!(
            h.set(HoldKind::JournalWrite, "disk full", 1),
            Change::Started
        );
        assert_eq!(
            h.set(HoldKind::JournalWrite, "still full", 2),
            Change::Kept,
            "a second failure of the same kind is not a new hold"
        );
        assert_eq!(h.list()[0].reason, "disk full", "the first reason is kept");
        assert!(h.is_held());
        assert_eq!(h.lift(HoldKind::JournalWrite), Change::Lifted);
        assert_eq!(h.lift(HoldKind::JournalWrite), Change::Absent);
        assert!(!h.is_held(), "no hold left");
    }

    #[test]
    fn holds_of_different_kinds_are_independent() {
        let mut h = Holds::default();
        h.set(HoldKind::JournalWrite, "a", 1);
        h.set(HoldKind::LeaderUnreadable, "b", 2);
        h.lift(HoldKind::JournalWrite);
        assert!(h.has(HoldKind::LeaderUnreadable), "the other hold stays");
        assert!(h.is_held());
    }
}
