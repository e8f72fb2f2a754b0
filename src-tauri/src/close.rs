//! What closing the main window and quitting do, as pure decisions (`desktop.rs` acts on
//! them). With copies running, closing keeps them copying: hidden in the tray where a tray
//! host shows the icon (told once), minimised where none does (told each time, with why).
//! Quitting with copies running asks first (the quit dialog: suspend or close everything).

/// What a close request of the main window does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseOutcome {
    /// No copy runs: the window closes and the app quits.
    Exit,
    /// Hide the window; the tray icon stays. `note`: tell the user it keeps copying there
    /// (the first time only).
    HideToTray { note: bool },
    /// No tray host: minimise instead, and say why.
    Minimise { message: String },
}

/// Decides a close request. `live_copies`: copies whose supervisors run (paused ones too:
/// they still mirror closes).
pub fn on_close(live_copies: usize, tray_host: bool, note_not_yet_shown: bool) -> CloseOutcome {
    if live_copies == 0 {
        CloseOutcome::Exit
    } else if tray_host {
        CloseOutcome::HideToTray {
            note: note_not_yet_shown,
        }
    } else {
        CloseOutcome::Minimise {
            message: minimised_message(live_copies),
        }
    }
}

fn copies(n: usize) -> String {
    if n == 1 {
        "your copy".into()
    } else {
        format!("your {n} copies")
    }
}

/// Why the window minimised instead of closing.
pub fn minimised_message(live_copies: usize) -> String {
    format!(
        "This desktop shows no tray icons, so CopyDesk minimised instead of closing: closing \
         would stop {}. To stop copying, use Quit in Settings.",
        copies(live_copies)
    )
}

/// The one-time note after the window hid into the tray: (title, body).
pub fn tray_note(live_copies: usize) -> (String, String) {
    (
        "CopyDesk keeps copying in the tray".into(),
        format!(
            "Closing the window did not stop {}. Open CopyDesk or quit from its tray icon.",
            copies(live_copies)
        ),
    )
}

/// What a quit request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitOutcome {
    /// Nothing runs: quit now.
    Exit,
    /// Show the window and ask: suspend or close everything.
    Ask,
}

pub fn on_quit(live_copies: usize) -> QuitOutcome {
    if live_copies == 0 {
        QuitOutcome::Exit
    } else {
        QuitOutcome::Ask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_with_no_copy_running_quits() {
        assert_eq!(on_close(0, true, true), CloseOutcome::Exit);
        assert_eq!(on_close(0, false, true), CloseOutcome::Exit);
    }

    #[test]
    fn closing_with_copies_hides_to_the_tray_and_notes_it_the_first_time() {
        assert_eq!(
            on_close(2, true, true),
            CloseOutcome::HideToTray { note: true }
        );
        assert_eq!(
            on_close(2, true, false),
            CloseOutcome::HideToTray { note: false }
        );
        let (title, body) = tray_note(2);
        assert_eq!(title, "CopyDesk keeps copying in the tray");
        assert!(body.contains("did not stop your 2 copies"), "{body}");
    }

    #[test]
    fn without_a_tray_host_closing_minimises_and_says_why() {
        let CloseOutcome::Minimise { message } = on_close(1, false, true) else {
            panic!("minimise without a tray host")
        };
        assert!(message.contains("shows no tray icons"), "{message}");
        assert!(message.contains("would stop your copy"), "{message}");
        assert!(message.contains("Quit in Settings"), "{message}");
    }

    #[test]
    fn quitting_asks_only_while_copies_run() {
        assert_eq!(on_quit(0), QuitOutcome::Exit);
        assert_eq!(on_quit(1), QuitOutcome::Ask);
    }
}
