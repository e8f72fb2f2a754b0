//! What the model does on its own, as the adapter reports it: funding settles into income
//! and arrives as a funding balance update; a falling price brings a margin call and then
//! a liquidation the runtime can tell from its own orders; an undocumented update reason
//! is kept, not fatal; leverage and multi-assets changes arrive as config events.

use copydesk::domain::{MarginMode, PositionSide, Side};
use copydesk::exchange::events::BalanceReason;
use copydesk::exchange::{
    AccountEvent, Exchange, IncomeKind, IncomeQuery, MarginChange, OrderOrigin, OrderStatus,
    ReportedOrderType,
};
use copydesk::sim::{AccountKeys, ModelConfig, SimConfig, SimHandle};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::support::{account, adapter, market, next_event, start_sim, wait_event};

const FUNDING_EVERY_MS: i64 = 8 * 3600 * 1000;
const STEP_MS: i64 = 50 * 60 * 1000;

/// Renews the account's listen key as a client would, so simulated hours can pass without
/// the key expiring under the stream.
async fn keep_alive(sim: &SimHandle, keys: &AccountKeys) {
    let resp = reqwest::Client::new()
        .put(format!("{}/fapi/v1/listenKey", sim.base_url()))
        .header("X-MBX-APIKEY", &keys.api_key)
        .send()
        .await
        .expect("keepalive answered");
    assert_eq!(resp.status(), 200, "the listen key is still alive");
}

#[tokio::test]
async fn funding_settles_into_income_and_arrives_as_a_funding_update() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);
    ex.place_order(&market("cdfund01", "BTCUSDT", Side::Buy, dec!(0.1)))
        .await
        .expect("open a long");
    let mut stream = ex.subscribe().await.expect("subscribe");
    next_event(&mut stream).await;

    // Walk simulated time to just past the next funding, renewing the key on the way.
    let due = (sim.now() / FUNDING_EVERY_MS + 1) * FUNDING_EVERY_MS;
    while sim.now() <= due {
        keep_alive(&sim, &keys).await;
        sim.advance_clock((due - sim.now() + 1_000).min(STEP_MS));
    }
    let (update, _) = wait_event(&mut stream, "the funding update", |e| match e {
        AccountEvent::BalancePosition(u) if u.reason == BalanceReason::FundingFee => {
            Some(u.clone())
        }
        _ => None,
    })
    .await;
    let usdt = update
        .balances
        .iter()
        .find(|b| b.asset.as_str() == "USDT")
        .expect("the funding update carries the USDT balance");
    let fee = dec!(2.500025);
    assert_eq!(
        usdt.wallet_balance,
        dec!(10000) - fee - dec!(0.5),
        "a long of 0.1 BTC at mark 50,000 pays 0.01 %: 0.5 USDT"
    );
    assert!(
        update.positions.is_empty(),
        "funding on a cross position lists no position"
    );

    let income = ex
        .income(&IncomeQuery {
            kind: Some(IncomeKind::FundingFee),
            ..IncomeQuery::default()
        })
        .await
        .expect("income");
    assert_eq!(
        income
            .iter()
            .map(|i| (i.symbol.as_deref(), i.amount.amount, i.time))
            .collect::<Vec<_>>(),
        vec![(Some("BTCUSDT"), dec!(-0.5), due)],
        "one funding payment, at the funding time"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_margin_call_then_a_liquidation_arrive_as_their_events() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);
    ex.set_margin_mode("BTCUSDT", MarginMode::Isolated)
        .await
        .expect("isolated");
    ex.set_leverage("BTCUSDT", 100).await.expect("100x");
    ex.place_order(&market("cdliq01", "BTCUSDT", Side::Buy, dec!(0.01)))
        .await
        .expect("open a long");
    let snap = ex.account().await.expect("snapshot");
    let p = &snap.positions[0];
    let entry = p.entry_price.expect("entry").get();
    let mark = p.mark_price.expect("mark").get();
    let (q, iw) = (p.signed_quantity, p.margin);
    // First bracket: maintenance margin = notional × rate, with no deduction.
    let rate = p.maintenance_margin / (q * mark);
    // Backing (isolated wallet + PnL) against maintenance margin at price P; solve for the
    // price where margin needed is 90 % of the backing: a call, not yet a liquidation.
    let at_ratio = |k: Decimal| (k * (iw - q * entry) / (q * (rate - k))).round_dp(1);
    let call_price = at_ratio(dec!(0.9));
    let liquidation_price = at_ratio(dec!(1));
    assert!(
        call_price > liquidation_price + dec!(1),
        "the call price ({call_price}) lies above the liquidation price ({liquidation_price})"
    );

    let mut stream = ex.subscribe().await.expect("subscribe");
    next_event(&mut stream).await;
    sim.set_price("BTCUSDT", call_price)
        .expect("price near liquidation");
    let (call, _) = wait_event(&mut stream, "the margin call", |e| match e {
        AccountEvent::MarginCall(c) => Some(c.clone()),
        _ => None,
    })
    .await;
    let row = call.positions.first().expect("the call names the position");
    assert_eq!(
        (
            row.symbol.as_str(),
            row.position_side,
            row.margin_mode,
            row.signed_quantity
        ),
        ("BTCUSDT", PositionSide::Both, MarginMode::Isolated, q),
        "the call names the isolated long"
    );

    sim.set_price("BTCUSDT", liquidation_price - dec!(10))
        .expect("price through liquidation");
    let (liq, _) = wait_event(&mut stream, "the liquidation fill", |e| match e {
        AccountEvent::Order(o) if o.order.status == OrderStatus::Filled => Some(o.clone()),
        _ => None,
    })
    .await;
    let fill = match &liq.execution {
        copydesk::exchange::events::Execution::Liquidation(f) => f.clone(),
        other => panic!("x = CALCULATED maps to a liquidation execution with its fill: {other:?}"),
    };
    assert_eq!(
        (fill.quantity.get(), fill.price.get()),
        (q, liquidation_price - dec!(10)),
        "the liquidation's fill: the whole position at the mark"
    );
    let liq = liq.order;
    assert_eq!(
        (
            liq.origin,
            liq.order_type.clone(),
            liq.side,
            liq.filled_quantity.get()
        ),
        (
            OrderOrigin::Liquidation,
            ReportedOrderType::Liquidation,
            Side::Sell,
            q
        ),
        "the venue closed the long with a liquidation order the runtime can tell apart"
    );
    let after = ex.account().await.expect("snapshot");
    assert!(after.positions.is_empty(), "the position is gone");
    let usdt = after
        .balances
        .iter()
        .find(|b| b.asset.as_str() == "USDT")
        .expect("USDT");
    let fee = (q * entry * dec!(0.0005)).round_dp(8);
    assert_eq!(
        usdt.wallet_balance,
        dec!(10000) - fee - iw,
        "an isolated liquidation costs exactly the isolated margin (plus the opening fee)"
    );
    sim.shutdown().await;
}

/// Binance does not document the reason an isolated margin transfer carries; whatever the
/// simulator is set to send, the adapter keeps the word and the stream carries on.
#[tokio::test]
async fn an_undocumented_margin_transfer_reason_is_kept_and_the_stream_carries_on() {
    let sim = start_sim(SimConfig {
        model: ModelConfig {
            margin_transfer_reason: "ISOLATED_MARGIN_ADJUST".into(),
            ..ModelConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    sim.set_price("ETHUSDT", dec!(3000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);
    ex.set_margin_mode("ETHUSDT", MarginMode::Isolated)
        .await
        .expect("isolated");
    ex.place_order(&market("cdreason01", "ETHUSDT", Side::Buy, dec!(1)))
        .await
        .expect("open a long");
    let mut stream = ex.subscribe().await.expect("subscribe");
    next_event(&mut stream).await;
    ex.adjust_isolated_margin("ETHUSDT", PositionSide::Both, MarginChange::Add, dec!(10))
        .await
        .expect("margin added");
    let (reason, skipped) = wait_event(&mut stream, "the margin update", |e| match e {
        AccountEvent::BalancePosition(u) => Some(u.reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        reason,
        BalanceReason::Other("ISOLATED_MARGIN_ADJUST".into()),
        "an unknown reason is kept as the venue's word"
    );
    assert!(
        !skipped
            .iter()
            .any(|e| matches!(e, AccountEvent::Disconnected(_))),
        "an unknown reason is no reason to reconnect: {skipped:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn leverage_and_multi_assets_changes_arrive_as_config_events() {
    let sim = start_sim(SimConfig::default()).await;
    let keys = account(&sim, dec!(1000));
    let ex = adapter(&sim, &keys);
    let mut stream = ex.subscribe().await.expect("subscribe");
    next_event(&mut stream).await;

    ex.set_leverage("SOLUSDT", 7).await.expect("leverage set");
    let (lev, _) = wait_event(&mut stream, "the leverage event", |e| match e {
        AccountEvent::Leverage(l) => Some(l.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (lev.symbol.as_str(), lev.leverage),
        ("SOLUSDT", 7),
        "the stream reports the new leverage of the symbol"
    );
    ex.set_multi_assets_mode(true)
        .await
        .expect("multi-assets on");
    let (multi, _) = wait_event(&mut stream, "the multi-assets event", |e| match e {
        AccountEvent::MultiAssets(m) => Some(m.enabled),
        _ => None,
    })
    .await;
    assert!(multi, "the stream reports multi-assets switched on");
    sim.shutdown().await;
}
