//! Every payload the adapter reads, decoded from its fixture and mapped to port types.

use copydesk::domain::{MarginMode, PositionSide, Quantity, Side};
use copydesk::exchange::binance_usdm::filters::{self, rules_from_exchange_info};
use copydesk::exchange::binance_usdm::map::{self, WsMessage};
use copydesk::exchange::binance_usdm::parse::*;
use copydesk::exchange::events::{AccountEvent, BalanceReason, Execution};
use copydesk::exchange::{
    ConditionalStatus, ExchangeError, IncomeKind, OrderOrigin, OrderStatus, ReportedOrderType,
    TradingStatus,
};
use rust_decimal_macros::dec;

use super::support::fixture;

fn event(name: &str) -> AccountEvent {
    match map::ws_message(&fixture(name), 42).expect("fixture maps") {
        WsMessage::Event(e) => e,
        other => panic!("{name} should map to an event, got {other:?}"),
    }
}

#[test]
fn server_time() {
    let t: ServerTime = decode("time", fixture("http_time").as_bytes()).expect("decodes");
    assert_eq!(t.server_time, 1499827319559, "serverTime read as integer");
}

#[test]
fn exchange_info_gives_rules_with_market_step() {
    let info: ExchangeInfo =
        decode("exchangeInfo", fixture("http_exchange_info").as_bytes()).expect("decodes");
    assert_eq!(info.rate_limits[0].limit, 2400, "weight limit read");
    let rules = rules_from_exchange_info(info);
    assert_eq!(rules.len(), 1, "one symbol in the fixture");
    let r = &rules[0];
    assert_eq!(r.symbol.name, "BLZUSDT", "symbol name");
    assert_eq!(r.symbol.base.as_str(), "BLZ", "base asset");
    assert_eq!(r.status, TradingStatus::Trading, "TRADING status");
    assert_eq!(r.filters.tick_size, dec!(0.0001), "tick from PRICE_FILTER");
    assert_eq!(r.filters.step_size, dec!(1), "step from LOT_SIZE");
    assert_eq!(
        r.filters.market_max_qty,
        dec!(590119),
        "market max from MARKET_LOT_SIZE"
    );
    assert_eq!(r.filters.min_notional, dec!(5.0), "MIN_NOTIONAL read");
    assert_eq!(r.max_price, dec!(300), "max price from PRICE_FILTER");
}

#[test]
fn halted_symbols_are_reported_as_halted() {
    let body = fixture("http_exchange_info").replace("\"TRADING\"", "\"SETTLING\"");
    let info: ExchangeInfo = decode("exchangeInfo", body.as_bytes()).expect("decodes");
    let rules = rules_from_exchange_info(info);
    assert_eq!(
        rules[0].status,
        TradingStatus::Halted("SETTLING".into()),
        "a non-TRADING status must be kept as halted"
    );
    let q = Quantity::new(dec!(100)).expect("valid");
    let err = filters::prepare(&rules[0], Side::Buy, q, None, "0.1".parse().ok(), false)
        .expect_err("orders on a halted symbol are refused before sending");
    assert!(err.to_string().contains("not trading"), "{err}");
}

#[test]
fn account_balances_and_totals() {
    let a: RawAccount = decode("account", fixture("http_account").as_bytes()).expect("decodes");
    assert_eq!(
        a.total_margin_balance,
        dec!(103.12345678),
        "totalMarginBalance read exactly"
    );
    let b = map::balance("account", a.assets[0].clone()).expect("maps");
    assert_eq!(b.asset.as_str(), "USDT", "asset code");
    assert_eq!(
        b.wallet_balance,
        dec!(23.72469206),
        "walletBalance read exactly"
    );
    assert_eq!(b.updated_at, 1625474304765, "updateTime read");
}

#[test]
fn position_risk_joined_with_symbol_config() {
    let rows: Vec<RawPositionRisk> =
        decode("positionRisk", fixture("http_position_risk").as_bytes()).expect("decodes");
    let cfg: Vec<RawSymbolConfig> = decode(
        "symbolConfig",
        fixture("http_symbol_config_string_flag").as_bytes(),
    )
    .expect("symbolConfig with a string isAutoAddMargin decodes");
    let settings: Vec<_> = cfg
        .into_iter()
        .map(|c| map::symbol_setting("symbolConfig", c).expect("maps"))
        .collect();
    let p = map::position("positionRisk", rows[0].clone(), &settings).expect("maps");
    assert_eq!(p.symbol, "ADAUSDT", "symbol");
    assert_eq!(
        p.signed_quantity,
        dec!(30),
        "positionAmt is the signed quantity"
    );
    assert_eq!(
        p.entry_price.map(|x| x.get()),
        Some(dec!(0.385)),
        "entry price read exactly"
    );
    assert_eq!(
        p.liquidation_price, None,
        "a zero liquidation price means none"
    );
    assert_eq!(
        p.margin_mode,
        MarginMode::Isolated,
        "mode from symbolConfig"
    );
    assert_eq!(p.leverage, 5, "leverage from symbolConfig");
}

#[test]
fn symbol_config_uppercase_crossed() {
    let cfg: Vec<RawSymbolConfig> =
        decode("symbolConfig", fixture("http_symbol_config").as_bytes()).expect("decodes");
    let s = map::symbol_setting("symbolConfig", cfg[0].clone()).expect("maps");
    assert_eq!(s.margin_mode, MarginMode::Cross, "CROSSED is cross");
    assert_eq!(s.leverage, 21, "integer leverage read");
}

#[test]
fn account_modes() {
    let c: RawAccountConfig =
        decode("accountConfig", fixture("http_account_config").as_bytes()).expect("decodes");
    assert!(
        c.dual_side_position && !c.multi_assets_margin,
        "accountConfig: hedge mode on, multi-assets off"
    );
    let d: DualSide = decode("dual", fixture("http_position_side_dual").as_bytes()).expect("ok");
    assert!(d.dual_side_position, "dualSidePosition read");
    let m: MultiAssets =
        decode("multi", fixture("http_multi_assets_margin").as_bytes()).expect("ok");
    assert!(m.multi_assets_margin, "multiAssetsMargin read");
    let l: LeverageSet = decode("leverage", fixture("http_leverage").as_bytes()).expect("ok");
    assert_eq!(l.leverage, 21, "leverage answer read");
}

#[test]
fn success_bodies_in_the_error_shape() {
    let ok: CodeMsg = decode("success", fixture("http_success").as_bytes()).expect("decodes");
    assert_eq!(ok.code, 200, "integer code 200 is success");
    let algo: CodeMsg =
        decode("algo cancel", fixture("http_algo_order_cancel").as_bytes()).expect("decodes");
    assert_eq!(algo.code, 200, "string code \"200\" is read as 200");
    let margin: CodeMsg = decode("positionMargin", fixture("http_position_margin").as_bytes())
        .expect("the float amount is never read, so the answer decodes");
    assert_eq!(margin.code, 200, "positionMargin success code read");
    let err: CodeMsg = decode("error", fixture("http_error_margin").as_bytes()).expect("ok");
    assert_eq!(
        (err.code, err.msg.as_str()),
        (-2019, "Margin is insufficient."),
        "error code and message kept"
    );
}

#[test]
fn orders_map_with_status_and_prices() {
    for name in ["http_order", "http_order_recorded"] {
        let o: RawOrder = decode(name, fixture(name).as_bytes()).expect("decodes");
        let r = map::order(name, o).expect("maps");
        assert_eq!(r.status, OrderStatus::New, "{name}: NEW");
        assert_eq!(r.order_type, ReportedOrderType::Limit, "LIMIT type");
        assert_eq!(
            r.average_price, None,
            "{name}: zero avgPrice means no fill yet"
        );
    }
    let o: RawOrder = decode("m", fixture("http_order_market_result").as_bytes()).expect("ok");
    let r = map::order("m", o).expect("maps");
    assert_eq!(r.status, OrderStatus::Filled, "RESULT answer is final");
    assert_eq!(
        r.filled_quantity.get(),
        dec!(0.010),
        "executedQty read exactly"
    );
    assert_eq!(
        r.average_price.map(|p| p.get()),
        Some(dec!(50000.00)),
        "avgPrice read exactly"
    );
    assert_eq!(r.price, None, "market orders carry no price");
    assert_eq!(r.client_id, "copy-0001", "client id kept as sent");
    assert_eq!(r.side, Side::Buy, "BUY side");
    assert_eq!(r.origin, OrderOrigin::Client, "a client order");
}

#[test]
fn algo_order_maps() {
    let o: RawAlgoOrder = decode("algo", fixture("http_algo_order").as_bytes()).expect("ok");
    let r = map::algo_order("algo", o).expect("maps");
    assert_eq!(r.status, ConditionalStatus::New, "algoStatus NEW");
    assert_eq!(
        r.trigger_price.map(|p| p.get()),
        Some(dec!(750.000)),
        "triggerPrice read exactly"
    );
    assert_eq!(
        r.quantity.map(|q| q.get()),
        Some(dec!(0.01)),
        "quantity read exactly"
    );
    assert_eq!(
        r.order_type,
        ReportedOrderType::TakeProfit,
        "TAKE_PROFIT type"
    );
    assert_eq!(
        r.triggered_order_id, None,
        "untriggered orders have no actual order"
    );
}

#[test]
fn trades_and_income() {
    let t: Vec<RawUserTrade> = decode("t", fixture("http_user_trades").as_bytes()).expect("ok");
    let t = map::user_trade("t", t[0].clone()).expect("maps");
    assert_eq!(
        t.commission.amount,
        dec!(-0.07819010),
        "signed commission kept"
    );
    assert_eq!(t.position_side, PositionSide::Short, "SHORT position side");
    assert_eq!(
        t.realized_pnl,
        dec!(-0.91539999),
        "realized PnL read exactly"
    );
    let i: Vec<RawIncome> = decode("i", fixture("http_income").as_bytes()).expect("ok");
    let i = map::income("i", i[0].clone()).expect("maps");
    assert_eq!(i.kind, IncomeKind::Commission, "COMMISSION kind");
    assert_eq!(i.venue_id, "9689322392", "tranId is the venue id");
    assert_eq!(
        i.trade_id.as_deref(),
        Some("2059192"),
        "string tradeId kept"
    );
}

#[test]
fn premium_index_listen_key_and_restrictions() {
    let p: PremiumIndex = decode("p", fixture("http_premium_index").as_bytes()).expect("ok");
    assert_eq!(p.mark_price, dec!(11793.63104562), "markPrice read exactly");
    let k: ListenKey = decode("k", fixture("http_listen_key").as_bytes()).expect("ok");
    assert_eq!(k.listen_key.len(), 64, "listen keys are 64 characters");
    let r: ApiRestrictions = decode("r", fixture("http_api_restrictions").as_bytes()).expect("ok");
    assert!(
        r.enable_futures && !r.enable_withdrawals && !r.ip_restrict,
        "restriction flags read"
    );
}

#[test]
fn order_trade_update_new_then_trade() {
    let AccountEvent::Order(new) = event("ws_order_trade_update_new") else {
        panic!("ORDER_TRADE_UPDATE maps to an order event")
    };
    assert_eq!(new.execution, Execution::New, "x=NEW is a new order");
    assert_eq!(new.times.venue, 1700000000105, "E is the venue time");
    assert_eq!(
        new.times.transaction,
        Some(1700000000101),
        "T is the transaction time"
    );
    assert_eq!(new.times.received, 42, "local receive time is carried");
    let AccountEvent::Order(fill) = event("ws_order_trade_update_trade") else {
        panic!("order event expected")
    };
    let Execution::Trade(f) = &fill.execution else {
        panic!("x=TRADE is a fill, got {:?}", fill.execution)
    };
    assert_eq!(f.quantity.get(), dec!(0.010), "last fill qty l");
    assert_eq!(f.price.get(), dec!(50000), "last fill price L");
    assert_eq!(
        f.commission.as_ref().map(|c| c.amount),
        Some(dec!(0.20000000)),
        "commission of this fill"
    );
    assert_eq!(fill.order.status, OrderStatus::Filled, "X=FILLED");
    assert_eq!(
        fill.order.filled_quantity.get(),
        dec!(0.010),
        "cumulative z"
    );
}

#[test]
fn order_trade_update_trailing_sample() {
    let AccountEvent::Order(u) = event("ws_order_trade_update_trailing") else {
        panic!("order event expected")
    };
    assert_eq!(
        u.order.order_type,
        ReportedOrderType::TrailingStopMarket,
        "trailing stop type"
    );
    assert_eq!(
        u.order.position_side,
        PositionSide::Long,
        "LONG position side"
    );
}

#[test]
fn liquidation_orders_are_recognised() {
    let body = fixture("ws_order_trade_update_new").replace("copy-0001", "autoclose-1234");
    let Ok(WsMessage::Event(AccountEvent::Order(u))) = map::ws_message(&body, 0) else {
        panic!("maps")
    };
    assert_eq!(
        u.order.origin,
        OrderOrigin::Liquidation,
        "autoclose- prefix"
    );
}

#[test]
fn account_update_balances_and_positions() {
    let AccountEvent::BalancePosition(u) = event("ws_account_update") else {
        panic!("ACCOUNT_UPDATE maps to a balance/position event")
    };
    assert_eq!(u.reason, BalanceReason::Order, "m=ORDER");
    assert_eq!(
        u.balances[0].wallet_balance,
        dec!(122624.12345678),
        "wallet balance read exactly"
    );
    assert_eq!(u.positions.len(), 3, "all three positions");
    assert_eq!(
        u.positions[2].signed_quantity,
        dec!(-10),
        "short is negative"
    );
    assert_eq!(
        u.positions[2].margin_mode,
        MarginMode::Isolated,
        "lowercase isolated"
    );
    assert_eq!(u.positions[0].entry_price, None, "zero entry means none");
    let AccountEvent::BalancePosition(f) = event("ws_account_update_funding_fee") else {
        panic!("funding fee update")
    };
    assert_eq!(f.reason, BalanceReason::FundingFee, "m=FUNDING_FEE");
    assert!(f.positions.is_empty(), "cross funding fee carries no P");
}

#[test]
fn account_config_updates() {
    let AccountEvent::Leverage(l) = event("ws_account_config_update_leverage") else {
        panic!("ac is a leverage change")
    };
    assert_eq!(
        (l.symbol.as_str(), l.leverage),
        ("BTCUSDT", 25),
        "ac carries symbol and leverage"
    );
    let AccountEvent::MultiAssets(m) = event("ws_account_config_update_multi_assets") else {
        panic!("ai is a multi-assets change")
    };
    assert!(m.enabled, "ai.j true is multi-assets on");
}

#[test]
fn margin_call_uppercase_mode() {
    let AccountEvent::MarginCall(m) = event("ws_margin_call") else {
        panic!("margin call")
    };
    assert_eq!(
        m.cross_wallet_balance,
        Some(dec!(3.16812045)),
        "cross wallet balance read"
    );
    assert_eq!(m.positions[0].margin_mode, MarginMode::Cross, "CROSSED");
    assert_eq!(
        m.positions[0].maintenance_margin,
        dec!(1.614445),
        "maintenance margin read"
    );
}

#[test]
fn algo_update_with_empty_actual_id() {
    let AccountEvent::Conditional(c) = event("ws_algo_update") else {
        panic!("algo update")
    };
    assert_eq!(
        c.order.status,
        ConditionalStatus::Canceled,
        "algo status CANCELED"
    );
    assert_eq!(
        c.order.triggered_order_id, None,
        "empty ai means not triggered"
    );
    assert_eq!(
        c.reason.as_deref(),
        Some("Reduce Only reject"),
        "rejection reason kept"
    );
    assert_eq!(
        c.order.client_id, "Q5xaq5EGKgXXa0fD7fs0Ip",
        "caid is the client id"
    );
}

#[test]
fn trigger_reject() {
    let AccountEvent::TriggerRejected(r) = event("ws_conditional_order_trigger_reject") else {
        panic!("trigger reject")
    };
    assert_eq!(r.venue_order_id, "155618472834", "order id read");
}

#[test]
fn listen_key_expired_string_and_integer_time() {
    for name in ["ws_listen_key_expired_string", "ws_listen_key_expired_int"] {
        let m = map::ws_message(&fixture(name), 0).expect("maps");
        assert!(
            matches!(m, WsMessage::ListenKeyExpired),
            "{name} must be read as listen key expiry, got {m:?}"
        );
    }
}

#[test]
fn trade_lite_and_unknown_events_are_ignored() {
    let m = map::ws_message(&fixture("ws_trade_lite"), 0).expect("maps");
    assert!(
        matches!(m, WsMessage::Ignored(_)),
        "TRADE_LITE duplicates fills"
    );
    let m = map::ws_message(r#"{"e":"GRID_UPDATE","E":1,"gu":{}}"#, 0).expect("maps");
    assert!(
        matches!(m, WsMessage::Ignored(_)),
        "unknown events are skipped"
    );
}

#[test]
fn floats_are_refused_naming_the_field() {
    let body = fixture("ws_order_trade_update_trade").replace("\"l\": \"0.010\"", "\"l\": 0.01");
    let err = map::ws_message(&body, 0).expect_err("a float quantity must be refused");
    assert!(
        matches!(&err, ExchangeError::Decode { detail, .. } if detail.contains("o.l")),
        "error names the field o.l: {err}"
    );
}

#[test]
fn integers_are_accepted_for_decimals() {
    let body = fixture("http_premium_index").replace("\"11793.63104562\"", "11793");
    let p: PremiumIndex = decode("p", body.as_bytes()).expect("integer decimal accepted");
    assert_eq!(p.mark_price, dec!(11793), "an integer mark price is exact");
}

#[test]
fn malformed_payloads_fail_without_panicking() {
    let err = decode::<RawOrder>("order", br#"{"orderId":1}"#).expect_err("missing fields");
    assert!(
        err.to_string().contains("symbol"),
        "names the missing field: {err}"
    );
    let body = fixture("http_order").replace("\"SELL\"", "\"SIDEWAYS\"");
    let o: RawOrder = decode("order", body.as_bytes()).expect("raw decode keeps words");
    let err = map::order("order", o).expect_err("unknown side refused");
    assert!(
        err.to_string().contains("side") && err.to_string().contains("SIDEWAYS"),
        "{err}"
    );
    for junk in ["", "null", "[]", "{\"e\":5}", "not json"] {
        assert!(
            map::ws_message(junk, 0).is_err(),
            "`{junk}` must be an error, not a panic"
        );
    }
}

#[test]
fn a_position_without_its_symbol_config_row_is_an_error() {
    let rows: Vec<RawPositionRisk> =
        decode("positionRisk", fixture("http_position_risk").as_bytes()).expect("decodes");
    let err = map::position("positionRisk", rows[0].clone(), &[])
        .expect_err("leverage must not be guessed");
    assert!(
        err.to_string().contains("ADAUSDT"),
        "the error names the symbol: {err}"
    );
}

#[test]
fn a_triggered_algo_order_names_the_order_it_placed() {
    let o: RawAlgoOrder = decode("algo", fixture("http_algo_order_triggered").as_bytes())
        .expect("a query answer with actual* fields decodes");
    let r = map::algo_order("algo", o).expect("maps");
    assert_eq!(
        r.status,
        ConditionalStatus::Triggered,
        "algoStatus TRIGGERED"
    );
    assert_eq!(
        r.triggered_order_id.as_deref(),
        Some("4087922101"),
        "actualOrderId given as a string joins to the regular order"
    );
}
