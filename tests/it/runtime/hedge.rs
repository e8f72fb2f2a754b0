//! Two copies sharing one follower account in hedge mode (issue 12 item 15): the second
//! copy's open of the other book of a symbol the first copy holds never changes that
//! symbol's leverage (or margin mode), which follow the holding copy; an open that needs
//! other settings is skipped with a notice naming them, and one that needs the same opens.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::support::{account_env, account_toml, dec, eventually, sim, write_config, Engine};
use crate::sim::support::{Client, Sim};

/// The follower's position on one hedge book (`LONG` / `SHORT`), signed.
async fn book(sim: &Sim, account: &str, symbol: &str, side: &str) -> Decimal {
    let v = sim.admin_account(account).await;
    v["positions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["symbol"] == symbol && p["positionSide"] == side)
        .map_or(Decimal::ZERO, |p| dec(&p["positionAmt"]))
}

/// The account's leverage on a symbol, as the venue holds it.
async fn leverage(c: &Client, symbol: &str) -> u64 {
    let v = c
        .get("/fapi/v1/symbolConfig", &[("symbol", symbol)])
        .await
        .ok("symbol config");
    v[0]["leverage"].as_u64().expect("leverage")
}

async fn hedge_order(c: &Client, side: &str, position_side: &str, qty: &str) {
    c.post(
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", side),
            ("positionSide", position_side),
            ("type", "MARKET"),
            ("quantity", qty),
        ],
    )
    .await
    .ok("leader's hedge order");
}

async fn set_leverage(c: &Client, lev: &str) {
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", lev)],
    )
    .await
    .ok("leader leverage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_copys_open_never_changes_the_leverage_of_a_symbol_another_copy_holds() {
    let sim = sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let names = ["lead-one", "lead-two", "me"];
    let mut clients = Vec::new();
    let mut text = String::new();
    let mut env = Vec::new();
    for n in names {
        let c = sim.hedge("100000").await;
        text.push_str(&account_toml(n, &base));
        env.extend(account_env(n, &c));
        clients.push(c);
    }
    for (name, leader) in [("one", "lead-one"), ("two", "lead-two")] {
        text.push_str(&format!(
            "[[copies]]\nname = \"{name}\"\nleader = \"{leader}\"\nfollower = \"me\"\n\
             mode = \"fixed-ratio\"\nratio = \"0.1\"\n\n"
        ));
    }
    let (one, two, me) = (&clients[0], &clients[1], &clients[2]);
    set_leverage(one, "3").await;
    set_leverage(two, "5").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut engine = Engine::start(&dir.path().join("data"), &config, &env, &[]);
    for copy in ["one", "two"] {
        engine
            .wait_kind(NotifyKind::Watching, None, Some(copy), "start")
            .await;
    }
    // Copy `one` opens the follower's BTC long at its leader's 3x.
    hedge_order(one, "BUY", "LONG", "0.5").await;
    eventually("copy one opens the follower's BTC long", || async {
        let got = book(&sim, &me.account_id, "BTCUSDT", "LONG").await;
        (got == dec!(0.050))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(leverage(me, "BTCUSDT").await, 3, "copy one set 3x");
    // Copy `two`'s leader opens the short book at 5x: it would need 5x on a symbol whose
    // leverage follows copy `one`, so it is skipped and the leverage stays 3x.
    hedge_order(two, "SELL", "SHORT", "0.3").await;
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::HeldByOtherCopy),
            Some("two"),
            "copy two's open is skipped with a notice",
        )
        .await;
    let out = engine.output();
    assert!(
        out.lines()
            .any(|l| l.contains("held-by-other-copy two") && l.contains("(3x Cross)")),
        "the notice names the holding copy's leverage and mode:\n{out}"
    );
    assert_eq!(
        leverage(me, "BTCUSDT").await,
        3,
        "copy two changed the leverage under copy one's position"
    );
    assert_eq!(
        book(&sim, &me.account_id, "BTCUSDT", "SHORT").await,
        Decimal::ZERO,
        "nothing opened on the short book"
    );
    // Flat again, copy two's leader trades at 3x, the symbol's setting: its open goes.
    hedge_order(two, "BUY", "SHORT", "0.3").await;
    set_leverage(two, "3").await;
    hedge_order(two, "SELL", "SHORT", "0.2").await;
    eventually("copy two opens the short book at the same 3x", || async {
        let got = book(&sim, &me.account_id, "BTCUSDT", "SHORT").await;
        (got == dec!(-0.020))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(leverage(me, "BTCUSDT").await, 3, "still 3x");
    assert_eq!(
        book(&sim, &me.account_id, "BTCUSDT", "LONG").await,
        dec!(0.050),
        "copy one's long is untouched"
    );
    engine.interrupt();
}
