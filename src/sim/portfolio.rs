//! Public lead portfolios: the JSON behind Binance's copy-trading pages
//! (shared/spec/binance-copy-trading.md) served under `/bapi/futures/v1/...` for every
//! account flagged as a lead portfolio (the demo leaders are): the list, detail, current
//! positions, performance, chart data, position and order history, in the `{code, message,
//! data, success}` envelope. Also the source's own limits and failures that tests inject
//! (per-address request budget → 429, geo block → 403, hidden positions, a changed field
//! name, a positions list frozen as a page cache that does not update). Figures come from
//! the account's own history through `analytics::figures`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::account::{Account, POOLED};
use super::clock::Millis;
use super::exchange::SimVenue;
use super::market::json_number;
use super::server::Shared;
use super::views;
use crate::analytics::figures::{report, Figures, Report};
use crate::analytics::history::{AccountHistory, HistoryEvent, HistoryKind, PricePath};
use crate::domain::PositionSide;

/// Path prefix of the copy-trading pages' API.
pub const BASE: &str = "/bapi/futures/v1";
const DAY: Millis = 86_400_000;

/// What tests change about the public-portfolio source.
#[derive(Debug, Clone)]
pub struct PortfolioState {
    /// Requests a minute per address before 429 (0: no limit).
    pub per_minute: u32,
    /// Answer every call with 403, as a geo-blocked region sees.
    pub geo_blocked: bool,
    /// Rename `positionAmount` to `positionAmt` in the positions list: a format change.
    pub format_changed: bool,
    /// Accounts whose positions are hidden (`positionShow: false`).
    pub hidden: HashSet<String>,
    /// The `Retry-After` seconds a 429 carries instead of the time left in the minute (a
    /// test knob: a short wait after a refusal).
    pub retry_after_s: Option<i64>,
    /// While set, the positions list serves each lead account's rows as they were when it
    /// was frozen (a page cache that does not update): trades made meanwhile fall inside
    /// one poll interval of any reader (a test knob).
    pub frozen: Option<HashMap<String, Vec<Value>>>,
    hits: HashMap<IpAddr, Vec<Millis>>,
}

impl Default for PortfolioState {
    fn default() -> Self {
        Self {
            per_minute: 20,
            geo_blocked: false,
            format_changed: false,
            hidden: HashSet::new(),
            retry_after_s: None,
            frozen: None,
            hits: HashMap::new(),
        }
    }
}

impl PortfolioState {
    /// Counts a request; `Err(retry after seconds)` when over the minute's budget.
    fn charge(&mut self, ip: IpAddr, now: Millis) -> Result<(), i64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let hits = self.hits.entry(ip).or_default();
        hits.retain(|t| now - t < 60_000);
        if hits.len() >= self.per_minute as usize {
            let oldest = hits.first().copied().unwrap_or(now);
            return Err(((oldest + 60_000 - now) / 1000).max(1));
        }
        hits.push(now);
        Ok(())
    }
}

/// The portfolio id of an account (`acc-7` → `3800000000000000007`).
pub fn portfolio_id(account_id: &str) -> String {
    let n: u64 = account_id
        .strip_prefix("acc-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    format!("38{n:017}")
}

/// The account behind a portfolio id.
pub fn account_of(portfolio_id: &str) -> Option<String> {
    let n: u64 = portfolio_id.strip_prefix("38")?.parse().ok()?;
    Some(format!("acc-{n}"))
}

fn lead<'a>(ex: &'a SimVenue, portfolio: &str) -> Option<&'a Account> {
    let id = account_of(portfolio)?;
    ex.accounts.get(&id).filter(|a| a.lead_portfolio)
}

/// An account's history over the pooled assets (USDT, USDC) in analytics' form.
pub fn account_history(ex: &SimVenue, a: &Account) -> AccountHistory {
    let mut events: Vec<HistoryEvent> = a
        .trades
        .iter()
        .filter(|t| POOLED.contains(&t.commission_asset.as_str()))
        .map(|t| HistoryEvent {
            time_ms: t.time,
            kind: HistoryKind::Fill {
                symbol: t.symbol.clone(),
                position_side: t.position_side,
                side: t.side,
                qty: t.qty,
                price: t.price,
                realized_pnl: t.realized_pnl,
                commission: t.commission,
            },
        })
        .collect();
    for i in &a.income {
        if !POOLED.contains(&i.asset.as_str()) {
            continue;
        }
        let kind = match i.income_type {
            // Already in the fills.
            "REALIZED_PNL" | "COMMISSION" => continue,
            "TRANSFER" => HistoryKind::Transfer { amount: i.income },
            _ => HistoryKind::Funding {
                symbol: i.symbol.clone(),
                amount: i.income,
            },
        };
        events.push(HistoryEvent {
            time_ms: i.time,
            kind,
        });
    }
    events.sort_by_key(|e| e.time_ms);
    AccountHistory {
        events,
        end_wallet: POOLED.iter().map(|s| a.wallet(s)).sum(),
        end_ms: ex.now(),
    }
}

/// The tape's prices of the symbols an account traded, at the daily sample times.
pub fn sample_prices(ex: &SimVenue, h: &AccountHistory) -> PricePath {
    let mut symbols: Vec<&str> = h
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            HistoryKind::Fill { symbol, .. } => Some(symbol.as_str()),
            _ => None,
        })
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    let mut path = PricePath::default();
    for s in symbols {
        let pts = (0..=90)
            .filter_map(|k| {
                let t = h.end_ms - (90 - k) * DAY;
                ex.tape.price_at(s, t).map(|p| (t, p))
            })
            .collect();
        path.insert(s, pts);
    }
    path
}

fn account_report(ex: &SimVenue, a: &Account) -> Report {
    let h = account_history(ex, a);
    let prices = sample_prices(ex, &h);
    report(&h, &prices)
}

/// A lead account's figures and its margin balance now, read in-process: what its pages
/// serve, without a request (the app's paper mode lists its demo leaders from this).
/// `None` when there is no such lead account.
pub fn lead_figures(ex: &SimVenue, account_id: &str) -> Option<(Report, Decimal)> {
    let a = ex.accounts.get(account_id).filter(|a| a.lead_portfolio)?;
    Some((account_report(ex, a), margin_balance(ex, a)))
}

/// A portfolio's copiers and assets under management: not modelled (no one copies on the
/// simulator), so plausible values are derived from the account id, the same on every
/// read: 12 to 287 current copiers of 300, a larger all-time count, and 400 to 2,900 USDT
/// copied per copier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Social {
    pub copiers: u64,
    pub total_copiers: u64,
    pub favorites: u64,
    pub aum: Decimal,
}

pub fn social(account_id: &str) -> Social {
    // FNV-1a: stable across runs and platforms.
    let h = account_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let copiers = 12 + h % 276;
    let per_copier = 400 + (h >> 16) % 2_501;
    Social {
        copiers,
        total_copiers: copiers + (h >> 32) % 900,
        favorites: copiers * 3 + (h >> 8) % 50,
        aum: Decimal::from(copiers * per_copier),
    }
}

fn range_days(s: Option<&str>) -> Option<u32> {
    match s.unwrap_or("30D") {
        "7D" => Some(7),
        "30D" => Some(30),
        "90D" => Some(90),
        _ => None,
    }
}

fn window(r: &Report, days: u32) -> Option<&Figures> {
    r.figures.iter().find(|f| f.days == days)
}

fn num(v: Option<Decimal>) -> Value {
    v.map_or(Value::Null, |d| json_number(d.round_dp(8)))
}

/// Equity over the pooled assets: wallet + unrealized PnL at mark.
fn margin_balance(ex: &SimVenue, a: &Account) -> Decimal {
    let marks = ex.marks();
    POOLED
        .iter()
        .map(|s| {
            let f = a.figures(s, &ex.markets, &marks);
            f.wallet + f.unrealized
        })
        .sum()
}

fn ok(data: Value) -> Response {
    Json(json!({"code": "000000", "message": null, "messageDetail": null, "data": data, "success": true}))
        .into_response()
}

fn refused(code: &str, message: &str) -> Response {
    Json(json!({"code": code, "message": message, "messageDetail": null, "data": null, "success": false}))
        .into_response()
}

/// Budget and geo checks every call goes through: the refusal, if any.
fn gate(shared: &Shared, peer: SocketAddr) -> Option<Response> {
    let mut ex = shared.ex();
    let now = ex.now();
    if ex.portfolio.geo_blocked {
        return Some(
            (
                StatusCode::FORBIDDEN,
                "<html><body><h1>403 ERROR</h1>The request could not be satisfied. \
             This service is not available in your region.</body></html>",
            )
                .into_response(),
        );
    }
    if let Err(retry) = ex.portfolio.charge(peer.ip(), now) {
        let retry = ex.portfolio.retry_after_s.unwrap_or(retry).max(1);
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"code": "429", "message": "Too many requests", "data": null, "success": false})),
        )
            .into_response();
        r.headers_mut()
            .insert("Retry-After", HeaderValue::from(retry));
        return Some(r);
    }
    None
}

pub fn router() -> Router<Arc<Shared>> {
    let p = |s: &str| format!("{BASE}{s}");
    Router::new()
        .route(
            &p("/friendly/future/copy-trade/home-page/query-list"),
            post(list),
        )
        .route(
            &p("/friendly/future/copy-trade/lead-portfolio/detail"),
            get(detail),
        )
        .route(
            &p("/friendly/future/copy-trade/lead-data/positions"),
            get(positions),
        )
        .route(
            &p("/public/future/copy-trade/lead-portfolio/performance"),
            get(performance),
        )
        .route(
            &p("/public/future/copy-trade/lead-portfolio/chart-data"),
            get(chart),
        )
        .route(
            &p("/friendly/future/copy-trade/lead-portfolio/position-history"),
            post(position_history),
        )
        .route(
            &p("/friendly/future/copy-trade/lead-portfolio/order-history"),
            post(order_history),
        )
        .route("/admin/v1/portfolio", post(admin_source))
        .route("/admin/v1/portfolio/{account}", post(admin_portfolio))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListReq {
    #[serde(default = "one")]
    page_number: usize,
    #[serde(default = "twenty")]
    page_size: usize,
    time_range: Option<String>,
    data_type: Option<String>,
    order: Option<String>,
}

fn one() -> usize {
    1
}
fn twenty() -> usize {
    20
}

async fn list(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: String,
) -> Response {
    if let Some(r) = gate(&s, peer) {
        return r;
    }
    let Ok(req) = serde_json::from_str::<ListReq>(&body) else {
        return refused("000002", "illegal parameter");
    };
    let Some(days) = range_days(req.time_range.as_deref()) else {
        return refused("000002", "illegal parameter: timeRange");
    };
    let ex = s.ex();
    let mut leads: Vec<&Account> = ex.accounts.values().filter(|a| a.lead_portfolio).collect();
    leads.sort_by(|a, b| a.id.cmp(&b.id));
    let mut rows: Vec<(Decimal, Value)> = leads
        .iter()
        .map(|a| {
            let r = account_report(&ex, a);
            let f = window(&r, days);
            let so = social(&a.id);
            let key = match req.data_type.as_deref().unwrap_or("ROI") {
                "PNL" => f.map(|f| f.pnl),
                "MDD" => f.map(|f| f.max_drawdown.pct),
                "WIN_RATE" => f.and_then(|f| f.win_rate_pct),
                "AUM" => Some(so.aum),
                _ => f.and_then(|f| f.roi_pct),
            }
            .unwrap_or(Decimal::MIN);
            let row = json!({
                "leadPortfolioId": portfolio_id(&a.id), "nickname": a.label, "avatarUrl": "",
                "roi": num(f.and_then(|f| f.roi_pct)), "pnl": num(f.map(|f| f.pnl)),
                "mdd": num(f.map(|f| f.max_drawdown.pct)), "winRate": num(f.and_then(|f| f.win_rate_pct)),
                "aum": json_number(so.aum), "currentCopyCount": so.copiers, "maxCopyCount": 300,
                "sharpRatio": f.and_then(|f| f.sharpe).map(|d| d.round_dp(4).to_string()),
                "tradeCount": f.map_or(0, |f| f.trades),
                "avgHoldingTime": f.and_then(|f| f.avg_hold_ms),
                "positionShow": !ex.portfolio.hidden.contains(&a.id),
            });
            (key, row)
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    if req.order.as_deref() == Some("ASC") {
        rows.reverse();
    }
    let total = rows.len();
    let size = req.page_size.clamp(1, 100);
    let page: Vec<Value> = rows
        .into_iter()
        .skip(req.page_number.saturating_sub(1) * size)
        .take(size)
        .map(|(_, v)| v)
        .collect();
    ok(json!({"total": total, "list": page}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ById {
    portfolio_id: String,
    time_range: Option<String>,
    data_type: Option<String>,
}

async fn detail(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<ById>,
) -> Response {
    if let Some(r) = gate(&s, peer) {
        return r;
    }
    let ex = s.ex();
    let Some(a) = lead(&ex, &q.portfolio_id) else {
        return refused("000002", "portfolio not found");
    };
    let last_trade = a.trades.last().map_or(0, |t| t.time);
    let so = social(&a.id);
    ok(json!({
        "leadPortfolioId": portfolio_id(&a.id), "nickname": a.label, "description": "",
        "avatarUrl": "", "status": "ACTIVE", "retired": false,
        "positionShow": !ex.portfolio.hidden.contains(&a.id),
        "currentCopyCount": so.copiers, "maxCopyCount": 300,
        "totalCopyCount": so.total_copiers, "favoriteCount": so.favorites,
        "marginBalance": views::money(margin_balance(&ex, a)),
        "walletBalanceAmount": views::money(POOLED.iter().map(|x| a.wallet(x)).sum()),
        "aumAmount": json_number(so.aum), "copierPnl": 0, "profitSharingRate": "0",
        "fixedAmountMinCopyUsd": 10.0, "lastTradeTime": last_trade,
    }))
}

async fn positions(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<ById>,
) -> Response {
    if let Some(r) = gate(&s, peer) {
        return r;
    }
    let ex = s.ex();
    let Some(a) = lead(&ex, &q.portfolio_id) else {
        return refused("000002", "portfolio not found");
    };
    if ex.portfolio.hidden.contains(&a.id) {
        return ok(json!([]));
    }
    let mut rows = match ex.portfolio.frozen.as_ref().and_then(|f| f.get(&a.id)) {
        Some(rows) => rows.clone(),
        None => position_rows(&ex, a),
    };
    if ex.portfolio.format_changed {
        for row in &mut rows {
            if let Some(o) = row.as_object_mut() {
                if let Some(v) = o.remove("positionAmount") {
                    o.insert("positionAmt".to_owned(), v);
                }
            }
        }
    }
    ok(Value::Array(rows))
}

/// The positions list of a lead account now: one row per symbol and side, flat included.
fn position_rows(ex: &SimVenue, a: &Account) -> Vec<Value> {
    let sides: &[PositionSide] = if a.dual_side {
        &[PositionSide::Long, PositionSide::Short]
    } else {
        &[PositionSide::Both]
    };
    let mut rows = Vec::new();
    for sym in &ex.symbols {
        let Some(m) = ex.markets.get(sym) else {
            continue;
        };
        let cfg = a.config(sym);
        let mark = ex.mark(sym);
        for side in sides {
            let p = a.position(sym, *side);
            let amt = p.map_or(Decimal::ZERO, |p| p.amt);
            let entry = p.map_or(Decimal::ZERO, |p| p.entry);
            let upnl = p.map_or(Decimal::ZERO, |p| p.upnl(mark));
            rows.push(json!({
                "id": format!("0_{sym}_{}", views::ps_str(*side)), "symbol": sym,
                "collateral": m.margin_asset, "positionAmount": views::qty(m, amt),
                "entryPrice": views::px(m, entry),
                "unrealizedProfit": views::money(upnl),
                "cumRealized": views::money(p.map_or(Decimal::ZERO, |p| p.realized)),
                "askNotional": "0", "bidNotional": "0",
                "notionalValue": views::money(amt * mark), "markPrice": views::fixed(mark, 8),
                "leverage": cfg.leverage, "isolated": cfg.isolated,
                "isolatedWallet": views::money(p.map_or(Decimal::ZERO, |p| p.isolated_wallet)),
                "adl": 0, "positionSide": views::ps_str(*side),
                "breakEvenPrice": views::px(m, entry),
            }));
        }
    }
    rows
}

async fn performance(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<ById>,
) -> Response {
    if let Some(r) = gate(&s, peer) {
        return r;
    }
    let Some(days) = range_days(q.time_range.as_deref()) else {
        return refused("000002", "illegal parameter: timeRange");
    };
    let ex = s.ex();
    let Some(a) = lead(&ex, &q.portfolio_id) else {
        return refused("000002", "portfolio not found");
    };
    let r = account_report(&ex, a);
    let Some(f) = window(&r, days) else {
        return refused("000002", "illegal parameter: timeRange");
    };
    let wins = r
        .trades
        .iter()
        .filter(|t| {
            t.close_ms
                .is_some_and(|c| c > ex.now() - i64::from(days) * DAY)
                && t.net_pnl > Decimal::ZERO
        })
        .count();
    ok(json!({
        "timeRange": format!("{days}D"), "roi": num(f.roi_pct), "pnl": num(Some(f.pnl)),
        "mdd": num(Some(f.max_drawdown.pct)), "copierPnl": 0, "winRate": num(f.win_rate_pct),
        "winOrders": wins, "totalOrder": f.trades,
        "sharpRatio": f.sharpe.map(|d| d.round_dp(4).to_string()),
        "sortinoRatio": f.sortino.map(|d| d.round_dp(4).to_string()),
        "avgHoldingTime": f.avg_hold_ms,
    }))
}

async fn chart(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<ById>,
) -> Response {
    if let Some(r) = gate(&s, peer) {
        return r;
    }
    let Some(days) = range_days(q.time_range.as_deref()) else {
        return refused("000002", "illegal parameter: timeRange");
    };
    let kind = q.data_type.as_deref().unwrap_or("ROI");
    if kind != "ROI" && kind != "PNL" {
        return refused("000002", "illegal parameter: dataType");
    }
    let ex = s.ex();
    let Some(a) = lead(&ex, &q.portfolio_id) else {
        return refused("000002", "portfolio not found");
    };
    let r = account_report(&ex, a);
    let curve = &r.equity_curve[r.equity_curve.len() - (days as usize + 1)..];
    let base = curve.first().map_or(Decimal::ZERO, |p| p.value);
    let pts: Vec<Value> = curve
        .iter()
        .map(|p| {
            let pnl = p.value - base;
            let v = if kind == "PNL" {
                pnl
            } else if base > Decimal::ZERO {
                pnl / base * Decimal::ONE_HUNDRED
            } else {
                Decimal::ZERO
            };
            json!({"value": num(Some(v)), "dataType": kind, "dateTime": p.ts_ms})
        })
        .collect();
    ok(Value::Array(pts))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryReq {
    portfolio_id: String,
    #[serde(default = "one")]
    page_number: usize,
    #[serde(default = "twenty")]
    page_size: usize,
    start_time: Option<Millis>,
    end_time: Option<Millis>,
}

async fn position_history(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: String,
) -> Response {
    if let Some(r) = gate(&s, peer) {
        return r;
    }
    let Ok(req) = serde_json::from_str::<HistoryReq>(&body) else {
        return refused("000002", "illegal parameter");
    };
    let ex = s.ex();
    let Some(a) = lead(&ex, &req.portfolio_id) else {
        return refused("000002", "portfolio not found");
    };
    let r = account_report(&ex, a);
    let mut closed: Vec<_> = r.trades.iter().filter(|t| t.close_ms.is_some()).collect();
    closed.reverse();
    let size = req.page_size.clamp(1, 100);
    let list: Vec<Value> = closed
        .iter()
        .skip(req.page_number.saturating_sub(1) * size)
        .take(size)
        .map(|t| {
            json!({
                "symbol": t.symbol, "side": if t.long { "Long" } else { "Short" },
                "opened": t.open_ms, "closed": t.close_ms, "closingPnl": views::money(t.net_pnl),
                "maxNotional": views::money(t.max_notional), "status": "All Closed",
                "positionSide": views::ps_str(t.position_side),
            })
        })
        .collect();
    ok(json!({"list": list, "total": closed.len()}))
}

/// Most orders one order-history page returns.
pub const ORDER_PAGE_MAX: usize = 500;

async fn order_history(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: String,
) -> Response {
    if let Some(r) = gate(&s, peer) {
        return r;
    }
    let Ok(req) = serde_json::from_str::<HistoryReq>(&body) else {
        return refused("000002", "illegal parameter");
    };
    let ex = s.ex();
    let Some(a) = lead(&ex, &req.portfolio_id) else {
        return refused("000002", "portfolio not found");
    };
    let from = req.start_time.unwrap_or(0);
    let to = req.end_time.unwrap_or(Millis::MAX);
    // Newest first, as the page shows them.
    let mut orders: Vec<_> = a
        .orders
        .values()
        .filter(|o| o.executed_qty > Decimal::ZERO && o.update_time >= from && o.update_time <= to)
        .collect();
    orders.sort_by(|x, y| y.update_time.cmp(&x.update_time).then(y.id.cmp(&x.id)));
    let pnl: HashMap<u64, Decimal> = a.trades.iter().fold(HashMap::new(), |mut m, t| {
        *m.entry(t.order_id).or_default() += t.realized_pnl;
        m
    });
    let size = req.page_size.clamp(1, ORDER_PAGE_MAX);
    let list: Vec<Value> = orders
        .iter()
        .skip(req.page_number.saturating_sub(1) * size)
        .take(size)
        .filter_map(|o| {
            let m = ex.markets.get(&o.symbol)?;
            Some(json!({
                "orderId": o.id, "symbol": o.symbol, "side": views::side_str(o.side),
                "type": o.kind.as_str(), "positionSide": views::ps_str(o.position_side),
                "executedQty": views::qty(m, o.executed_qty), "avgPrice": views::px(m, o.avg_price()),
                "totalPnl": views::money(pnl.get(&o.id).copied().unwrap_or_default()),
                "reduceOnly": o.reduce_only,
                "orderTime": o.time, "orderUpdateTime": o.update_time,
            }))
        })
        .collect();
    ok(json!({"list": list, "total": orders.len()}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SourceReq {
    per_minute: Option<u32>,
    geo_blocked: Option<bool>,
    format_changed: Option<bool>,
    /// The `Retry-After` of a 429 in seconds; 0 goes back to the time left in the minute.
    retry_after_s: Option<i64>,
    /// Freeze (true) or release (false) the positions list as it is now.
    positions_frozen: Option<bool>,
}

async fn admin_source(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if let Err(e) = super::admin::check_token(&s, &headers) {
        return e.into_response();
    }
    let req: SourceReq = match super::admin::parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut ex = s.ex();
    match req.positions_frozen {
        Some(true) => {
            let rows = ex
                .accounts
                .values()
                .filter(|a| a.lead_portfolio)
                .map(|a| (a.id.clone(), position_rows(&ex, a)))
                .collect();
            ex.portfolio.frozen = Some(rows);
        }
        Some(false) => ex.portfolio.frozen = None,
        None => {}
    }
    let st = &mut ex.portfolio;
    if let Some(n) = req.per_minute {
        st.per_minute = n;
        st.hits.clear();
    }
    if let Some(g) = req.geo_blocked {
        st.geo_blocked = g;
    }
    if let Some(f) = req.format_changed {
        st.format_changed = f;
    }
    if let Some(r) = req.retry_after_s {
        st.retry_after_s = (r > 0).then_some(r);
    }
    Json(
        json!({"perMinute": st.per_minute, "geoBlocked": st.geo_blocked,
        "formatChanged": st.format_changed, "positionsFrozen": st.frozen.is_some()}),
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PortfolioReq {
    position_show: bool,
}

async fn admin_portfolio(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(account): Path<String>,
    body: String,
) -> Response {
    if let Err(e) = super::admin::check_token(&s, &headers) {
        return e.into_response();
    }
    let req: PortfolioReq = match super::admin::parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut ex = s.ex();
    let Some(a) = ex.accounts.get(&account).filter(|a| a.lead_portfolio) else {
        return super::error::WireError::bad(-1102, "not a lead portfolio account").into_response();
    };
    let id = portfolio_id(&a.id);
    if req.position_show {
        ex.portfolio.hidden.remove(&account);
    } else {
        ex.portfolio.hidden.insert(account);
    }
    Json(json!({"leadPortfolioId": id, "positionShow": req.position_show})).into_response()
}
