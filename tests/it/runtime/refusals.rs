//! A bad configuration is refused before anything starts, naming the line or the field
//! and the fix; and the run leaves no secret in its output, logs or database.

use std::process::Command;

use super::support::{account_env, account_toml, sim, write_config};

fn run_once(
    data: &std::path::Path,
    config: &std::path::Path,
    env: &[(String, String)],
) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(data)
        .arg("run")
        .arg("--config")
        .arg(config)
        .envs(env.iter().cloned())
        .output()
        .expect("copydesk run runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configs_are_refused_before_anything_starts() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("10000").await;
    let me = sim.usdt("500").await;
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let accounts = format!(
        "{}{}",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let copy = "[[copies]]\nname = \"c\"\nleader = \"lead\"\nfollower = \"me\"\nmode = \"smart-sync\"\ninvestment = \"1000\"\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");

    let cases: [(String, &str, &str); 4] = [
        (
            format!(
                "{accounts}{}",
                copy.replace("investment = \"1000\"", "investment = 1000.5")
            ),
            "line 20",
            "a float amount names its line",
        ),
        (
            format!("{accounts}{copy}max_leverag = 5\n"),
            "max_leverag",
            "an unknown key is named",
        ),
        (
            format!(
                "{accounts}{}",
                copy.replace("mode = \"smart-sync\"", "mode = \"fixed-amount\"")
            ),
            "amount_per_order",
            "a mode without its amount names the missing field",
        ),
        (
            format!("{accounts}{copy}"),
            "investment",
            "an investment above the follower's free balance (500) is refused at setup",
        ),
    ];
    for (text, needle, what) in cases {
        let config = write_config(dir.path(), &text);
        let (ok, out) = run_once(&data, &config, &env);
        assert!(!ok, "{what}: the run must fail:\n{out}");
        assert!(
            out.contains(needle),
            "{what}: the message should contain `{needle}`:\n{out}"
        );
        assert!(
            !out.contains("running"),
            "{what}: nothing may start:\n{out}"
        );
    }
    let v = sim.admin_account(&me.account_id).await;
    assert_eq!(v["tradeCount"], 0, "the follower never traded: {v}");

    // Secrets named by the config reach neither output, logs nor the database.
    let needles = crate::secrets::leak::needles(&[&lead.secret, &me.secret]);
    let hits = crate::secrets::leak::scan_dirs(&[dir.path()], &needles);
    assert!(
        hits.is_empty(),
        "no secret may be written anywhere: {hits:?}"
    );
}
