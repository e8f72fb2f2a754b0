//! The REST surface under `/fapi/...` and `/sapi/v1/account/apiRestrictions`: routing,
//! weights and rate limits, key and signature checks, injected faults, and the handlers
//! that turn parameters into model calls and model state into Binance's JSON.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use super::auth;
use super::error::{WireError, WireResult};
use super::exchange::SimVenue;
use super::orders;
use super::params::Params;
use super::server::Shared;
use super::views;
use crate::domain::PositionSide;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    None,
    /// API key only (listenKey).
    UserStream,
    /// Key, timestamp and signature.
    Signed,
}

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/fapi/{*rest}", axum::routing::any(handle))
        .route(
            "/sapi/v1/account/apiRestrictions",
            axum::routing::get(handle),
        )
}

/// Endpoint table: (security, IP weight, is an order placement).
fn route(method: &Method, path: &str, params: &Params) -> Option<(Security, u32, bool)> {
    use Security::{None as N, Signed as S, UserStream as U};
    let all = |w_one: u32, w_all: u32| if params.has("symbol") { w_one } else { w_all };
    let r = match (method.as_str(), path) {
        ("GET", "/fapi/v1/ping" | "/fapi/v1/time" | "/fapi/v1/exchangeInfo") => (N, 1, false),
        ("GET", "/fapi/v1/depth") => (N, 5, false),
        ("GET", "/fapi/v1/klines") => {
            let limit = params.int::<u32>("limit").ok().flatten().unwrap_or(500);
            (N, super::tape::weight(limit), false)
        }
        ("GET", "/fapi/v1/premiumIndex") => (N, all(1, 10), false),
        ("GET", "/fapi/v1/ticker/price" | "/fapi/v2/ticker/price") => (N, all(1, 2), false),
        ("GET", "/fapi/v1/ticker/bookTicker") => (N, all(2, 5), false),
        ("GET", "/fapi/v1/ticker/24hr") => (N, all(1, 40), false),
        ("GET", "/fapi/v2/account" | "/fapi/v3/account") => (S, 5, false),
        ("GET", "/fapi/v2/balance" | "/fapi/v3/balance") => (S, 5, false),
        ("GET", "/fapi/v2/positionRisk" | "/fapi/v3/positionRisk") => (S, 5, false),
        ("GET", "/fapi/v1/symbolConfig" | "/fapi/v1/accountConfig") => (S, 5, false),
        ("GET", "/fapi/v1/positionSide/dual" | "/fapi/v1/multiAssetsMargin") => (S, 30, false),
        ("POST", "/fapi/v1/positionSide/dual" | "/fapi/v1/multiAssetsMargin") => (S, 1, false),
        ("POST", "/fapi/v1/leverage" | "/fapi/v1/marginType" | "/fapi/v1/positionMargin") => {
            (S, 1, false)
        }
        ("POST", "/fapi/v1/order" | "/fapi/v1/algoOrder") => (S, 0, true),
        ("POST", "/fapi/v1/order/test") => (S, 1, false),
        ("PUT", "/fapi/v1/order") => (S, 0, true),
        ("POST", "/fapi/v1/batchOrders") => (S, 5, true),
        ("DELETE", "/fapi/v1/batchOrders") => (S, 1, false),
        ("GET" | "DELETE", "/fapi/v1/order" | "/fapi/v1/algoOrder") => (S, 1, false),
        ("GET", "/fapi/v1/openOrder") => (S, 1, false),
        ("DELETE", "/fapi/v1/allOpenOrders" | "/fapi/v1/algoOpenOrders") => (S, 1, false),
        ("GET", "/fapi/v1/openOrders" | "/fapi/v1/openAlgoOrders") => (S, all(1, 40), false),
        ("GET", "/fapi/v1/allOrders" | "/fapi/v1/allAlgoOrders") => (S, 5, false),
        ("GET", "/fapi/v1/userTrades") => (S, 5, false),
        ("GET", "/fapi/v1/income") => (S, 30, false),
        ("GET", "/fapi/v1/leverageBracket" | "/fapi/v1/rateLimit/order") => (S, 1, false),
        ("POST" | "PUT" | "DELETE", "/fapi/v1/listenKey") => (U, 1, false),
        ("GET", "/sapi/v1/account/apiRestrictions") => (S, 1, false),
        _ => return None,
    };
    Some(r)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.faults.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let raw_query = uri.query().unwrap_or("").to_owned();
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    let params = Params::parse(&raw_query, &raw_body);
    let path = uri.path().to_owned();

    let Some((security, weight, places_order)) = route(&method, &path, &params) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({"code": -5000, "msg": format!("Path {path}, Method {method} is invalid")}),
            ),
        )
            .into_response();
    };
    let now = shared.clock.now();
    let used = match shared.limiter.charge(peer.ip(), weight, now) {
        Ok(w) => w,
        Err(r) => {
            let mut resp = with_weight(r.error.into_response(), r.used);
            resp.headers_mut()
                .insert("Retry-After", HeaderValue::from(r.retry_after_s.max(1)));
            return resp;
        }
    };
    let api_key = headers.get("X-MBX-APIKEY").and_then(|v| v.to_str().ok());
    if let Some((e, retry_after)) = shared
        .faults
        .take_rejection(method.as_str(), &path, api_key)
    {
        let mut resp = with_weight(e.into_response(), used);
        if let Some(s) = retry_after {
            resp.headers_mut()
                .insert("Retry-After", HeaderValue::from(s));
        }
        return resp;
    }

    let account = match authenticate(&shared, security, &headers, &params, &raw_query, &raw_body) {
        Ok(a) => a,
        Err(e) => return with_weight(e.into_response(), used),
    };

    shared
        .limiter
        .count_request(method.as_str(), &path, account.as_deref(), weight);
    let mut counts = None;
    if places_order {
        if let Some(acc) = &account {
            match shared.limiter.count_order(acc, now) {
                Ok(c) => counts = Some(c),
                Err(e) => return with_weight(e.into_response(), used),
            }
        }
    }

    let slow = shared.faults.path_delay_ms(&path);
    if slow > 0 {
        tokio::time::sleep(Duration::from_millis(slow)).await;
    }
    if method == Method::POST
        && path == "/fapi/v1/algoOrder"
        && shared.faults.refuses_conditionals()
    {
        return with_weight(
            WireError::bad(-2021, "Order would immediately trigger.").into_response(),
            used,
        );
    }
    let result = {
        let mut ex = shared.ex();
        dispatch(
            &mut ex,
            &shared,
            &method,
            &path,
            &params,
            account.as_deref(),
        )
    };

    let ack_delay = shared.faults.ack_delay_ms();
    if ack_delay > 0 && (places_order || method == Method::DELETE) {
        tokio::time::sleep(Duration::from_millis(ack_delay)).await;
    }
    let mut resp = match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    };
    if let Some(c) = counts {
        let h = resp.headers_mut();
        h.insert("X-MBX-ORDER-COUNT-10S", HeaderValue::from(c.ten_s));
        h.insert("X-MBX-ORDER-COUNT-1M", HeaderValue::from(c.one_m));
    }
    with_weight(resp, used)
}

fn with_weight(mut resp: Response, used: u32) -> Response {
    resp.headers_mut()
        .insert("X-MBX-USED-WEIGHT-1M", HeaderValue::from(used));
    resp
}

/// Resolves the calling account and enforces the endpoint's security.
fn authenticate(
    shared: &Shared,
    security: Security,
    headers: &HeaderMap,
    params: &Params,
    raw_query: &str,
    raw_body: &str,
) -> WireResult<Option<String>> {
    if security == Security::None {
        return Ok(None);
    }
    let key = headers
        .get("X-MBX-APIKEY")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(WireError::invalid_key_format)?;
    if shared.faults.revoked(key) {
        return Err(WireError::rejected_key());
    }
    let (account, secret, perms) = {
        let ex = shared.ex();
        let id = ex.by_api_key.get(key).ok_or_else(WireError::rejected_key)?;
        let a = ex.account(id)?;
        (id.clone(), a.secret.clone(), a.permissions.clone())
    };
    let now = shared.clock.now();
    if perms.expires_at != 0 && perms.expires_at <= now {
        return Err(WireError::rejected_key());
    }
    if security == Security::Signed {
        let ts: i64 = params
            .int("timestamp")?
            .ok_or_else(|| WireError::mandatory("timestamp"))?;
        let window: i64 = params.int("recvWindow")?.unwrap_or(5000);
        auth::verify_with(&secret, raw_query, raw_body)?;
        auth::check_timestamp(ts, window, shared.clock.server_time())?;
    }
    Ok(Some(account))
}

fn need_account(account: Option<&str>) -> WireResult<&str> {
    account.ok_or_else(WireError::rejected_key)
}

fn dispatch(
    ex: &mut SimVenue,
    shared: &Shared,
    method: &Method,
    path: &str,
    p: &Params,
    account: Option<&str>,
) -> WireResult<Value> {
    // The futures permission gates everything on /fapi; apiRestrictions stays readable.
    if let Some(acc) = account {
        let perm = &ex.account(acc)?.permissions;
        if path.starts_with("/fapi/") && !perm.futures {
            return Err(WireError::rejected_key());
        }
        // A read-only futures key: every change but its own stream key is refused.
        if path.starts_with("/fapi/")
            && method != Method::GET
            && path != "/fapi/v1/listenKey"
            && !perm.trading
        {
            return Err(WireError::rejected_key());
        }
    }
    match (method.as_str(), path) {
        ("GET", "/fapi/v1/ping") => Ok(json!({})),
        ("GET", "/fapi/v1/time") => Ok(json!({"serverTime": shared.clock.server_time()})),
        ("GET", "/fapi/v1/exchangeInfo") => Ok(exchange_info(ex, shared)),
        ("GET", "/fapi/v1/depth") => {
            let s = p.req("symbol")?;
            ex.depth(s, p.int("limit")?.unwrap_or(20))
        }
        ("GET", "/fapi/v1/klines") => klines(ex, p),
        ("GET", "/fapi/v1/premiumIndex") => per_symbol(ex, p, |ex, s| {
            let b = ex.books.get(s)?;
            Some(json!({
                "symbol": s, "markPrice": views::fixed(b.mark(), 8), "indexPrice": views::fixed(b.mark(), 8),
                "estimatedSettlePrice": views::fixed(b.mark(), 8), "lastFundingRate": views::fixed(b.funding_rate, 8),
                "interestRate": "0.00010000", "nextFundingTime": ex.next_funding, "time": ex.now(),
            }))
        }),
        ("GET", "/fapi/v1/ticker/price" | "/fapi/v2/ticker/price") => per_symbol(ex, p, |ex, s| {
            let m = ex.markets.get(s)?;
            let b = ex.books.get(s)?;
            Some(json!({"symbol": s, "price": views::px(m, b.last_price), "time": ex.now()}))
        }),
        ("GET", "/fapi/v1/ticker/bookTicker") => per_symbol(ex, p, |ex, s| {
            let mut v = ex.book_ticker_json(s)?;
            Some(json!({
                "symbol": s, "bidPrice": v["b"].take(), "bidQty": v["B"].take(),
                "askPrice": v["a"].take(), "askQty": v["A"].take(), "time": ex.now(),
            }))
        }),
        ("GET", "/fapi/v1/ticker/24hr") => per_symbol(ex, p, ticker_24h),
        ("GET", "/sapi/v1/account/apiRestrictions") => {
            let a = ex.account(need_account(account)?)?;
            let perm = &a.permissions;
            Ok(json!({
                "ipRestrict": perm.ip_restricted, "createTime": a.created_at, "enableReading": perm.reading,
                "enableWithdrawals": perm.withdrawals, "enableInternalTransfer": false, "enableMargin": false,
                "enableFutures": perm.futures && perm.trading, "permitsUniversalTransfer": false, "enableVanillaOptions": false,
                "enableSpotAndMarginTrading": false, "enablePortfolioMarginTrading": false,
                "enableFixApiTrade": false, "enableFixReadOnly": false,
                "tradingAuthorityExpirationTime": perm.expires_at,
            }))
        }
        ("POST", "/fapi/v1/listenKey") => {
            let key = ex.listen_key_start(need_account(account)?)?;
            Ok(json!({"listenKey": key}))
        }
        ("PUT", "/fapi/v1/listenKey") => {
            let key = ex.listen_key_keepalive(need_account(account)?)?;
            Ok(json!({"listenKey": key}))
        }
        ("DELETE", "/fapi/v1/listenKey") => {
            ex.listen_key_close(need_account(account)?)?;
            Ok(json!({}))
        }
        _ => account_endpoint(ex, shared, method, path, p, need_account(account)?),
    }
}

fn exchange_info(ex: &SimVenue, shared: &Shared) -> Value {
    let c = &shared.limiter.config;
    let symbols: Vec<Value> = ex
        .symbols
        .iter()
        .filter_map(|s| ex.markets.get(s))
        .map(super::market::symbol_json)
        .collect();
    let mut assets: Vec<&str> = ex.markets.values().map(|m| m.margin_asset).collect();
    assets.sort_unstable();
    assets.dedup();
    let assets: Vec<Value> = assets
        .iter()
        .map(|a| json!({"asset": a, "marginAvailable": true, "autoAssetExchange": "0"}))
        .collect();
    json!({
        "timezone": "UTC", "serverTime": shared.clock.server_time(),
        "rateLimits": super::market::rate_limits_json(c.weight_per_minute, c.orders_per_minute, c.orders_per_10s),
        "exchangeFilters": [], "assets": assets, "symbols": symbols,
    })
}

fn klines(ex: &SimVenue, p: &Params) -> WireResult<Value> {
    let s = p.req("symbol")?;
    let m = ex.market(s)?;
    let (interval, limit) = super::tape::params(p.req("interval")?, p.int("limit")?)?;
    let start = p.int("startTime")?;
    let end = p.int("endTime")?;
    if let (Some(a), Some(b)) = (start, end) {
        if a > b {
            return Err(WireError::illegal("startTime"));
        }
    }
    let rows = ex.tape.klines(s, interval, start, end, limit, ex.now());
    Ok(Value::Array(
        rows.iter()
            .map(|(t, c)| super::tape::kline_json(m, *t, interval, c))
            .collect(),
    ))
}

fn ticker_24h(ex: &SimVenue, s: &str) -> Option<Value> {
    let m = ex.markets.get(s)?;
    let b = ex.books.get(s)?;
    let now = ex.now();
    let last = views::px(m, b.last_price);
    Some(json!({
        "symbol": s, "priceChange": views::px(m, rust_decimal::Decimal::ZERO), "priceChangePercent": "0.000",
        "weightedAvgPrice": last, "lastPrice": last, "lastQty": views::qty(m, m.filters.min_qty),
        "openPrice": last, "highPrice": last, "lowPrice": last, "volume": "0", "quoteVolume": "0",
        "openTime": now - 86_400_000, "closeTime": now, "firstId": 0, "lastId": 0, "count": 0,
    }))
}

/// One object for `symbol=…`, an array for every symbol otherwise.
fn per_symbol(
    ex: &SimVenue,
    p: &Params,
    f: impl Fn(&SimVenue, &str) -> Option<Value>,
) -> WireResult<Value> {
    match p.opt("symbol") {
        Some(s) => {
            ex.market(s)?;
            f(ex, s).ok_or_else(WireError::bad_symbol)
        }
        None => Ok(Value::Array(
            ex.symbols.iter().filter_map(|s| f(ex, s)).collect(),
        )),
    }
}

fn success() -> Value {
    json!({"code": 200, "msg": "success"})
}

fn account_endpoint(
    ex: &mut SimVenue,
    shared: &Shared,
    method: &Method,
    path: &str,
    p: &Params,
    acc: &str,
) -> WireResult<Value> {
    match (method.as_str(), path) {
        ("GET", "/fapi/v3/account") => Ok(views::account_v3(ex, ex.account(acc)?)),
        ("GET", "/fapi/v2/account") => {
            let a = ex.account(acc)?;
            let mut v = views::account_v3(ex, a);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("feeTier".into(), json!(0));
                obj.insert("feeBurn".into(), json!(false));
                obj.insert("canTrade".into(), json!(true));
                obj.insert("canDeposit".into(), json!(true));
                obj.insert("canWithdraw".into(), json!(a.permissions.withdrawals));
                obj.insert("multiAssetsMargin".into(), json!(a.multi_assets));
                obj.insert("tradeGroupId".into(), json!(-1));
                obj.insert("updateTime".into(), json!(0));
            }
            // v2 positions also carry leverage, entry and margin type.
            if let Some(rows) = v.get_mut("positions").and_then(Value::as_array_mut) {
                for row in rows {
                    let sym = row["symbol"].as_str().unwrap_or_default().to_owned();
                    let side = match row["positionSide"].as_str() {
                        Some("LONG") => PositionSide::Long,
                        Some("SHORT") => PositionSide::Short,
                        _ => PositionSide::Both,
                    };
                    let cfg = a.config(&sym);
                    let entry = a
                        .position(&sym, side)
                        .map_or(rust_decimal::Decimal::ZERO, |p| p.entry);
                    let max = ex
                        .markets
                        .get(&sym)
                        .map(|m| m.max_notional(cfg.leverage))
                        .unwrap_or_default();
                    if let Some(obj) = row.as_object_mut() {
                        obj.insert("leverage".into(), json!(cfg.leverage.to_string()));
                        obj.insert("entryPrice".into(), json!(views::fixed(entry, 8)));
                        obj.insert("isolated".into(), json!(cfg.isolated));
                        obj.insert("maxNotional".into(), json!(max.normalize().to_string()));
                    }
                }
            }
            Ok(v)
        }
        ("GET", "/fapi/v2/balance" | "/fapi/v3/balance") => {
            Ok(views::balance_v3(ex, ex.account(acc)?))
        }
        ("GET", "/fapi/v3/positionRisk") => {
            let a = ex.account(acc)?;
            let sym = p.opt("symbol");
            if let Some(s) = sym {
                ex.market(s)?;
            }
            let rows = views::visible_positions(ex, a, sym)
                .iter()
                .filter_map(|pos| views::position_risk_v3(ex, a, pos))
                .collect();
            Ok(Value::Array(rows))
        }
        ("GET", "/fapi/v2/positionRisk") => {
            let a = ex.account(acc)?;
            let sym = p.opt("symbol");
            if let Some(s) = sym {
                ex.market(s)?;
            }
            let sides: &[PositionSide] = if a.dual_side {
                &[PositionSide::Long, PositionSide::Short]
            } else {
                &[PositionSide::Both]
            };
            let mut rows = Vec::new();
            for s in ex
                .symbols
                .iter()
                .filter(|s| sym.is_none_or(|x| x == s.as_str()))
            {
                for side in sides {
                    let pos = a.position(s, *side).cloned().unwrap_or_else(|| {
                        super::account::Position::new(s, *side, a.config(s).isolated)
                    });
                    rows.extend(views::position_risk_v2(ex, a, &pos));
                }
            }
            Ok(Value::Array(rows))
        }
        ("GET", "/fapi/v1/symbolConfig") => {
            let a = ex.account(acc)?;
            let sym = p.opt("symbol");
            if let Some(s) = sym {
                ex.market(s)?;
            }
            let rows = ex
                .symbols
                .iter()
                .filter(|s| sym.is_none_or(|x| x == s.as_str()))
                .filter_map(|s| {
                    let m = ex.markets.get(s)?;
                    let c = a.config(s);
                    Some(json!({
                        "symbol": s, "marginType": if c.isolated { "ISOLATED" } else { "CROSSED" },
                        "isAutoAddMargin": false, "leverage": c.leverage,
                        "maxNotionalValue": m.max_notional(c.leverage).normalize().to_string(),
                    }))
                })
                .collect();
            Ok(Value::Array(rows))
        }
        ("GET", "/fapi/v1/accountConfig") => {
            let a = ex.account(acc)?;
            Ok(json!({
                "feeTier": 0, "canTrade": true, "canDeposit": true, "canWithdraw": a.permissions.withdrawals,
                "dualSidePosition": a.dual_side, "updateTime": 0, "multiAssetsMargin": a.multi_assets,
                "tradeGroupId": -1,
            }))
        }
        ("GET", "/fapi/v1/positionSide/dual") => {
            Ok(json!({"dualSidePosition": ex.account(acc)?.dual_side}))
        }
        ("POST", "/fapi/v1/positionSide/dual") => {
            let on = p
                .bool("dualSidePosition")?
                .ok_or_else(|| WireError::mandatory("dualSidePosition"))?;
            ex.set_dual_side(acc, on)?;
            Ok(success())
        }
        ("GET", "/fapi/v1/multiAssetsMargin") => {
            Ok(json!({"multiAssetsMargin": ex.account(acc)?.multi_assets}))
        }
        ("POST", "/fapi/v1/multiAssetsMargin") => {
            let on = p
                .bool("multiAssetsMargin")?
                .ok_or_else(|| WireError::mandatory("multiAssetsMargin"))?;
            ex.set_multi_assets(acc, on)?;
            Ok(success())
        }
        ("POST", "/fapi/v1/leverage") => {
            let s = p.req("symbol")?.to_owned();
            let lev: u32 = p
                .int("leverage")?
                .ok_or_else(|| WireError::mandatory("leverage"))?;
            ex.set_leverage(acc, &s, lev)
        }
        ("POST", "/fapi/v1/marginType") => {
            let s = p.req("symbol")?.to_owned();
            let isolated = match p.req("marginType")?.to_ascii_uppercase().as_str() {
                "ISOLATED" => true,
                "CROSSED" | "CROSS" => false,
                _ => return Err(WireError::bad(-4044, "The margin type is not valid.")),
            };
            ex.set_margin_type(acc, &s, isolated)?;
            Ok(success())
        }
        ("POST", "/fapi/v1/positionMargin") => {
            let s = p.req("symbol")?.to_owned();
            let amount = p.req_decimal("amount")?;
            let add = match p.req("type")? {
                "1" => true,
                "2" => false,
                _ => return Err(WireError::mandatory("type")),
            };
            let side = orders::position_side(p)?;
            ex.position_margin(acc, &s, side, amount, add)?;
            Ok(json!({
                "amount": super::market::json_number(amount), "code": 200,
                "msg": "Successfully modify position margin.", "type": if add { 1 } else { 2 },
            }))
        }
        ("POST", "/fapi/v1/order") => orders::place(ex, acc, p),
        ("POST", "/fapi/v1/order/test") => orders::test(ex, acc, p),
        ("PUT", "/fapi/v1/order") => orders::modify(ex, acc, p),
        ("POST", "/fapi/v1/batchOrders") => orders::place_batch(ex, acc, p),
        ("DELETE", "/fapi/v1/batchOrders") => orders::cancel_batch(ex, acc, p),
        ("GET", "/fapi/v1/order") => {
            let (s, id) = orders::locate(ex, acc, p)?;
            let m = ex.market(&s)?;
            Ok(views::order(m, ex.order_state(acc, id)?, true))
        }
        ("GET", "/fapi/v1/openOrder") => {
            let (s, id) = orders::locate(ex, acc, p)?;
            let m = ex.market(&s)?;
            let o = ex.order_state(acc, id)?;
            if !o.status.is_open() {
                return Err(WireError::bad(-2013, "Order does not exist."));
            }
            Ok(views::order(m, o, true))
        }
        ("DELETE", "/fapi/v1/order") => {
            let (s, id) = orders::locate(ex, acc, p).map_err(|e| {
                if e.code == -2013 {
                    WireError::unknown_order()
                } else {
                    e
                }
            })?;
            let o = ex.cancel_order(acc, &s, id)?;
            Ok(views::order(ex.market(&s)?, &o, false))
        }
        ("DELETE", "/fapi/v1/allOpenOrders") => {
            let s = p.req("symbol")?.to_owned();
            ex.market(&s)?;
            ex.cancel_all(acc, &s)?;
            Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
        }
        ("GET", "/fapi/v1/openOrders") => {
            let sym = p.opt("symbol");
            if let Some(s) = sym {
                ex.market(s)?;
            }
            let a = ex.account(acc)?;
            let rows = a
                .open_orders()
                .filter(|o| sym.is_none_or(|s| s == o.symbol))
                .filter_map(|o| Some(views::order(ex.markets.get(&o.symbol)?, o, true)))
                .collect();
            Ok(Value::Array(rows))
        }
        ("GET", "/fapi/v1/allOrders") => {
            let s = p.req("symbol")?;
            ex.market(s)?;
            let limit = p.int::<usize>("limit")?.unwrap_or(500).min(1000);
            let a = ex.account(acc)?;
            let mut rows: Vec<Value> = a
                .orders
                .values()
                .rev()
                .filter(|o| o.symbol == s)
                .take(limit)
                .filter_map(|o| Some(views::order(ex.markets.get(&o.symbol)?, o, true)))
                .collect();
            rows.reverse();
            Ok(Value::Array(rows))
        }
        ("POST", "/fapi/v1/algoOrder") => orders::place_algo(ex, acc, p),
        ("GET", "/fapi/v1/algoOrder") => {
            let id = ex.find_algo(acc, p.int("algoId")?, p.opt("clientAlgoId"))?;
            let a = ex.account(acc)?;
            let o = a
                .algo_orders
                .get(&id)
                .ok_or_else(WireError::no_such_order)?;
            let m = ex.market(&o.symbol)?;
            let mut v = views::algo_order(m, o);
            let actual = o.actual_order_id.and_then(|i| a.orders.get(&i));
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "actualOrderId".into(),
                    json!(o.actual_order_id.map(|i| i.to_string()).unwrap_or_default()),
                );
                obj.insert(
                    "actualPrice".into(),
                    json!(actual
                        .map(|x| views::px(m, x.avg_price()))
                        .unwrap_or_default()),
                );
                obj.insert(
                    "actualType".into(),
                    json!(actual.map(|x| x.kind.as_str()).unwrap_or_default()),
                );
                obj.insert(
                    "actualQty".into(),
                    json!(actual
                        .map(|x| views::qty(m, x.executed_qty))
                        .unwrap_or_default()),
                );
                obj.insert("tpOrderType".into(), json!(""));
            }
            Ok(v)
        }
        ("DELETE", "/fapi/v1/algoOrder") => {
            let id = ex
                .find_algo(acc, p.int("algoId")?, p.opt("clientAlgoId"))
                .map_err(|e| {
                    if e.code == -2013 {
                        WireError::unknown_order()
                    } else {
                        e
                    }
                })?;
            let o = ex.cancel_algo(acc, id)?;
            Ok(
                json!({"algoId": o.id, "clientAlgoId": o.client_id, "code": "200", "msg": "success"}),
            )
        }
        ("DELETE", "/fapi/v1/algoOpenOrders") => {
            let s = p.req("symbol")?.to_owned();
            ex.market(&s)?;
            ex.cancel_all_algos(acc, &s)?;
            Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
        }
        ("GET", "/fapi/v1/openAlgoOrders" | "/fapi/v1/allAlgoOrders") => {
            let open_only = path.ends_with("openAlgoOrders");
            let sym = if open_only {
                p.opt("symbol")
            } else {
                Some(p.req("symbol")?)
            };
            if let Some(s) = sym {
                ex.market(s)?;
            }
            let a = ex.account(acc)?;
            let rows = a
                .algo_orders
                .values()
                .filter(|o| sym.is_none_or(|s| s == o.symbol))
                .filter(|o| !open_only || o.status == super::account::AlgoStatus::New)
                .filter_map(|o| Some(views::algo_order(ex.markets.get(&o.symbol)?, o)))
                .collect();
            Ok(Value::Array(rows))
        }
        ("GET", "/fapi/v1/userTrades") => orders::user_trades(ex, acc, p),
        ("GET", "/fapi/v1/income") => orders::income(ex, acc, p),
        ("GET", "/fapi/v1/leverageBracket") => {
            let sym = p.opt("symbol");
            if let Some(s) = sym {
                ex.market(s)?;
                return Ok(Value::Array(vec![super::market::bracket_json(
                    ex.market(s)?,
                )]));
            }
            Ok(Value::Array(
                ex.symbols
                    .iter()
                    .filter_map(|s| ex.markets.get(s))
                    .map(super::market::bracket_json)
                    .collect(),
            ))
        }
        ("GET", "/fapi/v1/rateLimit/order") => {
            let c = &shared.limiter.config;
            Ok(json!([
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": c.orders_per_10s},
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": c.orders_per_minute},
            ]))
        }
        _ => Err(WireError::internal()),
    }
}
