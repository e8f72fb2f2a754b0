//! WebKitGTK's process-wide rendering choice, made before GTK starts: CopyDesk renders its
//! web view without accelerated compositing unless the user chose otherwise
//! (docs/desktop.md, "WebKit rendering"). The decision is a pure function (unit tested);
//! [`apply`] sets the variable once, at the top of `run`, while the process has one thread.

use std::ffi::OsStr;

/// WebKitGTK's variable: set, the web process renders without accelerated compositing.
pub const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
/// CopyDesk's opt-out: `1` keeps WebKit's own default (GPU compositing on).
pub const KEEP_COMPOSITING: &str = "COPYDESK_WEBKIT_COMPOSITING";

/// How the web view will render, and why (logged at start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// CopyDesk's default: `WEBKIT_DISABLE_COMPOSITING_MODE=1` set by the app.
    NoCompositingByDefault,
    /// The user set `WEBKIT_DISABLE_COMPOSITING_MODE` themselves: left as it is.
    UserChoice,
    /// `COPYDESK_WEBKIT_COMPOSITING=1`: WebKit's default (accelerated compositing).
    CompositingKept,
}

/// Decides from the two variables as found in the environment.
pub fn decide(user_setting: Option<&OsStr>, keep: Option<&OsStr>) -> Rendering {
    if user_setting.is_some() {
        Rendering::UserChoice
    } else if keep == Some(OsStr::new("1")) {
        Rendering::CompositingKept
    } else {
        Rendering::NoCompositingByDefault
    }
}

/// Reads the environment, sets `WEBKIT_DISABLE_COMPOSITING_MODE=1` when [`decide`] says
/// so, and returns the decision. Call before any thread starts (the first line of `run`):
/// setting a variable while another thread may read the environment is unsound on Unix.
pub fn apply() -> Rendering {
    let rendering = decide(
        std::env::var_os(DISABLE_COMPOSITING).as_deref(),
        std::env::var_os(KEEP_COMPOSITING).as_deref(),
    );
    if rendering == Rendering::NoCompositingByDefault {
        std::env::set_var(DISABLE_COMPOSITING, "1");
    }
    rendering
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_compositing_unless_the_user_chose() {
        assert_eq!(decide(None, None), Rendering::NoCompositingByDefault);
        assert_eq!(
            decide(None, Some(OsStr::new("0"))),
            Rendering::NoCompositingByDefault
        );
    }

    #[test]
    fn the_users_webkit_setting_wins() {
        assert_eq!(decide(Some(OsStr::new("0")), None), Rendering::UserChoice);
        assert_eq!(
            decide(Some(OsStr::new("1")), Some(OsStr::new("1"))),
            Rendering::UserChoice
        );
    }

    #[test]
    fn the_opt_out_keeps_webkits_default() {
        assert_eq!(
            decide(None, Some(OsStr::new("1"))),
            Rendering::CompositingKept
        );
    }
}
