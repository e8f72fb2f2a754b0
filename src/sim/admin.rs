//! The admin API under `/admin/v1` (JSON, loopback): create accounts, move prices, read an
//! account, advance simulated time, inject faults, list demo leaders. When a token is
//! configured every call must carry it in `X-Admin-Token`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::account::{AlgoStatus, Permissions};
use super::error::WireError;
use super::exchange::{KeyType, NewAccount};
use super::faults::FaultRequest;
use super::params::MAX_DECIMAL;
use super::server::Shared;
use super::views;
use crate::domain::decimal;

pub const TOKEN_HEADER: &str = "X-Admin-Token";

/// Highest price the admin API accepts; keeps every product of price and size in range.
const MAX_PRICE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);
const MAX_ADVANCE_MS: i64 = 10 * 365 * 24 * 3_600_000;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/admin/v1/accounts",
            post(create_account).get(list_accounts),
        )
        .route("/admin/v1/accounts/{id}", get(get_account))
        .route("/admin/v1/accounts/{id}/transfer", post(transfer))
        .route("/admin/v1/accounts/{id}/permissions", post(set_permissions))
        .route("/admin/v1/prices", post(set_price))
        .route("/admin/v1/clock", post(clock).get(get_clock))
        .route("/admin/v1/faults", post(faults))
        .route("/admin/v1/demo-leaders", get(demo_leaders))
        .route("/admin/v1/requests", get(requests).delete(reset_requests))
        .route("/admin/v1/market-sockets", get(market_sockets))
}

pub(super) fn check_token(shared: &Shared, headers: &HeaderMap) -> Result<(), WireError> {
    let Some(want) = &shared.admin_token else {
        return Ok(());
    };
    let got = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
    if got == Some(want.as_str()) {
        Ok(())
    } else {
        Err(WireError::new(
            StatusCode::UNAUTHORIZED,
            -2015,
            "Missing or wrong admin token.",
        ))
    }
}

/// Parses a JSON body, answering Binance-style on malformed input.
pub(super) fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, WireError> {
    serde_json::from_str(body)
        .map_err(|e| WireError::bad(-1102, format!("Malformed admin request: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PermissionsReq {
    #[serde(default = "yes")]
    futures: bool,
    /// False: the key reads futures but every change is refused (-2015).
    #[serde(default = "yes")]
    trading: bool,
    #[serde(default)]
    withdrawals: bool,
    #[serde(default = "yes")]
    ip_restricted: bool,
    #[serde(default)]
    expires_at: i64,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateAccountReq {
    #[serde(default)]
    balances: BTreeMap<String, DecimalStr>,
    #[serde(default)]
    position_mode: Option<String>,
    #[serde(default)]
    permissions: Option<PermissionsReq>,
    #[serde(default)]
    lead_portfolio: bool,
    #[serde(default)]
    label: String,
    /// `hmac` (default) or `ed25519`.
    #[serde(default)]
    key_type: Option<String>,
    /// Pay fees in BNB (from a BNB balance) at the BNBUSDT mark.
    #[serde(default)]
    bnb_fees: bool,
}

#[derive(Debug, Deserialize)]
struct DecimalStr(#[serde(with = "decimal")] Decimal);

async fn create_account(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let req: CreateAccountReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let hedge = match req.position_mode.as_deref().unwrap_or("one-way") {
        "one-way" => false,
        "hedge" => true,
        other => {
            return WireError::bad(
                -1102,
                format!("positionMode must be one-way or hedge, not {other}"),
            )
            .into_response()
        }
    };
    if req
        .balances
        .values()
        .any(|d| d.0 < Decimal::ZERO || d.0 > MAX_DECIMAL)
    {
        return WireError::bad(-1102, "balances must be between 0 and 10^15").into_response();
    }
    let key_type = match req.key_type.as_deref().unwrap_or("hmac") {
        "hmac" => KeyType::Hmac,
        "ed25519" => KeyType::Ed25519,
        other => {
            return WireError::bad(
                -1102,
                format!("keyType must be hmac or ed25519, not {other}"),
            )
            .into_response()
        }
    };
    let permissions = req
        .permissions
        .map_or_else(Permissions::default, |p| Permissions {
            futures: p.futures,
            trading: p.trading,
            withdrawals: p.withdrawals,
            ip_restricted: p.ip_restricted,
            reading: true,
            expires_at: p.expires_at,
        });
    let bnb_fees = req.bnb_fees;
    let mut ex = s.ex();
    let keys = ex.create_account(NewAccount {
        balances: req.balances.into_iter().map(|(k, v)| (k, v.0)).collect(),
        hedge,
        permissions,
        lead_portfolio: req.lead_portfolio,
        label: req.label,
        key_type,
    });
    if let Some(a) = ex.accounts.get_mut(&keys.account_id) {
        a.bnb_fees = bnb_fees;
    }
    drop(ex);
    Json(
        json!({"accountId": keys.account_id, "apiKey": keys.api_key, "secretKey": keys.secret_key}),
    )
    .into_response()
}

async fn list_accounts(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let ex = s.ex();
    let mut rows: Vec<Value> = ex
        .accounts
        .values()
        .map(|a| json!({"accountId": a.id, "label": a.label, "apiKey": a.api_key, "leadPortfolio": a.lead_portfolio}))
        .collect();
    rows.sort_by(|a, b| a["accountId"].as_str().cmp(&b["accountId"].as_str()));
    Json(Value::Array(rows)).into_response()
}

async fn get_account(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let ex = s.ex();
    let Some(a) = ex.accounts.get(&id) else {
        return WireError::new(StatusCode::NOT_FOUND, -1102, format!("No account {id}."))
            .into_response();
    };
    let positions: Vec<Value> = views::visible_positions(&ex, a, None)
        .iter()
        .filter(|p| !p.amt.is_zero())
        .filter_map(|p| {
            let mut row = views::position_risk_v3(&ex, a, p)?;
            let c = a.config(&p.symbol);
            if let Some(obj) = row.as_object_mut() {
                obj.insert("leverage".into(), json!(c.leverage.to_string()));
                obj.insert(
                    "marginType".into(),
                    json!(if p.isolated { "isolated" } else { "cross" }),
                );
                if p.isolated {
                    let max = ex
                        .max_reducible(&a.id, &p.symbol, p.side)
                        .unwrap_or_default();
                    obj.insert("maxReducible".into(), json!(views::money(max)));
                }
            }
            Some(row)
        })
        .collect();
    let orders: Vec<Value> = a
        .open_orders()
        .filter_map(|o| Some(views::order(ex.markets.get(&o.symbol)?, o, true)))
        .collect();
    let algos: Vec<Value> = a
        .algo_orders
        .values()
        .filter(|o| o.status == AlgoStatus::New)
        .filter_map(|o| Some(views::algo_order(ex.markets.get(&o.symbol)?, o)))
        .collect();
    Json(json!({
        "accountId": a.id, "label": a.label, "leadPortfolio": a.lead_portfolio,
        "positionMode": if a.dual_side { "hedge" } else { "one-way" }, "dualSidePosition": a.dual_side,
        "multiAssetsMargin": a.multi_assets, "balances": views::balance_v3(&ex, a),
        "account": views::account_v3(&ex, a), "positions": positions, "openOrders": orders,
        "openAlgoOrders": algos, "tradeCount": a.trades.len(), "incomeCount": a.income.len(),
        "userSockets": ex.buses.user_sockets(&a.id),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TransferReq {
    asset: String,
    #[serde(with = "decimal")]
    amount: Decimal,
}

async fn transfer(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let req: TransferReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if req.amount.is_zero() || req.amount.abs() > MAX_DECIMAL || req.asset.is_empty() {
        return WireError::illegal("amount").into_response();
    }
    let mut ex = s.ex();
    if !ex.accounts.contains_key(&id) {
        return WireError::new(StatusCode::NOT_FOUND, -1102, format!("No account {id}."))
            .into_response();
    }
    match ex.transfer(&id, &req.asset, req.amount) {
        Ok(()) => {
            let wallet = ex
                .accounts
                .get(&id)
                .map(|a| a.wallet(&req.asset))
                .unwrap_or_default();
            Json(json!({"asset": req.asset, "balance": views::money(wallet)})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Edits an account's key permissions, as its owner would on the API management page
/// (the same body as `permissions` of a new account).
async fn set_permissions(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let p: PermissionsReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut ex = s.ex();
    let Some(a) = ex.accounts.get_mut(&id) else {
        return WireError::new(StatusCode::NOT_FOUND, -1102, format!("No account {id}."))
            .into_response();
    };
    a.permissions = Permissions {
        futures: p.futures,
        trading: p.trading,
        withdrawals: p.withdrawals,
        ip_restricted: p.ip_restricted,
        reading: true,
        expires_at: p.expires_at,
    };
    Json(json!({"accountId": id})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PriceReq {
    symbol: String,
    #[serde(with = "decimal")]
    price: Decimal,
    #[serde(default, with = "decimal::option")]
    funding_rate: Option<Decimal>,
    /// Distance from the mid to the best bid and ask (the book's spread is twice this).
    #[serde(default, with = "decimal::option")]
    half_spread: Option<Decimal>,
}

async fn set_price(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let req: PriceReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if req.price > MAX_PRICE {
        return WireError::illegal("price").into_response();
    }
    if req.funding_rate.is_some_and(|r| r.abs() > Decimal::ONE) {
        return WireError::illegal("fundingRate").into_response();
    }
    let mut ex = s.ex();
    if let (Some(rate), Some(b)) = (req.funding_rate, ex.books.get_mut(&req.symbol)) {
        b.funding_rate = rate;
    }
    if let Some(h) = req.half_spread {
        if h <= Decimal::ZERO || h > req.price {
            return WireError::illegal("halfSpread").into_response();
        }
        if let Some(b) = ex.books.get_mut(&req.symbol) {
            b.set_half_spread(h);
        }
    }
    match ex.set_price(&req.symbol, req.price) {
        Ok(()) => {
            let m = ex.markets.get(&req.symbol);
            let b = ex.books.get(&req.symbol);
            match (m, b) {
                (Some(m), Some(b)) => Json(json!({
                    "symbol": req.symbol, "markPrice": views::px(m, b.mark()),
                    "bidPrice": views::px(m, b.best_bid()), "askPrice": views::px(m, b.best_ask()),
                }))
                .into_response(),
                _ => WireError::bad_symbol().into_response(),
            }
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockReq {
    advance_ms: i64,
}

async fn clock(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let req: ClockReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if !(0..=MAX_ADVANCE_MS).contains(&req.advance_ms) {
        return WireError::bad(
            -1102,
            "advanceMs must be between 0 and ten years: simulated time only moves forward",
        )
        .into_response();
    }
    let now = s.clock.advance(req.advance_ms);
    s.ex().tick();
    Json(json!({"now": now})).into_response()
}

async fn get_clock(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    Json(json!({"now": s.clock.now(), "serverTime": s.clock.server_time()})).into_response()
}

/// `GET /admin/v1/requests`: every REST request counted since the start (or the last
/// reset), per method, path and signing account.
async fn requests(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    request_rows(&s, &headers, false)
}

/// `DELETE /admin/v1/requests`: the same rows, and the count starts again.
async fn reset_requests(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    request_rows(&s, &headers, true)
}

fn request_rows(s: &Shared, headers: &HeaderMap, reset: bool) -> Response {
    if let Err(e) = check_token(s, headers) {
        return e.into_response();
    }
    let rows: Vec<Value> = s
        .limiter
        .requests(reset)
        .into_iter()
        .map(|((method, path, account), c)| {
            json!({"method": method, "path": path, "accountId": account,
                   "count": c.count, "weight": c.weight})
        })
        .collect();
    Json(json!({ "requests": rows })).into_response()
}

/// `GET /admin/v1/market-sockets`: the market sockets open now, each with its streams.
async fn market_sockets(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let sockets: Vec<Value> = s
        .market_sockets
        .list()
        .into_iter()
        .map(|streams| json!({ "streams": streams }))
        .collect();
    Json(json!({ "sockets": sockets })).into_response()
}

async fn faults(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let req: FaultRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if let Err(msg) = req.validate() {
        return WireError::bad(-1102, msg).into_response();
    }
    if let Some(shift) = s.faults.apply(&req) {
        s.clock.set_server_shift(shift);
    }
    Json(json!({"code": 200, "msg": "success"})).into_response()
}

async fn demo_leaders(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(e) = check_token(&s, &headers) {
        return e.into_response();
    }
    let rows: Vec<Value> = s
        .demo
        .iter()
        .map(|d| json!({"accountId": d.account_id, "label": d.label, "style": d.style.as_str(), "apiKey": d.api_key, "secretKey": d.secret_key}))
        .collect();
    Json(Value::Array(rows)).into_response()
}
