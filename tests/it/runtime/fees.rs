//! Commissions paid in BNB are not counted as USDT (issue 12 item 15): the follower pays
//! its fees from a BNB balance (the simulator's `bnbFees`), the engine converts each at the
//! streamed BNBUSDT mark, and the copy's fees are the USDT value.

use std::time::Duration;

use copydesk::store::{db_path, Store};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{account_env, account_toml, amount, eventually, sim, write_config, Engine};
use copydesk::runtime::NotifyKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bnb_fees_are_converted_at_the_bnb_mark() {
    let sim = sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    sim.price("BNBUSDT", "600").await;
    let lead = sim.usdt("10000").await;
    let me = sim
        .account(json!({"balances": {"USDT": "10000", "BNB": "10"}, "bnbFees": true}))
        .await;
    lead.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "5")],
    )
    .await
    .ok("leader leverage");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "{}{}[[copies]]\nname = \"bnb\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let config = write_config(dir.path(), &text);
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let data = dir.path().join("data");
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, None, "start")
        .await;
    // The venue streams every mark once a second; the BNBUSDT mark is there after one.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
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
    engine
        .wait_kind(NotifyKind::Fill, None, Some("bnb"), "the fill is seen")
        .await;
    engine.interrupt();
    let bnb = sim.admin_account(&me.account_id).await;
    let store = Store::open_read_only(&db_path(&data)).expect("database readable");
    let fills = store.fills().for_copy(1).expect("fills");
    let (_, f) = fills.first().expect("the open's fill is stored");
    // 0.010 × ~50,000 × 0.05 % taker = ~0.25 USDT, paid as ~0.00042 BNB at 600.
    assert_eq!(
        f.fee_asset, "USDT",
        "stored in USDT after conversion: {f:?}\n{bnb}"
    );
    assert!(
        f.fee > dec!(0.2) && f.fee < dec!(0.3),
        "the fee is the USDT value of the BNB paid, not the BNB amount: {f:?}"
    );
    let bnb_left = bnb["balances"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["asset"] == "BNB"))
        .map(|r| super::support::dec(&r["balance"]))
        .expect("a BNB balance");
    let paid_bnb = dec!(10) - bnb_left;
    assert!(
        paid_bnb > Decimal::ZERO && paid_bnb < dec!(0.001),
        "the venue took the fee in BNB: {bnb}"
    );
}
