//! The admin API: token, account creation and view, prices, clock, demo leaders.

use copydesk::sim::SimConfig;
use reqwest::Method;
use serde_json::json;

use super::support::{dec, start, start_with};

#[tokio::test]
async fn an_embedded_simulator_requires_its_admin_token() {
    let sim = start_with(SimConfig::embedded()).await;
    let token = sim
        .handle
        .admin_token()
        .expect("embedded mode has a token")
        .to_owned();
    assert!(token.len() >= 32, "the token is long and random");
    let r = sim
        .http
        .post(format!("{}/admin/v1/prices", sim.base()))
        .json(&json!({"symbol": "BTCUSDT", "price": "1"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 401, "no token, no admin");
    sim.price("BTCUSDT", "60000").await;
    let v = sim
        .public("/fapi/v1/premiumIndex", "symbol=BTCUSDT")
        .await
        .ok("premium");
    assert_eq!(
        dec(&v["markPrice"]),
        rust_decimal_macros::dec!(60000),
        "with the token the price moved"
    );
}

#[tokio::test]
async fn bad_admin_input_gets_binance_errors() {
    let sim = start().await;
    sim.admin(
        Method::POST,
        "/admin/v1/prices",
        Some(json!({"symbol": "NOPE", "price": "1"})),
    )
    .await
    .assert_error(-1121, 400, "unknown symbol");
    sim.admin(
        Method::POST,
        "/admin/v1/prices",
        Some(json!({"symbol": "BTCUSDT", "price": 1.5})),
    )
    .await
    .assert_error(-1102, 400, "float price refused");
    sim.admin(
        Method::POST,
        "/admin/v1/prices",
        Some(json!({"symbol": "BTCUSDT", "price": "-1"})),
    )
    .await
    .assert_error(-1130, 400, "negative price");
    sim.admin(
        Method::POST,
        "/admin/v1/accounts",
        Some(json!({"positionMode": "both"})),
    )
    .await
    .assert_error(-1102, 400, "bad position mode");
    sim.admin(
        Method::POST,
        "/admin/v1/clock",
        Some(json!({"advanceMs": -5})),
    )
    .await
    .assert_error(-1102, 400, "time goes forward only");
    let r = sim
        .admin(Method::GET, "/admin/v1/accounts/acc-999", None)
        .await;
    assert_eq!(r.status, 404, "unknown account is 404");
}

#[tokio::test]
async fn the_account_view_uses_binance_field_names() {
    let sim = start().await;
    let c = sim.account(json!({"balances": {"USDT": "10000", "USDC": "500"}, "positionMode": "hedge", "label": "follower"})).await;
    c.post(
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.010"),
            ("positionSide", "LONG"),
        ],
    )
    .await
    .ok("long");
    c.post(
        "/fapi/v1/order",
        &[
            ("symbol", "ETHUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("quantity", "0.100"),
            ("price", "2600"),
            ("timeInForce", "GTC"),
            ("positionSide", "LONG"),
        ],
    )
    .await
    .ok("resting");
    let v = sim.admin_account(&c.account_id).await;
    assert_eq!(v["positionMode"], json!("hedge"), "mode");
    assert_eq!(v["label"], json!("follower"), "label");
    let assets: Vec<&str> = v["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .filter_map(|b| b["asset"].as_str())
        .collect();
    assert_eq!(assets, vec!["USDC", "USDT"], "both wallets");
    assert_eq!(
        v["positions"][0]["positionSide"],
        json!("LONG"),
        "position row"
    );
    assert_eq!(v["positions"][0]["positionAmt"], json!("0.010"), "amount");
    assert_eq!(
        v["openOrders"][0]["price"],
        json!("2600.00"),
        "open order in Binance shape"
    );
    super::shape::assert_each_shape("http_order_query", &v["openOrders"]);
}

#[tokio::test]
async fn demo_leaders_come_with_history_and_keys() {
    let sim = start_with(SimConfig {
        demo_leaders: 4,
        seed: 7,
        ..SimConfig::default()
    })
    .await;
    let leaders = sim.handle.demo_leaders();
    assert_eq!(leaders.len(), 4, "four leaders");
    let listed = sim
        .admin(Method::GET, "/admin/v1/demo-leaders", None)
        .await
        .ok("list");
    let styles: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|l| l["style"].as_str())
        .collect();
    assert_eq!(
        styles,
        vec!["scalper", "swing", "high-leverage", "isolated-margin-adds"],
        "one of each style"
    );
    let l = &leaders[0];
    let c = super::support::Client {
        base: sim.base(),
        http: sim.http.clone(),
        account_id: l.account_id.clone(),
        key: l.api_key.clone(),
        secret: l.secret_key.clone(),
    };
    let now = super::support::now_ms();
    let start = (now - 30 * 86_400_000).to_string();
    let end = (now - 23 * 86_400_000).to_string();
    let trades = c
        .get(
            "/fapi/v1/userTrades",
            &[
                ("symbol", "BTCUSDT"),
                ("startTime", &start),
                ("endTime", &end),
            ],
        )
        .await
        .ok("history");
    assert!(
        trades.as_array().is_some_and(|t| t.len() > 10),
        "a scalper trades many times a week 30 days ago"
    );
    let income = c
        .get(
            "/fapi/v1/income",
            &[
                ("startTime", &(now - 90 * 86_400_000).to_string()),
                ("limit", "1000"),
            ],
        )
        .await
        .ok("income");
    let kinds: std::collections::BTreeSet<&str> = income
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i["incomeType"].as_str())
        .collect();
    assert!(
        kinds.contains("REALIZED_PNL") && kinds.contains("COMMISSION"),
        "income history: {kinds:?}"
    );
    let debug = format!("{l:?}");
    assert!(
        !debug.contains(&l.secret_key),
        "Debug of a leader never shows the secret"
    );

    let again = copydesk::sim::Simulator::start(SimConfig {
        demo_leaders: 4,
        seed: 7,
        ..SimConfig::default()
    })
    .await
    .expect("second sim");
    let a = again.demo_leaders();
    assert_eq!(a[1].style, leaders[1].style, "same seed, same styles");
    again.shutdown().await;
}

#[tokio::test]
async fn in_process_handle_controls_price_and_clock() {
    let sim = start().await;
    let keys = sim.handle.create_account(
        copydesk::sim::NewAccount::usdt(rust_decimal_macros::dec!(1000))
            .with_balance("USDC", rust_decimal_macros::dec!(5))
            .hedge(),
    );
    let view = sim.admin_account(&keys.account_id).await;
    assert_eq!(
        view["positionMode"],
        json!("hedge"),
        "builder set hedge mode"
    );
    assert_eq!(
        view["balances"][0]["balance"],
        json!("5.00000000"),
        "builder added USDC"
    );
    assert!(
        !format!("{keys:?}").contains(&keys.secret_key),
        "Debug of keys hides the secret"
    );
    sim.handle
        .set_price("ETHUSDT", rust_decimal_macros::dec!(3100))
        .expect("price set");
    let v = sim
        .public("/fapi/v1/premiumIndex", "symbol=ETHUSDT")
        .await
        .ok("premium");
    assert_eq!(
        dec(&v["markPrice"]),
        rust_decimal_macros::dec!(3100),
        "price moved in-process"
    );
    let before = sim.handle.now();
    let after = sim.handle.advance_clock(3_600_000);
    assert!(after - before >= 3_600_000, "clock advanced an hour");
}

#[tokio::test]
async fn transfers_move_the_wallet_and_are_booked() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    let path = format!("/admin/v1/accounts/{}/transfer", c.account_id);
    let v = sim
        .admin(
            Method::POST,
            &path,
            Some(json!({"asset": "USDT", "amount": "250.5"})),
        )
        .await
        .ok("deposit");
    assert_eq!(v["balance"], json!("1250.50000000"), "deposit credited");
    c.market("BTCUSDT", "BUY", "0.200")
        .await
        .ok("10,000 notional at 20x uses 500 margin");
    let r = sim
        .admin(
            Method::POST,
            &path,
            Some(json!({"asset": "USDT", "amount": "-1000"})),
        )
        .await;
    r.assert_error(-5013, 400, "withdrawing margin in use");
    sim.admin(
        Method::POST,
        &path,
        Some(json!({"asset": "USDT", "amount": "-100"})),
    )
    .await
    .ok("withdraw free funds");
    let inc = c
        .get("/fapi/v1/income", &[("incomeType", "TRANSFER")])
        .await
        .ok("income");
    let amounts: Vec<_> = inc
        .as_array()
        .expect("rows")
        .iter()
        .map(|i| dec(&i["income"]))
        .collect();
    assert_eq!(
        amounts,
        vec![
            rust_decimal_macros::dec!(250.5),
            rust_decimal_macros::dec!(-100)
        ],
        "both transfers booked"
    );
    let v2 = c.get("/fapi/v2/account", &[]).await.ok("v2 account");
    assert_eq!(
        v2["positions"][0]["leverage"],
        json!("20"),
        "v2 positions carry leverage"
    );
    assert_eq!(v2["canTrade"], json!(true), "v2 account flags");
}

#[tokio::test]
async fn demo_leaders_keep_trading_live() {
    let sim = start_with(SimConfig {
        demo_leaders: 1,
        seed: 11,
        ..SimConfig::default()
    })
    .await;
    let l = &sim.handle.demo_leaders()[0];
    let c = super::support::Client {
        base: sim.base(),
        http: sim.http.clone(),
        account_id: l.account_id.clone(),
        key: l.api_key.clone(),
        secret: l.secret_key.clone(),
    };
    // The scalper acts on its first tick, then every 30 s of simulated time.
    let mut opened = false;
    for _ in 0..100 {
        if c.position("BTCUSDT").await != serde_json::Value::Null {
            opened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(opened, "the scalper opens a live position");
    sim.advance(31_000).await;
    let mut closed = false;
    for _ in 0..100 {
        if c.position("BTCUSDT").await == serde_json::Value::Null {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(closed, "and closes it on its next turn");
}
