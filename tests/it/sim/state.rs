//! Simulator state that lasts: saved to a file, restored on a new port with the same
//! accounts, keys, positions, orders and demo leaders; a file that cannot be read is an
//! error naming it, never a fresh simulator.

use std::path::Path;

use copydesk::sim::{state_path, SimConfig, SimStateError, Simulator};
use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::support::{dec, start_with, Client, Sim};

fn config(file: &Path, demo_leaders: usize) -> SimConfig {
    SimConfig {
        state_file: Some(file.to_path_buf()),
        demo_leaders,
        ..SimConfig::default()
    }
}

/// The same account's client pointed at another simulator.
fn on(sim: &Sim, c: &Client) -> Client {
    Client {
        base: sim.base(),
        ..c.clone()
    }
}

fn rows(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_restored_simulator_serves_the_same_accounts_positions_and_orders_on_a_new_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = state_path(dir.path());
    let sim = start_with(config(&file, 1)).await;
    let c = sim.usdt("10000").await;
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "10")],
    )
    .await
    .ok("10x");
    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "ETHUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .ok("ETH isolated");
    c.market("BTCUSDT", "BUY", "0.100").await.ok("long 0.1");
    let stop = c
        .post(
            "/fapi/v1/algoOrder",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "STOP_MARKET"),
                ("triggerPrice", "45000"),
                ("closePosition", "true"),
                ("workingType", "MARK_PRICE"),
            ],
        )
        .await
        .ok("protective stop");
    let resting = c
        .limit("BTCUSDT", "BUY", "0.010", "40000", "GTC")
        .await
        .ok("resting bid");
    sim.price("BTCUSDT", "51000").await;
    let before_pos = c.position("BTCUSDT").await;
    let before_bal = c.usdt_balance().await;
    let leaders = sim.handle.demo_leaders();
    let old_base = sim.base();
    sim.handle.shutdown().await;
    assert!(
        file.exists(),
        "shutdown saved the state to {}",
        file.display()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600, "the state file holds paper keys: 0600");
        assert_eq!(
            mode(file.parent().expect("parent")),
            0o700,
            "its directory is 0700"
        );
    }

    // Keep the old port taken, so the restored simulator surely gets another one.
    let old_addr = old_base.trim_start_matches("http://").to_owned();
    let _hold = std::net::TcpListener::bind(&old_addr);
    let sim = start_with(config(&file, 1)).await;
    let c2 = on(&sim, &c);
    assert_ne!(
        sim.base(),
        old_base,
        "the restored simulator serves on a new port"
    );
    let pos = c2.position("BTCUSDT").await;
    assert_eq!(
        (
            pos["positionAmt"].clone(),
            pos["entryPrice"].clone(),
            pos["unRealizedProfit"].clone(),
            pos["markPrice"].clone(),
        ),
        (
            before_pos["positionAmt"].clone(),
            before_pos["entryPrice"].clone(),
            before_pos["unRealizedProfit"].clone(),
            before_pos["markPrice"].clone(),
        ),
        "the same key authenticates and finds the same position, entry, PnL and mark (was on {old_base})"
    );
    assert_eq!(
        dec(&pos["unRealizedProfit"]),
        dec!(99.95),
        "0.1 × (51,000 − 50,000.5)"
    );
    assert_eq!(
        c2.usdt_balance().await["balance"],
        before_bal["balance"],
        "the same wallet balance"
    );
    let algo = c2
        .get("/fapi/v1/openAlgoOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("open algo orders");
    assert_eq!(
        rows(&algo)
            .iter()
            .map(|a| a["algoId"].clone())
            .collect::<Vec<_>>(),
        vec![stop["algoId"].clone()],
        "the protective stop is still open: {algo}"
    );
    let open = c2
        .get("/fapi/v1/openOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("open orders");
    assert_eq!(
        rows(&open)
            .iter()
            .map(|o| o["orderId"].clone())
            .collect::<Vec<_>>(),
        vec![resting["orderId"].clone()],
        "the resting bid is still open"
    );
    let cfg = c2
        .get("/fapi/v1/symbolConfig", &[])
        .await
        .ok("symbol config");
    let of = |s: &str| {
        rows(&cfg)
            .into_iter()
            .find(|r| r["symbol"] == s)
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        (
            of("BTCUSDT")["leverage"].clone(),
            of("ETHUSDT")["marginType"].clone()
        ),
        (json!(10), json!("ISOLATED")),
        "leverage and margin type survive"
    );
    let again = sim.handle.demo_leaders();
    assert_eq!(
        again
            .iter()
            .map(|l| (
                l.account_id.clone(),
                l.api_key.clone(),
                l.secret_key.clone()
            ))
            .collect::<Vec<_>>(),
        leaders
            .iter()
            .map(|l| (
                l.account_id.clone(),
                l.api_key.clone(),
                l.secret_key.clone()
            ))
            .collect::<Vec<_>>(),
        "the demo leader keeps its identity, so a paper copy follows the same leader"
    );

    // Trading goes on: the close realizes the PnL against the saved entry, and the stop
    // still fires afterwards on a new position.
    let close = c2.market("BTCUSDT", "SELL", "0.100").await.ok("close");
    assert!(
        close["orderId"].as_u64() > resting["orderId"].as_u64(),
        "order ids go on from where they were"
    );
    assert_eq!(
        c2.position("BTCUSDT").await["positionAmt"],
        json!("0.000"),
        "flat after the close"
    );
    let pnl = c2
        .get("/fapi/v1/income", &[("incomeType", "REALIZED_PNL")])
        .await
        .ok("income");
    assert_eq!(
        dec(&rows(&pnl)[0]["income"]),
        dec!(0.1) * (dec!(50999.5) - dec!(50000.5)),
        "realized against the entry saved before the restart (sold at the bid 50,999.5)"
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_restored_simulator_keeps_the_state_saved_while_running() {
    // Killed, not shut down: what the once-a-second save wrote is what comes back.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = state_path(dir.path());
    let sim = start_with(config(&file, 0)).await;
    let c = sim.usdt("5000").await;
    c.market("ETHUSDT", "SELL", "1.000").await.ok("short 1 ETH");
    let mut saved = false;
    for _ in 0..100 {
        if std::fs::read_to_string(&file)
            .is_ok_and(|t| t.contains(&c.account_id) && t.contains("ETHUSDT\",\"side"))
        {
            saved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        saved,
        "the running simulator saved the new position by itself"
    );
    let entry = c.position("ETHUSDT").await["entryPrice"].clone();
    // Stop serving without the shutdown save, as a crash would.
    let handle = sim.handle;
    drop(handle);
    let sim = start_with(config(&file, 0)).await;
    let c2 = on(&sim, &c);
    let pos = c2.position("ETHUSDT").await;
    assert_eq!(
        (pos["positionAmt"].clone(), pos["entryPrice"].clone()),
        (json!("-1.000"), entry),
        "the short and its entry came back from the periodic save"
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_state_file_that_cannot_be_read_stops_the_start_and_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = state_path(dir.path());
    let sim = start_with(config(&file, 0)).await;
    sim.usdt("1000").await;
    sim.handle.shutdown().await;
    let good = std::fs::read(&file).expect("saved");

    for (what, bytes) in [
        ("cut short", good[..good.len() / 2].to_vec()),
        ("not JSON", b"\x00\x01garbage".to_vec()),
        (
            "a wrong field",
            String::from_utf8_lossy(&good)
                .replacen("\"positions\":[]", "\"positions\":7", 1)
                .into_bytes(),
        ),
    ] {
        std::fs::write(&file, &bytes).expect("damage the file");
        let err = Simulator::start(config(&file, 0))
            .await
            .expect_err(&format!("a state file {what} must not start a simulator"));
        let msg = err.to_string();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::InvalidData,
            "{what}: an InvalidData error: {msg}"
        );
        assert!(
            msg.contains(&file.display().to_string()) && msg.contains("move the file away"),
            "{what}: the message names the file and the fix: {msg}"
        );
        assert!(
            err.get_ref()
                .is_some_and(|e| e.downcast_ref::<SimStateError>().is_some()),
            "{what}: the inner error is a SimStateError"
        );
        assert_eq!(
            std::fs::read(&file).expect("still there"),
            bytes,
            "{what}: the refused file is left as it was"
        );
    }

    let newer = String::from_utf8_lossy(&good).replacen("\"version\":1", "\"version\":99", 1);
    std::fs::write(&file, newer).expect("a newer version");
    let err = Simulator::start(config(&file, 0))
        .await
        .expect_err("a newer state file must not start a simulator");
    assert!(
        err.to_string().contains("version 99"),
        "the message names the version: {err}"
    );
}
