//! The desktop shell's own settings, kept in `<data dir>/desktop.json`: which optional
//! desktop notification kinds are on, whether the app holds a sleep inhibitor while copies
//! run, and whether the "CopyDesk keeps copying in the tray" note was shown. Safety kinds
//! (`notify_plan::Category::safety`) are always on: a request to turn one off is refused
//! here, naming the field. A file that cannot be read is an error (the Settings screen
//! shows it); the notifier then keeps every kind on, which loses nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use copydesk::api::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

use crate::notify_plan::{Category, Wanted};

const FILE: &str = "desktop.json";

/// What is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prefs {
    /// Optional kinds turned off (absent means on).
    #[serde(default)]
    pub notifications_off: Vec<Category>,
    /// Hold a sleep inhibitor while copies run.
    #[serde(default = "yes")]
    pub inhibit_sleep: bool,
    /// The note "closing keeps copying in the tray" was shown once.
    #[serde(default)]
    pub tray_note_shown: bool,
}

fn yes() -> bool {
    true
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            notifications_off: Vec::new(),
            inhibit_sleep: true,
            tray_note_shown: false,
        }
    }
}

impl Wanted for Prefs {
    fn wants(&self, c: Category) -> bool {
        c.safety() || !self.notifications_off.contains(&c)
    }
}

/// One notification kind as Settings lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationKindDto {
    pub kind: Category,
    pub label: &'static str,
    pub enabled: bool,
    /// Always on: the switch is shown checked and disabled, with why.
    pub safety: bool,
}

/// The desktop settings as the Settings screen shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesktopSettingsDto {
    pub notifications: Vec<NotificationKindDto>,
    pub inhibit_sleep: bool,
}

/// A change from the Settings screen: one kind on or off, or the inhibitor on or off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DesktopSettingsChange {
    #[serde(default)]
    pub notifications: BTreeMap<Category, bool>,
    #[serde(default)]
    pub inhibit_sleep: Option<bool>,
}

impl Prefs {
    pub fn dto(&self) -> DesktopSettingsDto {
        DesktopSettingsDto {
            notifications: Category::ALL
                .iter()
                .map(|c| NotificationKindDto {
                    kind: *c,
                    label: c.label(),
                    enabled: self.wants(*c),
                    safety: c.safety(),
                })
                .collect(),
            inhibit_sleep: self.inhibit_sleep,
        }
    }

    /// Applies a change; a safety kind turned off is refused, naming the field.
    pub fn apply(&self, change: &DesktopSettingsChange) -> Result<Prefs, ApiError> {
        let mut next = self.clone();
        for (c, on) in &change.notifications {
            if c.safety() {
                if !on {
                    let kind = serde_json::to_value(c)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    return Err(ApiError::field(
                        format!("notifications.{kind}"),
                        format!(
                            "{} notifications cannot be turned off: they say that money is at risk \
                             or that copying stopped. Turn off the optional kinds instead.",
                            c.label()
                        ),
                    ));
                }
                continue;
            }
            next.notifications_off.retain(|x| x != c);
            if !on {
                next.notifications_off.push(*c);
            }
        }
        next.notifications_off.sort();
        if let Some(on) = change.inhibit_sleep {
            next.inhibit_sleep = on;
        }
        Ok(next)
    }
}

/// The settings file of a data directory, loaded once and written on each change.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    current: Mutex<Result<Prefs, ApiError>>,
}

impl Store {
    /// Reads `<dir>/desktop.json`; a missing file is the defaults.
    pub fn open(dir: &Path) -> Store {
        let path = dir.join(FILE);
        let current = load(&path);
        if let Err(e) = &current {
            tracing::error!(error = %e.message, "desktop settings not readable");
        }
        Store {
            path,
            current: Mutex::new(current),
        }
    }

    /// The settings, or why they cannot be read.
    pub fn get(&self) -> Result<Prefs, ApiError> {
        self.current
            .lock()
            .map_err(|_| ApiError::internal("the desktop settings lock is poisoned"))?
            .clone()
    }

    /// What the notifier and the inhibitor act on: the stored settings, or the safe
    /// defaults (every kind on, inhibitor on) while the file cannot be read.
    pub fn effective(&self) -> Prefs {
        self.get().unwrap_or_default()
    }

    /// Applies and stores a change; the stored file stays as it was on a refusal.
    pub fn change(&self, change: &DesktopSettingsChange) -> Result<Prefs, ApiError> {
        let mut guard = self
            .current
            .lock()
            .map_err(|_| ApiError::internal("the desktop settings lock is poisoned"))?;
        let base = guard.clone()?;
        let next = base.apply(change)?;
        save(&self.path, &next)?;
        *guard = Ok(next.clone());
        Ok(next)
    }

    /// Records that the tray note was shown; true when this is the first time.
    pub fn first_tray_note(&self) -> bool {
        let Ok(mut guard) = self.current.lock() else {
            return false;
        };
        match guard.as_mut() {
            Ok(p) if !p.tray_note_shown => {
                p.tray_note_shown = true;
                if let Err(e) = save(&self.path, p) {
                    tracing::warn!(error = %e.message, "the tray note flag was not stored");
                }
                true
            }
            _ => false,
        }
    }
}

fn load(path: &Path) -> Result<Prefs, ApiError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Prefs::default()),
        Err(e) => {
            return Err(ApiError::new(
                ErrorCode::Storage,
                format!("cannot read the desktop settings {}: {e}", path.display()),
            ))
        }
    };
    serde_json::from_str(&text).map_err(|e| {
        ApiError::new(
            ErrorCode::Storage,
            format!(
                "the desktop settings {} are not readable ({e}); every notification stays on \
                 until you fix or delete the file",
                path.display()
            ),
        )
    })
}

fn save(path: &Path, p: &Prefs) -> Result<(), ApiError> {
    let storage = |e: std::io::Error| {
        ApiError::new(
            ErrorCode::Storage,
            format!("cannot write the desktop settings {}: {e}", path.display()),
        )
    };
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(p).map_err(|e| ApiError::internal(e.to_string()))?;
    std::fs::write(&tmp, text).map_err(storage)?;
    std::fs::rename(&tmp, path).map_err(storage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: Category, on: bool) -> DesktopSettingsChange {
        DesktopSettingsChange {
            notifications: [(kind, on)].into_iter().collect(),
            inhibit_sleep: None,
        }
    }

    #[test]
    fn a_safety_kind_cannot_be_turned_off_and_the_refusal_names_the_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path());
        for c in Category::ALL.into_iter().filter(|c| c.safety()) {
            let err = store.change(&change(c, false)).expect_err("refused");
            assert_eq!(err.code, ErrorCode::InvalidInput, "{err:?}");
            let field = err.field.clone().expect("a field");
            assert!(field.starts_with("notifications."), "{field}");
            assert!(
                err.message.contains("cannot be turned off"),
                "{}",
                err.message
            );
        }
        assert_eq!(
            err_field(&store, Category::RateLimit),
            "notifications.rate-limit"
        );
        assert!(
            !dir.path().join(FILE).exists(),
            "a refused change writes nothing"
        );
    }

    fn err_field(store: &Store, c: Category) -> String {
        store
            .change(&change(c, false))
            .expect_err("refused")
            .field
            .expect("field")
    }

    #[test]
    fn optional_kinds_and_the_inhibitor_persist_across_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path());
        assert!(store.get().expect("defaults").wants(Category::Fills));
        store
            .change(&DesktopSettingsChange {
                notifications: [(Category::Fills, false), (Category::Stops, true)]
                    .into_iter()
                    .collect(),
                inhibit_sleep: Some(false),
            })
            .expect("accepted");
        let again = Store::open(dir.path()).get().expect("readable");
        assert!(!again.wants(Category::Fills), "fills stay off");
        assert!(again.wants(Category::Skips));
        assert!(again.wants(Category::Stops));
        assert!(!again.inhibit_sleep);
        let dto = again.dto();
        let fills = dto
            .notifications
            .iter()
            .find(|n| n.kind == Category::Fills)
            .expect("listed");
        assert!(!fills.enabled && !fills.safety);
        let json = serde_json::to_value(&dto).expect("json");
        assert_eq!(json["notifications"][0]["kind"], "fills", "{json}");
        assert_eq!(json["inhibitSleep"], false);
    }

    #[test]
    fn an_unreadable_file_is_an_error_and_the_notifier_keeps_every_kind_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE), "{ not json").expect("write");
        let store = Store::open(dir.path());
        let err = store.get().expect_err("not readable");
        assert_eq!(err.code, ErrorCode::Storage);
        assert!(err.message.contains("desktop.json"), "{}", err.message);
        assert!(store.change(&change(Category::Fills, false)).is_err());
        let eff = store.effective();
        assert!(Category::ALL.iter().all(|c| eff.wants(*c)));
        assert!(eff.inhibit_sleep);
    }

    #[test]
    fn the_tray_note_is_shown_once_across_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Store::open(dir.path()).first_tray_note());
        let store = Store::open(dir.path());
        assert!(!store.first_tray_note(), "not again after a restart");
    }
}
