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

#[test]
fn logs_go_to_a_file_in_the_data_dir_at_the_rust_log_level() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = copydesk()
        .args(["info", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "debug")
        .output()
        .expect("runs");
    assert!(out.status.success(), "info exits 0: {out:?}");
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("logs"))
        .expect("a logs directory is created in the data dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(logs.len(), 1, "one log file: {logs:?}");
    let text = std::fs::read_to_string(logs[0].path()).expect("log file readable");
    assert!(
        text.contains("info requested"),
        "RUST_LOG=debug lets the debug line into the file: {text:?}"
    );

    let quiet = tempfile::tempdir().expect("tempdir");
    copydesk()
        .args(["info", "--data-dir"])
        .arg(quiet.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    let file = std::fs::read_dir(quiet.path().join("logs"))
        .expect("logs dir")
        .filter_map(Result::ok)
        .next()
        .expect("log file");
    let text = std::fs::read_to_string(file.path()).expect("readable");
    assert!(
        !text.contains("info requested"),
        "RUST_LOG=warn keeps debug lines out: {text:?}"
    );
}
