//! Generates `ui/src/lib/generated/api.ts`, the TypeScript mirror of the DTOs that cross
//! IPC, so the UI's types are never written by hand. The test fails when the committed
//! file is stale; `UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings` rewrites it.

use ts_rs::TS;

use super::{ApiError, AppInfo, ErrorCode};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/generated/api.ts");

fn render() -> String {
    let cfg = ts_rs::Config::default();
    let decls = [
        ErrorCode::decl(&cfg),
        ApiError::decl(&cfg),
        AppInfo::decl(&cfg),
        crate::runtime::NotifyLevel::decl(&cfg),
        crate::runtime::NotifyKind::decl(&cfg),
        crate::engine::NoticeKind::decl(&cfg),
        crate::runtime::hold::HoldKind::decl(&cfg),
        crate::runtime::hold::Hold::decl(&cfg),
        super::AdoptedDto::decl(&cfg),
        super::LeftAloneDto::decl(&cfg),
        super::RepairDto::decl(&cfg),
        crate::runtime::Notification::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust DTOs in `copydesk::api` by `src/api/ts_bindings.rs`.\n\
         // Do not edit: run `UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings`.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn ts_bindings_are_up_to_date() {
    let expected = render();
    if std::env::var_os("UPDATE_TS_BINDINGS").is_some() {
        let path = std::path::Path::new(PATH);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, &expected).expect("write bindings");
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert_eq!(
        committed, expected,
        "ui/src/lib/generated/api.ts is stale: run UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings"
    );
}
