//! User-data and market streams over real WebSockets: event order and shapes, the
//! listenKey lifecycle, URL forms, the `events=` filter, combined wrapping and faults.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::shape::assert_shape;
use super::support::{start, Client, Sim};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects")
        .0
}

/// The next JSON message; `None` when the socket closed. Guarded so a broken server fails
/// the test instead of hanging it.
async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message or a close within 10 s");
        match msg {
            Some(Ok(Message::Text(t))) => {
                return Some(serde_json::from_str(t.as_str()).expect("JSON frame"))
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

async fn next_event(ws: &mut Ws, what: &str) -> Value {
    next(ws)
        .await
        .unwrap_or_else(|| panic!("expected {what}, the socket closed"))
}

/// Advances simulated time by `total` ms in 50-minute steps, keeping the listenKey alive.
async fn advance_keeping(sim: &Sim, c: &Client, total: i64) {
    let mut left = total;
    while left > 0 {
        let step = left.min(50 * 60_000);
        sim.advance(step).await;
        let put = c
            .http
            .put(format!("{}/fapi/v1/listenKey", c.base))
            .header("X-MBX-APIKEY", &c.key)
            .send()
            .await
            .expect("put");
        assert_eq!(put.status(), 200, "keepalive while advancing");
        left -= step;
    }
}

async fn user(sim: &Sim, c: &Client) -> (Ws, String) {
    let key = c.listen_key().await;
    let ws = connect(&format!(
        "{}/private/ws?listenKey={key}",
        sim.handle.ws_url()
    ))
    .await;
    (ws, key)
}

#[tokio::test]
async fn user_trades_report_the_fee_paid_as_the_stream_does_positive() {
    // The venue's live responses show the fee paid as a positive `commission`, the same
    // number as the fill event's `n` (binance-usdm.md §userTrades).
    let sim = start().await;
    let c = sim.usdt("10000").await;
    let (mut ws, _) = user(&sim, &c).await;
    c.market("BTCUSDT", "BUY", "0.010").await.ok("market buy");
    let _new = next_event(&mut ws, "ORDER_TRADE_UPDATE NEW").await;
    let trade = next_event(&mut ws, "ORDER_TRADE_UPDATE TRADE").await;
    let trades = c
        .get("/fapi/v1/userTrades", &[("symbol", "BTCUSDT")])
        .await
        .ok("userTrades");
    assert_eq!(
        (trades[0]["commission"].clone(), trade["o"]["n"].clone()),
        (json!("0.25000250"), json!("0.25000250")),
        "userTrades and the stream both show the taker fee 0.010 × 50,000.5 × 0.05 % as paid (positive)"
    );
}

#[tokio::test]
async fn a_market_fill_streams_new_trade_then_account_update() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    let (mut ws, _) = user(&sim, &c).await;
    c.market("BTCUSDT", "BUY", "0.010").await.ok("market buy");
    let new = next_event(&mut ws, "ORDER_TRADE_UPDATE NEW").await;
    assert_shape("ws_order_trade_update_new", &new);
    assert_eq!(
        (new["e"].clone(), new["o"]["x"].clone()),
        (json!("ORDER_TRADE_UPDATE"), json!("NEW")),
        "first the NEW event"
    );
    let trade = next_event(&mut ws, "ORDER_TRADE_UPDATE TRADE").await;
    assert_eq!(
        (trade["o"]["x"].clone(), trade["o"]["X"].clone()),
        (json!("TRADE"), json!("FILLED")),
        "then the fill"
    );
    assert_eq!(trade["o"]["L"], json!("50000.5"), "last fill price");
    assert_eq!(
        trade["o"]["n"],
        json!("0.25000250"),
        "commission 0.010 × 50,000.5 × 0.05 %"
    );
    assert_shape("ws_order_trade_update_trade", &trade);
    let acc = next_event(&mut ws, "ACCOUNT_UPDATE").await;
    assert_eq!(acc["a"]["m"], json!("ORDER"), "reason ORDER");
    assert_eq!(acc["a"]["P"][0]["pa"], json!("0.010"), "position amount");
    assert_shape("ws_account_update", &acc);
    let times: Vec<i64> = [&new, &trade, &acc]
        .iter()
        .map(|e| e["E"].as_i64().expect("E"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "event times never go back: {times:?}"
    );
}

#[tokio::test]
async fn config_algo_margin_and_funding_events_have_their_shapes() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    let (mut ws, _) = user(&sim, &c).await;
    c.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "10")],
    )
    .await
    .ok("leverage");
    let e = next_event(&mut ws, "leverage update").await;
    assert_eq!(
        e["ac"],
        json!({"s": "BTCUSDT", "l": 10}),
        "leverage change event"
    );
    assert_shape("ws_account_config_update_leverage", &e);
    c.post(
        "/fapi/v1/multiAssetsMargin",
        &[("multiAssetsMargin", "true")],
    )
    .await
    .ok("multi");
    let e = next_event(&mut ws, "multi-assets update").await;
    assert_shape("ws_account_config_update_multi_assets", &e);
    c.post(
        "/fapi/v1/multiAssetsMargin",
        &[("multiAssetsMargin", "false")],
    )
    .await
    .ok("single");
    next_event(&mut ws, "multi-assets off").await;

    let a = c
        .post(
            "/fapi/v1/algoOrder",
            &[
                ("algoType", "CONDITIONAL"),
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "STOP_MARKET"),
                ("triggerPrice", "55000"),
                ("quantity", "0.010"),
            ],
        )
        .await
        .ok("algo");
    let e = next_event(&mut ws, "ALGO_UPDATE NEW").await;
    assert_eq!(e["o"]["X"], json!("NEW"), "algo NEW");
    assert_shape("ws_algo_update", &e);
    c.delete(
        "/fapi/v1/algoOrder",
        &[("algoId", &a["algoId"].to_string())],
    )
    .await
    .ok("cancel algo");
    let e = next_event(&mut ws, "ALGO_UPDATE CANCELED").await;
    assert_shape("ws_algo_update", &e);
    assert_eq!(e["o"]["X"], json!("CANCELED"), "algo CANCELED");

    c.post(
        "/fapi/v1/marginType",
        &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")],
    )
    .await
    .ok("isolated");
    c.market("BTCUSDT", "BUY", "0.010")
        .await
        .ok("isolated position");
    for _ in 0..3 {
        next_event(&mut ws, "fill events").await;
    }
    c.post(
        "/fapi/v1/positionMargin",
        &[("symbol", "BTCUSDT"), ("amount", "10"), ("type", "1")],
    )
    .await
    .ok("add margin");
    let e = next_event(&mut ws, "margin transfer update").await;
    assert_eq!(
        e["a"]["m"],
        json!("MARGIN_TRANSFER"),
        "configured reason for isolated transfers"
    );
    assert_eq!(
        e["a"]["P"][0]["mt"],
        json!("isolated"),
        "lowercase margin type"
    );
    assert_shape("ws_account_update", &e);

    advance_keeping(&sim, &c, 8 * 3_600_000).await;
    let e = next_event(&mut ws, "funding update").await;
    assert_eq!(
        (e["a"]["m"].clone(), e["a"]["S"].clone()),
        (json!("FUNDING_FEE"), json!("BTCUSDT")),
        "funding reason and symbol"
    );
    assert_eq!(
        e["a"]["P"].as_array().map(Vec::len),
        Some(1),
        "isolated funding carries the position"
    );
}

#[tokio::test]
async fn cross_funding_event_has_no_positions() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    c.market("BTCUSDT", "BUY", "0.010")
        .await
        .ok("cross position");
    let (mut ws, _) = user(&sim, &c).await;
    advance_keeping(&sim, &c, 8 * 3_600_000).await;
    let e = next_event(&mut ws, "funding update").await;
    assert_shape("ws_account_update_funding", &e);
}

#[tokio::test]
async fn listen_key_lifecycle() {
    let sim = start().await;
    let c = sim.usdt("100").await;
    let (mut ws, key) = user(&sim, &c).await;
    assert_eq!(c.listen_key().await, key, "an active key is returned again");
    sim.advance(50 * 60_000).await;
    let put = c
        .http
        .put(format!("{}/fapi/v1/listenKey", c.base))
        .header("X-MBX-APIKEY", &c.key)
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 200, "keepalive within the hour");
    sim.advance(50 * 60_000).await;
    c.get("/fapi/v3/account", &[]).await.ok("still usable");
    sim.advance(11 * 60_000).await;
    let e = next_event(&mut ws, "listenKeyExpired").await;
    assert_eq!(e["listenKey"], json!(key), "names the expired key");
    assert_shape("ws_listen_key_expired_int", &e);
    assert!(
        next(&mut ws).await.is_none(),
        "the socket closes after expiry"
    );
    let put = c
        .http
        .put(format!("{}/fapi/v1/listenKey", c.base))
        .header("X-MBX-APIKEY", &c.key)
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 400, "keepalive of an expired key");
    let v: Value = put.json().await.expect("json");
    assert_eq!(v["code"], json!(-1125), "-1125 for an expired key");
    let fresh = c.listen_key().await;
    assert_ne!(fresh, key, "a new key after expiry");
    let r = tokio_tungstenite::connect_async(format!(
        "{}/private/ws?listenKey={key}",
        sim.handle.ws_url()
    ))
    .await;
    assert!(r.is_err(), "the old key no longer opens a stream");
}

#[tokio::test]
async fn closing_the_key_ends_the_stream() {
    let sim = start().await;
    let c = sim.usdt("100").await;
    let (mut ws, key) = user(&sim, &c).await;
    let del = c
        .http
        .delete(format!("{}/fapi/v1/listenKey", c.base))
        .header("X-MBX-APIKEY", &c.key)
        .send()
        .await
        .expect("delete");
    assert_eq!(del.status(), 200, "close accepted");
    let e = next_event(&mut ws, "listenKeyExpired").await;
    assert_eq!(e["listenKey"], json!(key), "close announces the key");
    assert!(next(&mut ws).await.is_none(), "then the socket closes");
}

#[tokio::test]
async fn url_forms_filter_and_combined_wrapping() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    let key = c.listen_key().await;
    let base = sim.handle.ws_url();
    let mut filtered = connect(&format!(
        "{base}/private/ws?listenKey={key}&events=ACCOUNT_UPDATE/listenKeyExpired"
    ))
    .await;
    let mut path = connect(&format!("{base}/private/ws/{key}")).await;
    let mut combined = connect(&format!("{base}/private/stream?streams={key}")).await;
    let mut legacy = connect(&format!("{base}/ws/{key}")).await;
    c.market("BTCUSDT", "BUY", "0.010").await.ok("fill");
    let e = next_event(&mut filtered, "filtered event").await;
    assert_eq!(
        e["e"],
        json!("ACCOUNT_UPDATE"),
        "events= lets only listed events through"
    );
    let e = next_event(&mut path, "path form event").await;
    assert_eq!(
        e["e"],
        json!("ORDER_TRADE_UPDATE"),
        "path form carries everything"
    );
    let e = next_event(&mut combined, "combined event").await;
    assert_eq!(
        e["stream"],
        json!(key),
        "combined wraps with the stream name"
    );
    assert_eq!(
        e["data"]["e"],
        json!("ORDER_TRADE_UPDATE"),
        "combined payload"
    );
    let e = next_event(&mut legacy, "legacy event").await;
    assert_eq!(e["e"], json!("ORDER_TRADE_UPDATE"), "legacy /ws/<key> form");
}

#[tokio::test]
async fn market_streams_follow_prices_and_fills() {
    let sim = start().await;
    let base = sim.handle.ws_url();
    let mut comb = connect(&format!("{base}/public/stream?streams=btcusdt@bookTicker")).await;
    let mut sub = connect(&format!("{base}/market/ws")).await;
    sub.send(Message::Text(
        r#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@markPrice@1s"],"id":1}"#
            .into(),
    ))
    .await
    .expect("subscribe sent");
    assert_eq!(
        next_event(&mut sub, "subscribe reply").await,
        json!({"result": null, "id": 1}),
        "subscription acknowledged"
    );
    sim.price("BTCUSDT", "51000").await;
    let e = next_event(&mut comb, "bookTicker").await;
    assert_eq!(
        e["stream"],
        json!("btcusdt@bookTicker"),
        "combined stream name"
    );
    assert_eq!(
        e["data"]["b"],
        json!("50999.5"),
        "best bid follows the new price"
    );
    assert_shape("ws_book_ticker", &e["data"]);
    let e = loop {
        let e = next_event(&mut sub, "markPrice").await;
        if e["p"] == json!("51000.00000000") {
            break e;
        }
    };
    assert_shape("ws_mark_price", &e);
    let c = sim.usdt("10000").await;
    c.market("BTCUSDT", "SELL", "0.010").await.ok("a trade");
    let e = loop {
        let e = next_event(&mut sub, "aggTrade").await;
        if e["e"] == json!("aggTrade") {
            break e;
        }
    };
    assert_eq!(
        e["m"],
        json!(true),
        "a taker sell means the buyer was maker"
    );
    assert_shape("ws_agg_trade", &e);
    let mut all = connect(&format!("{base}/market/stream?streams=!markPrice@arr")).await;
    let e = next_event(&mut all, "all mark prices").await;
    assert_eq!(
        e["stream"],
        json!("!markPrice@arr"),
        "combined name of the array stream"
    );
    let rows = e["data"].as_array().expect("an array of mark prices");
    assert_eq!(rows.len(), 11, "one row per listed symbol");
    for row in rows {
        assert_shape("ws_mark_price", row);
    }
}

#[tokio::test]
async fn faults_drop_and_stall_user_streams() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    let (mut ws, key) = user(&sim, &c).await;
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"stallUserStreams": true})),
    )
    .await
    .ok("stall");
    c.market("BTCUSDT", "BUY", "0.010")
        .await
        .ok("fill while stalled");
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"stallUserStreams": false})),
    )
    .await
    .ok("unstall");
    let e = next_event(&mut ws, "held event").await;
    assert_eq!(
        e["o"]["x"],
        json!("NEW"),
        "held events arrive in order after the stall"
    );
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"dropUserStreams": true})),
    )
    .await
    .ok("drop");
    let mut closed = false;
    for _ in 0..10 {
        if next(&mut ws).await.is_none() {
            closed = true;
            break;
        }
    }
    assert!(closed, "the socket is dropped");
    let mut again = connect(&format!(
        "{}/private/ws?listenKey={key}",
        sim.handle.ws_url()
    ))
    .await;
    c.market("BTCUSDT", "BUY", "0.010")
        .await
        .ok("fill after reconnect");
    assert_eq!(
        next_event(&mut again, "event after reconnect").await["e"],
        json!("ORDER_TRADE_UPDATE"),
        "reconnect works"
    );
}

#[tokio::test]
async fn a_socket_is_closed_after_24_hours() {
    let sim = start().await;
    let c = sim.usdt("100").await;
    let (mut ws, _) = user(&sim, &c).await;
    // Keepalives hold the key for 24 hours; the socket itself must still be closed.
    for _ in 0..24 {
        sim.advance(59 * 60_000).await;
        let put = c
            .http
            .put(format!("{}/fapi/v1/listenKey", c.base))
            .header("X-MBX-APIKEY", &c.key)
            .send()
            .await
            .expect("put");
        assert_eq!(put.status(), 200, "keepalive");
    }
    sim.advance(60 * 60_000 - 60_000).await;
    let put = c
        .http
        .put(format!("{}/fapi/v1/listenKey", c.base))
        .header("X-MBX-APIKEY", &c.key)
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 200, "key still alive");
    assert!(next(&mut ws).await.is_none(), "closed at 24 hours of age");
}

#[tokio::test]
async fn a_triggered_stop_announces_itself_before_its_order_events() {
    let sim = start().await;
    let c = sim.usdt("10000").await;
    c.market("BTCUSDT", "BUY", "0.010").await.ok("long");
    let (mut ws, _) = user(&sim, &c).await;
    c.post(
        "/fapi/v1/algoOrder",
        &[
            ("algoType", "CONDITIONAL"),
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "STOP_MARKET"),
            ("triggerPrice", "49000"),
            ("closePosition", "true"),
            ("workingType", "MARK_PRICE"),
            ("clientAlgoId", "stop-1"),
        ],
    )
    .await
    .ok("stop");
    sim.price("BTCUSDT", "48990").await;
    let mut seen = Vec::new();
    let mut order_id = None;
    while seen.last().map(String::as_str) != Some("ALGO_UPDATE:FINISHED") {
        let e = next_event(&mut ws, "stop lifecycle").await;
        let tag = match e["e"].as_str() {
            Some("ALGO_UPDATE") => {
                if e["o"]["X"] == json!("TRIGGERED") {
                    order_id = e["o"]["ai"].as_str().map(str::to_owned);
                }
                format!("ALGO_UPDATE:{}", e["o"]["X"].as_str().unwrap_or(""))
            }
            Some("ORDER_TRADE_UPDATE") => {
                assert_eq!(
                    Some(e["o"]["i"].to_string()),
                    order_id,
                    "order events belong to the order TRIGGERED named"
                );
                format!("ORDER_TRADE_UPDATE:{}", e["o"]["x"].as_str().unwrap_or(""))
            }
            Some(other) => other.to_owned(),
            None => "?".to_owned(),
        };
        seen.push(tag);
    }
    assert_eq!(
        seen,
        vec![
            "ALGO_UPDATE:NEW",
            "ALGO_UPDATE:TRIGGERING",
            "ALGO_UPDATE:TRIGGERED",
            "ORDER_TRADE_UPDATE:NEW",
            "ORDER_TRADE_UPDATE:TRADE",
            "ACCOUNT_UPDATE",
            "ALGO_UPDATE:FINISHED"
        ],
        "the documented lifecycle, in order"
    );
}

#[tokio::test]
async fn a_margin_call_comes_once_before_liquidation() {
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
        .ok("10 ETH at 3,000.1 on 984.9995 after fees");
    let (mut ws, _) = user(&sim, &c).await;
    // At 2,925 the loss is 751: margin 233.9995 against maintenance 117 (50 %): no call.
    sim.price("ETHUSDT", "2925").await;
    // At 2,915 the loss is 851: margin 133.9995 against maintenance 116.6 (87 %): a call.
    sim.price("ETHUSDT", "2915").await;
    let e = next_event(&mut ws, "MARGIN_CALL").await;
    assert_eq!(
        e["e"],
        json!("MARGIN_CALL"),
        "the first event is the margin call"
    );
    assert_eq!(
        e["p"][0]["mm"],
        json!("116.60000000"),
        "maintenance at 29,150 notional × 0.4 %"
    );
    assert_eq!(e["cw"], json!("984.99950000"), "cross wallet");
    assert_shape("ws_margin_call", &e);
    sim.price("ETHUSDT", "2914").await;
    sim.price("ETHUSDT", "2905").await;
    let e = next_event(&mut ws, "liquidation").await;
    assert_eq!(
        e["o"]["o"],
        json!("LIQUIDATION"),
        "no second margin call; next comes the liquidation"
    );
    assert!(
        e["o"]["c"]
            .as_str()
            .is_some_and(|c| c.starts_with("autoclose-")),
        "autoclose client id"
    );
}

#[tokio::test]
async fn a_liquidation_streams_new_then_a_calculated_execution_with_its_fill() {
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
        .ok("10 ETH at 3,000.1 on 984.9995 after fees");
    let (mut ws, _) = user(&sim, &c).await;
    // Straight through maintenance (see the margin-call test's numbers): liquidated at 2,905.
    sim.price("ETHUSDT", "2905").await;
    let mut orders = Vec::new();
    while orders.len() < 2 {
        let e = next_event(&mut ws, "liquidation events").await;
        if e["e"] == json!("ORDER_TRADE_UPDATE") {
            orders.push(e);
        }
    }
    let (new, calc) = (&orders[0]["o"], &orders[1]["o"]);
    assert_eq!(
        (
            new["x"].clone(),
            new["X"].clone(),
            new["o"].clone(),
            new["f"].clone()
        ),
        (
            json!("NEW"),
            json!("NEW"),
            json!("LIQUIDATION"),
            json!("IOC")
        ),
        "first the liquidation order as NEW (binance-usdm.md §4.1): {new}"
    );
    assert!(
        new["c"]
            .as_str()
            .is_some_and(|c| c.starts_with("autoclose-")),
        "autoclose client id: {new}"
    );
    assert_eq!(
        (
            calc["x"].clone(),
            calc["X"].clone(),
            calc["o"].clone(),
            calc["S"].clone(),
            calc["l"].clone(),
            calc["z"].clone(),
            calc["L"].clone(),
            calc["c"].clone(),
            calc["i"].clone(),
        ),
        (
            json!("CALCULATED"),
            json!("FILLED"),
            json!("LIQUIDATION"),
            json!("SELL"),
            json!("10.000"),
            json!("10.000"),
            json!("2905.00"),
            new["c"].clone(),
            new["i"].clone(),
        ),
        "then the execution: x = CALCULATED with the whole position sold at the mark: {calc}"
    );
    assert_eq!(
        (calc["rp"].clone(), calc["n"].clone(), calc["N"].clone()),
        (json!("-951.00000000"), json!("14.52500000"), json!("USDT")),
        "the fill's realized PnL (10 × (2,905 − 3,000.1)) and its fee (0.05 % of 29,050)"
    );
    assert!(
        calc["t"].as_u64().is_some_and(|t| t > 0),
        "a liquidation fill has a trade id: {calc}"
    );
    assert_shape("ws_order_trade_update_trade", &orders[1]);
}

#[tokio::test]
async fn stalling_one_key_leaves_the_others_flowing() {
    let sim = start().await;
    let a = sim.usdt("10000").await;
    let b = sim.usdt("10000").await;
    let (mut wa, ka) = user(&sim, &a).await;
    let (mut wb, _) = user(&sim, &b).await;
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"stallListenKey": ka})),
    )
    .await
    .ok("stall a");
    a.market("BTCUSDT", "BUY", "0.010").await.ok("fill on a");
    b.market("BTCUSDT", "BUY", "0.010").await.ok("fill on b");
    assert_eq!(
        next_event(&mut wb, "b's event").await["e"],
        json!("ORDER_TRADE_UPDATE"),
        "b is not stalled"
    );
    sim.admin(
        Method::POST,
        "/admin/v1/faults",
        Some(json!({"unstallListenKey": ka})),
    )
    .await
    .ok("release a");
    assert_eq!(
        next_event(&mut wa, "a's held event").await["o"]["x"],
        json!("NEW"),
        "a's events arrive once released"
    );
}

/// A control frame larger than the socket's read buffer (4 KiB) is read whole, over
/// several reads: all of a 400-stream subscription is taken and listed back.
#[tokio::test]
async fn a_subscription_larger_than_the_read_buffer_is_read_whole() {
    let sim = start().await;
    let mut sub = connect(&format!("{}/market/ws", sim.handle.ws_url())).await;
    let names: Vec<String> = (0..400)
        .map(|i| format!("sym{i:03}usdt@markPrice@1s"))
        .collect();
    let frame = json!({"method": "SUBSCRIBE", "params": names, "id": 7}).to_string();
    assert!(frame.len() > 8 * 1024, "the frame spans several reads");
    sub.send(Message::Text(frame.into()))
        .await
        .expect("subscribe sent");
    assert_eq!(
        next_event(&mut sub, "subscribe reply").await,
        json!({"result": null, "id": 7}),
        "subscription acknowledged"
    );
    sub.send(Message::Text(
        r#"{"method":"LIST_SUBSCRIPTIONS","id":8}"#.into(),
    ))
    .await
    .expect("list sent");
    let listed = loop {
        let e = next_event(&mut sub, "subscription list").await;
        if e["id"] == json!(8) {
            break e;
        }
    };
    let mut want = names.clone();
    want.sort();
    assert_eq!(
        listed["result"],
        json!(want),
        "every stream of the frame is kept"
    );
}
