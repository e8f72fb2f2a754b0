//! Funding on the copy's positions: the simulator's funding payment on the follower's
//! copied position is collected for the copy and shown in its figures.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{amount, dec as jdec, eventually, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funding_on_the_copied_position_counts_in_the_copy_figures() {
    let p = Pair::new(
        "10000",
        "",
        "[[copies]]\nname = \"funded\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
    )
    .await;
    p.leader_leverage("BTCUSDT", "5").await;
    let (sim, lead, me) = (&p.sim, &p.lead, &p.me);
    let data = p.data();
    let mut engine = p.start().await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    eventually("the follower holds 0.010", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
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
        let got = v["copies"][0]["figures"]["funding"]
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
