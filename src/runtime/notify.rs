//! Notifications out: fills (with delay and slippage versus the leader), skips with their
//! reason, stops, disconnects and errors. Each one is persisted in the notifications table
//! and sent on a broadcast channel that the desktop app and the CLI subscribe to.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::store::table::notifications::Level;
use crate::store::DataDir;

/// How loud a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    Info,
    Warning,
    Error,
}

/// One notification, as the app and the CLI receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Notification {
    /// Local time, milliseconds since the Unix epoch (a safe JavaScript integer).
    #[cfg_attr(test, ts(type = "number"))]
    pub ts_ms: i64,
    /// The copy it concerns, by name.
    pub copy: Option<String>,
    pub level: NotifyLevel,
    /// A short machine-readable kind: `fill`, `skip`, `stopped`, `paused`, `disconnected`,
    /// `error`, `started`, `reconciled`, or an engine notice kind.
    pub kind: String,
    pub message: String,
}

/// The shared database handle: one writer connection per process.
pub type SharedStore = Arc<Mutex<DataDir>>;

/// Sends notifications to subscribers and to the database.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: broadcast::Sender<Notification>,
    store: SharedStore,
}

impl Notifier {
    pub fn new(store: SharedStore) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx, store }
    }

    /// A new receiver; it sees notifications sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.tx.subscribe()
    }

    /// Records and broadcasts one notification.
    pub fn send(&self, copy_id: Option<i64>, n: Notification) {
        let level = match n.level {
            NotifyLevel::Info => Level::Info,
            NotifyLevel::Warning => Level::Warning,
            NotifyLevel::Error => Level::Error,
        };
        let kind: String = n.kind.chars().take(32).collect();
        let message: String = n.message.chars().take(2000).collect();
        let stored = self
            .store
            .lock()
            .map_err(|_| "the database lock is poisoned".to_owned())
            .and_then(|s| {
                s.store()
                    .notifications()
                    .push(n.ts_ms, copy_id, level, &kind, &message)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = stored {
            tracing::warn!(error = %e, "notification not stored");
        }
        tracing::info!(copy = ?n.copy, kind = %n.kind, "{}", n.message);
        // No subscriber is fine: the database keeps it.
        let _ = self.tx.send(n);
    }
}
