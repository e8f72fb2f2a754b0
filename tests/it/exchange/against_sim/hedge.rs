//! Hedge mode, maker fills and a market margined in another asset, against the simulator:
//! both sides of a symbol in one snapshot, margin moved on one side only, a resting limit
//! order filled as maker when the price reaches it, and a BTC-margined symbol.

use copydesk::domain::{MarginMode, PositionSide, Price, Side};
use copydesk::exchange::events::Execution;
use copydesk::exchange::{
    AccountEvent, Exchange, MarginChange, OrderKind, OrderStatus, TimeInForce, TradeQuery,
};
use copydesk::sim::{NewAccount, SimConfig};
use rust_decimal_macros::dec;

use super::support::{adapter, market, next_event, start_sim, wait_event};

#[tokio::test]
async fn both_hedge_sides_are_reported_and_margin_moves_on_one_side_only() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = sim.create_account(NewAccount::usdt(dec!(10000)).hedge());
    let ex = adapter(&sim, &keys);
    ex.set_margin_mode("BTCUSDT", MarginMode::Isolated)
        .await
        .expect("isolated");
    ex.set_leverage("BTCUSDT", 10).await.expect("10x");
    let mut long = market("cdlong01", "BTCUSDT", Side::Buy, dec!(0.02));
    long.position_side = PositionSide::Long;
    ex.place_order(&long).await.expect("long opened");
    let mut short = market("cdshort01", "BTCUSDT", Side::Sell, dec!(0.01));
    short.position_side = PositionSide::Short;
    ex.place_order(&short).await.expect("short opened");

    let side_of = |snap: &copydesk::exchange::AccountSnapshot, side: PositionSide| {
        snap.positions
            .iter()
            .find(|p| p.symbol == "BTCUSDT" && p.position_side == side)
            .cloned()
            .unwrap_or_else(|| panic!("the snapshot holds the {side:?} side"))
    };
    let snap = ex.account().await.expect("snapshot");
    let (l, s) = (
        side_of(&snap, PositionSide::Long),
        side_of(&snap, PositionSide::Short),
    );
    assert_eq!(
        (l.signed_quantity, s.signed_quantity),
        (dec!(0.02), dec!(-0.01)),
        "long positive, short negative"
    );
    assert_eq!(
        (l.entry_price.map(Price::get), s.entry_price.map(Price::get)),
        (Some(dec!(50000.5)), Some(dec!(49999.5))),
        "the long bought at the ask, the short sold at the bid"
    );
    assert_eq!(
        (l.margin, s.margin),
        (dec!(100.001), dec!(49.9995)),
        "each side holds its own isolated margin at 10x"
    );

    ex.adjust_isolated_margin("BTCUSDT", PositionSide::Short, MarginChange::Add, dec!(25))
        .await
        .expect("margin added to the short");
    let snap = ex.account().await.expect("snapshot");
    assert_eq!(
        (
            side_of(&snap, PositionSide::Long).margin,
            side_of(&snap, PositionSide::Short).margin
        ),
        (dec!(100.001), dec!(74.9995)),
        "only the short's isolated margin grew"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_resting_limit_order_fills_as_maker_when_the_price_reaches_it() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("ETHUSDT", dec!(3000)).expect("price set");
    let keys = sim.create_account(NewAccount::usdt(dec!(10000)));
    let ex = adapter(&sim, &keys);
    let mut stream = ex.subscribe().await.expect("subscribe");
    next_event(&mut stream).await;

    let mut bid = market("cdmaker01", "ETHUSDT", Side::Buy, dec!(0.5));
    bid.kind = OrderKind::Limit {
        price: Price::new(dec!(2950)).expect("price"),
        time_in_force: TimeInForce::GoodTillCancel,
    };
    ex.place_order(&bid).await.expect("bid rests");
    sim.set_price("ETHUSDT", dec!(2900))
        .expect("price falls through the bid");
    let (fill, _) = wait_event(&mut stream, "the maker fill", |e| match e {
        AccountEvent::Order(o) => match &o.execution {
            Execution::Trade(f) => Some((o.order.clone(), f.clone())),
            _ => None,
        },
        _ => None,
    })
    .await;
    let (order, f) = fill;
    assert_eq!(
        (order.status, f.price.get(), f.quantity.get(), f.maker),
        (OrderStatus::Filled, dec!(2950), dec!(0.5), true),
        "the bid filled in full at its own price, as maker"
    );
    let commission = f.commission.expect("a fill carries its commission");
    assert_eq!(
        (commission.amount, commission.asset.as_str()),
        (dec!(0.295), "USDT"),
        "maker fee 0.02 % of 1,475, paid (positive)"
    );
    let trades = ex
        .user_trades(&TradeQuery {
            symbol: "ETHUSDT".into(),
            ..TradeQuery::default()
        })
        .await
        .expect("trades");
    assert!(
        trades.len() == 1 && trades[0].maker && trades[0].trade_id == f.trade_id,
        "the trade history holds the same maker fill: {trades:?}"
    );
    assert_eq!(
        trades[0].commission, commission,
        "the adapter reads the same fee, with the same sign, from the stream and from userTrades"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_symbol_margined_in_btc_trades_against_the_btc_wallet() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("ETHBTC", dec!(0.06)).expect("price set");
    let keys = sim.create_account(NewAccount::usdt(dec!(0)).with_balance("BTC", dec!(1)));
    let ex = adapter(&sim, &keys);
    let rules = ex.symbol_rules().await.expect("rules");
    let ethbtc = rules
        .rules
        .iter()
        .find(|r| r.symbol.name == "ETHBTC")
        .expect("ETHBTC is listed");
    assert_eq!(
        (ethbtc.margin_asset.as_str(), ethbtc.symbol.quote.as_str()),
        ("BTC", "BTC"),
        "ETHBTC is quoted and margined in BTC"
    );
    ex.place_order(&market("cdethbtc01", "ETHBTC", Side::Buy, dec!(1)))
        .await
        .expect("market buy");
    let snap = ex.account().await.expect("snapshot");
    let p = &snap.positions[0];
    assert_eq!(
        (
            p.symbol.as_str(),
            p.signed_quantity,
            p.margin_asset.as_str()
        ),
        ("ETHBTC", dec!(1), "BTC"),
        "the position is margined in BTC"
    );
    let btc = snap
        .balances
        .iter()
        .find(|b| b.asset.as_str() == "BTC")
        .expect("a BTC balance");
    let notional = p.entry_price.expect("entry").get();
    assert_eq!(
        btc.wallet_balance,
        dec!(1) - (notional * dec!(0.0005)).round_dp(8),
        "the BTC wallet paid the taker fee"
    );
    sim.shutdown().await;
}
