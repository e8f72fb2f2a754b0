//! Binance-shaped JSON views of the model: orders, positions, balances, trades, income and
//! the user-data event payloads. Field names and JSON types follow the recorded fixtures;
//! numbers are strings padded to the symbol's precision.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::account::{Account, AlgoOrder, Income, Order, Position, Trade};
use super::clock::Millis;
use super::exchange::SimVenue;
use super::market::Market;
use crate::domain::{PositionSide, Side};

pub fn fixed(v: Decimal, dp: u32) -> String {
    format!("{:.*}", dp as usize, v.round_dp(dp))
}

pub fn px(m: &Market, v: Decimal) -> String {
    fixed(v, m.price_precision)
}

pub fn qty(m: &Market, v: Decimal) -> String {
    fixed(v, m.qty_precision)
}

pub fn money(v: Decimal) -> String {
    fixed(v, 8)
}

pub fn side_str(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

pub fn ps_str(p: PositionSide) -> &'static str {
    match p {
        PositionSide::Both => "BOTH",
        PositionSide::Long => "LONG",
        PositionSide::Short => "SHORT",
    }
}

/// The order object of `POST/GET/DELETE /fapi/v1/order` and `openOrders`.
pub fn order(m: &Market, o: &Order, with_time: bool) -> Value {
    let mut v = json!({
        "orderId": o.id, "symbol": o.symbol, "status": o.status.as_str(), "clientOrderId": o.client_id,
        "price": px(m, o.price), "avgPrice": px(m, o.avg_price()), "origQty": qty(m, o.orig_qty),
        "executedQty": qty(m, o.executed_qty), "cumQty": qty(m, o.executed_qty),
        "cumQuote": fixed(o.cum_quote, 5), "timeInForce": o.tif, "type": o.kind.as_str(),
        "reduceOnly": o.reduce_only, "closePosition": o.close_position, "side": side_str(o.side),
        "positionSide": ps_str(o.position_side), "stopPrice": px(m, Decimal::ZERO),
        "workingType": "CONTRACT_PRICE", "priceProtect": false, "origType": o.kind.as_str(),
        "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0,
        "updateTime": o.update_time,
    });
    if with_time {
        if let Some(obj) = v.as_object_mut() {
            obj.insert("time".to_owned(), json!(o.time));
        }
    }
    v
}

/// A fill as the order event reports it.
#[derive(Debug, Clone, Copy)]
pub struct FillInfo {
    pub price: Decimal,
    pub qty: Decimal,
    pub commission: Decimal,
    /// The asset the commission was paid in (the margin asset, or BNB).
    pub commission_asset: &'static str,
    pub trade_id: u64,
    pub maker: bool,
    pub realized: Decimal,
}

/// `ORDER_TRADE_UPDATE` (without `E`, which the emitter stamps).
pub fn order_event(m: &Market, o: &Order, exec: &str, fill: Option<FillInfo>, t: Millis) -> Value {
    let filled = fill.is_some();
    let f = fill.unwrap_or(FillInfo {
        price: Decimal::ZERO,
        qty: Decimal::ZERO,
        commission: Decimal::ZERO,
        commission_asset: "",
        trade_id: 0,
        maker: false,
        realized: Decimal::ZERO,
    });
    let mut event = json!({
        "e": "ORDER_TRADE_UPDATE", "T": t,
        "o": {
            "s": o.symbol, "c": o.client_id, "S": side_str(o.side), "o": o.kind.as_str(), "f": o.tif,
            "q": qty(m, o.orig_qty), "p": px(m, o.price), "ap": px(m, o.avg_price()), "sp": "0",
            "x": exec, "X": o.status.as_str(), "i": o.id, "l": qty(m, f.qty), "z": qty(m, o.executed_qty),
            "L": px(m, f.price), "N": if f.commission_asset.is_empty() { m.margin_asset } else { f.commission_asset }, "n": money(f.commission), "T": t, "t": f.trade_id,
            "b": "0", "a": "0", "m": f.maker, "R": o.reduce_only, "wt": "CONTRACT_PRICE",
            "ot": o.kind.as_str(), "ps": ps_str(o.position_side), "cp": o.close_position, "pP": false,
            "si": 0, "ss": 0, "rp": money(f.realized), "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
            "er": o.expire_reason.to_string(),
        }
    });
    // As on the venue, the commission asset comes only with a fill.
    if !filled {
        if let Some(o) = event.get_mut("o").and_then(Value::as_object_mut) {
            o.remove("N");
        }
    }
    event
}

fn mt(p: &Position) -> &'static str {
    if p.isolated {
        "isolated"
    } else {
        "cross"
    }
}

fn position_event_row(m: &Market, p: &Position, mark: Decimal) -> Value {
    json!({
        "s": p.symbol, "pa": qty(m, p.amt), "ep": fixed(p.entry, 8), "bep": fixed(break_even(p), 8),
        "cr": money(p.realized), "up": money(p.upnl(mark)), "mt": mt(p),
        "iw": money(p.isolated_wallet), "ps": ps_str(p.side),
    })
}

/// Break-even price: entry moved by the taker fee paid to open and close.
pub fn break_even(p: &Position) -> Decimal {
    if p.amt.is_zero() {
        return Decimal::ZERO;
    }
    let fee = Decimal::new(5, 4);
    if p.amt > Decimal::ZERO {
        p.entry * (Decimal::ONE + fee) / (Decimal::ONE - fee)
    } else {
        p.entry * (Decimal::ONE - fee) / (Decimal::ONE + fee)
    }
}

/// `ACCOUNT_UPDATE` for the given assets and positions (without `E`).
pub fn account_update(
    ex: &SimVenue,
    account: &str,
    reason: &str,
    assets: &[&str],
    positions: &[(&str, PositionSide)],
    funding_symbol: Option<&str>,
) -> Value {
    let Some(a) = ex.accounts.get(account) else {
        return json!({});
    };
    let marks = ex.marks();
    let balances: Vec<Value> = assets
        .iter()
        .map(|asset| {
            let f = a.figures(asset, &ex.markets, &marks);
            json!({"a": asset, "wb": money(f.wallet), "cw": money(f.cross_wallet), "bc": "0"})
        })
        .collect();
    let rows: Vec<Value> = positions
        .iter()
        .filter_map(|(s, side)| {
            let m = ex.markets.get(*s)?;
            let p = a
                .position(s, *side)
                .cloned()
                .unwrap_or_else(|| Position::new(s, *side, a.config(s).isolated));
            Some(position_event_row(m, &p, ex.mark(s)))
        })
        .collect();
    let mut inner = json!({"m": reason, "B": balances, "P": rows});
    if let (Some(sym), Some(obj)) = (funding_symbol, inner.as_object_mut()) {
        obj.insert("S".to_owned(), json!(sym));
        // Funding on a cross position carries no `P` at all.
        if positions.is_empty() {
            obj.remove("P");
        }
    }
    json!({"e": "ACCOUNT_UPDATE", "T": ex.now(), "a": inner})
}

/// Rows of positions to show: every non-zero position, plus zero rows for symbols with
/// open orders, in listing order.
pub fn visible_positions(ex: &SimVenue, a: &Account, symbol: Option<&str>) -> Vec<Position> {
    let mut out = Vec::new();
    for s in &ex.symbols {
        if symbol.is_some_and(|x| x != s) {
            continue;
        }
        let sides: &[PositionSide] = if a.dual_side {
            &[PositionSide::Long, PositionSide::Short]
        } else {
            &[PositionSide::Both]
        };
        let has_orders = a.open_orders().any(|o| &o.symbol == s);
        for side in sides {
            match a.position(s, *side) {
                Some(p) if !p.amt.is_zero() || has_orders => out.push(p.clone()),
                None if has_orders => out.push(Position::new(s, *side, a.config(s).isolated)),
                _ => {}
            }
        }
    }
    out
}

/// One row of `GET /fapi/v3/positionRisk`.
pub fn position_risk_v3(ex: &SimVenue, a: &Account, p: &Position) -> Option<Value> {
    let m = ex.markets.get(&p.symbol)?;
    let mark = ex.mark(&p.symbol);
    let marks = ex.marks();
    let lev = a.config(&p.symbol).leverage;
    let im = if p.isolated {
        p.isolated_wallet
    } else {
        p.initial_margin(mark, lev)
    };
    let (bid, ask) = order_notional(a, &p.symbol);
    Some(json!({
        "symbol": p.symbol, "positionSide": ps_str(p.side), "positionAmt": qty(m, p.amt),
        "entryPrice": fixed(p.entry, 8), "breakEvenPrice": fixed(break_even(p), 8),
        "markPrice": fixed(mark, 8), "unRealizedProfit": money(p.upnl(mark)),
        "liquidationPrice": fixed(a.liquidation_price(p, &ex.markets, &marks), 8),
        "isolatedMargin": money(if p.isolated { p.isolated_wallet + p.upnl(mark) } else { Decimal::ZERO }),
        "notional": money(p.notional(mark)), "marginAsset": m.margin_asset,
        "isolatedWallet": money(p.isolated_wallet), "initialMargin": money(im),
        "maintMargin": money(p.maint_margin(mark, m)), "positionInitialMargin": money(im),
        "openOrderInitialMargin": "0", "adl": 0, "bidNotional": money(bid), "askNotional": money(ask),
        "updateTime": p.update_time,
    }))
}

fn order_notional(a: &Account, symbol: &str) -> (Decimal, Decimal) {
    let mut bid = Decimal::ZERO;
    let mut ask = Decimal::ZERO;
    for o in a.open_orders().filter(|o| o.symbol == symbol) {
        match o.side {
            Side::Buy => bid += o.remaining() * o.price,
            Side::Sell => ask += o.remaining() * o.price,
        }
    }
    (bid, ask)
}

/// One row of `GET /fapi/v2/positionRisk` (every symbol, with leverage and margin type).
pub fn position_risk_v2(ex: &SimVenue, a: &Account, p: &Position) -> Option<Value> {
    let m = ex.markets.get(&p.symbol)?;
    let mark = ex.mark(&p.symbol);
    let marks = ex.marks();
    let cfg = a.config(&p.symbol);
    Some(json!({
        "symbol": p.symbol, "positionAmt": qty(m, p.amt), "entryPrice": fixed(p.entry, 8),
        "breakEvenPrice": fixed(break_even(p), 8), "markPrice": fixed(mark, 8),
        "unRealizedProfit": money(p.upnl(mark)),
        "liquidationPrice": fixed(a.liquidation_price(p, &ex.markets, &marks), 8),
        "leverage": cfg.leverage.to_string(), "maxNotionalValue": m.max_notional(cfg.leverage).normalize().to_string(),
        "marginType": mt(p), "isolatedMargin": money(if p.isolated { p.isolated_wallet + p.upnl(mark) } else { Decimal::ZERO }),
        "isAutoAddMargin": "false", "positionSide": ps_str(p.side), "notional": money(p.notional(mark)),
        "isolatedWallet": money(p.isolated_wallet), "updateTime": p.update_time,
    }))
}

/// Assets an account shows: the ones it holds plus the two pooled stablecoins.
pub fn shown_assets(a: &Account) -> Vec<String> {
    let mut assets: Vec<String> = a.wallets.keys().cloned().collect();
    for s in ["USDT", "USDC"] {
        if !assets.iter().any(|x| x == s) {
            assets.push(s.to_owned());
        }
    }
    assets.sort();
    assets
}

/// `GET /fapi/v3/account`.
pub fn account_v3(ex: &SimVenue, a: &Account) -> Value {
    let marks = ex.marks();
    let mut assets = Vec::new();
    for asset in shown_assets(a) {
        let f = a.figures(&asset, &ex.markets, &marks);
        assets.push(json!({
            "asset": asset, "walletBalance": money(f.wallet), "unrealizedProfit": money(f.unrealized),
            "marginBalance": money(f.margin_balance()), "maintMargin": money(f.maint_margin),
            "initialMargin": money(f.initial_margin()), "positionInitialMargin": money(f.position_initial_margin),
            "openOrderInitialMargin": money(f.open_order_margin), "crossWalletBalance": money(f.cross_wallet),
            "crossUnPnl": money(f.cross_unrealized), "availableBalance": money(f.available.max(Decimal::ZERO)),
            "maxWithdrawAmount": money(f.max_withdraw), "updateTime": a.update_time,
        }));
    }
    // Totals: USDT alone in single-asset mode, the USD pool in Multi-Assets mode.
    let t = a.group_figures("USDT", &ex.markets, &marks);
    let positions: Vec<Value> = visible_positions(ex, a, None)
        .iter()
        .filter_map(|p| {
            let m = ex.markets.get(&p.symbol)?;
            let mark = ex.mark(&p.symbol);
            let im = if p.isolated { p.isolated_wallet } else { p.initial_margin(mark, a.config(&p.symbol).leverage) };
            Some(json!({
                "symbol": p.symbol, "positionSide": ps_str(p.side), "positionAmt": qty(m, p.amt),
                "unrealizedProfit": money(p.upnl(mark)),
                "isolatedMargin": money(if p.isolated { p.isolated_wallet + p.upnl(mark) } else { Decimal::ZERO }),
                "notional": money(p.notional(mark)), "isolatedWallet": money(p.isolated_wallet),
                "initialMargin": money(im), "maintMargin": money(p.maint_margin(mark, m)),
                "updateTime": p.update_time,
            }))
        })
        .collect();
    json!({
        "totalInitialMargin": money(t.initial_margin()), "totalMaintMargin": money(t.maint_margin),
        "totalWalletBalance": money(t.wallet), "totalUnrealizedProfit": money(t.unrealized),
        "totalMarginBalance": money(t.margin_balance()), "totalPositionInitialMargin": money(t.position_initial_margin),
        "totalOpenOrderInitialMargin": money(t.open_order_margin), "totalCrossWalletBalance": money(t.cross_wallet),
        "totalCrossUnPnl": money(t.cross_unrealized), "availableBalance": money(t.available.max(Decimal::ZERO)),
        "maxWithdrawAmount": money(t.max_withdraw), "assets": assets, "positions": positions,
    })
}

/// `GET /fapi/v3/balance`.
pub fn balance_v3(ex: &SimVenue, a: &Account) -> Value {
    let marks = ex.marks();
    let rows: Vec<Value> = shown_assets(a)
        .iter()
        .map(|asset| {
            let f = a.figures(asset, &ex.markets, &marks);
            json!({
                "accountAlias": "SimA", "asset": asset, "balance": money(f.wallet),
                "crossWalletBalance": money(f.cross_wallet), "crossUnPnl": money(f.cross_unrealized),
                "availableBalance": money(f.available.max(Decimal::ZERO)), "maxWithdrawAmount": money(f.max_withdraw),
                "marginAvailable": true, "updateTime": a.update_time,
            })
        })
        .collect();
    Value::Array(rows)
}

pub fn trade(m: &Market, t: &Trade) -> Value {
    json!({
        "buyer": t.side == Side::Buy, "commission": money(t.commission), "commissionAsset": t.commission_asset,
        "id": t.id, "maker": t.maker, "orderId": t.order_id, "price": px(m, t.price), "qty": qty(m, t.qty),
        "quoteQty": money(t.price * t.qty), "realizedPnl": money(t.realized_pnl), "side": side_str(t.side),
        "positionSide": ps_str(t.position_side), "symbol": t.symbol, "time": t.time,
    })
}

pub fn income(i: &Income) -> Value {
    json!({
        "symbol": i.symbol, "incomeType": i.income_type, "income": money(i.income), "asset": i.asset,
        "info": i.info, "time": i.time, "tranId": i.tran_id, "tradeId": i.trade_id,
    })
}

fn algo_price(m: &Market, v: Decimal) -> String {
    px(m, v)
}

/// The algo order object of `POST/GET /fapi/v1/algoOrder` and `openAlgoOrders`.
pub fn algo_order(m: &Market, o: &AlgoOrder) -> Value {
    json!({
        "algoId": o.id, "clientAlgoId": o.client_id, "algoType": "CONDITIONAL", "orderType": o.order_type,
        "symbol": o.symbol, "side": side_str(o.side), "positionSide": ps_str(o.position_side),
        "timeInForce": o.tif, "quantity": qty(m, o.qty), "algoStatus": o.status.as_str(),
        "triggerPrice": algo_price(m, o.trigger_price), "price": algo_price(m, o.price),
        "icebergQuantity": null, "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": if o.mark_price_working { "MARK_PRICE" } else { "CONTRACT_PRICE" },
        "priceMatch": "NONE", "closePosition": o.close_position, "priceProtect": o.price_protect,
        "reduceOnly": o.reduce_only, "activatePrice": "", "callbackRate": "",
        "createTime": o.create_time, "updateTime": o.update_time, "triggerTime": o.trigger_time,
        "goodTillDate": 0,
    })
}

/// `ALGO_UPDATE` (without `E`).
pub fn algo_event(
    m: &Market,
    o: &AlgoOrder,
    status: &str,
    avg: Decimal,
    executed: Decimal,
    t: Millis,
) -> Value {
    json!({
        "e": "ALGO_UPDATE", "T": t,
        "o": {
            "caid": o.client_id, "aid": o.id, "at": "CONDITIONAL", "o": o.order_type, "s": o.symbol,
            "S": side_str(o.side), "ps": ps_str(o.position_side), "f": o.tif, "q": qty(m, o.qty),
            "X": status, "ai": o.actual_order_id.map(|i| i.to_string()).unwrap_or_default(),
            "ap": fixed(avg, 5), "aq": fixed(executed, 5),
            "act": if o.actual_order_id.is_some() { market_type_of(o.order_type) } else { "0" },
            "tp": algo_price(m, o.trigger_price), "p": algo_price(m, o.price), "V": "EXPIRE_MAKER",
            "wt": if o.mark_price_working { "MARK_PRICE" } else { "CONTRACT_PRICE" }, "pm": "NONE",
            "cp": o.close_position, "pP": o.price_protect, "R": o.reduce_only, "tt": o.trigger_time,
            "gtd": 0, "rm": o.reason,
        }
    })
}

/// The order type the matching engine receives when a conditional order triggers.
pub fn market_type_of(algo_type: &str) -> &'static str {
    match algo_type {
        "STOP" | "TAKE_PROFIT" => "LIMIT",
        _ => "MARKET",
    }
}
