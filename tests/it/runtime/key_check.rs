//! The full key check runs at every start: a key that can withdraw is refused, a follower
//! key that cannot trade futures is refused before anything starts, and where the venue
//! cannot show a key's flags (no wallet API, as on the demo environment) a test order
//! proves trading and the rest is announced as "cannot verify", never as passed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use reqwest::Method;
use serde_json::{json, Value};

use super::support::{account_env, account_toml, sim, write_config, Engine, Sim};

const COPY: &str = "[[copies]]\nname = \"k\"\nleader = \"lead\"\nfollower = \"me\"\n\
                    mode = \"smart-sync\"\ninvestment = \"1000\"\n";

/// Runs `copydesk run` once and expects it to refuse to start (exit non-zero within
/// 60 s); returns its output.
fn run_refused(
    data: &std::path::Path,
    config: &std::path::Path,
    env: &[(String, String)],
) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copydesk"));
    cmd.arg("--data-dir")
        .arg(data)
        .arg("run")
        .arg("--config")
        .arg(config)
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut engine = Engine::spawn(cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = engine.child.try_wait() {
            // Let the readers take the last lines.
            std::thread::sleep(Duration::from_millis(200));
            let out = engine.output();
            assert!(!status.success(), "the run must be refused:\n{out}");
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "the run should be refused before anything starts:\n{}",
            engine.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn setup(
    sim: &Sim,
    follower: Value,
) -> (tempfile::TempDir, std::path::PathBuf, Vec<(String, String)>) {
    let base = sim.base();
    let lead = sim.usdt("10000").await;
    let me = sim.account(follower).await;
    sim.price("BTCUSDT", "50000").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "{}{}{COPY}",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let config = write_config(dir.path(), &text);
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    (dir, config, env)
}

/// Makes the simulator answer the wallet API as a host without it (the demo environment).
async fn no_wallet_api(sim: &Sim) {
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(
            json!({"rejectNext": {"count": 1000, "code": -5000, "status": 404,
            "msg": "Path /sapi/v1/account/apiRestrictions, Method GET is invalid",
            "path": "/sapi/v1/account/apiRestrictions"}}),
        ),
    )
    .await
    .ok("no wallet API");
}

async fn test_orders(sim: &Sim) -> u64 {
    let v = sim
        .admin(Method::GET, "/admin/v1/requests", None)
        .await
        .ok("requests");
    v["requests"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["path"] == "/fapi/v1/order/test")
        .map(|r| r["count"].as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_key_that_can_withdraw_is_refused_at_start() {
    let sim = sim().await;
    let (dir, config, env) = setup(
        &sim,
        json!({"balances": {"USDT": "10000"}, "permissions": {"withdrawals": true}}),
    )
    .await;
    let out = run_refused(&dir.path().join("data"), &config, &env);
    assert!(
        out.contains("`me`") && out.contains("withdraw"),
        "the refusal names the account and the withdrawal permission:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_key_without_futures_is_refused_for_that_reason() {
    let sim = sim().await;
    let (dir, config, env) = setup(
        &sim,
        json!({"balances": {"USDT": "10000"}, "permissions": {"futures": false}}),
    )
    .await;
    let out = run_refused(&dir.path().join("data"), &config, &env);
    assert!(
        out.contains("`me`")
            && out.contains("cannot trade futures")
            && out.contains("Enable Futures"),
        "the refusal says the follower key cannot trade futures and how to fix it:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_wallet_api_a_refused_test_order_refuses_the_key() {
    let sim = sim().await;
    // A key that reads futures but may not trade them, on a host without a wallet API.
    let (dir, config, env) = setup(
        &sim,
        json!({"balances": {"USDT": "10000"}, "permissions": {"trading": false}}),
    )
    .await;
    no_wallet_api(&sim).await;
    let out = run_refused(&dir.path().join("data"), &config, &env);
    assert!(
        out.contains("`me`") && out.contains("test order was refused"),
        "the refusal says the test order was refused:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_wallet_api_a_test_order_proves_trading_and_the_rest_cannot_be_verified() {
    let sim = sim().await;
    let (dir, config, env) = setup(&sim, json!({"balances": {"USDT": "10000"}})).await;
    no_wallet_api(&sim).await;
    let mut engine = Engine::start(&dir.path().join("data"), &config, &env, &[]);
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::KeyUnverified),
            Some("k"),
            "the start says what it cannot verify",
        )
        .await;
    engine
        .wait_kind(NotifyKind::Watching, None, None, "the copy starts")
        .await;
    let out = engine.output();
    assert!(
        out.contains("cannot verify") && out.contains("test order") && out.contains("withdrawals"),
        "trading is proven by a test order, withdrawals are shown as not verifiable:\n{out}"
    );
    assert!(
        test_orders(&sim).await >= 1,
        "a test order was sent to prove trading"
    );
    engine.interrupt();
}
