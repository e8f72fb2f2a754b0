//! Wire parsing of order requests: parameter shapes and the symbol filters in Binance's
//! check order (shape → decimals → grid → bounds → percent price), the ACK/RESULT
//! response choice, order lookup, and the trade and income history queries.

use rust_decimal::Decimal;
use serde_json::Value;

use super::account::OrderType;
use super::algo::NewAlgo;
use super::error::{WireError, WireResult};
use super::exchange::SimVenue;
use super::market::Market;
use super::matching::NewOrder;
use super::params::Params;
use super::views;
use crate::domain::{PositionSide, Side};

const CONDITIONAL: [&str; 5] = [
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
];

pub fn side(p: &Params) -> WireResult<Side> {
    match p.req("side")? {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(WireError::bad(-1117, "Invalid side.")),
    }
}

pub fn position_side(p: &Params) -> WireResult<PositionSide> {
    match p.opt("positionSide").unwrap_or("BOTH") {
        "BOTH" => Ok(PositionSide::Both),
        "LONG" => Ok(PositionSide::Long),
        "SHORT" => Ok(PositionSide::Short),
        _ => Err(WireError::bad(-4006, "Invalid position side.")),
    }
}

fn tif(p: &Params) -> WireResult<&'static str> {
    match p.req("timeInForce")? {
        "GTC" => Ok("GTC"),
        "IOC" => Ok("IOC"),
        "FOK" => Ok("FOK"),
        "GTX" => Ok("GTX"),
        _ => Err(WireError::bad(-1115, "Invalid timeInForce.")),
    }
}

/// Quantity checks: decimals, step grid, bounds.
fn check_qty(m: &Market, qty: Decimal, market: bool) -> WireResult<()> {
    let f = &m.filters;
    if qty <= Decimal::ZERO {
        return Err(WireError::bad(
            -4003,
            "Quantity less than or equal to zero.",
        ));
    }
    if qty.normalize().scale() > m.qty_precision {
        return Err(WireError::precision());
    }
    let (min, max, step) = if market {
        (f.market_min_qty, f.market_max_qty, f.market_step_size)
    } else {
        (f.min_qty, f.max_qty, f.step_size)
    };
    if !((qty - min) % step).is_zero() {
        return Err(WireError::bad(-4023, "Qty not increased by step size."));
    }
    if qty < min {
        return Err(WireError::bad(-4004, "Quantity less than min quantity."));
    }
    if qty > max {
        return Err(WireError::bad(-4005, "Quantity greater than max quantity."));
    }
    Ok(())
}

/// Price checks: decimals, tick grid, bounds.
fn check_price(m: &Market, price: Decimal, name: &str) -> WireResult<()> {
    if price <= Decimal::ZERO {
        return Err(WireError::mandatory(name));
    }
    if price.normalize().scale() > m.price_precision {
        return Err(WireError::precision());
    }
    if !((price - m.min_price()) % m.filters.tick_size).is_zero() {
        return Err(WireError::bad(-4014, "Price not increased by tick size."));
    }
    if price < m.min_price() {
        return Err(WireError::bad(-4013, "Price less than min price."));
    }
    if price > m.max_price() {
        return Err(WireError::bad(-4002, "Price greater than max price."));
    }
    Ok(())
}

/// PERCENT_PRICE: a BUY may not be above mark × 1.15, a SELL not below mark × 0.85.
fn check_percent(side: Side, price: Decimal, mark: Decimal) -> WireResult<()> {
    match side {
        Side::Buy if price > mark * Decimal::new(115, 2) => Err(WireError::bad(
            -4016,
            format!(
                "Limit price can't be higher than {}.",
                (mark * Decimal::new(115, 2)).normalize()
            ),
        )),
        Side::Sell if price < mark * Decimal::new(85, 2) => Err(WireError::bad(
            -4024,
            format!(
                "Limit price can't be lower than {}.",
                (mark * Decimal::new(85, 2)).normalize()
            ),
        )),
        _ => Ok(()),
    }
}

/// `POST /fapi/v1/order`.
pub fn place(ex: &mut SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    let symbol = p.req("symbol")?.to_owned();
    let m = ex.market(&symbol)?.clone();
    let side = side(p)?;
    let kind = match p.req("type")? {
        "LIMIT" => OrderType::Limit,
        "MARKET" => OrderType::Market,
        t if CONDITIONAL.contains(&t) => {
            return Err(WireError::bad(
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
            ))
        }
        _ => return Err(WireError::bad(-1116, "Invalid orderType.")),
    };
    let ps = position_side(p)?;
    if ex.account(acc)?.dual_side && p.has("reduceOnly") {
        return Err(WireError::not_required("reduceOnly"));
    }
    let reduce_only = p.bool("reduceOnly")?.unwrap_or(false);
    let qty = p.req_decimal("quantity")?;
    let (price, tif) = match kind {
        OrderType::Limit => {
            let tif = tif(p)?;
            (p.req_decimal("price")?, tif)
        }
        _ => {
            if p.has("price") {
                return Err(WireError::not_required("price"));
            }
            (Decimal::ZERO, "GTC")
        }
    };
    check_qty(&m, qty, kind == OrderType::Market)?;
    if kind == OrderType::Limit {
        check_price(&m, price, "price")?;
        check_percent(side, price, ex.mark(&symbol))?;
    }
    let result = p.opt("newOrderRespType") == Some("RESULT");
    let order = ex.place_order(
        acc,
        NewOrder {
            symbol,
            side,
            position_side: ps,
            kind,
            tif,
            qty,
            price,
            reduce_only,
            close_position: false,
            client_id: p.opt("newClientOrderId").map(str::to_owned),
        },
    )?;
    if result {
        return Ok(views::order(&m, &order, false));
    }
    // ACK: the order as it was accepted, before any fill.
    let mut ack = order.clone();
    ack.status = super::account::OrderStatus::New;
    ack.executed_qty = Decimal::ZERO;
    ack.cum_quote = Decimal::ZERO;
    ack.update_time = order.time;
    Ok(views::order(&m, &ack, false))
}

/// `POST /fapi/v1/order/test`: the checks of a new order (symbol, side, type, quantity
/// and price filters), nothing placed; `{}` when they pass.
pub fn test(ex: &mut SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    ex.account(acc)?;
    let symbol = p.req("symbol")?.to_owned();
    let m = ex.market(&symbol)?.clone();
    let side = side(p)?;
    let market = match p.req("type")? {
        "LIMIT" => false,
        "MARKET" => true,
        _ => return Err(WireError::bad(-1116, "Invalid orderType.")),
    };
    position_side(p)?;
    check_qty(&m, p.req_decimal("quantity")?, market)?;
    if !market {
        tif(p)?;
        let price = p.req_decimal("price")?;
        check_price(&m, price, "price")?;
        check_percent(side, price, ex.mark(&symbol))?;
    }
    Ok(serde_json::json!({}))
}

/// `POST /fapi/v1/algoOrder`.
pub fn place_algo(ex: &mut SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    if p.req("algoType")? != "CONDITIONAL" {
        return Err(WireError::bad(
            -1130,
            "Data sent for parameter 'algotype' is not valid.",
        ));
    }
    let symbol = p.req("symbol")?.to_owned();
    let m = ex.market(&symbol)?.clone();
    let side = side(p)?;
    let order_type: &'static str = match p.req("type")? {
        "STOP_MARKET" => "STOP_MARKET",
        "TAKE_PROFIT_MARKET" => "TAKE_PROFIT_MARKET",
        "STOP" => "STOP",
        "TAKE_PROFIT" => "TAKE_PROFIT",
        _ => return Err(WireError::bad(-1116, "Invalid orderType.")),
    };
    let ps = position_side(p)?;
    let hedge = ex.account(acc)?.dual_side;
    if hedge && p.has("reduceOnly") {
        return Err(WireError::not_required("reduceOnly"));
    }
    let close_position = p.bool("closePosition")?.unwrap_or(false);
    let reduce_only = p.bool("reduceOnly")?.unwrap_or(false);
    let trigger = p.req_decimal("triggerPrice")?;
    check_price(&m, trigger, "triggerPrice")?;
    let limit = matches!(order_type, "STOP" | "TAKE_PROFIT");
    let qty = if close_position {
        if p.has("quantity") {
            return Err(WireError::not_required("quantity"));
        }
        if reduce_only {
            return Err(WireError::not_required("reduceOnly"));
        }
        Decimal::ZERO
    } else {
        let q = p.req_decimal("quantity")?;
        check_qty(&m, q, !limit)?;
        q
    };
    let (price, tif) = if limit {
        let price = p.req_decimal("price")?;
        check_price(&m, price, "price")?;
        let tif = if p.has("timeInForce") { tif(p)? } else { "GTC" };
        (price, tif)
    } else {
        (Decimal::ZERO, "GTC")
    };
    let mark_price_working = match p.opt("workingType").unwrap_or("CONTRACT_PRICE") {
        "MARK_PRICE" => true,
        "CONTRACT_PRICE" => false,
        _ => return Err(WireError::illegal("workingType")),
    };
    let algo = ex.place_algo(
        acc,
        NewAlgo {
            symbol,
            side,
            position_side: ps,
            order_type,
            tif,
            qty,
            price,
            trigger_price: trigger,
            mark_price_working,
            close_position,
            reduce_only,
            price_protect: p.bool("priceProtect")?.unwrap_or(false),
            client_id: p.opt("clientAlgoId").map(str::to_owned),
        },
    )?;
    Ok(views::algo_order(&m, &algo))
}

/// Symbol and order id from `orderId` or `origClientOrderId`.
pub fn locate(ex: &SimVenue, acc: &str, p: &Params) -> WireResult<(String, u64)> {
    let s = p.req("symbol")?.to_owned();
    ex.market(&s)?;
    if !p.has("orderId") && !p.has("origClientOrderId") {
        return Err(WireError::bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    let id = ex.find_order(acc, &s, p.int("orderId")?, p.opt("origClientOrderId"))?;
    Ok((s, id))
}

const SEVEN_DAYS: i64 = 7 * 86_400_000;

/// `(start, end)` of a history query: the last 7 days by default, at most 7 days wide.
fn window(ex: &SimVenue, p: &Params, max_days_wide: Option<i64>) -> WireResult<(i64, i64)> {
    let start: Option<i64> = p.int("startTime")?;
    let end: Option<i64> = p.int("endTime")?;
    let now = ex.now();
    let (s, e) = match (start, end) {
        (None, None) => (now - SEVEN_DAYS, now),
        (Some(s), None) => (
            s,
            max_days_wide.map_or(now, |w| s.saturating_add(w).min(now)),
        ),
        (None, Some(e)) => (max_days_wide.map_or(0, |w| e.saturating_sub(w)), e),
        (Some(s), Some(e)) => (s, e),
    };
    if let Some(w) = max_days_wide {
        if e.saturating_sub(s) > w {
            return Err(WireError::bad(
                -4166,
                "The time between startTime and endTime can not be longer than 7 days.",
            ));
        }
    }
    Ok((s, e))
}

/// `GET /fapi/v1/userTrades`.
pub fn user_trades(ex: &SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    let s = p.req("symbol")?;
    let m = ex.market(s)?;
    let limit = p.int::<usize>("limit")?.unwrap_or(500).clamp(1, 1000);
    let order_id: Option<u64> = p.int("orderId")?;
    let from_id: Option<u64> = p.int("fromId")?;
    if from_id.is_some() && (p.has("startTime") || p.has("endTime")) {
        return Err(WireError::bad(
            -4143,
            "fromId and time range can not be sent together.",
        ));
    }
    let a = ex.account(acc)?;
    let (start, end) = if from_id.is_some() || order_id.is_some() {
        (i64::MIN, i64::MAX)
    } else {
        window(ex, p, Some(SEVEN_DAYS))?
    };
    let rows: Vec<Value> = a
        .trades
        .iter()
        .filter(|t| t.symbol == s && t.time >= start && t.time <= end)
        .filter(|t| order_id.is_none_or(|o| t.order_id == o))
        .filter(|t| from_id.is_none_or(|f| t.id >= f))
        .take(limit)
        .map(|t| views::trade(m, t))
        .collect();
    Ok(Value::Array(rows))
}

/// `GET /fapi/v1/income`.
pub fn income(ex: &SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    let sym = p.opt("symbol");
    if let Some(s) = sym {
        ex.market(s)?;
    }
    let kind = p.opt("incomeType");
    let limit = p.int::<usize>("limit")?.unwrap_or(100).clamp(1, 1000);
    let page = p.int::<usize>("page")?.unwrap_or(1).max(1);
    let (start, end) = window(ex, p, None)?;
    let a = ex.account(acc)?;
    let rows: Vec<Value> = a
        .income
        .iter()
        .filter(|i| i.time >= start && i.time <= end)
        .filter(|i| sym.is_none_or(|s| s == i.symbol))
        .filter(|i| kind.is_none_or(|k| k == i.income_type))
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .map(views::income)
        .collect();
    Ok(Value::Array(rows))
}

/// `PUT /fapi/v1/order`.
pub fn modify(ex: &mut SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    let (symbol, id) = locate(ex, acc, p)?;
    let m = ex.market(&symbol)?.clone();
    let side = side(p)?;
    let qty = p.req_decimal("quantity")?;
    let price = p.req_decimal("price")?;
    check_qty(&m, qty, false)?;
    check_price(&m, price, "price")?;
    check_percent(side, price, ex.mark(&symbol))?;
    let order = ex.modify_order(acc, id, side, qty, price)?;
    Ok(views::order(&m, &order, false))
}

/// Up to `max` JSON objects from a list parameter, each turned into request parameters.
fn json_list(p: &Params, name: &str, max: usize) -> WireResult<Vec<Value>> {
    let raw = p.req(name)?;
    let list: Vec<Value> = serde_json::from_str(raw).map_err(|_| WireError::mandatory(name))?;
    if list.is_empty() || list.len() > max {
        return Err(WireError::illegal(name));
    }
    Ok(list)
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `POST /fapi/v1/batchOrders`: up to 5 orders, each answered with the order or its own
/// error object, in request order.
pub fn place_batch(ex: &mut SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    let list = json_list(p, "batchOrders", 5)?;
    let mut out = Vec::new();
    for item in list {
        let Some(obj) = item.as_object() else {
            out.push(WireError::mandatory("batchOrders").body());
            continue;
        };
        let pairs: Vec<(String, String)> = obj
            .iter()
            .filter_map(|(k, v)| value_str(v).map(|s| (k.clone(), s)))
            .collect();
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let params = Params::from_pairs(&refs);
        out.push(place(ex, acc, &params).unwrap_or_else(|e| e.body()));
    }
    Ok(Value::Array(out))
}

/// `DELETE /fapi/v1/batchOrders`: up to 10 cancels by `orderIdList` or
/// `origClientOrderIdList`.
pub fn cancel_batch(ex: &mut SimVenue, acc: &str, p: &Params) -> WireResult<Value> {
    let symbol = p.req("symbol")?.to_owned();
    let m = ex.market(&symbol)?.clone();
    let (list, by_client) = if p.has("orderIdList") {
        (json_list(p, "orderIdList", 10)?, false)
    } else if p.has("origClientOrderIdList") {
        (json_list(p, "origClientOrderIdList", 10)?, true)
    } else {
        return Err(WireError::bad(
            -1102,
            "Param 'origClientOrderIdList' or 'orderIdList' must be sent, but both were empty/null!",
        ));
    };
    let mut out = Vec::new();
    for item in list {
        let found = match (by_client, &item) {
            (false, v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| WireError::mandatory("orderIdList"))
                .and_then(|id| ex.find_order(acc, &symbol, Some(id), None)),
            (true, Value::String(c)) => ex.find_order(acc, &symbol, None, Some(c)),
            (true, _) => Err(WireError::mandatory("origClientOrderIdList")),
        };
        let result = found
            .map_err(|e| {
                if e.code == -2013 {
                    WireError::unknown_order()
                } else {
                    e
                }
            })
            .and_then(|id| ex.cancel_order(acc, &symbol, id));
        out.push(match result {
            Ok(o) => views::order(&m, &o, false),
            Err(e) => e.body(),
        });
    }
    Ok(Value::Array(out))
}
