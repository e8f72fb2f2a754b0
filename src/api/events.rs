//! Events out of the facade: the runtime's notifications mapped to typed [`EventDto`]s.
//! [`event_of`] is the one place that maps a notification's kind, so when the runtime's
//! kind becomes a typed enum only this function changes.

use crate::runtime::{Notification, NotifyLevel};
use crate::store::table::notifications::{Level, Notification as StoredNotification};

use super::dto::{EventDto, EventKind, EventLevel};

/// A notification's kind as a typed [`EventKind`]; kinds without one of their own are
/// notices.
pub fn kind_of(kind: &str) -> EventKind {
    match kind {
        "started" => EventKind::Started,
        "watching" => EventKind::Watching,
        "fill" => EventKind::Fill,
        "skip" => EventKind::Skip,
        "paused" => EventKind::Paused,
        "resumed" => EventKind::Resumed,
        "held" => EventKind::Held,
        "released" => EventKind::Released,
        "stopping" => EventKind::Stopping,
        "stopped" => EventKind::Stopped,
        "disconnected" => EventKind::Disconnected,
        "reconnected" => EventKind::Reconnected,
        "reconciled" => EventKind::Reconciled,
        "unprotected" => EventKind::Unprotected,
        "protected" => EventKind::Protected,
        "funding" => EventKind::Funding,
        "error" | "rejected" => EventKind::Error,
        _ => EventKind::Notice,
    }
}

fn level_of(l: NotifyLevel) -> EventLevel {
    match l {
        NotifyLevel::Info => EventLevel::Info,
        NotifyLevel::Warning => EventLevel::Warning,
        NotifyLevel::Error => EventLevel::Error,
    }
}

/// One runtime notification as an event.
pub fn event_of(n: &Notification) -> EventDto {
    EventDto {
        ts_ms: n.ts_ms,
        copy: n.copy.clone(),
        level: level_of(n.level),
        kind: kind_of(&n.kind),
        notice: notice_of(&n.kind),
        message: n.message.clone(),
    }
}

/// The raw kind of a notice, kept beside the typed kind.
fn notice_of(kind: &str) -> Option<String> {
    (kind_of(kind) == EventKind::Notice).then(|| kind.to_owned())
}

/// One stored notification as an event; `copy` is the copy's name, looked up by the caller.
pub fn stored_event(n: &StoredNotification, copy: Option<String>) -> EventDto {
    EventDto {
        ts_ms: n.ts,
        copy,
        level: match n.level {
            Level::Info => EventLevel::Info,
            Level::Warning => EventLevel::Warning,
            Level::Error => EventLevel::Error,
        },
        kind: kind_of(&n.kind),
        notice: notice_of(&n.kind),
        message: n.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_their_enum_and_unknown_ones_to_notice() {
        assert_eq!(kind_of("fill"), EventKind::Fill);
        assert_eq!(kind_of("reconciled"), EventKind::Reconciled);
        assert_eq!(kind_of("rejected"), EventKind::Error);
        assert_eq!(kind_of("set-leverage"), EventKind::Notice);
        let json = serde_json::to_value(EventKind::Watching).expect("serialises");
        assert_eq!(json, "watching");
    }
}
