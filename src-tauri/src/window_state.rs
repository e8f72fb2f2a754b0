//! Remembers the main window's size and position between starts: `<data dir>/window.json`,
//! read when the window opens and written whenever it moves or resizes (a file of a few
//! bytes, replaced atomically; an unchanged geometry is not written again). A saved position that no monitor shows any
//! more (a display was unplugged) is ignored, so the window never opens off-screen.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tauri::{PhysicalPosition, PhysicalSize, Runtime, WebviewWindow, Window, WindowEvent};

const FILE: &str = "window.json";

/// The window's outer position and inner size in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    pub maximized: bool,
}

/// A monitor's area in physical pixels.
#[derive(Debug, Clone, Copy)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// The saved geometry; `None` when there is none. A file that cannot be read is reported in
/// the log and ignored: the window then opens at its default size, which loses nothing.
pub fn load(dir: &Path) -> Option<Geometry> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the saved window size");
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the saved window size is not readable; using the default");
            None
        }
    }
}

/// Writes the geometry (through a temporary file, so a crash never leaves half a file).
pub fn save(dir: &Path, g: &Geometry) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(g).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(tmp, dir.join(FILE))
}

/// Whether enough of the window's top edge (where the title bar is) lies on a monitor for
/// the user to grab it.
pub fn visible_on(g: &Geometry, monitors: &[Area]) -> bool {
    const GRIP: i64 = 64;
    let (left, top) = (i64::from(g.x), i64::from(g.y));
    let right = left + i64::from(g.width);
    monitors.iter().any(|m| {
        let (mx, my) = (i64::from(m.x), i64::from(m.y));
        let (mr, mb) = (mx + i64::from(m.width), my + i64::from(m.height));
        let overlap = right.min(mr) - left.max(mx);
        overlap >= GRIP && top >= my && top + GRIP <= mb
    })
}

/// Puts the window where it was last time, if that is still on a monitor.
pub fn restore<R: Runtime>(window: &WebviewWindow<R>, dir: &Path) {
    let Some(g) = load(dir) else { return };
    let monitors: Vec<Area> = window
        .available_monitors()
        .unwrap_or_default()
        .iter()
        .map(|m| Area {
            x: m.position().x,
            y: m.position().y,
            width: m.size().width,
            height: m.size().height,
        })
        .collect();
    if !visible_on(&g, &monitors) {
        tracing::info!(
            ?g,
            "the saved window position is on no monitor now; using the default"
        );
        return;
    }
    let result = window
        .set_size(PhysicalSize::new(g.width, g.height))
        .and_then(|()| window.set_position(PhysicalPosition::new(g.x, g.y)))
        .and_then(|()| {
            if g.maximized {
                window.maximize()
            } else {
                Ok(())
            }
        });
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot restore the window size");
    }
}

/// Follows the main window's geometry and writes it when it changes.
pub struct Tracker {
    dir: PathBuf,
    last: Mutex<Option<Geometry>>,
    written: Mutex<Option<Geometry>>,
}

impl Tracker {
    pub fn new(dir: PathBuf) -> Self {
        let written = load(&dir);
        Self {
            dir,
            last: Mutex::new(None),
            written: Mutex::new(written),
        }
    }

    /// For `Builder::on_window_event`: only the main window is tracked.
    pub fn on_event<R: Runtime>(&self, window: &Window<R>, event: &WindowEvent) {
        if window.label() != "main" {
            return;
        }
        match event {
            WindowEvent::Moved(_) | WindowEvent::Resized(_) => {
                if let Some(g) = geometry(window) {
                    *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(g);
                    // Written at once: the app may end without a close event (the tray's
                    // Quit, a logout), and the file is tiny.
                    self.flush();
                }
            }
            WindowEvent::CloseRequested { .. } | WindowEvent::Destroyed => self.flush(),
            _ => {}
        }
    }

    /// Writes the last geometry seen, unless it is already on disk.
    pub fn flush(&self) {
        let last = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        let Some(g) = last else { return };
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if *written == Some(g) {
            return;
        }
        match save(&self.dir, &g) {
            Ok(()) => *written = Some(g),
            Err(e) => tracing::warn!(error = %e, "cannot save the window size"),
        }
    }
}

fn geometry<R: Runtime>(window: &Window<R>) -> Option<Geometry> {
    let maximized = window.is_maximized().ok()?;
    if window.is_minimized().ok()? {
        return None;
    }
    let pos = window.outer_position().ok()?;
    let size = window.inner_size().ok()?;
    Some(Geometry {
        x: pos.x,
        y: pos.y,
        width: size.width,
        height: size.height,
        maximized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x: i32, y: i32, width: u32, height: u32) -> Geometry {
        Geometry {
            x,
            y,
            width,
            height,
            maximized: false,
        }
    }

    const SCREEN: Area = Area {
        x: 0,
        y: 0,
        width: 1920,
        height: 1080,
    };

    #[test]
    fn saved_geometry_reads_back() {
        let dir = std::env::temp_dir().join(format!("copydesk-window-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(load(&dir), None, "no file means no saved geometry");
        let saved = g(100, 50, 1000, 700);
        save(&dir, &saved).expect("the geometry is written");
        assert_eq!(load(&dir), Some(saved), "what was saved is what is read");
        std::fs::write(dir.join(FILE), "{not json").expect("write");
        assert_eq!(
            load(&dir),
            None,
            "an unreadable file is ignored, not a crash"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_window_on_a_monitor_is_restored() {
        assert!(
            visible_on(&g(100, 50, 1000, 700), &[SCREEN]),
            "fully on screen"
        );
        assert!(
            visible_on(&g(1800, 100, 1000, 700), &[SCREEN]),
            "partly off to the right, but the title bar can be grabbed"
        );
    }

    #[test]
    fn a_window_on_an_unplugged_monitor_is_not() {
        assert!(
            !visible_on(&g(2500, 100, 1000, 700), &[SCREEN]),
            "it was on a second monitor that is gone"
        );
        assert!(
            !visible_on(&g(100, -40, 1000, 700), &[SCREEN]),
            "its title bar would be above the screen"
        );
        assert!(
            !visible_on(&g(100, 50, 1000, 700), &[]),
            "no monitor at all"
        );
        let second = Area {
            x: 1920,
            y: 0,
            width: 1280,
            height: 1024,
        };
        assert!(
            visible_on(&g(2500, 100, 1000, 700), &[SCREEN, second]),
            "with the second monitor back, it is restored"
        );
    }
}
