//! Notifications out: fills (with delay and slippage versus the leader), skips with their
//! reason, stops, disconnects and errors. Each one is persisted in the notifications table
//! and sent on a broadcast channel that the desktop app and the CLI subscribe to.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::engine::NoticeKind;
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

/// What a notification is about, so the app and the tests branch on a type and never on
/// prose. Serialised snake_case; the `notifications` table stores the same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "EventKind"))]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    /// A copy's supervisor was spawned (its start plan runs next).
    Started,
    /// Start-up recovery and reconciliation are done; the copy follows the leader.
    Watching,
    /// A follower order filled (with delay and slippage versus the leader).
    Fill,
    /// A leader change was not copied; `notice` says why.
    Skip,
    /// The venue refused one of our orders.
    Rejected,
    /// The user paused the copy: opens skipped, closes mirrored.
    Paused,
    Resumed,
    /// The engine put the copy on a hold (opens skipped, closes mirrored) for a reason that
    /// clears itself.
    Held,
    /// A hold cleared.
    Released,
    Stopping,
    Stopped,
    Disconnected,
    Reconnected,
    /// A reconciliation ran and repaired drift.
    Reconciled,
    Unprotected,
    Protected,
    /// A funding payment on the copy's positions.
    Funding,
    /// The venue's request-weight budget made requests wait over a second.
    WeightWait,
    Error,
    /// An engine notice that is not a skip; `notice` says which.
    Notice,
    /// A leader's figures were read (or their read failed): the leader list has changed.
    /// Sent by the facade (`api::leaders`), not by a copy, and not stored.
    LeaderFigures,
}

impl NotifyKind {
    /// The stored and printed text.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Started => "started",
            NotifyKind::Watching => "watching",
            NotifyKind::Fill => "fill",
            NotifyKind::Skip => "skip",
            NotifyKind::Rejected => "rejected",
            NotifyKind::Paused => "paused",
            NotifyKind::Resumed => "resumed",
            NotifyKind::Held => "held",
            NotifyKind::Released => "released",
            NotifyKind::Stopping => "stopping",
            NotifyKind::Stopped => "stopped",
            NotifyKind::Disconnected => "disconnected",
            NotifyKind::Reconnected => "reconnected",
            NotifyKind::Reconciled => "reconciled",
            NotifyKind::Unprotected => "unprotected",
            NotifyKind::Protected => "protected",
            NotifyKind::Funding => "funding",
            NotifyKind::WeightWait => "weight_wait",
            NotifyKind::Error => "error",
            NotifyKind::Notice => "notice",
            NotifyKind::LeaderFigures => "leader_figures",
        }
    }

    /// The kind an engine notice is reported as: a leader change not copied is a skip;
    /// the rest are notices (the copy's own stop rules, doubts about a snapshot, …).
    pub fn of_notice(n: NoticeKind) -> NotifyKind {
        match n {
            NoticeKind::CopyPaused
            | NoticeKind::CopyStopped
            | NoticeKind::BeforeStart
            | NoticeKind::OutOfOrder
            | NoticeKind::TooOld
            | NoticeKind::Slippage
            | NoticeKind::QuoteNotAllowed
            | NoticeKind::SymbolFiltered
            | NoticeKind::HeldByOtherCopy
            | NoticeKind::MarginAssetMissing
            | NoticeKind::MultiAssetsWithIsolated
            | NoticeKind::PositionModeMismatch
            | NoticeKind::NoLeaderEquity
            | NoticeKind::BelowMinimum
            | NoticeKind::InsufficientFunds
            | NoticeKind::AmountAboveAccountValue
            | NoticeKind::PositionCapped
            | NoticeKind::NotCopied
            | NoticeKind::MarginSyncSkipped
            | NoticeKind::LostOpen
            | NoticeKind::MissingMarketData
            | NoticeKind::SetupFailed
            | NoticeKind::MissedInInterval => NotifyKind::Skip,
            NoticeKind::Pending
            | NoticeKind::MarginModeDeferred
            | NoticeKind::ClosedOutside
            | NoticeKind::DoubtfulSnapshot
            | NoticeKind::LeaderFlatUnconfirmed
            | NoticeKind::StopLoss
            | NoticeKind::TakeProfit
            | NoticeKind::KeyUnverified
            | NoticeKind::WrongMarginMode
            | NoticeKind::LeaderRateLimited
            | NoticeKind::LeaderGeoBlocked
            | NoticeKind::LeaderHidden
            | NoticeKind::LeaderFormatChanged
            | NoticeKind::LeaderReadFailed
            | NoticeKind::LeaderBaseline
            | NoticeKind::AlreadyReconciled => NotifyKind::Notice,
        }
    }
}

impl std::fmt::Display for NotifyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a copy stopped, for a [`NotifyKind::Stopped`] notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum StopCause {
    /// The copy's total stop loss was reached.
    StopLoss,
    /// The copy's take profit was reached.
    TakeProfit,
    /// The kill switch stopped every copy with close-all.
    Panic,
    /// The user stopped this copy.
    User,
}

impl StopCause {
    /// The cause a stop rule's notice names; `None` for the other notices.
    pub fn of_notice(n: NoticeKind) -> Option<StopCause> {
        match n {
            NoticeKind::StopLoss => Some(StopCause::StopLoss),
            NoticeKind::TakeProfit => Some(StopCause::TakeProfit),
            _ => None,
        }
    }
}

/// The typed facts of a notification that a shell groups or words itself (desktop
/// notifications); the message says the same in prose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "EventDetail"))]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum NotifyDetail {
    /// A follower fill: `qty` of `symbol` bought or sold at `price` (decimals as strings).
    #[serde(rename_all = "camelCase")]
    Fill {
        symbol: String,
        #[cfg_attr(test, ts(type = "\"buy\" | \"sell\""))]
        side: crate::domain::Side,
        #[serde(with = "crate::domain::decimal")]
        #[cfg_attr(test, ts(type = "string"))]
        qty: rust_decimal::Decimal,
        #[serde(with = "crate::domain::decimal")]
        #[cfg_attr(test, ts(type = "string"))]
        price: rust_decimal::Decimal,
    },
    /// The copy stopped, and why.
    Stop { cause: StopCause },
    /// The engine put the copy on a hold of this kind.
    Hold { kind: super::hold::HoldKind },
    /// The venue refused a key of the copy (bad, revoked or lacking a permission): sent with
    /// the `stopped` of a copy that stopped for it.
    KeyProblem,
    /// Which stream a `disconnected` or `reconnected` notification is about.
    Stream { stream: StreamRole },
}

/// A copy's two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum StreamRole {
    Leader,
    Follower,
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
    pub kind: NotifyKind,
    /// The engine's reason, for a [`NotifyKind::Skip`] or [`NotifyKind::Notice`].
    pub notice: Option<NoticeKind>,
    pub message: String,
    /// Typed facts for a fill or a stop; `None` for the rest.
    #[cfg_attr(test, ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<NotifyDetail>,
}

impl Notification {
    /// The typed head of a notification as lines print it: the kind, and the engine's
    /// notice after a colon when there is one (`skip:below-minimum`).
    pub fn tag(kind: NotifyKind, notice: Option<NoticeKind>) -> String {
        match notice {
            Some(n) => format!("{}:{}", kind.as_str(), notice_text(n)),
            None => kind.as_str().to_owned(),
        }
    }
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
        let stored = self
            .store
            .lock()
            .map_err(|_| "the database lock is poisoned".to_owned())
            .and_then(|mut s| {
                // Committed without an `fsync`; the engine's writer makes it durable with
                // the next batch (`runtime::writer`).
                s.store_mut()
                    .relaxed(|s| store_row(s, copy_id, &n))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = stored {
            tracing::warn!(error = %e, "notification not stored");
        }
        self.announce(n);
    }

    /// Logs and broadcasts a notification whose row is written elsewhere (with a copy's
    /// other writes of its turn, `CopyRunner::keep_notification`), after that write.
    pub(crate) fn announce(&self, n: Notification) {
        match n.level {
            NotifyLevel::Error => tracing::error!(copy = ?n.copy, kind = %n.kind, "{}", n.message),
            NotifyLevel::Warning => tracing::warn!(copy = ?n.copy, kind = %n.kind, "{}", n.message),
            NotifyLevel::Info => tracing::info!(copy = ?n.copy, kind = %n.kind, "{}", n.message),
        }
        // No subscriber is fine: the database keeps it.
        let _ = self.tx.send(n);
    }
}

/// Writes a notification's row (its message cut to the column's 2,000 characters).
pub(crate) fn store_row(
    s: &crate::store::Store,
    copy_id: Option<i64>,
    n: &Notification,
) -> Result<(), crate::store::StoreError> {
    let level = match n.level {
        NotifyLevel::Info => Level::Info,
        NotifyLevel::Warning => Level::Warning,
        NotifyLevel::Error => Level::Error,
    };
    let message: String = n.message.chars().take(2000).collect();
    s.notifications()
        .push(n.ts_ms, copy_id, level, n.kind.as_str(), &message)
        .map(|_| ())
}

/// An engine notice's kebab-case text (`below-minimum`), as the engine serialises it.
pub fn notice_text(k: NoticeKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{k:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [NotifyKind; 19] = [
        NotifyKind::Started,
        NotifyKind::Watching,
        NotifyKind::Fill,
        NotifyKind::Skip,
        NotifyKind::Rejected,
        NotifyKind::Paused,
        NotifyKind::Resumed,
        NotifyKind::Held,
        NotifyKind::Released,
        NotifyKind::Stopping,
        NotifyKind::Stopped,
        NotifyKind::Disconnected,
        NotifyKind::Reconnected,
        NotifyKind::Reconciled,
        NotifyKind::Unprotected,
        NotifyKind::Protected,
        NotifyKind::Funding,
        NotifyKind::Error,
        NotifyKind::Notice,
    ];

    #[test]
    fn the_stored_text_is_the_serialised_kind() {
        for k in ALL {
            assert_eq!(
                serde_json::to_value(k).expect("serialises"),
                serde_json::Value::String(k.as_str().to_owned()),
                "the notifications table and the UI must see the same text for {k:?}"
            );
        }
    }

    #[test]
    fn a_skip_line_carries_the_engines_reason() {
        assert_eq!(
            Notification::tag(NotifyKind::Skip, Some(NoticeKind::BelowMinimum)),
            "skip:below-minimum"
        );
        assert_eq!(Notification::tag(NotifyKind::Fill, None), "fill");
        assert_eq!(
            NotifyKind::of_notice(NoticeKind::CopyPaused),
            NotifyKind::Skip,
            "an open skipped while paused is a skip"
        );
        assert_eq!(
            NotifyKind::of_notice(NoticeKind::StopLoss),
            NotifyKind::Notice
        );
    }
}
