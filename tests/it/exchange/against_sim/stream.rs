//! The user-data stream against the simulator: events after the first snapshot, and
//! recovery from a forced disconnect and from a listen-key expiry. The reconnect backoff
//! sleeps on a gated clock, so the test decides when the adapter may reconnect and can
//! trade in the gap; the `Resynced` snapshot must then show what the socket missed.

use std::time::Duration;

use copydesk::domain::{MarginMode, PositionSide, Price, Side};
use copydesk::exchange::binance_usdm::{Options, StreamConfig, WeightLimiter};
use copydesk::exchange::events::Execution;
use copydesk::exchange::{
    AccountEvent, ClientOrderId, ConditionalKind, ConditionalOrderRequest, ConditionalSize,
    ErrorClass, EventStream, Exchange, OrderKind, OrderStatus, TimeInForce, TriggerPrice,
};
use copydesk::sim::{AccountKeys, NewAccount, Permissions, SimConfig, SimHandle};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use std::sync::Arc;

use super::support::{adapter_with, fault, market, next_event, start_sim, wait_event, GatedClock};

/// The stream's first backoff: distinctive, so only it is gated.
const BACKOFF: Duration = Duration::from_millis(1_234);

struct Setup {
    sim: SimHandle,
    keys: AccountKeys,
    clock: Arc<GatedClock>,
    ex: copydesk::exchange::binance_usdm::BinanceUsdm,
}

async fn setup() -> Setup {
    setup_with(None).await
}

/// `expires_in_ms`: when the key's trading authority ends, in simulated time from now.
async fn setup_with(expires_in_ms: Option<i64>) -> Setup {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let permissions = Permissions {
        expires_at: expires_in_ms.map_or(0, |ms| sim.now() + ms),
        ..Permissions::default()
    };
    let keys = sim.create_account(NewAccount {
        permissions,
        ..NewAccount::usdt(dec!(10000))
    });
    let clock = GatedClock::new(&[BACKOFF]);
    let options = Options {
        stream: StreamConfig {
            backoff_initial: BACKOFF,
            backoff_max: BACKOFF,
            ..StreamConfig::default()
        },
        ..Options::default()
    };
    let limiter = Arc::new(WeightLimiter::new(2400, clock.clone()));
    let ex = adapter_with(&sim, &keys, clock.clone(), limiter, options);
    Setup {
        sim,
        keys,
        clock,
        ex,
    }
}

async fn expect_resynced(stream: &mut EventStream) -> copydesk::exchange::AccountSnapshot {
    match next_event(stream).await {
        AccountEvent::Resynced(r) => r.snapshot,
        other => panic!("a connect must be followed by a snapshot, got {other:?}"),
    }
}

fn position_of(snap: &copydesk::exchange::AccountSnapshot, symbol: &str) -> Decimal {
    snap.positions
        .iter()
        .filter(|p| p.symbol == symbol && p.position_side == PositionSide::Both)
        .map(|p| p.signed_quantity)
        .sum()
}

#[tokio::test]
async fn order_events_follow_the_first_snapshot_with_venue_and_receive_times() {
    let s = setup().await;
    let mut stream = s.ex.subscribe().await.expect("subscribe");
    let snap = expect_resynced(&mut stream).await;
    assert!(snap.positions.is_empty(), "a new account has no position");
    s.ex.place_order(&market("cdev01", "BTCUSDT", Side::Buy, dec!(0.01)))
        .await
        .expect("market buy");
    let (fill, skipped) = wait_event(&mut stream, "the fill event", |e| match e {
        AccountEvent::Order(o) if matches!(o.execution, Execution::Trade(_)) => Some(o.clone()),
        _ => None,
    })
    .await;
    assert!(
        skipped
            .iter()
            .any(|e| matches!(e, AccountEvent::Order(o) if o.execution == Execution::New)),
        "the NEW update comes before the fill: {skipped:?}"
    );
    assert_eq!(
        (fill.order.client_id.as_str(), fill.order.status),
        ("cdev01", OrderStatus::Filled),
        "the fill is our order, filled"
    );
    let Execution::Trade(f) = &fill.execution else {
        unreachable!("matched above")
    };
    assert_eq!(
        (f.quantity.get(), f.price.get()),
        (dec!(0.01), dec!(50000.5)),
        "the fill carries its quantity and price"
    );
    assert!(
        fill.times.venue > 0 && fill.times.received > 0,
        "events carry venue and local receive times: {:?}",
        fill.times
    );
    let (pos, _) = wait_event(&mut stream, "the position update", |e| match e {
        AccountEvent::BalancePosition(u) => u.positions.first().map(|p| p.signed_quantity),
        _ => None,
    })
    .await;
    assert_eq!(
        pos,
        dec!(0.01),
        "the account update carries the new position"
    );
}

#[tokio::test]
async fn a_forced_disconnect_is_recovered_and_the_resync_shows_the_missed_fill() {
    let s = setup().await;
    let mut stream = s.ex.subscribe().await.expect("subscribe");
    expect_resynced(&mut stream).await;

    fault(&s.sim, json!({"dropUserStreams": true})).await;
    match next_event(&mut stream).await {
        AccountEvent::Disconnected(d) => assert!(
            d.reason.contains("closed"),
            "the drop is reported as the venue closing the stream: {}",
            d.reason
        ),
        other => panic!("a dropped socket must be reported, got {other:?}"),
    }
    // The adapter now waits out its backoff; trade while no socket is open.
    s.clock.wait_asked(BACKOFF, 1).await;
    s.ex.place_order(&market("cdgap01", "BTCUSDT", Side::Buy, dec!(0.03)))
        .await
        .expect("market buy while disconnected");
    let mut bid = market("cdgapbid01", "BTCUSDT", Side::Buy, dec!(0.01));
    bid.kind = OrderKind::Limit {
        price: Price::new(dec!(45000)).expect("price"),
        time_in_force: TimeInForce::GoodTillCancel,
    };
    s.ex.place_order(&bid)
        .await
        .expect("a bid rests while disconnected");
    let stop = ConditionalOrderRequest {
        client_id: ClientOrderId::new("cdgapstop01").expect("client id"),
        symbol: "BTCUSDT".into(),
        side: Side::Sell,
        position_side: PositionSide::Both,
        kind: ConditionalKind::StopMarket,
        trigger_price: Price::new(dec!(40000)).expect("price"),
        trigger_by: TriggerPrice::Mark,
        size: ConditionalSize::ClosePosition,
        margin_mode: MarginMode::Cross,
    };
    s.ex.place_conditional(&stop)
        .await
        .expect("a stop is placed while disconnected");
    s.clock.release(BACKOFF);

    let snap = expect_resynced(&mut stream).await;
    assert_eq!(
        position_of(&snap, "BTCUSDT"),
        dec!(0.03),
        "the resync snapshot shows the fill the socket missed"
    );
    assert_eq!(
        (
            snap.open_orders
                .iter()
                .map(|o| o.client_id.as_str())
                .collect::<Vec<_>>(),
            snap.open_conditionals
                .iter()
                .map(|o| o.client_id.as_str())
                .collect::<Vec<_>>()
        ),
        (vec!["cdgapbid01"], vec!["cdgapstop01"]),
        "and the orders placed while the socket was down"
    );
    // And the new socket carries live events again.
    s.ex.place_order(&market("cdafter01", "BTCUSDT", Side::Sell, dec!(0.01)))
        .await
        .expect("market sell after the reconnect");
    let (cid, _) = wait_event(&mut stream, "a live event on the new socket", |e| match e {
        AccountEvent::Order(o) => Some(o.order.client_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(cid, "cdafter01", "events flow on the new socket");
}

#[tokio::test]
async fn a_listen_key_expiry_is_recovered_with_a_new_key_and_a_resync() {
    let s = setup().await;
    let mut stream = s.ex.subscribe().await.expect("subscribe");
    expect_resynced(&mut stream).await;
    let first_key = listen_key(&s).await;

    // No keepalive can come (it is due in 30 minutes of real time): the key expires.
    s.sim.advance_clock(61 * 60 * 1000);
    match next_event(&mut stream).await {
        AccountEvent::Disconnected(d) => assert!(
            d.reason.contains("expired"),
            "the expiry is named as the reason: {}",
            d.reason
        ),
        other => panic!("an expired key must end the session, got {other:?}"),
    }
    s.clock.wait_asked(BACKOFF, 1).await;
    s.ex.place_order(&market("cdgap02", "BTCUSDT", Side::Sell, dec!(0.02)))
        .await
        .expect("market sell while the key is gone");
    s.clock.release(BACKOFF);

    let snap = expect_resynced(&mut stream).await;
    assert_eq!(
        position_of(&snap, "BTCUSDT"),
        dec!(-0.02),
        "the resync snapshot shows the short opened while the key was gone"
    );
    let second_key = listen_key(&s).await;
    assert_ne!(first_key, second_key, "a new listen key was created");
    s.ex.place_order(&market("cdafter02", "BTCUSDT", Side::Buy, dec!(0.02)))
        .await
        .expect("market buy after the reconnect");
    let (cid, _) = wait_event(&mut stream, "a live event on the new key", |e| match e {
        AccountEvent::Order(o) => Some(o.order.client_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(cid, "cdafter02", "events flow under the new key");
}

/// The account's current listen key (creating one returns the live key, as Binance does).
async fn listen_key(s: &Setup) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/fapi/v1/listenKey", s.sim.base_url()))
        .header("X-MBX-APIKEY", &s.keys.api_key)
        .send()
        .await
        .expect("listenKey answered");
    let v: serde_json::Value = resp.json().await.expect("JSON");
    v["listenKey"].as_str().expect("a listen key").to_owned()
}

#[tokio::test]
async fn a_key_the_venue_stops_accepting_ends_the_stream_with_a_fatal_error() {
    let s = setup_with(Some(30 * 60 * 1000)).await;
    let mut stream = s.ex.subscribe().await.expect("subscribe");
    expect_resynced(&mut stream).await;

    // An hour later the key's trading authority has ended and so has the listen key.
    s.sim.advance_clock(61 * 60 * 1000);
    assert!(
        matches!(next_event(&mut stream).await, AccountEvent::Disconnected(_)),
        "the expired listen key ends the session first"
    );
    s.clock.wait_asked(BACKOFF, 1).await;
    s.clock.release(BACKOFF);
    match next_event(&mut stream).await {
        AccountEvent::Failed(f) => assert_eq!(
            (f.error.class(), f.error.venue_code()),
            (ErrorClass::Fatal, Some(-2015)),
            "a refused key stops the stream for good, with the venue's code: {:?}",
            f.error
        ),
        other => panic!("a key the venue refuses must fail the stream, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(super::support::HANG_GUARD, stream.next())
            .await
            .expect("the stream should end (hang guard)")
            .is_none(),
        "nothing follows a fatal failure: the stream has stopped"
    );
}
