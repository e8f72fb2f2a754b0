//! Events out of the facade: the runtime's notifications as [`EventDto`]s. The kind is the
//! runtime's typed [`NotifyKind`] and the engine's reason its typed `NoticeKind`, so
//! nothing here reads prose.

use crate::runtime::{Notification, NotifyKind, NotifyLevel};
use crate::store::table::notifications::{Level, Notification as StoredNotification};

use super::dto::{EventDto, EventLevel};

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
        kind: n.kind,
        notice: n.notice,
        message: n.message.clone(),
        detail: n.detail.clone(),
    }
}

/// A stored notification's kind: the table keeps [`NotifyKind::as_str`]. A row written
/// before the kinds were typed (free text) reads as a notice; its message still says what
/// happened.
pub fn stored_kind(text: &str) -> NotifyKind {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).unwrap_or(NotifyKind::Notice)
}

/// One stored notification as an event; `copy` is the copy's name, looked up by the caller.
/// The table keeps no engine reason, so `notice` is `None`.
pub fn stored_event(n: &StoredNotification, copy: Option<String>) -> EventDto {
    EventDto {
        ts_ms: n.ts,
        copy,
        level: match n.level {
            Level::Info => EventLevel::Info,
            Level::Warning => EventLevel::Warning,
            Level::Error => EventLevel::Error,
        },
        kind: stored_kind(&n.kind),
        notice: None,
        message: n.message.clone(),
        detail: None,
    }
}

impl EventDto {
    /// The event's typed head as lines print it (`skip:below-minimum`).
    pub fn tag(&self) -> String {
        Notification::tag(self.kind, self.notice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NoticeKind;

    #[test]
    fn stored_kinds_read_back_typed_and_free_text_reads_as_a_notice() {
        for k in [
            NotifyKind::Fill,
            NotifyKind::Rejected,
            NotifyKind::Reconciled,
            NotifyKind::Watching,
        ] {
            assert_eq!(stored_kind(k.as_str()), k);
        }
        assert_eq!(stored_kind("set-leverage"), NotifyKind::Notice);
    }

    #[test]
    fn an_event_carries_the_typed_kind_and_notice() {
        let n = Notification {
            ts_ms: 1,
            copy: Some("c".into()),
            level: NotifyLevel::Info,
            kind: NotifyKind::Skip,
            notice: Some(NoticeKind::BelowMinimum),
            message: "m".into(),
            detail: None,
        };
        let e = event_of(&n);
        assert_eq!(e.tag(), "skip:below-minimum");
        let json = serde_json::to_value(&e).expect("serialises");
        assert_eq!(json["kind"], "skip");
        assert_eq!(json["notice"], "below-minimum");
    }
}
