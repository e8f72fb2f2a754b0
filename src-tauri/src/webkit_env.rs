//! WebKitGTK's process-wide rendering choice, made before GTK starts: CopyDesk renders its
//! web view without accelerated compositing unless the user chose otherwise, and then also
//! keeps GTK and WebKit's UI side from opening a GL display they would not use, so the
//! app process does not load the GL driver (docs/desktop.md, "WebKit rendering"). The
//! decision is a pure function (unit tested); [`apply`] sets the variables once, at the top
//! of `run`, while the process has one thread. A variable the user set is never changed.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// WebKitGTK's variable: set (and not `0`), the web process renders without accelerated
/// compositing.
pub const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
/// CopyDesk's opt-out: `1` keeps WebKit's own default (GPU compositing on).
pub const KEEP_COMPOSITING: &str = "COPYDESK_WEBKIT_COMPOSITING";
/// WebKitGTK: not `0`, composited frames are not passed as DMA-BUFs (there are none
/// without compositing); saves the UI process the GL display it opens to check for them.
pub const DISABLE_DMABUF: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
/// WebKitGTK: the DRM render node handed to the web process; set, the UI process does not
/// open a GL display to ask the driver for it.
pub const RENDER_DEVICE: &str = "WEBKIT_WEB_RENDER_DEVICE_FILE";
/// GTK 3's GL switches: `disable`, GTK does not query GLX when it opens the display.
pub const GDK_GL: &str = "GDK_GL";

/// The render node named when the machine has none (no GPU, e.g. a virtual display): the
/// usual first node. Without compositing and the DMA-BUF renderer, the web process never
/// opens it.
pub const DEFAULT_RENDER_NODE: &str = "/dev/dri/renderD128";

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

/// What [`decide`] found and which variables the app sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub rendering: Rendering,
    /// Variables to set (name, value); none the user already set.
    pub set: Vec<(&'static str, OsString)>,
}

/// Decides from the environment as found (`env` reads one variable) and the machine's DRM
/// render nodes (`render_node`: the first one, if any).
pub fn decide(env: impl Fn(&str) -> Option<OsString>, render_node: Option<OsString>) -> Plan {
    let user_setting = env(DISABLE_COMPOSITING);
    let rendering = if user_setting.is_some() {
        Rendering::UserChoice
    } else if env(KEEP_COMPOSITING).as_deref() == Some(OsStr::new("1")) {
        Rendering::CompositingKept
    } else {
        Rendering::NoCompositingByDefault
    };
    // WebKit's own reading of its variable: set and not "0" disables compositing.
    let compositing_off = match (rendering, user_setting.as_deref()) {
        (Rendering::NoCompositingByDefault, _) => true,
        (Rendering::UserChoice, Some(v)) => v != OsStr::new("0"),
        _ => false,
    };
    let mut set = Vec::new();
    if rendering == Rendering::NoCompositingByDefault {
        set.push((DISABLE_COMPOSITING, OsString::from("1")));
    }
    if compositing_off {
        let lean = [
            (DISABLE_DMABUF, OsString::from("1")),
            (GDK_GL, OsString::from("disable")),
            (
                RENDER_DEVICE,
                render_node.unwrap_or_else(|| OsString::from(DEFAULT_RENDER_NODE)),
            ),
        ];
        set.extend(lean.into_iter().filter(|(name, _)| env(name).is_none()));
    }
    Plan { rendering, set }
}

/// The first DRM render node under `dir` (`renderD128`, `renderD129`…), if any.
pub fn first_render_node(dir: &Path) -> Option<OsString> {
    let mut nodes: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("renderD"))
        })
        .collect();
    nodes.sort();
    nodes.into_iter().next().map(|p| p.into_os_string())
}

/// Reads the environment, sets what [`decide`] says, and returns the plan. Call before any
/// thread starts (the first line of `run`): setting a variable while another thread may
/// read the environment is unsound on Unix.
pub fn apply() -> Plan {
    let plan = decide(
        |name| std::env::var_os(name),
        first_render_node(Path::new("/dev/dri")),
    );
    for (name, value) in &plan.set {
        std::env::set_var(name, value);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn names(plan: &Plan) -> Vec<&'static str> {
        plan.set.iter().map(|(n, _)| *n).collect()
    }

    fn value<'a>(plan: &'a Plan, name: &str) -> Option<&'a OsStr> {
        plan.set
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_os_str())
    }

    #[test]
    fn by_default_no_compositing_and_no_gl_display_in_the_app() {
        let plan = decide(env(&[]), None);
        assert_eq!(plan.rendering, Rendering::NoCompositingByDefault);
        assert_eq!(
            names(&plan),
            [DISABLE_COMPOSITING, DISABLE_DMABUF, GDK_GL, RENDER_DEVICE]
        );
        assert_eq!(value(&plan, DISABLE_COMPOSITING), Some(OsStr::new("1")));
        assert_eq!(value(&plan, DISABLE_DMABUF), Some(OsStr::new("1")));
        assert_eq!(value(&plan, GDK_GL), Some(OsStr::new("disable")));
        assert_eq!(
            value(&plan, RENDER_DEVICE),
            Some(OsStr::new(DEFAULT_RENDER_NODE))
        );
        // "0" is not the opt-out's value: still the default.
        let plan = decide(env(&[(KEEP_COMPOSITING, "0")]), None);
        assert_eq!(plan.rendering, Rendering::NoCompositingByDefault);
    }

    #[test]
    fn the_machines_render_node_is_named_when_there_is_one() {
        let plan = decide(env(&[]), Some(OsString::from("/dev/dri/renderD129")));
        assert_eq!(
            value(&plan, RENDER_DEVICE),
            Some(OsStr::new("/dev/dri/renderD129"))
        );
    }

    #[test]
    fn a_variable_the_user_set_is_left_as_it_is() {
        let plan = decide(env(&[(GDK_GL, "gles"), (DISABLE_DMABUF, "0")]), None);
        assert_eq!(names(&plan), [DISABLE_COMPOSITING, RENDER_DEVICE]);
        let plan = decide(env(&[(RENDER_DEVICE, "/dev/dri/renderD130")]), None);
        assert_eq!(names(&plan), [DISABLE_COMPOSITING, DISABLE_DMABUF, GDK_GL]);
    }

    #[test]
    fn the_users_webkit_setting_wins() {
        // Their own "compositing off": the app adds only the GL-display savings.
        let plan = decide(env(&[(DISABLE_COMPOSITING, "1")]), None);
        assert_eq!(plan.rendering, Rendering::UserChoice);
        assert_eq!(names(&plan), [DISABLE_DMABUF, GDK_GL, RENDER_DEVICE]);
        // Their "0" (compositing on), even with the opt-out: nothing is set.
        let plan = decide(
            env(&[(DISABLE_COMPOSITING, "0"), (KEEP_COMPOSITING, "1")]),
            None,
        );
        assert_eq!(plan.rendering, Rendering::UserChoice);
        assert!(plan.set.is_empty());
    }

    #[test]
    fn the_opt_out_keeps_webkits_default() {
        let plan = decide(env(&[(KEEP_COMPOSITING, "1")]), None);
        assert_eq!(plan.rendering, Rendering::CompositingKept);
        assert!(plan.set.is_empty());
    }

    #[test]
    fn render_nodes_are_found_in_order() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(first_render_node(dir.path()), None);
        for name in ["card0", "renderD129", "renderD128"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            first_render_node(dir.path()),
            Some(dir.path().join("renderD128").into_os_string())
        );
        assert_eq!(first_render_node(&dir.path().join("missing")), None);
    }
}
