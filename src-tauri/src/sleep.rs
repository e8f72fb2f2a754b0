//! Sleep and wake on Linux, through logind on the system bus: while copies run (and the
//! user left it on in Settings) the app holds a `sleep` inhibitor, released when no copy
//! runs; when the machine wakes (`PrepareForSleep(false)`) every copy reconciles at once
//! and the user is told. When the inhibitor cannot be taken (no logind, no system bus) the
//! user is told once, and Settings shows why.
//!
//! Mode `block`, not `delay`: a delay lock only postpones sleep by a few seconds, so an
//! idle desktop would still suspend a running copy; a block lock keeps the machine awake
//! for idle suspend. logind's default `LidSwitchIgnoreInhibited=yes` still lets a closed
//! lid suspend, and a user's explicit suspend is refused only until they confirm it, so the
//! user stays in charge; the exchange-side stops guard the positions meanwhile.
//!
//! The bus is the system bus (`DBUS_SYSTEM_BUS_ADDRESS` when set, which the tests use to
//! point at a stub logind on a private bus).

use serde::Serialize;

/// logind's well-known name, object and interface.
pub const LOGIND: &str = "org.freedesktop.login1";
pub const LOGIND_PATH: &str = "/org/freedesktop/login1";
pub const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";
/// See the module doc for why `block`.
pub const MODE: &str = "block";
/// The reconciliation reason after a wake (it shows in the copies' activity).
pub const WAKE_REASON: &str = "resume from sleep";

/// What Settings shows about the inhibitor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InhibitState {
    /// The user's setting.
    pub enabled: bool,
    /// Copies run and the setting is on: the inhibitor should be held.
    pub wanted: bool,
    /// It is held now.
    pub held: bool,
    /// Why it could not be taken, when it could not.
    pub problem: Option<String>,
}

/// Whether the inhibitor should be held: copies run and the user did not turn it off.
pub fn wanted(live_copies: usize, enabled: bool) -> bool {
    enabled && live_copies > 0
}

/// The inhibitor's reason as logind lists it (`systemd-inhibit --list`).
pub fn why(live_copies: usize) -> String {
    if live_copies == 1 {
        "1 copy is running: sleep would stop copying trades".into()
    } else {
        format!("{live_copies} copies are running: sleep would stop copying trades")
    }
}

#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(target_os = "linux")]
mod linux {
    use super::*;

    /// Holds the inhibitor's file descriptor while wanted; dropping it releases the lock.
    #[derive(Debug)]
    pub struct Inhibitor {
        conn: Result<zbus::Connection, String>,
        fd: Option<zbus::wire::OwnedFd>,
        state: InhibitState,
    }

    impl Inhibitor {
        /// On the system bus (or the one `DBUS_SYSTEM_BUS_ADDRESS` names).
        pub async fn system() -> Inhibitor {
            let conn = zbus::Connection::system()
                .await
                .map_err(|e| format!("no system bus ({e})"));
            Self::with(conn)
        }

        /// On a given connection (tests: a private bus).
        pub fn on(conn: zbus::Connection) -> Inhibitor {
            Self::with(Ok(conn))
        }

        fn with(conn: Result<zbus::Connection, String>) -> Inhibitor {
            Inhibitor {
                conn,
                fd: None,
                state: InhibitState::default(),
            }
        }

        /// The connection, for the wake signal.
        pub fn connection(&self) -> Option<&zbus::Connection> {
            self.conn.as_ref().ok()
        }

        pub fn state(&self) -> InhibitState {
            self.state.clone()
        }

        /// Takes or releases the inhibitor for `live_copies` running copies and the user's
        /// setting. Returns a problem the user has not been told yet (the first failure
        /// after a success or after start).
        pub async fn update(&mut self, live_copies: usize, enabled: bool) -> Option<String> {
            let want = wanted(live_copies, enabled);
            self.state.enabled = enabled;
            self.state.wanted = want;
            if !want {
                if self.fd.take().is_some() {
                    tracing::info!("sleep inhibitor released");
                }
                self.state.held = false;
                self.state.problem = None;
                return None;
            }
            if self.fd.is_some() {
                return None;
            }
            let taken = match &self.conn {
                Ok(conn) => take(conn, &why(live_copies))
                    .await
                    .map_err(|e| format!("logind did not grant the sleep inhibitor ({e})")),
                Err(e) => Err(e.clone()),
            };
            match taken {
                Ok(fd) => {
                    tracing::info!("sleep inhibitor held");
                    self.fd = Some(fd);
                    self.state.held = true;
                    self.state.problem = None;
                    None
                }
                Err(problem) => {
                    let new = self.state.problem.as_deref() != Some(problem.as_str());
                    tracing::warn!(%problem, "no sleep inhibitor");
                    self.state.held = false;
                    self.state.problem = Some(problem.clone());
                    new.then_some(problem)
                }
            }
        }
    }

    /// `Inhibit("sleep", "CopyDesk", why, "block")`: the lock lives as long as the fd.
    pub async fn take(conn: &zbus::Connection, why: &str) -> zbus::Result<zbus::wire::OwnedFd> {
        let reply = conn
            .call_method(
                Some(LOGIND),
                LOGIND_PATH,
                Some(LOGIND_MANAGER),
                "Inhibit",
                &("sleep", "CopyDesk", why, MODE),
            )
            .await?;
        reply.body().deserialize::<zbus::wire::OwnedFd>()
    }

    /// The stream of logind's `PrepareForSleep` signals: `true` going to sleep, `false`
    /// on waking.
    pub async fn sleep_signals(
        conn: &zbus::Connection,
    ) -> zbus::Result<zbus::proxy::SignalStream<'static>> {
        let proxy =
            zbus::Proxy::new_owned(conn.clone(), LOGIND, LOGIND_PATH, LOGIND_MANAGER).await?;
        proxy.receive_signal("PrepareForSleep").await
    }

    /// The argument of a `PrepareForSleep` signal.
    pub fn going_to_sleep(m: &zbus::Message) -> Option<bool> {
        m.body().deserialize::<bool>().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inhibitor_is_wanted_only_while_copies_run_and_the_setting_is_on() {
        assert!(wanted(1, true));
        assert!(wanted(5, true));
        assert!(!wanted(0, true), "released when no copy runs");
        assert!(!wanted(3, false), "the user turned it off");
        assert_eq!(why(1), "1 copy is running: sleep would stop copying trades");
        assert_eq!(
            why(2),
            "2 copies are running: sleep would stop copying trades"
        );
    }
}
