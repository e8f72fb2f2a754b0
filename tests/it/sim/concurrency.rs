//! Twenty clients placing a thousand orders each over loopback, all at once: no errors,
//! and every account ends with exactly the balance its own fills imply.

use copydesk::sim::{LimitConfig, SimConfig};
use rust_decimal_macros::dec;

use super::support::{dec, start_with};

const CLIENTS: usize = 20;
const ORDERS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_clients_place_a_thousand_orders_each() {
    let sim = start_with(SimConfig {
        limits: LimitConfig {
            enabled: false,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(sim.usdt("10000").await);
    }
    let tasks: Vec<_> = clients
        .iter()
        .cloned()
        .map(|c| {
            tokio::spawn(async move {
                let mut errors = Vec::new();
                for i in 0..ORDERS {
                    let side = if i % 2 == 0 { "BUY" } else { "SELL" };
                    let r = c.market("BTCUSDT", side, "0.002").await;
                    if r.status != 200 {
                        errors.push(format!("order {i}: {} {}", r.status, r.body));
                    }
                }
                errors
            })
        })
        .collect();
    for t in tasks {
        let errors = t.await.expect("client task finished");
        assert!(
            errors.is_empty(),
            "every order should succeed: {:?}",
            &errors[..errors.len().min(3)]
        );
    }
    // Each BUY fills at 50,000.5 and each SELL at 49,999.5: a round trip loses 0.002 on the
    // spread and 0.1 in taker fees, so 500 round trips cost 51 exactly.
    for c in &clients {
        let b = c.usdt_balance().await;
        assert_eq!(
            dec(&b["balance"]),
            dec!(9949),
            "balance of {} after 500 round trips",
            c.account_id
        );
        assert_eq!(
            c.position("BTCUSDT").await,
            serde_json::Value::Null,
            "{} ends flat",
            c.account_id
        );
        let fees = c
            .get(
                "/fapi/v1/income",
                &[("incomeType", "COMMISSION"), ("limit", "1000")],
            )
            .await
            .ok("fees");
        assert_eq!(
            fees.as_array().map(Vec::len),
            Some(ORDERS),
            "one commission per fill for {}",
            c.account_id
        );
    }
}
