//! Every port method against the simulator, asserting the model's numbers: a market buy
//! shows up in the snapshot with its entry, isolated margin and leverage; limit and
//! conditional orders are found, cancelled and reported by client id; settings report
//! "changed" then "already set"; trades and income carry the fee the model charged; the
//! light reads (positions only, the quote, the clock offset) agree with the snapshot.

use copydesk::domain::{MarginMode, PositionMode, PositionSide, Price, Side};
use copydesk::exchange::events::BalanceReason;
use copydesk::exchange::{
    AccountEvent, CancelOutcome, ConditionalKind, ConditionalOrderRequest, ConditionalPlacement,
    ConditionalSize, ConditionalStatus, Credentials, DefaultVenues, Exchange, ExchangeError,
    IncomeKind, IncomeQuery, KeyRole, KeyVerdict, MarginChange, OrderKind, OrderStatus, Placement,
    SettingOutcome, TimeInForce, TradeQuery, TradingStatus, TriggerPrice, VenueFactory,
    VenueOptions, VenueRequest,
};
use copydesk::sim::{NewAccount, SimConfig};
use rust_decimal_macros::dec;

use super::support::{
    account, adapter, admin_account, cid, dec_of, market, next_event, qty, start_sim, wait_event,
};

#[tokio::test]
async fn a_market_buy_shows_in_the_snapshot_with_its_entry_margin_and_leverage() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);

    let rules = ex.symbol_rules().await.expect("symbol rules");
    let btc = rules
        .rules
        .iter()
        .find(|r| r.symbol.name == "BTCUSDT")
        .expect("BTCUSDT is listed");
    assert_eq!(btc.status, TradingStatus::Trading, "BTCUSDT trades");
    assert_eq!(
        (
            btc.filters.tick_size,
            btc.filters.step_size,
            btc.filters.min_notional
        ),
        (dec!(0.1), dec!(0.001), dec!(100)),
        "BTCUSDT rules come from the simulator's exchangeInfo"
    );
    assert!(
        rules.rules.len() >= 10 && rules.stopped_trading.is_empty(),
        "every simulated market is listed and none stopped on the first fetch"
    );

    assert_eq!(
        ex.set_leverage("BTCUSDT", 10).await.expect("leverage set"),
        10,
        "the leverage now in force is the one asked for"
    );
    assert_eq!(
        ex.set_margin_mode("BTCUSDT", MarginMode::Isolated)
            .await
            .expect("margin mode set"),
        SettingOutcome::Changed,
        "cross to isolated is a change"
    );
    assert_eq!(
        ex.set_margin_mode("BTCUSDT", MarginMode::Isolated)
            .await
            .expect("setting it again is not an error"),
        SettingOutcome::AlreadySet,
        "isolated again is reported as already set (-4046)"
    );

    // 0.1 BTC fits in the best ask level, 5 ticks above the 50,000 mid.
    let placed = ex
        .place_order(&market("cdbuy01", "BTCUSDT", Side::Buy, dec!(0.1)))
        .await
        .expect("market buy");
    let Placement::Acknowledged(report) = placed else {
        panic!("the simulator answers, so the order must be acknowledged: {placed:?}")
    };
    assert_eq!(report.status, OrderStatus::Filled, "a market order fills");
    assert_eq!(report.filled_quantity.get(), dec!(0.1), "all of it fills");
    let entry = dec!(50000.5);
    assert_eq!(
        report.average_price.map(Price::get),
        Some(entry),
        "the fill is at the best ask"
    );
    assert_eq!(report.client_id, "cdbuy01", "our client id comes back");

    let snap = ex.account().await.expect("snapshot");
    let pos = snap
        .positions
        .iter()
        .find(|p| p.symbol == "BTCUSDT")
        .expect("the snapshot holds the new position");
    assert_eq!(pos.position_side, PositionSide::Both, "one-way position");
    assert_eq!(pos.signed_quantity, dec!(0.1), "long 0.1 BTC");
    assert_eq!(
        pos.entry_price.map(Price::get),
        Some(entry),
        "entry is the fill price"
    );
    assert_eq!(pos.leverage, 10, "leverage joined from symbolConfig");
    assert_eq!(pos.margin_mode, MarginMode::Isolated, "isolated as set");
    assert_eq!(
        pos.margin,
        dec!(500.005),
        "isolated margin is 0.1 × 50,000.5 / 10"
    );
    assert_eq!(
        pos.mark_price.map(Price::get),
        Some(dec!(50000)),
        "mark is the mid"
    );
    assert_eq!(pos.unrealized_pnl, dec!(-0.05), "0.1 × (50,000 − 50,000.5)");
    let fee = dec!(2.500025); // 0.05 % taker of 5,000.05
    let usdt = snap
        .balances
        .iter()
        .find(|b| b.asset.as_str() == "USDT")
        .expect("a USDT balance");
    assert_eq!(
        usdt.wallet_balance,
        dec!(10000) - fee,
        "the wallet paid the taker fee"
    );
    assert_eq!(
        snap.position_mode,
        PositionMode::OneWay,
        "new accounts are one-way"
    );
    assert!(!snap.multi_assets, "new accounts are single-asset");
    assert!(
        snap.symbol_settings.iter().any(|s| s.symbol == "ETHUSDT"
            && s.leverage == 20
            && s.margin_mode == MarginMode::Cross),
        "settings list untouched symbols at the default 20x cross"
    );
    let view = admin_account(&sim, &keys.account_id).await;
    assert_eq!(
        dec_of(&view["account"]["totalMarginBalance"]),
        snap.equity,
        "equity is the simulator's total margin balance"
    );

    let trades = ex
        .user_trades(&TradeQuery {
            symbol: "BTCUSDT".into(),
            ..TradeQuery::default()
        })
        .await
        .expect("user trades");
    assert_eq!(trades.len(), 1, "one fill so far");
    let t = &trades[0];
    assert_eq!(
        (t.side, t.price.get(), t.quantity.get(), t.maker),
        (Side::Buy, entry, dec!(0.1), false),
        "the fill as the taker buy at the best ask"
    );
    assert_eq!(
        t.venue_order_id, report.venue_order_id,
        "trade names its order"
    );
    assert_eq!(
        (t.commission.amount, t.commission.asset.as_str()),
        (fee, "USDT"),
        "commission is the taker fee in USDT, paid (positive, as the venue reports it)"
    );

    let income = ex
        .income(&IncomeQuery {
            symbol: Some("BTCUSDT".into()),
            kind: Some(IncomeKind::Commission),
            ..IncomeQuery::default()
        })
        .await
        .expect("income");
    assert_eq!(income.len(), 1, "one commission record");
    assert_eq!(
        (income[0].amount.amount, income[0].trade_id.as_deref()),
        (-fee, Some(t.trade_id.as_str())),
        "the commission is charged against that trade"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn isolated_margin_adds_and_reductions_reach_the_position_and_the_stream() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("ETHUSDT", dec!(3000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);
    ex.set_margin_mode("ETHUSDT", MarginMode::Isolated)
        .await
        .expect("isolated");
    ex.set_leverage("ETHUSDT", 5).await.expect("leverage");
    ex.place_order(&market("cdeth01", "ETHUSDT", Side::Buy, dec!(1)))
        .await
        .expect("market buy");
    let before = ex.account().await.expect("snapshot").positions[0].margin;

    let mut stream = ex.subscribe().await.expect("subscribe");
    assert!(
        matches!(next_event(&mut stream).await, AccountEvent::Resynced(_)),
        "a stream starts with a snapshot"
    );
    ex.adjust_isolated_margin("ETHUSDT", PositionSide::Both, MarginChange::Add, dec!(100))
        .await
        .expect("margin added");
    let (update, _) = wait_event(&mut stream, "the margin add event", |e| match e {
        AccountEvent::BalancePosition(u) => Some(u.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        update.reason,
        BalanceReason::MarginTransfer,
        "an isolated add arrives as a margin transfer"
    );
    let p = update
        .positions
        .iter()
        .find(|p| p.symbol == "ETHUSDT")
        .expect("the event lists the position");
    assert_eq!(
        (p.isolated_margin, p.margin_mode),
        (before + dec!(100), MarginMode::Isolated),
        "the event carries the isolated wallet after the add"
    );

    ex.adjust_isolated_margin(
        "ETHUSDT",
        PositionSide::Both,
        MarginChange::Reduce,
        dec!(40),
    )
    .await
    .expect("margin reduced");
    let (p, _) = wait_event(&mut stream, "the margin reduce event", |e| match e {
        AccountEvent::BalancePosition(u) => {
            u.positions.iter().find(|p| p.symbol == "ETHUSDT").cloned()
        }
        _ => None,
    })
    .await;
    assert_eq!(
        p.isolated_margin,
        before + dec!(60),
        "100 added, 40 taken back"
    );
    let snap = ex.account().await.expect("snapshot");
    assert_eq!(
        snap.positions[0].margin,
        before + dec!(60),
        "the snapshot agrees with the stream"
    );

    let too_much = ex
        .adjust_isolated_margin(
            "ETHUSDT",
            PositionSide::Both,
            MarginChange::Reduce,
            dec!(5000),
        )
        .await
        .expect_err("reducing beyond the maximum must fail");
    assert!(
        matches!(too_much, ExchangeError::Rejected { .. }),
        "the venue's refusal is a rejection with its code: {too_much:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn limit_orders_are_found_cancelled_and_reported_by_client_id() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);

    let mut order = market("cdlimit01", "BTCUSDT", Side::Buy, dec!(0.0109));
    order.kind = OrderKind::Limit {
        price: Price::new(dec!(45000.04)).expect("price"),
        time_in_force: TimeInForce::GoodTillCancel,
    };
    let placed = ex.place_order(&order).await.expect("limit order");
    let Placement::Acknowledged(report) = placed else {
        panic!("limit order must be acknowledged: {placed:?}")
    };
    assert_eq!(
        report.status,
        OrderStatus::New,
        "a limit below the market rests"
    );
    assert_eq!(
        (report.quantity.get(), report.price.map(Price::get)),
        (dec!(0.01), Some(dec!(45000))),
        "quantity floored to the 0.001 step, buy price rounded down to the 0.1 tick"
    );

    let found = ex
        .query_order("BTCUSDT", "cdlimit01")
        .await
        .expect("query")
        .expect("the venue knows the order");
    assert_eq!(
        (found.status, found.venue_order_id.as_str()),
        (OrderStatus::New, report.venue_order_id.as_str()),
        "the query finds the same open order"
    );
    let snap = ex.account().await.expect("snapshot");
    assert_eq!(
        snap.open_orders
            .iter()
            .map(|o| o.client_id.as_str())
            .collect::<Vec<_>>(),
        vec!["cdlimit01"],
        "the snapshot lists the open order"
    );

    match ex
        .cancel_order("BTCUSDT", "cdlimit01")
        .await
        .expect("cancel")
    {
        CancelOutcome::Canceled(r) => {
            assert_eq!(
                r.status,
                OrderStatus::Canceled,
                "the cancel reports the final state"
            )
        }
        CancelOutcome::NotOpen => panic!("an open order must be cancelled, not reported missing"),
    }
    assert_eq!(
        ex.cancel_order("BTCUSDT", "cdlimit01")
            .await
            .expect("second cancel"),
        CancelOutcome::NotOpen,
        "cancelling again finds nothing open (-2011)"
    );
    assert_eq!(
        ex.query_order("BTCUSDT", "cdlimit01")
            .await
            .expect("query after cancel")
            .map(|o| o.status),
        Some(OrderStatus::Canceled),
        "the cancelled order is still known"
    );
    assert_eq!(
        ex.query_order("BTCUSDT", "cdnever")
            .await
            .expect("query unknown"),
        None,
        "an unknown client id is None (-2013), not an error"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn conditional_orders_are_placed_found_triggered_and_cancelled_by_client_id() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);
    ex.place_order(&market("cdopen01", "BTCUSDT", Side::Buy, dec!(0.02)))
        .await
        .expect("open a position to protect");

    let stop = ConditionalOrderRequest {
        client_id: cid("cdstop01"),
        symbol: "BTCUSDT".into(),
        side: Side::Sell,
        position_side: PositionSide::Both,
        kind: ConditionalKind::StopMarket,
        trigger_price: Price::new(dec!(45000.03)).expect("price"),
        trigger_by: TriggerPrice::Mark,
        size: ConditionalSize::ClosePosition,
        margin_mode: MarginMode::Cross,
    };
    let placed = ex.place_conditional(&stop).await.expect("stop placed");
    let ConditionalPlacement::Acknowledged(report) = placed else {
        panic!("the stop must be acknowledged: {placed:?}")
    };
    assert_eq!(
        (
            report.status,
            report.close_position,
            report.trigger_price.map(Price::get)
        ),
        (ConditionalStatus::New, true, Some(dec!(45000))),
        "a close-position stop, trigger rounded to the tick"
    );
    let found = ex
        .query_conditional("BTCUSDT", "cdstop01")
        .await
        .expect("query")
        .expect("the stop is known");
    assert_eq!(
        found.venue_id, report.venue_id,
        "the query finds the same stop"
    );
    let snap = ex.account().await.expect("snapshot");
    assert_eq!(
        snap.open_conditionals.len(),
        1,
        "the snapshot lists the open stop"
    );

    let canceled = ex
        .cancel_conditional("BTCUSDT", "cdstop01")
        .await
        .expect("cancel")
        .expect("an open stop is cancelled");
    assert_eq!(
        canceled.status,
        ConditionalStatus::Canceled,
        "cancel reports it cancelled"
    );
    assert_eq!(
        ex.cancel_conditional("BTCUSDT", "cdstop01")
            .await
            .expect("second cancel"),
        None,
        "a stop no longer open cancels to None"
    );
    assert!(
        ex.account()
            .await
            .expect("snapshot")
            .open_conditionals
            .is_empty(),
        "no stop left open"
    );

    // A take-profit for a quantity, triggered by moving the price through it.
    let tp = ConditionalOrderRequest {
        client_id: cid("cdtp01"),
        kind: ConditionalKind::TakeProfitMarket,
        trigger_price: Price::new(dec!(51000)).expect("price"),
        size: ConditionalSize::Quantity {
            quantity: qty(dec!(0.01)),
        },
        ..stop
    };
    let mut stream = ex.subscribe().await.expect("subscribe");
    next_event(&mut stream).await;
    ex.place_conditional(&tp).await.expect("take-profit placed");
    sim.set_price("BTCUSDT", dec!(51500))
        .expect("price moved through the trigger");
    let (triggered_id, _) = wait_event(&mut stream, "the take-profit firing", |e| match e {
        AccountEvent::Conditional(c) if c.order.status == ConditionalStatus::Triggered => {
            c.order.triggered_order_id.clone()
        }
        _ => None,
    })
    .await;
    let (fill, _) = wait_event(&mut stream, "the triggered order's fill", |e| match e {
        AccountEvent::Order(o)
            if o.order.venue_order_id == triggered_id && o.order.status == OrderStatus::Filled =>
        {
            Some(o.order.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(
        (fill.side, fill.filled_quantity.get(), fill.reduce_only),
        (Side::Sell, dec!(0.01), true),
        "the take-profit sold 0.01 reduce-only"
    );
    let after = ex
        .query_conditional("BTCUSDT", "cdtp01")
        .await
        .expect("query")
        .expect("the fired take-profit is known");
    assert!(
        matches!(
            after.status,
            ConditionalStatus::Triggered | ConditionalStatus::Finished
        ),
        "the take-profit has fired: {:?}",
        after.status
    );
    let pos = ex.account().await.expect("snapshot").positions;
    assert_eq!(
        pos[0].signed_quantity,
        dec!(0.01),
        "half the position is left"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn account_modes_switch_and_report_already_set() {
    let sim = start_sim(SimConfig::default()).await;
    let keys = sim.create_account(NewAccount::usdt(dec!(1000)).with_balance("USDC", dec!(500)));
    let ex = adapter(&sim, &keys);

    assert_eq!(
        ex.position_mode().await.expect("mode"),
        PositionMode::OneWay,
        "starts one-way"
    );
    assert_eq!(
        ex.set_position_mode(PositionMode::Hedge)
            .await
            .expect("to hedge"),
        SettingOutcome::Changed,
        "one-way to hedge is a change"
    );
    assert_eq!(
        ex.set_position_mode(PositionMode::Hedge)
            .await
            .expect("again"),
        SettingOutcome::AlreadySet,
        "hedge again is already set (-4059)"
    );
    assert_eq!(
        ex.position_mode().await.expect("mode"),
        PositionMode::Hedge,
        "now hedge"
    );

    assert!(
        !ex.multi_assets_mode().await.expect("multi-assets"),
        "starts single-asset"
    );
    assert_eq!(
        ex.set_multi_assets_mode(true).await.expect("on"),
        SettingOutcome::Changed,
        "switching multi-assets on is a change"
    );
    assert_eq!(
        ex.set_multi_assets_mode(true).await.expect("again"),
        SettingOutcome::AlreadySet,
        "on again is already set (-4171)"
    );
    assert!(
        ex.multi_assets_mode().await.expect("multi-assets"),
        "now on"
    );
    let isolated = ex
        .set_margin_mode("BTCUSDT", MarginMode::Isolated)
        .await
        .expect_err("multi-assets refuses isolated margin");
    assert_eq!(
        isolated.venue_code(),
        Some(-4168),
        "the refusal keeps the venue's code: {isolated:?}"
    );
    let snap = ex.account().await.expect("snapshot");
    assert_eq!(
        (snap.position_mode, snap.multi_assets),
        (PositionMode::Hedge, true),
        "the snapshot reads both modes"
    );

    // Hedge mode: the order names its side and never carries reduceOnly.
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let mut long = market("cdhedge01", "BTCUSDT", Side::Buy, dec!(0.01));
    long.position_side = PositionSide::Long;
    ex.place_order(&long).await.expect("hedge long");
    let mut close = market("cdhedge02", "BTCUSDT", Side::Sell, dec!(0.01));
    close.position_side = PositionSide::Long;
    close.reduce_only = true;
    let closed = ex
        .place_order(&close)
        .await
        .expect("hedge close is accepted (no -1106)");
    assert!(
        matches!(closed, Placement::Acknowledged(ref r) if r.status == OrderStatus::Filled),
        "the close fills: {closed:?}"
    );
    assert!(
        ex.account().await.expect("snapshot").positions.is_empty(),
        "the long is closed"
    );
    let check = ex.check_key(KeyRole::Follower).await.expect("key check");
    assert_eq!(
        (check.verdict, check.findings.len()),
        (KeyVerdict::Accepted, 0),
        "the simulator's default key is a clean follower key"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn small_orders_are_stopped_before_sending_unless_they_only_reduce() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);
    ex.place_order(&market("cdbig01", "BTCUSDT", Side::Buy, dec!(0.01)))
        .await
        .expect("a 500 USDT order passes the 100 USDT minimum");

    let dust = market("cddust01", "BTCUSDT", Side::Buy, dec!(0.001));
    let refused = ex
        .place_order(&dust)
        .await
        .expect_err("50 USDT is below the minimum notional");
    assert!(
        matches!(refused, ExchangeError::Filter { .. }),
        "refused by the adapter's own check, not by the venue: {refused:?}"
    );
    assert_eq!(
        ex.query_order("BTCUSDT", "cddust01").await.expect("query"),
        None,
        "the refused order never reached the venue"
    );

    let mut trim = market("cdtrim01", "BTCUSDT", Side::Sell, dec!(0.001));
    trim.reduce_only = true;
    let placed = ex
        .place_order(&trim)
        .await
        .expect("a reduce-only order below the minimum goes through (the venue exempts it)");
    assert!(
        matches!(placed, Placement::Acknowledged(ref r) if r.reduce_only && r.status == OrderStatus::Filled),
        "the reduce-only trim fills: {placed:?}"
    );
    let snap = ex.account().await.expect("snapshot");
    assert_eq!(
        snap.positions[0].signed_quantity,
        dec!(0.009),
        "the trim took 0.001 off the long"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_light_reads_give_positions_in_base_units_the_mark_and_the_clock_offset() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    // Built by the venue factory, as the runtime builds it.
    let base = sim.base_url();
    let ex = DefaultVenues
        .connect(VenueRequest {
            account: "me",
            exchange: "binance-usdm",
            endpoint: &base,
            credentials: Some(Credentials::new(
                keys.api_key.clone(),
                keys.secret_key.clone(),
            )),
            options: VenueOptions::default(),
        })
        .expect("the factory builds the Binance adapter");

    let rules = ex.symbol_rules().await.expect("symbol rules");
    assert!(
        rules.rules.iter().all(|r| r.contract_size == dec!(1)),
        "USD-M quantities are base units: one contract is one coin"
    );
    assert!(
        ex.positions().await.expect("positions").is_empty(),
        "a new account holds nothing"
    );
    ex.place_order(&market("cdlight01", "BTCUSDT", Side::Buy, dec!(0.1)))
        .await
        .expect("market buy");
    ex.place_order(&market("cdlight02", "ETHUSDT", Side::Sell, dec!(1)))
        .await
        .expect("market sell");
    let mut held: Vec<(String, PositionSide, rust_decimal::Decimal)> = ex
        .positions()
        .await
        .expect("positions")
        .into_iter()
        .map(|p| (p.symbol, p.position_side, p.signed_quantity))
        .collect();
    held.sort();
    assert_eq!(
        held,
        vec![
            ("BTCUSDT".to_owned(), PositionSide::Both, dec!(0.1)),
            ("ETHUSDT".to_owned(), PositionSide::Both, dec!(-1)),
        ],
        "the positions-only read gives signed base quantities per book"
    );

    let snap = ex.account().await.expect("snapshot");
    let btc = snap
        .positions
        .iter()
        .find(|p| p.symbol == "BTCUSDT")
        .expect("BTC position");
    let quote = ex.quote("BTCUSDT").await.expect("quote");
    assert_eq!(
        Some(quote.mark_price),
        btc.mark_price,
        "the quote's mark is the venue's mark"
    );
    assert_eq!(
        (quote.best_bid, quote.best_ask),
        (None, None),
        "the premium index carries no book prices"
    );

    let offset = ex.sync_time().await.expect("time synced");
    assert_eq!(
        ex.server_offset_ms(),
        offset,
        "the offset measured is the one kept"
    );
}
