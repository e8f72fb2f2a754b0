//! Worked-number tests of the matching and margin model: slippage through the book, fees,
//! entry and PnL, resting fills, funding, isolated margin, liquidation, conditional orders.

use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::support::{dec, start};

fn rows(v: &Value) -> &Vec<Value> {
    v.as_array().expect("an array")
}

#[tokio::test]
async fn a_market_buy_walks_the_book_and_pays_taker_fee() {
    let sim = start().await;
    let c = sim.usdt("200000").await;
    // Asks: 0.5 @ 50000.5, 1.0 @ 50001.5, 1.5 @ 50002.5 → 2 BTC cost 100,003, average 50,001.5.
    let o = c.market("BTCUSDT", "BUY", "2").await.ok("market buy 2 BTC");
    assert_eq!(o["status"], json!("FILLED"), "RESULT shows the final state");
    assert_eq!(o["avgPrice"], json!("50001.5"), "average over three levels");
    assert_eq!(o["cumQuote"], json!("100003.00000"), "quote spent");
    let trades = c
        .get("/fapi/v1/userTrades", &[("symbol", "BTCUSDT")])
        .await
        .ok("trades");
    let prices: Vec<&str> = rows(&trades)
        .iter()
        .filter_map(|t| t["price"].as_str())
        .collect();
    assert_eq!(
        prices,
        vec!["50000.5", "50001.5", "50002.5"],
        "one trade per level"
    );
    // Fee 0.05 % of 100,003 = 50.0015.
    let b = c.usdt_balance().await;
    assert_eq!(
        dec(&b["balance"]),
        dec!(199949.9985),
        "wallet minus taker fee"
    );
    let p = c.position("BTCUSDT").await;
    assert_eq!(
        dec(&p["entryPrice"]),
        dec!(50001.5),
        "entry is the average fill"
    );
    assert_eq!(
        dec(&p["unRealizedProfit"]),
        dec!(-3),
        "2 × (50,000 − 50,001.5)"
    );
    // Notional 100,000 is in bracket 2: 100,000 × 0.5 % − 50 = 450.
    assert_eq!(
        dec(&p["maintMargin"]),
        dec!(450),
        "maintenance from the bracket"
    );
    assert_eq!(dec(&p["initialMargin"]), dec!(5000), "100,000 / 20x");
}

#[tokio::test]
async fn closing_realizes_pnl_and_books_income() {
    let sim = start().await;
    let c = sim.usdt("100000").await;
    c.market("BTCUSDT", "BUY", "1")
        .await
        .ok("buy 1 BTC at 50,001 average");
    sim.price("BTCUSDT", "51000").await;
    let p = c.position("BTCUSDT").await;
    assert_eq!(
        dec(&p["unRealizedProfit"]),
        dec!(999),
        "1 × (51,000 − 50,001)"
    );
    let o = c.market("BTCUSDT", "SELL", "1").await.ok("sell 1 BTC");
    assert_eq!(
        o["avgPrice"],
        json!("50999.0"),
        "bids 0.5 @ 50,999.5 and 0.5 @ 50,998.5"
    );
    // Realized 998; fees 25.0005 + 25.4995.
    let b = c.usdt_balance().await;
    assert_eq!(dec(&b["balance"]), dec!(100947.5), "100,000 + 998 − 50.5");
    let inc = c
        .get("/fapi/v1/income", &[("incomeType", "REALIZED_PNL")])
        .await
        .ok("income");
    let pnl: Vec<_> = rows(&inc).iter().map(|i| dec(&i["income"])).collect();
    // One entry per fill: 0.5 × (50,999.5 − 50,001) and 0.5 × (50,998.5 − 50,001).
    assert_eq!(
        pnl,
        vec![dec!(499.25), dec!(498.75)],
        "realized PnL per fill"
    );
    let fees = c
        .get("/fapi/v1/income", &[("incomeType", "COMMISSION")])
        .await
        .ok("fees");
    let total: rust_decimal::Decimal = rows(&fees).iter().map(|i| dec(&i["income"])).sum();
    assert_eq!(total, dec!(-50.5), "commission entries sum to the fees");
}

#[tokio::test]
async fn a_resting_limit_fills_as_maker_when_the_price_crosses() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    let o = c
        .limit("BTCUSDT", "BUY", "0.100", "49000", "GTC")
        .await
        .ok("limit buy");
    assert_eq!(o["status"], json!("NEW"), "rests below the ask");
    let id = o["orderId"].to_string();
    sim.price("BTCUSDT", "49000").await;
    let q = c
        .get("/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", &id)])
        .await
        .ok("query");
    assert_eq!(
        q["status"],
        json!("NEW"),
        "ask 49,000.5 has not reached 49,000"
    );
    sim.price("BTCUSDT", "48999.5").await;
    let q = c
        .get("/fapi/v1/order", &[("symbol", "BTCUSDT"), ("orderId", &id)])
        .await
        .ok("query");
    assert_eq!(
        q["status"],
        json!("FILLED"),
        "ask 49,000.0 crosses the limit"
    );
    assert_eq!(q["avgPrice"], json!("49000.0"), "fills at its own price");
    let t = c
        .get("/fapi/v1/userTrades", &[("symbol", "BTCUSDT")])
        .await
        .ok("trades");
    assert_eq!(t[0]["maker"], json!(true), "a resting fill is maker");
    // Maker fee 0.02 % of 4,900 = 0.98.
    assert_eq!(
        dec(&c.usdt_balance().await["balance"]),
        dec!(9999.02),
        "maker fee charged"
    );
}

#[tokio::test]
async fn ioc_remainder_expires_and_gtc_remainder_rests() {
    let sim = start().await;
    let c = sim.usdt("1000000").await;
    // Only the first ask level (0.5 @ 50,000.5) is at or below 50,000.5.
    let o = c
        .limit("BTCUSDT", "BUY", "1.000", "50000.5", "IOC")
        .await
        .ok("IOC");
    assert_eq!(
        (o["status"].clone(), o["executedQty"].clone()),
        (json!("EXPIRED"), json!("0.500")),
        "IOC fills 0.5 then expires"
    );
    let o = c
        .limit("BTCUSDT", "BUY", "1.000", "50000.5", "GTC")
        .await
        .ok("GTC");
    assert_eq!(
        (o["status"].clone(), o["executedQty"].clone()),
        (json!("PARTIALLY_FILLED"), json!("0.500")),
        "GTC rests the rest"
    );
}

#[tokio::test]
async fn funding_is_paid_every_eight_hours_of_simulated_time() {
    let sim = start().await;
    // Funding falls on the 8-hour grid of simulated time, wherever the clock started: step to
    // a minute before the next payment, across it, one hour on (none), then to the one after.
    // Simulated time is the premium index's `time`; `/fapi/v1/time` is the server's wall
    // clock, which request timestamps are checked against, and does not move with steps.
    let clock = || async {
        let index = sim
            .public("/fapi/v1/premiumIndex", "symbol=BTCUSDT")
            .await
            .ok("premium index");
        let now = index["time"].as_i64().expect("time");
        let next = index["nextFundingTime"].as_i64().expect("nextFundingTime");
        assert!(
            next > now && next - now <= 8 * 3_600_000,
            "next funding within 8 h: now {now}, next {next}"
        );
        (now, next)
    };
    // First step just past the next funding time, before anyone holds a position: the test
    // then starts eight hours from a payment however close to one the wall clock was (a run
    // at a minute to 16:00 UTC once asked the clock to go back).
    let (now, next) = clock().await;
    sim.advance(next - now + 1_000).await;
    let c = sim.usdt("100000").await;
    let s = sim.usdt("100000").await;
    c.market("BTCUSDT", "BUY", "1").await.ok("long 1 BTC");
    s.market("BTCUSDT", "SELL", "1").await.ok("short 1 BTC");
    let before_long = dec(&c.usdt_balance().await["balance"]);
    let before_short = dec(&s.usdt_balance().await["balance"]);
    let (now, next) = clock().await;
    let fundings = || async {
        let inc = c
            .get("/fapi/v1/income", &[("incomeType", "FUNDING_FEE")])
            .await
            .ok("income");
        rows(&inc).len()
    };
    // A minute's margin: the simulated clock also runs with wall time between the reads.
    sim.advance(next - now - 60_000).await;
    assert_eq!(fundings().await, 0, "nothing paid before the funding time");
    sim.advance(60_000).await;
    // Rate 0.01 % at mark 50,000: longs pay 5, shorts receive 5.
    assert_eq!(
        dec(&c.usdt_balance().await["balance"]),
        before_long - dec!(5),
        "long pays funding"
    );
    assert_eq!(
        dec(&s.usdt_balance().await["balance"]),
        before_short + dec!(5),
        "short receives funding"
    );
    let inc = c
        .get("/fapi/v1/income", &[("incomeType", "FUNDING_FEE")])
        .await
        .ok("income");
    assert_eq!(rows(&inc).len(), 1, "one funding at the funding time");
    assert_eq!(dec(&inc[0]["income"]), dec!(-5), "booked as FUNDING_FEE");
    sim.advance(3_600_000).await;
    assert_eq!(fundings().await, 1, "no second funding one hour later");
    sim.advance(7 * 3_600_000).await;
    assert_eq!(
        fundings().await,
        2,
        "the next one eight hours after the first"
    );
}

#[tokio::test]
async fn isolated_margin_add_reduce_and_max_reducible() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "10")],
    )
    .await
    .ok("10x");
    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .ok("isolated");
    c.market("BTCUSDT", "BUY", "0.100")
        .await
        .ok("0.1 @ 50,000.5");
    let p = c.position("BTCUSDT").await;
    assert_eq!(dec(&p["isolatedWallet"]), dec!(500.005), "5,000.05 / 10");
    c.post(
        "/fapi/v1/positionMargin",
        &[("symbol", "BTCUSDT"), ("amount", "100"), ("type", "1")],
    )
    .await
    .ok("add 100");
    assert_eq!(
        dec(&c.position("BTCUSDT").await["isolatedWallet"]),
        dec!(600.005),
        "margin added"
    );
    // Max reducible: 600.005 + (−0.05 loss) − 500 initial margin at the mark = 99.955.
    let view = sim.admin_account(&c.account_id).await;
    assert_eq!(
        dec(&view["positions"][0]["maxReducible"]),
        dec!(99.955),
        "admin view shows max reducible"
    );
    c.post(
        "/fapi/v1/positionMargin",
        &[("symbol", "BTCUSDT"), ("amount", "100"), ("type", "2")],
    )
    .await
    .assert_error(-4051, 400, "more than max reducible");
    c.post(
        "/fapi/v1/positionMargin",
        &[("symbol", "BTCUSDT"), ("amount", "99.955"), ("type", "2")],
    )
    .await
    .ok("reduce the max");
    assert_eq!(
        dec(&c.position("BTCUSDT").await["isolatedWallet"]),
        dec!(500.05),
        "margin reduced"
    );
    c.post(
        "/fapi/v1/positionMargin",
        &[("symbol", "BTCUSDT"), ("amount", "20000"), ("type", "1")],
    )
    .await
    .assert_error(-4050, 400, "more than available");
    c.market("ETHUSDT", "BUY", "0.100")
        .await
        .ok("cross ETH position");
    c.post(
        "/fapi/v1/positionMargin",
        &[("symbol", "ETHUSDT"), ("amount", "1"), ("type", "1")],
    )
    .await
    .assert_error(-4049, 400, "cross position");
    c.post(
        "/fapi/v1/positionMargin",
        &[("symbol", "SOLUSDT"), ("amount", "1"), ("type", "1")],
    )
    .await
    .assert_error(-4054, 400, "no position");
}

#[tokio::test]
async fn an_isolated_position_is_liquidated_at_maintenance() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "10")],
    )
    .await
    .ok("10x");
    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .ok("isolated");
    c.market("BTCUSDT", "BUY", "0.100")
        .await
        .ok("0.1 @ 50,000.5, margin 500.005, fee 2.500025");
    let p = c.position("BTCUSDT").await;
    // (0.1 × 50,000.5 − 500.005) / (0.1 − 0.1 × 0.004) = 45,181.1746988…
    assert_eq!(
        dec(&p["liquidationPrice"]),
        dec!(45181.17469880),
        "liquidation price"
    );
    sim.price("BTCUSDT", "45200").await;
    assert_ne!(
        c.position("BTCUSDT").await,
        Value::Null,
        "19.955 margin left above 18.08 maintenance"
    );
    sim.price("BTCUSDT", "45100").await;
    assert_eq!(
        c.position("BTCUSDT").await,
        Value::Null,
        "9.955 margin left below 18.04 maintenance: liquidated"
    );
    // The account loses exactly the isolated margin: 10,000 − 2.500025 − 500.005.
    assert_eq!(
        dec(&c.usdt_balance().await["balance"]),
        dec!(9497.494975),
        "wallet after liquidation"
    );
    let orders = c
        .get("/fapi/v1/allOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("orders");
    let last = rows(&orders).last().expect("an order");
    assert!(
        last["clientOrderId"]
            .as_str()
            .is_some_and(|id| id.starts_with("autoclose-")),
        "liquidation order id: {last}"
    );
    assert_eq!(last["type"], json!("LIQUIDATION"), "liquidation order type");
}

#[tokio::test]
async fn a_cross_account_is_liquidated_when_margin_balance_meets_maintenance() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "ETHUSDT"), ("leverage", "50")],
    )
    .await
    .ok("50x");
    c.market("ETHUSDT", "BUY", "10")
        .await
        .ok("10 ETH ≈ 30,000 notional on 1,000");
    sim.price("ETHUSDT", "2950").await;
    assert_ne!(
        c.position("ETHUSDT").await,
        Value::Null,
        "−500 loss leaves ~485 above maintenance"
    );
    sim.price("ETHUSDT", "2910").await;
    assert_eq!(
        c.position("ETHUSDT").await,
        Value::Null,
        "−900 loss breaches maintenance: liquidated"
    );
    assert!(
        dec(&c.usdt_balance().await["balance"]) >= dec!(0),
        "wallet never below zero"
    );
}

#[tokio::test]
async fn a_stop_market_close_position_triggers_on_mark_with_nobody_connected() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    c.market("BTCUSDT", "BUY", "0.100").await.ok("long 0.1");
    let a = c
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
    let open = c
        .get("/fapi/v1/openOrders", &[("symbol", "BTCUSDT")])
        .await
        .ok("openOrders");
    assert_eq!(
        rows(&open).len(),
        0,
        "algo orders are not regular open orders"
    );
    sim.price("BTCUSDT", "45010").await;
    assert_ne!(
        c.position("BTCUSDT").await,
        Value::Null,
        "above the trigger nothing happens"
    );
    sim.price("BTCUSDT", "44990").await;
    assert_eq!(
        c.position("BTCUSDT").await,
        Value::Null,
        "the stop closed the position"
    );
    let g = c
        .get(
            "/fapi/v1/algoOrder",
            &[("algoId", &a["algoId"].to_string())],
        )
        .await
        .ok("algo");
    assert_eq!(g["algoStatus"], json!("FINISHED"), "algo finished");
    assert_eq!(g["actualPrice"], json!("44989.5"), "filled at the bid");
    // Realized 0.1 × (44,989.5 − 50,000.5) = −501.1.
    let inc = c
        .get("/fapi/v1/income", &[("incomeType", "REALIZED_PNL")])
        .await
        .ok("income");
    assert_eq!(
        dec(&inc[0]["income"]),
        dec!(-501.1),
        "realized loss of the stop"
    );
}

#[tokio::test]
async fn multi_assets_mode_pools_usdc_margin() {
    let sim = start().await;
    let c = sim
        .account(json!({"balances": {"USDT": "0", "USDC": "1000"}}))
        .await;
    c.market("BTCUSDT", "BUY", "0.010").await.assert_error(
        -2019,
        400,
        "no USDT in single-asset mode",
    );
    c.post(
        "/fapi/v1/multiAssetsMargin",
        &[("multiAssetsMargin", "true")],
    )
    .await
    .ok("Multi-Assets on");
    c.market("BTCUSDT", "BUY", "0.010")
        .await
        .ok("USDC margins a USDT contract");
    let acc = c.get("/fapi/v3/account", &[]).await.ok("account");
    assert_eq!(
        dec(&acc["totalInitialMargin"]),
        dec!(25),
        "500 notional / 20x in the pooled totals"
    );
}

#[tokio::test]
async fn hedge_mode_holds_both_sides_and_one_way_flips() {
    let sim = start().await;
    let h = sim.hedge("100000").await;
    let long = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.010"),
        ("positionSide", "LONG"),
    ];
    let short = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "0.020"),
        ("positionSide", "SHORT"),
    ];
    h.post("/fapi/v1/order", &long).await.ok("long");
    h.post("/fapi/v1/order", &short).await.ok("short");
    let r = h
        .get("/fapi/v3/positionRisk", &[("symbol", "BTCUSDT")])
        .await
        .ok("positions");
    let amts: Vec<(String, String)> = rows(&r)
        .iter()
        .map(|p| {
            (
                p["positionSide"].as_str().unwrap_or("").to_owned(),
                p["positionAmt"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        amts,
        vec![
            ("LONG".into(), "0.010".into()),
            ("SHORT".into(), "-0.020".into())
        ],
        "both sides held"
    );

    let c = sim.usdt("100000").await;
    c.market("BTCUSDT", "BUY", "0.010").await.ok("long 0.01");
    c.market("BTCUSDT", "SELL", "0.030")
        .await
        .ok("sell through zero");
    let p = c.position("BTCUSDT").await;
    assert_eq!(p["positionAmt"], json!("-0.020"), "flipped to a 0.02 short");
    assert_eq!(
        dec(&p["entryPrice"]),
        dec!(49999.5),
        "short opened at the fill"
    );
}

#[tokio::test]
async fn batch_orders_answer_each_item_in_order() {
    let sim = start().await;
    let c = sim.usdt("100000").await;
    let batch = json!([
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.010", "price": "45000", "timeInForce": "GTC", "newClientOrderId": "b-1"},
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.0101", "price": "45000", "timeInForce": "GTC"},
        {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.010"}
    ])
    .to_string();
    let r = c
        .post("/fapi/v1/batchOrders", &[("batchOrders", &batch)])
        .await
        .ok("batch");
    assert_eq!(r[0]["clientOrderId"], json!("b-1"), "first item placed");
    assert_eq!(
        r[1]["code"],
        json!(-1111),
        "second item carries its own error"
    );
    assert_eq!(r[2]["type"], json!("MARKET"), "third item placed");
    super::shape::assert_shape("http_order", &r[0]);
    super::shape::assert_shape("http_error", &r[1]);
    let ids = json!([r[0]["orderId"], 1]).to_string();
    let d = c
        .delete(
            "/fapi/v1/batchOrders",
            &[("symbol", "BTCUSDT"), ("orderIdList", &ids)],
        )
        .await
        .ok("batch cancel");
    assert_eq!(d[0]["status"], json!("CANCELED"), "known order cancelled");
    assert_eq!(
        d[1]["code"],
        json!(-2011),
        "unknown order answered with -2011"
    );
    let six = json!([{}, {}, {}, {}, {}, {}]).to_string();
    c.post("/fapi/v1/batchOrders", &[("batchOrders", &six)])
        .await
        .assert_error(-1130, 400, "more than five orders");
}

#[tokio::test]
async fn modifying_a_limit_order_amends_it_and_may_fill_it() {
    let sim = start().await;
    let c = sim.usdt("100000").await;
    let o = c
        .limit("BTCUSDT", "BUY", "0.010", "45000", "GTC")
        .await
        .ok("limit");
    let id = o["orderId"].to_string();
    let put = |qty: &'static str, price: &'static str| {
        let c = c.clone();
        let id = id.clone();
        async move {
            c.signed(
                reqwest::Method::PUT,
                "/fapi/v1/order",
                &[
                    ("symbol", "BTCUSDT"),
                    ("orderId", &id),
                    ("side", "BUY"),
                    ("quantity", qty),
                    ("price", price),
                ],
            )
            .await
        }
    };
    let m = put("0.020", "46000").await.ok("modify");
    super::shape::assert_shape("http_order", &m);
    assert_eq!(
        (
            m["price"].clone(),
            m["origQty"].clone(),
            m["status"].clone()
        ),
        (json!("46000.0"), json!("0.020"), json!("NEW")),
        "amended in place"
    );
    put("0.020", "46000")
        .await
        .assert_error(-5027, 400, "nothing to change");
    let m = put("0.020", "50000.5").await.ok("modify across the book");
    assert_eq!(
        (m["status"].clone(), m["avgPrice"].clone()),
        (json!("FILLED"), json!("50000.5")),
        "a crossing price takes the ask"
    );
    put("0.030", "45000")
        .await
        .assert_error(-2013, 400, "a filled order cannot be modified");
}

#[tokio::test]
async fn lowering_leverage_needs_the_margin_for_it() {
    let sim = start().await;
    let c = sim.usdt("1000").await;
    // 0.3 @ 50,000.5, fee 7.500075: wallet 992.499925, PnL −0.15 at the mark.
    c.market("BTCUSDT", "BUY", "0.300")
        .await
        .ok("15,000 notional at 20x: 750 margin");
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "15")],
    )
    .await
    .assert_error(-2019, 400, "15x needs 1,000 against 992.349925");
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "16")],
    )
    .await
    .ok("16x needs 937.5");
    let acc = c.get("/fapi/v3/account", &[]).await.ok("account");
    assert_eq!(
        dec(&acc["availableBalance"]),
        dec!(54.849925),
        "992.499925 − 0.15 − 937.5"
    );
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "125")],
    )
    .await
    .ok("raising leverage always fits");
}
