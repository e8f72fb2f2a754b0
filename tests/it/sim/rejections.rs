//! Each rejection returns Binance's code, message and HTTP status.

use serde_json::json;

use super::support::{start, Client, Sim};

async fn setup() -> (Sim, Client) {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    (sim, c)
}

/// Extra order parameters, the expected code, and what the case checks.
type Case<'a> = (&'a [(&'a str, &'a str)], i64, &'a str);

fn order<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("symbol", "BTCUSDT"), ("side", "BUY")];
    v.extend_from_slice(extra);
    v
}

#[tokio::test]
async fn precision_grid_and_bounds() {
    let (_sim, c) = setup().await;
    let cases: &[Case] = &[
        (
            &[("type", "MARKET"), ("quantity", "0.0101")],
            -1111,
            "4 decimals on a 3-decimal step",
        ),
        (
            &[
                ("type", "LIMIT"),
                ("quantity", "0.010"),
                ("price", "45000.05"),
                ("timeInForce", "GTC"),
            ],
            -1111,
            "2 decimals on a 1-decimal tick",
        ),
        (
            &[("type", "MARKET"), ("quantity", "0")],
            -4003,
            "zero quantity",
        ),
        (
            &[("type", "MARKET"), ("quantity", "121")],
            -4005,
            "above the market max qty 120",
        ),
        (
            &[
                ("type", "LIMIT"),
                ("quantity", "0.010"),
                ("price", "90000"),
                ("timeInForce", "GTC"),
            ],
            -4016,
            "buy above mark × 1.15",
        ),
        (
            &[("type", "MARKET"), ("quantity", "0.001")],
            -4164,
            "notional 50 below 100",
        ),
        (
            &[("type", "STOP_MARKET"), ("quantity", "0.010")],
            -4120,
            "conditional type on /order",
        ),
        (
            &[("type", "FOO"), ("quantity", "0.010")],
            -1116,
            "unknown type",
        ),
        (
            &[("type", "LIMIT"), ("quantity", "0.010"), ("price", "45000")],
            -1102,
            "LIMIT without timeInForce",
        ),
        (&[("type", "MARKET")], -1102, "no quantity"),
        (
            &[("type", "MARKET"), ("quantity", "abc")],
            -1102,
            "malformed quantity",
        ),
        (
            &[("type", "MARKET"), ("quantity", "0.010"), ("price", "1")],
            -1106,
            "price on a MARKET order",
        ),
        (
            &[
                ("type", "MARKET"),
                ("quantity", "0.010"),
                ("newClientOrderId", "has space"),
            ],
            -4015,
            "bad client id charset",
        ),
        (
            &[
                ("type", "MARKET"),
                ("quantity", "0.010"),
                ("positionSide", "LONG"),
            ],
            -4061,
            "LONG in one-way mode",
        ),
    ];
    for (extra, code, what) in cases {
        c.post("/fapi/v1/order", &order(extra))
            .await
            .assert_error(*code, 400, what);
    }
    let r = c
        .post(
            "/fapi/v1/order",
            &[
                ("symbol", "NOPE"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "1"),
            ],
        )
        .await;
    r.assert_error(-1121, 400, "unknown symbol");
    let r = c
        .post(
            "/fapi/v1/order",
            &[
                ("symbol", "SOLUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "1.5"),
            ],
        )
        .await;
    r.assert_error(-1111, 400, "fractional SOL on a step of 1");
    let r = c
        .post(
            "/fapi/v1/order",
            &[("side", "BUY"), ("type", "MARKET"), ("quantity", "1")],
        )
        .await;
    r.assert_error(-1102, 400, "no symbol");
    assert!(
        r.body["msg"]
            .as_str()
            .is_some_and(|m| m.contains("'symbol'")),
        "message names the parameter"
    );
}

#[tokio::test]
async fn insufficient_margin_is_2019() {
    let (_sim, c) = setup().await;
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "10")],
    )
    .await
    .ok("10x");
    // 1000 USDT at 10x buys at most 10,000 notional: 0.25 BTC ≈ 12,500 is too much.
    c.market("BTCUSDT", "BUY", "0.250").await.assert_error(
        -2019,
        400,
        "12,500 notional on 1,000 at 10x",
    );
    c.market("BTCUSDT", "BUY", "0.150")
        .await
        .ok("7,500 notional fits");
    // Resting orders reserve margin too: 0.2 more at 45,000 needs 900 of the ~250 left.
    c.limit("BTCUSDT", "BUY", "0.200", "45000", "GTC")
        .await
        .assert_error(-2019, 400, "open-order margin counted");
}

#[tokio::test]
async fn reduce_only_rules() {
    let (sim, c) = setup().await;
    let ro = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "0.010"),
        ("reduceOnly", "true"),
    ];
    c.post("/fapi/v1/order", &ro)
        .await
        .assert_error(-2022, 400, "reduce-only with no position");
    c.market("BTCUSDT", "BUY", "0.004").await.ok("open 0.004");
    let v = c
        .post(
            "/fapi/v1/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "MARKET"),
                ("quantity", "0.010"),
                ("reduceOnly", "true"),
                ("newOrderRespType", "RESULT"),
            ],
        )
        .await
        .ok("reduce-only clipped");
    assert_eq!(
        v["executedQty"],
        json!("0.004"),
        "reduce-only closes at most the position"
    );
    assert_eq!(
        c.position("BTCUSDT").await,
        serde_json::Value::Null,
        "position closed and not flipped"
    );
    // Reduce-only is exempt from the minimum notional.
    c.market("BTCUSDT", "BUY", "0.003")
        .await
        .ok("open 0.003 (150 notional)");
    let small = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "0.001"),
        ("reduceOnly", "true"),
    ];
    c.post("/fapi/v1/order", &small)
        .await
        .ok("50 notional reduce-only accepted");

    let h = sim.hedge("1000").await;
    let r = h
        .post(
            "/fapi/v1/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.010"),
                ("positionSide", "LONG"),
                ("reduceOnly", "false"),
            ],
        )
        .await;
    r.assert_error(-1106, 400, "reduceOnly sent in hedge mode, even false");
    assert!(
        r.body["msg"]
            .as_str()
            .is_some_and(|m| m.contains("'reduceonly'")),
        "parameter name lowercased"
    );
    h.market("BTCUSDT", "BUY", "0.010")
        .await
        .assert_error(-4061, 400, "BOTH in hedge mode");
    let close = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "0.010"),
        ("positionSide", "LONG"),
    ];
    h.post("/fapi/v1/order", &close).await.assert_error(
        -2022,
        400,
        "closing a LONG that is not there",
    );
}

#[tokio::test]
async fn client_order_id_duplicates_only_while_open() {
    let (_sim, c) = setup().await;
    let p = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", "0.010"),
        ("price", "45000"),
        ("timeInForce", "GTC"),
        ("newClientOrderId", "dup-1"),
    ];
    let first = c.post("/fapi/v1/order", &p).await.ok("first");
    c.post("/fapi/v1/order", &p)
        .await
        .assert_error(-4116, 400, "duplicate of an open order");
    let id = first["orderId"].to_string();
    c.delete("/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", &id)])
        .await
        .ok("cancel first");
    c.post("/fapi/v1/order", &p)
        .await
        .ok("same id accepted once the first is closed");
    let long = "a".repeat(37);
    let mut p2 = p.to_vec();
    p2[6] = ("newClientOrderId", &long);
    c.post("/fapi/v1/order", &p2)
        .await
        .assert_error(-4015, 400, "37 characters");
}

#[tokio::test]
async fn unknown_orders_and_time_in_force() {
    let (_sim, c) = setup().await;
    c.get("/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", "1")])
        .await
        .assert_error(-2013, 400, "query of a missing order");
    c.delete("/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", "1")])
        .await
        .assert_error(-2011, 400, "cancel of a missing order");
    c.delete("/fapi/v1/algoOrder", &[("algoId", "1")])
        .await
        .assert_error(-2011, 400, "cancel of a missing algo order");
    c.limit("BTCUSDT", "BUY", "0.010", "50001.0", "GTX")
        .await
        .assert_error(-5022, 400, "post-only that would take");
    c.limit("BTCUSDT", "BUY", "200", "50001.0", "FOK")
        .await
        .assert_error(-5021, 400, "FOK the book cannot fill");
    c.limit("BTCUSDT", "BUY", "0.010", "45000", "XYZ")
        .await
        .assert_error(-1115, 400, "bad timeInForce");
}

#[tokio::test]
async fn mode_and_leverage_changes() {
    let (_sim, c) = setup().await;
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "126")],
    )
    .await
    .assert_error(-4028, 400, "above 125x");
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "0")],
    )
    .await
    .assert_error(-4028, 400, "zero leverage");
    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "BTCUSDT"), ("marginType", "CROSSED")],
    )
    .await
    .assert_error(-4046, 400, "already cross");
    c.post(
        "/fapi/v1/positionSide/dual",
        &[("dualSidePosition", "false")],
    )
    .await
    .assert_error(-4059, 400, "already one-way");
    c.post(
        "/fapi/v1/multiAssetsMargin",
        &[("multiAssetsMargin", "false")],
    )
    .await
    .assert_error(-4171, 400, "already single-asset");

    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "ETHUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .ok("ETH isolated");
    c.post(
        "/fapi/v1/multiAssetsMargin",
        &[("multiAssetsMargin", "true")],
    )
    .await
    .assert_error(-4167, 400, "isolated symbol blocks Multi-Assets");
    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "ETHUSDT"), ("marginType", "CROSSED")],
    )
    .await
    .ok("ETH back to cross");
    c.post(
        "/fapi/v1/multiAssetsMargin",
        &[("multiAssetsMargin", "true")],
    )
    .await
    .ok("Multi-Assets on");
    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "ETHUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .assert_error(-4168, 400, "isolated refused in Multi-Assets");

    c.market("BTCUSDT", "BUY", "0.010").await.ok("position");
    c.post(
        "/fapi/v1/positionSide/dual",
        &[("dualSidePosition", "true")],
    )
    .await
    .assert_error(-4068, 400, "position blocks mode change");
    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .assert_error(-4168, 400, "multi-assets checked first");
    c.limit("ETHUSDT", "BUY", "0.100", "2500", "GTC")
        .await
        .ok("resting order");
    c.post(
        "/fapi/v1/multiAssetsMargin",
        &[("multiAssetsMargin", "false")],
    )
    .await
    .assert_error(-4170, 400, "open orders block asset mode");
}

#[tokio::test]
async fn algo_order_rules() {
    let (_sim, c) = setup().await;
    let base = [
        ("algoType", "CONDITIONAL"),
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "STOP_MARKET"),
    ];
    let mut p = base.to_vec();
    p.extend([("triggerPrice", "51000"), ("closePosition", "true")]);
    c.post("/fapi/v1/algoOrder", &p).await.assert_error(
        -2021,
        400,
        "sell stop above the price triggers at once",
    );
    let mut p = base.to_vec();
    p.extend([
        ("triggerPrice", "45000"),
        ("closePosition", "true"),
        ("quantity", "0.010"),
    ]);
    c.post("/fapi/v1/algoOrder", &p)
        .await
        .assert_error(-1106, 400, "closePosition with quantity");
    let mut p = base.to_vec();
    p.push(("closePosition", "true"));
    c.post("/fapi/v1/algoOrder", &p)
        .await
        .assert_error(-1102, 400, "no triggerPrice");
}

#[tokio::test]
async fn garbage_input_always_gets_a_binance_error_never_a_crash() {
    // A thousand requests: rate limits off so only input handling is under test.
    let sim = super::support::start_with(copydesk::sim::SimConfig {
        limits: copydesk::sim::LimitConfig {
            enabled: false,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let c = sim.usdt("1000").await;
    let huge = "79228162514264337593543950335";
    let bad_values = [
        "",
        "-1",
        "0",
        huge,
        "1e400",
        "NaN",
        "💥",
        "1.2.3",
        "99999999999999999999",
    ];
    let names = [
        "symbol",
        "side",
        "type",
        "quantity",
        "price",
        "timeInForce",
        "leverage",
        "amount",
        "orderId",
        "limit",
        "startTime",
        "endTime",
        "page",
        "recvWindow",
    ];
    let paths = [
        (reqwest::Method::POST, "/fapi/v1/order"),
        (reqwest::Method::POST, "/fapi/v1/algoOrder"),
        (reqwest::Method::POST, "/fapi/v1/leverage"),
        (reqwest::Method::POST, "/fapi/v1/positionMargin"),
        (reqwest::Method::GET, "/fapi/v1/order"),
        (reqwest::Method::GET, "/fapi/v1/income"),
        (reqwest::Method::GET, "/fapi/v1/userTrades"),
        (reqwest::Method::GET, "/fapi/v1/depth"),
    ];
    let mut checked = 0;
    for (method, path) in &paths {
        for name in names {
            for v in bad_values {
                let mut params = vec![
                    ("symbol", "BTCUSDT"),
                    ("side", "BUY"),
                    ("type", "LIMIT"),
                    ("quantity", "0.010"),
                    ("price", "45000"),
                    ("timeInForce", "GTC"),
                ];
                params.retain(|(k, _)| *k != name);
                params.push((name, v));
                let r = c.signed(method.clone(), path, &params).await;
                assert!(
                    r.status.is_success() || r.status.is_client_error(),
                    "{method} {path} {name}={v}: status {} body {}",
                    r.status,
                    r.body
                );
                if !r.status.is_success() {
                    assert!(
                        r.body["code"].is_i64() && r.body["msg"].is_string(),
                        "{method} {path} {name}={v}: Binance error shape, got {}",
                        r.body
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        paths.len() * names.len() * bad_values.len(),
        "every combination was sent"
    );
    sim.public("/fapi/v1/time", "")
        .await
        .ok("the server is still up");
    let r = sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/prices",
            Some(json!({"symbol": "BTCUSDT", "price": huge})),
        )
        .await;
    r.assert_error(-1130, 400, "an absurd admin price");
    let r = sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/clock",
            Some(json!({"advanceMs": i64::MAX})),
        )
        .await;
    r.assert_error(-1102, 400, "an absurd clock jump");
    let r = sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/accounts",
            Some(json!("not an object")),
        )
        .await;
    r.assert_error(-1102, 400, "a malformed admin body");
}

#[tokio::test]
async fn every_route_answers_without_a_server_error() {
    let (_sim, c) = setup().await;
    use reqwest::Method as M;
    let routes: &[(M, &str)] = &[
        (M::GET, "/fapi/v1/ping"),
        (M::GET, "/fapi/v1/time"),
        (M::GET, "/fapi/v1/exchangeInfo"),
        (M::GET, "/fapi/v1/depth"),
        (M::GET, "/fapi/v1/premiumIndex"),
        (M::GET, "/fapi/v1/ticker/price"),
        (M::GET, "/fapi/v2/ticker/price"),
        (M::GET, "/fapi/v1/ticker/bookTicker"),
        (M::GET, "/fapi/v1/ticker/24hr"),
        (M::GET, "/fapi/v2/account"),
        (M::GET, "/fapi/v3/account"),
        (M::GET, "/fapi/v2/balance"),
        (M::GET, "/fapi/v3/balance"),
        (M::GET, "/fapi/v2/positionRisk"),
        (M::GET, "/fapi/v3/positionRisk"),
        (M::GET, "/fapi/v1/symbolConfig"),
        (M::GET, "/fapi/v1/accountConfig"),
        (M::GET, "/fapi/v1/positionSide/dual"),
        (M::GET, "/fapi/v1/multiAssetsMargin"),
        (M::POST, "/fapi/v1/positionSide/dual"),
        (M::POST, "/fapi/v1/multiAssetsMargin"),
        (M::POST, "/fapi/v1/leverage"),
        (M::POST, "/fapi/v1/marginType"),
        (M::POST, "/fapi/v1/positionMargin"),
        (M::POST, "/fapi/v1/order"),
        (M::PUT, "/fapi/v1/order"),
        (M::GET, "/fapi/v1/order"),
        (M::DELETE, "/fapi/v1/order"),
        (M::POST, "/fapi/v1/algoOrder"),
        (M::GET, "/fapi/v1/algoOrder"),
        (M::DELETE, "/fapi/v1/algoOrder"),
        (M::GET, "/fapi/v1/openOrder"),
        (M::DELETE, "/fapi/v1/openOrder"),
        (M::DELETE, "/fapi/v1/allOpenOrders"),
        (M::DELETE, "/fapi/v1/algoOpenOrders"),
        (M::GET, "/fapi/v1/openOrders"),
        (M::GET, "/fapi/v1/openAlgoOrders"),
        (M::GET, "/fapi/v1/allOrders"),
        (M::GET, "/fapi/v1/allAlgoOrders"),
        (M::GET, "/fapi/v1/userTrades"),
        (M::GET, "/fapi/v1/income"),
        (M::GET, "/fapi/v1/leverageBracket"),
        (M::GET, "/fapi/v1/rateLimit/order"),
        (M::POST, "/fapi/v1/batchOrders"),
        (M::DELETE, "/fapi/v1/batchOrders"),
        (M::POST, "/fapi/v1/listenKey"),
        (M::PUT, "/fapi/v1/listenKey"),
        (M::DELETE, "/fapi/v1/listenKey"),
        (M::GET, "/sapi/v1/account/apiRestrictions"),
    ];
    for (method, path) in routes {
        for params in [&[][..], &[("symbol", "BTCUSDT")][..]] {
            let r = c.signed(method.clone(), path, params).await;
            assert!(
                r.status.as_u16() < 500,
                "{method} {path} {params:?} should not be a server error: {} {}",
                r.status,
                r.body
            );
        }
    }
}
