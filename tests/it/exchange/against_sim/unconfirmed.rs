//! Placements whose answer is lost, produced by the simulator's faults: an acknowledgement
//! slower than the adapter's deadline leaves the order unconfirmed although it filled, and
//! an "unknown" 503 leaves it unconfirmed although it never arrived. Either way, a lookup
//! by client id tells which, and only then may the order be sent again.

use std::sync::Arc;
use std::time::Duration;

use copydesk::domain::Price;
use copydesk::domain::Side;
use copydesk::exchange::binance_usdm::{HttpConfig, Options, WeightLimiter};
use copydesk::exchange::{Exchange, OrderKind, OrderReport, OrderStatus, Placement, TimeInForce};
use copydesk::sim::SimConfig;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{account, adapter_with, fault, market, start_sim, system_clock, HANG_GUARD};

#[tokio::test]
async fn a_late_acknowledgement_leaves_the_order_unconfirmed_and_a_lookup_finds_it_filled() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let clock = system_clock();
    let options = Options {
        http: HttpConfig {
            timeout: Duration::from_millis(500),
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let ex = adapter_with(
        &sim,
        &keys,
        clock.clone(),
        Arc::new(WeightLimiter::new(2400, clock)),
        options,
    );
    ex.symbol_rules()
        .await
        .expect("rules cached before the fault");
    fault(&sim, json!({"ackDelayMs": 5_000})).await;
    let placed = ex
        .place_order(&market("cdlate01", "BTCUSDT", Side::Buy, dec!(0.01)))
        .await
        .expect("a lost answer is not an error");
    assert!(
        matches!(&placed, Placement::Unconfirmed { client_id, .. } if client_id.as_str() == "cdlate01"),
        "no answer within the deadline: unconfirmed, naming the client id: {placed:?}"
    );
    fault(&sim, json!({"clear": true})).await;
    // The simulator applies the order before it delays the answer; wait until it is
    // visible rather than guessing how long that takes.
    let found: OrderReport = tokio::time::timeout(HANG_GUARD, async {
        loop {
            if let Some(o) = ex.query_order("BTCUSDT", "cdlate01").await.expect("query") {
                return o;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the order should become visible (hang guard)");
    assert_eq!(
        (found.status, found.filled_quantity.get()),
        (OrderStatus::Filled, dec!(0.01)),
        "the unconfirmed order had in fact filled"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_outcome_that_never_arrived_is_found_missing_and_can_be_resent() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let clock = system_clock();
    let ex = adapter_with(
        &sim,
        &keys,
        clock.clone(),
        Arc::new(WeightLimiter::new(2400, clock)),
        Options::default(),
    );
    // Everything the placement needs besides the order itself is fetched first.
    ex.symbol_rules().await.expect("rules");
    ex.account().await.expect("time synced");
    // A marketable limit order: the placement is then the only request sent.
    let mut order = market("cdunknown01", "BTCUSDT", Side::Buy, dec!(0.01));
    order.kind = OrderKind::Limit {
        price: Price::new(dec!(50100)).expect("price"),
        time_in_force: TimeInForce::ImmediateOrCancel,
    };
    fault(
        &sim,
        json!({"rejectNext": {"count": 1, "code": -1006, "status": 503,
            "msg": "An unexpected response was received from the message bus. Execution status unknown."}}),
    )
    .await;
    let placed = ex
        .place_order(&order)
        .await
        .expect("an unknown outcome is not an error");
    assert!(
        matches!(placed, Placement::Unconfirmed { .. }),
        "-1006 means the outcome is unknown: {placed:?}"
    );
    assert_eq!(
        ex.query_order("BTCUSDT", "cdunknown01")
            .await
            .expect("query"),
        None,
        "the venue never saw the order"
    );
    let again = ex.place_order(&order).await.expect("resent");
    assert!(
        matches!(again, Placement::Acknowledged(ref r) if r.status == OrderStatus::Filled),
        "the resend with the same client id goes through: {again:?}"
    );
    sim.shutdown().await;
}
