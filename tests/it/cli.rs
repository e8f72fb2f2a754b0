//! The `copydesk` binary as a user runs it.

use std::process::Command;

fn copydesk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_copydesk"))
}

#[test]
fn version_and_help_describe_the_tool() {
    let out = copydesk().arg("--version").output().expect("runs");
    assert!(out.status.success(), "--version exits 0");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        format!("copydesk {}", env!("CARGO_PKG_VERSION"))
    );

    let out = copydesk().arg("--help").output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: copydesk"), "help shows usage: {text}");
}

#[test]
fn info_reports_the_chosen_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = copydesk()
        .args(["info", "--json", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(out.status.success(), "info exits 0: {out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["dataDir"], dir.path().display().to_string());
}
