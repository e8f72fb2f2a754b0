//! Every REST response compared with the recorded fixture of the same name.

use reqwest::Method;
use serde_json::Value;

use super::shape::assert_shape;
use super::support::start;

#[tokio::test]
async fn public_endpoints_match_fixtures() {
    let sim = start().await;
    assert_shape(
        "http_time",
        &sim.public("/fapi/v1/time", "").await.ok("time"),
    );
    assert_shape(
        "http_exchange_info",
        &sim.public("/fapi/v1/exchangeInfo", "")
            .await
            .ok("exchangeInfo"),
    );
    assert_shape(
        "http_premium_index",
        &sim.public("/fapi/v1/premiumIndex", "symbol=BTCUSDT")
            .await
            .ok("premiumIndex"),
    );
    let all = sim
        .public("/fapi/v1/premiumIndex", "")
        .await
        .ok("premiumIndex all");
    for row in all.as_array().expect("array without symbol") {
        assert_shape("http_premium_index", row);
    }
    assert_shape(
        "http_ticker_price",
        &sim.public("/fapi/v2/ticker/price", "symbol=ETHUSDT")
            .await
            .ok("ticker price"),
    );
    assert_shape(
        "http_book_ticker",
        &sim.public("/fapi/v1/ticker/bookTicker", "symbol=ETHUSDT")
            .await
            .ok("bookTicker"),
    );
    sim.public("/fapi/v1/exchangeInfo", "").await.ok("again");
    let nf = sim.public("/fapi/v1/nope", "").await;
    assert_eq!(nf.status.as_u16(), 404, "an unknown path is 404");
    let r = sim.public("/fapi/v1/premiumIndex", "symbol=NOPE").await;
    r.assert_error(-1121, 400, "unknown symbol");
    assert_shape("http_error", &r.body);
}

#[tokio::test]
async fn account_endpoints_match_fixtures() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    c.market("BTCUSDT", "BUY", "0.010")
        .await
        .ok("open a position");
    c.limit("ETHUSDT", "BUY", "0.100", "2500", "GTC")
        .await
        .ok("rest an order");

    assert_shape(
        "http_account_v3",
        &c.get("/fapi/v3/account", &[]).await.ok("account"),
    );
    assert_shape(
        "http_balance_v3",
        &c.get("/fapi/v3/balance", &[]).await.ok("balance"),
    );
    let risk = c
        .get("/fapi/v3/positionRisk", &[])
        .await
        .ok("positionRisk v3");
    assert_eq!(
        risk.as_array().map(Vec::len),
        Some(2),
        "a position row and a zero row for the resting order"
    );
    assert_shape("http_position_risk_v3", &risk);
    assert_shape(
        "http_position_risk_v2",
        &c.get("/fapi/v2/positionRisk", &[("symbol", "BTCUSDT")])
            .await
            .ok("positionRisk v2"),
    );
    assert_shape(
        "http_symbol_config",
        &c.get("/fapi/v1/symbolConfig", &[]).await.ok("symbolConfig"),
    );
    assert_shape(
        "http_account_config",
        &c.get("/fapi/v1/accountConfig", &[])
            .await
            .ok("accountConfig"),
    );
    assert_shape(
        "http_position_side_dual",
        &c.get("/fapi/v1/positionSide/dual", &[]).await.ok("dual"),
    );
    assert_shape(
        "http_multi_assets_margin",
        &c.get("/fapi/v1/multiAssetsMargin", &[])
            .await
            .ok("multiAssets"),
    );
    assert_shape(
        "http_leverage",
        &c.post(
            "/fapi/v1/leverage",
            &[("symbol", "SOLUSDT"), ("leverage", "7")],
        )
        .await
        .ok("leverage"),
    );
    assert_shape(
        "http_success",
        &c.post(
            "/fapi/v1/marginType",
            &[("symbol", "SOLUSDT"), ("marginType", "ISOLATED")],
        )
        .await
        .ok("marginType"),
    );
    assert_shape(
        "http_user_trades",
        &c.get("/fapi/v1/userTrades", &[("symbol", "BTCUSDT")])
            .await
            .ok("userTrades"),
    );
    assert_shape(
        "http_income",
        &c.get("/fapi/v1/income", &[]).await.ok("income"),
    );
    assert_shape(
        "http_rate_limit_order",
        &c.get("/fapi/v1/rateLimit/order", &[])
            .await
            .ok("rateLimit/order"),
    );
    let brackets = c
        .get("/fapi/v1/leverageBracket", &[])
        .await
        .ok("leverageBracket");
    assert_eq!(
        brackets.as_array().map(Vec::len),
        Some(11),
        "one entry per symbol"
    );
    assert_shape("http_leverage_bracket", &brackets);
    let depth = sim
        .public("/fapi/v1/depth", "symbol=BTCUSDT&limit=5")
        .await
        .ok("depth");
    assert_eq!(
        depth["asks"][0],
        serde_json::json!(["50000.5", "0.500"]),
        "best ask and its size"
    );
    assert_eq!(
        depth["bids"].as_array().map(Vec::len),
        Some(5),
        "limit levels per side"
    );
    assert_shape("http_depth", &depth);
    let key = c.listen_key().await;
    assert_eq!(key.len(), 64, "listenKeys are 64 characters");
    assert_shape("http_listen_key", &serde_json::json!({"listenKey": key}));
}

#[tokio::test]
async fn order_endpoints_match_fixtures() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    let placed = c
        .limit("BTCUSDT", "SELL", "0.200", "51000", "GTC")
        .await
        .ok("limit sell");
    assert_shape("http_order", &placed);
    let id = placed["orderId"].to_string();
    let q = c
        .get("/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", &id)])
        .await
        .ok("query");
    assert_shape("http_order_query", &q);
    let open = c
        .get("/fapi/v1/openOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("openOrders");
    super::shape::assert_each_shape("http_order_query", &open);
    let one = c
        .get(
            "/fapi/v1/openOrder",
            &[("symbol", "BTCUSDT"), ("orderId", &id)],
        )
        .await
        .ok("openOrder");
    assert_shape("http_order_query", &one);
    let cancelled = c
        .delete("/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", &id)])
        .await
        .ok("cancel");
    assert_shape("http_order", &cancelled);
    assert_eq!(
        cancelled["status"], "CANCELED",
        "cancel answers with the cancelled order"
    );
    c.limit("BTCUSDT", "SELL", "0.200", "51000", "GTC")
        .await
        .ok("another");
    let all = c
        .get("/fapi/v1/allOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("allOrders");
    super::shape::assert_each_shape("http_order_query", &all);
    assert_shape(
        "http_cancel_all_orders",
        &c.delete("/fapi/v1/allOpenOrders", &[("symbol", "BTCUSDT")])
            .await
            .ok("cancel all"),
    );

    c.market("BNBUSDT", "BUY", "1")
        .await
        .ok("position for the algo order");
    let algo = c
        .post(
            "/fapi/v1/algoOrder",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BNBUSDT"),
                ("side", "SELL"),
                ("type", "TAKE_PROFIT"),
                ("quantity", "0.01"),
                ("price", "750"),
                ("triggerPrice", "750"),
                ("timeInForce", "GTC"),
            ],
        )
        .await
        .ok("algo order");
    assert_shape("http_algo_order", &algo);
    let open = c
        .get("/fapi/v1/openAlgoOrders", &[])
        .await
        .ok("openAlgoOrders");
    super::shape::assert_each_shape("http_algo_order", &open);
    let aid = algo["algoId"].to_string();
    let got = c
        .get("/fapi/v1/algoOrder", &[("algoId", &aid)])
        .await
        .ok("get algo");
    assert_shape("http_algo_order_query", &got);
    let all = c
        .get("/fapi/v1/allAlgoOrders", &[("symbol", "BNBUSDT")])
        .await
        .ok("allAlgoOrders");
    super::shape::assert_each_shape("http_algo_order", &all);
    let del = c
        .delete("/fapi/v1/algoOrder", &[("algoId", &aid)])
        .await
        .ok("cancel algo");
    assert_shape("http_algo_order_cancel", &del);
    let pm = c
        .post(
            "/fapi/v1/marginType",
            &[("symbol", "LINKUSDT"), ("marginType", "ISOLATED")],
        )
        .await
        .ok("isolated");
    assert_shape("http_success", &pm);
    c.market("LINKUSDT", "BUY", "10")
        .await
        .ok("isolated position");
    let v = c
        .post(
            "/fapi/v1/positionMargin",
            &[("symbol", "LINKUSDT"), ("amount", "5"), ("type", "1")],
        )
        .await
        .ok("add margin");
    assert_shape("http_position_margin", &v);
    let admin = sim
        .admin(
            Method::GET,
            &format!("/admin/v1/accounts/{}", c.account_id),
            None,
        )
        .await
        .ok("admin view");
    assert!(
        admin["positions"].as_array().is_some_and(|p| !p.is_empty()),
        "admin view lists positions"
    );
    assert!(
        matches!(admin["balances"], Value::Array(_)),
        "admin view lists balances"
    );
}
