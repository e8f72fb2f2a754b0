//! The leader's margin mode at a first open (issue 12 item 12). Binance sends no event when
//! a flat account switches a symbol between cross and isolated, and the fill's own account
//! update arrives after the fill; so when a leader fill opens a book from flat, the
//! symbol's margin mode is read afresh (`GET /fapi/v1/symbolConfig?symbol=`, weight 5) and
//! the copy opens in that mode — unless the symbol was flat for less than [`SURE_FLAT_MS`]
//! (a leader trading back and forth; no read on that hot path). A
//! copied position the venue holds in another mode than the leader's is reported, once per
//! position, at reconciliation.

use crate::domain::{LeaderSignal, SignalKind};
use crate::engine::{NoticeKind, PositionKey};
use crate::exchange::AccountSnapshot;

use super::notify::{NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// A symbol the leader held until less than this long before an opening fill keeps the
/// margin mode the tracker knows (a switch needs the leader to be flat and to call the
/// venue in between); after a longer flat spell, or when it was never seen open since the
/// start, the mode is read.
pub(crate) const SURE_FLAT_MS: i64 = 1_000;

impl CopyRunner {
    /// For a fill that opens a leader book from flat: the margin mode and leverage the
    /// venue reports for the symbol now replace what the tracker assumed.
    pub(crate) async fn confirm_leader_mode(&mut self, signal: &mut LeaderSignal) {
        let SignalKind::Fill(f) = &mut signal.kind else {
            return;
        };
        let (before, after) = (f.position_before, f.position_after());
        let opens = !after.is_zero()
            && crate::engine::Direction::of(before) != crate::engine::Direction::of(after);
        if !opens {
            return;
        }
        let name = signal.symbol.name.clone();
        // Flat only a moment (a leader trading back and forth): no time to switch the mode,
        // and no read on the hot path.
        if self
            .tracker
            .flat_since(&name)
            .is_some_and(|t| signal.event_time_ms.saturating_sub(t) < SURE_FLAT_MS)
        {
            return;
        }
        // A polled leader's row carries its margin mode; there is no account to read.
        let Some(venue) = self.leader.venue().map(|v| v.ex.clone()) else {
            return;
        };
        match venue.symbol_setting(&name).await {
            Ok(Some(s)) => {
                if s.margin_mode != f.margin_mode {
                    tracing::info!(copy = %self.name, symbol = %name, was = ?f.margin_mode, now = ?s.margin_mode, "the leader switched the symbol's margin mode while flat");
                    f.margin_mode = s.margin_mode;
                }
                self.tracker.set_margin_mode(&name, s.margin_mode);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(copy = %self.name, symbol = %name, error = %e, "the leader's margin mode could not be read; using the last known")
            }
        }
    }

    /// Reports (once per position) a copied position the follower holds in a margin mode
    /// other than the leader's: isolated margin sync does not run for it.
    pub(crate) fn report_wrong_modes(&mut self, snap: &AccountSnapshot) {
        let mut wrong = Vec::new();
        for p in self.ctx.ledger.positions.values() {
            let key: PositionKey = p.follower_key();
            let held = snap.positions.iter().find(|x| {
                x.symbol == key.symbol
                    && x.position_side == key.side
                    && !x.signed_quantity.is_zero()
            });
            if let Some(x) = held {
                if x.margin_mode != p.margin_mode {
                    wrong.push((key, x.margin_mode, p.margin_mode));
                }
            }
        }
        for (key, got, want) in wrong {
            if self.wrong_mode_reported.insert(key.clone()) {
                self.tell(
                    NotifyLevel::Warning,
                    NotifyKind::Notice,
                    Some(NoticeKind::WrongMarginMode),
                    format!(
                        "{} is held in {got:?} margin while the leader's is {want:?}: it was opened in the wrong mode; isolated margin sync does not run for it. Close it (the copy reopens nothing) or switch the mode on the venue once it is flat",
                        key.symbol
                    ),
                );
            }
        }
    }
}
