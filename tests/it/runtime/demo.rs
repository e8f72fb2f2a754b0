//! `copydesk demo` copies a demo leader on its embedded simulator with no key: run as a
//! child process, its output must show a copied fill (the hang guard is generous; nothing
//! here times the copy).

use copydesk::runtime::NotifyKind;
use std::process::{Command, Stdio};

use super::support::Engine;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_shows_copies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copydesk"));
    cmd.arg("--data-dir")
        .arg(dir.path())
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut demo = Engine::spawn(cmd);
    demo.wait_kind(NotifyKind::Watching, None, Some("demo"), "demo start")
        .await;
    demo.wait_kind(NotifyKind::Fill, None, Some("demo"), "a copied fill")
        .await;
    demo.wait_line("figures demo: paper equity", "figures")
        .await;
    demo.interrupt();
    assert!(
        demo.output().contains("demo stopped"),
        "the demo stops cleanly on Ctrl-C:\n{}",
        demo.output()
    );
}
