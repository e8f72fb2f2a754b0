//! Actions on every running copy at once, as the desktop shell's tray and power handling
//! ask for them (pause all, resume all, reconcile now after the machine woke), and what
//! the quit dialog shows: the copied positions no confirmed exchange-side stop guards.
//! Owns no state: it goes through the runtime's commands and the status read.

use crate::runtime::Command;

use super::dto::{CopyStateDto, StatusDto, UnguardedDto};
use super::{ApiError, App};

impl App {
    /// How many copies have a running supervisor (paused ones too: they mirror closes).
    pub fn live_copies(&self) -> usize {
        self.engine
            .copies()
            .iter()
            .filter(|c| self.engine.is_running(c))
            .count()
    }

    /// Pauses every running copy; the names of those paused.
    pub async fn pause_all(&self) -> Vec<String> {
        self.engine.command_all(|| Command::Pause).await
    }

    /// Resumes every paused copy; the names of those told.
    pub async fn resume_all(&self) -> Vec<String> {
        self.engine.command_all(|| Command::Resume).await
    }

    /// Reconciles every running copy at once with the venue (after a resume from sleep:
    /// fills, closes and stops may have happened meanwhile); the names of those told.
    pub async fn reconcile_all(&self, why: &'static str) -> Vec<String> {
        self.engine
            .command_all(move || Command::Reconcile(why))
            .await
    }

    /// The kill switch, then waits until no copy runs any more (their positions closed at
    /// market): "close everything" before quitting. A copy still running after `within`
    /// is a conflict that names how many.
    pub async fn close_everything(&self, within: std::time::Duration) -> Result<(), ApiError> {
        self.engine.panic().await;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let live = self.live_copies();
            if live == 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::new(
                    super::ErrorCode::Conflict,
                    format!(
                        "{live} copies are still stopping after {} s; their positions may still \
                         be open. Look at Copies, then quit again.",
                        within.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Saves paper mode's simulator state now, for a shell that exits without
    /// [`App::shutdown`] (the simulator also saves once a second after a change).
    pub async fn save_paper(&self) -> Result<(), ApiError> {
        match self.paper.lock().await.as_ref() {
            Some(sim) => super::paper::save_hook(sim),
            None => Ok(()),
        }
    }

    /// The positions of running or paused copies that have no confirmed exchange-side
    /// stop, each with the reason.
    pub async fn unguarded(&self) -> Result<Vec<UnguardedDto>, ApiError> {
        Ok(unguarded(&self.status().await?))
    }
}

/// The positions of live (not stopped) copies without a confirmed protective stop.
pub fn unguarded(status: &StatusDto) -> Vec<UnguardedDto> {
    let mut out = Vec::new();
    for c in &status.copies {
        if matches!(c.copy.state, CopyStateDto::Stopped) {
            continue;
        }
        let unprotected_hold = c
            .copy
            .holds
            .iter()
            .find(|h| h.kind == crate::runtime::hold::HoldKind::Unprotected);
        for p in c.positions.iter().filter(|p| !p.stop_confirmed) {
            let why = if !c.copy.settings.risk.offline_protection {
                "offline protection is off for this copy, so no stop is placed on the exchange"
                    .to_owned()
            } else if let Some(h) = unprotected_hold {
                h.reason.clone()
            } else if let Some(price) = &p.stop_price {
                format!("the stop at {price} is not confirmed by the exchange yet")
            } else {
                "no protective stop is on the exchange yet".to_owned()
            };
            out.push(UnguardedDto {
                copy: c.copy.name.clone(),
                symbol: p.symbol.clone(),
                side: p.side.clone(),
                qty: p.follower_qty.clone(),
                why,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::dto::{CopyDto, CopyFiguresDto, CopyStatusDto, HoldDto, PositionDto};
    use crate::domain::{CopyMode, CopySettings, Preset};

    fn position(symbol: &str, stop: Option<&str>, confirmed: bool) -> PositionDto {
        PositionDto {
            symbol: symbol.into(),
            side: "long".into(),
            leader_qty: "1".into(),
            follower_qty: "0.5".into(),
            ratio: "0.5".into(),
            entry_price: None,
            margin: "10".into(),
            leverage: 5,
            stop_price: stop.map(str::to_owned),
            stop_confirmed: confirmed,
            drift: None,
        }
    }

    fn copy(
        name: &str,
        state: CopyStateDto,
        offline: bool,
        positions: Vec<PositionDto>,
    ) -> CopyStatusDto {
        let mut settings = CopySettings {
            mode: CopyMode::SmartSync,
            investment: Some(1000.into()),
            amount_per_order: None,
            ratio: None,
            copy_ongoing_positions: false,
            preset: Preset::None,
            start: Default::default(),
            risk: Default::default(),
        };
        settings.risk.offline_protection = offline;
        CopyStatusDto {
            copy: CopyDto {
                name: name.into(),
                leader: "l".into(),
                follower: "paper".into(),
                paper: true,
                settings: crate::api::settings::to_dto(&settings),
                state,
                reason: None,
                holds: Vec::new(),
                t0_ms: None,
            },
            figures: CopyFiguresDto::default(),
            positions,
            decisions: Vec::new(),
            fills: Vec::new(),
            precision: Vec::new(),
            orders_journaled: 0,
            latency: None,
            unknown_orders: Vec::new(),
        }
    }

    #[test]
    fn only_positions_without_a_confirmed_stop_are_listed_each_with_its_reason() {
        let mut held = copy(
            "b",
            CopyStateDto::Paused,
            true,
            vec![position("ETHUSDT", None, false)],
        );
        held.copy.holds.push(HoldDto {
            kind: crate::runtime::hold::HoldKind::Unprotected,
            reason: "the venue refused the stop on ETHUSDT".into(),
        });
        let status = StatusDto {
            copies: vec![
                copy(
                    "a",
                    CopyStateDto::Running,
                    true,
                    vec![
                        position("BTCUSDT", Some("50000"), true),
                        position("ADAUSDT", Some("0.3"), false),
                        position("XRPUSDT", None, false),
                    ],
                ),
                held,
                copy(
                    "c",
                    CopyStateDto::Running,
                    false,
                    vec![position("SOLUSDT", None, false)],
                ),
                copy(
                    "d",
                    CopyStateDto::Stopped,
                    true,
                    vec![position("DOGEUSDT", None, false)],
                ),
            ],
            recent: Vec::new(),
            weight: Vec::new(),
        };
        let got: Vec<(String, String, String)> = unguarded(&status)
            .into_iter()
            .map(|u| (u.copy, u.symbol, u.why))
            .collect();
        let want = [
            (
                "a",
                "ADAUSDT",
                "the stop at 0.3 is not confirmed by the exchange yet",
            ),
            ("a", "XRPUSDT", "no protective stop is on the exchange yet"),
            ("b", "ETHUSDT", "the venue refused the stop on ETHUSDT"),
            (
                "c",
                "SOLUSDT",
                "offline protection is off for this copy, so no stop is placed on the exchange",
            ),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(c, s, w)| ((*c).into(), (*s).into(), (*w).into()))
            .collect();
        assert_eq!(
            got, want,
            "a confirmed stop guards BTCUSDT and a stopped copy guards nothing; the rest are listed with why"
        );
    }
}
