//! Whether the desktop shows tray icons. Linux trays are StatusNotifier hosts that register
//! with `org.kde.StatusNotifierWatcher` on the session bus; without one (many desktops, and
//! Xvfb) a tray icon is simply not shown, so closing the window must not hide it there.
//! Asked once at start; the answer decides what closing the window does (`close.rs`).

/// The watcher's well-known name, object path and interface.
pub const WATCHER: &str = "org.kde.StatusNotifierWatcher";
const PATH: &str = "/StatusNotifierWatcher";

/// True when a StatusNotifier host is registered on `conn`'s bus. No watcher, no host, or
/// any D-Bus error is `false`: the safe answer (the window minimises instead of hiding).
#[cfg(target_os = "linux")]
pub async fn has_host(conn: &zbus::Connection) -> bool {
    let reply = conn
        .call_method(
            Some(WATCHER),
            PATH,
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &(WATCHER, "IsStatusNotifierHostRegistered"),
        )
        .await;
    match reply {
        Ok(m) => m
            .body()
            .deserialize::<zbus::OwnedVariant>()
            .ok()
            .and_then(|v| bool::try_from(v).ok())
            .unwrap_or(false),
        Err(e) => {
            tracing::info!(error = %e, "no StatusNotifier host on the session bus");
            false
        }
    }
}

/// Asks the session bus; `false` without one.
pub async fn detect() -> bool {
    #[cfg(target_os = "linux")]
    {
        match zbus::Connection::session().await {
            Ok(conn) => has_host(&conn).await,
            Err(e) => {
                tracing::info!(error = %e, "no session bus: no tray host");
                false
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        // macOS has a menu bar and Windows a notification area: always there.
        true
    }
}
