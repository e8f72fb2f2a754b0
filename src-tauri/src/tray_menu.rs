//! What the tray shows and offers, with no Tauri in it: the menu (ids and labels), the
//! action each menu id stands for, and the tray title for the copies' state. Linux trays
//! (StatusNotifier hosts) show no tooltip, so the title is where the state is read.
//! `tray.rs` builds the icon from these; nothing here touches a window or the engine.

use copydesk::api::{CopyStateDto, HoldKind, StatusDto};

/// What a tray menu item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    /// Show and focus the main window.
    Open,
    /// Pause every running copy (opens skipped, closes still mirrored).
    PauseAll,
    /// Resume every paused copy.
    ResumeAll,
    /// Show the window with the panic confirmation (one confirm, as in the top bar).
    Panic,
    /// Quit; with copies running the window asks first (suspend or close everything).
    Quit,
}

/// The menu, top to bottom: (id, label, action).
pub const MENU: [(&str, &str, TrayAction); 5] = [
    ("open", "Open CopyDesk", TrayAction::Open),
    ("pause-all", "Pause all copies", TrayAction::PauseAll),
    ("resume-all", "Resume all copies", TrayAction::ResumeAll),
    ("panic", "Panic: stop all and close…", TrayAction::Panic),
    ("quit", "Quit…", TrayAction::Quit),
];

/// The action of a menu id; `None` for an id this menu does not have.
pub fn action_of(id: &str) -> Option<TrayAction> {
    MENU.iter().find(|(i, _, _)| *i == id).map(|(_, _, a)| *a)
}

/// The copies' state as the tray title counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrayState {
    /// Copies running (copying opens and closes).
    pub running: usize,
    /// Copies the user paused.
    pub paused: usize,
    /// Copies that need a look: on an engine hold, or with a position the exchange does
    /// not guard with a stop.
    pub problems: usize,
    /// The engine could not start, or another engine holds the data directory.
    pub engine_down: bool,
}

impl TrayState {
    /// Counts the copies of a status read. A stopped copy counts nowhere.
    pub fn of(status: &StatusDto) -> TrayState {
        let mut s = TrayState::default();
        for c in &status.copies {
            match c.copy.state {
                CopyStateDto::Running => s.running += 1,
                CopyStateDto::Paused => s.paused += 1,
                CopyStateDto::Held | CopyStateDto::Stopping | CopyStateDto::Stopped => {}
            }
            let live = !matches!(c.copy.state, CopyStateDto::Stopped);
            let held = matches!(c.copy.state, CopyStateDto::Held)
                || c.copy.holds.iter().any(|h| {
                    matches!(
                        h.kind,
                        HoldKind::Unprotected | HoldKind::RateLimit | HoldKind::JournalWrite
                    )
                });
            if live && held {
                s.problems += 1;
            }
        }
        s
    }

    /// Whether any copy runs or is paused (still mirroring closes): quitting then asks.
    pub fn copying(&self) -> bool {
        self.running + self.paused + self.problems > 0
    }
}

fn copies(n: usize) -> String {
    if n == 1 {
        "1 copy".into()
    } else {
        format!("{n} copies")
    }
}

/// The tray title: the problem first, then what runs, then what is paused.
pub fn title(s: &TrayState) -> String {
    if s.engine_down {
        return "CopyDesk: not copying (engine not running)".into();
    }
    let mut parts = Vec::new();
    if s.problems > 0 {
        let verb = if s.problems == 1 { "needs" } else { "need" };
        parts.push(format!("⚠ {} {verb} a look", copies(s.problems)));
    }
    if s.running > 0 {
        parts.push(format!("{} running", copies(s.running)));
    }
    if s.paused > 0 {
        parts.push(format!("{} paused", copies(s.paused)));
    }
    if parts.is_empty() {
        "CopyDesk: no copy running".into()
    } else {
        format!("CopyDesk: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_id_maps_to_its_action_and_unknown_ids_to_none() {
        assert_eq!(action_of("open"), Some(TrayAction::Open));
        assert_eq!(action_of("pause-all"), Some(TrayAction::PauseAll));
        assert_eq!(action_of("resume-all"), Some(TrayAction::ResumeAll));
        assert_eq!(action_of("panic"), Some(TrayAction::Panic));
        assert_eq!(action_of("quit"), Some(TrayAction::Quit));
        assert_eq!(action_of("toggle"), None, "the old show/hide id is gone");
        assert_eq!(action_of(""), None);
        let ids: std::collections::BTreeSet<_> = MENU.iter().map(|(i, _, _)| *i).collect();
        assert_eq!(ids.len(), MENU.len(), "menu ids are unique");
    }

    #[test]
    fn the_title_names_problems_first_then_running_then_paused() {
        let t = |running, paused, problems| {
            title(&TrayState {
                running,
                paused,
                problems,
                engine_down: false,
            })
        };
        assert_eq!(t(0, 0, 0), "CopyDesk: no copy running");
        assert_eq!(t(1, 0, 0), "CopyDesk: 1 copy running");
        assert_eq!(t(3, 0, 0), "CopyDesk: 3 copies running");
        assert_eq!(t(2, 1, 0), "CopyDesk: 2 copies running, 1 copy paused");
        assert_eq!(t(0, 2, 0), "CopyDesk: 2 copies paused");
        assert_eq!(
            t(1, 0, 1),
            "CopyDesk: ⚠ 1 copy needs a look, 1 copy running"
        );
        assert_eq!(t(0, 0, 2), "CopyDesk: ⚠ 2 copies need a look");
        assert_eq!(
            title(&TrayState {
                engine_down: true,
                running: 2,
                ..TrayState::default()
            }),
            "CopyDesk: not copying (engine not running)"
        );
    }

    fn copy(name: &str, state: CopyStateDto, holds: &[HoldKind]) -> copydesk::api::CopyStatusDto {
        let settings = copydesk::domain::CopySettings {
            mode: copydesk::domain::CopyMode::SmartSync,
            investment: Some(1000.into()),
            amount_per_order: None,
            ratio: None,
            copy_ongoing_positions: false,
            preset: copydesk::domain::Preset::None,
            start: Default::default(),
            risk: Default::default(),
        };
        copydesk::api::CopyStatusDto {
            copy: copydesk::api::CopyDto {
                name: name.into(),
                leader: "l".into(),
                follower: "paper".into(),
                paper: true,
                settings: copydesk::api::settings::to_dto(&settings),
                state,
                reason: None,
                holds: holds
                    .iter()
                    .map(|k| copydesk::api::HoldDto {
                        kind: *k,
                        reason: "r".into(),
                    })
                    .collect(),
                t0_ms: None,
            },
            figures: Default::default(),
            positions: Vec::new(),
            decisions: Vec::new(),
            fills: Vec::new(),
            precision: Vec::new(),
            orders_journaled: 0,
            latency: None,
            unknown_orders: Vec::new(),
        }
    }

    #[test]
    fn the_state_counts_running_paused_and_copies_that_need_a_look() {
        let status = StatusDto {
            copies: vec![
                copy("a", CopyStateDto::Running, &[]),
                copy("b", CopyStateDto::Running, &[HoldKind::Unprotected]),
                copy("c", CopyStateDto::Paused, &[]),
                copy("d", CopyStateDto::Held, &[HoldKind::LeaderUnreadable]),
                copy("e", CopyStateDto::Stopped, &[HoldKind::Unprotected]),
            ],
            recent: Vec::new(),
            weight: Vec::new(),
        };
        let s = TrayState::of(&status);
        assert_eq!(
            s,
            TrayState {
                running: 2,
                paused: 1,
                problems: 2,
                engine_down: false
            },
            "b (unprotected) and d (held) need a look; a stopped copy counts nowhere"
        );
        assert!(s.copying());
        assert!(!TrayState::of(&StatusDto {
            copies: vec![copy("e", CopyStateDto::Stopped, &[])],
            recent: Vec::new(),
            weight: Vec::new(),
        })
        .copying());
    }
}
