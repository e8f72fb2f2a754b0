//! Funding on the copy's positions: the simulator's funding payment on the follower's
//! copied position is collected for the copy and shown in its figures.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{
    account_env, account_toml, amount, dec as jdec, eventually, sim, write_config, Engine,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funding_on_the_copied_position_counts_in_the_copy_figures() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("10000").await;
    let me = sim.usdt("10000").await;
    sim.price("BTCUSDT", "50000").await;
    lead.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "5")],
    )
    .await
    .ok("leader leverage");
    let text = format!(
        "{}{}[[copies]]\nname = \"funded\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let data = dir.path().join("data");
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine.wait_line("is watching", "start").await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    eventually("the follower holds 0.010", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.010))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    // A positive rate: the long pays. Past the next funding time the simulator charges it.
    sim.admin(
        reqwest::Method::POST,
        "/admin/v1/prices",
        Some(json!({"symbol": "BTCUSDT", "price": "50000", "fundingRate": "0.0001"})),
    )
    .await
    .ok("funding rate set");
    sim.advance(8 * 3_600_000 + 1_000).await;
    let income = me
        .get("/fapi/v1/income", &[("incomeType", "FUNDING_FEE")])
        .await
        .ok("the follower's funding records");
    let records = income.as_array().cloned().unwrap_or_default();
    assert_eq!(
        records.len(),
        1,
        "the simulator charges the follower one funding payment: {income}"
    );
    let expected: Decimal = jdec(&records[0]["income"]);
    assert!(
        expected < Decimal::ZERO,
        "a long pays funding at a positive rate: {income}"
    );
    engine
        .wait_line("funding on BTCUSDT", "the copy collects its funding")
        .await;
    eventually("status shows the copy's funding", || async {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
            .arg("--data-dir")
            .arg(&data)
            .args(["status", "--json"])
            .output()
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        let got = v["copies"][0]["funding"]
            .as_str()
            .unwrap_or("none")
            .to_owned();
        let want = expected.normalize().to_string();
        (got == want).then_some(()).ok_or(format!(
            "status funding {got}, simulator charged {want}: {v}"
        ))
    })
    .await;
}
