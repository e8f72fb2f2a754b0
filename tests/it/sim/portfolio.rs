//! Klines and the public lead-portfolio endpoints, over real HTTP: klines agree with the
//! demo history's fills, every lead-portfolio account is listed and described, and the
//! source's own failures (budget, geo block, hidden positions, a changed field) show.

use copydesk::sim::portfolio::{portfolio_id, BASE};
use copydesk::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::support::{dec, start_with, Client, Sim};

async fn bapi_get(sim: &Sim, path: &str) -> (StatusCode, Value) {
    let r = sim
        .http
        .get(format!("{}{BASE}{path}", sim.base()))
        .send()
        .await
        .expect("request sent");
    let status = r.status();
    let text = r.text().await.expect("body read");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn bapi_post(sim: &Sim, path: &str, body: Value) -> (StatusCode, Value) {
    let r = sim
        .http
        .post(format!("{}{BASE}{path}", sim.base()))
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = r.status();
    let text = r.text().await.expect("body read");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn data(r: (StatusCode, Value), what: &str) -> Value {
    assert_eq!(r.0, StatusCode::OK, "{what}: HTTP status (body {})", r.1);
    assert_eq!(r.1["code"], json!("000000"), "{what}: envelope code");
    assert_eq!(r.1["success"], json!(true), "{what}: success flag");
    r.1["data"].clone()
}

fn leader_client(sim: &Sim, i: usize) -> Client {
    let l = &sim.handle.demo_leaders()[i];
    Client {
        base: sim.base(),
        http: sim.http.clone(),
        account_id: l.account_id.clone(),
        key: l.api_key.clone(),
        secret: l.secret_key.clone(),
    }
}

#[tokio::test]
async fn klines_agree_with_the_demo_history_and_live_prices() {
    let sim = start_with(SimConfig {
        demo_leaders: 1,
        seed: 5,
        ..SimConfig::default()
    })
    .await;
    let c = leader_client(&sim, 0);
    let now = sim.handle.now();
    let from = now - 40 * 86_400_000;
    let tr = c
        .get(
            "/fapi/v1/userTrades",
            &[
                ("symbol", "BTCUSDT"),
                ("startTime", &from.to_string()),
                ("endTime", &(from + 86_400_000).to_string()),
            ],
        )
        .await;
    let used = tr.weight.expect("weight header");
    let trades = tr.ok("leader trades");
    let trades = trades.as_array().expect("array");
    assert!(trades.len() > 3, "a scalper trades several times a day");
    let first = trades[0]["time"].as_i64().expect("time");
    let k = sim
        .public(
            "/fapi/v1/klines",
            &format!("symbol=BTCUSDT&interval=1m&startTime={first}&limit=1500"),
        )
        .await;
    assert_eq!(k.weight, Some(used + 10), "limit 1500 weighs 10");
    let k = k.ok("1m klines");
    let rows = k.as_array().expect("array");
    assert_eq!(rows.len(), 1500, "a full page of minutes");
    for t in trades {
        let time = t["time"].as_i64().expect("time");
        let Some(row) = rows.iter().find(|r| {
            let open = r[0].as_i64().unwrap_or(0);
            open <= time && time < open + 60_000
        }) else {
            continue;
        };
        assert_eq!(
            row[4], t["price"],
            "the minute's close is the price the demo history traded at ({time})"
        );
    }
    // Hourly klines: every fill lies inside its hour's range.
    let h = sim
        .public(
            "/fapi/v1/klines",
            &format!(
                "symbol=BTCUSDT&interval=1h&startTime={from}&endTime={}",
                from + 86_400_000
            ),
        )
        .await
        .ok("1h klines");
    let hours = h.as_array().expect("array");
    assert_eq!(hours.len(), 25, "hours touching one day");
    for t in trades {
        let time = t["time"].as_i64().expect("time");
        let row = hours
            .iter()
            .find(|r| {
                let open = r[0].as_i64().unwrap_or(0);
                open <= time && time < open + 3_600_000
            })
            .expect("an hour kline for each fill");
        let p = dec(&t["price"]);
        assert!(
            dec(&row[3]) <= p && p <= dec(&row[2]),
            "fill at {p} inside its hour's low..high {row}"
        );
        assert_eq!(
            row[6].as_i64(),
            row[0].as_i64().map(|o| o + 3_599_999),
            "close time"
        );
    }
    // Live: a price move is the last kline's close.
    sim.price("BTCUSDT", "61234.5").await;
    let last = sim
        .public("/fapi/v1/klines", "symbol=BTCUSDT&interval=5m&limit=2")
        .await
        .ok("latest klines");
    assert_eq!(
        last[1][4],
        json!("61234.5"),
        "the latest close is the new price"
    );
    sim.public("/fapi/v1/klines", "symbol=BTCUSDT&interval=7m")
        .await
        .assert_error(-1130, 400, "unknown interval");
}

#[tokio::test]
async fn lead_portfolios_are_listed_and_described() {
    let sim = start_with(SimConfig {
        demo_leaders: 2,
        seed: 9,
        ..SimConfig::default()
    })
    .await;
    let own = sim
        .account(json!({"balances": {"USDT": "5000"}, "leadPortfolio": true, "label": "Mine"}))
        .await;
    let plain = sim.usdt("5000").await;
    own.market("ETHUSDT", "BUY", "0.5").await.ok("leader buys");
    let list = data(
        bapi_post(
            &sim,
            "/friendly/future/copy-trade/home-page/query-list",
            json!({"pageNumber": 1, "pageSize": 20, "timeRange": "30D", "dataType": "ROI", "order": "DESC"}),
        )
        .await,
        "list",
    );
    assert_eq!(
        list["total"],
        json!(3),
        "two demo leaders and the flagged account"
    );
    let rows = list["list"].as_array().expect("list array");
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["leadPortfolioId"].as_str())
        .collect();
    assert!(
        ids.contains(&portfolio_id(&own.account_id).as_str()),
        "the flagged account is listed"
    );
    assert!(
        !ids.contains(&portfolio_id(&plain.account_id).as_str()),
        "an unflagged account is not"
    );
    for r in rows {
        for f in ["roi", "pnl", "mdd", "aum", "currentCopyCount", "nickname"] {
            assert!(r.get(f).is_some(), "list entry has {f}: {r}");
        }
    }
    let roi: Vec<f64> = rows.iter().filter_map(|r| r["roi"].as_f64()).collect();
    assert!(
        roi.windows(2).all(|w| w[0] >= w[1]),
        "sorted by ROI, highest first: {roi:?}"
    );
    let demo = rows
        .iter()
        .find(|r| {
            r["nickname"]
                .as_str()
                .is_some_and(|n| n.contains("scalper"))
        })
        .expect("the scalper is listed");
    let demo_id = demo["leadPortfolioId"].as_str().expect("id").to_owned();
    // Demo leaders have plausible copiers and assets under management, not zeros.
    let copiers = demo["currentCopyCount"].as_u64().expect("copiers");
    let aum = demo["aum"].as_f64().expect("aum");
    assert!(
        (1..=300).contains(&copiers) && aum >= 400.0 * copiers as f64,
        "some copiers (of at most 300), each copying at least 400 USDT: {demo}"
    );
    let described = data(
        bapi_get(
            &sim,
            &format!("/friendly/future/copy-trade/lead-portfolio/detail?portfolioId={demo_id}"),
        )
        .await,
        "detail",
    );
    assert_eq!(
        (
            described["currentCopyCount"].as_u64(),
            described["aumAmount"].as_f64()
        ),
        (Some(copiers), Some(aum)),
        "the detail says the same as the list: {described}"
    );
    assert!(
        described["totalCopyCount"].as_u64() >= Some(copiers),
        "all-time copiers include today's: {described}"
    );
    let perf = data(
        bapi_get(
            &sim,
            &format!(
                "/public/future/copy-trade/lead-portfolio/performance?portfolioId={demo_id}&timeRange=30D"
            ),
        )
        .await,
        "performance",
    );
    assert_eq!(
        perf["roi"], demo["roi"],
        "performance and list agree on ROI"
    );
    assert!(
        perf["totalOrder"].as_u64().is_some_and(|n| n > 50),
        "a scalper closes many trades in 30 days: {perf}"
    );
    let chart = data(
        bapi_get(
            &sim,
            &format!(
                "/public/future/copy-trade/lead-portfolio/chart-data?dataType=PNL&portfolioId={demo_id}&timeRange=7D"
            ),
        )
        .await,
        "chart",
    );
    assert_eq!(
        chart.as_array().map(Vec::len),
        Some(8),
        "a point a day for 7 days and the start"
    );
    assert_eq!(
        chart[7]["value"],
        perf_pnl(&sim, &demo_id).await,
        "the chart ends at the 7-day PnL"
    );

    let me = portfolio_id(&own.account_id);
    let detail = data(
        bapi_get(
            &sim,
            &format!("/friendly/future/copy-trade/lead-portfolio/detail?portfolioId={me}"),
        )
        .await,
        "detail",
    );
    assert_eq!(detail["positionShow"], json!(true), "positions shown");
    let balance = own.usdt_balance().await;
    let equity = dec(&balance["balance"]) + dec(&balance["crossUnPnl"]);
    assert_eq!(
        dec(&detail["marginBalance"]),
        equity,
        "margin balance is wallet + unrealized"
    );
    let pos = data(
        bapi_get(
            &sim,
            &format!("/friendly/future/copy-trade/lead-data/positions?portfolioId={me}"),
        )
        .await,
        "positions",
    );
    let pos = pos.as_array().expect("rows");
    assert!(pos.len() >= 10, "one row per symbol, flat ones included");
    let eth = pos
        .iter()
        .find(|r| r["symbol"] == json!("ETHUSDT"))
        .expect("ETH row");
    assert_eq!(eth["positionAmount"], json!("0.500"), "the open position");
    assert_eq!(eth["positionSide"], json!("BOTH"), "one-way");
    assert!(eth["leverage"].is_u64(), "leverage is an integer");
    let btc = pos
        .iter()
        .find(|r| r["symbol"] == json!("BTCUSDT"))
        .expect("BTC row");
    assert_eq!(dec(&btc["positionAmount"]), dec(&json!("0")), "a flat row");
    let orders = data(
        bapi_post(
            &sim,
            "/friendly/future/copy-trade/lead-portfolio/order-history",
            json!({"portfolioId": me, "pageSize": 30}),
        )
        .await,
        "order history",
    );
    assert_eq!(orders["total"], json!(1), "one filled order");
    assert_eq!(
        orders["list"][0]["executedQty"],
        json!("0.500"),
        "its quantity"
    );
    assert_eq!(orders["list"][0]["side"], json!("BUY"), "its side");
    let missing = bapi_get(
        &sim,
        &format!(
            "/friendly/future/copy-trade/lead-portfolio/detail?portfolioId={}",
            portfolio_id(&plain.account_id)
        ),
    )
    .await;
    assert_eq!(
        missing.1["success"],
        json!(false),
        "no portfolio for an unflagged account"
    );
}

async fn perf_pnl(sim: &Sim, id: &str) -> Value {
    let p = data(
        bapi_get(
            sim,
            &format!(
                "/public/future/copy-trade/lead-portfolio/performance?portfolioId={id}&timeRange=7D"
            ),
        )
        .await,
        "7-day performance",
    );
    p["pnl"].clone()
}

#[tokio::test]
async fn the_source_refuses_hides_and_changes_shape_when_told() {
    let sim = start_with(SimConfig::default()).await;
    let own = sim
        .account(json!({"balances": {"USDT": "5000"}, "leadPortfolio": true}))
        .await;
    let me = portfolio_id(&own.account_id);
    let positions = format!("/friendly/future/copy-trade/lead-data/positions?portfolioId={me}");
    let detail = format!("/friendly/future/copy-trade/lead-portfolio/detail?portfolioId={me}");

    sim.admin(
        Method::POST,
        &format!("/admin/v1/portfolio/{}", own.account_id),
        Some(json!({"positionShow": false})),
    )
    .await
    .ok("hide positions");
    let hidden = data(bapi_get(&sim, &positions).await, "hidden positions");
    assert_eq!(hidden, json!([]), "hidden positions: an empty list");
    let d = data(bapi_get(&sim, &detail).await, "detail");
    assert_eq!(d["positionShow"], json!(false), "the detail says hidden");

    sim.admin(
        Method::POST,
        &format!("/admin/v1/portfolio/{}", own.account_id),
        Some(json!({"positionShow": true})),
    )
    .await
    .ok("show positions");
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"formatChanged": true})),
    )
    .await
    .ok("change format");
    let changed = data(bapi_get(&sim, &positions).await, "changed positions");
    assert!(
        changed[0].get("positionAmount").is_none() && changed[0].get("positionAmt").is_some(),
        "the amount field is renamed: {}",
        changed[0]
    );

    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"perMinute": 2, "formatChanged": false})),
    )
    .await
    .ok("budget");
    assert_eq!(
        bapi_get(&sim, &detail).await.0,
        StatusCode::OK,
        "first call"
    );
    assert_eq!(
        bapi_get(&sim, &detail).await.0,
        StatusCode::OK,
        "second call"
    );
    let r = sim
        .http
        .get(format!("{}{BASE}{detail}", sim.base()))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "third call in a minute"
    );
    assert!(r.headers().get("Retry-After").is_some(), "with Retry-After");
    sim.advance(61_000).await;
    assert_eq!(
        bapi_get(&sim, &detail).await.0,
        StatusCode::OK,
        "a minute later the budget is back"
    );

    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"geoBlocked": true, "perMinute": 0})),
    )
    .await
    .ok("geo block");
    let (status, _) = bapi_get(&sim, &detail).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "geo-blocked: 403");
}
